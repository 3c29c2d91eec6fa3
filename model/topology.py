"""Replication topologies: who sends a write to whom.

A topology is a directed graph over the leaders (built with networkx) plus a
forwarding rule, as in docs/model.md §1 and DDIA ch. 5 ("Multi-leader
replication topologies"):

``all-to-all``
    A link each way between every pair; a leader sends its *own* writes to
    every peer and never forwards a received write.
``ring``
    ``L1 -> L2 -> ... -> Ln -> L1`` in the order the spec lists the leaders;
    a received write is forwarded to the successor (MySQL circular
    replication).
``star``
    A hub plus spokes, links both ways.  Spokes send their writes to the hub;
    the hub sends its own writes to every spoke and forwards a spoke's write
    to every *other* spoke.
``custom``
    Any directed graph (an edge list).  A received write is flooded to every
    out-neighbour except the one it came from.

Loop prevention (``origin`` / ``visited`` / ``none``) is applied on top of the
forwarding rule by :mod:`model.system`; it only matters where writes are
forwarded (ring, custom, and in principle star).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

TOPOLOGIES = {
    "all-to-all": "a link each way between every pair; each leader sends only its own writes (no forwarding)",
    "ring": "L1 -> L2 -> ... -> Ln -> L1 in listed order; received writes are forwarded to the successor",
    "star": "hub plus spokes, links both ways; the hub forwards each spoke's write to every other spoke",
    "custom": "any directed graph from system.edges; received writes are flooded to every out-neighbour but the sender",
}

LOOP_PREVENTION = {
    "origin": "a leader drops a write it originated itself (MySQL server_id)",
    "visited": "each write carries the leaders it passed through and is never sent to one of them (DDIA ch. 5)",
    "none": "forward everything: replication may never terminate",
}


@dataclass(frozen=True)
class Topology:
    """A replication graph over leader indices ``0..n-1``.

    Attributes
    ----------
    kind : str
        One of :data:`TOPOLOGIES`.
    n : int
        Number of leaders.
    edges : tuple[tuple[int, int], ...]
        Directed links ``(src, dst)``, in a fixed order; a link's position in
        this tuple is its index in the state's ``links`` component.
    hub : int | None
        The star's hub, else ``None``.
    """

    kind: str
    n: int
    edges: tuple[tuple[int, int], ...]
    hub: int | None = None

    def graph(self) -> nx.DiGraph:
        """The links as a networkx ``DiGraph`` on leader indices."""
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(self.edges)
        return g

    def out_neighbours(self, node: int) -> tuple[int, ...]:
        return tuple(d for s, d in self.edges if s == node)

    def origin_targets(self, node: int) -> tuple[int, ...]:
        """Where ``node`` sends a write it has just committed itself."""
        if self.kind == "star" and node != self.hub:
            return (self.hub,)
        return self.out_neighbours(node)

    def forward_targets(self, node: int, sender: int) -> tuple[int, ...]:
        """Where ``node`` forwards a write it received from ``sender``
        (before loop prevention)."""
        if self.kind == "all-to-all":
            return ()
        if self.kind == "star":
            if node != self.hub:
                return ()
            return tuple(d for d in self.out_neighbours(node) if d != sender)
        if self.kind == "ring":
            return self.out_neighbours(node)
        return tuple(d for d in self.out_neighbours(node) if d != sender)


def all_to_all(n: int) -> Topology:
    """Every ordered pair of distinct leaders is a link.

    >>> all_to_all(3).edges
    ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))
    """
    g = nx.complete_graph(n, create_using=nx.DiGraph)
    return Topology("all-to-all", n, tuple(sorted(g.edges)))


def ring(n: int) -> Topology:
    """``0 -> 1 -> ... -> n-1 -> 0``.

    >>> ring(3).edges
    ((0, 1), (1, 2), (2, 0))
    """
    g = nx.cycle_graph(n, create_using=nx.DiGraph)
    return Topology("ring", n, tuple(sorted(g.edges)))


def star(n: int, hub: int) -> Topology:
    """Links hub <-> every spoke.

    >>> star(3, 0).edges
    ((0, 1), (0, 2), (1, 0), (2, 0))
    """
    g = nx.star_graph([hub] + [i for i in range(n) if i != hub]).to_directed()
    return Topology("star", n, tuple(sorted(g.edges)), hub)


def custom(n: int, edges) -> Topology:
    """Any directed graph; ``edges`` are ``(src, dst)`` index pairs."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    return Topology("custom", n, tuple(sorted(g.edges)))
