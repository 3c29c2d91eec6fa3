"""Clocks that stamp writes: ``wall``, ``lamport`` and ``hlc``.

A clock is two pure functions over a leader's clock state:

* ``tick(state, pt) -> (state', ts)`` when the leader commits a write whose
  physical time is ``pt`` (real time + the leader's offset, in ms), and
* ``observe(state, ts) -> state'`` when the leader applies a remote write
  stamped ``ts``.

Timestamps are tuples so that they compare lexicographically; the resolver
appends its tie-break.  Receiving does not tick the clock: the next commit
does, which orders writes exactly as the ticking variants do while keeping
fewer distinct states.

Sources: Lamport, "Time, Clocks, and the Ordering of Events in a Distributed
System", CACM 1978; Kulkarni et al., "Logical Physical Clocks and Consistent
Snapshots in Globally Distributed Databases" (hybrid logical clocks), OPODIS
2014; docs/model.md §3.
"""

from __future__ import annotations

# An HLC that has seen nothing: smaller than any physical time a spec can give.
HLC_NEVER = -(1 << 60)

CLOCKS = {
    "wall": "timestamp = real time (time_ms, else commit index) + the leader's fixed offset in ms",
    "lamport": "logical counter: max of everything seen, +1 at each commit (Lamport 1978)",
    "hlc": "hybrid logical clock (l, c): physical time, but never behind anything seen (Kulkarni et al. 2014)",
}


def initial(kind: str):
    """The clock state of a leader that has done nothing."""
    if kind == "lamport":
        return 0
    if kind == "hlc":
        return (HLC_NEVER, 0)
    return 0


def tick(kind: str, state, pt: int):
    """Stamp a local commit at physical time ``pt``; return ``(state', ts)``."""
    if kind == "wall":
        return state, (pt,)
    if kind == "lamport":
        c = state + 1
        return c, (c,)
    l, c = state
    if pt > l:
        new = (pt, 0)
    else:
        new = (l, c + 1)
    return new, new


def observe(kind: str, state, ts: tuple):
    """Update a leader's clock on applying a remote write stamped ``ts``."""
    if kind == "wall":
        return state
    if kind == "lamport":
        return state if state >= ts[0] else ts[0]
    return state if state >= ts else ts


def show(kind: str, ts) -> str:
    """A timestamp (or clock state) as a lecture would write it."""
    if kind == "hlc":
        l, c = ts if len(ts) == 2 else ts[:2]
        return "-" if l == HLC_NEVER else f"{l}.{c}"
    if isinstance(ts, tuple):
        return str(ts[0])
    return str(ts)


# ------------------------------------------------------------- real time
# docs/model.md "Real time": when a spec gives ``time_ms``, the state keeps a
# lower bound ``now`` on the real time of the current point of the run, and
# every timed event (a commit at its op's time, a delivery at its message's
# earliest arrival) is enabled only when no enabled commit of a timed op is
# due strictly earlier.  Ops and messages without a time are unconstrained.

# ``now`` before any timed event: earlier than any time a spec can give.
REAL_NEVER = -(1 << 60)


def real_bound(now: int, due) -> float:
    """The latest real time the next event may have: ``now``, or later up
    to the earliest time at which an enabled timed op is due (it commits
    first when it is due first).  ``due``: the times of the enabled commits
    of timed ops."""
    m = min(due, default=None)
    if m is None:
        return float("inf")
    return now if now > m else m


def in_time(t: int | None, bound) -> bool:
    """Whether an event due at real time ``t`` (``None``: no time stated)
    may happen next; ties may happen in either order."""
    return t is None or t <= bound


def advance(now: int, t: int | None) -> int:
    """``now`` after an event due at ``t`` happened (no earlier than ``t``)."""
    return now if t is None or t <= now else t
