"""The counterexample model every rich rendering reads (docs/model.md §6).

:func:`counterexamples` turns a :class:`~checks.verdict.Report` into one
:class:`Counterexample` per violated invariant: the (optionally minimised)
trace replayed through the model, with what a lecture slide needs at every
step — each leader's values, the writes it holds, its clock, its version
vector and its applied writes, the messages still in flight — plus the
anomaly explained in general and the parts the culprit writes play.
:func:`explained` bundles a report with them: that is what Markdown, HTML,
SVG and ITF render, and none of them replays, minimises or recomputes
anything (docs/architecture.md "Results as data").  The report holds no
model; this module compiles the plain model from the report's spec to
replay its paths (the model the verdict replayed them on).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from replcheck.checks import anomalies
from replcheck.checks.minimize import BUDGET_SECONDS, Minimized, minimize
from replcheck.checks.facts import Facts
from replcheck.checks.trace import Step, build_trace
from replcheck.checks.verdict import VIOLATED, Report, Result
from replcheck.model import state as st
from replcheck.model.resolvers.base import View
from replcheck.model.system import DELETED, MSG_MASK, System


@dataclass(frozen=True)
class LeaderState:
    """One leader as a reader sees it at one point of the trace.

    ``values`` shows each key as text (``-`` absent, ``{...}`` siblings);
    ``held`` names, per key, the op ids the value is made of
    (:meth:`model.system.System.held_writes`: a register's held writes and
    siblings; for a set, counter or table every op applied to the key);
    ``version_vector`` counts, per leader, how many of that leader's writes
    are in this leader's causal past; ``up`` is false while it is crashed;
    ``shown`` names, per key, the values a reader sees as a set (sorted): a
    register's values (several = siblings), a set's elements, else the one
    text a reader sees (a count, a users table); empty = absent.
    """

    name: str
    values: tuple[tuple[str, str], ...]
    held: tuple[tuple[str, tuple[str, ...]], ...]
    clock: str
    version_vector: tuple[tuple[str, int], ...]
    applied: tuple[str, ...]
    up: bool = True
    shown: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Frame:
    """The system after step ``index`` (0 = the initial state, no event).

    ``role`` is ``lost`` for the commit of the lost write, ``culprit`` for
    the commit of a write that beat it (or of any write an anomaly blames),
    else ``None``.  ``in_flight`` lists ``(src, dst, op ids)`` per non-empty
    link, head first.
    """

    index: int
    step: Step | None
    role: str | None
    leaders: tuple[LeaderState, ...]
    in_flight: tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Counterexample:
    """A violated invariant, explained: what went wrong and how it happened."""

    report: Report
    result: Result
    frames: tuple[Frame, ...]
    minimized: Minimized | None

    @property
    def facts(self) -> Facts:
        """The model's names and texts (:class:`checks.facts.Facts`)."""
        return self.report.facts

    @property
    def invariant(self) -> str:
        return self.result.invariant

    @property
    def anomaly(self) -> str:
        return self.result.anomaly or ""

    @property
    def meaning(self) -> str:
        return anomalies.meaning(self.result.anomaly)

    @property
    def message(self) -> str:
        return self.result.message or ""

    @property
    def roles(self) -> dict[str, str]:
        return anomalies.roles(self.result.anomaly, self.result.culprits)

    @property
    def steps(self) -> tuple[Frame, ...]:
        """The frames that follow an event (all but the initial state)."""
        return self.frames[1:]


def _shown(system: System, vis) -> tuple[str, ...]:
    """The values a reader sees of one key, sorted (:attr:`LeaderState.shown`)."""
    if isinstance(vis, View):
        if not vis.data:
            return ()
        if all(isinstance(x, str) for x in vis.data):
            return tuple(sorted(set(vis.data)))
        return (vis.text,)
    return tuple(sorted({"(deleted)" if v == DELETED else system.values[v] for v in vis}))


def leader_states(system: System, state) -> tuple[LeaderState, ...]:
    live = set(system.live(state))
    out = []
    for l, name in enumerate(system.leaders):
        applied, past, clock = st.applied(state, l), st.past(state, l), st.clock(state, l)
        seen = [system.visible(state, l, k) for k in range(len(system.keys))]
        values = tuple((key, system.show_visible(vis)) for key, vis in zip(system.keys, seen))
        shown = tuple((key, _shown(system, vis)) for key, vis in zip(system.keys, seen))
        held = tuple((key, tuple(system.ops[w].id for w in system.held_writes(state, l, k)))
                     for k, key in enumerate(system.keys))   # registers: writes held; sets/counters: ops applied
        vv = tuple((system.leaders[m], sum(1 for i in system.leader_ops[m] if (past >> i) & 1))
                   for m in range(system.n))
        ids = tuple(op.id for op in system.ops if (applied >> op.index) & 1)
        out.append(LeaderState(name, values, held, system.show_clock(clock), vv, ids, l in live, shown))
    return tuple(out)


def in_flight(system: System, state) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    out = []
    for j, q in enumerate(st.links(state)):
        if q:
            s, d = system.edges[j]
            out.append((system.leaders[s], system.leaders[d], tuple(system.ops[m & MSG_MASK].id for m in q)))
    return tuple(out)


def frames(system: System, path, roles: dict[str, str]) -> tuple[Frame, ...]:
    """Replay ``path`` and describe the system before and after every event."""
    trace, _ = build_trace(system, path)
    state = system.initial_state()
    out = [Frame(0, None, None, leader_states(system, state), in_flight(system, state))]
    for step, a in zip(trace.steps, path):
        state = system.step(state, a)
        role = roles.get(step.event.op) if step.event.kind == "commit" else None
        out.append(Frame(step.index, step, role, leader_states(system, state), in_flight(system, state)))
    return tuple(out)


def explain(report: Report, result: Result, minimise: bool = True,
            seconds: float | None = BUDGET_SECONDS, system: System | None = None) -> Counterexample:
    """The counterexample of one violated ``result`` of ``report``.

    With ``minimise`` the trace goes through :func:`checks.minimize.minimize`
    first; the result then carries the kept path, its trace and the
    violation's message at the new end (same anomaly).  ``system``: the
    plain model of ``report.spec``, if already compiled.
    """
    if result.verdict != VIOLATED or result.trace is None:
        raise ValueError(f"{result.invariant} is {result.verdict}: only a violation has a counterexample")
    system = system or System(report.spec)
    mini = None
    if minimise:
        mini = minimize(system, result.invariant, result.path, result.anomaly, seconds)
        if mini.changed:
            v = mini.violation
            trace, _ = build_trace(system, mini.path)
            result = replace(result, path=mini.path, trace=trace, message=v.message, culprits=v.culprits)
    roles = anomalies.roles(result.anomaly, result.culprits)
    return Counterexample(report, result, frames(system, result.path, roles), mini)


def counterexamples(report: Report, minimise: bool = True) -> tuple[Counterexample, ...]:
    """Every violated invariant of ``report``, explained, in report order;
    their minimisations share one time budget (:data:`BUDGET_SECONDS`)."""
    violated = [r for r in report.results if r.verdict == VIOLATED and r.trace]
    if not violated:
        return ()
    system = System(report.spec)
    deadline = time.monotonic() + BUDGET_SECONDS
    return tuple(explain(report, r, minimise, max(0.0, deadline - time.monotonic()), system) for r in violated)


@dataclass(frozen=True)
class Explained:
    """A report with every counterexample built: what the rich renderers
    (Markdown, HTML, SVG, ITF) read.  Made by :func:`explained` before
    rendering, so rendering only reads data."""

    report: Report
    counterexamples: tuple[Counterexample, ...]

    def only(self, invariants=None) -> tuple[Counterexample, ...]:
        """The counterexamples of ``invariants`` (all when ``None``), in report order."""
        return tuple(cx for cx in self.counterexamples if invariants is None or cx.invariant in invariants)


def explained(report: Report, minimise: bool = True) -> Explained:
    """``report`` with its counterexamples (minimised when ``minimise``)."""
    return Explained(report, counterexamples(report, minimise))
