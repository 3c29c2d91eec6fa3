"""One spec under every resolver: ``replcheck check SPEC --resolver all``.

The product promise of the symbolic engine is a counterexample trace *for
each resolver*.  :func:`variants` gives the spec once per catalogue
resolver (``system.resolver`` replaced; a product preset keeps its own
clock and tie-break, as ``replcheck matrix`` does), or the one-line reason
it cannot run: the resolver does not take the workload's ops, or the
chosen engine does not cover it.  The CLI checks each variant and prints
the usual report — a trace per violated invariant — for every resolver.

Unlike ``replcheck matrix`` (one table cell per resolver and topology),
this keeps the spec's topology and prints every trace.  It never imports
z3 itself; :mod:`checks.smt.bmc` does when the engine is ``smt``.
"""

from __future__ import annotations

from replcheck.model.errors import SpecError


def names(which: str) -> tuple[str, ...]:
    """The resolvers ``--resolver which`` stands for: every catalogue
    resolver for ``all``, else the one named."""
    from replcheck.model.errors import did_you_mean
    from replcheck.model.resolvers import RESOLVERS
    if which != "all":
        if which not in RESOLVERS:
            raise SpecError("--resolver", "", f"unknown resolver '{which}'{did_you_mean(which, RESOLVERS)}"
                                              " (replcheck list resolvers, or all)")
        return (which,)
    return tuple(RESOLVERS)


def variants(path, overrides=(), which: str = "all", engine: str = "bfs") -> list[tuple[str, object]]:
    """``[(resolver, Spec or reason), ...]`` for the spec at ``path``.

    Raises :class:`SpecError` when no key of the spec is governed by
    ``system.resolver`` (every key has its own ``[keys]`` type), since the
    option would then change nothing.
    """
    from replcheck.checks.verdict import load
    from replcheck.model.variants import PresetConflict
    base = load(path, overrides)
    typed = {ks.name for ks in getattr(base, "keys", ())}
    if all(o.key in typed for o in base.workload):
        raise SpecError(base.source, "--resolver", "every key has its own [keys] type, so system.resolver governs"
                                                   " none; --resolver changes nothing (drop it)")
    out: list[tuple[str, object]] = []
    for r in names(which):
        try:
            try:
                spec = base.with_resolver(r)   # what --set system.resolver=R gives
            except PresetConflict:   # a preset fixes its own clock and tie-break: drop the spec's (as matrix does)
                spec = base.with_resolver(r, retype=True, presets="retry")
        except SpecError as e:
            out.append((r, f"{e.key}: {e.message}"))
            continue
        if engine == "smt":
            from replcheck.checks.smt import bmc
            from replcheck.model.system import System
            try:
                bmc.covered(spec, spec.invariants)
                bmc.execution_bound(System(spec))
            except SpecError as e:
                out.append((r, f"not covered by --engine smt ({e.key}: {e.message})"))
                continue
        out.append((r, spec))
    return out
