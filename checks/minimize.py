"""Trace minimisation: drop the events a violation does not need.

Contract (deterministic, like Hypothesis's shrinker): starting from a
counterexample path, repeatedly try to remove

1. every event of one operation at once (its commit and each delivery of
   its write), then
2. single events, last first,

and keep a removal only when the shorter trace

- still *replays*: each event is enabled where it now stands, and a
  delivery still delivers the same write over the same link (links are
  FIFO, so removing one delivery may not put another write at the head);
- still *violates* the invariant at its end, with the same anomaly; and
- for a quiescent-scope invariant (``convergence``, ``no-lost-writes``)
  still *ends in a quiescent state*, since those invariants are only judged
  there and ``replcheck replay`` would otherwise refuse the trace.

The result is never longer than the input and is 1-minimal: no single
further event (or whole operation) can be dropped — unless the pass ran
out of its time budget (:data:`BUDGET_SECONDS` per counterexample, a bound
like any other, docs/rendering.md): it then keeps the shortest trace found
so far, which still replays and violates, and says it may not be minimal.

Decision (documented in ``docs/rendering.md``): we never relax quiescence.
A BFS counterexample is already a shortest path, and every quiescent run of
a workload commits every operation and delivers every replication message,
so for quiescent-scope invariants found by BFS the pass normally drops
nothing, and the renderings then say the trace is already minimal.  It
removes events from DFS traces, from every-state invariants' traces found
by other engines, and from traces read back from files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from replcheck.checks.invariants import INVARIANTS
from replcheck.model import state as st
from replcheck.model.search import QUIESCENT
from replcheck.model.system import MSG_MASK, System

#: Seconds one counterexample's minimisation may take (docs/rendering.md,
#: "Minimised traces"): a long depth-first trace needs O(n^2) replays.
BUDGET_SECONDS = 10.0


@dataclass(frozen=True)
class Minimized:
    """The outcome of minimising one counterexample.

    ``path`` is the kept action path; ``dropped`` the 1-based step numbers
    of the original trace that were removed; ``violation`` what the
    invariant reports at the end of the kept path.
    """

    invariant: str
    original_length: int
    path: tuple[int, ...]
    dropped: tuple[int, ...]
    violation: object
    stopped: bool = False   # the time budget ran out: the kept trace may not be 1-minimal

    @property
    def changed(self) -> bool:
        return bool(self.dropped)

    def note(self) -> str:
        """One sentence for the renderings."""
        if self.stopped:
            n = len(self.dropped)
            return (f"minimisation stopped at its time budget ({BUDGET_SECONDS:g} s per report): dropped {n}"
                    f" event{'s' if n != 1 else ''}; the {len(self.path)} steps shown still reproduce the"
                    " violation on replay but may not all be needed")
        if not self.dropped:
            why = (" (every quiescent run commits every write and delivers every replication message)"
                   if INVARIANTS[self.invariant].scope == QUIESCENT else "")
            return (f"minimised: no event can be dropped without losing the violation{why};"
                    f" all {self.original_length} steps are needed")
        steps = ", ".join(str(i) for i in self.dropped)
        n = len(self.dropped)
        return (f"minimised: dropped {n} event{'s' if n != 1 else ''} that do not matter to the violation"
                f" (original step{'s' if n != 1 else ''} {steps}); {len(self.path)} of"
                f" {self.original_length} steps remain and still reproduce it on replay")


def is_quiescent(system: System, state) -> bool:
    """No progress event is enabled: only faults (if any) could still happen
    (the engines' definition, ``model.search``)."""
    succ = system.successors(state)
    return not succ or succ[0][0] >= getattr(system, "fault_base", float("inf"))


def _message(system: System, state, action: int) -> tuple | None:
    """``(kind, link, write)`` when ``action`` moves a replication message."""
    kind, x, pos = system.decode(action)
    if kind in ("deliver", "duplicate", "lose"):
        return kind, x, st.link(state, x)[pos] & MSG_MASK
    return None


def _event_keys(system: System, path) -> list[tuple]:
    """Name each action by what it does, not by position: a message move by
    ``("msg", kind, link, write)``, anything else by its action code."""
    state = system.initial_state()
    keys = []
    for a in path:
        msg = _message(system, state, a)
        keys.append(("msg",) + msg if msg else ("act", a))
        state = system.step(state, a)
    return keys


def _key_write(system: System, key) -> int:
    """The write an event is about (for removing a whole operation)."""
    if key[0] == "msg":
        return key[3]
    kind, x, _ = system.decode(key[1])
    return x if kind == "commit" else -1


def _replay(system: System, keys) -> tuple[tuple[int, ...], object] | None:
    """The action path and end state for event ``keys``, or ``None`` when
    some event is not enabled or would move a different write."""
    state = system.initial_state()
    path = []
    for key in keys:
        for a, nxt in system.successors(state):
            if (key[0] == "act" and a == key[1]) or (key[0] == "msg" and _message(system, state, a) == key[1:]):
                break
        else:
            return None
        state = nxt
        path.append(a)
    return tuple(path), state


def minimize(system: System, invariant: str, path, anomaly: str | None = None,
             seconds: float | None = BUDGET_SECONDS) -> Minimized:
    """Drop events from ``path`` while ``invariant`` stays violated on replay.

    Parameters
    ----------
    system : the compiled spec the path belongs to.
    invariant : a name in :data:`checks.invariants.INVARIANTS`.
    path : action codes of a violating trace (``Result.path``).
    anomaly : keep only shorter traces that show this anomaly (default: the
        anomaly at the end of ``path``).
    seconds : the time budget (``None``: none); when it runs out the
        shortest trace found so far is kept and ``stopped`` is set.

    Notes
    -----
    At most ``O(n^2)`` replays of at most ``n`` steps each for a trace of
    ``n`` events; counterexamples are tens of steps.

    Raises ``ValueError`` when ``path`` does not violate the invariant.
    """
    inv = INVARIANTS[invariant]
    check = inv.build(system)
    quiescent = inv.scope == QUIESCENT

    def verdict(keys):
        got = _replay(system, keys)
        if got is None:
            return None
        p, state = got
        if quiescent and not is_quiescent(system, state):
            return None
        v = check(state)
        if v is None or (anomaly is not None and v.anomaly != anomaly):
            return None
        return p, v

    keys = _event_keys(system, path)
    first = verdict(keys)
    if first is None:
        raise ValueError(f"the trace does not violate {invariant} at its end; nothing to minimise")
    best_path, best_v = first
    if anomaly is None:
        anomaly = best_v.anomaly
    numbered = list(enumerate(keys, 1))
    deadline = None if seconds is None else time.monotonic() + seconds
    stopped = False
    changed = True
    while changed and not stopped:
        changed = False
        # Whole operations first: an op and every delivery of its write.
        for w in sorted({_key_write(system, k) for _, k in numbered} - {-1}, reverse=True):
            if deadline is not None and time.monotonic() > deadline:
                stopped = True
                break
            cand = [(i, k) for i, k in numbered if _key_write(system, k) != w]
            if cand and len(cand) < len(numbered):
                got = verdict([k for _, k in cand])
                if got is not None:
                    numbered, (best_path, best_v), changed = cand, got, True
        for pos in range(len(numbered) - 1, -1, -1):
            if stopped or deadline is not None and time.monotonic() > deadline:
                stopped = True
                break
            if pos >= len(numbered):
                continue
            cand = numbered[:pos] + numbered[pos + 1:]
            got = verdict([k for _, k in cand])
            if got is not None:
                numbered, (best_path, best_v), changed = cand, got, True
    kept = {i for i, _ in numbered}
    dropped = tuple(i for i in range(1, len(keys) + 1) if i not in kept)
    return Minimized(invariant, len(keys), tuple(best_path), dropped, best_v, stopped)
