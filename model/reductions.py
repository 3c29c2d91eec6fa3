"""Which state-space reductions a transition system applies.

A :class:`Reductions` value is chosen once, by the planner
(:mod:`checks.planner`), from what is sound for the spec and the properties
checked, and given to :class:`model.system.System` at construction; a
system never changes its reductions afterwards (docs/architecture.md).
Each reduction's soundness argument is in docs/reductions.md:

``ghost``
    keep ghost happens-before (write ``hb``, leader causal past); dropped
    only when no resolver and no checked invariant reads it.
``stamps``
    keep write timestamps; dropped (every commit stamped ``(0,)``) only
    under a wall clock when no key type reads them
    (:meth:`model.system.System.stamps_needed`; docs/reductions.md "Dead
    timestamps").  A compile-time variant like the ghost.
``por``
    done-leader elimination (partial-order reduction); under crash-only
    faults a run first chooses the leaders that crash in it, and those are
    kept whole (docs/reductions.md, "Crash-only faults").
``dead_content``
    with ``por``: a busy leader is only its clock (and causal past when the
    ghost is kept); deliveries that cannot move it are dropped.
``symmetry``
    with ``por``: states are canonical representatives of orbits of
    interchangeable leaders (:mod:`model.symmetry`).
``absorb``
    with ``por`` and no faults: deliveries to a busy leader are taken at
    its next commit, as many from each in-link as that commit's choice
    says (:func:`model.por.absorbable`; docs/reductions.md "Absorbed
    deliveries").
``relay``
    where ``por`` is not sound (the topology forwards, the merge depends
    on order): a leader with one in-link holding a message takes its turn
    before anything else happens (:mod:`model.relay`; docs/reductions.md
    "Relay turns").  Never with ``por``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reductions:
    ghost: bool = True
    stamps: bool = True
    por: bool = False
    dead_content: bool = False
    symmetry: bool = False
    relay: bool = False
    absorb: bool = False


PLAIN = Reductions()
