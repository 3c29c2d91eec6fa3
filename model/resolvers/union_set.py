"""Union set merge without tombstones (the Dynamo shopping cart) — a key
type.

Meaning: the key holds whole-cart values with version vectors, as an
MV-register does.  ``add``/``remove`` read the cart their leader shows
(the union of the siblings it holds), change it, and write the new cart as
a version superseding those siblings.  Concurrent carts are kept as
siblings and read as their union.  Nothing records a removal, so when a
cart without "eggs" meets a concurrent cart that still has them, the union
brings "eggs" back: a removal can be undone (``resurrected-delete``).

Metadata: per write, its cart (a bitmask of elements, decided at commit and
kept in the write table) and its version vector (ghost happens-before).

Tie-break: none (siblings are merged by union).

Source: DeCandia et al., "Dynamo: Amazon's Highly Available Key-value
Store", SOSP 2007, §4.4 ("deleted items can resurface"); docs/model.md §4-5.
"""

from __future__ import annotations

from replcheck.model.resolvers.mv_register import MVRegister
from replcheck.model.resolvers.set_base import SetType
from replcheck.model.state import DATA

SUMMARY = "union merge (Dynamo cart): concurrent whole-cart versions are merged by union; a removal can come back"
SOURCE = "DeCandia et al., Dynamo, SOSP 2007 §4.4"


class UnionSet(SetType):
    holds_writes = True      # content: the sibling carts' write indices
    resurrects = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self._mv = MVRegister(ctx)
        m = 0
        for j in self.init_elems:
            m |= 1 << j
        self.init_mask = m

    def cart(self, content, writes) -> int:
        if not content:
            return self.init_mask
        m = 0
        for s in content:
            m |= writes[s][DATA]
        return m

    def stamp(self, op, ts, past, content, writes):
        cart = self.cart(content, writes)
        bit = 1 << self.eidx[op.index]
        cart = cart | bit if op.kind == "add" else cart & ~bit
        return (ts, past, cart)

    def apply(self, content, w, writes, local):
        return self._mv.apply(content, w, writes, local)

    def merge(self, a, b, writes):
        return self._mv.merge(a, b, writes)

    def present(self, content, writes):
        return self.cart(content, writes)

    def outcome(self, before, after, w, writes):
        return None   # sibling / superseded, as for a register

    def blame(self, content, j, writes):
        return tuple(s for s in content if (writes[s][DATA] >> j) & 1)


def build(ctx):
    return UnionSet(ctx)
