"""Explicit-state search engines over any transition system.

An engine sees only the system's interface (as in stateright's checker):

* ``initial_state()``;
* ``successors(state) -> [(action, next_state), ...]`` in a fixed order,
  progress actions before faults;
* optionally ``fault_base``: actions with a code at least this large are
  faults, and a state with no other successor is *quiescent*;

and a list of :class:`Property` values, each a named predicate checked at
every reachable state or only at quiescent ones (no enabled action).  An
engine returns a :class:`SearchResult`; it never prints.  Progress is
reported through an optional callback.

Counterexamples are kept as action paths from the initial state (parent
links stored as two flat arrays, not as states), so a trace is rebuilt by
replaying the path through the system — the same route a saved trace takes.
"""

from __future__ import annotations

import marshal
import time
from array import array
from hashlib import blake2b
from dataclasses import dataclass, field
from typing import Callable

from replcheck.model.gcpause import paused
from replcheck.model.memory import Watch, limit_of
from replcheck.model.spec import Bounds

EVERY = "every"
QUIESCENT = "quiescent"


@dataclass(frozen=True)
class Property:
    """A named safety property.

    ``check(state)`` returns ``None`` when the state is fine and any other
    value (a violation detail, opaque to the engine) when it is not.
    ``scope`` is ``"every"`` (checked at every reachable state) or
    ``"quiescent"`` (only at states with no enabled action).

    ``labels(state)``, when given, names every kind of violation the state
    shows (empty when it is fine).  An exhaustive engine then keeps judging
    the property after its first counterexample, with ``labels`` only, so
    that the kinds it reports are those of *every* violating state explored
    — whatever the search order (docs/engine.md, "Anomaly kinds").
    """

    name: str
    scope: str
    check: Callable
    labels: Callable | None = None
    # Every label ``labels`` can show on this system (a superset, proved
    # from the spec; docs/engine.md, "Stopping when every kind is found"),
    # or None when unknown.  Once a search has seen all of them, judging
    # the property further can add nothing.
    kinds: frozenset | None = None


@dataclass(frozen=True)
class Found:
    """A violation: the path of actions that reaches it, and its detail."""

    name: str
    path: tuple[int, ...]
    detail: object
    run: int = -1          # simulation: the index of the random run that found it


@dataclass
class Stats:
    states: int = 0
    transitions: int = 0
    depth: int = 0
    quiescent: int = 0
    seconds: float = 0.0
    frontier: int = 0
    violated: tuple = ()   # properties violated so far (for progress: a long run announces them early)

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else float(self.states)


@dataclass(frozen=True)
class SearchResult:
    """What a search established.

    ``complete`` is true only when every reachable state within the bounds
    was expanded; otherwise ``cut`` names the bound that stopped it
    (``max_states``, ``max_depth``, ``max_seconds``, ``max_memory``,
    ``interrupted``: Ctrl-C or SIGTERM) or is
    ``None`` when the search stopped early because every property was
    already violated.  ``kinds``: per violated property with ``labels``,
    every label shown by a violating state the search judged (all of them
    when ``complete`` or ``saturated``).  ``saturated``: it stopped early
    because every property was violated and had shown every kind it can
    show (:attr:`Property.kinds`), so the kinds are complete although the
    search is not.
    """

    engine: str
    stats: Stats
    complete: bool
    cut: str | None
    found: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)
    saturated: bool = False


class _Judge:
    """Judges properties at states and keeps, per property, the counterexample
    of least *run length* seen so far and every label shown.

    The run length of a state reached by a path of ``depth`` steps is
    ``system.run_length(state, depth)`` when the system defines it and it
    is not ``None`` (with partial-order reduction, the length of every
    plain run to a quiescent state, docs/reductions.md "Shortest
    counterexamples").  A later counterexample replaces the kept one only
    when strictly shorter; without a run length the first one is kept (a
    breadth-first search's first is a shortest one).
    """

    def __init__(self, system, found: dict):
        self.found = found
        self.kinds: dict = {}
        self.length: dict = {}
        self.run_length = getattr(system, "run_length", None)

    def __call__(self, p, state, depth: int, path_of) -> None:
        name = p.name
        if name in self.found:
            if p.labels is None:
                return
            labels = p.labels(state)
            if not labels:
                return
            self.kinds[name].update(labels)
            if self.length[name] is not None:
                n = self.run_length(state, depth)
                if n is not None and n < self.length[name] and (d := p.check(state)) is not None:
                    self.found[name] = Found(name, path_of(), d)
                    self.length[name] = n
            return
        d = p.check(state)
        if d is None:
            return
        self.found[name] = Found(name, path_of(), d)
        self.length[name] = self.run_length(state, depth) if self.run_length is not None else None
        if p.labels is not None:
            self.kinds[name] = set(p.labels(state))


def stop_rule(properties, stop_when=None) -> tuple[set, dict]:
    """When a search may stop early: ``(wanted, kinds)``, to be given to
    :func:`stopped`.  With ``stop_when`` (``--stop-early``): once those
    properties are violated.  By default: once every property is violated
    and each property with ``labels`` has shown every kind it can show
    (its :attr:`Property.kinds`); never when some property with labels
    does not know its kinds (the search then runs to the end, so that the
    kinds reported are those of every violating state)."""
    if stop_when is not None:
        return set(stop_when), {}
    if any(p.labels is not None and p.kinds is None for p in properties):
        return set(), {}
    return {p.name for p in properties}, {p.name: p.kinds for p in properties if p.labels is not None}


def stopped(wanted: set, kinds: dict, found, seen_kinds: dict) -> bool:
    """Whether the search may stop now (see :func:`stop_rule`)."""
    if not wanted or not wanted <= found.keys():
        return False
    return all(seen_kinds.get(n, set()) >= k for n, k in kinds.items())


def _fault_base(system) -> float:
    """Actions from this code up are faults; a state whose successors are
    all faults is quiescent (systems list progress actions first)."""
    return getattr(system, "fault_base", float("inf"))


def fingerprint_of(state) -> int:
    """A 64-bit fingerprint of a state: BLAKE2b of its canonical marshal
    encoding (marshal format 2: no back-references, so equal states encode
    equally).  (Python's ``hash`` will not do: it is not uniform — in
    CPython ``hash(-1) == hash(-2)`` — so distinct states would merge.)"""
    return int.from_bytes(blake2b(marshal.dumps(state, 2), digest_size=8).digest(), "little")


def is_quiescent(system, succ) -> bool:
    """A state whose successors are ``succ`` is quiescent when nothing but
    faults is enabled (systems list progress actions first)."""
    return not succ or succ[0][0] >= _fault_base(system)


def collision_probability(states: int) -> float:
    """Upper estimate of the chance that 64-bit fingerprints merged two of
    ``states`` distinct states (birthday bound, as TLC reports it)."""
    return min(1.0, states * (states - 1) / 2 ** 65)


def _path(parent: array, act: array, idx: int) -> tuple[int, ...]:
    out = []
    while idx > 0:
        out.append(act[idx])
        idx = parent[idx]
    return tuple(reversed(out))


@paused
def bfs(system, properties, bounds: Bounds = Bounds(), progress: Callable | None = None,
        progress_every: float = 1.0, fingerprint: bool = False, stop_when=None) -> SearchResult:
    """Breadth-first search: every violation comes with a shortest path.

    States are expanded level by level, so the first state found that
    violates a property is at minimal depth; for quiescent properties the
    violating state is found when it is expanded, still in level order.

    With ``fingerprint`` the visited set keeps each state's 64-bit hash
    instead of the state (as TLC does): a fraction of the memory, at the
    price of a hash collision wrongly merging two states with probability
    about ``n**2 / 2**65`` for ``n`` states (see :func:`collision_probability`).
    Only the current BFS level is held as full states.

    ``stop_when`` (property names): stop as soon as all of these are
    violated; the result is then not complete and has no ``cut``.  By
    default the search stops early only when every property is violated
    and none has ``labels`` (nothing left to learn); otherwise it runs to
    the end or to a bound, keeping the shortest counterexample (by
    ``system.run_length`` when defined, see :class:`_Judge`).
    """
    every = [p for p in properties if p.scope == EVERY]
    quiet = [p for p in properties if p.scope == QUIESCENT]
    found: dict[str, Found] = {}
    judge = _Judge(system, found)
    t0 = time.monotonic()
    stats = Stats()
    init = system.initial_state()
    seen = {fingerprint_of(init) if fingerprint else init: 0}
    parent = array("q", [-1])
    act = array("l", [-1])
    for p in every:
        judge(p, init, 0, tuple)
    max_states = bounds.max_states
    max_depth = bounds.max_depth
    fault_base = _fault_base(system)
    deadline = t0 + bounds.max_seconds if bounds.max_seconds else None
    memory = Watch(limit_of(bounds))
    next_report = t0 + progress_every
    frontier = [(init, 0)]
    depth = 0
    cut = None
    expanded = 0        # work done: states popped plus successors computed (a wide fan-out counts)
    next_check = 1024
    wanted, limits = stop_rule(properties, stop_when)
    nxt: list = []
    try:
        while frontier and cut is None and not stopped(wanted, limits, found, judge.kinds):
            nxt = []
            stats.depth = depth
            for state, idx in frontier:
                expanded += 1
                if expanded >= next_check:
                    next_check = expanded + 1024
                    now = time.monotonic()
                    if deadline is not None and now >= deadline:
                        cut = "max_seconds"
                        break
                    if memory.over():
                        cut = "max_memory"
                        break
                    if progress is not None and now >= next_report:
                        stats.states, stats.seconds, stats.frontier = len(seen), now - t0, len(frontier) + len(nxt)
                        stats.violated = tuple(found)
                        progress(stats)
                        next_report = now + progress_every
                succ = system.successors(state)
                expanded += len(succ)   # 16 leaders fully meshed: hundreds per state, so the clock is read by work
                if not succ or succ[0][0] >= fault_base:
                    stats.quiescent += 1
                    for p in quiet:
                        judge(p, state, depth, lambda: _path(parent, act, idx))
                    if not succ:
                        continue   # else faults are still enabled: explore them too
                if max_depth is not None and depth >= max_depth:
                    cut = "max_depth"
                    continue
                stats.transitions += len(succ)
                for a, t in succ:
                    key = fingerprint_of(t) if fingerprint else t
                    if key in seen:
                        continue
                    i = len(parent)
                    if max_states is not None and i >= max_states:
                        cut = "max_states"
                        break
                    seen[key] = i
                    parent.append(idx)
                    act.append(a)
                    for p in every:
                        judge(p, t, depth + 1, lambda: _path(parent, act, i))
                    nxt.append((t, i))
                if cut == "max_states":
                    break
            if cut is not None:
                break
            frontier = nxt
            depth += 1
    except KeyboardInterrupt:
        cut = "interrupted"
    stats.states = len(seen)
    stats.seconds = time.monotonic() - t0
    stats.frontier = len(frontier) if cut is None else len(frontier) + len(nxt)
    complete = cut is None and not frontier
    saturated = not complete and cut is None and bool(limits) and stopped(wanted, limits, found, judge.kinds)
    return SearchResult("bfs", stats, complete, cut, found, judge.kinds, saturated)


@paused
def dfs(system, properties, bounds: Bounds = Bounds(), stop_when=None,
        progress: Callable | None = None) -> SearchResult:
    """Depth-first search over the same interface (no shortest-path promise).

    Used to cross-check :func:`bfs`: both must visit the same states and find
    the same violations; BFS's paths are never longer.  ``stop_when``
    (property names): stop as soon as all of these are violated (the result
    is then not complete and has no ``cut``); by default it runs to the end,
    keeping per property the counterexample of least run length (see
    :class:`_Judge`) and every label shown.

    Paths are kept as BFS keeps them: one parent index and one action per
    discovered state (two flat arrays), a stack entry being ``(state,
    index, depth)`` — not a tuple of the whole path per entry, which grew
    with depth times stack size (2 GB in a minute on 16 leaders).
    """
    found: dict[str, Found] = {}
    judge = _Judge(system, found)
    t0 = time.monotonic()
    stats = Stats()
    fault_base = _fault_base(system)
    init = system.initial_state()
    seen = {init}
    parent = array("q", [-1])
    act = array("l", [-1])
    stack = [(init, 0, 0)]
    cut = None
    for p in properties:
        if p.scope == EVERY:
            judge(p, init, 0, tuple)
    deadline = t0 + bounds.max_seconds if bounds.max_seconds else None
    wanted, limits = stop_rule(properties, stop_when)
    try:
        cut = _dfs_loop(system, properties, bounds, stack, seen, found, stats, fault_base, deadline,
                        wanted, progress, t0, judge, parent, act, limits)
    except _Cut as c:
        cut = c.args[0]
    except KeyboardInterrupt:
        cut = "interrupted"
    stats.states = len(seen)
    stats.seconds = time.monotonic() - t0
    stats.frontier = len(stack)
    complete = cut is None and not stack
    saturated = not complete and cut is None and bool(limits) and stopped(wanted, limits, found, judge.kinds)
    return SearchResult("dfs", stats, complete, cut, found, judge.kinds, saturated)


class _Cut(Exception):
    """A bound stopped the depth-first search."""


def _dfs_loop(system, properties, bounds, stack, seen, found, stats, fault_base, deadline, wanted=frozenset(),
              progress=None, t0=0.0, judge=None, parent=None, act=None, limits=None):
    """Run the depth-first search; the bound that cut it (max_depth,
    max_states) or None; raises :class:`_Cut` on the deadline or the
    memory limit."""
    steps = 0           # work done: states popped plus successors computed (a wide fan-out counts)
    next_check = 1024
    cut = None
    next_report = t0 + 1.0
    memory = Watch(limit_of(bounds))
    every = [p for p in properties if p.scope == EVERY]
    quiet = [p for p in properties if p.scope == QUIESCENT]
    while stack:
        steps += 1
        if steps >= next_check:
            next_check = steps + 1024
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise _Cut("max_seconds")
            if memory.over():
                raise _Cut("max_memory")
            if progress is not None and now >= next_report:
                stats.states, stats.seconds, stats.frontier = len(seen), now - t0, len(stack)
                stats.violated = tuple(found)
                progress(stats)
                next_report = now + 1.0
        state, idx, depth = stack.pop()
        if depth > stats.depth:
            stats.depth = depth
        succ = system.successors(state)
        steps += len(succ)
        if not succ or succ[0][0] >= fault_base:
            stats.quiescent += 1
            for p in quiet:
                judge(p, state, depth, lambda: _path(parent, act, idx))
            if wanted and stopped(wanted, limits or {}, found, judge.kinds):
                return None
            if not succ:
                continue
        if bounds.max_depth is not None and depth >= bounds.max_depth:
            cut = cut or "max_depth"
            continue
        stats.transitions += len(succ)
        for a, t in reversed(succ):
            if t in seen:
                continue
            seen.add(t)
            i = len(parent)
            parent.append(idx)
            act.append(a)
            for p in every:
                judge(p, t, depth + 1, lambda: _path(parent, act, i))
            stack.append((t, i, depth + 1))
        if bounds.max_states is not None and len(seen) >= bounds.max_states and stack:
            return "max_states"
    return cut


def run_rng(seed: int, run: int):
    """The random source of run number ``run`` of a swarm seeded ``seed``:
    a function of the two numbers only, so a run is the same whichever
    process executes it (docs/reductions.md, "Simulation")."""
    import random
    return random.Random(f"replcheck-swarm:{seed}:{run}")


@paused
def simulate(system, properties, runs: int, seed: int = 0, bounds: Bounds = Bounds(),
             progress: Callable | None = None, run_ids=None) -> SearchResult:
    """Random walks from the initial state to a quiescent state (swarm style).

    Each run draws its own bias (how strongly it prefers commits, deliveries
    or faults), so runs differ in kind, not only in luck (Holzmann et al.,
    "Swarm verification", ASE 2008).  Reproducible: run ``i`` depends only
    on ``(seed, i)`` (:func:`run_rng`), and the counterexample kept for a
    property is the one of the lowest-numbered run that violates it, so a
    swarm split over processes (``run_ids``: the run numbers this call
    executes, in increasing order; default ``range(runs)``) finds the same
    counterexamples as one process.  A violation comes with its path;
    otherwise the result is never complete, so no verdict can be ``holds``.
    """
    run_ids = range(runs) if run_ids is None else run_ids
    nops = getattr(system, "nops", 0)   # action codes below this are commits
    found: dict[str, Found] = {}
    t0 = time.monotonic()
    stats = Stats()
    fault_base = _fault_base(system)
    max_depth = bounds.max_depth or 10_000
    deadline = t0 + bounds.max_seconds if bounds.max_seconds else None
    cut = "simulation"
    next_report = t0 + 1.0
    memory = Watch(limit_of(bounds))
    try:
        for done, run in enumerate(run_ids):
            rng = run_rng(seed, run)
            bias = rng.random()          # > 0.5 favours commits, < 0.5 deliveries
            fault_rate = rng.random() * 0.5
            state = system.initial_state()
            path: list[int] = []
            for p in properties:
                if p.scope == EVERY and p.name not in found and (d := p.check(state)) is not None:
                    found[p.name] = Found(p.name, (), d, run)
            while len(path) < max_depth:
                succ = system.successors(state)
                stats.states += 1
                quiet = not succ or succ[0][0] >= fault_base
                if quiet:
                    stats.quiescent += 1
                    for p in properties:
                        if p.scope == QUIESCENT and p.name not in found and (d := p.check(state)) is not None:
                            found[p.name] = Found(p.name, tuple(path), d, run)
                    if not succ or rng.random() >= fault_rate:
                        break
                progress_moves = [s for s in succ if s[0] < fault_base]
                faults = [s for s in succ if s[0] >= fault_base]
                if faults and (not progress_moves or rng.random() < fault_rate):
                    a, state = rng.choice(faults)
                else:
                    commits = [s for s in progress_moves if 0 <= s[0] < nops]
                    others = [s for s in progress_moves if not 0 <= s[0] < nops]
                    pool = commits if commits and (not others or rng.random() < bias) else others or commits
                    a, state = rng.choice(pool)
                stats.transitions += 1
                path.append(a)
                stats.depth = max(stats.depth, len(path))
                for p in properties:
                    if p.scope == EVERY and p.name not in found and (d := p.check(state)) is not None:
                        found[p.name] = Found(p.name, tuple(path), d, run)
            if len(found) == len(properties) and properties:
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                cut = "max_seconds"
                break
            if not done & 15 and memory.over():
                cut = "max_memory"
                break
            if progress is not None and now >= next_report:
                stats.seconds, stats.frontier = now - t0, len(run_ids) - done - 1
                stats.violated = tuple(found)
                progress(stats)
                next_report = now + 1.0
    except KeyboardInterrupt:
        cut = "interrupted"
    stats.seconds = time.monotonic() - t0
    return SearchResult("simulation", stats, False, cut, found)
