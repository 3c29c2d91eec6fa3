"""First writer wins.

Meaning: of two writes to a key, the one with the *smaller* timestamp is
kept everywhere, whatever their causal relation; local commits compare too,
so once a key holds a value every later-stamped write to it is discarded
(put-if-absent, ``INSERT ... ON CONFLICT DO NOTHING``).  A sequential
update is discarded as well, and the checker reports it as
``causally-later-write-lost``.  pglogical's ``first_update_wins`` only
compares on a conflict (another origin): see the
``pglogical-first-update-wins`` preset.

Metadata: the write's timestamp (``system.clock``).

Tie-break on equal timestamps: ``system.tie_break`` inverted consistently —
the smaller ``(timestamp, tie)`` pair wins, so with ``leader`` the leader
whose name sorts first wins.

Deletes: ``as-write`` by default (configurable with ``system.delete_rule``).

Sources: docs/model.md §4; pglogical ``first_update_wins``
(github.com/2ndQuadrant/pglogical, pglogical_conflict.c); MySQL group
replication's "first committer wins" certification is the coordinated
version of the same rule.
"""

from __future__ import annotations

from replcheck.model.resolvers.register import Register, ts_rank

SUMMARY = "first writer wins: keep the write with the smaller timestamp (put-if-absent); later writes are discarded"
SOURCE = "docs/model.md §4; pglogical first_update_wins (pglogical_conflict.c)"


def build(ctx):
    r = Register(ctx, rank=ts_rank(ctx), lower=True, delete_rule=ctx.delete_rule)
    r.commutes = ctx.delete_rule == "as-write" and ctx.spec.tie_break != "incoming-loses"
    return r
