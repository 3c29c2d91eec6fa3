"""A ``users`` table keyed by a generated user id, with a UNIQUE email column
(a key type: the whole table is one key).

Meaning: each registration (``insert = "alice@example.com"``; the op id
names the user) adds a row under a fresh user id.  Rows with different ids
never conflict, so replication merges tables by union: every row any
leader accepted ends up everywhere, whatever the resolver.  The ``email``
column is declared ``UNIQUE``, but the constraint can only be checked
*locally*: a registration commits only if the committing leader shows no
user with that email, else it is rejected (not acknowledged, never
replicated).  Two leaders that have not yet seen each other's registration
both accept the same email, and once their rows meet every leader shows
two users with it — ``email-unique`` reports ``duplicate-email``.

The other layout — rows *keyed by* email — is an ordinary register key per
email (``users/alice@example.com``) written with ``insert = "<user>"``:
the resolver decides between two registrations of one email (see
:mod:`model.resolvers.local_checks`).

Metadata: the rows held (write indices; an insert's email is its value).
Tie-break: none (nothing to break: rows never conflict).

Sources: DDIA ch. 5 ("Multi-leader replication": a uniqueness constraint
checked at each leader cannot stop two leaders accepting the same
username) and ch. 9 (uniqueness needs consensus / a single leader);
Bailis et al., VLDB 2015 (unique ids from a generator are I-confluent;
uniqueness of a user-chosen value is not).
"""

from __future__ import annotations

from replcheck.model.resolvers.base import LOST_UPDATE, DataType, Loss, View, reached_at_live, rejected_entry

SUMMARY = ("users table keyed by a generated id with a UNIQUE email column checked locally: a registration"
           " commits only if its leader shows no user with that email; rows merge by union")
SOURCE = "DDIA ch. 5 (uniqueness under multi-leader replication); Bailis et al., VLDB 2015"


class UsersTable(DataType):
    """Rows keyed by generated ids; UNIQUE(email) checked at the committing leader."""

    family = "table"
    holds_writes = False
    commutes = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.email = ctx.static_vid      # per op: the email's value id
        self.names = tuple(op.id for op in ctx.ops)

    def initial(self):
        return ()

    def unique_conflict(self, op, content, writes) -> bool:
        """Does the committing leader already show a user with ``op``'s email?"""
        e = self.email[op.index]
        return any(self.email[r] == e for r in content)

    def reject_reason(self, i: int) -> str:
        return f"its leader already shows a user with email {self.ctx.values[self.email[i]]} (local UNIQUE check)"

    def stamp(self, op, ts, past, content, writes):
        if self.unique_conflict(op, content, writes):
            return rejected_entry(ts)
        return (ts, past)

    def apply(self, content, w, writes, local):
        if w in content:
            return content
        return tuple(sorted(content + (w,)))

    def merge(self, a, b, writes):
        return tuple(sorted(set(a) | set(b)))

    def visible(self, content, writes):
        if not content:
            return View((), "(no users)")
        text = ", ".join(f"{self.names[r]} <{self.ctx.values[self.email[r]]}>" for r in content)
        return View(tuple(content), "{" + text + "}")

    def duplicates(self, content) -> tuple[int, ...]:
        """The rows of the first email held by two or more users (``()``: none)."""
        seen: dict[int, list[int]] = {}
        for r in content:
            seen.setdefault(self.email[r], []).append(r)
        for rows in seen.values():
            if len(rows) > 1:
                return tuple(rows)
        return ()

    def outcome(self, before, after, w, writes):
        return "duplicate" if before == after else "applied"

    def losses(self, system, state, k, live, reached):
        """A registration is reflected at a leader when its row is there."""
        return [Loss(l, w, (), LOST_UPDATE, "its row is missing")
                for w, _, l, held in reached_at_live(self.ctx.key_ops, state, k, live, reached)
                if w not in held]


def build(ctx):
    return UsersTable(ctx)
