"""One leader's turn: the partial-order reduction of forwarding topologies
(docs/reductions.md "Relay turns").

Done-leader elimination (:mod:`model.por`) needs deliveries that forward
nothing; on a ring or a star a received write is forwarded, so it is off
there.  This reduction is weaker and asks less: no order-independent
merge, and forwarding allowed.

Soundness.  Take a leader ``l`` with exactly one in-link (every leader of
a ring, the leaves of a star), not crashed, with a message on that link.
Its *turn* is its enabled events: the delivery ``d`` at the head of the
link, its next commit ``c`` if enabled, and its crash if this run crashes
it (below).  Every event of another leader that can happen before the
turn is independent of each event of the turn, and none disables one:

* no other leader's event reads or writes ``l``'s state (``l`` has no
  other in-link; routed keys, whose commits happen at a home, are refused);
* ``l``'s sender only appends to the link ``d`` pops: an append and the
  pop of a non-empty FIFO queue commute;
* ``d`` and ``c`` append to ``l``'s out-links, whose receivers only pop
  them (commute); a receiver's crash drops what is on its in-links, and
  what is sent to a crashed receiver is dropped too (the plain model's
  settle step), before or after;
* ``c`` is stamped from ``l``'s own clock only under a Lamport clock: a
  wall clock or an HLC stamps a commit by its real time, which the model
  counts in commits, so there a leader whose commit is enabled has no turn;
* ``d`` touches neither real time (no ``time_ms``) nor, by requirement,
  the replication-loop flag (a copy past the hop cap ends no turn);
* ``l``'s crash drops ``l``'s in-links: what another leader sends to ``l``
  is dropped before or after.

So the turn is a persistent set (Godefroid 1996, *Partial-Order Methods
for the Verification of Concurrent Systems*, ch. 4; Valmari's stubborn
sets).  Any plain run from the state to a quiescent state contains an
event of the turn (``d`` stays enabled until one happens, and a quiescent
state has no delivery enabled); moving the first such event to the front
gives a run of the same length to the same state.  By induction the
reduced model, which explores only the turn (the one with fewest events),
reaches exactly the plain model's quiescent states, each at the plain
model's shortest run length, and every reduced run *is* a plain run.
A state where no leader has a turn is expanded in full.  Every-state
invariants are judged on this subgraph only where a violation persists
to quiescence: the replication-loop flag (never cleared) and the
invariants :func:`checks.planner.at_quiescence` moves; their traces are
not proved shortest.

Crashes.  With a crash budget left any crashable leader can crash, and a
crash of one uses the budget another's crash needs.  So, as under
done-leader elimination's crash-only faults, a run first chooses the
leaders that crash in it (a DOOM step, not an event: :meth:`Relayed.expansions`
drops it); a chosen leader's crash is then one of its own events, and a
state is judged once every chosen crash happened and nothing else is
enabled — where the choice is dropped again, leaving a plain state.  Every
plain run chooses its crashes in this sense, so nothing is lost.  Without
recovery only: a recovery would let a crashed leader's deliveries resume.
"""

from __future__ import annotations

from itertools import combinations

from replcheck.model import faults as fl
from replcheck.model.por import crash_only
from replcheck.model.state import APPLIED, AUX_MASK, FAULTS, LEADERS, LINKS, MSG_BITS, WRITES
from replcheck.model.system import System, adopt


def applicable(system) -> tuple[bool, str]:
    """Whether relay turns are sound for this system:
    :func:`model.por.applicable` refused it, some leader has one in-link,
    every link is FIFO, every key commits where its op is issued (no
    home-leader routing), no real time, no offline periods, and of the
    faults only crashes without recovery.  ``(ok, reason)``."""
    if not any(len(ins) == 1 for ins in system.in_links):
        return False, "no leader has a single in-link"
    if system.timed:
        return False, "time_ms: a delivery can move real time, which every later commit reads"
    if system.offline_periods:
        return False, "an offline period holds a leader's links"
    if any(system.routing.routed):
        return False, "a routed key commits at its home, so a leader with no op left can still commit"
    if any(k != "fifo" for k in system.link_kind):
        return False, "a non-FIFO link can reorder, repeat or lose a delivery"
    if system.general:
        ok, why = crash_only(system)
        if not ok:
            return False, why
        if system.fault_spec.recoveries:
            return False, "a recovered leader receives again, so a crashed leader's deliveries are not over"
        return True, ("relay turns under crashes (each run first chooses the leaders that crash; a leader"
                      " with one in-link holding a message takes its turn — that delivery, its next commit,"
                      " its chosen crash — before anything else happens)")
    return True, ("relay turns (a leader with one in-link holding a message takes its turn — that delivery,"
                  " its next commit — before anything else happens)")


class Relayed:
    """A plain model whose successors are one leader's turn when some
    leader has one (module docstring).  Immutable once built."""

    relay = True

    def __init__(self, base: System):
        adopt(self, base)
        d = self.__dict__
        d["_doom"] = base.general
        d["fault_base"] = float("inf") if base.general else base.fault_base
        if base.general:
            fs = base.fault_spec
            most = min(fs.crashes, len(base.crashable))
            d["_doom_sets"] = tuple(sum(1 << l for l in c) for r in range(most + 1)
                                    for c in combinations(base.crashable, r))
        # (leader, its one in-link) for every leader with a single in-link
        d["_relay_links"] = tuple((l, ins[0]) for l, ins in enumerate(base.in_links) if len(ins) == 1)
        d["_fault_codes"] = fl.FAULT_BASE
        # Under a Lamport clock a commit reads only its leader's state; under a
        # wall clock or an HLC it is stamped by the real time of the commit,
        # which the model counts in commits (model/system.py _commit): then it
        # depends on every other commit and never joins a leader's turn.
        d["_local_commits"] = base.clock == "lamport"
        d["_loop_free"] = base.loop_mode == "visited"

    def __setattr__(self, name, value):
        raise AttributeError(f"a reduced model is fixed at construction (Relayed.{name}); build another with"
                             " model.reduced.build(spec, Reductions(...))")

    def __getstate__(self):
        return self.base

    def __setstate__(self, base):
        Relayed.__init__(self, base)

    # ------------------------------------------------------- the model protocol
    def initial_state(self):
        s = self.base.initial_state()
        if self._doom:
            return self.base.with_faults(s, s[FAULTS] + (fl.UNDOOMED,))
        return s

    def successors(self, state) -> list:
        """``[(action, next_state), ...]``: the events of one leader whose one
        in-link holds a message (its :meth:`_turn`) when there is such a
        leader, fewest events first; else every enabled event (commits,
        deliveries, the chosen crashes), as the plain model lists them."""
        if self._doom:
            F = state[FAULTS]
            if len(F) == fl.DOOMED:
                return []                  # judged: every chosen crash happened, nothing else is enabled
            doomed = F[fl.DOOMED]
            if doomed == fl.UNDOOMED:
                return [(fl.code(fl.DOOM, m), self._judged(self.base.with_faults(state, F[:fl.DOOMED] + (m,))))
                        for m in self._doom_sets]
            crashed = F[0]
        else:
            crashed = doomed = 0
        links = state[LINKS]
        best = None
        for l, j in self._relay_links:
            q = links[j]
            if q and not (crashed >> l) & 1 and self._no_loop(q[0]):
                turn = self._turn(state, l, j, doomed)
                if not turn:
                    continue
                if len(turn) == 1:
                    return [(a, self._event(state, a)) for a in turn]
                if best is None:
                    best = turn
        if best is not None:
            return [(a, self._event(state, a)) for a in best]
        writes = state[WRITES]
        acts = self._ready(state[LEADERS], writes, crashed)
        edges = self.edges
        nops = self.nops
        acts += [nops + j for j, q in enumerate(links) if q and not (crashed >> edges[j][1]) & 1]
        if self._doom:
            left = doomed & ~crashed
            acts += [fl.code(fl.CRASH, l) for l in range(self.n) if (left >> l) & 1]
        return [(a, self._event(state, a)) for a in acts]

    def _turn(self, state, l: int, j: int, doomed: int) -> tuple[int, ...]:
        """Leader ``l``'s enabled events, ``l`` not crashed with a message on
        its one in-link ``j``: its next commit when enabled, that delivery,
        and its crash when it was chosen to crash — or ``()`` when its next
        commit is enabled and stamped by real time (it then depends on
        other leaders' commits).  A persistent set (module docstring):
        nothing another leader does is dependent on them or disables them."""
        writes = state[WRITES]
        i = self._next_op(l, writes)
        if i is None or self.ops[i].after_mask & ~state[LEADERS][l][APPLIED]:
            out = ()
        elif self._local_commits:
            out = (i,)
        else:
            return ()      # a commit stamped by real time depends on every other commit: not l's alone
        out += (self.nops + j,)
        if (doomed >> l) & 1:
            out += (fl.code(fl.CRASH, l),)
        return out

    def _event(self, state, a: int):
        """The state after the plain event ``a`` (a commit, a delivery, a crash)."""
        if a < self.nops:
            t = self._commit(state, a)
        elif a < self._fault_codes:
            t = self._deliver(state, a - self.nops)
        else:
            return self._judged(self._crash(state, a & fl.PAYLOAD))
        return self._judged(self._settle(t) if self._doom else t)

    def _no_loop(self, m: int) -> bool:
        """Whether delivering message ``m`` cannot set the replication-loop
        flag (a copy forwarded past the hop cap)."""
        return self._loop_free or ((m >> MSG_BITS) & AUX_MASK) + 1 <= self.max_hops

    def _judged(self, state):
        """Under chosen crashes: ``state`` as the plain state it is once every
        chosen crash happened and nothing else is enabled (the choice
        dropped); else ``state``."""
        if not self._doom:
            return state
        F = state[FAULTS]
        doomed = F[fl.DOOMED]
        if doomed == fl.UNDOOMED or doomed & ~F[0]:
            return state
        crashed = F[0]
        links = state[LINKS]
        edges = self.edges
        for j, q in enumerate(links):
            if q and not (crashed >> edges[j][1]) & 1:
                return state
        if self._ready(state[LEADERS], state[WRITES], crashed):
            return state
        return self.base.with_faults(state, F[:fl.DOOMED])

    step = System.step

    def images(self, state):
        """A judged state is a plain state: it stands for itself."""
        yield state

    def expansions(self, path):
        """The plain run behind a reduced path: the path without its DOOM
        choice (every other action is the plain model's)."""
        yield self.expand_path(path)

    def expand_path(self, path) -> tuple[int, ...]:
        return tuple(a for a in path if fl.kind_of(a) != fl.DOOM)

    def run_length(self, state, depth: int) -> int | None:
        """``None``: as in the plain model, engines keep the first
        counterexample they meet — at the least reduced depth, which is the
        least plain run length (module docstring)."""
        return None

    def run_length_is_constant(self) -> bool:
        return False

    def rebuilt_alike(self, state) -> bool:
        return False
