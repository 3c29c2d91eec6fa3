"""Run the model's executable schedules on a real product and compare
(docs/conformance.md).

For each schedule (:mod:`checks.conform.schedules`) the runner starts from
empty nodes, executes the steps one by one on the target — a commit is one
SQL statement (or Y.Map call) at the leader's node, a flush is
:meth:`Target.deliver` — and after every step compares what each node shows
with what the model's leader shows after the same prefix, and whether the
client was told the same thing (a statement refused / matching 0 rows
against the model's rejected op).  A schedule *agrees* when every step
matches, *disagrees* at the first step that does not, and is
*inconclusive* when the target could not reproduce the schedule's timing
(two commit timestamps in the other order than the model's, or a tie the
model has and a real clock never produces): then nothing is claimed.

The runner returns values and never prints; rendering is
:mod:`checks.conform.render`.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass

from replcheck.checks.conform.schedules import Enumeration, Schedule, Step, enumerate_schedules
from replcheck.checks.conform.target import Setup, TargetOp, TargetUnavailable
from replcheck.model import state as st
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import RESOLVERS
from replcheck.model.resolvers.base import View, is_rejected
from replcheck.model.system import System

AGREE, DISAGREE, INCONCLUSIVE = "agree", "disagree", "inconclusive"

# target name -> (module, class); which resolvers each runs, and with which
# product setting, is the catalogue's (ResolverInfo.conform).
TARGETS = {
    "pglogical": ("replcheck.checks.conform.targets.pglogical", "PglogicalTarget"),
    "pycrdt": ("replcheck.checks.conform.targets.yjs", "YjsTarget"),
}


def modes(target: str) -> dict:
    """``{resolver: product setting}`` that ``target`` runs."""
    return {name: info.conform_mode(target) for name, info in RESOLVERS.items()
            if info.conform_mode(target) is not None}
# Modes whose conflicts compare commit timestamps: their schedules need the
# model's timestamp order reproduced (see module docstring).
TIMESTAMP_MODES = ("last_update_wins", "first_update_wins")
SQL_OPS = ("set", "delete")         # plus the local checks insert / update (docs/model.md §8)


@dataclass(frozen=True)
class Observation:
    """Both sides after one step: ``model`` and ``observed`` map each
    leader to ``{key: value}``; for a commit, whether each side refused
    it; the target's conflict log lines the step produced."""

    step: Step
    model: dict
    observed: dict
    model_refused: bool | None = None
    observed_refused: bool | None = None
    log: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        return self.model == self.observed and self.model_refused == self.observed_refused


@dataclass(frozen=True)
class Outcome:
    """One executed schedule: ``verdict`` (agree, disagree, inconclusive),
    the step (1-based) of the first difference, why (for inconclusive),
    and every observation (the initial one first)."""

    schedule: Schedule
    verdict: str
    first_difference: int | None
    reason: str
    observations: tuple[Observation, ...]
    seconds: float


@dataclass(frozen=True)
class Conformance:
    """A whole conformance run (frozen; rendering only reads it)."""

    spec_name: str
    source: str
    target: str            # e.g. "pglogical"
    product: str           # the target's own name, e.g. "PostgreSQL 15.18 + pglogical 2.4.2"
    mode: str
    enumeration: Enumeration
    outcomes: tuple[Outcome, ...]
    seconds: float
    interrupted: bool = False
    timed_out: str | None = None   # the time bound that stopped running schedules, e.g. "max_seconds (10 s)"

    def count(self, verdict: str) -> int:
        return sum(1 for o in self.outcomes if o.verdict == verdict)

    @property
    def cut(self) -> str | None:
        """Why not every executable schedule was compared, or ``None``."""
        if self.interrupted:
            return "interrupted"
        return self.enumeration.cut or self.timed_out


# ------------------------------------------------------------- applicability
def applicable(spec, target: str) -> str:
    """The product mode for ``spec`` on ``target``; :class:`SpecError`
    (exit 2, naming the key and the fix) when the target cannot execute it."""
    if target not in TARGETS:
        raise SpecError(spec.source, "--target", f"unknown target '{target}' (pglogical or pycrdt)")
    runs = modes(target)
    names = ", ".join(runs) or "no resolver yet"
    if spec.resolver not in runs:
        raise SpecError(spec.source, "system.resolver", f"target {target} runs {names}, not '{spec.resolver}'"
                        + (f"; e.g. --set system.resolver={next(iter(runs))}" if runs else ""))
    for k in spec.keys:
        if k.entry != spec.resolver or k.initial is not None:
            raise SpecError(spec.source, f"keys.{k.name}", f"target {target} runs one mode for every row and"
                                                           " starts from empty nodes; remove the key's own table"
                                                           " (insert the row with an op instead of initial)")
    if spec.topology != "all-to-all":
        raise SpecError(spec.source, "system.topology", f"target {target} wires all-to-all (pairwise"
                                                        " subscriptions without forwarding); use all-to-all")
    if spec.latency_ms or spec.commit_ms:
        raise SpecError(spec.source, "system.latency_ms", f"target {target} delivers when the schedule says;"
                                                          " remove system.latency_ms / commit_ms")
    if spec.links != "fifo" or spec.link_kinds:
        raise SpecError(spec.source, "system.links", f"target {target} has FIFO links only; remove system.links")
    faults = spec.faults
    unsupported = [name for name in ("crashes", "recoveries", "lose_unsent", "clock_jumps", "failovers", "offline")
                   if getattr(faults, name, 0)]
    if unsupported:
        raise SpecError(spec.source, f"faults.{unsupported[0]}", f"target {target} cannot execute"
                                                                 f" {unsupported[0]}; partitions and heals only")
    if getattr(spec, "homes", None):
        raise SpecError(spec.source, "system.homes", f"target {target} does not route writes; remove system.homes")
    for i, op in enumerate(spec.workload):
        if op.kind not in SQL_OPS:
            raise SpecError(spec.source, f"workload[{i}]", f"target {target} executes set/upsert, insert, update"
                                                           f" and delete, not '{op.kind}'")
    return runs[spec.resolver]


def target_op(system: System, i: int) -> TargetOp:
    """The statement a model op is on a target (docs/model.md §8)."""
    op = system.ops[i]
    check = system.spec.workload[i].check
    if op.kind == "delete":
        kind = "delete"
    elif check == "unique":
        kind = "insert"
    elif check == "exists":
        kind = "update"
    else:
        kind = "upsert"
    return TargetOp(op.id, kind, op.key_name, op.value)


def model_rows(system: System, state) -> dict:
    """``{leader: {key: value}}`` as the model's leaders show them (a missing
    or deleted row absent; siblings a sorted tuple)."""
    out = {}
    for l, name in enumerate(system.leaders):
        rows = {}
        for k, key in enumerate(system.keys):
            vis = system.visible(state, l, k)
            if isinstance(vis, View):
                if vis.data:
                    rows[key] = vis.text
                continue
            vals = sorted(system.values[v] for v in vis if 0 <= v < len(system.values)
                          and system.values[v] is not None)
            if len(vals) == 1:
                rows[key] = vals[0]
            elif vals:
                rows[key] = tuple(vals)
        out[name] = rows
    return out


def make_target(target: str, dsns: dict | None = None):
    """The target object, or :class:`TargetUnavailable` (exit 3) when its
    driver or product is missing here."""
    module, cls = TARGETS[target]
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise TargetUnavailable(f"target {target}: {e}; install the drivers with pip install 'replcheck[conform]'")
    check = getattr(mod, "available", None)
    if check is not None and not dsns:
        why = check()
        if why:
            raise TargetUnavailable(f"target {target}: {why}")
    if dsns:
        return getattr(mod, cls)(dsns=dsns)
    return getattr(mod, cls)()


# --------------------------------------------------------------------- run
def _timing(system: System, sched: Schedule, stamps: dict) -> str:
    """Why the target's commit timestamps cannot stand for the model's
    (``""`` when they can): per key, every pair of accepted writes must
    compare the same way on both sides."""
    writes = st.writes(sched.states[-1])
    by_key: dict = {}
    for w, ts in stamps.items():
        by_key.setdefault(system.ops[w].key, []).append(w)
    for ws in by_key.values():
        for a in ws:
            for b in ws:
                if a >= b:
                    continue
                ma, mb = st.ts(writes[a])[0], st.ts(writes[b])[0]
                oa, ob = stamps[a], stamps[b]
                if ma == mb:
                    return (f"the model's timestamps of {system.ops[a].id} and {system.ops[b].id} tie ({ma});"
                            " a real clock does not reproduce a tie")
                if (ma < mb) != (oa < ob):
                    return (f"{system.ops[a].id} and {system.ops[b].id} got commit timestamps in the other order"
                            f" than the model's (model {ma} vs {mb} ms, observed {oa:.3f} vs {ob:.3f} ms)")
    return ""


def run_schedule(system: System, target, sched: Schedule, uses_timestamps: bool) -> Outcome:
    """Execute one schedule on a started target (reset first)."""
    start = time.monotonic()
    target.reset()
    leaders = system.leaders
    for name in leaders:
        target.log(name)     # forget earlier schedules' lines
    observations = [Observation(Step("start", "", None, None, 0, (), "start"),
                                model_rows(system, sched.states[0]), {n: target.read(n) for n in leaders})]
    stamps: dict = {}
    t0 = time.monotonic()
    for step, after in zip(sched.steps, sched.states[1:]):
        m_ref = o_ref = None
        if step.kind == "commit":
            op = system.ops[step.op]
            if op.time_ms is not None:
                # Pace commits like the model's real time (docs/conformance.md "Timing").
                delay = t0 + op.time_ms / 1000 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            done = target.commit(step.leader, target_op(system, step.op))
            m_ref = is_rejected(st.writes(after)[step.op])
            o_ref = done.rows == 0
            if not o_ref and done.commit_ts_ms is not None:
                stamps[step.op] = done.commit_ts_ms
        elif step.kind == "deliver":
            target.deliver(step.src, step.leader)
        log = tuple(f"{n}: {line}" for n in leaders for line in target.log(n))
        observations.append(Observation(step, model_rows(system, after), {n: target.read(n) for n in leaders},
                                        m_ref, o_ref, log))
    first = next((i for i, o in enumerate(observations) if not o.agrees), None)
    reason = _timing(system, sched, stamps) if uses_timestamps else ""
    if reason:
        verdict = INCONCLUSIVE
    else:
        verdict = AGREE if first is None else DISAGREE
    return Outcome(sched, verdict, first, reason, tuple(observations), time.monotonic() - start)


def conform(spec, target: str, *, runs: int | None = None, seed: int = 0, limit: int = 500,
            dsns: dict | None = None, on_outcome=None, target_obj=None) -> Conformance:
    """Enumerate ``spec``'s executable schedules and run each on ``target``.
    ``on_outcome(i, n, outcome)`` is called after each schedule (progress).
    Ctrl-C stops between steps and returns what was compared
    (``interrupted``); the spec's ``[bounds] max_seconds`` bounds the whole
    run — enumeration and execution — and past it the schedules not run are
    a cut (docs/conformance.md "Bounds")."""
    mode = applicable(spec, target)
    begun = time.monotonic()
    budget = spec.bounds.max_seconds
    system = System(spec)
    enum = enumerate_schedules(system, limit=limit, runs=runs, seed=seed,
                               max_seconds=None if budget is None else max(0.0, budget - (time.monotonic() - begun)),
                               bound=None if budget is None else f"max_seconds ({budget:g} s)")
    timed_out = None
    started = time.monotonic()
    tgt = target_obj if target_obj is not None else make_target(target, dsns)
    outcomes: list[Outcome] = []
    interrupted = False
    own = target_obj is None
    try:
        offsets = {name: off for name, off in zip(system.leaders, system.offsets) if off}
        if own:
            tgt.start(Setup(system.leaders, tuple((system.leaders[a], system.leaders[b]) for a, b in system.edges),
                            mode, offsets, system.keys))
        for i, sched in enumerate(enum.schedules):
            if budget is not None and time.monotonic() - begun > budget:
                timed_out = f"max_seconds ({budget:g} s): {len(enum.schedules) - i} schedules not run"
                break
            outcome = run_schedule(system, tgt, sched, mode in TIMESTAMP_MODES)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(i, len(enum.schedules), outcome)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if own:
            try:
                tgt.stop()
            except TargetUnavailable:
                pass
    return Conformance(spec.name, spec.source, target, getattr(tgt, "name", target), mode, enum, tuple(outcomes),
                       time.monotonic() - started, interrupted, timed_out)


def exit_code(result: Conformance) -> int:
    """0 every schedule agrees; 1 a disagreement; 3 something was not
    compared (a bound or Ctrl-C cut the list, a schedule was inconclusive,
    or there was nothing to run) — docs/conformance.md "Exit codes"."""
    if result.count(DISAGREE):
        return 1
    if result.cut or result.count(INCONCLUSIVE) or not result.outcomes:
        return 3
    return 0
