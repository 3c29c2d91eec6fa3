"""Distributed exhaustive search: hash-partitioned, level-synchronous BFS
over Ray actors (issue 15, item 2; the PReach design for Murphi).

Each of ``k`` actors owns the states whose fingerprint is ``i`` modulo
``k``: their visited set, their parent pointers and their part of the
frontier.  A level is two rounds:

1. *expand*: every actor expands its frontier with the same compiled
   :class:`model.system.System` the local engine explores (the planner's
   reduced system and properties, shipped once), judges the quiescent
   properties there, and packs each successor ``(state, action, parent)``
   into the batch of the successor's owner (marshal bytes; duplicates within
   a batch dropped);
2. *insert*: every owner takes the batches addressed to it, in the order of
   their senders, keeps the states it has not seen, records their parent
   ``(partition, index)`` and action, and judges the every-state properties.

Ray moves the batches from actor to actor through its object store; the
driver sees only per-level summaries.  Because a level is finished before
the next starts, the search explores exactly the states the local
:func:`model.search.bfs` explores, stops early at the same level boundary,
and keeps, per property, a counterexample of least depth (or of least run
length under partial-order reduction, as :class:`model.search._Judge`
does): the same verdicts, state count and shortest trace length.  The path
of a counterexample is rebuilt by following parent pointers from partition
to partition, so it replays on the plain system like a local one.

Bounds: ``max_states`` is split over the owners level by level, so the
count never passes it; ``max_seconds`` is a wall-clock end every actor
checks; ``max_memory`` (default: 75% of what is available) is shared
equally by the actors of a local cluster; ``max_depth`` as locally.  A stop
(Ctrl-C, SIGTERM) ends the search with what the finished levels found
(``interrupted``).
"""

from __future__ import annotations

import marshal
import resource
import time
from array import array
from dataclasses import dataclass, field, replace

from replcheck.cluster import get
from replcheck.model.memory import Watch, limit_of
from replcheck.model.search import (EVERY, QUIESCENT, Found, SearchResult, Stats, _fault_base, _Judge,
                                    fingerprint_of, stop_rule, stopped)


@dataclass
class Metrics:
    """What the distributed search measured (bench/scale_out.py)."""

    partitions: int = 0
    levels: list = field(default_factory=list)   # per level: (states new, bytes sent between partitions)
    bytes_sent: int = 0
    peak_rss: list = field(default_factory=list)  # per partition, bytes
    states_per_partition: list = field(default_factory=list)

    @property
    def imbalance(self) -> float:
        """Largest partition over the mean (1.0: perfectly even)."""
        s = self.states_per_partition
        return max(s) / (sum(s) / len(s)) if s and sum(s) else 1.0


class Partition:
    """One actor: a partition of the visited states, parents and frontier."""

    def __init__(self, me: int, k: int, model, fingerprint: bool, memory_limit):
        import gc
        gc.disable()   # this process is the actor's alone: the search runs without the cyclic collector (model/gcpause.py)
        system, props = model
        self.me, self.k, self.system = me, k, system
        self.every = [p for p in props if p.scope == EVERY]
        self.quiet = [p for p in props if p.scope == QUIESCENT]
        self.fingerprint = fingerprint
        self.seen: dict = {}
        self.ppart = array("l")
        self.pidx = array("q")
        self.act = array("l")
        self.frontier: list = []
        self.found: dict = {}
        self.judge = _Judge(system, self.found)
        self.sent: dict = {}
        self.fault_base = _fault_base(system)
        self.memory = Watch(memory_limit)
        self.transitions = self.quiescent = 0
        self.watches = _watches(props)

    def _key(self, t):
        return fingerprint_of(t) if self.fingerprint else t

    def _ref(self, idx, depth):
        return lambda: (self.me, idx, depth)

    def seed(self, state):
        """The initial state (this partition owns it)."""
        self.seen[self._key(state)] = 0
        self.ppart.append(-1)
        self.pidx.append(-1)
        self.act.append(-1)
        for p in self.every:
            self.judge(p, state, 0, self._ref(0, 0))
        self.frontier = [(state, 0)]
        return self._summary(0, None, 0)

    def expand(self, depth: int, max_depth, end_wall):
        """Expand this partition's frontier: ``k`` batches (one per owner) and a summary."""
        k, me = self.k, self.me
        outs = [dict() for _ in range(k)]
        cut = None
        fault_base = self.fault_base
        for n, (state, idx) in enumerate(self.frontier):
            if not (n + 1) & 1023:
                if end_wall is not None and time.time() >= end_wall:
                    cut = "max_seconds"
                    break
                if self.memory.over():
                    cut = "max_memory"
                    break
            succ = self.system.successors(state)
            if not succ or succ[0][0] >= fault_base:
                self.quiescent += 1
                for p in self.quiet:
                    self.judge(p, state, depth, self._ref(idx, depth))
                if not succ:
                    continue
            if max_depth is not None and depth >= max_depth:
                cut = "max_depth"
                continue
            self.transitions += len(succ)
            for a, t in succ:
                out = outs[fingerprint_of(t) % k if k > 1 else 0]
                if t not in out:
                    out[t] = (a, idx)
        self.frontier = []
        batches = [marshal.dumps([(t, a, i) for t, (a, i) in out.items()], 4) for out in outs]
        sent = sum(len(b) for o, b in enumerate(batches) if o != me)
        return (*batches, (cut, sent))

    def insert(self, depth: int, quota, *batches):
        """Keep the unseen states of ``batches`` (sender order), at most ``quota`` of them."""
        cut = None
        new = 0
        nxt = []
        seen = self.seen
        for src, b in enumerate(batches):
            for t, a, pi in marshal.loads(b):
                key = self._key(t)
                if key in seen:
                    continue
                if quota is not None and new >= quota:
                    cut = "max_states"
                    break
                i = len(self.pidx)
                seen[key] = i
                self.ppart.append(src)
                self.pidx.append(pi)
                self.act.append(a)
                for p in self.every:
                    self.judge(p, t, depth, self._ref(i, depth))
                nxt.append((t, i))
                new += 1
            if cut:
                break
        self.frontier = nxt
        return self._summary(new, cut, depth)

    def _summary(self, new, cut, depth):
        """New states, the cut, and what changed in the found table (only then is the detail shipped)."""
        changed = {}
        for name, f in self.found.items():
            if self.sent.get(name) != f.path:
                self.sent[name] = f.path
                changed[name] = (self.judge.length.get(name), f.path, f.detail)
        kinds = {n: set(v) for n, v in self.judge.kinds.items()}
        return dict(new=new, cut=cut, states=len(self.seen), transitions=self.transitions,
                    quiescent=self.quiescent, found=changed, kinds=kinds,
                    watches=[(set(w.seen), dict(w.rejected)) for w in self.watches],
                    rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)

    def parent(self, idx: int):
        """``(partition, index, action)`` of the parent of state ``idx``."""
        return self.ppart[idx], self.pidx[idx], self.act[idx]


def _watches(props) -> list:
    """The vacuity watches (checks/vacuity.py ``Watch``) the properties'
    checks fill, in a fixed order: found in the closures of the wrapped
    checks.  An actor fills its own copies; the driver merges them into its
    own, so vacuity is judged over every partition's states."""
    from replcheck.checks.vacuity import Watch as VacuityWatch
    out, ids, seen_fns = [], set(), set()

    def walk(f):
        if id(f) in seen_fns:
            return
        seen_fns.add(id(f))
        for cell in getattr(f, "__closure__", None) or ():
            try:
                v = cell.cell_contents
            except ValueError:
                continue
            if isinstance(v, VacuityWatch):
                if id(v) not in ids:
                    ids.add(id(v))
                    out.append(v)
            elif callable(v):
                walk(v)
    for p in props:
        walk(p.check)
        if p.labels is not None:
            walk(p.labels)
    return out


_actor = {}


def search(cluster, system, properties, bounds, fingerprint: bool = False, stop_when=None, progress=None,
           partitions: int | None = None, progress_every: float = 1.0):
    """Exhaustive BFS of ``system`` over ``partitions`` actors (default:
    the cluster's CPUs): ``(SearchResult, Metrics)``.  The same contract
    as :func:`model.search.bfs`."""
    ray = cluster.start()
    k = partitions or cluster.cpus()
    if "cls" not in _actor:
        _actor["cls"] = ray.remote(num_cpus=1, max_concurrency=2)(Partition)
    t0 = time.monotonic()
    limit = limit_of(bounds)
    if limit is not None and cluster.local:
        limit //= k
    model = ray.put((system, list(properties)))
    actors = [_actor["cls"].remote(i, k, model, fingerprint, limit) for i in range(k)]
    metrics = Metrics(partitions=k)
    stats = Stats()
    best: dict = {}       # name -> (order key, partition, (part, idx, depth), detail)
    kinds: dict = {}
    summaries = [None] * k
    wanted, limits = stop_rule(properties, stop_when)
    end_wall = time.time() + bounds.max_seconds if bounds.max_seconds else None
    cut = None
    frontier = 0
    depth = 0
    next_report = t0 + progress_every

    watches = _watches(properties)

    def merge(part, s):
        summaries[part] = s
        for w, (seen, rejected) in zip(watches, s["watches"]):
            w.seen.update(seen)
            for n, bits in rejected.items():
                w.rejected[n] = w.rejected.get(n, 0) | bits
        for name, (length, ref, detail) in s["found"].items():
            key = (length if length is not None else float("inf"), ref[2], part)
            if name not in best or key < best[name][0]:
                best[name] = (key, ref, detail)
        for name, ks in s["kinds"].items():
            kinds.setdefault(name, set()).update(ks)

    try:
        init = system.initial_state()
        owner = fingerprint_of(init) % k
        merge(owner, get(ray, actors[owner].seed.remote(init)))
        for i in range(k):
            if summaries[i] is None:
                summaries[i] = dict(new=0, states=0, transitions=0, quiescent=0, rss=0)
        frontier = 1
        while frontier and cut is None and not stopped(wanted, limits, best, kinds):
            stats.depth = depth
            outs = [a.expand.options(num_returns=k + 1).remote(depth, bounds.max_depth, end_wall) for a in actors]
            ecuts = get(ray, [o[k] for o in outs])
            sent = sum(s for _, s in ecuts)
            if bounds.max_states is not None:
                left = max(bounds.max_states - sum(s["states"] for s in summaries), 0)
                quota = [left // k + (1 if i < left % k else 0) for i in range(k)]
            else:
                quota = [None] * k
            ins = [actors[o].insert.remote(depth + 1, quota[o], *[outs[i][o] for i in range(k)]) for o in range(k)]
            for o, s in enumerate(get(ray, ins)):
                merge(o, s)
            frontier = sum(s["new"] for s in summaries)
            metrics.levels.append((frontier, sent))
            metrics.bytes_sent += sent
            causes = [c for c, _ in ecuts if c] + [s["cut"] for s in summaries if s.get("cut")]
            for c in ("max_memory", "max_seconds", "max_states", "max_depth"):
                if c in causes:
                    cut = c
                    break
            if cut is not None:
                break
            depth += 1
            now = time.monotonic()
            if progress is not None and now >= next_report:
                stats.states = sum(s["states"] for s in summaries)
                stats.seconds, stats.frontier = now - t0, frontier
                progress(stats)
                next_report = now + progress_every
    except KeyboardInterrupt:
        cut = "interrupted"
    found = {}
    try:
        for name, (_, ref, detail) in best.items():
            found[name] = Found(name, _path(ray, actors, ref), detail)
    except KeyboardInterrupt:
        cut = "interrupted"
    finally:
        for a in actors:
            ray.kill(a)
    stats.states = sum(s["states"] for s in summaries if s)
    stats.transitions = sum(s["transitions"] for s in summaries if s)
    stats.quiescent = sum(s["quiescent"] for s in summaries if s)
    stats.seconds = time.monotonic() - t0
    stats.frontier = frontier
    metrics.peak_rss = [s["rss"] for s in summaries if s]
    metrics.states_per_partition = [s["states"] for s in summaries if s]
    complete = cut is None and not frontier
    saturated = not complete and cut is None and bool(limits) and stopped(wanted, limits, best, kinds)
    return SearchResult("bfs", stats, complete, cut, found, kinds, saturated), metrics


def _path(ray, actors, ref) -> tuple[int, ...]:
    """The actions from the initial state to ``ref`` = ``(partition, index, depth)``."""
    part, idx, _ = ref
    out = []
    while idx >= 0:
        pp, pi, a = get(ray, actors[part].parent.remote(idx))
        if pp < 0:
            break
        out.append(a)
        part, idx = pp, pi
    return tuple(reversed(out))


#: States a depth-first phase may take in the driver before it is handed to the
#: distributed search (docs/scale-out.md, "Depth-first phases").
DFS_PROBE = 50_000


def check(cluster, spec, invariants=None, engine: str = "bfs", progress=None, options=None, metrics=None,
          dfs_probe: int = DFS_PROBE):
    """:func:`checks.verdict.check` with its exhaustive searches run by
    :func:`search` on ``cluster``: the planner, the replay of each
    counterexample on the plain system, the anomaly kinds, vacuity and the
    shortest-trace proof stay verdict.check's own — only the search it
    runs is another (its ``runner``).

    A breadth-first phase runs as distributed BFS.  A depth-first phase (the
    ghost-reading second phase of a two-phase plan) first runs as the local
    engine runs it, in this process, for at most ``dfs_probe`` states: if it
    ends there (complete, stopped once every anomaly kind was found, or cut by
    the user's own bound), that is the local engine's result, state count
    included.  Only a longer one is restarted as distributed BFS, an
    exhaustive search of the same reachable states (which, where it stops
    early, stops at the end of a level rather than where a depth-first order
    would have).  ``dfs_probe=0`` distributes every phase.  ``metrics``: a
    list that gets each distributed search's :class:`Metrics`."""
    from replcheck.checks import verdict
    options = options or verdict.Options()

    def run(spec_, s, names, bounds, options_, progress_):
        if engine == "bfs" and s.engine == "dfs" and options_.simulate is None and dfs_probe > 0:
            mine = bounds.max_states is not None and bounds.max_states <= dfs_probe
            probe = bounds if mine else replace(bounds, max_states=dfs_probe)
            res = verdict.run_search(spec_, s, names, probe, options_, progress_)
            if mine or res.cut != "max_states":
                return res
            if bounds.max_seconds:
                bounds = replace(bounds, max_seconds=max(bounds.max_seconds - res.stats.seconds, 0.001))
        if engine == "bfs" and s.engine in ("bfs", "dfs") and options_.simulate is None:
            res, m = search(cluster, s.system, list(s.properties), bounds, options_.fingerprint, s.stop_when,
                            progress_)
            if metrics is not None:
                metrics.append(m)
            return res
        return verdict.run_search(spec_, s, names, bounds, options_, progress_)

    return verdict.check(spec, invariants, engine=engine, progress=progress, options=options, runner=run)
