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

The rule need not be a total order: keep-local, apply-remote, origin-based
detection and mixed delete rules can make leaders diverge, and the checker
shows it.
"""

from __future__ import annotations

from replcheck.model.resolvers.base import RMW, DataType

DELETE_RULES = {
    "as-write": "a delete is a tombstone write that competes like any other write",
    "delete-wins": "a delete beats a conflicting (concurrent) update",
    "update-wins": "an update beats a conflicting (concurrent) delete",
}


def origin_of(ctx, w: int, writes) -> int:
    """The leader that committed write ``w``: its static home, unless a
    failover moved the home, in which case the commit recorded the actual
    leader as the fourth field of its write-table entry (model/system.py)."""
    meta = writes[w]
    return meta[3] if len(meta) > 3 else ctx.origin[w]


class Register(DataType):
    """A single-value register; see the module docstring for the policy."""

    def __init__(self, ctx, *, rank=None, lower=False, detect="always", resolve="rank", delete_rule="as-write",
                 equal_applies=False, local_replaces=False):
        super().__init__(ctx)
        self.local_replaces = local_replaces   # a local commit always replaces (home-leader)
        self.rank = rank            # per op: a comparable tuple given the write table, or None
        self.lower = lower
        self.detect = detect
        self.resolve = resolve
        self.delete_rule = delete_rule
        self.equal_applies = equal_applies
        self.stores_base = detect == "version"

    def stamp(self, op, ts, past, content, writes):
        entry = self.ctx.stamp_register(op, ts, past, content, writes)
        if self.stores_base:
            data = entry[2] if len(entry) > 2 else (self.ctx.static_vid[op.index],)
            return (ts, past, (data[0], content[0] + 1 if content else 0))
        return entry

    def stamp_reads_content(self, op) -> bool:
        return op.kind in RMW or self.stores_base

    def _wins(self, w, cur, writes) -> bool:
        """Does incoming ``w`` beat held ``cur`` in a conflict?"""
        ctx = self.ctx
        dr = self.delete_rule
        if dr != "as-write":
            dw, dc = ctx.is_delete[w], ctx.is_delete[cur]
            if dw != dc and (self.detect != "always" or not ((writes[w][1] >> cur) & 1 or (writes[cur][1] >> w) & 1)):
                return dw if dr == "delete-wins" else dc
        how = self.resolve
        if how == "keep":
            return False
        if how == "apply":
            return True
        if how == "originator":
            return ctx.leader_rank[w] > ctx.leader_rank[cur]
        rw, rc = self.rank(w, writes), self.rank(cur, writes)
        if rw == rc:
            # A declared order-independent register needs a total order: an
            # exact tie goes to the op listed later in the spec.
            return w > cur if self.commutes else self.equal_applies
        return (rw < rc) if self.lower else (rw > rc)

    def apply(self, content, w, writes, local):
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
                if len(meta) > 2 and meta[2] is not None and meta[2][1] == cur + 1:
                    return (w,)
        return (w,) if self._wins(w, cur, writes) else content



# ------------------------------------------------------------------ ranks
def ts_rank(ctx):
    """``(timestamp, tie-break)`` under the spec's clock and tie_break."""
    tie = ctx.tie

    def rank(w, writes):
        return writes[w][0] + tie[w]

    return rank


def value_rank(ctx, tombstone_high=False):
    """The value itself (numbers compare numerically when every value of
    the key is a number, else UTF-8 bytes); a tombstone never wins (it
    ranks below every value for ``max``, above for ``min``); equal values
    are broken by leader name."""
    lr = ctx.leader_rank
    tomb = (2,) if tombstone_high else (0,)

    def rank(w, writes):
        if ctx.is_delete[w]:
            return tomb
        return (1, ctx.sort_value(ctx.value_of(w, writes)), lr[w])

    return rank
