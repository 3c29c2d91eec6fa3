"""The state encoding, spelled in one place.

A state of :class:`model.system.System` is a nested tuple of small ints
(designed for 10^7 states: no per-state dicts, hashable, canonical, and
marshal-able for fingerprints)::

    state   = (leaders, links, writes, loop, faults[, now])
    leaders = tuple over leaders of (applied, past, clock, regs)
        applied : int  bitmask of writes (op indices) applied at the leader
        past    : int  bitmask of the leader's causal past (ghost): applied
                       writes and everything that happens-before them
        clock   : the clock state (:mod:`model.clocks`)
        regs    : tuple over keys of contents: the key's content under its
                  data type (:mod:`model.resolvers`); for registers a sorted
                  tuple of the write indices the leader holds for that key
                  (winner or siblings); counters: per-leader op counts;
                  sets: bitmasks; escrow: rights matrix + decrements
    links   = tuple over topology edges of FIFO queues (tuples of messages);
              a message is ``w | aux << 16``: the write index and, for
              ``visited`` loop prevention, the set of leaders it passed
              through, else its hop count (:data:`MSG_MASK`,
              ``AUX_MASK``, ``ORIGIN_BITS``, ``TIME_SHIFT`` below)
    writes  = tuple over ops of ``None`` (not committed) or a write entry
              ``(ts, hb[, data[, origin]])``: the clock timestamp stamped at
              commit, the ghost happens-before bitmask (the committing
              leader's causal past), data decided at commit (a
              read-modify-write's value id, a cart, an escrow entry, the
              version a write was based on; ``REJECTED`` (-1) marks an op
              refused by a local check, then ``hb`` is 0), and with
              failovers the leader that actually committed it (on a
              refusal: the offline leader that could not reach the
              key's home, docs/model.md "Offline periods")
    loop    = 0, or 1 + the write that was forwarded around a cycle
    faults  = () when the spec has no [faults]; else the fault state
              ``(crashed, cut, jumped, crashes_used, cuts_used, homes)``
              (see :mod:`model.faults`)
    now     = only for specs that give ``time_ms``: a lower bound on the
              real time of the run so far (docs/model.md "Real time"),
              ``clocks.REAL_NEVER`` before any timed event.  With
              ``system.latency_ms`` a message also carries its earliest
              arrival time in bits ``TIME_SHIFT..`` (0: none).  Untimed specs
              keep the 5-tuple.

A judged (dead-content) state may hold ``None`` for a leader
(``System.judged``); accessors of a leader's fields assume a real leader.

Ownership.  This module is the only code that knows the positions.  The
transition code (:mod:`model.system`; the reduction layers
:mod:`model.por` and :mod:`model.dead_content`) unpacks and rebuilds states
in its hot loops by the named positions below (``state[LEADERS]``,
``state[:NOW]``, ``writes[w][TS]``, ``leader[REGS]``: the same bytecode
cost as a literal index, measured on B10 and B7); everyone else reads a
state through the functions below.  tests/model/test_state_encoding.py
fails if a literal position (``state[2]``, ``s[0][l]``, ``writes[w][1]``,
``meta[2]``) appears anywhere but here.  A write entry's fields are read by
their named positions (``writes[w][TS]``, ``meta[DATA]``) in the resolvers'
hot paths, or through :func:`ts`/:func:`hb`/:func:`data` elsewhere.  In a
per-state hot loop, bind the accessor result to a local once
(``regs = st.regs(state, l)``) rather than calling it per key.

The functions are deliberately plain one-liners (no classes, no namedtuples:
states stay plain tuples for marshal and hashing).
"""

from __future__ import annotations

from replcheck.model import faults as _fl

DELETED = 0  # the value id of a tombstone (a delete's value)

# A message on a link: ``w | aux << MSG_BITS``.
MSG_BITS = 16
MSG_MASK = (1 << 15) - 1   # the write index; bit 15 is faults.FLAG
AUX_MASK = (1 << (_fl.ORIGIN_SHIFT - MSG_BITS)) - 1   # visited set / hop count
ORIGIN_BITS = 0xFF << _fl.ORIGIN_SHIFT                # the committing leader (with failovers)
TIME_SHIFT = 48    # a message's earliest arrival, ms - base + 1 (timed specs with latency)

# Positions of the state components.
LEADERS, LINKS, WRITES, LOOP, FAULTS, NOW = 0, 1, 2, 3, 4, 5
# Positions inside a leader.
APPLIED, PAST, CLOCK, REGS = 0, 1, 2, 3
# Positions inside a write entry.
TS, HB, DATA, ORIGIN = 0, 1, 2, 3
# Positions inside the fault component (see model.faults).
CRASHED, CUT, JUMPED, CRASHES_USED, CUTS_USED, HOMES = 0, 1, 2, 3, 4, 5


# ------------------------------------------------------------------ state
def leaders(s) -> tuple:
    """Per leader, ``(applied, past, clock, regs)``."""
    return s[0]


def links(s) -> tuple:
    """Per topology edge, the FIFO tuple of messages."""
    return s[1]


def writes(s) -> tuple:
    """The write table: per op, ``None`` or ``(ts, hb[, data[, origin]])``."""
    return s[2]


def loop(s) -> int:
    """0, or 1 + the write forwarded around a cycle."""
    return s[3]


def faults(s) -> tuple:
    """The fault component: ``()`` without [faults], else
    ``(crashed, cut, jumped, crashes_used, cuts_used, homes)``."""
    return s[4]


def is_timed(s) -> bool:
    """Whether the state carries the real-time component ``now``."""
    return len(s) > 5


def now(s):
    """The raw real-time component (``clocks.REAL_NEVER`` before any timed
    event), or ``None`` for an untimed spec's state.  ``System.real_time``
    also maps ``REAL_NEVER`` to ``None``."""
    return s[5] if len(s) > 5 else None


def is_looped(s) -> bool:
    """Whether the run was cut by the replication-loop guard."""
    return bool(s[3])


def looped_write(s) -> int | None:
    """The write forwarded around a cycle, or ``None``."""
    return s[3] - 1 if s[3] else None


def with_core(s, leaders, links, writes) -> tuple:
    """``s`` with its leaders, links and write table replaced (the rest —
    loop, faults, now — kept): how a reduction rebuilds a state."""
    return (leaders, links, writes) + s[3:]


# ---------------------------------------------------------------- leaders
def leader(s, l: int):
    """Leader ``l``'s ``(applied, past, clock, regs)``."""
    return s[0][l]


def applied(s, l: int) -> int:
    """Bitmask of the writes applied at leader ``l``."""
    return s[0][l][0]


def past(s, l: int) -> int:
    """Bitmask of leader ``l``'s causal past (ghost)."""
    return s[0][l][1]


def clock(s, l: int):
    """Leader ``l``'s clock state (:mod:`model.clocks`)."""
    return s[0][l][2]


def regs(s, l: int) -> tuple:
    """Leader ``l``'s contents, per key."""
    return s[0][l][3]


def content(s, l: int, k: int):
    """Leader ``l``'s content of key ``k`` (its data type's encoding)."""
    return s[0][l][3][k]


# ------------------------------------------------------------------ links
def link(s, j: int) -> tuple:
    """The FIFO queue of messages on topology edge ``j``."""
    return s[1][j]


def in_flight(s) -> bool:
    """Whether any message is on any link."""
    return any(s[1])


# ----------------------------------------------------------------- writes
def write(s, w: int):
    """Write ``w``'s entry: ``None`` (not committed) or ``(ts, hb, ...)``."""
    return s[2][w]


def is_committed(s, w: int) -> bool:
    """Whether op ``w`` has run (committed or rejected by a local check)."""
    return s[2][w] is not None


def ts(entry) -> tuple:
    """A write entry's timestamp."""
    return entry[0]


def hb(entry) -> int:
    """A write entry's ghost happens-before bitmask."""
    return entry[1]


def data(entry):
    """A write entry's data decided at commit (``REJECTED`` for a refused
    op), or ``None`` when it has none."""
    return entry[2] if len(entry) > 2 else None


# ----------------------------------------------------------------- faults
def crashed(s) -> int:
    """Bitmask of crashed leaders (0 without [faults])."""
    f = s[4]
    return f[0] if f else 0


def cut(s) -> int:
    """Bitmask of cut leader pairs (0 without [faults])."""
    f = s[4]
    return f[1] if f else 0


def homes(s) -> tuple:
    """``()`` until a failover moves a home; then the current home of every
    key followed by the number of failovers so far."""
    f = s[4]
    return f[5] if f else ()
