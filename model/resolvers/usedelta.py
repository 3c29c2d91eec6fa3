"""GoldenGate ``USEDELTA``: apply the difference, not the value (preset).

Meaning: a write carries its before and after images; the target adds
``after - before`` to what it holds, so two concurrent ``stock = stock - 1``
updates both count.  ``set = "v"`` writes the difference between ``v`` and
the value its leader showed at commit; ``incr``/``decr`` write ``+n`` /
``-n``.  Local commits apply their own delta.  Deltas are not idempotent:
a change delivered twice (a duplicating link, or flooding over two paths)
is counted twice — the checker reports ``double-counted``.

Metadata: the delta (decided at commit, kept in the write table); the
model keeps the multiset of deltas applied (a ghost, to judge
"counted exactly once").

Tie-break: none.  Deletes: not supported (a delta of a number).

Source: docs.oracle.com GoldenGate, "Configuring Conflict Detection and
Resolution" (``RESOLVECONFLICT ... USEDELTA``); docs/resolvers.md.
"""

from __future__ import annotations

from replcheck.model.resolvers.base import DOUBLE_COUNTED, LOST_UPDATE, DataType, Loss, View, reached_at_live
from replcheck.model.state import DATA

SUMMARY = "GoldenGate USEDELTA: add the incoming change's after-minus-before to the held value (numbers)"
SOURCE = "Oracle GoldenGate CDR, RESOLVECONFLICT USEDELTA"


class UseDelta(DataType):
    holds_writes = False
    commutes = True
    fails_over = True    # a delta committed at either home is added wherever it arrives

    def __init__(self, ctx):
        super().__init__(ctx)
        self.initial_value = ctx.number(ctx.initial_vid)

    def value(self, content, writes) -> int:
        return self.initial_value + sum(writes[w][DATA][0] for w in content)

    def stamp(self, op, ts, past, content, writes):
        if op.kind == "incr":
            d = op.amount
        elif op.kind == "decr":
            d = -op.amount
        else:
            d = int(float(op.value)) - self.value(content, writes)
        return (ts, past, (d,))

    def apply(self, content, w, writes, local):
        return tuple(sorted(content + (w,)))

    def visible(self, content, writes):
        v = self.value(content, writes)
        return View((v,), str(v))

    def outcome(self, before, after, w, writes):
        return "merged" if w not in before else "double-counted"

    def losses(self, system, state, k, live, reached):
        out = []
        for w, _, l, held in reached_at_live(self.ctx.key_ops, state, k, live, reached):
            c = held.count(w)
            if c == 0:
                out.append(Loss(l, w, (), LOST_UPDATE, "its delta is not counted"))
            elif c > 1:
                out.append(Loss(l, w, (), DOUBLE_COUNTED, f"its delta is counted {c} times"))
        return out


def build(ctx):
    return UseDelta(ctx)
