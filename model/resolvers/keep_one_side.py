"""Keep one side: ``keep-local`` and ``apply-remote``.

Meaning: on a conflict, ``keep-local`` keeps the row the receiving leader
holds and discards the incoming change; ``apply-remote`` overwrites it with
the incoming change.  A conflict is detected the way pglogical and BDR do:
the held version came from a different leader (origin) than the incoming
one; a change from the same origin as the held version is simply applied,
and so is any change to an absent key.  No causality is tracked, so even a
causally later write from another leader is a conflict.  Neither rule is
symmetric: two leaders that each hold their own write keep (or take) the
other's, and the system diverges — the checker shows it.

Metadata: the origin (committing leader) of the held version.

Tie-break: none (no comparison at all).

Deletes: ``as-write`` by default (the delete is the local or the remote
side); configurable with ``system.delete_rule``.

Sources: pglogical ``pglogical.conflict_resolution`` = ``keep_local`` /
``apply_remote`` (github.com/2ndQuadrant/pglogical, pglogical_conflict.c:
same origin -> apply); GoldenGate ``IGNORE`` / ``OVERWRITE``; docs/model.md §4.
"""

from __future__ import annotations

from replcheck.model.resolvers.register import Register

KEEP_LOCAL = "keep local: on a conflict (held row from another origin) keep what the receiving leader holds"
APPLY_REMOTE = "apply remote: on a conflict the incoming change overwrites what the receiving leader holds"
SOURCE = "pglogical conflict_resolution keep_local/apply_remote (pglogical_conflict.c)"


def build_keep_local(ctx):
    return Register(ctx, detect="origin", resolve="keep", delete_rule=ctx.delete_rule)


def build_apply_remote(ctx):
    return Register(ctx, detect="origin", resolve="apply", delete_rule=ctx.delete_rule)
