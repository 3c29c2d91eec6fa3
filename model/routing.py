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
home of its own: ``[keys."stock"] home = "us-east"``.

The hook is :meth:`Routing.home` ``(key, state)``: today it ignores the
state; a ``failover`` fault that moves a home to the next leader in a
stated order reads it from ``state`` (the fault component) there, and
nothing else in the model needs to change except that a write's commit
leader is then dynamic (``Op.origin`` is the static home, used by origin
loop prevention and by origin-based conflict detection).

Sources: DDIA ch. 5 "Conflict avoidance" (route all writes for a record to
the same leader; conflicts only after the home changes); docs/model.md §4.
"""

from __future__ import annotations

from replcheck.model import state as st


class Routing:
    """Which leader commits a key's writes."""

    def __init__(self, spec, keys, routed):
        leaders = spec.leaders
        self.routed = tuple(routed)
        rules = sorted(getattr(spec, "homes", ()), key=lambda r: -len(r[0]))
        own = {ks.name: ks.home for ks in getattr(spec, "keys", ()) if getattr(ks, "home", None)}
        homes = []
        for key in keys:
            home = next((leaders.index(l) for p, l in rules if key.startswith(p)), 0)
            homes.append(leaders.index(own[key]) if key in own else home)
        self.homes = tuple(homes)

    def static_home(self, key: int, issued_at: int) -> int:
        """The leader that commits a write to ``key`` issued at ``issued_at``
        when no fault has moved anything."""
        return self.homes[key] if self.routed[key] else issued_at

    def home(self, key: int, state) -> int | None:
        """The home leader of ``key`` in ``state``; ``None`` when the key is
        not routed (its writes commit where they are issued).

        Failover hook: a fault that moves homes keeps them in the state's
        fault component; read them here.
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
