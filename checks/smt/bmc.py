"""Bounded symbolic model checking: a second engine for ``replcheck check``.

The explicit engines (:mod:`model.search`) enumerate states.  This one asks
Z3 for a run that violates an invariant, then decodes the model into the
same action path (``i < len(ops)`` commits op ``i``; ``len(ops) + j``
delivers link ``j`` of ``System.edges``), so :func:`checks.trace.build_trace`
rebuilds the trace and the usual renderers print it.

Encoding (event scheduling, not queue unrolling).  In the covered subset a
write's messages follow a fixed tree of hops (:mod:`checks.smt.routes`):
each (write, link) pair carries at most one message.  So a run is a
schedule: an integer step ``T[e]`` for every event ``e`` (a commit or a
hop's delivery), all distinct, such that

* each leader commits its ops in program order;
* an op with ``after = [d]`` commits after ``d`` was applied at its leader;
* a hop is delivered after the event that enqueued it;
* FIFO: on one link, messages are delivered in the order they were sent.

Timestamps (wall, lamport, hlc), ghost happens-before, and each leader's
final register contents are functions of the schedule, written as Z3 terms
that mirror :mod:`model.system`, :mod:`model.clocks` and the resolvers.

Depth bound.  In the covered topologies every write reaches every leader
and every op's ``after`` dependencies are eventually applied, so a state is
quiescent exactly when all ``E = len(ops) + len(hops)`` events have
happened: every maximal run has length ``E``.  ``convergence`` and
``no-lost-writes`` are judged at quiescent states only, so with depth
``K >= E`` the search covers every execution and ``holds`` is a proof; with
``K < E`` no quiescent state is reachable within ``K`` steps and the verdict
is ``incomplete (depth K)``.  ``replication-terminates`` follows from the
route analysis (a loop is rejected up front).

Covered: register keys (set/delete), FIFO links, all-to-all / ring / star,
``origin`` / ``visited`` loop prevention (``none`` where it terminates),
``lww`` over ``wall`` / ``lamport`` / ``hlc`` with any tie-break, and
``mv-register``; invariants ``convergence``, ``no-lost-writes``,
``replication-terminates``.  Everything else is rejected with a one-line
:class:`~model.errors.SpecError`.

Sources: Biere et al., "Symbolic Model Checking without BDDs", TACAS 1999
(bounded model checking); MODEL.md §7.
"""

from __future__ import annotations

import time

import z3

from checks.invariants import INVARIANTS
from checks.smt.routes import arrivals, routes
from model.clocks import HLC_NEVER
from model.errors import SpecError
from model.search import Found, SearchResult, Stats
from model.system import DELETED

ENGINE = "smt"
RESOLVERS = ("lww", "mv-register")
TOPOLOGIES = ("all-to-all", "ring", "star")
CLOCKS = ("wall", "lamport", "hlc")
COVERED_INVARIANTS = ("convergence", "no-lost-writes", "replication-terminates")


class EngineDisagreement(AssertionError):
    """The decoded run does not reproduce the violation Z3 found: a bug in
    the encoding, never a user error."""


def covered(spec, names=()) -> None:
    """Raise :class:`SpecError` unless the smt engine covers ``spec``."""
    src = spec.source
    if spec.resolver not in RESOLVERS:
        raise SpecError(src, "system.resolver", f"the smt engine covers {', '.join(RESOLVERS)}, not"
                                                f" '{spec.resolver}'; use --engine bfs")
    if spec.topology not in TOPOLOGIES:
        raise SpecError(src, "system.topology", f"the smt engine covers {', '.join(TOPOLOGIES)}, not"
                                                f" '{spec.topology}'; use --engine bfs")
    if spec.clock not in CLOCKS:
        raise SpecError(src, "system.clock", f"the smt engine covers {', '.join(CLOCKS)}; use --engine bfs")
    if spec.links != "fifo" or any(k != "fifo" for *_, k in getattr(spec, "link_kinds", ())):
        raise SpecError(src, "system.links", "the smt engine covers fifo links only; use --engine bfs")
    faults = getattr(spec, "faults", None)
    if faults is not None and getattr(faults, "any", False):
        raise SpecError(src, "faults", "the smt engine does not cover faults yet; use --engine bfs")
    # Spec features that change a key's semantics (being added to the spec
    # format concurrently): read with getattr so older specs still load.
    for key in ("keys", "homes", "delete_rule", "merge"):
        if getattr(spec, key, None):
            where = "keys" if key == "keys" else f"system.{key}"
            raise SpecError(src, where, f"the smt engine does not cover {key.replace('_', ' ')} yet; use --engine bfs")
    for i, op in enumerate(spec.workload):
        if op.kind not in ("set", "delete"):
            raise SpecError(src, f"workload[{i}]", f"the smt engine covers register writes (set/delete), not"
                                                   f" '{op.kind}'; use --engine bfs")
    for n in names:
        if n not in COVERED_INVARIANTS:
            raise SpecError(src, "check.invariants", f"the smt engine covers {', '.join(COVERED_INVARIANTS)},"
                                                     f" not '{n}'; use --engine bfs")


def execution_bound(system) -> int:
    """``E``: the length of every maximal run (commits + message hops)."""
    covered(system.spec)
    return system.nops + len(routes(system))


# ------------------------------------------------------------------ helpers
def _max(terms, floor):
    m = floor
    for t in terms:
        m = z3.If(t > m, t, m)
    return m


def _lex_gt(a, b):
    """``a > b`` for equal-length tuples of Z3/Python ints."""
    out = z3.BoolVal(False)
    for x, y in reversed(list(zip(a, b))):
        out = z3.Or(x > y, z3.And(x == y, out))
    return out


def _lex_eq(a, b):
    return z3.And([x == y for x, y in zip(a, b)])


class _Encoding:
    """The Z3 terms of one system: schedule, timestamps, hb, contents."""

    def __init__(self, system):
        self.system = s = system
        self.hops = hops = routes(system)
        self.arr = arrivals(system, hops)
        nops = s.nops
        self.E = E = nops + len(hops)
        T = [z3.Int(f"T_{e}") for e in range(E)]
        self.T = T
        c = [z3.Distinct(T)] if E > 1 else []
        c += [z3.And(1 <= t, t <= E) for t in T]
        for ops in s.leader_ops:
            c += [T[a] < T[b] for a, b in zip(ops, ops[1:])]

        def at(w, leader):
            """The event that applies write ``w`` at ``leader``."""
            h = self.arr[w][leader]
            return w if h is None else nops + h

        self.at = at
        for op in s.ops:
            for d in range(nops):
                if (op.after_mask >> d) & 1:
                    c.append(T[at(d, op.leader)] < T[op.index])
        sent = []
        for h, hop in enumerate(hops):
            par = hop.write if hop.parent is None else nops + hop.parent
            sent.append(par)
            c.append(T[par] < T[nops + h])
        by_link: dict[int, list[int]] = {}
        for h, hop in enumerate(hops):
            by_link.setdefault(hop.link, []).append(h)
        for hs in by_link.values():
            for i, a in enumerate(hs):
                for b in hs[i + 1:]:
                    c.append((T[sent[a]] < T[sent[b]]) == (T[nops + a] < T[nops + b]))
        self.constraints = c
        self.ts = self._timestamps()
        self.hb = self._happens_before()
        self.held = self._contents()

    def _real(self, op):
        if op.time_ms is not None:
            return z3.IntVal(op.time_ms)
        T = self.T
        return 1 + z3.Sum([z3.If(T[o.index] < T[op.index], 1, 0) for o in self.system.ops if o is not op] or [0])

    def _seen(self, op):
        """Writes whose timestamps the op's leader has observed before it commits,
        as (condition, write) pairs: its previous own write, and remote writes
        delivered there earlier."""
        s, T = self.system, self.T
        own = s.leader_ops[op.leader]
        pos = own.index(op.index)
        out = []
        if pos:
            out.append((z3.BoolVal(True), own[pos - 1]))
        for w in range(s.nops):
            if s.ops[w].leader != op.leader:
                out.append((T[self.at(w, op.leader)] < T[op.index], w))
        return out

    def _timestamps(self):
        s = self.system
        ts: list = [None] * s.nops
        if s.clock == "wall":
            for op in s.ops:
                ts[op.index] = (self._real(op) + s.offsets[op.leader],)
            return ts
        if s.clock == "lamport":
            v = [z3.Int(f"lamport_{i}") for i in range(s.nops)]
            for op in s.ops:
                seen = [z3.If(cond, v[w], 0) for cond, w in self._seen(op)]
                self.constraints.append(v[op.index] == 1 + _max(seen, z3.IntVal(0)))
            return [(x,) for x in v]
        ls = [z3.Int(f"hlc_l_{i}") for i in range(s.nops)]
        cs = [z3.Int(f"hlc_c_{i}") for i in range(s.nops)]
        for op in s.ops:
            ml, mc = z3.IntVal(HLC_NEVER), z3.IntVal(0)
            for cond, w in self._seen(op):
                bigger = z3.And(cond, _lex_gt((ls[w], cs[w]), (ml, mc)))
                ml, mc = z3.If(bigger, ls[w], ml), z3.If(bigger, cs[w], mc)
            pt = self._real(op) + s.offsets[op.leader]
            i = op.index
            self.constraints += [ls[i] == z3.If(pt > ml, pt, ml), cs[i] == z3.If(pt > ml, 0, mc + 1)]
        return list(zip(ls, cs))

    def _happens_before(self):
        """``hb[a][b]``: write ``a`` is in the causal past of ``b``'s leader
        when ``b`` commits (the model's ghost happens-before)."""
        s, T = self.system, self.T
        n = s.nops
        hb = [[z3.Bool(f"hb_{a}_{b}") if a != b else z3.BoolVal(False) for b in range(n)] for a in range(n)]
        for b in range(n):
            lb = s.ops[b].leader
            before = [(T[self.at(w, lb)] < T[b]) if w != b else z3.BoolVal(False) for w in range(n)]
            for a in range(n):
                if a == b:
                    continue
                via = [z3.And(before[w], hb[a][w]) for w in range(n) if w not in (a, b)]
                self.constraints.append(hb[a][b] == z3.Or([before[a]] + via))
        return hb

    def _key(self, w):
        s = self.system
        tie = s.spec.tie_break
        if tie == "leader":
            names = sorted({op.leader_name for op in s.ops})
            return self.ts[w] + (names.index(s.ops[w].leader_name),)
        if tie == "value":
            ranks = sorted({(op.value or "").encode() for op in s.ops})
            return self.ts[w] + (ranks.index((s.ops[w].value or "").encode()),)
        return self.ts[w]

    def _contents(self):
        """``held[l][w]``: leader ``l`` holds write ``w`` at the end of a
        complete run."""
        s, T = self.system, self.T
        held = [[None] * s.nops for _ in range(s.n)]
        for k in range(len(s.keys)):
            ws = [op.index for op in s.ops if op.key == k]
            for l in range(s.n):
                for w in ws:
                    others = [u for u in ws if u != w]
                    if s.spec.resolver == "mv-register":
                        held[l][w] = z3.Not(z3.Or([self.hb[w][u] for u in others])) if others else z3.BoolVal(True)
                    else:
                        kw = self._key(w)
                        held[l][w] = z3.And([z3.Or(_lex_gt(kw, self._key(u)),
                                                   z3.And(_lex_eq(kw, self._key(u)),
                                                          T[self.at(w, l)] < T[self.at(u, l)]))
                                             for u in others])
        return held

    # ------------------------------------------------------------ negations
    def lost(self):
        """Some write is lost at some leader (``checks.invariants.lost_writes``)."""
        s = self.system
        out = []
        for k in range(len(s.keys)):
            ws = [op.index for op in s.ops if op.key == k]
            for w in ws:
                superseded = z3.Or([self.hb[w][u] for u in ws if u != w]) if len(ws) > 1 else z3.BoolVal(False)
                out.append(z3.And(z3.Not(superseded), z3.Or([z3.Not(self.held[l][w]) for l in range(s.n)])))
        return z3.Or(out) if out else z3.BoolVal(False)

    def diverged(self):
        """Two leaders show different visible states for some key
        (``System.visible``: a lone tombstone shows as absent)."""
        s = self.system
        out = []
        for k in range(len(s.keys)):
            ws = [op.index for op in s.ops if op.key == k]
            values = sorted({s.ops[w].value_id for w in ws})

            def present(l, v):
                return z3.Or([self.held[l][w] for w in ws if s.ops[w].value_id == v])

            def visible(l, v):
                if v != DELETED:
                    return present(l, v)
                return z3.And(present(l, v), z3.Or([present(l, x) for x in values if x != DELETED] or [False]))

            for l in range(1, s.n):
                out += [visible(0, v) != visible(l, v) for v in values]
        return z3.Or(out) if out else z3.BoolVal(False)

    def path(self, model) -> tuple[int, ...]:
        order = sorted(range(self.E), key=lambda e: model.eval(self.T[e], model_completion=True).as_long())
        nops = self.system.nops
        return tuple(e if e < nops else nops + self.hops[e - nops].link for e in order)


def search(system, names, bounds=None, timeout_ms: int | None = None) -> SearchResult:
    """Look for a run of ``system`` that violates each named invariant.

    Parameters
    ----------
    system : model.system.System
    names : sequence of str
        Invariant names, each in :data:`COVERED_INVARIANTS`.
    bounds : model.spec.Bounds, optional
        ``max_depth`` is the unrolling depth ``K`` (default: the execution
        bound ``E``, which covers every run).

    Returns
    -------
    model.search.SearchResult
        ``engine="smt"``; ``found`` holds one :class:`~model.search.Found`
        per violated invariant, whose path replays through ``system``;
        ``complete`` is true only when ``K >= E``; otherwise ``cut`` is
        ``"depth K"``.

    Examples
    --------
    >>> from checks.verdict import load
    >>> from model.system import System
    >>> s = System(load("specs/seed/alice-bob-lww.toml"))
    >>> sorted(search(s, ["convergence", "no-lost-writes"]).found)
    ['no-lost-writes']
    """
    t0 = time.monotonic()
    names = tuple(names)
    covered(system.spec, names)
    enc = _Encoding(system)
    depth = bounds.max_depth if bounds is not None and bounds.max_depth is not None else enc.E
    found: dict[str, Found] = {}
    complete = depth >= enc.E
    if complete:
        solver = z3.Solver()
        if timeout_ms:
            solver.set("timeout", timeout_ms)
        solver.add(enc.constraints)
        goals = {"convergence": enc.diverged, "no-lost-writes": enc.lost}
        for name in names:
            if name not in goals:
                continue  # replication-terminates: proved by routes()
            solver.push()
            solver.add(goals[name]())
            r = solver.check()
            if r == z3.sat:
                path = enc.path(solver.model())
                found[name] = Found(name, path, _explain(system, name, path))
            elif r != z3.unsat:
                solver.pop()
                return SearchResult(ENGINE, _stats(enc, depth, t0), False, "z3 unknown", found)
            solver.pop()
    stats = _stats(enc, min(depth, enc.E), t0)
    return SearchResult(ENGINE, stats, complete, None if complete else f"depth {depth}", found)


def _stats(enc, depth, t0) -> Stats:
    return Stats(states=0, transitions=0, depth=depth, quiescent=0, seconds=time.monotonic() - t0)


def _explain(system, name, path):
    """Replay ``path`` and judge its end state with the explicit invariant."""
    state = system.initial_state()
    for a in path:
        state = system.step(state, a)
    if system.successors(state):
        raise EngineDisagreement(f"smt run for {name} does not end quiescent: {path}")
    detail = INVARIANTS[name].build(system)(state)
    if detail is None:
        raise EngineDisagreement(f"smt run for {name} does not violate it when replayed: {path}")
    return detail
