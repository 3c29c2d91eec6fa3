"""Counter CRDTs: G-counter and PN-counter (key types).

Meaning: a G-counter only grows (``incr = n``); a PN-counter also shrinks
(``decr = n``).  Each leader counts its own increments and decrements; the
value is the initial value plus the sum of every leader's increments minus
the sum of its decrements; merging takes the pointwise maximum, so
concurrent increments all count, exactly once, in any delivery order.

Metadata: a vector with one entry per leader.  The model keeps, per leader
``o``, how many of ``o``'s counter ops on the key are included (a version
vector restricted to the key); ``o``'s P and N totals are prefix sums of its
ops, precomputed, so the pair (P[o], N[o]) is a function of that count.
Each replication message carries the sender's own entry (a delta-state
CRDT: Almeida et al., JPDC 2018), merged by max.

Tie-break: none (no conflict to break).

No lost writes (MODEL.md §5): an increment or decrement is *reflected* at a
leader when its origin's entry there covers it: its delta is counted
exactly once (max never counts twice).

Sources: Shapiro et al., "A comprehensive study of Convergent and
Commutative Replicated Data Types", INRIA RR-7506, 2011 (G-Counter §3.1.1,
PN-Counter §3.1.2); Riak counters; PGD ``crdt_gcounter`` /
``crdt_pncounter`` columns.
"""

from __future__ import annotations

from model.resolvers.base import LOST_UPDATE, DataType, Loss, View, is_rejected

G_SUMMARY = "G-counter CRDT: per-leader increment counts merged by max; value = initial + sum (incr only)"
PN_SUMMARY = "PN-counter CRDT: per-leader increment and decrement counts merged by max; every delta counts once"
SOURCE = "Shapiro et al. INRIA RR-7506 §3.1 (G-Counter, PN-Counter); Riak counters; PGD crdt_pncounter"


class Counter(DataType):
    """A G- or PN-counter over per-leader op counts."""

    family = "counter"
    holds_writes = False
    commutes = True

    def __init__(self, ctx):
        super().__init__(ctx)
        n = ctx.n
        self.initial_value = ctx.keyspec.initial if ctx.keyspec is not None and ctx.keyspec.initial is not None else 0
        # position of each op among its origin's ops on this key (1-based)
        pos = [0] * len(ctx.ops)
        prefix = [[0] for _ in range(n)]
        for i in ctx.key_ops:
            op = ctx.ops[i]
            o = op.origin
            pos[i] = len(prefix[o])
            prefix[o].append(prefix[o][-1] + (op.amount if op.kind == "incr" else -op.amount))
        self.pos = tuple(pos)
        self.prefix = tuple(tuple(p) for p in prefix)
        self.origin = ctx.origin
        self._zero = (0,) * n

    def initial(self):
        return self._zero

    def apply(self, content, w, writes, local):
        o = self.origin[w]
        p = self.pos[w]
        if content[o] >= p:
            return content
        return content[:o] + (p,) + content[o + 1:]

    def merge(self, a, b, writes):
        return tuple(x if x >= y else y for x, y in zip(a, b))

    def value(self, content) -> int:
        v = self.initial_value
        for o, c in enumerate(content):
            v += self.prefix[o][c]
        return v

    def visible(self, content, writes):
        v = self.value(content)
        return View((v,), str(v))

    def outcome(self, before, after, w, writes):
        return "duplicate" if before == after else "merged"

    def losses(self, system, state, k, live, reached):
        writes = state[2]
        out = []
        for w in self.ctx.key_ops:
            meta = writes[w]
            if meta is None or is_rejected(meta) or not (reached >> w) & 1:
                continue
            o, p = self.origin[w], self.pos[w]
            for l in live:
                if state[0][l][3][k][o] < p:
                    out.append(Loss(l, w, (), LOST_UPDATE, "its delta is not counted"))
        return out


def build(ctx):
    return Counter(ctx)
