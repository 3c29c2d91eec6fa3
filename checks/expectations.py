"""Expectations: does a check give the verdicts its spec's ``[expect]`` table
states?

A spec's ``[expect]`` table (docs/spec-format.md) names, per invariant, the
verdict the check must give: ``holds``, ``holds:vacuous``, ``violated``,
``violated:<anomaly>`` or ``incomplete``.  :func:`judge` compares one
report with it, one :class:`Judgement` per expectation; :func:`compare`
words a run over many specs as ``replcheck check --expect`` prints it.
The command (checks/cli.py) and the pytest plugin
(checks/pytest_plugin.py, docs/api.md "pytest") judge with these same
functions, so a spec passes in a team's own test suite exactly when it
passes ``check --expect``.

A run stopped from outside (Ctrl-C or SIGTERM, ``--total-seconds``) is
neither as expected nor a mismatch: it was not judged (README, "Stopping").
A bound the spec itself sets (``[bounds]``) is a verdict like any other:
``incomplete`` where ``holds`` was expected is a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

from replcheck.checks import escape as esc
from replcheck.checks.budget import TOTAL
from replcheck.checks.verdict import INCOMPLETE, Report, Result, meets

MET, MISMATCH, UNFINISHED = "met", "mismatch", "unfinished"

# Cuts that stop a run from outside: what they leave is not judged.
_OUTSIDE = ("interrupted", TOTAL)


def expected_text(exp) -> str:
    """An expectation as the spec writes it: ``violated:lost-update``."""
    return exp.verdict + (f":{exp.anomaly}" if exp.anomaly else "")


def got_text(r: Result) -> str:
    """A result in the words of an expectation, with every anomaly kind
    reported and the bound that cut it: ``violated:lost-update``,
    ``incomplete (max_states)``."""
    kinds = ",".join(r.anomalies or ((r.anomaly,) if r.anomaly else ()))
    return r.verdict + (f":{kinds}" if kinds else "") + (f" ({r.bound})" if r.bound else "")


@dataclass(frozen=True)
class Judgement:
    """One ``[expect]`` entry against the report: ``status`` is
    :data:`MET`, :data:`MISMATCH` or :data:`UNFINISHED` (stopped from
    outside, not judged); ``line`` is the mismatch as ``--expect`` prints
    it (``no-lost-writes: expected holds, got violated:lost-update``);
    ``result`` is ``None`` when the invariant was not checked."""

    invariant: str
    expected: str
    status: str
    line: str | None = None
    result: Result | None = None

    @property
    def unsettled(self) -> bool:
        """A mismatch only because a bound cut the search: ``incomplete``
        where the spec expects a verdict (docs/model.md §5)."""
        return self.status == MISMATCH and self.result is not None and self.result.verdict == INCOMPLETE


def judge(report: Report) -> tuple[Judgement, ...]:
    """Each expectation of ``report.spec`` against ``report``, in the
    order the ``[expect]`` table lists them."""
    got = {r.invariant: r for r in report.results}
    out = []
    for inv, exp in report.spec.expect:
        want = expected_text(exp)
        r = got.get(inv)
        if r is None:
            out.append(Judgement(inv, want, MISMATCH, f"{inv}: expected {exp.verdict} but it was not checked"
                                                      " (add it to [check] invariants)"))
        elif r.verdict == INCOMPLETE and r.bound in _OUTSIDE:
            out.append(Judgement(inv, want, UNFINISHED, None, r))
        elif not meets(r, exp):   # violated:X: X among the kinds reported (docs/spec-format.md)
            out.append(Judgement(inv, want, MISMATCH, f"{inv}: expected {want}, got {got_text(r)}", r))
        else:
            out.append(Judgement(inv, want, MET, None, r))
    return tuple(out)


def compare(reports, skipped=(), own_resolver=None) -> tuple[str, bool]:
    """``replcheck check --expect``'s text for ``reports`` (one line per
    spec: ``ok``, ``MISMATCH`` with the lines that differ, or
    ``interrupted``; then ``skipped`` and a summary) and whether every
    expectation was met.

    ``own_resolver`` maps a spec's source to the resolver its file names:
    ``[expect]`` states the verdicts of *that* resolver, so a report made
    under another one (``check --resolver X --expect``) is shown
    (``other``) but not compared — decision, docs/spec-format.md."""
    lines = []
    all_ok = True
    n_other = 0
    for rep in reports:
        own = (own_resolver or {}).get(rep.spec.source)
        if own is not None and rep.spec.resolver != own:
            n_other += 1
            summary = ", ".join(f"{r.invariant} {r.verdict}" for r in rep.results)
            lines.append(f"other    {rep.spec.source} under {rep.spec.resolver}: {summary} (not compared: its"
                         f" [expect] states the verdicts of {own})")
            continue
        judged = judge(rep)
        bad = [j.line for j in judged if j.status == MISMATCH]
        unfinished = [j.invariant for j in judged if j.status == UNFINISHED]
        if bad:
            all_ok = False
            lines.append(f"MISMATCH {rep.spec.source}")
            lines.extend(f"  {b}" for b in bad)
        elif unfinished:
            why = "Ctrl-C or SIGTERM" if rep.cut == "interrupted" else "--total-seconds ran out before it"
            lines.append(f"interrupted {rep.spec.source}: {', '.join(unfinished)} not finished ({why})")
        else:
            summary = ", ".join(f"{r.invariant} {r.verdict}" + (" (vacuous)" if getattr(r, "vacuous", None) else "")
                                for r in rep.results)
            lines.append(f"ok       {rep.spec.source}: {summary}")
    n_bad = sum(1 for line in lines if line.startswith("MISMATCH"))
    n_cut = sum(1 for line in lines if line.startswith("interrupted"))
    lines.extend(skipped)
    n = len(reports) - n_other
    lines.append(f"{n} specs, {n - n_bad - n_cut} as expected, {n_bad} mismatched"
                 + (f", {n_cut} interrupted" if n_cut else "") + (f", {len(skipped)} skipped" if skipped else "")
                 + (f", {n_other} runs under other resolvers shown, not compared" if n_other else ""))
    return esc.terminal_lines(lines), all_ok
