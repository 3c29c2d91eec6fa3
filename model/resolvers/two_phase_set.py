"""2P-set (two-phase set) — a key type.

Meaning: a grow-only set of added elements and a grow-only set of removed
elements (tombstones); an element is present when added and never removed.
A removal is final: adding the element again has no effect, and the
checker reports that add as lost.

Metadata: two element bitmasks, merged by union.  A remove records its
tombstone whether or not its leader has seen the add (no precondition).

Tie-break: none (remove wins for ever).

Source: Shapiro et al., INRIA RR-7506 §3.3.2 (2P-Set); docs/model.md §4.
"""

from __future__ import annotations

from replcheck.model.resolvers.set_base import SetType

SUMMARY = "2P-set CRDT: added and removed (tombstone) sets; a removed element can never come back"
SOURCE = "Shapiro et al. INRIA RR-7506 §3.3.2 (2P-Set)"


class TwoPhaseSet(SetType):
    def initial(self):
        m = 0
        for j in self.init_elems:
            m |= 1 << j
        return (m, 0)

    def apply(self, content, w, writes, local):
        bit = 1 << self.eidx[w]
        a, r = content
        if self.is_add[w]:
            return content if a & bit else (a | bit, r)
        return content if r & bit else (a, r | bit)

    def merge(self, a, b, writes):
        return (a[0] | b[0], a[1] | b[1])

    def present(self, content, writes):
        return content[0] & ~content[1]


def build(ctx):
    return TwoPhaseSet(ctx)
