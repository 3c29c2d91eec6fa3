"""Verdicts: run a spec's invariants through an engine and say what holds.

``holds`` only when every state within the bounds was explored; a violation
found is ``violated`` whatever else happened; otherwise ``incomplete`` with
the bound that cut the search (MODEL.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from checks.invariants import INVARIANTS, Violation
from checks.trace import Trace, build_trace
from model import search
from model.errors import SpecError, did_you_mean
from model.search import SearchResult, Stats
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
    symmetry: bool = True
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


def _reduce(system: System, props, options: Options) -> tuple[tuple[str, ...], list]:
    """Turn on the reductions that are sound for ``system`` and ``props``
    (docs/reductions.md); the notes for the stats line, and the properties
    to search with (with symmetry, quiescent checks judge every image)."""
    ok, why = system.por_applicable()
    if not options.por:
        return (), props
    if not (ok and all(p.scope == search.QUIESCENT for p in props)):
        return ("por off: " + (why if not ok else "an invariant is checked at every state"),), props
    system.por = True
    notes = ("por: " + why,)
    ok, why = system.dead_content_applicable()
    if ok and options.dead_variables:
        system.dead_content = True
        notes += (why,)
    ok, why = system.symmetry_applicable()
    if ok and options.symmetry:
        from model.symmetry import Symmetry
        system.symmetry = Symmetry(system, full=not system.dead_content)
        notes += (why,)
        props = [search.Property(p.name, p.scope, _judge_images(system, p.check)) for p in props]
    elif options.symmetry and system.spec.topology == "all-to-all":
        notes += ("symmetry off: " + why,)
    return notes, props


def _judge_images(system: System, check):
    """A quiescent check that judges every state a reduced state stands for."""
    def judged(state):
        for image in system.images(state):
            d = check(image)
            if d is not None:
                return d
        return None
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
    exhaustive = engine in ("bfs", "dfs") and options.simulate is None
    ghost_props = [p.name for p in props if INVARIANTS[p.name].ghost]
    if exhaustive and options.dead_variables and not system.ghost_needed_by_types() and \
            not any(INVARIANTS[p.name].ghost for p in props):
        # Dead-variable reduction: nothing reads ghost happens-before.
        system.ghost = False
        reductions += ("ghost happens-before dropped (no resolver or invariant reads it)",)
    if engine == "bfs" and options.simulate is None:
        notes, props = _reduce(system, props, options)
        reductions += notes
        if options.fingerprint:
            reductions += ("64-bit fingerprints",)
    # Two phases when por is on (so every invariant is quiescent) and only
    # invariants, not resolvers, read the ghost.
    phased = (engine == "bfs" and options.simulate is None and system.por and options.dead_variables
              and ghost_props and len(ghost_props) < len(props) and not system.ghost_needed_by_types())
    if options.simulate is not None and options.workers > 1:
        from checks.parallel import simulate_parallel
        res = simulate_parallel(spec, [p.name for p in props], options.simulate, options.seed, options.workers,
                                spec.bounds)
    elif options.simulate is not None:
        res = search.simulate(system, props, options.simulate, options.seed, spec.bounds, progress=progress)
    elif engine == "bfs" and phased:
        # Phase 1: with por every run to a quiescent state has the same length
        # (docs/reductions.md), so a depth-first search's first violation is a
        # shortest one; stop once the ghost-reading invariants are decided.
        res = search.dfs(system, props, spec.bounds, stop_when=ghost_props, progress=progress)
    elif engine == "bfs":
        res = search.bfs(system, props, spec.bounds, progress=progress, fingerprint=options.fingerprint)
    elif engine == "dfs":
        res = search.dfs(system, props, spec.bounds)
    elif engine == "smt":  # issue 6: the symbolic engine (z3 stays inside checks/smt/); max_depth is its depth K
        from checks.smt import bmc
        res = bmc.search(system, [p.name for p in props], spec.bounds)
    else:
        raise SpecError(spec.source, "--engine", f"unknown engine '{engine}'{did_you_mean(engine, ENGINES)}")
    origin = {name: system for name in res.found}
    if phased and not res.complete and res.cut is None and set(ghost_props) <= res.found.keys():
        # Phase 2 (docs/reductions.md, "Two phases"): every invariant that reads
        # ghost happens-before is violated, with its shortest trace; the
        # others are judged on a fresh search where the ghost is dead.
        rest = [p for p in props if p.name not in res.found]
        if rest:
            second = System(spec)
            second.ghost = False
            notes, rest = _reduce(second, rest, options)
            left = spec.bounds
            if left.max_seconds:
                left = replace(left, max_seconds=max(left.max_seconds - res.stats.seconds, 0.001))
            if left.max_states:
                left = replace(left, max_states=max(left.max_states - res.stats.states, 1))
            res2 = search.bfs(second, rest, left, progress=progress, fingerprint=options.fingerprint)
            origin.update({name: second for name in res2.found})
            st1, st2 = res.stats, res2.stats
            stats = Stats(st1.states + st2.states, st1.transitions + st2.transitions, max(st1.depth, st2.depth),
                          st1.quiescent + st2.quiescent, st1.seconds + st2.seconds, st2.frontier)
            reductions = (f"two phases: {', '.join(ghost_props)} decided with ghost happens-before after"
                          f" {st1.states:,} states; the rest re-explored without it ({st2.states:,} states)",) \
                + notes + ("ghost happens-before dropped in phase 2",)
            res = SearchResult(res2.engine, stats, res2.complete, res2.cut, {**res.found, **res2.found})
    looped = "replication-terminates" in res.found
    results = []
    plain = System(spec) if system.por or not system.ghost else system   # phase 2 implies por
    for n in names:
        f = res.found.get(n)
        if f is not None:
            v: Violation = f.detail
            if plain is not origin[n]:
                # The reduced run must be a real run with the same violation.
                judge = INVARIANTS[n].build(plain)
                for path in origin[n].expansions(f.path):
                    trace, final = build_trace(plain, path)
                    v = judge(final)
                    if v is not None:
                        break
                else:
                    raise RuntimeError(f"internal error: the reduced search reported {n} violated, but the"
                                       " replayed run does not violate it; rerun with --no-por and report this")
            else:
                path = tuple(f.path)
                trace, final = build_trace(plain, path)
            results.append(Result(n, VIOLATED, v.anomaly, v.message, v.culprits, trace, None, path))
        elif res.complete and (not looped or n == "replication-terminates"):
            results.append(Result(n, HOLDS))
        else:
            bound = LOOP_BOUND if looped and res.complete else (res.cut or "stopped early")
            results.append(Result(n, INCOMPLETE, bound=bound))
    return Report(spec, plain, tuple(results), res.stats, res.engine, res.complete, res.cut, reductions)
