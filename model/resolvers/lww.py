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

Sources: Thomas, "A Majority Consensus Approach to Concurrency Control",
TODS 1979 (Thomas write rule); DDIA ch. 5 "Converging toward a consistent
state"; MODEL.md §4.
"""

from __future__ import annotations

SUMMARY = "last writer wins: keep the write with the larger timestamp (wall/lamport/hlc), tie-break by leader name"
SOURCE = "Thomas, TODS 1979; DDIA ch. 5; Cassandra/DynamoDB/PGD cell or row LWW"

TIE_BREAKS = {
    "leader": "the write from the leader whose name sorts last wins",
    "value": "the larger value (UTF-8 bytes) wins; a delete counts as empty",
    "incoming-loses": "the write already held is kept (not a total order: may diverge)",
}


class LWW:
    """LWW over precomputed per-op tie-break ranks."""

    __slots__ = ("_tie",)

    def __init__(self, tie: tuple):
        # _tie[w] is appended to the timestamp; () for incoming-loses.
        self._tie = tie

    def key(self, w: int, writes) -> tuple:
        return writes[w][0] + self._tie[w]

    def apply(self, content: tuple, w: int, writes, local: bool) -> tuple:
        if not content:
            return (w,)
        cur = content[0]
        if cur == w:
            return content
        kw = writes[w][0] + self._tie[w]
        kc = writes[cur][0] + self._tie[cur]
        if kw > kc:
            return (w,)
        return content


def build(ops, config) -> LWW:
    """Build LWW for the ops of a compiled system.

    ``ops`` items carry ``leader_name`` and ``value``; ``config.tie_break`` picks
    the rule.
    """
    if config.tie_break == "leader":
        names = sorted({op.leader_name for op in ops})
        tie = tuple((names.index(op.leader_name),) for op in ops)
    elif config.tie_break == "value":
        tie = tuple(((op.value or "").encode(),) for op in ops)
    else:
        tie = tuple(() for _ in ops)
    return LWW(tie)
