"""Observed deletes on an LWW register: a delete that removes only the
version it read (``delete = true`` with ``if_version = "observed"``).

Meaning: a plain delete under ``lww`` is a tombstone stamped with the
deleting leader's clock, so it beats every write with a smaller timestamp —
including a concurrent update the deleter never saw, which is then lost.
An *observed* delete instead carries the version its leader shows when it
commits (the write held there: its timestamp and tie-break), and is applied
only where that version is still the one stored: a version the delete did
not observe — a concurrent update that beat it — survives.  This is the
observed-remove rule of add-wins CRDTs (OR-set, Bieniusa et al. 2012;
Kleppmann & Beresford's JSON CRDT, where a delete clears only the
assignments it has seen) applied to one LWW register, with the version
compared by timestamp as in an LWW-element-set's remove (Shapiro et al.,
INRIA RR-7506 §3.3.3: a remove with timestamp t removes the adds stamped
before t): the delete's timestamp is the observed version's, not its
leader's clock.

Rule (per leader; every apply, local or remote, is the same max): rank a
write by ``(timestamp, tie-break)`` as lww does, and an observed delete of
version ``v`` *just above* ``v`` — above ``v`` and below every write that
beats ``v``.  The leader keeps the highest-ranked write it has applied.  So
where ``v`` is stored the delete replaces it (a tombstone); where a write
ranked above ``v`` is stored the delete changes nothing; and where ``v`` has
not arrived yet (it came from another leader by another link) the delete is
kept as the tombstone of ``v`` and ``v``, when it arrives, stays removed.
The order is total (two deletes of one version tie-break by op order, as
lww's exact ties), so leaders converge whatever the delivery order, like
lww.  Under ``tie_break = "incoming-loses"`` a version is its timestamp
alone, so an observed delete also removes another write stamped the same
time — what a delete carrying only a timestamp does.

At its own leader the delete must read a version: where the leader shows no
value (never written, or deleted) it is refused by its ``observed`` local
check (model/resolvers/local_checks.py; as an SQL UPDATE that matches 0
rows): done, not acknowledged, not replicated.  A key's ``initial`` value
is a version ranked below every write.

Metadata: the write-table entry of an observed delete is ``(ts, hb,
(0, v + 1))``: value id 0 (a tombstone) and the observed write ``v`` (0:
the initial value), decided at commit.

Judged (docs/model.md §5): the versions the delete removed are superseded
(they are in its causal past); the delete itself is a write like any
other, so when a concurrent update survives it, ``no-lost-writes`` reports
the delete as a ``lost-update`` — add-wins by design, as for an OR-set
remove that a concurrent add undoes (docs/resolvers.md "What reflected
means").  The symbolic engine and the Promela export refuse these keys
(the type is not lww's, and the op carries a local check).

Sources: Bieniusa et al., "An optimized conflict-free replicated set",
arXiv 1210.3368 (observed-remove, add-wins); Kleppmann & Beresford, "A
Conflict-Free Replicated JSON Datatype", IEEE TPDS 28(10) 2017 (a deletion
affects only the operations it has seen; a concurrent assignment survives);
Shapiro et al., INRIA RR-7506 (2011) §3.3.3 (LWW-element-set: removes by
timestamp); docs/model.md "Observed deletes".
"""

from __future__ import annotations

from replcheck.model.resolvers.base import RMW, DataType
from replcheck.model.state import TS, DATA

DELETED_VID = 0        # value id of a tombstone (model/system.py DELETED)


def observes(ctx) -> tuple[bool, ...]:
    """Per op of the system: is it an observed delete (``if_version``)?"""
    work = ctx.spec.workload
    return tuple(i < len(work) and getattr(work[i], "if_version", None) == "observed" for i in range(len(ctx.ops)))


class ObservedLWW(DataType):
    """LWW whose observed deletes rank just above the version they read
    (see the module docstring).  Remote applies are a max over a total
    order (with a total tie-break), so they commute, as lww's.

    Deliberately not a subclass of :class:`model.resolvers.lww.LWW`: the
    engines that encode lww in closed form (the symbolic engine) must not
    take this type for plain lww, and refuse it instead."""

    uses_hb = False      # compares (timestamp, tie-break) only, as lww
    reads_local = False
    fails_over = True    # as lww (a leader tie-break names the committing leader)

    def __init__(self, tie: tuple, ctx):
        super().__init__(ctx)
        # As lww (model/resolvers/lww.py): an exact tie goes to the op listed later.
        self.commutes = all(t != () for t in tie)
        self._tie = tuple(t + (i,) for i, t in enumerate(tie)) if self.commutes else tie
        self._observes = observes(ctx)
        self._moved_tie = ctx.moves and ctx.spec.tie_break == "leader"

    def stamp(self, op, ts, past, content, writes):
        if not self._observes[op.index]:
            return self.ctx.stamp_register(op, ts, past, content, writes)
        # The version read: the write held here (0: the key's initial value).  The
        # op's "observed" local check (local_checks.Checked) refused it where no value shows.
        return (ts, past, (DELETED_VID, content[0] + 1 if content else 0))

    def stamp_reads_content(self, op) -> bool:
        return self._observes[op.index] or op.kind in RMW

    def key(self, w: int, writes) -> tuple:
        """``(1, timestamp, tie-break)`` for a write; the observed version's
        key followed by ``(1, w)`` for an observed delete (just above it);
        ``(0,)`` is the initial value."""
        if self._observes[w]:
            v = writes[w][DATA][1] - 1
            return (self.key(v, writes) if v >= 0 else (0,)) + (1, w)
        if self._moved_tie:   # the leader that actually committed it (failover)
            return (1,) + writes[w][TS] + self.ctx.tie_at(w, writes) + (w,)
        return (1,) + writes[w][TS] + self._tie[w]

    def apply(self, content: tuple, w: int, writes, local: bool) -> tuple:
        if not content:
            return (w,)
        cur = content[0]
        if cur == w:
            return content
        if self.key(w, writes) > self.key(cur, writes):
            return (w,)
        return content


def build(tie, ctx) -> ObservedLWW:
    return ObservedLWW(tie, ctx)
