"""How writes propagate over a topology: paths, hop counts, single points of
failure, worst-case latency, causal order by construction.

This is analysis of the graph and the forwarding rule of
:mod:`model.topology` (what ``replcheck topology`` prints); the
explicit-state check is the proof by example.  A write travels every walk
the forwarding rule allows, so "leader ``b`` receives ``a``'s writes" is
reachability over states ``(leader, sender)``.

Sources: DDIA ch. 5 "Multi-leader replication topologies" (a ring or a star
fails when one node fails; all-to-all tolerates it but can reorder causally
dependent writes); networkx shortest paths.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from replcheck.model.topology import Topology


def _walk(topo: Topology, origin: int, down=frozenset(), cut_links=frozenset(), latency=None, until=None):
    """Fastest arrival of ``origin``'s write at every leader: ``{leader: (cost, path)}``.

    Cost is the hop count, or the summed link latency when ``latency`` maps
    links to ms.  Crashed leaders (``down``) neither receive nor forward;
    ``cut_links`` carry nothing.  With ``until`` (a set of leaders) the walk
    stops as soon as every one of them has been reached: the leaders
    reached so far are then a subset of the full answer holding ``until``
    (the exploration order is the same, so nothing else changes).
    """
    best: dict[int, tuple] = {}
    heap = []
    for t in topo.origin_targets(origin):
        if t not in down and (origin, t) not in cut_links:
            c = latency[(origin, t)] if latency else 1
            heapq.heappush(heap, (c, (origin, t), t, origin))
    settled = set()
    while heap:
        cost, path, node, sender = heapq.heappop(heap)
        if (node, sender) in settled:
            continue
        settled.add((node, sender))
        if node not in best:
            best[node] = (cost, path)
            if until is not None and until <= best.keys():
                break
        if node == origin:
            continue  # origin drops its own write (or never gets it: visited)
        for t in topo.forward_targets(node, sender):
            if t in down or (node, t) in cut_links or t in path[:-1] and t != origin:
                continue
            c = cost + (latency[(node, t)] if latency else 1)
            heapq.heappush(heap, (c, path + (t,), t, node))
    best.pop(origin, None)
    return best


def receivers(topo: Topology, origin: int, down=frozenset(), cut_links=frozenset()) -> frozenset:
    """Leaders that receive ``origin``'s writes."""
    return frozenset(_walk(topo, origin, down, cut_links))


def _loses(topo: Topology, origin: int, wanted: frozenset, down=frozenset(), cut_links=frozenset()) -> bool:
    """Does some leader of ``wanted`` stop receiving ``origin``'s writes
    under the fault?  (The walk stops once all of them are reached: on a
    dense mesh that is after the first hop, not after every walk.)"""
    return bool(wanted - frozenset(_walk(topo, origin, down, cut_links, until=wanted)))


LOOP_MODES = ("origin", "visited", "none")


@dataclass(frozen=True)
class Cost:
    """What replicating one write costs, with no fault: ``sent`` messages
    (every copy put on a link), ``useful`` (a copy that brings the write to
    a leader that has not got it yet) and ``redundant`` (the others:
    duplicates, and copies dropped at the origin); ``loops`` when copies
    circle forever (``none`` on a cycle: the model cuts them, docs/model.md
    §5 "replication-loop"), and then ``sent`` counts up to the cut."""

    sent: int
    useful: int
    redundant: int
    loops: bool = False


def messages_per_write(topo: Topology, origin: int, mode: str, max_copies: int = 5_000) -> Cost:
    """The delivery cost of one write of ``origin`` under loop prevention
    ``mode``, following the model's forwarding rule exactly (model/system.py
    ``_commit``/``_deliver``): the origin sends to its origin targets; every
    copy a leader receives is forwarded to the rule's targets — except at the
    origin under ``origin`` (dropped), to an already visited leader under
    ``visited``, and past as many hops as the graph has links (a loop).  The
    counts do not depend on delivery order (no faults, every copy
    delivered).  Past ``max_copies`` copies (memoryless forwarding on a
    dense graph multiplies them until the hop cap) the write counts as
    looping: ``sent`` is then the cap, a lower bound."""
    hops_cap = len(topo.edges)
    sent = useful = 0
    have = {origin}
    loops = False
    todo = [(origin, t, 1, frozenset([origin])) for t in topo.origin_targets(origin)]
    while todo:
        src, dst, hops, visited = todo.pop()
        sent += 1
        if sent > max_copies:
            loops = True
            break
        if mode == "origin" and dst == origin:
            continue
        if dst not in have:
            have.add(dst)
            useful += 1
        targets = topo.forward_targets(dst, src)
        if not targets:
            continue
        if mode == "visited":
            seen = visited | {dst}
            todo += [(dst, t, hops + 1, seen) for t in targets if t not in seen]
        elif hops + 1 > hops_cap:
            loops = True
        else:
            todo += [(dst, t, hops + 1, visited) for t in targets]
    return Cost(sent, useful, sent - useful, loops)


def can_loop(topo: Topology, mode: str) -> bool:
    """Whether some copy of some leader's write can be forwarded past the
    hop cap (the model's replication loop, docs/model.md "Detecting a
    replication loop") under loop prevention ``mode``.  Every walk the
    forwarding rule allows is followed (:func:`messages_per_write`); faults
    only cut walks short (a crash or a partition stops a copy, a failover
    changes which leader is the origin, and every leader is tried as one),
    so ``False`` is a proof that the loop flag is never set.  Conservative:
    a write whose copies pass the count cap counts as looping."""
    if mode == "visited":
        return False
    return any(messages_per_write(topo, o, mode).loops for o in range(topo.n))


@dataclass(frozen=True)
class Analysis:
    """What ``replcheck topology`` reports, on leader indices."""

    paths: dict          # (a, b) -> tuple path a..b, or None when b never hears from a
    unreachable: tuple   # (a, b) pairs with no path even without faults
    spof_leaders: tuple  # leaders whose crash cuts some live pair
    spof_links: tuple    # links whose loss cuts some pair
    worst_latency: tuple | None  # (ms, a, b, path) when latencies are given
    causal_by_construction: bool
    causal_reason: str


def analyse(topo: Topology, latency=None, fifo: bool = True) -> Analysis:
    n = topo.n
    paths = {}
    base = {}
    for a in range(n):
        arr = _walk(topo, a)
        base[a] = frozenset(arr)
        for b in range(n):
            if a != b:
                paths[(a, b)] = arr[b][1] if b in arr else None
    unreachable = tuple((a, b) for (a, b), p in sorted(paths.items()) if p is None)
    spof = []
    for x in range(n):
        for a in range(n):
            if a == x:
                continue
            if _loses(topo, a, base[a] - {x}, down=frozenset([x])):
                spof.append(x)
                break
    spof_links = []
    for e in topo.edges:
        if any(_loses(topo, a, base[a], cut_links=frozenset([e])) for a in range(n)):
            spof_links.append(e)
    worst = None
    if latency:
        for a in range(n):
            for b, (ms, path) in _walk(topo, a, latency=latency).items():
                if worst is None or ms > worst[0]:
                    worst = (ms, a, b, path)
    in_deg = [sum(1 for s, d in topo.edges if d == v) for v in range(n)]
    if not fifo:
        causal, why = False, "links are not FIFO: a write can overtake one it depends on"
    elif topo.kind == "all-to-all":
        causal, why = n <= 2, ("two leaders: one FIFO link each way" if n <= 2 else
                               "a dependent write can reach a third leader on its own link before the write it"
                               " depends on arrives on another (DDIA ch. 5)")
    elif topo.kind in ("ring", "star"):
        causal, why = True, f"FIFO {topo.kind}: every write reaches a leader along the one path all writes share"
    elif all(d <= 1 for d in in_deg):
        causal, why = True, "every leader hears everything over a single FIFO in-link"
    else:
        causal, why = False, "some leader hears writes over several in-links, which can reorder them"
    return Analysis(paths, unreachable, tuple(spof), tuple(spof_links), worst, causal, why)
