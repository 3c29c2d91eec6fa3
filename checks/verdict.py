"""Verdicts: run a spec's invariants through an engine and say what holds.

``holds`` only when every state within the bounds was explored; a violation
found is ``violated`` whatever else happened; otherwise ``incomplete`` with
the bound that cut the search (docs/model.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from replcheck.checks import planner, vacuity
from replcheck.checks.facts import Facts, facts
from replcheck.checks.invariants import INVARIANTS, Violation, kinds_of
from replcheck.checks.trace import Trace, build_trace
from replcheck.model import search
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

# Cuts after which nothing more runs: a stop asked for (Ctrl-C, SIGTERM) and the memory limit.
STOPS = ("interrupted", "max_memory")

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
    """The verdicts of one check, as plain data (docs/api.md "Report").

    ``facts`` is what renderers need of the compiled model (names, the
    clock, each op's text: :class:`checks.facts.Facts`), never the live
    model; a counterexample's frames are rebuilt from ``spec`` by
    :mod:`checks.explain` before anything is rendered.
    """

    spec: Spec
    facts: Facts
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

    # Jupyter (docs/api.md "Jupyter"): a Report shown in a notebook renders itself.
    def _repr_markdown_(self) -> str:
        """The report as ``--format markdown`` writes it (checks/render_markdown.py):
        the verdict table, then each counterexample, minimised, with its Mermaid
        sequence diagram (docs/rendering.md)."""
        from replcheck.checks import render_markdown
        from replcheck.checks.explain import explained
        return render_markdown.render(explained(self))

    def _repr_html_(self) -> str:
        """The report as ``--format html`` writes it (checks/render_html.py: the
        step-through viewer), inside an ``<iframe sandbox="allow-scripts">``
        whose ``srcdoc`` is the whole page, escaped as an attribute value: its
        styles and script stay in the frame (an opaque origin: they cannot
        reach the notebook), its Content-Security-Policy forbids every fetch,
        and nothing of the spec reaches the notebook's own markup
        (docs/rendering.md "HTML", "Escaping")."""
        import html
        from replcheck.checks import render_html
        from replcheck.checks.escape import html_text
        from replcheck.checks.explain import explained
        page = render_html.render(explained(self))
        steps = max((len(r.trace) for r in self.results if r.trace is not None), default=0)
        height = min(900, 260 + 32 * len(self.results) + (480 + 44 * steps if steps else 0))
        return (f'<iframe sandbox="allow-scripts" title="replcheck report: {html_text(self.spec.name)}"'
                f' style="width:100%;height:{height}px;border:1px solid #cbd5e1;resize:vertical"'
                f' srcdoc="{html.escape(page, quote=True)}"></iframe>')


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


properties = planner.properties   # the one place properties are built (re-exported for callers)


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


def check(spec: Spec, invariants=None, engine: str = "bfs", progress=None, options: Options = Options(),
          runner=None) -> Report:
    """Explore ``spec`` and return a verdict per invariant.

    The planner (:mod:`checks.planner`) decides the reductions, the
    properties and the phases; this runs the plan's searches in order (a
    later one gets what is left of the bounds) and turns what they found
    into results, each counterexample replayed on the plain system.
    ``runner`` runs one search of the plan, ``runner(spec, search, names,
    bounds, options, progress) -> SearchResult`` (default :func:`run_search`,
    this process); ``--cluster`` passes one that runs it on Ray
    (replcheck.cluster) and falls back to :func:`run_search`."""
    runner = runner or run_search
    if engine not in ENGINES:
        raise SpecError(spec.source, "--engine", f"unknown engine '{engine}'{did_you_mean(engine, ENGINES)}")
    names = resolve_invariants(spec, invariants)
    p = planner.plan(spec, names, engine, options)
    decided: dict = {}
    runs = []
    left = spec.bounds
    for s in p.searches:
        res = runner(spec, s, names, left, options, progress)
        runs.append(res)
        decided.update({prop.name: (s.system, res) for prop in s.properties})
        if res.cut in STOPS:
            # Ctrl-C / SIGTERM or the memory limit: no later phase runs; what it would
            # have decided is incomplete with the same cut (README, "Exit codes").
            for later in p.searches[len(runs):]:
                decided.update({prop.name: (later.system, res) for prop in later.properties})
            break
        if left.max_seconds:
            left = replace(left, max_seconds=max(left.max_seconds - res.stats.seconds, 0.001))
        if left.max_states:
            left = replace(left, max_states=max(left.max_states - res.stats.states, 1))
    res = _combine(runs)
    notes = p.notes
    if len(runs) < len(p.searches):
        notes = (f"stopped in phase {len(runs)} of {len(p.searches)} ({res.cut}): the invariants of the later phase"
                 " were not searched",) + notes
    elif len(runs) == 2:
        st1, st2 = runs[0].stats, runs[1].stats
        ghost = [n for n in names if decided[n][1] is runs[1]]
        first = [n for n in names if decided[n][1] is runs[0]]
        notes = (f"two phases: {', '.join(first)} decided without ghost happens-before ({st1.states:,} states);"
                 f" {', '.join(ghost)} with it, {_how_far(options, runs[1])}"
                 f" ({st2.states:,} states)",) + notes
    exhaustive = p.exhaustive
    looped = "replication-terminates" in res.found
    plain = p.plain
    results = []
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
                if judged_late(origin, n):
                    # judged at the quiescent end of the run; show the run up to the first state
                    # that breaks it (a shorter, still real, counterexample)
                    path, trace, final, v = _first_violation(plain, judge, path, trace, final, v)
            else:
                path = tuple(f.path)
                trace, final = build_trace(plain, path)
            kinds = tuple(sorted(set(kinds_of(v)) | set(phase.kinds.get(n, ()))))
            results.append(Result(n, VIOLATED, v.anomaly, v.message, v.culprits, trace, None, path,
                                  anomalies=kinds, anomalies_complete=exhaustive and (phase.complete or phase.saturated),
                                  shortest=proves_shortest(engine, options, origin, phase)
                                  and not judged_late(origin, n)))
        elif phase.complete and (not looped or n == "replication-terminates"):
            results.append(Result(n, HOLDS, vacuous=vacuity.reason(origin, n, p.watched)))
        else:
            bound = LOOP_BOUND if looped and phase.complete else (phase.cut or "stopped early")
            results.append(Result(n, INCOMPLETE, bound=bound))
    return Report(spec, facts(plain), tuple(results), res.stats, res.engine, res.complete, res.cut, notes)


def not_run(spec: Spec, invariants=None, engine: str = "bfs", why: str = "interrupted") -> Report:
    """The report of a spec that was not checked because the run was
    stopped first (``why``: Ctrl-C or SIGTERM): every invariant
    ``incomplete (interrupted)``, nothing explored."""
    names = resolve_invariants(spec, invariants)
    results = tuple(Result(n, INCOMPLETE, bound=why) for n in names)
    note = ("not checked: the command's --total-seconds ran out before this run" if why == "total_seconds"
            else f"not checked: the run was {why} before this spec")
    return Report(spec, facts(System(spec)), results, Stats(), engine, False, why, (note,))


def run_search(spec: Spec, s: "planner.Search", names, bounds, options: Options, progress) -> SearchResult:
    """Run one search of a plan in this process (the default runner of :func:`check`)."""
    props = list(s.properties)
    if s.engine == "swarm":
        from replcheck.checks.parallel import simulate_parallel
        return simulate_parallel(spec, names, options.simulate, options.seed, options.workers, bounds)
    if s.engine == "simulate":
        return search.simulate(s.system, props, options.simulate, options.seed, bounds, progress=progress)
    if s.engine == "bfs":
        return search.bfs(s.system, props, bounds, progress=progress, fingerprint=options.fingerprint,
                          stop_when=s.stop_when)
    if s.engine == "dfs":
        return search.dfs(s.system, props, bounds, progress=progress, stop_when=s.stop_when)
    from replcheck.checks.smt import bmc   # the symbolic engine: z3 stays inside checks/smt/
    return bmc.search(s.system, [p.name for p in props], bounds)


def _combine(runs) -> SearchResult:
    """One result for the stats line from a plan's searches."""
    if len(runs) == 1:
        return runs[0]
    a, b = runs
    stats = Stats(a.stats.states + b.stats.states, a.stats.transitions + b.stats.transitions,
                  max(a.stats.depth, b.stats.depth), a.stats.quiescent + b.stats.quiescent,
                  a.stats.seconds + b.stats.seconds, b.stats.frontier)
    return SearchResult(b.engine, stats, a.complete and b.complete, b.cut or a.cut, {**a.found, **b.found},
                        {**a.kinds, **b.kinds})


def _how_far(options: Options, res: SearchResult) -> str:
    if options.stop_early:
        return "until violated"
    return "until every anomaly kind it can show was found" if res.saturated else "to the end"


def judged_late(system: System, name: str) -> bool:
    """Was the every-state invariant ``name`` judged at quiescent states
    only, on the partial-order-reduced ``system`` (checks/planner.py
    ``at_quiescence``)?  Its verdict and kinds are exact, its trace is not
    proved shortest (docs/reductions.md "Every-state invariants judged at
    quiescence").  Under relay turns, also the replication-loop
    guard: judged on the reduced graph, its verdict is exact but its trace
    not proved shortest (docs/reductions.md "Relay turns")."""
    if system.relay and name == "replication-terminates":
        return True
    return (system.por or system.relay) and name in planner.at_quiescence(system, (name,))


def _first_violation(plain: System, judge, path, trace, final, v):
    """The shortest prefix of the plain run ``path`` whose last state
    ``judge`` finds violated (the whole run at worst, whose end violates)."""
    for i in range(len(path)):
        t, f = build_trace(plain, path[:i])
        d = judge(f)
        if d is not None:
            return path[:i], t, f, d
    return path, trace, final, v


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
        # Stopped once every kind was found: still shortest when every run to
        # quiescence has the same length, i.e. no op can be rejected.
        return res.complete or (res.saturated and system.run_length_is_constant())
    return res.engine == "bfs"
