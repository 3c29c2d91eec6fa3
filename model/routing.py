"""Conflict avoidance: home-leader routing.

Each key routed by the ``home-leader`` resolver has a *home*: the leader
that commits every write to it.  A client operation issued at any leader
is forwarded to the home and committed there (stamped by the home's clock,
applied to the home's state, replicated from the home); the client's
session — program order, ``after`` waits — stays at the leader it was
issued at.  The forward is modelled as part of the commit step (a request
in flight is not a state of its own): without faults all writes to a key
are then serialised at one leader, and nothing conflicts.

Homes come from ``system.homes``, a table of key prefix -> leader
(``"user:alice" = "eu-west"`` homes every key of user alice); the longest
matching prefix wins; a key that matches no prefix is homed at the first
leader listed in ``system.leaders``.  A key of any type (a counter, a
``users`` table, a register under any resolver) is routed by giving it a
home of its own: ``[keys."stock"] home = "us-east"``.  A prefix that
matches nothing is a spec error (:func:`model.resolvers.config.parse_config`).

Per-row homes: a table key (a ``users`` table is one key, its rows never
conflict) may home each *row* instead of the whole table,
``[keys."users"] home_by = "user" | "email" | "key"`` — the bases of the
drills' ``home_by`` (checks/drill.py).  Each row is named by a *row key*
(:func:`row_key`): ``users/<op id>`` by user (the op id names the user
who registers), ``users/<email>`` by email (the name the by-email layout
gives the row, model/variants.py), ``users`` by key; the row key is looked
up in ``system.homes`` like a key, and the op that writes the row commits
at that home.  The table stays one key: a ``UNIQUE`` column is still
checked against every row the committing leader shows, whichever home
each row has.

The hook is :meth:`Routing.home` ``(key, state)``: today it ignores the
state; a ``failover`` fault that moves a home to the next leader in a
stated order reads it from ``state`` (the fault component) there, and
nothing else in the model needs to change except that a write's commit
leader is then dynamic (``Op.origin`` is the static home, used by origin
loop prevention and by origin-based conflict detection).

Sources: DDIA ch. 5 "Conflict avoidance" (route all writes for a record to
the same leader — "a user's home datacenter" — conflicts only after the
home changes); DDIA ch. 9 "Constraints and uniqueness guarantees" and
ch. 12 "Uniqueness constraints require consensus" (one node decides each
value); docs/model.md §4 and "Per-row homes".
"""

from __future__ import annotations

from replcheck.model import state as st


# How a table's rows are named for their homes (the drills' home_by bases).
ROW_BASES = {
    "user": "each row by its user: <table>/<op id> (the op id names the user who registers)",
    "email": "each row by its email: <table>/<email> (the row key of the by-email layout)",
    "key": "the whole table by its name, as one key",
}


def row_key(table: str, basis: str, op_id: str, value) -> str:
    """The name a row of ``table`` is homed by under ``basis``
    (:data:`ROW_BASES`): ``users/alice`` by user, ``users/a@x`` by email,
    ``users`` by key.  Pure; the loader and the compiler share it."""
    if basis == "user":
        return f"{table}/{op_id}"
    if basis == "email":
        return f"{table}/{value}"
    return table


def longest_home(rules, name: str) -> str | None:
    """The leader of the longest prefix in ``rules`` (``(prefix, leader)``
    pairs) that ``name`` starts with; ``None`` when none does."""
    best = None
    for prefix, leader in rules:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, leader)
    return best[1] if best else None


class Routing:
    """Which leader commits a key's writes (or, per-row homes, a row's)."""

    def __init__(self, spec, keys, routed, rows=()):
        """``rows``: per op index, the row key of an op on a table with
        per-row homes (``home_by``), else ``None`` (default: none)."""
        leaders = spec.leaders
        self.routed = tuple(routed)
        rules = tuple(getattr(spec, "homes", ()))
        own = {ks.name: ks.home for ks in getattr(spec, "keys", ()) if getattr(ks, "home", None)}
        homes = []
        for key in keys:
            home = longest_home(rules, key)
            homes.append(leaders.index(own[key]) if key in own else leaders.index(home) if home else 0)
        self.homes = tuple(homes)
        # Per op: the home of the row it writes (None: the key's home applies).
        self.row_homes = tuple(None if r is None else leaders.index(longest_home(rules, r) or leaders[0])
                               for r in rows)

    def static_home(self, key: int, issued_at: int, op: int | None = None) -> int:
        """The leader that commits a write to ``key`` issued at ``issued_at``
        (op ``op``: its row's home when the table homes rows) when no fault
        has moved anything."""
        if op is not None and op < len(self.row_homes) and self.row_homes[op] is not None:
            return self.row_homes[op]
        return self.homes[key] if self.routed[key] else issued_at

    def home(self, key: int, state) -> int | None:
        """The home leader of ``key`` in ``state``; ``None`` when the key is
        not routed (its writes commit where they are issued).

        Failover hook: a fault that moves homes keeps them in the state's
        fault component; read them here.  Per-row homes do not fail over
        (the loader refuses ``faults.failovers`` with ``home_by``).
        """
        if not self.routed[key]:
            return None
        moved = st.homes(state)
        return moved[key] if moved else self.homes[key]


def forward_open(issuer: int, home: int, crashed: int, cut: int, pair: int | None) -> bool:
    """Whether a write issued at ``issuer`` can commit at ``home`` now.

    Routing to a home is a synchronous forward from the client's leader to
    the home (docs/faults.md "Routed writes"): it needs the home up and,
    when the two are different leaders, the link pair between them not cut
    (``pair``: its index, ``None`` when the topology has no link between
    them — partitions cut only the topology's link pairs, so a direct
    request between two leaders without one is never cut).  While the
    forward cannot reach the home the write waits (not committed, not
    acknowledged): the design is unavailable for that client.  ``crashed``
    and ``cut`` are the fault bitmasks of :mod:`model.faults`.
    """
    if (crashed >> home) & 1:
        return False
    if issuer == home or pair is None:
        return True
    return not (cut >> pair) & 1
