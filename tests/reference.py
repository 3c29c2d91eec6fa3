"""An independent, deliberately naive re-implementation of the core
semantics (all-to-all, FIFO links, lww over lamport/wall, mv-register), used
to cross-check the engine's state counts and outcomes.  It shares no code
with ``model`` beyond reading the spec dataclass.

Real time (docs/model.md, "Real time"), without latencies: when some op has
``time_ms`` the state also holds ``now``, the latest real time a timed
commit happened at; a timed op may commit only if its time is not after
``now`` or no other timed op that could commit right now is due earlier,
and it commits at ``max(now, time_ms)``."""

from __future__ import annotations


def explore(spec):
    leaders = list(spec.leaders)
    ops = list(spec.workload)
    rank = {name: i for i, name in enumerate(sorted(leaders))}
    offset = dict(spec.offsets)

    timed = any(o.time_ms is not None for o in ops)
    order = {o.id: i for i, o in enumerate(ops)}

    def stamp(op, clock, n_committed, now):
        if spec.clock == "lamport":
            c = clock + 1
            return c, (c, rank[op.leader])
        real = max(now, op.time_ms) if op.time_ms is not None else n_committed + 1
        return clock, (real + offset.get(op.leader, 0), rank[op.leader])

    def merge(content, w, meta):
        if spec.resolver == "lww":
            if not content:
                return frozenset([w])
            (cur,) = content
            # An exact tie (same timestamp and leader: one leader's writes at
            # one wall time) goes to the op listed later (docs/resolvers.md).
            return frozenset([w]) if (meta[w][0], order[w]) > (meta[cur][0], order[cur]) else content
        if w in content or any(w in meta[s][1] for s in content):
            return content
        return frozenset(s for s in content if s not in meta[w][1]) | {w}

    init = (frozenset(), tuple((frozenset(), frozenset(), 0, frozenset()) for _ in leaders),
            tuple(() for _ in range(len(leaders) * len(leaders))), (), 0)
    seen = {init}
    todo = [init]
    quiescent = []
    while todo:
        s = todo.pop()
        committed, ls, links, metaitems, now = s
        meta = dict(metaitems)
        nxt = []
        ready = []
        for li, name in enumerate(leaders):
            mine = [o for o in ops if o.leader == name and o.id not in committed]
            if mine and all(d in ls[li][0] for d in mine[0].after):
                ready.append((li, mine[0]))
        due = [o.time_ms for _, o in ready if o.time_ms is not None]
        for li, op in ready:
            if op.time_ms is not None and op.time_ms > now and op.time_ms > min(due):
                continue   # an op due earlier could commit first: it would have
            applied, past, clock, content = ls[li]
            now2 = max(now, op.time_ms) if op.time_ms is not None else now
            clock2, ts = stamp(op, clock, len(committed), now)
            meta2 = dict(meta)
            meta2[op.id] = (ts, past)
            content2 = merge(content, op.id, meta2)
            ls2 = list(ls)
            ls2[li] = (applied | {op.id}, past | {op.id}, clock2, content2)
            links2 = list(links)
            for d in range(len(leaders)):
                if d != li:
                    links2[li * len(leaders) + d] += (op.id,)
            nxt.append((committed | {op.id}, tuple(ls2), tuple(links2), tuple(sorted(meta2.items())),
                        now2 if timed else 0))
        for j, q in enumerate(links):
            if not q:
                continue
            d = j % len(leaders)
            w = q[0]
            applied, past, clock, content = ls[d]
            ts, hb = meta[w]
            clock2 = max(clock, ts[0]) if spec.clock == "lamport" else clock
            ls2 = list(ls)
            ls2[d] = (applied | {w}, past | {w} | hb, clock2, merge(content, w, meta))
            links2 = list(links)
            links2[j] = q[1:]
            nxt.append((committed, tuple(ls2), tuple(links2), metaitems, now))
        if not nxt:
            quiescent.append(s)
        for t in nxt:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return len(seen), quiescent


def outcome(spec, state):
    """Per leader, the sorted values it shows (siblings) at a quiescent state."""
    values = {o.id: o.value for o in spec.workload}
    return tuple(tuple(sorted(values[w] for w in leader[3])) for leader in state[1])


def lost(spec, state):
    """Op ids lost somewhere: not held and not superseded by a later write."""
    meta = dict(state[3])
    superseded = set().union(*(hb for _, hb in meta.values())) if meta else set()
    out = set()
    for leader in state[1]:
        for w in meta:
            if w not in leader[3] and w not in superseded:
                out.add(w)
    return out
