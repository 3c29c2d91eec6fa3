"""Product presets: each a documented composition of the catalogue's
building blocks with the product's real tie-break and delete rule.

Every preset fixes its clock (wall-clock commit or write timestamps; a
spec may still give per-leader ``offsets``) and its tie-break; setting
``system.clock`` or ``system.tie_break`` against it is an error, so a
verdict labelled "cassandra" is about Cassandra's rule.  Where the
product's documentation leaves a detail open, the choice is stated here
and in docs/resolvers.md.  "Leader id" means the rank of the leader's name
in sorted order (the name sorting last is the highest id), as the ``leader``
tie-break.
"""

from __future__ import annotations

from replcheck.model.resolvers.register import Register, ts_rank, value_rank
from replcheck.model.state import TS


def _leader_tie(ctx):
    """``(timestamp, leader id)``; the leader that committed the write (a
    failover may have moved it from the static home)."""
    if ctx.moves:
        cr = ctx.committer_rank

        def moved_rank(w, writes):
            return writes[w][TS] + (cr(w, writes),)

        return moved_rank
    lr = ctx.leader_rank

    def rank(w, writes):
        return writes[w][TS] + (lr[w],)

    return rank


def cassandra(ctx):
    """Cassandra / ScyllaDB: per-cell LWW by write timestamp (wall clock,
    microseconds in the product).  Equal timestamps: a tombstone beats a
    live cell, then the larger value (bytes) wins (CASSANDRA-14592).
    Deletes are tombstones stamped like writes (``as-write`` with that
    tie-break).  Source: CASSANDRA-14592; Scylla "timestamp conflict
    resolution"."""
    dele = ctx.is_delete
    vals = tuple(((op.value or "").encode()) for op in ctx.ops)

    def rank(w, writes):
        return writes[w][TS] + (dele[w], vals[w])

    r = Register(ctx, rank=rank)
    r.commutes = True
    return r


def riak_lww(ctx):
    """Riak KV with ``allow_mult=false`` (and ``last_write_wins``): the
    object with the latest timestamp wins.  Equal timestamps: not
    documented; choice: the leader id breaks the tie.  Deletes are writes
    (tombstones) under the same rule.  Source: docs.riak.com "Conflict
    Resolution"."""
    r = Register(ctx, rank=_leader_tie(ctx))
    r.commutes = True
    return r


def dynamodb(ctx):
    """DynamoDB global tables (version 2019.11.21): item-level LWW on a
    hidden per-item timestamp.  Equal timestamps: not documented; choice:
    the leader (region) id.  A delete is a write under the same rule.
    Source: AWS DynamoDB developer guide, "Global tables: how it works"."""
    r = Register(ctx, rank=_leader_tie(ctx))
    r.commutes = True
    return r


def cosmosdb_lww(ctx):
    """Cosmos DB multi-region writes, LWW policy on ``_ts``: the highest
    ``_ts`` wins.  ``_ts`` is in *seconds*, so writes within the same
    second tie (modelled: wall timestamp // 1000); the tie is resolved by
    "the system" — choice: the leader (region) id.  A delete beats a
    conflicting (concurrent) insert/replace whatever the timestamps.
    Source: Microsoft Learn, "Conflict resolution types and resolution
    policies" (Azure Cosmos DB)."""
    lr = ctx.leader_rank
    if ctx.moves:
        cr = ctx.committer_rank

        def moved_rank(w, writes):
            return (writes[w][TS][0] // 1000, cr(w, writes))

        return Register(ctx, rank=moved_rank, delete_rule="delete-wins")

    def rank(w, writes):
        return (writes[w][TS][0] // 1000, lr[w])

    return Register(ctx, rank=rank, delete_rule="delete-wins")


def pgd(ctx):
    """EDB Postgres Distributed (BDR): origin conflict detection (an
    incoming change conflicts when the row was last changed by another
    node), resolved by ``update_if_newer``: the later commit timestamp
    wins; equal timestamps: the higher node id wins.  Deletes: with origin
    detection an incoming delete is applied, and an incoming update to a
    recently deleted row is skipped (``update_recently_deleted`` -> skip),
    so a delete wins.  Source: enterprisedb.com/docs/pgd (conflicts,
    conflict resolution); EnterpriseDB/docs issue 5671."""
    return Register(ctx, rank=_leader_tie(ctx), detect="origin", delete_rule="delete-wins")


def pglogical(mode):
    """pglogical 2 ``pglogical.conflict_resolution``: a conflict exists
    when the local row was last written by another origin (same origin:
    apply).  ``apply_remote`` / ``keep_local`` take one side;
    ``last_update_wins`` / ``first_update_wins`` compare commit
    timestamps, and on *equal* timestamps always apply the remote change —
    not a total order, leaders can diverge.  Rows follow SQL (``rows``,
    model/resolvers/register.py; docs/model.md §8): an arriving DELETE
    removes the row; an UPDATE arriving for a missing (or deleted) row is
    skipped, so a delete wins over a concurrent update; an INSERT arriving
    where a row exists is a conflict resolved by the mode; a DELETE of a
    missing row is not replicated.  Source: github.com/2ndQuadrant/pglogical
    (pglogical_conflict.c, pglogical_apply_heap.c, README "Conflicts"),
    observed on PostgreSQL 15 + pglogical 2.4.2 (docs/conformance.md)."""
    def build(ctx):
        if mode == "apply_remote":
            return Register(ctx, detect="origin", resolve="apply", delete_rule="delete-wins", rows=True)
        if mode == "keep_local":
            return Register(ctx, detect="origin", resolve="keep", delete_rule="delete-wins", rows=True)
        rank = (lambda w, writes: writes[w][TS])
        return Register(ctx, rank=rank, lower=(mode == "first_update_wins"), detect="origin",
                        delete_rule="delete-wins", equal_applies=True, rows=True)
    build.__doc__ = pglogical.__doc__
    return build


def bucardo_latest(ctx):
    """Bucardo 5 ``bucardo_latest`` (default): of the databases that
    changed the row in a sync, the most recently changed one wins (the
    change's timestamp).  Equal timestamps: not documented; choice: the
    leader id.  A delete is a change like any other.  Source: bucardo.org
    "Bucardo conflict handling"."""
    r = Register(ctx, rank=_leader_tie(ctx))
    r.commutes = True
    return r


def sqlserver_p2p(ctx):
    """SQL Server peer-to-peer with conflict detection and
    ``continue_onconflict``: a conflict is a change whose row version
    (originator id + version) is not the one held; the change from the
    node with the highest originator id wins — no timestamps, and Microsoft
    states it does not guarantee convergence.  Deletes: as any change.
    (The ``lastwriter`` policy is lww + delete-wins.)  Originator id:
    choice — the leader id.  Source: Microsoft Learn, "Conflict detection
    in peer-to-peer replication"."""
    return Register(ctx, detect="version", resolve="originator")


def goldengate(mode):
    """Oracle GoldenGate conflict detection and resolution: an incoming row
    conflicts when its before-image differs from the target row
    (``COMPARECOLS``).  ``OVERWRITE`` applies it; ``IGNORE`` and
    ``DISCARD`` keep the target row (``DISCARD`` also logs the incoming row
    to a discard file: kept out of the database, so lost for the reader);
    ``USEMAX`` / ``USEMIN`` keep the larger / smaller value of the
    resolution column — here the value itself — and on equal values ignore
    the incoming row.  Delete conflicts under ``USEMAX``/``USEMIN``:
    choice — ``OVERWRITE`` (the incoming delete or update is applied), as
    in Oracle's example configuration.  Source: docs.oracle.com GoldenGate
    "Configuring Conflict Detection and Resolution"."""
    def build(ctx):
        if mode == "overwrite":
            return Register(ctx, detect="version", resolve="apply")
        if mode in ("ignore", "discard"):
            return Register(ctx, detect="version", resolve="keep")
        rank = value_rank(ctx, tombstone_high=(mode == "usemin"))
        vr = Register(ctx, rank=rank, lower=(mode == "usemin"), detect="version", delete_rule="as-write")
        base = vr._wins
        dele = ctx.is_delete

        def wins(w, cur, writes):
            if dele[w] or dele[cur]:
                return True          # delete conflicts: OVERWRITE
            if ctx.sort_value(ctx.value_of(w, writes)) == ctx.sort_value(ctx.value_of(cur, writes)):
                return False         # equal: the incoming row is ignored
            return base(w, cur, writes)

        vr._wins = wins
        return vr
    build.__doc__ = goldengate.__doc__
    return build


__all__ = ["cassandra", "riak_lww", "dynamodb", "cosmosdb_lww", "pgd", "pglogical", "bucardo_latest",
           "sqlserver_p2p", "goldengate", "ts_rank"]
