"""Last writer wins (LWW).

Meaning: of two writes to a key, the one with the larger timestamp is kept
and the other is discarded everywhere, whatever their causal relation.  The
timestamp comes from the system clock (``wall``, ``lamport`` or ``hlc``, see
:mod:`model.clocks`).  Local commits go through the same comparison: a write
stamped behind what its own leader already holds is discarded on the spot,
as Cassandra ignores a cell write older than the stored one.

Metadata: the write's timestamp; the tie-break below.

Tie-break on equal timestamps (``system.tie_break``):

``leader`` (default)
    the write from the leader whose name sorts last wins (PGD: higher node
    id wins; SQL Server peer-to-peer: highest originator id wins);
``value``
    the larger value (UTF-8 bytes) wins, a delete counting as the empty
    value (Cassandra's last resort, CASSANDRA-14592);
``incoming-loses``
    the write already held is kept (CockroachDB logical replication).  Not a
    total order: leaders that receive tied writes in different orders can
    diverge, and the checker shows it.

With ``leader`` or ``value``, two writes can still tie exactly (equal
values under ``value``; one leader's writes stamped the same wall time):
then the op listed later in the spec wins, so the order is total.

Deletes (``system.delete_rule``, default ``as-write``): a delete is a
tombstone stamped like any write; ``delete-wins`` / ``update-wins`` make a
tombstone beat / lose to a *concurrent* update whatever the timestamps
(SQL Server's ``lastwriter`` policy is lww + delete-wins).  A delete with
``if_version = "observed"`` removes only the version it read
(:mod:`model.resolvers.observed_delete`).

Sources: Thomas, "A Majority Consensus Approach to Concurrency Control",
TODS 1979 (Thomas write rule); DDIA ch. 5 "Converging toward a consistent
state"; docs/model.md §4.
"""

from __future__ import annotations

from replcheck.model.resolvers.base import RMW, DataType
from replcheck.model.resolvers.register import Register, ts_rank
from replcheck.model.state import TS

SUMMARY = "last writer wins: keep the write with the larger timestamp (wall/lamport/hlc), tie-break by leader name"
SOURCE = "Thomas, TODS 1979; DDIA ch. 5; Cassandra/DynamoDB/PGD cell or row LWW"

TIE_BREAKS = {
    "leader": "the write from the leader whose name sorts last wins",
    "value": "the larger value (UTF-8 bytes) wins; a delete counts as empty",
    "incoming-loses": "the write already held is kept (not a total order: may diverge)",
}


class LWW(DataType):
    """LWW over precomputed per-op tie-break ranks.

    ``commutes``: with a total tie-break, applying remote writes in any order
    keeps the same maximum, so deliveries to one leader commute (used by the
    partial-order reduction); ``incoming-loses`` is not a total order.
    """

    __slots__ = ("_tie", "commutes")
    uses_hb = False   # compares timestamps only: ghost happens-before is dead for it
    reads_local = False
    fails_over = True   # writes from an old and a new home are compared like any two writes

    def __init__(self, tie: tuple, ctx=None):
        super().__init__(ctx)
        # _tie[w] is appended to the timestamp; () for incoming-loses.  An
        # exact tie (equal timestamp and tie-break value: equal values under
        # 'value', or one leader's writes at the same wall time) goes to the
        # op listed later, so the order is total and deliveries commute.
        self.commutes = all(t != () for t in tie)
        self._tie = tuple(t + (i,) for i, t in enumerate(tie)) if self.commutes else tie

    def stamp(self, op, ts, past, content, writes):
        return self.ctx.stamp_register(op, ts, past, content, writes)

    def stamp_reads_content(self, op) -> bool:
        return op.kind in RMW

    def key(self, w: int, writes) -> tuple:
        return writes[w][TS] + self._tie[w]

    def apply(self, content: tuple, w: int, writes, local: bool) -> tuple:
        if not content:
            return (w,)
        cur = content[0]
        if cur == w:
            return content
        kw = writes[w][TS] + self._tie[w]
        kc = writes[cur][TS] + self._tie[cur]
        if kw > kc:
            return (w,)
        return content


class MovedLWW(LWW):
    """LWW on a key whose home can fail over, under the ``leader``
    tie-break: the tie-break names the leader that actually committed the
    write (the old or the new home), read from the write table
    (:meth:`model.resolvers.compile.KeyContext.tie_at`), then op order as
    :class:`LWW`'s exact ties."""

    __slots__ = ()

    def key(self, w: int, writes) -> tuple:
        return writes[w][TS] + self.ctx.tie_at(w, writes) + (w,)

    def apply(self, content: tuple, w: int, writes, local: bool) -> tuple:
        if not content:
            return (w,)
        cur = content[0]
        if cur == w:
            return content
        return (w,) if self.key(w, writes) > self.key(cur, writes) else content


def build(ctx):
    """LWW for one key: the fast path when deletes compete as writes,
    else a :class:`Register` with the delete rule; with observed deletes
    (``if_version = "observed"``, which the loader allows only with
    ``as-write``) :mod:`model.resolvers.observed_delete`."""
    if ctx.delete_rule == "as-write":
        from replcheck.model.resolvers import observed_delete
        if any(observed_delete.observes(ctx)[i] for i in ctx.key_ops):
            return observed_delete.build(ctx.tie, ctx)
        if ctx.moves and ctx.spec.tie_break == "leader":
            return MovedLWW(ctx.tie, ctx)
        return LWW(ctx.tie, ctx)
    return Register(ctx, rank=ts_rank(ctx), delete_rule=ctx.delete_rule)
