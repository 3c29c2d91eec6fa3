"""Done-leader elimination: the partial-order reduction of replcheck
(docs/reductions.md "Partial-order reduction", "Crash-only faults").

Soundness.  When deliveries to one leader commute with each other and with
everything not at that leader (an order-independent merge, nothing
forwarded, FIFO links, and of the faults only crashes, which disable the
deliveries to the crashed leader and nothing else), a delivery to a leader
that will never commit again is independent of every other event and
nothing but its receiver's crash disables it, so every execution is
equivalent to one that postpones such deliveries to the very end.  Such a
leader's state then cannot influence anything before quiescence, so the
reduced model forgets it (``None``) and drops its inbound messages; when
the run is quiescent its final state is rebuilt by applying every committed
write (the merge is order-independent).  The judged (quiescent) states are
exactly the plain model's; :func:`applicable` states the conditions and the
oracle (tests/differential/) compares the judged sets on generated specs.
Under crash-only faults without recoveries, a run first chooses the leaders
that crash in it (a DOOM step, dropped from every trace) and keeps them
whole; with recoveries, a crash and its recovery happen only at quiescent
states.  Same action codes as the plain model; :meth:`expand_path` appends
a reduced path's postponed deliveries, so every counterexample replays on
the plain model.

A layer of :class:`model.reduced.Reduced` (the wrapper model): the methods
read the wrapped plain model's compiled spec through it.
"""

from __future__ import annotations

from replcheck.model import clocks
from replcheck.model import faults as fl
from replcheck.model.resolvers.base import is_rejected
from replcheck.model.state import APPLIED, FAULTS, HB, LEADERS, LINKS, NOW, TS, WRITES


class DoneLeaderElimination:
    """The reduced transition relation, its judged states and the
    expansion of a reduced path into a plain run."""


    # ------------------------------------------------ partial-order reduction
    # Done-leader elimination (docs/reductions.md).  When deliveries to one
    # leader commute with each other and with everything not at that leader
    # (order-independent merge, nothing forwarded, no faults, FIFO links), a
    # delivery to a leader that will never commit again is independent of
    # every other event and nothing disables it, so every execution is
    # equivalent to one that postpones such deliveries to the very end.  Such
    # a leader's state then cannot influence anything before quiescence, so
    # the reduced system forgets it (``None``) and drops its inbound
    # messages; when the run is quiescent its final state is rebuilt by
    # applying every committed write (the merge is order-independent).  Same
    # action codes as the plain system; a path's postponed deliveries are
    # appended by :meth:`expand_path`.

    def _successors_por(self, state, canonical: bool = True) -> list:
        leaders, links, writes = state[LEADERS], state[LINKS], state[WRITES]
        settle = self._settler(canonical)
        if self.absorb:
            return self._successors_absorb(state, settle)
        out = [(i, settle(self._commit(state, i))) for i in self._ready(leaders, writes)]
        base = self.nops
        for j, q in enumerate(links):
            if q:
                out.append((base + j, settle(self._deliver(state, j))))
        return self._in_real_time(state, out) if self.timed else out

    def _successors_crash(self, state, canonical: bool = True) -> list:
        """Successors of a reduced state under crash-only faults
        (docs/reductions.md, "Crash-only faults").  Without recoveries: the initial
        state's successors choose the leaders that crash in the run (DOOM);
        then commits and deliveries as under por, and the crash of each
        chosen leader that has not crashed yet, as progress: a judged state
        is one where every chosen leader has crashed and nothing else is
        enabled (materialized, without successors).  With recoveries: a
        crash only at a quiescent state, followed by its recovery."""
        leaders, links, writes = state[LEADERS], state[LINKS], state[WRITES]
        F = state[FAULTS]
        doom = self._doom
        if doom:
            if len(F) == fl.DOOMED:
                return []          # judged: materialized, every chosen crash happened
            doomed = F[fl.DOOMED]
            if doomed == fl.UNDOOMED:
                return [(fl.code(fl.DOOM, d), self._settle_por(self._doomed(state, d), canonical))
                        for d in self._doom_sets]
        crashed = F[0]
        settle = self._settler(canonical)
        out = [(i, settle(self._commit(state, i))) for i in self._ready(leaders, writes, crashed)]
        base = self.nops
        edges = self.edges
        deaf = self._deaf(F)
        for j, q in enumerate(links):
            if q and not (deaf >> edges[j][1]) & 1:
                out.append((base + j, settle(self._deliver(state, j))))
        if doom:
            left = doomed & ~crashed
            for l in range(self.n):
                if (left >> l) & 1:
                    out.append((fl.code(fl.CRASH, l), settle(self._crash(state, l))))
        elif crashed:
            for l in range(self.n):
                if (crashed >> l) & 1:
                    out.append((fl.code(fl.RECOVER, l), settle(self._refault(state, (crashed & ~(1 << l),) + F[1:]))))
        elif not out and F[3] < self.fault_spec.crashes:
            # quiescent: a crash here, then its recovery, stands for every crash of the run
            for l in self.crashable:
                out.append((fl.code(fl.CRASH, l), settle(self._crash(state, l))))
        return self._in_real_time(state, out) if self.timed else out

    def _successors_absorb(self, state, settle) -> list:
        """Successors without faults when deliveries to a busy leader are
        absorbed at its next commit (docs/reductions.md "Absorbed
        deliveries"): for each busy leader, its next commit after every
        choice of a prefix of each of its in-links (the ABSORB action; the
        plain commit when nothing is absorbed), when the op's ``after`` is
        then met.  When no leader can commit whatever it absorbs, the
        deliveries left (to leaders that wait for ever) one at a time."""
        leaders, links, writes = state[LEADERS], state[LINKS], state[WRITES]
        deliver, commit = self._deliver, self._commit
        ops = self.ops
        out = []
        for l in range(self.n):
            if leaders[l] is None:
                continue
            i = self._next_op(l, writes)
            if i is None:
                continue
            choices = [(state, 0)]
            for j, sender in self._in_senders[l]:
                q = links[j]
                if not q:
                    continue
                more = []
                for t, v in choices:
                    for c in range(1, len(q) + 1):
                        t = deliver(t, j)
                        more.append((t, v | c << (4 * sender)))
                choices += more
            need = ops[i].after_mask
            for t, v in choices:
                if need & ~t[LEADERS][l][APPLIED]:
                    continue
                a = v << fl.ABSORB_SHIFT | fl.ABSORB << fl.KIND_SHIFT | i if v else i
                out.append((a, settle(commit(t, i))))
        if not out:
            for j, q in enumerate(links):
                if q:
                    return [(self.nops + j, settle(deliver(state, j)))]
        return out

    def _absorb(self, state, a: int):
        """The deliveries and the commit of the ABSORB action ``a``, unsettled."""
        i, counts = fl.absorbed(a)
        l = self.ops[i].origin
        for s, c in enumerate(counts[:self.n]):
            for _ in range(c):
                state = self._deliver(state, self._link_at[(s, l)])   # (c > 0: s is a sender of l)
        return self._commit(state, i)

    def _settler(self, canonical: bool):
        """The settle step, with or without the symmetry's canonical form."""
        if canonical:
            return self._settle_por

        def settle(t):
            return self._settle_por(t, False)
        return settle

    def _settle_por(self, state, canonical: bool = True):
        leaders, links, writes, loop, faults = state[:NOW]
        last = self._last_op
        new_leaders = None
        new_links = None
        # Under crash-only faults (docs/reductions.md, "Crash-only faults"): leaders chosen
        # to crash are kept whole (never forgotten, no dead messages dropped; with
        # dead content, as their applied set, causal past and clock); a crashed
        # one never receives again (its inbound messages are dropped, as the
        # plain system drops them).
        crashed = faults[0] if faults else 0
        kept = self._kept_whole(faults)
        gone = crashed if self._doom else 0     # crashed for good: never receives again
        for l in range(self.n):
            x = leaders[l]
            if x is not None and not (kept >> l) & 1:
                i = last[l]
                if i < 0 or writes[i] is not None:
                    new_leaders = new_leaders or list(leaders)
                    new_leaders[l] = x = None
            if x is not None and not (gone >> l) & 1:
                continue
            for j in self.in_links[l]:
                if links[j]:
                    new_links = new_links or list(links)
                    new_links[j] = ()
        if self.dead_content:
            new_leaders, new_links = self._drop_dead(leaders, links, writes, new_leaders, new_links, kept, crashed)
        if new_leaders is not None:
            leaders = tuple(new_leaders)
        if new_links is not None:
            links = tuple(new_links)
        state = (leaders, links, writes, loop, faults) + state[NOW:]
        if canonical and self.symmetry is not None:
            state = self.symmetry.canonical(state)
            leaders, links, writes, faults = state[LEADERS], state[LINKS], state[WRITES], state[FAULTS]
            crashed = faults[0] if faults else 0
            kept = self._kept_whole(faults)
        if any(links):
            return state
        if crashed and not self._doom:
            return state                 # its recovery is still to come
        if kept & ~crashed:
            return state                 # a leader chosen to crash has not crashed yet
        ops = self.ops
        for l in range(self.n):
            if leaders[l] is not None and not (crashed >> l) & 1:
                i = self._next_op(l, writes)
                if i is not None and not (ops[i].after_mask & ~leaders[l][0]):
                    return state
        return self._materialize(state)

    @staticmethod
    def _deaf(faults) -> int:
        """The leaders no delivery can reach: the crashed ones (a crash
        disables the deliveries to its leader and no other; docs/faults.md)."""
        return faults[0]

    def _kept_whole(self, faults) -> int:
        """The leaders a crash-reduced state keeps whole (never forgotten,
        no dead messages dropped): those chosen to crash in the run
        (docs/reductions.md, "Crash-only faults"); none otherwise."""
        return faults[fl.DOOMED] if self._doom else 0

    def _materialize(self, state):
        """Rebuild the forgotten leaders of a quiescent reduced state: each
        has applied every acknowledged write, its own locally."""
        leaders, links, writes, loop, faults = state[:NOW]
        rebuild = self._doom and self.dead_content   # crashed leaders' contents, from their applied sets
        if self._doom:
            faults = faults[:fl.DOOMED]   # a judged state is a plain state (crashed leaders kept whole)
        if all(x is not None for x in leaders) and not rebuild:
            return (leaders, links, writes, loop, faults) + state[NOW:]
        committed = [i for i, m in enumerate(writes) if m is not None and not is_rejected(m)]
        applied = 0
        past = 0
        clock = clocks.initial(self.clock)
        for i in committed:
            applied |= 1 << i
            past |= 1 << i | writes[i][HB]
            clock = clocks.observe(self.clock, clock, writes[i][TS])
        out = list(leaders)
        shared: dict = {}   # contents of keys whose apply ignores 'local' are the same everywhere
        for l, x in enumerate(leaders):
            if x is not None:
                if rebuild:
                    out[l] = x[:3] + (self._contents(l, x[0], writes),)
                continue
            regs = []
            for k, t in enumerate(self.types):
                content = shared.get(k)
                if content is None:
                    content = t.initial()
                    for i in committed:
                        if self._op_key[i] == k:
                            content = self._apply_k[k](content, i, writes, self.ops[i].origin == l)
                    if not t.reads_local:
                        shared[k] = content
                regs.append(content)
            out[l] = (applied, past, clock, tuple(regs))
        return (tuple(out), links, writes, loop, faults) + state[NOW:]

    def _primitive(self, state, a: int):
        if a < self.nops:
            return self._commit(state, a)
        kind = fl.kind_of(a)
        if kind == 0:
            return self._deliver(state, a - self.nops)
        if kind == fl.ABSORB:
            return self._absorb(state, a)
        if kind == fl.DOOM:
            return self._doomed(state, a & fl.PAYLOAD)
        if kind == fl.CRASH:
            return self._crash(state, a & fl.PAYLOAD)
        F = state[FAULTS]   # RECOVER
        return self._refault(state, (F[0] & ~(1 << (a & fl.PAYLOAD)),) + F[1:])

    def _reduced_successors(self, state, canonical: bool = True) -> list:
        if self.crash_por:
            return self._successors_crash(state, canonical)
        return self._successors_por(state, canonical)

    @staticmethod
    def _doomed(state, mask: int):
        """The undecided state with the leaders in ``mask`` chosen to crash."""
        return state[:FAULTS] + (state[FAULTS][:fl.DOOMED] + (mask,),) + state[NOW:]

    def rebuilt_alike(self, state) -> bool:
        """Whether every state the quiescent reduced ``state`` stands for
        (each image under symmetry, rebuilt by :meth:`_materialize`) has
        one leader state at all of its live leaders: every live leader is
        done and was forgotten, so each is rebuilt from the same committed
        writes (one applied set, causal past and clock), and no key's type
        reads ``local`` (``reads_local``), so the rebuilt contents are shared.
        A crashed leader kept whole (crash-only faults) is not live and does
        not count.  A renaming permutes leaders together with the crashed
        set, so forgotten live leaders stay forgotten and live in every
        image.  Only with por (a state of the plain system has no forgotten
        leader)."""
        if not self.por or self._reads_local:
            return False
        leaders = self._unmaterialize(state)[0]
        return all(leaders[l] is None for l in self.live(state))

    def _unmaterialize(self, state):
        """A quiescent reduced state as it was before its done leaders were
        rebuilt (every leader is done there; under crashes without recovery,
        every leader chosen to crash has crashed and was kept whole, with its
        contents dead when dead content is on)."""
        if any(state[LINKS]) or not all(x is not None for x in state[LEADERS]):
            return state
        if self._doom:
            F = state[FAULTS]
            crashed = F[0]
            if len(F) != fl.DOOMED or any(self._next_op(l, state[WRITES]) is not None
                                          for l in range(self.n) if not (crashed >> l) & 1):
                return state
            empty = self._empty_regs
            leaders = tuple((x[:3] + (empty,) if self.dead_content else x) if (crashed >> l) & 1 else None
                            for l, x in enumerate(state[LEADERS]))
            return (leaders,) + state[LINKS:FAULTS] + (F + (crashed,),) + state[NOW:]
        if any(self._next_op(l, state[WRITES]) is not None for l in range(self.n)):
            return state
        return ((None,) * self.n,) + state[LINKS:]

    def run_length(self, state, depth: int) -> int | None:
        """The length of every plain run to the quiescent ``state``, or
        ``None`` when it depends on the run (without ``por``; engines then
        keep the first counterexample they meet).  With ``por`` (no faults, FIFO, nothing forwarded) every plain run
        to a quiescent state commits each op it decided once and delivers
        each acknowledged write once over each out-link of its leader (a
        rejected op is never replicated), so the length is a function of
        the write table alone — whatever path the reduced search took
        (docs/reductions.md, "Shortest counterexamples")."""
        if not self.por:
            return None
        if self.crash_por:
            return self._crash_run_length(state)
        n = 0
        out = self.out_links
        for i, m in enumerate(state[WRITES]):
            if m is not None:
                n += 1 if is_rejected(m) else 1 + len(out[self.ops[i].origin])
        return n

    def run_length_is_constant(self) -> bool:
        """Whether :meth:`run_length` is the same for every quiescent state:
        with ``por`` and no faults, when no op can be rejected (every op a
        ``set`` and no local check), every plain run to quiescence commits
        every op and delivers every write over each out-link of its leader.
        Conservative: ``False`` whenever that is not evident."""
        return (self.por and not self.crash_por and not self.general and not self.offline_periods
                and all(op.kind == "set" for op in self.ops)
                and all(getattr(t, "inner", None) is None for t in self.types))

    def _crash_run_length(self, state) -> int:
        """The length of every plain run to the judged state ``state``
        under crash-only faults (docs/reductions.md, "Crash-only faults"): each op
        decided commits once; each crash is one event (two with its
        recovery); and on all-to-all FIFO links each delivery adds exactly
        one write of another leader to its receiver's applied set, so the
        deliveries are counted by the applied sets, crashed leaders' (what
        they received before crashing) included."""
        leaders, writes, F = state[LEADERS], state[WRITES], state[FAULTS]
        n = sum(1 for m in writes if m is not None)
        n += F[3] * (2 if self.fault_spec.recoveries else 1)
        own = self._own_mask
        for l, x in enumerate(leaders):
            n += (x[0] & ~own[l]).bit_count()
        return n

    def _plain_step(self, state, a: int):
        """The plain system's successor by action ``a`` under crash-only
        faults (as :meth:`_successors_general` computes it)."""
        if a < self.nops:
            return self._settle(self._commit(state, a))
        kind, x, _ = self.decode(a)
        if kind == "deliver":
            return self._settle(self._deliver(state, x))
        if kind == "crash":
            return self._crash(state, x)
        if kind == "recover":
            F = state[FAULTS]
            return self._refault(state, (F[0] & ~(1 << x),) + F[1:])
        raise ValueError(f"no plain step for action {a}")   # pragma: no cover

    def _expand_crash_path(self, path) -> tuple[int, ...]:
        """:meth:`expand_path` under crash-only faults: the DOOM choice is
        dropped (it is not an event); deliveries the reduced step dropped as
        dead at a busy leader follow it; the deliveries postponed to done
        leaders (never to a crashed one: the plain system dropped those)
        come last.  Replayed through the plain system as it goes."""
        state = self._plain_initial()
        reduced = self.initial_state()
        out = []
        deliver = self._plain_step
        for a in path:
            reduced = dict(self._successors_crash(reduced, canonical=False))[a]
            if fl.kind_of(a) == fl.DOOM:
                continue
            state = deliver(state, a)
            out.append(a)
            for j, (_, d) in enumerate(self.edges):
                if reduced[LEADERS][d] is not None:
                    while len(state[LINKS][j]) > len(reduced[LINKS][j]):
                        out.append(self.nops + j)
                        state = deliver(state, self.nops + j)
        for j in range(len(state[LINKS])):
            while state[LINKS][j]:
                out.append(self.nops + j)
                state = deliver(state, self.nops + j)
        return tuple(out)

    def expand_path(self, path) -> tuple[int, ...]:
        """The primitive actions behind a path found with ``por`` on (and
        no symmetry): the path, the dead deliveries it dropped at busy
        leaders, then the deliveries it postponed; the path itself when
        ``por`` is off."""
        if not self.por:
            return tuple(path)
        if self.crash_por:
            return self._expand_crash_path(path)
        state = self.initial_state()
        reduced = state
        out = []
        for a in path:
            if fl.kind_of(a) == fl.ABSORB:
                i, counts = fl.absorbed(a)
                for s, c in enumerate(counts[:self.n]):
                    j = self._link_at[(s, self.ops[i].origin)] if c else None
                    for _ in range(c):
                        out.append(self.nops + j)
                        state = self._deliver(state, j)
                out.append(i)
                state = self._commit(state, i)
            else:
                state = self._primitive(state, a)
                out.append(a)
            if self.dead_content:
                # Deliver now what the reduced step dropped as dead at a busy leader.
                reduced = self._settle_por(self._primitive(reduced, a), False)
                for j, (_, d) in enumerate(self.edges):
                    if reduced[LEADERS][d] is not None:
                        while len(state[LINKS][j]) > len(reduced[LINKS][j]):
                            out.append(self.nops + j)
                            state = self._deliver(state, j)
        for j in range(len(state[LINKS])):
            while state[LINKS][j]:
                out.append(self.nops + j)
                state = self._deliver(state, j)
        return tuple(out)


def applicable(system) -> tuple[bool, str]:
    """Whether the delivery-absorption reduction is sound for this system.

    It needs deliveries to one leader to commute (the resolver's remote
    apply is order-independent), deliveries that forward nothing (so no
    queue order depends on them), and nothing that can disable a
    delivery except a crash of its receiver (FIFO links; of the faults,
    crashes only, without ``lose_unsent``; docs/reductions.md,
    "Crash-only faults").  Returns ``(ok, reason)``.
    """
    if system.offline_periods:   # whatever other faults por comes to allow (docs/model.md "Offline periods")
        return False, ("an offline period holds a leader's links and refuses its routed ops, which the reduced"
                       " system does not model")
    if system.general:
        ok, why = crash_only(system)
        if not ok:
            return False, why
    if system.forwards:
        return False, "the topology forwards writes, so delivery order shapes later queues"
    if not getattr(system.resolver, "commutes", False):
        return False, f"resolver {system.spec.resolver} does not declare an order-independent merge"
    if system._latency:
        return False, ("time_ms with system.latency_ms: a delivery is due at its earliest arrival and moves"
                       " real time, so postponing it would change later commits' times (docs/reductions.md)")
    if system.general and system.fault_spec.recoveries:
        return True, ("done-leader elimination under crashes with recovery (deliveries to leaders with no"
                      " pending writes are postponed to quiescence, where those leaders' states are rebuilt;"
                      " a crash and its recovery are taken at quiescent states only)")
    if system.general:
        return True, ("done-leader elimination under crash-only faults (each run first chooses the leaders"
                      " that crash in it and keeps them whole; deliveries to the others, once they have no"
                      " pending writes, are postponed to quiescence, where their states are rebuilt)")
    return True, ("done-leader elimination (deliveries to leaders with no pending writes are postponed"
                  " to quiescence, where those leaders' states are rebuilt)")


def absorbable(system) -> tuple[bool, str]:
    """Whether, under done-leader elimination, deliveries to a busy leader
    may be absorbed at its next commit (docs/reductions.md "Absorbed
    deliveries"): no faults and no non-FIFO link (por's crash handling
    keeps chosen leaders whole, whose deliveries matter up to their
    crash), no ``time_ms``, every op committed where it is issued, and an
    ABSORB code wide enough (at most 7 leaders, 15 ops per leader).
    ``(ok, reason)``."""
    if system.general:
        return False, "faults: a leader chosen to crash keeps what it received before its crash"
    if system.timed:
        return False, "time_ms: a delivery is part of the real-time order"
    if any(system.routing.routed):
        return False, "a routed op commits at its home, not where it is issued"
    if system.n > fl.ABSORB_LEADERS or any(len(o) > fl.ABSORB_MAX for o in system.leader_ops):
        return False, "more than 7 leaders or 15 ops at one leader"
    return True, "deliveries to a busy leader absorbed at its next commit"


def faults_are_crash_only(system) -> bool:
    """True when the spec has faults and they are crashes only, on FIFO
    links, without ``lose_unsent`` (and without recovery under
    ``time_ms``): the conditions of docs/reductions.md "Crash-only
    faults"."""
    return system.general and crash_only(system)[0]


def crash_only(system) -> tuple[bool, str]:
    """Whether this system's faults and link kinds leave partial-order
    reduction sound (docs/reductions.md, "Crash-only faults"): FIFO links, and
    crashes as the only fault, which disable deliveries to the crashed
    leader and nothing else.  ``(ok, reason)``."""
    fs = system.fault_spec
    odd = [k for k in system.link_kind if k != "fifo"]
    if odd:
        return False, f"a {odd[0]} link can reorder, repeat or lose a delivery (only FIFO links keep por on)"
    if fs.partitions:
        return False, ("a partition disables deliveries between leaders that both keep running (of the"
                       " faults only crashes keep por on)")
    if fs.clock_jumps:
        return False, ("a clock jump changes the stamps of later commits according to when it happens (of the"
                       " faults only crashes keep por on)")
    if fs.failovers:
        return False, ("a failover moves where later writes commit (of the faults only crashes keep por on)")
    if fs.lose_unsent:
        return False, ("faults.lose_unsent: a crash also drops what the crashed leader sent but was not"
                       " delivered yet, so it disables deliveries to the other leaders, not only to itself")
    if fs.recoveries and system.timed:
        return False, ("crashes with recovery under time_ms: a crash delays the crashed leader's due commits,"
                       " which changes the real-time order of other leaders' later commits")
    return True, ""
