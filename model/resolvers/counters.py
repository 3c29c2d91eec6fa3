"""Counter CRDTs: G-counter and PN-counter (key types).

Meaning: a G-counter only grows (``incr = n``); a PN-counter also shrinks
(``decr = n``).  Each leader counts its own increments and decrements; the
value is the initial value plus the sum of every leader's increments minus
the sum of its decrements; merging takes the pointwise maximum, so
concurrent increments all count, exactly once, in any delivery order.

Metadata: the P and N vectors, one entry per leader: ``o``'s total of
increments and of decrements.  An op raises its origin's entry; the new
value is decided at commit (the origin's total so far plus the amount) and
kept in the write table, and each replication message carries that one
entry (a delta-state CRDT: Almeida et al., JPDC 2018), merged by max.

Tie-break: none (no conflict to break).

No lost writes (docs/model.md §5): an increment or decrement is *reflected* at a
leader when its origin's entry there covers it: its delta is counted
exactly once (max never counts twice).

Sources: Shapiro et al., "A comprehensive study of Convergent and
Commutative Replicated Data Types", INRIA RR-7506, 2011 (G-Counter §3.1.1,
PN-Counter §3.1.2); Riak counters; PGD ``crdt_gcounter`` /
``crdt_pncounter`` columns.
"""

from __future__ import annotations

from replcheck.model.resolvers.base import LOST_UPDATE, DataType, Loss, View, is_accepted, reached_at_live
from replcheck.model.state import DATA

G_SUMMARY = "G-counter CRDT: per-leader increment counts merged by max; value = initial + sum (incr only)"
PN_SUMMARY = "PN-counter CRDT: per-leader increment and decrement counts merged by max; every delta counts once"
SOURCE = "Shapiro et al. INRIA RR-7506 §3.1 (G-Counter, PN-Counter); Riak counters; PGD crdt_pncounter"


class SlotMaxCounter(DataType):
    """A counter whose content is a tuple of slots, each written by one
    leader and merged by max; op ``w`` raises slot ``idx[w]`` to the value
    decided at its commit (kept in the write table).  Subclasses set
    ``idx`` and ``_initial`` and define ``value(content)``."""

    family = "counter"
    holds_writes = False
    commutes = True
    uses_hb = False          # apply merges slots by max: no causal metadata
    losses_use_hb = False    # a delta is counted or not (losses below)
    unreflected = "its delta is not counted"   # the Loss detail

    def initial(self):
        return self._initial

    def leader_signature(self, l: int) -> tuple:
        """What this key's dynamics know of leader ``l`` (model/symmetry.py):
        its ops on the key, kind and amount in program order (a commit's
        value is its own earlier entries plus its amount)."""
        ops = self.ctx.ops
        return tuple((ops[i].kind, ops[i].amount) for i in self.ctx.key_ops if ops[i].origin == l)

    def _slot_ops(self):
        """``slot -> ops raising it`` (computed once)."""
        if getattr(self, "_by_slot", None) is None:
            by = {}
            for i in self.ctx.key_ops:
                by.setdefault(self.idx[i], []).append(i)
            self._by_slot = {j: tuple(ws) for j, ws in by.items()}
        return self._by_slot

    def own_slot(self, j: int, writes) -> int:
        """Slot ``j`` as its only writer (one leader) shows it: the largest
        value its accepted ops committed, else the initial value.  At the
        committing leader this equals its content's slot ``j`` — only that
        leader raises the slot, and it applies each of its commits at once,
        crashes keep state — so a commit can read the write table instead
        of the leader's content, which lets the dead-content reduction
        forget busy leaders' contents (docs/reductions.md "Counters")."""
        best = self._initial[j]
        for w in self._slot_ops().get(j, ()):
            meta = writes[w]
            if is_accepted(meta) and meta[DATA] > best:
                best = meta[DATA]
        return best

    def apply(self, content, w, writes, local):
        j = self.idx[w]
        v = writes[w][DATA]
        if content[j] >= v:
            return content
        return content[:j] + (v,) + content[j + 1:]

    def merge(self, a, b, writes):
        return tuple(x if x >= y else y for x, y in zip(a, b))

    def shown_never_rises(self) -> bool:
        """Slots only rise (apply and merge take the max, a crash keeps
        them), and the value counts a slot with +1 only if an ``incr`` raises
        it (a PN-counter's P entries, escrow's own-rights diagonal; escrow's
        transfer entries count 0, the N entries -1).  So with no ``incr`` on
        the key the shown value never rises (docs/reductions.md "Every-state
        invariants judged at quiescence")."""
        ops = self.ctx.ops
        return not any(ops[i].kind == "incr" for i in self.ctx.key_ops)

    def visible(self, content, writes):
        v = self.value(content)
        return View((v,), str(v))

    def outcome(self, before, after, w, writes):
        return "duplicate" if before == after else "merged"

    def losses(self, system, state, k, live, reached):
        """An op is reflected at a leader when its slot there has reached
        the value the op committed (max never counts it twice)."""
        idx = self.idx
        return [Loss(l, w, (), LOST_UPDATE, self.unreflected)
                for w, meta, l, held in reached_at_live(self.ctx.key_ops, state, k, live, reached)
                if held[idx[w]] < meta[DATA]]


class Counter(SlotMaxCounter):
    """A G- or PN-counter: per-leader increment and decrement totals."""

    def __init__(self, ctx):
        super().__init__(ctx)
        n = ctx.n
        self.n = n
        self.initial_value = ctx.keyspec.initial if ctx.keyspec is not None and ctx.keyspec.initial is not None else 0
        # content[o] = P[o] (o's increments), content[n + o] = N[o] (its decrements).
        # The entry an op raises is decided at commit (its origin's total so far
        # plus the amount) and kept in the write table, so ops that a local
        # check rejects, or that a home commits in any order, count correctly.
        idx = [0] * len(ctx.ops)
        for i in ctx.key_ops:
            op = ctx.ops[i]
            idx[i] = op.origin if op.kind == "incr" else n + op.origin
        self.idx = tuple(idx)
        self._initial = (0,) * (2 * n)

    def stamp(self, op, ts, past, content, writes):
        return (ts, past, self.own_slot(self.idx[op.index], writes) + op.amount)

    def stamp_reads_content(self, op) -> bool:
        return False     # the leader's own slot, from the write table (own_slot)

    def value(self, content) -> int:
        n = self.n
        return self.initial_value + sum(content[:n]) - sum(content[n:])


def build(ctx):
    return Counter(ctx)
