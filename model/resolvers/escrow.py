"""Escrow / bounded counter (a key type): a counter that never goes below 0
without coordination.

Meaning: the initial value is handed out as *rights* to the leaders
(``[keys."stock"] rights = { us-east = 2, eu-west = 1 }``; default: split
evenly, the remainder to the leaders listed first).  ``incr = n`` adds n
rights to its leader; ``decr = n`` (a sale) commits only when the leader's
local rights cover n, else it is **rejected** — not acknowledged, not
replicated, shown as ``rejected`` in the trace; ``transfer = { to = "b",
n = 1 }`` moves rights to another leader under the same check.  Since each
leader only spends rights it owns, the sum of all decrements never exceeds
the initial value plus all increments: the value stays ``>= 0`` at every
leader at every moment, with no coordination beyond the transfers.

Metadata (Balegas et al.): a rights matrix ``P[(from, to)]`` (diagonal
entries are increments, initial rights included) and per-leader decrements
``D[r]``, merged by pointwise max.  Leader r's rights are
``P[(r, r)] + sum_s P[(s, r)] - sum_s P[(r, s)] - D[r]`` (s != r); the
value is ``sum_r P[(r, r)] - sum_r D[r]``.  Only r writes row r of P and
D[r], so each replication message carries the one entry its op raised
(its new value is decided at commit and kept in the write table).

Tie-break: none (no conflict to break).

No lost writes: an accepted op is reflected when its entry has reached its
value at the leader.  Rejected ops were never acknowledged, so they cannot
be lost.

Source: Balegas et al., "Extending Eventually Consistent Cloud Databases
for Enforcing Numeric Invariants", SRDS 2015 (bounded counter); O'Neil,
"The Escrow Transactional Method", TODS 1986; docs/resolvers.md.
"""

from __future__ import annotations

from replcheck.model.resolvers.base import rejected_entry
from replcheck.model.resolvers.counters import SlotMaxCounter

SUMMARY = ("escrow / bounded counter: per-leader rights; a decrement commits only if local rights cover it,"
           " else it is rejected; transfers move rights; never below 0")
SOURCE = "Balegas et al., SRDS 2015 (bounded counter); O'Neil, TODS 1986 (escrow)"


def default_rights(total: int, n: int) -> tuple[int, ...]:
    base, extra = divmod(total, n)
    return tuple(base + (1 if i < extra else 0) for i in range(n))


class Escrow(SlotMaxCounter):
    """A bounded counter: a rights matrix and per-leader decrements."""

    unreflected = "its effect is not counted"

    def __init__(self, ctx):
        super().__init__(ctx)
        n = ctx.n
        self.n = n
        ks = ctx.keyspec
        total = ks.initial if ks is not None and ks.initial is not None else 0
        if ks is not None and ks.rights:
            given = dict(ks.rights)
            rights = tuple(given.get(name, 0) for name in ctx.leaders)
        else:
            rights = default_rights(total, n)
        self.rights0 = rights
        p = [0] * (n * n + n)
        for r in range(n):
            p[r * n + r] = rights[r]
        self._initial = tuple(p)
        idx = [0] * len(ctx.ops)
        for i in ctx.key_ops:
            op = ctx.ops[i]
            o = op.origin
            if op.kind == "incr":
                idx[i] = o * n + o
            elif op.kind == "decr":
                idx[i] = n * n + o
            else:
                idx[i] = o * n + op.target
        self.idx = tuple(idx)

    def rights(self, content, r: int) -> int:
        """Leader ``r``'s local rights in ``content``."""
        n = self.n
        total = content[r * n + r] - content[n * n + r]
        for s in range(n):
            if s != r:
                total += content[s * n + r] - content[r * n + s]
        return total

    def value(self, content) -> int:
        n = self.n
        return sum(content[r * n + r] for r in range(n)) - sum(content[n * n:])

    def leader_signature(self, l: int) -> tuple:
        """Its ops on the key and its initial rights (model/symmetry.py)."""
        return super().leader_signature(l) + (self.rights0[l],)

    @property
    def _transfers(self) -> bool:
        return any(self.ctx.ops[i].kind == "transfer" for i in self.ctx.key_ops)

    def own_rights(self, r: int, writes) -> int:
        """Leader ``r``'s rights when no op of the key transfers rights: its
        own increments (initial rights included) minus its own decrements,
        both from the write table (``own_slot``), equal to
        :meth:`rights` of its content at commit."""
        n = self.n
        return self.own_slot(r * n + r, writes) - self.own_slot(n * n + r, writes)

    def implies_stock_check(self) -> bool:
        """Whether a sale's local stock check (``sell``: the stock its leader
        shows >= amount) can never refuse a sale this type accepts: when no
        op of the key transfers rights or restocks.  Then every leader
        ``r``'s diagonal entry stays its initial rights and the decrements
        of ``r`` a leader ``l`` has seen are at most all of ``r``'s, which
        its own rights check kept <= those rights; so the stock ``l`` shows,
        the sum over ``r`` of (rights - decrements seen), is at least ``l``'s
        own term, its current rights, which cover the sale whenever the
        escrow accepts it (in any delivery order, on any link)."""
        ops = self.ctx.ops
        return not any(ops[i].kind in ("incr", "transfer") for i in self.ctx.key_ops)

    def stamp_reads_content(self, op) -> bool:
        # Without transfers a leader's rights are its own entries (own_rights);
        # a transfer received from another leader is only in its content.
        return self._transfers

    def stamp(self, op, ts, past, content, writes):
        j = self.idx[op.index]
        if self._transfers:
            if op.kind != "incr" and self.rights(content, op.origin) < op.amount:
                return rejected_entry(ts)
            return (ts, past, content[j] + op.amount)
        if op.kind != "incr" and self.own_rights(op.origin, writes) < op.amount:
            return rejected_entry(ts)
        return (ts, past, self.own_slot(j, writes) + op.amount)


def build(ctx):
    return Escrow(ctx)
