"""The reduced dynamics of a :class:`model.system.System`: partial-order
reduction (done-leader elimination, also under crash-only faults), dead
busy-leader content, the images a reduced quiescent state stands for under
symmetry, and the expansion of a reduced path into a plain run -- with the
soundness argument of each next to its code (docs/reductions.md).

A mixin of :class:`~model.system.System` (issue 13, "reductions in modules
of their own"): the methods read the system's compiled spec and the
:class:`model.reductions.Reductions` fixed at its construction; they are
here so that ``system.py`` keeps the plain transition relation and this
module the reduced one.  ``applicable`` checks (``por_applicable``,
``dead_content_applicable``, ``symmetry_applicable``) are what the planner
(checks/planner.py) asks before it builds a reduced system.
"""

from __future__ import annotations

from replcheck.model import clocks
from replcheck.model import faults as fl
from replcheck.model.reductions import Reductions
from replcheck.model.resolvers.base import is_rejected
from replcheck.model.state import MSG_MASK

# Symmetry groups larger than this are not used: each quiescent
# representative is judged once per image (7! = 5040).
MAX_GROUP = 5040


class ReducedDynamics:
    """The reduced transition relation and its judged states (mixed into
    :class:`model.system.System`)."""

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
        leaders, links, writes = state[0], state[1], state[2]
        out = []
        ops = self.ops
        if canonical:
            settle = self._settle_por
        else:
            def settle(t):
                return self._settle_por(t, False)
        for l in range(self.n):
            if leaders[l] is None:
                continue
            for i in self.leader_ops[l]:
                if writes[i] is None:
                    if not (ops[i].after_mask & ~leaders[l][0]):
                        out.append((i, settle(self._commit(state, i))))
                    break
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
        leaders, links, writes = state[0], state[1], state[2]
        F = state[4]
        doom = self._doom
        if doom:
            if len(F) == fl.DOOMED:
                return []          # judged: materialized, every chosen crash happened
            doomed = F[fl.DOOMED]
            if doomed == fl.UNDOOMED:
                return [(fl.code(fl.DOOM, d), self._settle_por(self._doomed(state, d), canonical))
                        for d in self._doom_sets]
        crashed = F[0]
        if canonical:
            settle = self._settle_por
        else:
            def settle(t):
                return self._settle_por(t, False)
        ops = self.ops
        out = []
        for l in range(self.n):
            if leaders[l] is None or (crashed >> l) & 1:
                continue
            for i in self.leader_ops[l]:
                if writes[i] is None:
                    if not (ops[i].after_mask & ~leaders[l][0]):
                        out.append((i, settle(self._commit(state, i))))
                    break
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

    def _settle_por(self, state, canonical: bool = True):
        leaders, links, writes, loop, faults = state[:5]
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
            # A busy leader is only its clock (and, with ghost happens-before
            # kept, its causal past); a message that would move neither is
            # dead (both only grow, so it stays dead).
            empty = self._empty_regs
            wall, lamport, ghost = self.clock == "wall", self._lamport, self.ghost
            for l in range(self.n):
                x = (new_leaders or leaders)[l]
                if x is None:
                    continue
                if ((kept | crashed) >> l) & 1:
                    # A leader chosen to crash keeps its applied set (frozen by the
                    # crash), causal past and clock; its content is read by nothing
                    # before it is judged, and rebuilt then from the applied set.
                    if self._doom and x[3] != empty:
                        new_leaders = new_leaders or list(leaders)
                        new_leaders[l] = x[:3] + (empty,)
                    continue
                clock = x[2]
                past = x[1] if ghost else 0
                if x[0] or x[1] != past or x[3] != empty:
                    new_leaders = new_leaders or list(leaders)
                    new_leaders[l] = (0, past, clock, empty)
                for j in self.in_links[l]:
                    q = (new_links or links)[j]
                    if not q:
                        continue
                    if wall and not ghost:
                        p = len(q)
                    else:
                        p = 0
                        for m in q:
                            w = m & MSG_MASK
                            if not wall:
                                ts = writes[w][0]
                                if (ts[0] if lamport else ts) > clock:
                                    break
                            if ghost and ((1 << w) | writes[w][1]) & ~past:
                                break
                            p += 1
                    if p:
                        new_links = new_links or list(links)
                        new_links[j] = q[p:]
        if new_leaders is not None:
            leaders = tuple(new_leaders)
        if new_links is not None:
            links = tuple(new_links)
        state = (leaders, links, writes, loop, faults) + state[5:]
        if canonical and self.symmetry is not None:
            state = self.symmetry.canonical(state)
            leaders, links, writes, faults = state[0], state[1], state[2], state[4]
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
        leaders, links, writes, loop, faults = state[:5]
        rebuild = self._doom and self.dead_content   # crashed leaders' contents, from their applied sets
        if self._doom:
            faults = faults[:fl.DOOMED]   # a judged state is a plain state (crashed leaders kept whole)
        if all(x is not None for x in leaders) and not rebuild:
            return (leaders, links, writes, loop, faults) + state[5:]
        committed = [i for i, m in enumerate(writes) if m is not None and not is_rejected(m)]
        applied = 0
        past = 0
        clock = clocks.initial(self.clock)
        for i in committed:
            applied |= 1 << i
            past |= 1 << i | writes[i][1]
            clock = clocks.observe(self.clock, clock, writes[i][0])
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
        return (tuple(out), links, writes, loop, faults) + state[5:]

    def _contents(self, l: int, applied: int, writes) -> tuple:
        """Leader ``l``'s contents once it has applied the writes in
        ``applied`` (its own as local writes): under an order-independent
        merge, whatever the order it received them in."""
        regs = []
        for k, t in enumerate(self.types):
            content = t.initial()
            for i in range(self.nops):
                if (applied >> i) & 1 and self._op_key[i] == k:
                    content = self._apply_k[k](content, i, writes, self.ops[i].origin == l)
            regs.append(content)
        return tuple(regs)

    def expansions(self, path):
        """Candidate primitive paths behind a path found with reductions on.

        Without symmetry there is one, :meth:`expand_path`.  With it, the
        path runs through orbit representatives: it is first mapped to a
        real run of the reduced system (at each step the action whose
        successor has the recorded representative), then one candidate per
        renaming of that run in the group, identity first — the caller
        keeps the first whose final state shows the violation (the
        quiescent check judged every image of the representative)."""
        sym = self.symmetry
        if sym is None:
            yield self.expand_path(path)
            return
        real = []
        canon = cur = self.initial_state()
        for a in path:
            target_pre = self._unmaterialize(self._settle_por(self._primitive(canon, a)))
            for b, t in self._reduced_successors(cur, canonical=False):
                t_pre = self._unmaterialize(t)
                if sym.canonical(t_pre) == target_pre:
                    real.append(b)
                    cur = t_pre
                    break
            else:  # pragma: no cover - would be a bug in the symmetry group
                raise RuntimeError("internal error: no real step matches a symmetry-reduced step")
            canon = target_pre
        for p in sym.group():
            yield self.expand_path([sym.permute_action(a, p) for a in real])

    def images(self, state):
        """The quiescent states a quiescent ``state`` stands for: itself, or
        with symmetry on every image of the representative under the group
        (rebuilt like any quiescent reduced state)."""
        sym = self.symmetry
        if sym is None:
            yield state
            return
        # Not under dead content (never with a renaming-safe type today: mv-register
        # stamps read content): Symmetry.permute leaves dead contents unrenamed
        # (Symmetry.dead_regs), so a rebuilt state's contents must not go through it.
        if not (sym.full and self._renaming_safe) or self.dead_content:
            for t in sym.orbit(self._unmaterialize(state)):
                yield self._materialize(t)
            return
        # Whole-state symmetry over renaming-safe types (mv-register: content
        # names writes, never leaders) renames leader states entirely, and
        # rebuilding done leaders commutes with a renaming (the rebuilt state
        # is where the plain system goes, and its dynamics are symmetric:
        # docs/reductions.md "Symmetry").  Not with dead content: there the
        # group is a symmetry of the reduced dynamics only, and a rebuilt
        # leader's content may name leaders (an lww tie-break).  So
        # the representative is rebuilt once and its images renamed — not
        # each image rebuilt (issue 18 item 3; tests/model/test_reductions.py checks
        # both ways give the same set on every symmetric spec).
        whole = self._materialize(self._unmaterialize(state))
        seen = set()
        for p in sym.group():
            t = sym.permute(whole, p)
            if t not in seen:
                seen.add(t)
                yield t

    def _primitive(self, state, a: int):
        if a < self.nops:
            return self._commit(state, a)
        kind = fl.kind_of(a)
        if kind == 0:
            return self._deliver(state, a - self.nops)
        if kind == fl.DOOM:
            return self._doomed(state, a & fl.PAYLOAD)
        if kind == fl.CRASH:
            return self._crash(state, a & fl.PAYLOAD)
        F = state[4]   # RECOVER
        return self._refault(state, (F[0] & ~(1 << (a & fl.PAYLOAD)),) + F[1:])

    def _reduced_successors(self, state, canonical: bool = True) -> list:
        if self.crash_por:
            return self._successors_crash(state, canonical)
        return self._successors_por(state, canonical)

    @staticmethod
    def _doomed(state, mask: int):
        """The undecided state with the leaders in ``mask`` chosen to crash."""
        return state[:4] + (state[4][:fl.DOOMED] + (mask,),) + state[5:]

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
        if any(state[1]) or not all(x is not None for x in state[0]):
            return state
        if self._doom:
            F = state[4]
            crashed = F[0]
            if len(F) != fl.DOOMED or any(self._next_op(l, state[2]) is not None
                                          for l in range(self.n) if not (crashed >> l) & 1):
                return state
            empty = self._empty_regs
            leaders = tuple((x[:3] + (empty,) if self.dead_content else x) if (crashed >> l) & 1 else None
                            for l, x in enumerate(state[0]))
            return (leaders,) + state[1:4] + (F + (crashed,),) + state[5:]
        if any(self._next_op(l, state[2]) is not None for l in range(self.n)):
            return state
        return ((None,) * self.n,) + state[1:]

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
        for i, m in enumerate(state[2]):
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
        leaders, writes, F = state[0], state[2], state[4]
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
            F = state[4]
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
                if reduced[0][d] is not None:
                    while len(state[1][j]) > len(reduced[1][j]):
                        out.append(self.nops + j)
                        state = deliver(state, self.nops + j)
        for j in range(len(state[1])):
            while state[1][j]:
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
            state = self._primitive(state, a)
            out.append(a)
            if self.dead_content:
                # Deliver now what the reduced step dropped as dead at a busy leader.
                reduced = self._settle_por(self._primitive(reduced, a), False)
                for j, (_, d) in enumerate(self.edges):
                    if reduced[0][d] is not None:
                        while len(state[1][j]) > len(reduced[1][j]):
                            out.append(self.nops + j)
                            state = self._deliver(state, j)
        for j in range(len(state[1])):
            while state[1][j]:
                out.append(self.nops + j)
                state = self._deliver(state, j)
        return tuple(out)

    def dead_content_applicable(self, proposed: Reductions | None = None) -> tuple[bool, str]:
        """Whether a busy leader's applied set and contents (and its causal
        past, when ghost happens-before is off) are dead under ``por``
        (docs/reductions.md): nothing reads them before the leader is done
        (forgotten, then rebuilt at quiescence) when no op waits on
        ``after`` and no commit reads the committing leader's content.  With
        the ghost kept, the causal past stays (a commit stamps it).
        Returns ``(ok, reason)``."""
        if any(op.after_mask for op in self.ops):
            return False, "an op waits on 'after' (reads the applied set)"
        for op in self.ops:
            if self.types[op.key].stamp_reads_content(op):
                return False, f"op {op.id} reads its leader's content at commit"
        if (proposed.ghost if proposed else self.ghost):
            return True, ("dead busy-leader content (a leader with pending writes is only its clock and causal"
                          " past; messages that can move neither are dropped)")
        return True, ("dead busy-leader content (a leader with pending writes is only its clock; messages"
                      " that cannot move its clock are dropped)")

    def symmetry_applicable(self, proposed: Reductions | None = None) -> tuple[bool, str]:
        """Whether leaders can be treated as interchangeable
        (:mod:`model.symmetry`): with ``por``, all-to-all, no loop metadata
        in messages; over the reduced dynamics of ``dead_content`` (a busy
        leader is its clock), or over whole leader states when every key's
        type is renaming-safe (its content and metadata name writes, never
        leaders: mv-register); and at least two leaders with the same
        workload shape (ops count, ``time_ms`` per position, clock offset;
        for whole states also key and kind per position).  Returns ``(ok,
        reason)``."""
        r = proposed or Reductions(ghost=self.ghost, por=self.por, dead_content=self.dead_content)
        if not r.por:
            return False, "needs por (done-leader elimination)"
        if self.timed:
            return False, "time_ms: the state's real-time component is not carried by model/symmetry.py"
        if self.spec.topology != "all-to-all" or self.loop_mode == "visited":
            return False, "only all-to-all links without 'visited' loop metadata are renaming-invariant here"
        if not r.dead_content and not all(t.renaming_safe for t in self.types):
            return False, ("a key's data type may read leader names (e.g. an lww tie-break) in busy leaders' state;"
                           " only dead busy-leader content or renaming-safe types (mv-register) can be permuted")
        from replcheck.model.symmetry import Symmetry
        sym = Symmetry(self, full=not r.dead_content or r.ghost)
        if sym.order == 1:
            if sym.split_by_after:
                return False, ("no renaming of leaders with the same workload shape maps the 'after' dependencies"
                               " onto themselves")
            return False, "no two leaders have the same workload shape (ops, time_ms, clock offset)"
        if sym.order > MAX_GROUP:
            return False, f"the symmetry group has {sym.order:,} permutations (more than {MAX_GROUP:,})"
        classes = ", ".join("{" + ", ".join(self.leaders[l] for l in c) + "}" for c in sym.classes if len(c) > 1)
        kept = "; only renamings that preserve 'after'" if sym.split_by_after else ""
        return True, (f"symmetry over interchangeable leaders {classes} ({sym.order} permutations{kept}; every image"
                      " of a quiescent representative is judged)")

    @property
    def symmetry_full(self) -> bool:
        """Whether symmetry must rename the op bitmasks in leader states and
        write metadata (applied sets, causal pasts, contents): unless dead
        content reduced busy leaders to their clocks and no ghost is kept."""
        return not self.dead_content or self.ghost

    def ghost_needed_by_types(self) -> bool:
        """Whether some key's resolver reads ghost happens-before (siblings,
        delete rules, origin detection...); only plain LWW does not."""
        return any(getattr(t, "uses_hb", True) for t in self.types)

    def por_applicable(self) -> tuple[bool, str]:
        """Whether the delivery-absorption reduction is sound for this system.

        It needs deliveries to one leader to commute (the resolver's remote
        apply is order-independent), deliveries that forward nothing (so no
        queue order depends on them), and nothing that can disable a
        delivery except a crash of its receiver (FIFO links; of the faults,
        crashes only, without ``lose_unsent``; docs/reductions.md,
        "Crash-only faults").  Returns ``(ok, reason)``.
        """
        if self.offline_periods:   # whatever other faults por comes to allow (docs/model.md "Offline periods")
            return False, ("an offline period holds a leader's links and refuses its routed ops, which the reduced"
                           " system does not model")
        if self.general:
            ok, why = self._crash_only()
            if not ok:
                return False, why
        if self.forwards:
            return False, "the topology forwards writes, so delivery order shapes later queues"
        if not getattr(self.resolver, "commutes", False):
            return False, f"resolver {self.spec.resolver} does not declare an order-independent merge"
        if self._latency:
            return False, ("time_ms with system.latency_ms: a delivery is due at its earliest arrival and moves"
                           " real time, so postponing it would change later commits' times (docs/reductions.md)")
        if self.general and self.fault_spec.recoveries:
            return True, ("done-leader elimination under crashes with recovery (deliveries to leaders with no"
                          " pending writes are postponed to quiescence, where those leaders' states are rebuilt;"
                          " a crash and its recovery are taken at quiescent states only)")
        if self.general:
            return True, ("done-leader elimination under crash-only faults (each run first chooses the leaders"
                          " that crash in it and keeps them whole; deliveries to the others, once they have no"
                          " pending writes, are postponed to quiescence, where their states are rebuilt)")
        return True, ("done-leader elimination (deliveries to leaders with no pending writes are postponed"
                      " to quiescence, where those leaders' states are rebuilt)")

    def faults_are_crash_only(self) -> bool:
        """True when the spec has faults and they are crashes only, on FIFO
        links, without ``lose_unsent`` (and without recovery under
        ``time_ms``): the conditions of docs/reductions.md "Crash-only
        faults"."""
        return self.general and self._crash_only()[0]

    def _crash_only(self) -> tuple[bool, str]:
        """Whether this system's faults and link kinds leave partial-order
        reduction sound (docs/reductions.md, "Crash-only faults"): FIFO links, and
        crashes as the only fault, which disable deliveries to the crashed
        leader and nothing else.  ``(ok, reason)``."""
        fs = self.fault_spec
        odd = [k for k in self.link_kind if k != "fifo"]
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
        if fs.recoveries and self.timed:
            return False, ("crashes with recovery under time_ms: a crash delays the crashed leader's due commits,"
                           " which changes the real-time order of other leaders' later commits")
        return True, ""
