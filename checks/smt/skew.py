"""Clock skew: when does last-writer-wins over wall clocks lose a write?

Enumeration explores orderings for *given* clock offsets; this module ranges
over all of them.  For an ``lww`` spec over ``wall`` clocks it encodes, as
real numbers (milliseconds):

* ``t_i``: the real time at which op ``i`` commits (its ``time_ms`` when
  the spec gives one, unless ``free_times``; each leader's ops in program
  order, strictly increasing);
* ``off_L``: leader ``L``'s clock offset, ``|off_L| <= skew``; a write's
  timestamp is ``t_i + off_L`` (docs/model.md §3, ``wall``);
* ``a_iL``: when write ``i`` is applied at leader ``L``:
  ``a_iL >= t_i + commit_ms + hops(L_i, L) * replication_ms`` (a commit takes
  ``commit_ms`` before it is shipped; each link takes at least
  ``replication_ms``; later is allowed — replication is asynchronous), and
  FIFO between one leader's writes.

Ghost happens-before follows: write ``i`` happens-before ``j`` when ``i``
(or something that happened before it) was applied at ``j``'s leader by
``t_j``; ``after = [...]`` requires it.  LWW keeps the write with the
larger ``(timestamp, tie-break)`` everywhere, so a write is lost when it is
beaten and no write causally follows it (``checks.invariants``): a
*lost update* when the winner is concurrent with it, a *causally later
write lost* when the winner happened before it.

**Skew** means the largest ``|offset|`` of any leader from real time (each
clock is within ``skew`` ms of true time, as NTP bounds a clock's error);
two clocks can then differ by up to ``2 * skew``, and every answer also
reports that pairwise difference.

``least_skew`` minimises the skew (z3 ``Optimize``).  The least skew may be
an infimum that is not attained: when the tie-break favours the causally
later write, its timestamp must be strictly behind; the report says so.

Sources: docs/model.md §3 and §7; Kulkarni et al., OPODIS 2014 (why HLCs);
Kingsbury, "The trouble with timestamps" (2013).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import time

import networkx as nx
import z3

from replcheck.checks import signals
from replcheck.checks.smt import context
from replcheck.checks.smt.context import remaining_ms

from replcheck.model.errors import SpecError
from replcheck.model.resolvers import entry
from replcheck.model.system import System

LOST_UPDATE, CAUSAL = "lost-update", "causally-later-write-lost"


@dataclass(frozen=True)
class Timing:
    """The bounds of a timing query (milliseconds).

    ``max_skew=None`` leaves offsets unbounded.  These come from CLI
    options; a later spec format may carry them in a ``[timing]`` table.
    """

    commit_ms: Fraction = Fraction(5)
    replication_ms: Fraction = Fraction(60)
    max_skew: Fraction | None = None
    free_times: bool = False


@dataclass(frozen=True)
class Event:
    """One point of a witness timeline: a commit or an apply at a leader,
    with every leader's clock reading at that real time."""

    time: Fraction
    kind: str            # commit | apply
    op: str
    leader: str
    ts: Fraction         # the write's timestamp
    clocks: tuple[tuple[str, Fraction], ...]


@dataclass(frozen=True)
class Witness:
    """An assignment of times and offsets under which a write is lost."""

    anomaly: str
    victim: str
    winner: str
    skew: Fraction
    offsets: tuple[tuple[str, Fraction], ...]
    events: tuple[Event, ...]
    message: str

    @property
    def pairwise(self) -> Fraction:
        vals = [o for _, o in self.offsets]
        return max(vals) - min(vals)


@dataclass(frozen=True)
class Least:
    """The least skew at which a causally later write can be lost.

    ``skew`` is ``None`` when no skew within the bound allows it; else
    ``attained`` says whether that skew itself suffices or only any larger
    one does (an infimum).  ``witness`` is a run at ``skew`` (attained) or
    within 1 ms above it.
    """

    skew: Fraction | None
    attained: bool = False
    witness: Witness | None = None


@dataclass(frozen=True)
class SkewReport:
    source: str
    name: str
    timing: Timing
    lost_update: Witness | None
    causally_later: Witness | None
    least: Least | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Questions z3 did not answer (its time ran out, or Ctrl-C / SIGTERM), each with why:
    # ((question, reason), ...), the question being lost-update, causally-later-write-lost or least-skew.
    undecided: tuple[tuple[str, str], ...] = ()

    @property
    def incomplete(self) -> bool:
        return bool(self.undecided)


def _num(v) -> Fraction:
    v = v if not z3.is_algebraic_value(v) else v.approx(6)
    return Fraction(v.as_fraction()) if z3.is_rational_value(v) else Fraction(str(v))


class _Encoding:
    def __init__(self, spec, timing: Timing, deadline: float | None = None):
        if not entry(spec.resolver).skew or spec.clock != "wall":
            raise SpecError(spec.source, "system.resolver", f"smt skew needs lww over wall clocks, not"
                                                           f" {spec.resolver} over {spec.clock}; set resolver = \"lww\","
                                                           " clock = \"wall\"")
        if spec.tie_break == "incoming-loses":
            raise SpecError(spec.source, "system.tie_break", "smt skew needs a total tie-break (leader or value)")
        if timing.commit_ms < 0 or timing.replication_ms < 0 or timing.commit_ms + timing.replication_ms <= 0:
            raise SpecError(spec.source, "--commit-ms", "commit and replication times must be >= 0 and not both 0")
        observed = next((i for i, o in enumerate(spec.workload) if o.if_version), None)
        if observed is not None:
            # An observed delete removes only the version its leader shows (docs/model.md "Observed
            # deletes"); the skew encoding knows unconditional writes only, so it would call the
            # delete a winner that makes a write lost (it is not: `check` says no-lost-writes holds).
            raise SpecError(spec.source, f"workload[{observed}].if_version",
                            f"smt skew has no encoding for an observed delete ({spec.workload[observed].id}); drop"
                            " if_version, or ask replcheck check, which models it")
        self.spec, self.timing = spec, timing
        self.system = s = System(spec)
        ops = s.ops
        self.t = [z3.Real(f"t_{o.id}") for o in ops]
        self.off = [z3.Real(f"off_{l}") for l in s.leaders]
        self.S = z3.Real("skew")
        self.c = c = [self.S >= 0]
        for o in self.off:
            c += [o <= self.S, -self.S <= o]
        if timing.max_skew is not None:
            c.append(self.S <= timing.max_skew)
        for o in ops:
            if o.time_ms is not None and not timing.free_times:
                c.append(self.t[o.index] == o.time_ms)
        for own in s.leader_ops:
            c += [self.t[a] < self.t[b] for a, b in zip(own, own[1:])]
        dist = dict(nx.all_pairs_shortest_path_length(s.topology.graph()))
        self.a = {}
        for o in ops:
            for l in range(s.n):
                if l == o.leader:
                    continue
                if l not in dist[o.leader]:
                    raise SpecError(spec.source, "system.topology", f"{o.id}'s write never reaches {s.leaders[l]}")
                v = z3.Real(f"a_{o.id}_{s.leaders[l]}")
                self.a[o.index, l] = v
                c.append(v >= self.t[o.index] + timing.commit_ms + dist[o.leader][l] * timing.replication_ms)
        for own in s.leader_ops:
            for x, y in zip(own, own[1:]):
                c += [self.a[x, l] <= self.a[y, l] for l in range(s.n) if l != ops[x].leader]
        n = len(ops)

        def seen(i, j):
            if ops[i].leader == ops[j].leader:
                own = s.leader_ops[ops[j].leader]
                return z3.BoolVal(own.index(i) < own.index(j))
            return self.a[i, ops[j].leader] <= self.t[j]

        self.hb = [[z3.Bool(f"hb_{i}_{j}") if i != j else z3.BoolVal(False) for j in range(n)] for i in range(n)]
        for i in range(n):
            _still_allowed(deadline)   # n^3 terms: hundreds of ops take minutes to encode
            for j in range(n):
                if i != j:
                    via = [z3.And(self.hb[i][k], seen(k, j)) for k in range(n) if k not in (i, j)]
                    c.append(self.hb[i][j] == z3.Or([seen(i, j)] + via))
        for o in ops:
            for d in range(n):
                if (o.after_mask >> d) & 1:
                    c.append(seen(d, o.index))
        self.ts = [self.t[o.index] + self.off[o.leader] for o in ops]
        if spec.tie_break == "leader":
            names = sorted({o.leader_name for o in ops})
            self.tie = [names.index(o.leader_name) for o in ops]
        else:
            ranks = sorted({(o.value or "").encode() for o in ops})
            self.tie = [ranks.index((o.value or "").encode()) for o in ops]

    def beats(self, u, w):
        ts = self.ts
        if self.tie[u] > self.tie[w]:
            return ts[u] >= ts[w]
        if self.tie[u] < self.tie[w]:
            return ts[u] > ts[w]
        return ts[u] > ts[w]

    def goal(self, anomaly):
        """Some write is lost with this anomaly; returns (formula, cases)
        where cases are (victim, winner, condition)."""
        ops = self.system.ops
        cases = []
        for w in ops:
            same = [u.index for u in ops if u.key == w.key and u.index != w.index]
            if not same:
                continue
            superseded = z3.Or([self.hb[w.index][u] for u in same])
            for u in same:
                winner = z3.And([self.beats(u, v) for v in same + [w.index] if v != u])
                causal = self.hb[u][w.index]
                cond = z3.And(z3.Not(superseded), winner, causal if anomaly == CAUSAL else z3.Not(causal))
                cases.append((w.index, u, cond))
        return z3.Or([x for *_, x in cases]) if cases else z3.BoolVal(False), cases

    def witness(self, model, anomaly, cases) -> Witness:
        s, ops = self.system, self.system.ops
        victim, winner = next((w, u) for w, u, cond in cases if z3.is_true(model.eval(cond, model_completion=True)))
        val = lambda x: _num(model.eval(x, model_completion=True))  # noqa: E731
        offs = tuple((name, val(self.off[l])) for l, name in enumerate(s.leaders))

        def clocks(t):
            return tuple((name, t + o) for name, o in offs)

        events = []
        for o in ops:
            t = val(self.t[o.index])
            ts = t + offs[o.leader][1]
            events.append(Event(t, "commit", o.id, o.leader_name, ts, clocks(t)))
            for l in range(s.n):
                if l != o.leader:
                    at = val(self.a[o.index, l])
                    events.append(Event(at, "apply", o.id, s.leaders[l], ts, clocks(at)))
        events.sort(key=lambda e: (e.time, e.kind != "commit"))
        v, u = ops[victim], ops[winner]
        tv, tu = val(self.ts[victim]), val(self.ts[winner])
        behind = offs[u.leader][1] - offs[v.leader][1]
        if anomaly == CAUSAL:
            msg = (f"{v.id}'s write at {v.leader_name} (ts {fmt(tv)}) loses to {u.id}'s (ts {fmt(tu)}) although it"
                   f" came after it: {v.leader_name}'s clock is {fmt(behind)} ms behind {u.leader_name}'s")
        else:
            msg = (f"{v.id}'s write at {v.leader_name} (ts {fmt(tv)}) loses to the concurrent {u.id}'s"
                   f" (ts {fmt(tu)}) under lww")
        return Witness(anomaly, v.id, u.id, val(self.S), offs, tuple(events), msg)


def fmt(x: Fraction) -> str:
    """A millisecond value as a lecture writes it: ``35``, ``32.5``, ``-0.333``."""
    if x.denominator == 1:
        return str(x.numerator)
    return f"{float(x):.3f}".rstrip("0").rstrip(".")


class Undecided(Exception):
    """z3 did not answer: the deadline passed (``reason`` "timeout") or the
    run was stopped (``"interrupted"``)."""


def _answer(solver, deadline) -> "z3.CheckSatResult":
    """``solver.check()`` with what is left until ``deadline`` as its
    timeout; :class:`Undecided` when z3 does not answer."""
    left = remaining_ms(deadline)
    if left is not None:
        if time.monotonic() >= deadline:
            raise Undecided("timeout")
        solver.set("timeout", left)
    try:
        r = context.check(solver)
    except KeyboardInterrupt:
        raise Undecided("interrupted") from None
    if r == z3.unknown:
        raise Undecided("timeout" if deadline is not None and time.monotonic() >= deadline - 0.05
                        else solver.reason_unknown())
    return r


def _still_allowed(deadline) -> None:
    """Between steps of building an encoding (Python work, where Ctrl-C is
    only recorded: checks/signals.py): :class:`Undecided` once the time is
    gone or a stop was requested."""
    try:
        signals.checkpoint()
    except KeyboardInterrupt:
        raise Undecided("interrupted") from None
    if deadline is not None and time.monotonic() >= deadline:
        raise Undecided("timeout")


def _solve(enc, extra, anomaly, deadline=None):
    formula, cases = enc.goal(anomaly)
    s = z3.Solver()
    s.add(enc.c + extra + [formula])
    if _answer(s, deadline) != z3.sat:
        return None
    return enc.witness(s.model(), anomaly, cases)


def least_skew(enc, deadline=None) -> Least:
    """The least skew at which a causally later write can be lost."""
    formula, cases = enc.goal(CAUSAL)
    opt = z3.Optimize()
    opt.add(enc.c + [formula])
    h = opt.minimize(enc.S)
    if _answer(opt, deadline) != z3.sat:
        return Least(None)
    # (infinitesimal, value, epsilon): "35 + 1/2*epsilon" is an infimum the
    # model only approaches; the model itself sits somewhere above it.
    _, value, _ = h.lower_values()
    inf = _num(value)
    at = _solve(enc, [enc.S <= inf], CAUSAL, deadline)
    if at is not None:
        return Least(inf, True, at)
    return Least(inf, False, _solve(enc, [enc.S <= inf + 1], CAUSAL, deadline))


def analyse(spec, timing: Timing = Timing(), minimize: bool = False, timeout_ms: int | None = None) -> SkewReport:
    """Can LWW over wall clocks lose a write of ``spec`` within ``timing``?

    ``timeout_ms`` bounds the whole analysis: every z3 call gets what is
    left of it; a question not answered in time (or when Ctrl-C / SIGTERM
    stops the run) is reported in ``undecided``, never as impossible.

    >>> from replcheck.checks.verdict import load
    >>> r = analyse(load("specs/seed/skew-wall.toml"), minimize=True)
    >>> (fmt(r.least.skew), r.least.attained)
    ('35', False)
    """
    deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms else None
    with context.fresh():
        return _analyse(spec, timing, minimize, deadline)


def _analyse(spec, timing, minimize, deadline) -> SkewReport:
    questions = [("feasible", None), (LOST_UPDATE, None), (CAUSAL, None)] + ([("least-skew", None)] if minimize else [])
    try:
        enc = _Encoding(spec, timing, deadline)
    except Undecided as e:   # not even the encoding was finished: nothing was asked
        return SkewReport(spec.source, spec.name, timing, None, None, None,
                          ("stopped while encoding the question for z3",),
                          tuple((q, str(e)) for q, _ in questions if q != "feasible"))
    notes = []
    if spec.offsets:
        notes.append("the spec's fixed offsets (" + ", ".join(f"{l} {o:+d} ms" for l, o in spec.offsets)
                     + ") are replaced by variables")
    undecided: list[tuple[str, str]] = []
    answers: dict = {}
    for q, _ in questions:
        if undecided:   # the time is gone or the run was stopped: the rest is not asked
            if q != "feasible":
                undecided.append((q, undecided[0][1]))
            continue
        try:
            if q == "feasible":
                feasible = z3.Solver()
                feasible.add(enc.c)
                if _answer(feasible, deadline) != z3.sat:
                    notes.append("no run fits these times: an `after` dependency cannot be met within the"
                                 " replication delay")
            elif q == "least-skew":
                answers[q] = least_skew(enc, deadline)
            else:
                answers[q] = _solve(enc, [], q, deadline)
        except Undecided as e:
            undecided.append((q, str(e)))
    if any(o.time_ms is None for o in spec.workload) or timing.free_times:
        notes.append("ops without time_ms (or all, with --free-times) commit at any real time")
    undecided = [(q, why) for q, why in undecided if q != "feasible"]
    return SkewReport(spec.source, spec.name, timing, answers.get(LOST_UPDATE), answers.get(CAUSAL),
                      answers.get("least-skew"), tuple(notes), tuple(undecided))
