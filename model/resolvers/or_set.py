"""OR-set (observed-remove set, add-wins) — a key type.

Meaning: ``add = "x"`` tags the element with a unique tag (here: the add's
write index); ``remove = "x"`` removes the tags of ``x`` its leader has
*observed*.  An add concurrent with a remove carries a tag the remove did
not see, so the element stays: add wins.  Initial elements carry one tag
each, observed by everyone.

Metadata: per leader, the set of tags added and the set of tags removed
(two bitmasks; a state-based OR-set with tombstones), merged by union.
The tags a remove observed are the adds of ``x`` in its ghost causal past,
which is exactly what its leader had applied.

Tie-break: none (add wins by construction).

Sources: Shapiro et al., INRIA RR-7506 §3.3.5 (OR-Set); Bieniusa et al.,
"An optimized conflict-free replicated set", arXiv 1210.3368; Riak sets
(add-wins); Automerge (set beats concurrent delete).
"""

from __future__ import annotations

from replcheck.model.resolvers.set_base import SetType
from replcheck.model.state import HB

SUMMARY = "OR-set CRDT (add-wins): a remove deletes only the adds it observed; a concurrent add survives"
SOURCE = "Shapiro et al. INRIA RR-7506 §3.3.5 (OR-Set); Riak sets"


class ORSet(SetType):
    def __init__(self, ctx):
        super().__init__(ctx)
        nops = len(ctx.ops)
        self.init_tags = 0
        for j in self.init_elems:
            self.init_tags |= 1 << (nops + j)
        tags = [0] * len(self.elems)
        for j in self.init_elems:
            tags[j] |= 1 << (nops + j)
        for i in ctx.key_ops:
            if self.is_add[i]:
                tags[self.eidx[i]] |= 1 << i
        self.tags = tuple(tags)
        self.observed = tuple(tags[self.eidx[i]] if i in ctx.key_ops else 0 for i in range(nops))

    def initial(self):
        return (self.init_tags, 0)

    def apply(self, content, w, writes, local):
        added, removed = content
        if self.is_add[w]:
            bit = 1 << w
            if added & bit:
                return content
            return (added | bit, removed)
        gone = self.observed[w] & (writes[w][HB] | self.init_tags)
        if removed & gone == gone:
            return content
        return (added, removed | gone)

    def merge(self, a, b, writes):
        return (a[0] | b[0], a[1] | b[1])

    def present(self, content, writes):
        live = content[0] & ~content[1]
        mask = 0
        for j, t in enumerate(self.tags):
            if live & t:
                mask |= 1 << j
        return mask


def build(ctx):
    return ORSet(ctx)
