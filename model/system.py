"""A spec compiled into a transition system: states, events, successors.

The state encoding (``(leaders, links, writes, loop, faults[, now])``, small
ints and tuples only) is spelled in :mod:`model.state`, with a named accessor
per component; every other module reads states through it.  This module is
the encoding's other owner: its transition code (successors, commit,
deliver, faults, judged states) unpacks and rebuilds states positionally,
on purpose, in its hot loops.

Events (actions) are small ints: ``i < len(ops)`` commits op ``i`` at its
leader; ``len(ops) + j`` delivers the head message of link ``j``.

Each leader runs its operations in the order the spec lists them (a client
session: program order); ``after`` adds cross-leader waits.  Everything
else interleaves freely (docs/model.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass

from replcheck.model import clocks
from replcheck.model import faults as fl
from replcheck.model import topology as topo
from replcheck.model.errors import SpecError
from replcheck.model.propagation import can_loop
from replcheck.model.narration import Event, Narration  # noqa: F401  (Event: re-exported)
from replcheck.model.reductions import Reductions
from replcheck.model.resolvers.base import REJECTED
from replcheck.model.resolvers.compile import KeyTypes, compile_types
from replcheck.model.routing import forward_open as routing_forward_open
from replcheck.model.spec import Spec
# The message encoding and the tombstone value id, spelled in model/state.py (re-exported).
from replcheck.model.state import AUX_MASK, DELETED, MSG_BITS, MSG_MASK, ORIGIN_BITS, TIME_SHIFT  # noqa: F401 (re-exported)
# The positions of the state's components, of a leader's and of a write entry's fields.
from replcheck.model.state import (APPLIED, CRASHED, DATA, FAULTS, HB, HOMES, LEADERS, LINKS, LOOP, NOW, ORIGIN, REGS,
                                   TS, WRITES)


@dataclass(frozen=True)
class Op:
    """A workload operation, compiled to indices."""

    index: int
    id: str
    leader: int
    leader_name: str
    key: int
    key_name: str
    kind: str
    value: str | None
    value_id: int
    time_ms: int | None
    after_mask: int
    amount: int = 0       # incr / decr / transfer
    target: int = -1      # transfer: the leader receiving the rights
    origin: int = -1      # the leader that commits it (its home under home-leader routing)


def offline_periods(ops, leader_index, offline) -> tuple[tuple[int, int, int], ...]:
    """``(leader, before, during)`` per offline period of ``[faults]
    offline``: the bitmasks of the ops the leader's session issues before
    the period and during it (the loader made them one interval of the
    session).  Pure."""
    out = []
    for name, ids in offline:
        l = leader_index[name]
        during = sum(1 << op.index for op in ops if op.id in ids)
        first = min(op.index for op in ops if op.id in ids)
        before = sum(1 << op.index for op in ops if op.leader == l and op.index < first)
        out.append((l, before, during))
    return tuple(out)


# Attributes fixed at construction (never written later).
# The stamp of every commit when timestamps are dropped (System.stamps).
NO_STAMP = (0,)
_FIXED = frozenset({"ghost", "stamps", "reductions"})


def adopt(wrapper, base) -> None:
    """Copy into ``wrapper`` (a wrapper model: model/reduced.py,
    model/relay.py) everything of the plain model ``base`` that the
    wrapper's class does not define — its compiled spec, its primitive
    commit and delivery steps — once, so reading it costs what reading an
    own attribute costs (a class with ``__getattr__`` would lose CPython's
    attribute specialisation: measured 8-10 % slower on B7), and set
    ``wrapper.base``."""
    d = wrapper.__dict__
    own = set(dir(type(wrapper)))
    for name in dir(type(base)):
        if not name.startswith("__") and name not in own:
            d[name] = getattr(base, name)
    for name, value in vars(base).items():
        if name not in own:
            d[name] = value
    d["base"] = base


class System(Narration):
    """The plain transition system of one spec (pure, deterministic): no
    reduction.  ``ghost=False`` compiles it without ghost happens-before
    (a variant of the model the planner chooses when nothing reads it);
    the other reductions wrap it (:mod:`model.reduced`)."""

    # The plain model reduces nothing (model/reduced.py wraps it when the planner
    # chooses reductions); consumers read these to tell the two apart.
    por = False
    crash_por = False
    dead_content = False
    symmetry = None
    relay = False
    _doom = False

    def __setattr__(self, name, value):
        if name in _FIXED and self.__dict__.get("_sealed"):
            raise AttributeError(f"System.{name} is fixed at construction; build System(spec, ghost=...)"
                                 " or model.reduced.build(spec, Reductions(...)) (the planner chooses them)")
        object.__setattr__(self, name, value)

    def __init__(self, spec: Spec, *, ghost: bool = True, stamps: bool = True):
        self.spec = spec
        self.leaders = spec.leaders
        self.n = len(spec.leaders)
        li = {name: i for i, name in enumerate(spec.leaders)}
        keys: list[str] = []
        for o in spec.workload:
            if o.key not in keys:
                keys.append(o.key)
        self.keys = tuple(keys)
        values: list[str | None] = [None]
        for o in spec.workload:
            if o.value is not None and o.value not in values:
                values.append(o.value)
        self.values = tuple(values)
        ids = {o.id: i for i, o in enumerate(spec.workload)}
        ops = []
        for i, o in enumerate(spec.workload):
            after = 0
            for d in o.after:
                after |= 1 << ids[d]
            ops.append(Op(i, o.id, li[o.leader], o.leader, keys.index(o.key), o.key, o.kind, o.value,
                          values.index(o.value), o.time_ms, after, getattr(o, "amount", 0),
                          li[o.target] if getattr(o, "target", None) else -1, li[o.leader]))
        self.ops = tuple(ops)
        self.op_index = ids
        self.nops = len(ops)
        self.leader_ops = tuple(tuple(op.index for op in ops if op.leader == l) for l in range(self.n))
        self.key_mask = tuple(sum(1 << op.index for op in ops if op.key == k) for k in range(len(keys)))

        if spec.topology == "all-to-all":
            self.topology = topo.all_to_all(self.n)
        elif spec.topology == "ring":
            self.topology = topo.ring(self.n)
        elif spec.topology == "star":
            self.topology = topo.star(self.n, li[spec.hub])
        else:
            self.topology = topo.custom(self.n, [(li[a], li[b]) for a, b in spec.edges])
        edges = self.topology.edges
        self.edges = edges
        link_of = {e: j for j, e in enumerate(edges)}
        self.origin_links = tuple(tuple(link_of[(l, d)] for d in self.topology.origin_targets(l))
                                  for l in range(self.n))
        self.forward_links = {(d, s): tuple(link_of[(d, t)] for t in self.topology.forward_targets(d, s))
                              for (s, d) in edges}
        self.loop_mode = spec.loop_prevention
        self.forwards = spec.topology != "all-to-all"
        # A message forwarded over more links than the graph has has repeated
        # a link; with memoryless forwarding (origin/none) it can repeat it
        # forever: replication does not terminate.
        self.max_hops = len(edges)
        # Whether that can happen at all (model/propagation.py can_loop): when it
        # cannot, no loop guard is needed (checks/planner.py).
        self.loops_possible = self.forwards and can_loop(self.topology, self.loop_mode)

        self.clock = spec.clock
        self.offsets = tuple(spec.offset(name) for name in spec.leaders)
        # One data type per key (model/resolvers/compile.py): sets self.types,
        # self.routing, each op's commit leader (Op.origin), extra value ids.
        self.types = compile_types(self, spec)
        self._renaming_safe = all(t.renaming_safe for t in self.types)   # System.images
        ops = self.ops
        self.resolver = KeyTypes(self.types, self.routing)
        if spec.faults.failovers:
            self._check_failover_keys(spec)

        # Flat lookup tables for the hot path (_deliver runs once per transition).
        self._apply_k = tuple(t.apply for t in self.types)
        self._lamport = spec.clock == "lamport"
        self._hlc = spec.clock == "hlc"
        self._drop_own = self.loop_mode == "origin"
        self._op_leader = tuple(op.origin for op in ops)
        self._op_key = tuple(op.key for op in ops)
        self._link_info = tuple((s, d, tuple((t, edges[t][1]) for t in self.forward_links[(d, s)]))
                                for s, d in edges)

        # Faults and link kinds (model/faults.py).  Without them the fast
        # path below never looks at them.
        fs = spec.faults
        self.fault_spec = fs
        kinds = {(li[a], li[b]): k for a, b, k in spec.link_kinds}
        for (a, b), name in [((li[a], li[b]), f"system.link_kinds.{a} -> {b}") for a, b, _ in spec.link_kinds] + \
                [((li[a], li[b]), f"system.latency_ms.{a} -> {b}") for a, b, _ in spec.latency_ms if a != "*"]:
            if (a, b) not in edges:
                raise SpecError(spec.source, name, f"the {spec.topology} topology has no link"
                                f" {spec.leaders[a]} -> {spec.leaders[b]}; name one of its links"
                                " (replcheck topology SPEC lists them)")
        self.link_kind = tuple(kinds.get(e, spec.links) for e in edges)
        pairs = sorted({(min(a, b), max(a, b)) for a, b in edges})
        self.pairs = tuple(pairs)
        self.pair_of_link = tuple(pairs.index((min(a, b), max(a, b))) for a, b in edges)
        self.crashable = tuple(li[x] for x in fs.crashable) if fs.crashable else tuple(range(self.n))
        self.jump_ms = tuple(dict(fs.clock_jumps).get(name, 0) for name in spec.leaders)
        self.in_links = tuple(tuple(j for j, (_, d) in enumerate(edges) if d == l) for l in range(self.n))
        self.out_links = tuple(tuple(j for j, (s_, _) in enumerate(edges) if s_ == l) for l in range(self.n))
        self._unordered = tuple(j for j, k in enumerate(self.link_kind) if k == "unordered")
        self.fault_base = fl.FAULT_BASE
        self.general = fs.any or any(k != "fifo" for k in self.link_kind)
        self._failover_possible = bool(fs.failovers)
        self.failover_order = tuple(li[x] for x in fs.failover_order) or tuple(range(self.n))
        self.offline_periods = offline_periods(self.ops, li, fs.offline)
        self.offline_ops = sum(during for _, _, during in self.offline_periods)
        # Ghost happens-before (write hb, leader causal past): kept unless the
        # planner found that no key type and no invariant reads it
        # (docs/reductions.md "Dead variables").
        self.ghost = ghost
        # Write timestamps: kept unless the planner found that nothing reads
        # them — a wall clock (the stamp is the commit's real time and no
        # leader clock moves) and no key type that uses the clock
        # (docs/reductions.md "Dead timestamps"); then every commit is stamped
        # (0,) and runs that differ only in commit order merge.
        if not stamps and self.stamps_needed():
            raise ValueError("timestamps can be dropped only under a wall clock with no key type that reads them"
                             " (System.stamps_needed)")
        self.stamps = stamps
        self.reductions = Reductions(ghost=ghost, stamps=stamps)

        # Real time (docs/model.md "Real time"): only when some op gives time_ms.
        self.timed = any(op.time_ms is not None for op in ops)
        self._link_lat = tuple(spec.link_latency(spec.leaders[s_], spec.leaders[d]) or 0 for s_, d in edges)
        self._latency = self.timed and any(self._link_lat)
        self._t_base = min((op.time_ms for op in ops if op.time_ms is not None), default=0)
        self._fwd_lat = tuple(tuple(spec.link_latency(a, b) or 0 for b in spec.leaders) for a in spec.leaders)
        self._pair_index = {p: i for i, p in enumerate(self.pairs)}
        self._sealed = True

    # ----------------------------------------------------------------- states
    def initial_state(self):
        c0 = clocks.initial(self.clock)
        empty = tuple(t.initial() for t in self.types)
        leaders = tuple((0, 0, c0, empty) for _ in range(self.n))
        faults = fl.NO_FAULTS if self.general else ()
        return (leaders, tuple(() for _ in self.edges), (None,) * self.nops, 0,
                faults) + ((clocks.REAL_NEVER,) if self.timed else ())

    def _next_op(self, l: int, writes) -> int | None:
        for i in self.leader_ops[l]:
            if writes[i] is None:
                return i
        return None

    def successors(self, state) -> list:
        """``[(action, next_state), ...]`` for every enabled action, progress
        events (commits, deliveries, allowed repairs) before faults."""
        if self.general:
            return self._successors_general(state)
        leaders, links, writes = state[LEADERS], state[LINKS], state[WRITES]
        out = [(i, self._commit(state, i)) for i in self._ready(leaders, writes)]
        base = self.nops
        for j, q in enumerate(links):
            if q:
                out.append((base + j, self._deliver(state, j)))
        return self._in_real_time(state, out) if self.timed else out

    def _ready(self, leaders, writes, skip: int = 0) -> list:
        """The ops whose commit is enabled (docs/model.md §2): per leader not
        in the bitmask ``skip`` and not forgotten by a reduction (``None``),
        its next uncommitted op, when every op it waits on (``after``) is
        applied there."""
        out = []
        ops = self.ops
        for l, ops_l in enumerate(self.leader_ops):
            x = leaders[l]
            if x is None or (skip >> l) & 1:
                continue
            for i in ops_l:
                if writes[i] is None:
                    if not (ops[i].after_mask & ~x[APPLIED]):
                        out.append(i)
                    break
        return out

    def step(self, state, action: int):
        """The state after ``action``; ``ValueError`` if it is not enabled."""
        for a, t in self.successors(state):
            if a == action:
                return t
        raise ValueError(f"action {self.action_name(action)} is not enabled")

    # The model protocol's reduction hooks (model/reduced.py gives the reduced ones):
    # the plain model judges each quiescent state as itself, a path is its own run,
    # and the length of a run to a state depends on the run.
    def images(self, state):
        """The quiescent states a quiescent ``state`` stands for: itself."""
        yield state

    def expansions(self, path):
        """The plain runs behind ``path``: itself."""
        yield tuple(path)

    def expand_path(self, path) -> tuple[int, ...]:
        return tuple(path)

    def run_length(self, state, depth: int) -> int | None:
        """``None``: the length of a plain run to ``state`` depends on the run."""
        return None

    def run_length_is_constant(self) -> bool:
        return False

    def rebuilt_alike(self, state) -> bool:
        """Only a reduced model rebuilds forgotten leaders (model/por.py)."""
        return False

    def faults_are_crash_only(self) -> bool:
        """True when the spec has faults and they are crashes only, on FIFO
        links, without ``lose_unsent`` (:func:`model.por.faults_are_crash_only`)."""
        from replcheck.model.por import faults_are_crash_only
        return faults_are_crash_only(self)

    def stamps_needed(self) -> bool:
        """Whether anything reads write timestamps: any clock but a wall
        clock (a Lamport or HLC stamp also moves leader clocks), or a key
        type whose catalogue entry uses the clock (``uses_clock``: lww and
        its presets, first-writer-wins...).  Invariants read them only in
        their messages, which are rebuilt on the plain model's replay."""
        return self.clock != "wall" or any(t.ctx.entry.uses_clock for t in self.types)

    def ghost_needed_by_types(self) -> bool:
        """Whether some key's resolver reads ghost happens-before (siblings,
        delete rules, origin detection...); only plain LWW does not."""
        return any(getattr(t, "uses_hb", True) for t in self.types)

    # ------------------------------------------------- faults and link kinds
    def _successors_general(self, state) -> list:
        leaders, links, writes, loop, F = state[:NOW]
        crashed, cut, jumped, crashes_used, cuts_used, homes = F
        fs = self.fault_spec
        out = []
        ops = self.ops
        settle = self._settle
        away = self.offline_leaders(writes) if self.offline_periods else 0
        for l in range(self.n):
            if (crashed >> l) & 1:
                continue
            for i in self.leader_ops[l]:
                if writes[i] is None:
                    if not (ops[i].after_mask & ~leaders[l][0]):
                        home = self._committer(state, i)
                        if (away >> l) & 1 and home != l:
                            out.append((i, settle(self._refuse_offline(state, i))))
                        elif (home == l or not (away >> home) & 1) and self._forward_open(F, l, home):
                            out.append((i, settle(self._commit(state, i))))
                    break
        base = self.nops
        open_links = []
        for j, q in enumerate(links):
            if not q or (crashed >> self.edges[j][1]) & 1 or (cut >> self.pair_of_link[j]) & 1:
                continue
            if away and ((away >> self.edges[j][0]) & 1 or (away >> self.edges[j][1]) & 1):
                continue   # held while either end is offline
            open_links.append(j)
            if self.link_kind[j] == "unordered":
                last = None
                for p, m in enumerate(q):
                    if m != last:
                        last = m
                        out.append((fl.code(fl.DELIVER_AT, j << 8 | p),
                                    settle(self._deliver(self._to_head(state, j, p), j))))
            else:
                out.append((base + j, settle(self._deliver(state, j))))
        if fs.recoveries:
            for l in range(self.n):
                if (crashed >> l) & 1:
                    out.append((fl.code(fl.RECOVER, l),
                                self._refault(state, (crashed & ~(1 << l),) + F[1:])))
        if fs.heals:
            for p in range(len(self.pairs)):
                if (cut >> p) & 1:
                    out.append((fl.code(fl.HEAL, p), self._refault(state, (crashed, cut & ~(1 << p)) + F[2:])))
        if crashes_used < fs.crashes:
            for l in self.crashable:
                if not (crashed >> l) & 1:
                    out.append((fl.code(fl.CRASH, l), self._crash(state, l)))
        if cuts_used < fs.partitions:
            for p in range(len(self.pairs)):
                if not (cut >> p) & 1:
                    out.append((fl.code(fl.CUT, p),
                                self._refault(state, (crashed, cut | 1 << p, jumped, crashes_used, cuts_used + 1, homes))))
        if self.fault_spec.failovers and self._failovers_left(state):
            cur = homes[:len(self.keys)] if homes else self.routing.homes
            for h in range(self.n):
                if any(self.routing.routed[k] and cur[k] == h for k in range(len(self.keys))):
                    out.append((fl.code(fl.FAILOVER, h), self._failover(state, h)))
        for l in range(self.n):
            if self.jump_ms[l] and not (jumped >> l) & 1 and not (crashed >> l) & 1:
                out.append((fl.code(fl.JUMP, l), self._refault(state, (crashed, cut, jumped | 1 << l) + F[3:])))
        for j in open_links:
            q = links[j]
            kind = self.link_kind[j]
            if kind == "duplicating" and not q[0] & fl.FLAG:
                nxt = self._deliver(state, j)
                nlinks = nxt[LINKS][:j] + ((q[0] | fl.FLAG,) + nxt[LINKS][j],) + nxt[LINKS][j + 1:]
                out.append((fl.code(fl.DUPLICATE, j), settle((nxt[LEADERS], nlinks) + nxt[2:])))
            elif kind == "lossy" and len(q) > 1 and not q[0] & fl.FLAG:
                nlinks = links[:j] + (q[1:] + (q[0] | fl.FLAG,),) + links[j + 1:]
                out.append((fl.code(fl.LOSE, j), (leaders, nlinks, writes, loop, F) + state[NOW:]))
        return self._in_real_time(state, out) if self.timed else out

    # --------------------------------------------------------------- real time
    def _due(self, i: int, l: int) -> int | None:
        """When op ``i`` commits if ``l`` commits it as soon as it can: its
        ``time_ms``, plus the one-way latency of the forward when it is
        routed to a home ``l`` elsewhere (docs/model.md "Real time");
        ``None`` for an op without ``time_ms``."""
        op = self.ops[i]
        t = op.time_ms
        if t is None or l == op.leader:
            return t
        return t + self._fwd_lat[op.leader][l]

    def _arrival(self, now: int, j: int) -> int:
        """The earliest-arrival field of a message sent over link ``j`` at
        real time ``now`` (0: sent before any timed event, unconstrained)."""
        if now == clocks.REAL_NEVER:
            return 0
        return (now + self._link_lat[j] - self._t_base + 1) << TIME_SHIFT

    def _earliest(self, m: int) -> int | None:
        """A message's earliest real arrival time (``None``: unconstrained)."""
        f = m >> TIME_SHIFT
        return f + self._t_base - 1 if f else None

    def _event_time(self, state, action: int) -> int | None:
        """The real time at which ``action`` would happen at the earliest."""
        if action < self.nops:
            home, op = self._committer(state, action), self.ops[action]
            if self.offline_periods and home != op.leader and (self.offline_leaders(state[WRITES]) >> op.leader) & 1:
                return op.time_ms   # refused at the offline leader: no forward is made (_refuse_offline)
            return self._due(action, home)
        if not self._latency:
            return None
        kind, j, pos = self.decode(action)
        if kind in ("deliver", "duplicate"):
            return self._earliest(state[LINKS][j][pos])
        return None

    def _in_real_time(self, state, out: list) -> list:
        """The successors whose event may happen next in real time: none
        before an enabled commit of a timed op due strictly earlier (it
        would have committed first).  docs/model.md "Real time"."""
        times = [self._event_time(state, a) for a, _ in out]
        due = [t for (a, _), t in zip(out, times) if a < self.nops and t is not None]
        if not due:
            return out
        bound = clocks.real_bound(state[NOW], due)
        return [x for x, t in zip(out, times) if clocks.in_time(t, bound)]

    def real_time(self, state) -> int | None:
        """The lower bound on real time the state keeps (``None``: untimed spec
        or no timed event yet)."""
        if not self.timed or state[NOW] == clocks.REAL_NEVER:
            return None
        return state[NOW]

    # ---------------------------------------------------------- offline periods
    def offline_leaders(self, writes) -> int:
        """Bitmask of the leaders offline given the write table: a leader
        is offline once every op its session issues before its offline
        period is done, until every op of the period is done (committed
        locally, or refused: docs/model.md "Offline periods")."""
        done = 0
        for i, meta in enumerate(writes):
            if meta is not None:
                done |= 1 << i
        away = 0
        for l, before, during in self.offline_periods:
            if done & before == before and done & during != during:
                away |= 1 << l
        return away

    def _refuse_offline(self, state, i: int):
        """Op ``i`` is issued at its offline leader, but its key's home is
        another leader, out of reach: the write cannot be made.  Its entry
        is a rejection (done, not acknowledged, never replicated, in
        nobody's causal past) whose fourth field names the offline leader
        (:meth:`refused_offline`); the client's session moves on."""
        leaders, links, writes = state[LEADERS], state[LINKS], state[WRITES]
        op = self.ops[i]
        rt = state[NOW:]
        if op.time_ms is not None:
            rt = (clocks.advance(rt[0], op.time_ms),)
        real = rt[0] if op.time_ms is not None else 1 + sum(1 for x in writes if x is not None)
        _, ts = clocks.tick(self.clock, leaders[op.leader][2], real + self.offsets[op.leader])
        entry = (ts, 0, REJECTED, op.leader)
        return (leaders, links, writes[:i] + (entry,) + writes[i + 1:]) + state[LOOP:NOW] + rt

    @staticmethod
    def refused_offline(meta) -> bool:
        """Whether a write-table entry is a write that could not be made
        because its leader was offline and the key's home out of reach
        (a rejection with the offline leader as its fourth field)."""
        return meta is not None and len(meta) > 3 and meta[DATA] == REJECTED

    # ---------------------------------------------------------------- failover
    def _check_failover_keys(self, spec) -> None:
        """Refuse ``faults.failovers`` unless some key has a home and every
        key with a home can fail over: a register under any resolver whose
        rule compares or keeps writes of two homes (lww under any clock,
        mv-register, the register presets; the type's ``fails_over``).
        Counters, sets, tables and Y.Map keys keep their homes fixed
        (docs/model.md "Failover of home leaders")."""
        routed = [k for k in range(len(self.keys)) if self.routing.routed[k]]
        # (system.homes matching a key it cannot route is refused at compile time:
        # model/resolvers/compile.py _check_homes_used.)
        if not routed:
            raise SpecError(spec.source, "faults.failovers", "no key has a home leader, so nothing can fail"
                            " over; give a key one: [keys.\"k\"] home = \"<leader>\", or system.homes"
                            " (or resolver = \"home-leader\")")
        for k in routed:
            t = getattr(self.types[k], "inner", self.types[k])
            if not getattr(t, "fails_over", False):
                name = t.ctx.entry.name if t.ctx is not None else "?"
                raise SpecError(spec.source, "faults.failovers",
                                f"key '{self.keys[k]}' ({name}, a {t.family}) has a home that cannot fail over:"
                                f" failover is modelled for register keys (lww, mv-register, the register"
                                f" presets; not yjs-map); give '{self.keys[k]}' no home or drop faults.failovers")

    def _forward_open(self, F, issuer: int, home: int) -> bool:
        """Whether op traffic from ``issuer`` reaches the committing leader
        ``home`` in fault state ``F`` (:func:`model.routing.forward_open`)."""
        pair = None if issuer == home else self._pair_index.get((min(issuer, home), max(issuer, home)))
        return routing_forward_open(issuer, home, F[0], F[1], pair)

    def committed_at(self, state, w: int) -> int:
        """The leader that actually committed write ``w``: its home when
        routed, or the home a failover moved it to (recorded in the write
        table, model/resolvers/register.origin_of)."""
        meta = state[WRITES][w]
        if self._failover_possible and meta is not None and len(meta) > 3:
            return meta[ORIGIN]
        return self.ops[w].origin

    def _committer(self, state, i: int) -> int:
        """The leader that commits op ``i`` now: its key's current home under
        home-leader routing (which a failover moves), else where it was issued."""
        op = self.ops[i]
        if self._failover_possible:
            h = self.routing.home(op.key, state)
            if h is not None:
                return h
        return op.origin

    def _failovers_left(self, state) -> bool:
        return self._failover_count(state[FAULTS][HOMES]) < self.fault_spec.failovers

    def _failover_count(self, homes) -> int:
        return homes[len(self.keys)] if len(homes) > len(self.keys) else 0

    def next_home(self, h: int) -> int:
        order = self.failover_order
        i = order.index(h) if h in order else -1
        for step in range(1, len(order) + 1):
            cand = order[(i + step) % len(order)]
            if cand != h:
                return cand
        return h

    def _failover(self, state, h: int):
        """Every key homed at ``h`` moves to the next leader of the order."""
        F = state[FAULTS]
        cur = F[5][:len(self.keys)] if F[5] else self.routing.homes
        nxt = self.next_home(h)
        homes = tuple(nxt if self.routing.routed[k] and cur[k] == h else cur[k] for k in range(len(self.keys)))
        count = self._failover_count(F[5]) + 1
        return state[:FAULTS] + (F[:5] + (homes + (count,),),) + state[NOW:]

    @staticmethod
    def _refault(state, faults):
        return state[:FAULTS] + (faults,) + state[NOW:]

    @staticmethod
    def with_faults(state, faults):
        """``state`` with its fault component replaced (for model/symmetry.py,
        which renames the leaders it names)."""
        return state[:FAULTS] + (faults,) + state[NOW:]

    @staticmethod
    def _to_head(state, j: int, p: int):
        q = state[LINKS][j]
        links = state[LINKS][:j] + ((q[p],) + q[:p] + q[p + 1:],) + state[LINKS][j + 1:]
        return (state[LEADERS], links) + state[WRITES:]

    def _settle(self, state):
        """Drop messages to leaders that crashed for good; keep unordered
        links canonical (sorted: only the multiset matters)."""
        links = state[LINKS]
        crashed = state[FAULTS][CRASHED]
        new = None
        if crashed and not self.fault_spec.recoveries:
            for l in range(self.n):
                if (crashed >> l) & 1:
                    for j in self.in_links[l]:
                        if links[j]:
                            new = new or list(links)
                            new[j] = ()
        for j in self._unordered:
            q = (new or links)[j]
            if len(q) > 1:
                sq = tuple(sorted(q))
                if sq != q:
                    new = new or list(links)
                    new[j] = sq
        if new is None:
            return state
        return (state[LEADERS], tuple(new)) + state[WRITES:]

    def _crash(self, state, l: int):
        crashed, cut, jumped, used, cuts, homes = state[FAULTS][:6]
        links = list(state[LINKS])
        if not self.fault_spec.recoveries:
            for j in self.in_links[l]:
                links[j] = ()
        if self.fault_spec.lose_unsent:
            for j in self.out_links[l]:
                links[j] = ()
        # (a crash-reduced state's seventh field, the leaders chosen to crash, is kept)
        return (state[LEADERS], tuple(links), state[WRITES], state[LOOP],
                (crashed | 1 << l, cut, jumped, used + 1, cuts, homes) + state[FAULTS][6:]) + state[NOW:]

    def decode(self, action: int) -> tuple:
        """``(kind, x, position)``: kind is commit, deliver, recover, heal,
        crash, cut, clock-jump, duplicate or lose; x the op, link, leader or
        pair index."""
        if action < self.nops:
            return ("commit", action, 0)
        if action < fl.FAULT_BASE and fl.kind_of(action) == 0:
            return ("deliver", action - self.nops, 0)
        kind, payload = fl.kind_of(action), action & fl.PAYLOAD
        if kind == fl.DELIVER_AT:
            return ("deliver", payload >> 8, payload & 255)
        return (fl.KIND_NAMES[kind], payload, 0)

    def _commit(self, state, i: int):
        leaders, links, writes, loop, faults = state[:NOW]
        op = self.ops[i]
        k = op.key
        # The key's home under home-leader routing (model/routing.py), moved by failovers.
        l = self._committer(state, i) if self._failover_possible else op.origin
        applied, past, clock, regs = leaders[l]
        rt = state[NOW:]
        if op.time_ms is not None:
            # Real time of the commit (docs/model.md "Real time"): when the op
            # is due, or later if it could only commit late (after, program order).
            real = clocks.advance(rt[0], self._due(i, l))
            rt = (real,)
        else:
            real = 1 + sum(1 for x in writes if x is not None)
        off = self.offsets[l]
        if faults and (faults[2] >> l) & 1:
            off += self.jump_ms[l]
        clock, ts = clocks.tick(self.clock, clock, real + off)
        if not self.stamps:
            ts = NO_STAMP
        entry = self.types[k].stamp(op, ts, past if self.ghost else 0, regs[k], writes)
        if self._failover_possible and l != op.origin and not (len(entry) > 2 and entry[DATA] == REJECTED):
            # Committed away from its static home: record where (model/resolvers/register.origin_of).
            entry = (entry + (None,) if len(entry) == 2 else entry[:3]) + (l,)
        if len(entry) > 2 and entry[DATA] == REJECTED:
            # Refused by a local check (escrow rights): done, not acknowledged,
            # not replicated, in nobody's causal past.
            return (leaders, links, writes[:i] + (entry,) + writes[i + 1:], loop, faults) + rt
        writes = writes[:i] + (entry,) + writes[i + 1:]
        content = self._apply_k[k](regs[k], i, writes, True)
        bit = 1 << i
        leader = (applied | bit, past | bit, clock, regs[:k] + (content,) + regs[k + 1:])
        leaders = leaders[:l] + (leader,) + leaders[l + 1:]
        if self.loop_mode == "visited":
            msg = i | (1 << l) << MSG_BITS
        elif self.forwards:
            msg = i | 1 << MSG_BITS
        else:
            msg = i
        if self._failover_possible:
            msg |= l << fl.ORIGIN_SHIFT   # the actual origin, for origin loop prevention
        links = list(links)
        if self._latency:
            for j in self.origin_links[l]:
                links[j] = links[j] + (msg | self._arrival(rt[0], j),)
        else:
            for j in self.origin_links[l]:
                links[j] = links[j] + (msg,)
        return (leaders, tuple(links), writes, loop, faults) + rt

    def _deliver(self, state, j: int):
        leaders, links, writes, loop, faults = state[:NOW]
        src, dst, targets = self._link_info[j]
        q = links[j]
        m = q[0]
        w = m & MSG_MASK
        rt = state[NOW:]
        if self._latency:
            # Not before the message's earliest arrival (docs/model.md "Real time").
            rt = (clocks.advance(rt[0], self._earliest(m)),)
        if self._drop_own and (((m >> fl.ORIGIN_SHIFT) & 0xFF) if self._failover_possible
                               else self._op_leader[w]) == dst:
            return (leaders, links[:j] + (q[1:],) + links[j + 1:], writes, loop, faults) + rt
        meta = writes[w]
        applied, past, clock, regs = leaders[dst]
        k = self._op_key[w]
        content = self._apply_k[k](regs[k], w, writes, False)
        bit = 1 << w
        if self._lamport:
            if clock < meta[TS][0]:
                clock = meta[TS][0]
        elif self._hlc:
            if clock < meta[TS]:
                clock = meta[TS]
        leader = (applied | bit, past | bit | meta[HB], clock, regs[:k] + (content,) + regs[k + 1:])
        leaders = leaders[:dst] + (leader,) + leaders[dst + 1:]
        if not targets:
            return (leaders, links[:j] + (q[1:],) + links[j + 1:], writes, loop, faults) + rt
        links = list(links)
        links[j] = q[1:]
        aux = (m >> MSG_BITS) & AUX_MASK
        if self._failover_possible:
            w |= m & ORIGIN_BITS   # keep the origin on forwarded copies
        lat = self._latency
        if self.loop_mode == "visited":
            vis = aux | 1 << dst
            msg = w | vis << MSG_BITS
            for t, to in targets:
                if not (vis >> to) & 1:
                    links[t] = links[t] + ((msg | self._arrival(rt[0], t)) if lat else msg,)
        elif aux + 1 > self.max_hops:
            if not loop:
                loop = (w & MSG_MASK) + 1
        else:
            msg = w | (aux + 1) << MSG_BITS
            for t, _ in targets:
                links[t] = links[t] + ((msg | self._arrival(rt[0], t)) if lat else msg,)
        return (leaders, tuple(links), writes, loop, faults) + rt

    # ----------------------------------------------------------- observation
    def visible(self, state, leader: int, key: int) -> tuple:
        """What a reader at ``leader`` sees for ``key``: for a register the
        sorted value ids held (several = siblings), ``()`` when absent or
        deleted; for other key types a :class:`~model.resolvers.base.View`
        (a count, a set, a winner with its conflicts)."""
        return self.types[key].visible(state[LEADERS][leader][REGS][key], state[WRITES])

    def held_writes(self, state, leader: int, key: int) -> tuple[int, ...]:
        """The writes ``leader``'s value of ``key`` is made of: the writes
        held (registers, siblings), else every write to the key applied
        there (counters, sets, merges)."""
        if self.types[key].holds_writes:
            return tuple(state[LEADERS][leader][REGS][key])
        applied = state[LEADERS][leader][APPLIED] & self.key_mask[key]
        return tuple(w for w in range(self.nops) if (applied >> w) & 1)

    def live(self, state) -> tuple[int, ...]:
        """Leaders that are up (not crashed)."""
        f = state[FAULTS]
        if not f or not f[0]:
            return tuple(range(self.n))
        return tuple(l for l in range(self.n) if not (f[0] >> l) & 1)

    def happens_before(self, state, a: int, b: int) -> bool:
        """Ghost happens-before between committed writes ``a`` -> ``b``."""
        meta = state[WRITES][b]
        return meta is not None and bool((meta[HB] >> a) & 1)

    def version_vector(self, state, w: int) -> tuple[int, ...]:
        """The version vector of write ``w``: per leader, how many of its
        writes ``w`` has seen, counting ``w`` itself."""
        hb = state[WRITES][w][HB] | 1 << w
        return tuple(sum(1 for i in self.leader_ops[l] if (hb >> i) & 1) for l in range(self.n))
