"""Where each write travels: the static message routes of a system.

With ``origin`` or ``visited`` loop prevention (and on a star or
all-to-all, with ``none``) what a leader does with a replication message
depends only on the write and the link it came in on, never on the rest of
the state (:meth:`model.system.System._deliver`).  So the set of messages a
write will ever cause is fixed by the spec: a tree rooted at its commit,
one node per (write, link) hop.  The symbolic engine (:mod:`checks.smt.bmc`)
schedules these hops instead of unrolling queue contents step by step.

This module mirrors the forwarding rule of :mod:`model.system` through the
attributes a :class:`~model.system.System` exposes (``origin_links``,
``forward_links``, ``loop_mode``, ``max_hops``); the cross-check tests catch
any drift.  It never imports z3.
"""

from __future__ import annotations

from dataclasses import dataclass

from replcheck.model.errors import SpecError


@dataclass(frozen=True)
class Hop:
    """One replication message: write ``write`` crossing link ``link``.

    ``parent`` is the hop whose delivery forwarded it, or ``None`` when the
    commit sent it.  ``drop`` is true when the receiver discards it because
    it originated the write (``origin`` loop prevention): the delivery is
    still an event, but it changes nothing.
    """

    write: int
    link: int
    src: int
    dst: int
    parent: int | None
    drop: bool


def routes(system) -> tuple[Hop, ...]:
    """Every hop of every write, writes in op order, each tree in BFS order.

    Raises :class:`~model.errors.SpecError` when a write would cross a link
    twice (a replication loop, or flooding that revisits a link): such
    systems are outside what the symbolic engine covers.
    """
    hops: list[Hop] = []
    edges = system.edges
    for op in system.ops:
        w, origin = op.index, op.leader
        if system.loop_mode == "visited":
            aux0 = 1 << origin
        elif system.forwards:
            aux0 = 1
        else:
            aux0 = 0
        queue = [(j, aux0, None) for j in system.origin_links[origin]]
        used: set[int] = set()
        while queue:
            j, aux, parent = queue.pop(0)
            if j in used:
                raise SpecError(system.spec.source, "system.topology",
                                f"write {op.id} would cross link {system.action_name(system.nops + j)[8:]} twice;"
                                " the smt engine covers loop-free routes only (use --engine bfs)")
            used.add(j)
            src, dst = edges[j]
            drop = system.loop_mode == "origin" and dst == origin
            idx = len(hops)
            hops.append(Hop(w, j, src, dst, parent, drop))
            if drop:
                continue
            targets = system.forward_links[(dst, src)]
            if system.loop_mode == "visited":
                vis = aux | 1 << dst
                queue.extend((t, vis, idx) for t in targets if not (vis >> edges[t][1]) & 1)
            elif targets:
                if aux + 1 > system.max_hops:
                    raise SpecError(system.spec.source, "system.loop_prevention",
                                    f"write {op.id} circles the topology ({system.loop_mode} loop prevention);"
                                    " the smt engine covers terminating replication only (use --engine bfs)")
                queue.extend((t, aux + 1, idx) for t in targets)
    return tuple(hops)


def arrivals(system, hops) -> list[dict[int, int | None]]:
    """Per write, per leader: the hop index that applies it there
    (``None`` at its own leader, where the commit applies it)."""
    out: list[dict[int, int | None]] = []
    for op in system.ops:
        out.append({op.leader: None})
    for h, hop in enumerate(hops):
        if hop.drop:
            continue
        if hop.dst in out[hop.write]:
            raise SpecError(system.spec.source, "system.topology",
                            f"write {system.ops[hop.write].id} reaches {system.leaders[hop.dst]} twice;"
                            " the smt engine covers routes that apply each write once per leader (use --engine bfs)")
        out[hop.write][hop.dst] = h
    for op in system.ops:
        missing = [system.leaders[l] for l in range(system.n) if l not in out[op.index]]
        if missing:
            raise SpecError(system.spec.source, "system.topology",
                            f"write {op.id} never reaches {', '.join(missing)}; the smt engine covers topologies"
                            " where every write reaches every leader (use --engine bfs)")
    return out
