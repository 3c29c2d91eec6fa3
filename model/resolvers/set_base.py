"""What the set types share: element interning, the reader's view, and
what counts as a lost set operation (docs/model.md §5).

An ``add = "x"`` is reflected at a leader when ``x`` is present there, a
``remove = "x"`` when ``x`` is absent there — unless a later operation on
the same element that causally follows it (ghost happens-before)
superseded it.  Otherwise it is lost: ``resurrected-delete`` when a union
merge brought a removed element back, ``causally-later-write-lost`` when an
operation that happens-before it won (a 2P-set refusing a re-add), else
``lost-update`` (a concurrent operation on the element won: OR-set's
add-wins shows here as a lost removal, by design).
"""

from __future__ import annotations

from replcheck.model import state as st
from replcheck.model.resolvers.base import CAUSALLY_LATER, LOST_UPDATE, RESURRECTED, DataType, Loss, View, is_rejected
from replcheck.model.state import HB


class SetType(DataType):
    family = "set"
    holds_writes = False
    commutes = True
    resurrects = False   # union: a lost removal is a resurrected delete

    def __init__(self, ctx):
        super().__init__(ctx)
        ks = ctx.keyspec
        init = tuple(ks.initial) if ks is not None and ks.initial is not None else ()
        elems = list(init)
        for i in ctx.key_ops:
            v = ctx.ops[i].value
            if v not in elems:
                elems.append(v)
        self.elems = tuple(elems)
        self.init_elems = tuple(range(len(init)))
        eidx = [0] * len(ctx.ops)
        for i in ctx.key_ops:
            eidx[i] = elems.index(ctx.ops[i].value)
        self.eidx = tuple(eidx)
        self.is_add = tuple(op.kind == "add" for op in ctx.ops)

    # -- the reader's view
    def present(self, content, writes) -> int:
        """Bitmask over ``self.elems`` of the elements a reader sees."""
        raise NotImplementedError  # pragma: no cover

    def visible(self, content, writes):
        mask = self.present(content, writes)
        names = tuple(sorted(self.elems[j] for j in range(len(self.elems)) if (mask >> j) & 1))
        return View(names, "{" + ", ".join(names) + "}")

    def outcome(self, before, after, w, writes):
        return "duplicate" if before == after else "merged"

    def blame(self, content, j, writes) -> tuple[int, ...]:
        """Writes held that keep element ``j`` present (union: siblings)."""
        return ()

    # -- no-lost-writes
    def losses(self, system, state, k, live, reached):
        writes = st.writes(state)
        ops = [w for w in self.ctx.key_ops if writes[w] is not None and not is_rejected(writes[w])]
        out = []
        for w in ops:
            if not (reached >> w) & 1:
                continue
            j = self.eidx[w]
            same = [v for v in ops if v != w and self.eidx[v] == j]
            if any((writes[v][HB] >> w) & 1 for v in same):
                continue   # superseded by a causally later op on the element
            want = self.is_add[w]
            rivals = [v for v in same if self.is_add[v] != want
                      and not any((writes[u][HB] >> v) & 1 for u in same)]
            for l in live:
                content = st.content(state, l, k)
                if bool((self.present(content, writes) >> j) & 1) == want:
                    continue
                culprits = tuple(rivals) or self.blame(content, j, writes)
                if not want and self.resurrects:
                    anomaly = RESURRECTED
                elif any((writes[w][HB] >> c) & 1 for c in culprits):
                    anomaly = CAUSALLY_LATER
                else:
                    anomaly = LOST_UPDATE
                out.append(Loss(l, w, culprits, anomaly, self.elems[j]))
        return out
