"""Faults and repairs as nondeterministic events (docs/model.md §2, issue 5).

Action codes.  The two core kinds keep small codes (``i < len(ops)``:
commit op ``i``; ``len(ops) + j``: deliver the head of link ``j``); every
other kind is tagged in the high bits, ``kind << KIND_SHIFT | payload``:

=============  =====================  ========================================
kind           payload                meaning
=============  =====================  ========================================
DELIVER_AT     link << 8 | position   deliver one message of an unordered link
RECOVER        leader                 a crashed leader comes back, state intact
HEAL           pair                   a cut link pair carries messages again
CRASH          leader                 crash-stop: commits and inbound stop
CUT            pair                   partition both directions of a pair
JUMP           leader                 the leader's wall clock jumps (NTP step)
DUPLICATE      link                   deliver the head but keep a copy
LOSE           link                   the head is lost and retransmitted last
FAILOVER       leader                 the keys homed at that leader move to
                                      the next leader of faults.failover_order
DOOM           mask of leaders        reduced systems only (never in a plain
                                      run): the run's first step chooses the
                                      leaders that will crash in it
ABSORB         op; counts in bits 32+ reduced systems only, without faults:
                                      deliveries to the op's busy leader (4
                                      bits per sender leader: how many from
                                      each), then the op's commit
=============  =====================  ========================================

Kinds from CRASH up are *faults*: optional events within a budget.  Commits,
deliveries and the repairs (RECOVER, HEAL — when the spec allows them) are
*progress*: a state is quiescent when no progress event is enabled, so
quiescence waits for allowed repairs, never for faults.  ``successors``
lists progress events first, so an engine tells a quiescent state by its
first successor's code alone (``>= FAULT_BASE``).

The fault state component is ``(crashed, cut, jumped, crashes_used,
cuts_used, homes)``: bitmasks of crashed leaders, cut pairs and jumped
clocks, the budgets spent, and ``homes``: ``()`` until a failover moves a
home, then the current home of every key followed by the number of
failovers so far (:meth:`model.routing.Routing.home` reads it).
Offline periods (``[faults] offline``) are not events: whether a leader
is offline is a function of the write table
(:meth:`model.system.System.offline_leaders`), and a routed op issued
offline is refused by its commit action (docs/model.md "Offline periods").

With failovers, a message also carries its write's actual origin (the home
that committed it) in bits 40.. so that origin loop prevention drops it at
the right leader.
"""

from __future__ import annotations

KIND_SHIFT = 20
DELIVER_AT, RECOVER, HEAL, CRASH, CUT, JUMP, DUPLICATE, LOSE, FAILOVER = 1, 2, 3, 5, 6, 7, 8, 9, 10
# Partial-order reduction under crash-only faults (docs/reductions.md, "Crash-only faults"):
# the first step of a reduced run, which :meth:`model.system.System.expand_path`
# drops.  Below CRASH: a progress code, never a fault.
DOOM = 4
# Partial-order reduction without faults (docs/reductions.md "Absorbed
# deliveries"): a busy leader's deliveries taken at its next commit.  A
# reduced system with it has no faults, so its fault_base is out of reach.
ABSORB = 11
FAULT_BASE = CRASH << KIND_SHIFT
PAYLOAD = (1 << KIND_SHIFT) - 1
ABSORB_SHIFT = 32          # the per-sender counts of an ABSORB code
ABSORB_MAX = 15            # at most this many deliveries from one sender
ABSORB_LEADERS = 7         # and at most this many leaders (4 bits each, under bit 63)

KIND_NAMES = {DELIVER_AT: "deliver", RECOVER: "recover", HEAL: "heal", CRASH: "crash", CUT: "cut",
              JUMP: "clock-jump", DUPLICATE: "duplicate", LOSE: "lose", FAILOVER: "failover", DOOM: "doom",
              ABSORB: "absorb"}

# Message flag: this copy was already duplicated / lost once (budget of one
# per message, so the state space stays finite).
FLAG = 1 << 15

NO_FAULTS = (0, 0, 0, 0, 0, ())
ORIGIN_SHIFT = 40
# The fault component of a crash-reduced state carries a seventh field: the
# leaders chosen to crash in this run (a mask), UNDOOMED before the choice.
DOOMED = 6
UNDOOMED = -1


def code(kind: int, payload: int) -> int:
    return kind << KIND_SHIFT | payload


def kind_of(action: int) -> int:
    return (action >> KIND_SHIFT) & 0xFFF


def absorb_code(op: int, counts) -> int:
    """The ABSORB action: ``counts[s]`` deliveries from each sender leader
    ``s`` to the committing leader, then the commit of ``op``."""
    v = 0
    for s, c in enumerate(counts):
        v |= c << (4 * s)
    return v << ABSORB_SHIFT | ABSORB << KIND_SHIFT | op


def absorbed(action: int) -> tuple[int, tuple[int, ...]]:
    """``(op, counts)`` of an ABSORB code (counts for leaders 0..6)."""
    v = action >> ABSORB_SHIFT
    return action & PAYLOAD, tuple((v >> (4 * s)) & 15 for s in range(ABSORB_LEADERS))


def is_fault(action: int) -> bool:
    return action >= FAULT_BASE
