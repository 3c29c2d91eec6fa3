"""Verdicts: run a spec's invariants through an engine and say what holds.

``holds`` only when every state within the bounds was explored; a violation
found is ``violated`` whatever else happened; otherwise ``incomplete`` with
the bound that cut the search (MODEL.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.invariants import INVARIANTS, Violation
from checks.trace import Trace, build_trace
from model import search
from model.errors import SpecError, did_you_mean
from model.search import Stats
from model.spec import Spec, load_spec
from model.system import System

HOLDS, VIOLATED, INCOMPLETE = "holds", "violated", "incomplete"
ENGINES = ("bfs", "dfs", "smt")

# When a write is cut after circling the topology, states past the cut were
# not explored: every other invariant's "holds" is only "incomplete".
LOOP_BOUND = "replication-loop"


@dataclass(frozen=True)
class Options:
    """How to search (docs/reductions.md, docs/engine.md).

    ``por``: partial-order reduction (done-leader elimination) where it is
    sound; ``dead_variables``: drop ghost happens-before when no resolver
    and no checked invariant reads it; ``fingerprint``: keep 64-bit state hashes in the visited set;
    ``simulate``: that many random runs instead of exhaustive search
    (never ``holds``), reproducible by ``seed`` (and ``workers``: the
    swarm's processes, :mod:`checks.parallel`).
    """

    por: bool = True
    dead_variables: bool = True
    fingerprint: bool = False
    simulate: int | None = None
    seed: int = 0
    workers: int = 1


@dataclass(frozen=True)
class Result:
    """The verdict on one invariant."""

    invariant: str
    verdict: str
    anomaly: str | None = None
    message: str | None = None
    culprits: tuple[str, ...] = ()
    trace: Trace | None = None
    bound: str | None = None
    path: tuple[int, ...] = ()


@dataclass(frozen=True)
class Report:
    spec: Spec
    system: System
    results: tuple[Result, ...]
    stats: Stats
    engine: str
    complete: bool
    cut: str | None
    reductions: tuple[str, ...] = ()

    @property
    def worst(self) -> str:
        verdicts = {r.verdict for r in self.results}
        if VIOLATED in verdicts:
            return VIOLATED
        if INCOMPLETE in verdicts:
            return INCOMPLETE
        return HOLDS


def load(path, overrides=()) -> Spec:
    """Load a spec, validating invariant names against :data:`INVARIANTS`."""
    return load_spec(path, overrides, invariant_names=INVARIANTS)


def resolve_invariants(spec: Spec, names=None) -> tuple[str, ...]:
    names = tuple(names) if names else spec.invariants
    for n in names:
        if n not in INVARIANTS:
            raise SpecError(spec.source, "--invariant", f"unknown invariant '{n}'{did_you_mean(n, INVARIANTS)}"
                                                       " (replcheck list invariants)")
    return names


def _unless_looped(check):
    def judged(state):
        return None if state[3] else check(state)
    return judged


def check(spec: Spec, invariants=None, engine: str = "bfs", progress=None, options: Options = Options()) -> Report:
    """Explore ``spec`` and return a verdict per invariant."""
    names = resolve_invariants(spec, invariants)
    system = System(spec)
    props = [INVARIANTS[n].property(system) for n in names]
    guard = None
    if system.forwards and spec.loop_prevention != "visited":
        # A state where a looping write was cut looks quiescent but is not:
        # replication never ends there, so quiescent invariants are not
        # judged at it (their verdict becomes incomplete: replication-loop).
        props = [search.Property(p.name, p.scope, _unless_looped(p.check)) if p.scope == search.QUIESCENT else p
                 for p in props]
        if "replication-terminates" not in names:
            guard = INVARIANTS["replication-terminates"].property(system)
            props.append(guard)
    reductions: tuple[str, ...] = ()
    if engine in ("bfs", "dfs") and options.simulate is None and options.dead_variables and \
            not system.ghost_needed_by_types() and \
            not any(INVARIANTS[p.name].ghost for p in props):
        # Dead-variable reduction: nothing reads ghost happens-before.
        system.ghost = False
        reductions += ("ghost happens-before dropped (no resolver or invariant reads it)",)
    if engine == "bfs" and options.simulate is None:
        ok, why = system.por_applicable()
        if options.por and ok and all(p.scope == search.QUIESCENT for p in props):
            system.por = True
            reductions += ("por: " + why,)
        elif options.por:
            reductions += ("por off: " + (why if not ok else "an invariant is checked at every state"),)
        if options.fingerprint:
            p_coll = "64-bit fingerprints"
            reductions += (p_coll,)
    if options.simulate is not None and options.workers > 1:
        from checks.parallel import simulate_parallel
        res = simulate_parallel(spec, [p.name for p in props], options.simulate, options.seed, options.workers,
                                spec.bounds)
    elif options.simulate is not None:
        res = search.simulate(system, props, options.simulate, options.seed, spec.bounds, progress=progress)
    elif engine == "bfs":
        res = search.bfs(system, props, spec.bounds, progress=progress, fingerprint=options.fingerprint)
    elif engine == "dfs":
        res = search.dfs(system, props, spec.bounds)
    elif engine == "smt":  # issue 6: the symbolic engine (z3 stays inside checks/smt/); max_depth is its depth K
        from checks.smt import bmc
        res = bmc.search(system, [p.name for p in props], spec.bounds)
    else:
        raise SpecError(spec.source, "--engine", f"unknown engine '{engine}'{did_you_mean(engine, ENGINES)}")
    looped = "replication-terminates" in res.found
    results = []
    plain = System(spec) if system.por or not system.ghost else system
    for n in names:
        f = res.found.get(n)
        if f is not None:
            v: Violation = f.detail
            path = system.expand_path(f.path)
            trace, final = build_trace(plain, path)
            if plain is not system:
                # The reduced run must be a real run with the same violation.
                v = INVARIANTS[n].build(plain)(final)
                if v is None:
                    raise RuntimeError(f"internal error: the reduced search reported {n} violated, but the"
                                       " replayed run does not violate it; rerun with --no-por and report this")
            results.append(Result(n, VIOLATED, v.anomaly, v.message, v.culprits, trace, None, path))
        elif res.complete and (not looped or n == "replication-terminates"):
            results.append(Result(n, HOLDS))
        else:
            bound = LOOP_BOUND if looped and res.complete else (res.cut or "stopped early")
            results.append(Result(n, INCOMPLETE, bound=bound))
    return Report(spec, plain, tuple(results), res.stats, res.engine, res.complete, res.cut, reductions)
