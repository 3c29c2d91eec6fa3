"""LWW-element-set — a key type.

Meaning: every add and remove of an element is stamped; the element is
present when its latest add is later than its latest remove.  Concurrent
add and remove of one element: the later timestamp wins, the other is lost
(and with skewed wall clocks a causally later one can lose).

Metadata: the timestamps of adds and removes (the system clock, with the
spec's tie-break); a state-based set of add writes and of remove writes,
merged by union.  Initial elements count as added before anything.

Tie-break: ``system.tie_break`` on equal timestamps; an add and a remove
with exactly equal ``(timestamp, tie)`` keep the element (add bias).

Sources: Shapiro et al., INRIA RR-7506 §3.3.3 (LWW-element-Set); Riak
data types registers-by-timestamp; docs/model.md §4.
"""

from __future__ import annotations

from replcheck.model.resolvers.set_base import SetType
from replcheck.model.state import TS

SUMMARY = "LWW-element-set CRDT: an element is present when its latest add is later than its latest remove"
SOURCE = "Shapiro et al. INRIA RR-7506 §3.3.3 (LWW-element-Set)"


class LWWElementSet(SetType):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.tie = ctx.tie
        self.by_elem = tuple(tuple(i for i in ctx.key_ops if self.eidx[i] == j) for j in range(len(self.elems)))
        self.commutes = ctx.spec.tie_break != "incoming-loses"

    def initial(self):
        return (0, 0)

    def apply(self, content, w, writes, local):
        bit = 1 << w
        a, r = content
        if self.is_add[w]:
            return content if a & bit else (a | bit, r)
        return content if r & bit else (a, r | bit)

    def merge(self, a, b, writes):
        return (a[0] | b[0], a[1] | b[1])

    def present(self, content, writes):
        """Bitmask of the elements whose latest add is not behind their
        latest remove (RR-7506 §3.3.3), reading only the stamps of the adds
        and removes ``content`` holds: an op not yet committed has no stamp
        (``writes[w] is None``) and is in neither set, so it is never read —
        a trace's intermediate states show what has committed so far."""
        a, r = content
        mask = 0
        init = set(self.init_elems)
        for j, ops in enumerate(self.by_elem):
            best_add = () if j in init else None
            best_rem = None
            for w in ops:
                added, removed = (a >> w) & 1, (r >> w) & 1
                if not (added or removed):
                    continue   # not held here (perhaps not committed anywhere yet): no stamp to read
                rank = writes[w][TS] + self.tie[w]
                if added and (best_add is None or rank > best_add):
                    best_add = rank
                if removed and (best_rem is None or rank > best_rem):
                    best_rem = rank
            if best_add is not None and (best_rem is None or best_add >= best_rem):
                mask |= 1 << j
        return mask


def build(ctx):
    return LWWElementSet(ctx)
