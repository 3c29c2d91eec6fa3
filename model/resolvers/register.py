"""A single-value register under a stated conflict policy.

Every winner-takes-all resolver of the catalogue (``lww`` with a delete
rule, ``first-writer-wins``, ``keep-local``, ``apply-remote``, ``max``,
``min``, ``home-leader`` and the product presets) is one :class:`Register`
with four choices:

detect
    when an incoming write is a *conflict* at all.  ``always``: every pair
    of writes is compared (LWW and friends; local commits too, so a write
    stamped behind what its leader holds is discarded at once, as Cassandra
    ignores an older cell).  ``origin``: only when the held version came
    from a different leader than the incoming one (pglogical, PGD "origin
    conflict detection"; causality is not tracked, so a causally later
    write from another leader is a conflict too).  ``version``: only when
    the held version is not the one the incoming write was based on
    (GoldenGate's before-image comparison, SQL Server peer-to-peer's row
    version).  Outside ``always`` a local commit simply replaces what its
    leader holds.
resolve
    who wins a conflict: ``rank`` (the larger rank; ``lower`` flips it),
    ``keep`` (the held, local version), ``apply`` (the incoming, remote
    version) or ``originator`` (the write from the leader with the higher
    originator id — the name sorting last).
delete rule
    ``as-write`` (a tombstone competes like any write), ``delete-wins`` (a
    tombstone beats a conflicting update) or ``update-wins``.  Under
    ``always`` detection, "conflicting" means concurrent by ghost
    happens-before (standing in for the product's version metadata).
equal ranks
    ``apply`` (pglogical: "for now we just always apply remote change") or
    ``keep`` (GoldenGate USEMAX: the incoming row is ignored).
rows
    SQL row semantics (docs/model.md §8), for products that replicate SQL
    statements row by row (pglogical): a write is an INSERT when its leader
    showed no row at commit, else an UPDATE (recorded in its write-table
    entry); a DELETE of a missing row changes nothing and is not
    replicated (refused, like a local check).  Arriving at a leader, a
    DELETE removes the row if there is one (no conflict check); an UPDATE
    of a missing row is skipped; an INSERT of a missing row is applied; an
    INSERT meeting a row is a conflict resolved by ``resolve``; an UPDATE
    meeting a row is a conflict only when the row came from another origin.
    Observed on PostgreSQL 15 + pglogical 2.4.2 (docs/conformance.md).

The rule need not be a total order: keep-local, apply-remote, origin-based
detection and mixed delete rules can make leaders diverge, and the checker
shows it.
"""

from __future__ import annotations

from replcheck.model.resolvers.base import RMW, DataType, rejected_entry
from replcheck.model.state import TS, HB, DATA, ORIGIN

DELETE_RULES = {
    "as-write": "a delete is a tombstone write that competes like any other write",
    "delete-wins": "a delete beats a conflicting (concurrent) update",
    "update-wins": "an update beats a conflicting (concurrent) delete",
}


# data[1] of a row write (``rows``): what SQL statement its commit was.
ROW_INSERT, ROW_UPDATE = 0, 1


def origin_of(ctx, w: int, writes) -> int:
    """The leader that committed write ``w``: its static home, unless a
    failover moved the home, in which case the commit recorded the actual
    leader as the fourth field of its write-table entry (model/system.py)."""
    meta = writes[w]
    return meta[ORIGIN] if len(meta) > ORIGIN else ctx.origin[w]


class Register(DataType):
    """A single-value register; see the module docstring for the policy."""

    fails_over = True   # writes from two homes are compared by the policy (docs/model.md "Failover")

    def __init__(self, ctx, *, rank=None, lower=False, detect="always", resolve="rank", delete_rule="as-write",
                 equal_applies=False, local_replaces=False, rows=False):
        super().__init__(ctx)
        self.local_replaces = local_replaces   # a local commit always replaces (home-leader)
        self.rank = rank            # per op: a comparable tuple given the write table, or None
        self.lower = lower
        self.detect = detect
        self.resolve = resolve
        self.delete_rule = delete_rule
        self.equal_applies = equal_applies
        self.stores_base = detect == "version"
        self.rows = rows

    def _shows_row(self, content) -> bool:
        return bool(content) and not self.ctx.is_delete[content[0]]

    def stamp(self, op, ts, past, content, writes):
        if self.rows:
            present = self._shows_row(content)
            if self.ctx.is_delete[op.index]:
                # An SQL DELETE of a missing row: 0 rows, nothing to replicate.
                return (ts, past) if present else rejected_entry(ts)
            entry = self.ctx.stamp_register(op, ts, past, content, writes)
            vid = entry[DATA][0] if len(entry) > DATA else self.ctx.static_vid[op.index]
            return (ts, past, (vid, ROW_UPDATE if present else ROW_INSERT))
        entry = self.ctx.stamp_register(op, ts, past, content, writes)
        if self.stores_base:
            data = entry[DATA] if len(entry) > DATA else (self.ctx.static_vid[op.index],)
            return (ts, past, (data[0], content[0] + 1 if content else 0))
        return entry

    def stamp_reads_content(self, op) -> bool:
        return op.kind in RMW or self.stores_base or self.rows

    def reject_reason(self, i: int) -> str | None:
        """Why op ``i`` can be refused (``rows``: a DELETE of a missing row)."""
        if self.rows and self.ctx.is_delete[i]:
            return "no row there: an SQL DELETE matches 0 rows, so nothing is replicated"
        return None

    def _apply_row(self, content, w, writes):
        """A remote write under SQL row semantics (see the module docstring)."""
        ctx = self.ctx
        present = self._shows_row(content)
        if ctx.is_delete[w]:
            return (w,) if present else content
        if writes[w][DATA][1] == ROW_UPDATE:
            if not present:
                return content          # UPDATE of a missing row: skipped
            if origin_of(ctx, content[0], writes) == origin_of(ctx, w, writes):
                return (w,)
        elif not present:
            return (w,)                 # INSERT of a missing row
        return (w,) if self._resolve(w, content[0], writes) else content

    def _wins(self, w, cur, writes) -> bool:
        """Does incoming ``w`` beat held ``cur`` in a conflict?"""
        ctx = self.ctx
        dr = self.delete_rule
        if dr != "as-write":
            dw, dc = ctx.is_delete[w], ctx.is_delete[cur]
            if dw != dc and (self.detect != "always" or not ((writes[w][HB] >> cur) & 1 or (writes[cur][HB] >> w) & 1)):
                return dw if dr == "delete-wins" else dc
        return self._resolve(w, cur, writes)

    def _resolve(self, w, cur, writes) -> bool:
        """Does incoming ``w`` beat held ``cur`` by ``resolve`` alone?"""
        ctx = self.ctx
        how = self.resolve
        if how == "keep":
            return False
        if how == "apply":
            return True
        if how == "originator":
            return ctx.committer_rank(w, writes) > ctx.committer_rank(cur, writes)
        rw, rc = self.rank(w, writes), self.rank(cur, writes)
        if rw == rc:
            # A declared order-independent register needs a total order: an
            # exact tie goes to the op listed later in the spec.
            return w > cur if self.commutes else self.equal_applies
        return (rw < rc) if self.lower else (rw > rc)

    def apply(self, content, w, writes, local):
        if self.rows:
            if local:
                return (w,)
            return content if content and content[0] == w else self._apply_row(content, w, writes)
        if not content:
            return (w,)
        cur = content[0]
        if cur == w:
            return content
        if local and self.local_replaces:
            return (w,)
        detect = self.detect
        if detect != "always":
            if local:
                return (w,)
            if detect == "origin":
                if origin_of(self.ctx, cur, writes) == origin_of(self.ctx, w, writes):
                    return (w,)
            else:
                meta = writes[w]
                if len(meta) > DATA and meta[DATA] is not None and meta[DATA][1] == cur + 1:
                    return (w,)
        return (w,) if self._wins(w, cur, writes) else content



# ------------------------------------------------------------------ ranks
def ts_rank(ctx):
    """``(timestamp, tie-break)`` under the spec's clock and tie_break (a
    leader tie-break names the leader that committed the write, which a
    failover may have moved: :meth:`KeyContext.tie_at`)."""
    if ctx.moves:
        tie_at = ctx.tie_at

        def moved_rank(w, writes):
            return writes[w][TS] + tie_at(w, writes)

        return moved_rank
    tie = ctx.tie

    def rank(w, writes):
        return writes[w][TS] + tie[w]

    return rank


def value_rank(ctx, tombstone_high=False):
    """The value itself (numbers compare numerically when every value of
    the key is a number, else UTF-8 bytes); a tombstone never wins (it
    ranks below every value for ``max``, above for ``min``); equal values
    are broken by leader name."""
    lr = ctx.leader_rank
    tomb = (2,) if tombstone_high else (0,)
    moves = ctx.moves

    def rank(w, writes):
        if ctx.is_delete[w]:
            return tomb
        return (1, ctx.sort_value(ctx.value_of(w, writes)), ctx.committer_rank(w, writes) if moves else lr[w])

    return rank
