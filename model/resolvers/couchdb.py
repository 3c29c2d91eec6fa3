"""CouchDB / PouchDB: a deterministic winner among kept conflicts (preset).

Meaning: each document keeps a revision tree; concurrent edits leave
several *leaf* revisions (an MV-register's siblings: a write replaces the
leaves it was based on).  Every node picks the same winner without
talking to the others: a non-deleted leaf beats a deleted one, then the
longest revision history (the ``N`` of ``N-hash``) wins, then the highest
revision id (ASCII order).  The losers stay in ``_conflicts``: nothing is
lost, but a default read shows only the winner.

Metadata: revision history length (here: 1 + the longest chain of writes to
the key in the write's ghost causal past) and revision id.  CouchDB's
revision id digests the body with its parent; the model stands in the MD5
of the value's UTF-8 bytes (a deleted leaf: of the empty string), then the
leader name for identical bodies — arbitrary, but the same on every node,
as in CouchDB.

Delete rule: update wins (a non-deleted leaf beats a deleted one), fixed.

Reader's view: ``"winner" (+n conflicts)``; leaders converge when they
agree on the winner and on the conflicts.

Sources: docs.couchdb.org, "Replication and conflict model" (2.3.x and
later); PouchDB ``pouchdb-merge`` ``winningRev``; docs/resolvers.md.
"""

from __future__ import annotations

import hashlib

from replcheck.model.resolvers.base import View
from replcheck.model.resolvers.mv_register import MVRegister
from replcheck.model.state import HB

SUMMARY = ("CouchDB: siblings as conflicting leaf revisions; every node shows the same winner (non-deleted leaf,"
           " longest history, highest rev id); losers kept in _conflicts")
SOURCE = "docs.couchdb.org replication/conflicts; PouchDB pouchdb-merge winningRev"


class CouchDB(MVRegister):
    __slots__ = ()
    commutes = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self._hash = tuple(hashlib.md5((op.value or "").encode()).hexdigest() for op in ctx.ops)

    def generation(self, w, writes, memo) -> int:
        g = memo.get(w)
        if g is None:
            hb = writes[w][HB]
            g = 1 + max((self.generation(v, writes, memo) for v in self.ctx.key_ops if (hb >> v) & 1), default=0)
            memo[w] = g
        return g

    def winner(self, content, writes):
        memo: dict = {}
        ctx = self.ctx
        return max(content, key=lambda w: (not ctx.is_delete[w], self.generation(w, writes, memo), self._hash[w],
                                           ctx.committer_rank(w, writes)))

    def unique_conflict(self, op, content, writes) -> bool:
        """Does an INSERT of ``op`` find a live document at its leader?

        CouchDB answers a create (``PUT`` without ``_rev``) with ``409
        Conflict`` only when the document exists and its winning leaf is not
        deleted; a create over no document, or over a deleted winner, is
        accepted (docs.couchdb.org, "Document API: PUT /{db}/{docid}";
        docs/drills/README.md "Local checks").  An empty :class:`View` is
        *no* row: before this method the generic check read the (always
        truthy) View object as "row exists" and rejected every insert."""
        if not content:
            return self.ctx.initial_vid is not None   # the key's initial row exists before any write
        return not self.ctx.is_delete[self.winner(content, writes)]

    def visible(self, content, writes):
        if not content:
            if self.ctx.initial_vid is not None:   # the initial row, as a register shows it
                return View((self.ctx.initial_vid, ()), f'"{self.ctx.values[self.ctx.initial_vid]}"')
            return View((), "-")
        ctx = self.ctx
        win = self.winner(content, writes)
        others = tuple(sorted(ctx.value_of(w, writes) for w in content if w != win))
        wv = ctx.value_of(win, writes)
        if ctx.is_delete[win]:
            text = "-"
        else:
            text = f'"{ctx.values[wv]}"'
        if others:
            shown = ", ".join("(deleted)" if v == 0 else f'"{ctx.values[v]}"' for v in others)
            text += f" (+{len(others)} conflict{'s' if len(others) > 1 else ''}: {shown})"
        return View((wv, others), text)


def build(ctx):
    return CouchDB(ctx)
