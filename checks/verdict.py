"""Verdicts: run a spec's invariants through an engine and say what holds.

``holds`` only when every state within the bounds was explored; a violation
found is ``violated`` whatever else happened; otherwise ``incomplete`` with
the bound that cut the search (docs/model.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from replcheck.checks import vacuity
from replcheck.checks.invariants import INVARIANTS, Violation, kinds_of
from replcheck.checks.trace import Trace, build_trace
from replcheck.model import search
from replcheck.model import state as st
from replcheck.model.errors import SpecError, did_you_mean
from replcheck.model.search import SearchResult, Stats
from replcheck.model.spec import Spec, load_spec
from replcheck.model.system import System

class Verdict(StrEnum):
    """What a search established about one invariant (docs/model.md,
    "Invariants"): ``holds`` — every state within the bounds was explored
    and none violates it; ``violated`` — a run violates it (whatever else
    happened); ``incomplete`` — a bound cut the search first.  A str, so
    ``Verdict.HOLDS == "holds"``; ordered by severity with :attr:`rank`."""

    HOLDS = "holds"
    INCOMPLETE = "incomplete"
    VIOLATED = "violated"

    @property
    def rank(self) -> int:
        """0 holds, 1 incomplete, 2 violated: the worst of several is the max."""
        return ("holds", "incomplete", "violated").index(self.value)


HOLDS, VIOLATED, INCOMPLETE = Verdict.HOLDS, Verdict.VIOLATED, Verdict.INCOMPLETE
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
    swarm's processes, :mod:`checks.parallel`).  ``stop_early``: stop an
    exhaustive search once every invariant has a counterexample (faster on
    large specs; the anomaly kinds are then only "at least" these and the
    trace is not proved shortest under reductions; docs/engine.md).
    """

    por: bool = True
    dead_variables: bool = True
    symmetry: bool = True
    fingerprint: bool = False
    simulate: int | None = None
    seed: int = 0
    workers: int = 1
    stop_early: bool = False


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
    # Every anomaly kind shown by a violating state the search explored,
    # sorted (docs/engine.md, "Anomaly kinds"); ``anomaly`` is the shown
    # trace's own.  Complete only when the search was exhaustive.
    anomalies: tuple[str, ...] = ()
    anomalies_complete: bool = False
    # The trace is proved a shortest counterexample (docs/reductions.md,
    # "Shortest counterexamples"); else it is only *a* counterexample.
    shortest: bool = False
    vacuous: str | None = None   # holds only because nothing it guards happened: why (checks/vacuity.py)


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
    def worst(self) -> Verdict:
        """The most severe verdict of the report (violated > incomplete > holds)."""
        return max((Verdict(r.verdict) for r in self.results), key=lambda v: v.rank, default=HOLDS)

    @property
    def verdicts(self) -> dict[str, Verdict]:
        """``{invariant: verdict}`` in the order the invariants were checked."""
        return {r.invariant: Verdict(r.verdict) for r in self.results}


def meets(r: Result, exp) -> bool:
    """Does result ``r`` meet the spec's expectation ``exp`` (``[expect]``)?
    The verdict must match; ``violated:X`` also needs X among the anomaly
    kinds reported (docs/spec-format.md), not only the shown trace's;
    ``holds`` needs a holds that is not vacuous, ``holds:vacuous`` one that
    is (docs/model.md, "Vacuity")."""
    if r.verdict != exp.verdict:
        return False
    if r.verdict == HOLDS:   # "holds" is a real holds; "holds:vacuous" one where nothing guarded happened
        return (exp.anomaly == "vacuous") == bool(r.vacuous)
    return not exp.anomaly or exp.anomaly == r.anomaly or exp.anomaly in r.anomalies


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
    loop = st.loop

    def judged(state):
        return None if loop(state) else check(state)
    return judged


def _unless_looped_labels(labels):
    loop = st.loop

    def judged(state):
        return () if loop(state) else labels(state)
    return judged


def properties(system: System, names) -> list:
    """The search properties for the invariants ``names`` on ``system``:
    the ONE place they are built, for every engine and for the parallel
    swarm (checks/parallel.py), so serial and parallel runs judge alike.

    Where writes are forwarded without ``visited`` metadata, a state where a
    looping write was cut looks quiescent but is not: replication never
    ends there, so quiescent invariants are not judged at it, and
    ``replication-terminates`` is added as a guard (its violation turns
    every other ``holds`` into ``incomplete: replication-loop``;
    docs/model.md, "Detecting a replication loop")."""
    props = [INVARIANTS[n].property(system) for n in names]
    if system.forwards and system.spec.loop_prevention != "visited":
        props = [search.Property(p.name, p.scope, _unless_looped(p.check), _unless_looped_labels(p.labels))
                 if p.scope == search.QUIESCENT else p for p in props]
        if "replication-terminates" not in names:
            props.append(INVARIANTS["replication-terminates"].property(system))
    return props


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
        from replcheck.model.symmetry import Symmetry
        system.symmetry = Symmetry(system, full=system.symmetry_full)
        notes += (why,)
        props = [search.Property(p.name, p.scope, _judge_images(system, p.check), _label_images(system, p.labels))
                 for p in props]
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


def _label_images(system: System, labels):
    """Every label shown by any state a reduced quiescent state stands for."""
    if labels is None:
        return None

    def judged(state):
        out: set = set()
        for image in system.images(state):
            out.update(labels(image))
        return tuple(sorted(out))
    return judged


def check(spec: Spec, invariants=None, engine: str = "bfs", progress=None, options: Options = Options()) -> Report:
    """Explore ``spec`` and return a verdict per invariant."""
    names = resolve_invariants(spec, invariants)
    system = System(spec)
    props = properties(system, names)
    reductions: tuple[str, ...] = ()
    exhaustive = engine in ("bfs", "dfs") and options.simulate is None
    ghost_props = [p.name for p in props if INVARIANTS[p.name].ghost]
    if exhaustive and options.dead_variables and not system.ghost_needed_by_types() and \
            not any(INVARIANTS[p.name].ghost for p in props):
        # Dead-variable reduction: nothing reads ghost happens-before.
        system.ghost = False
        reductions += ("ghost happens-before dropped (no resolver or invariant reads it)",)
    props, watched = vacuity.watch(system, props, exhaustive)   # docs/model.md "Vacuity"
    unreduced = props   # before _reduce wraps them for this system's symmetry
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
        from replcheck.checks.parallel import simulate_parallel
        res = simulate_parallel(spec, names, options.simulate, options.seed, options.workers, spec.bounds)
    elif options.simulate is not None:
        res = search.simulate(system, props, options.simulate, options.seed, spec.bounds, progress=progress)
    elif engine == "bfs" and phased:
        res, decided, notes = _two_phases(spec, system, unreduced, props, ghost_props, options, progress)
        reductions = notes + tuple(r if r == "64-bit fingerprints" else "with the ghost: " + r for r in reductions)
    elif engine == "bfs":
        res = search.bfs(system, props, spec.bounds, progress=progress, fingerprint=options.fingerprint,
                         stop_when=_stop_when(props, options))
    elif engine == "dfs":
        res = search.dfs(system, props, spec.bounds, stop_when=_stop_when(props, options))
    elif engine == "smt":  # issue 6: the symbolic engine (z3 stays inside checks/smt/); max_depth is its depth K
        from replcheck.checks.smt import bmc
        res = bmc.search(system, [p.name for p in props], spec.bounds)
    else:
        raise SpecError(spec.source, "--engine", f"unknown engine '{engine}'{did_you_mean(engine, ENGINES)}")
    if not phased:
        decided = {p.name: (system, res) for p in props}
    looped = "replication-terminates" in res.found
    results = []
    plain = System(spec) if system.por or not system.ghost else system   # phase 2 implies por
    for n in names:
        origin, phase = decided[n]
        f = phase.found.get(n)
        if f is not None:
            v: Violation = f.detail
            if plain is not origin:
                # The reduced run must be a real run with the same violation.
                judge = INVARIANTS[n].build(plain)
                for path in origin.expansions(f.path):
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
            kinds = tuple(sorted(set(kinds_of(v)) | set(phase.kinds.get(n, ()))))
            results.append(Result(n, VIOLATED, v.anomaly, v.message, v.culprits, trace, None, path,
                                  anomalies=kinds, anomalies_complete=exhaustive and phase.complete,
                                  shortest=proves_shortest(engine, options, origin, phase)))
        elif phase.complete and (not looped or n == "replication-terminates"):
            results.append(Result(n, HOLDS, vacuous=vacuity.reason(system, n, watched)))
        else:
            bound = LOOP_BOUND if looped and phase.complete else (phase.cut or "stopped early")
            results.append(Result(n, INCOMPLETE, bound=bound))
    return Report(spec, plain, tuple(results), res.stats, res.engine, res.complete, res.cut, reductions)


def _stop_when(props, options: Options):
    """Property names whose violation ends the search (``--stop-early``),
    else ``None``: the engine's default (to the end when kinds are wanted)."""
    return [p.name for p in props] if options.stop_early else None


def proves_shortest(engine: str, options: Options, system: System, res: SearchResult) -> bool:
    """Is the counterexample ``res`` keeps for a property a shortest one?
    Breadth-first search of the plain system: yes, level order.  With
    partial-order reduction: when the search was exhaustive, since the
    engine keeps the violating quiescent state of least plain run length
    and that length is a function of the state (System.run_length).
    Depth-first search, simulation and the symbolic engine prove nothing
    about length (docs/reductions.md, "Shortest counterexamples")."""
    if options.simulate is not None or res.engine not in ("bfs", "dfs") or engine != "bfs":
        return False
    if system.por:
        return res.complete
    return res.engine == "bfs"


def _two_phases(spec: Spec, system: System, unreduced, props, ghost_props, options: Options, progress):
    """docs/reductions.md, "Two phases": the invariants that do not read
    ghost happens-before are judged first on a system without it (with
    every reduction); then the ghost-reading ones on ``system`` (ghost
    kept, por on), depth-first, *to the end* or to a bound — never stopped
    at the first violation, so the anomaly kinds reported do not depend on
    the search order.  Returns the combined result, per invariant the
    ``(system, result)`` that decided it, and the stats-line notes.
    ``props`` are reduced for ``system`` (its symmetry); ``unreduced``
    the same before, for the first phase's own reductions."""
    rest = [p for p in unreduced if p.name not in ghost_props]
    first = System(spec)
    first.ghost = False
    notes, rest = _reduce(first, rest, options)
    res1 = search.bfs(first, rest, spec.bounds, progress=progress, fingerprint=options.fingerprint,
                      stop_when=_stop_when(rest, options))
    left = spec.bounds
    if left.max_seconds:
        left = replace(left, max_seconds=max(left.max_seconds - res1.stats.seconds, 0.001))
    if left.max_states:
        left = replace(left, max_states=max(left.max_states - res1.stats.states, 1))
    ghosts = [p for p in props if p.name in ghost_props]
    res2 = search.dfs(system, ghosts, left, progress=progress, stop_when=_stop_when(ghosts, options))
    st1, st2 = res1.stats, res2.stats
    stats = Stats(st1.states + st2.states, st1.transitions + st2.transitions, max(st1.depth, st2.depth),
                  st1.quiescent + st2.quiescent, st1.seconds + st2.seconds, st2.frontier)
    decided = {p.name: (first, res1) for p in rest}
    decided.update({p.name: (system, res2) for p in ghosts})
    reductions = (f"two phases: {', '.join(p.name for p in rest)} decided without ghost happens-before"
                  f" ({st1.states:,} states); {', '.join(ghost_props)} with it,"
                  f" {'until violated' if options.stop_early else 'to the end'}"
                  f" ({st2.states:,} states)",) + notes
    both = SearchResult(res2.engine, stats, res1.complete and res2.complete, res2.cut or res1.cut,
                        {**res1.found, **res2.found}, {**res1.kinds, **res2.kinds})
    return both, decided, reductions
