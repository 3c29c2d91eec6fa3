"""The model's runs a conformance target can execute (docs/conformance.md
"Which model runs a target can execute").

A target holds every link and delivers a link's *whole* FIFO queue at once
(pglogical: enabling a subscription streams everything pending).  So the
executable runs are the model's runs in which every delivery takes all the
messages queued on its link at that moment, one after another, with nothing
in between: a *flush*.  This module walks the plain model (no reductions:
every state it judges is one a run reaches) in *macro-steps* — a commit, a
flush of one link, or a partition/heal (which only restricts which flushes
the model may take next; the target's links are held anyway) — counts the
model's runs and the executable ones, and lists the executable schedules
up to reordering of independent steps (Mazurkiewicz traces: two steps that
touch different leaders and links commute on the model and on the target,
so one representative per class is executed).

Pure functions over the frozen model; nothing here runs a target.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from replcheck.model import state as st
from replcheck.model.system import System

#: Bounds of one enumeration (docs/conformance.md "Bounds").
MAX_STATES = 200_000        # model states walked to count runs
MAX_PATHS = 200_000         # executable runs walked to list distinct schedules


@dataclass(frozen=True)
class Step:
    """One macro-step of a schedule.

    ``kind`` is ``commit`` (op ``op`` at ``leader``), ``deliver`` (the whole
    queue of link ``src -> leader``: ``count`` messages) or ``fault`` (a
    partition or heal: no action on the target)."""

    kind: str
    leader: str
    src: str | None
    op: int | None
    count: int
    actions: tuple[int, ...]
    text: str


@dataclass(frozen=True)
class Schedule:
    """A complete executable run: its steps and the model state before the
    first step and after each one (``len(states) == len(steps) + 1``)."""

    steps: tuple[Step, ...]
    states: tuple


@dataclass(frozen=True)
class Enumeration:
    """What :func:`enumerate_schedules` found.

    ``model_runs``: complete runs of the plain model (``None`` when a bound
    cut the count); ``executable_runs``: of those, the runs whose every
    delivery flushes its link; ``schedules``: one executable run per class
    of runs equal up to reordering independent steps, in a stable order;
    ``cut``: the bound that stopped the listing, or ``None`` when every
    class is listed."""

    schedules: tuple[Schedule, ...]
    model_runs: int | None
    executable_runs: int | None
    cut: str | None


def macro_steps(system: System, state) -> list[tuple[Step, object]]:
    """``[(step, next_state)]`` from ``state``: each enabled commit and
    fault, and each link flushed whole (if the model can deliver its
    messages one after another from here; under real time it may not)."""
    out = []
    succ = system.successors(state)
    flushed = set()
    for action, nxt in succ:
        kind, x, pos = system.decode(action)
        if kind == "commit":
            op = system.ops[x]
            at = system.leaders[system.committed_at(nxt, x)]
            out.append((Step("commit", at, None, x, 1, (action,), f"commit {op.id} at {at}"), nxt))
        elif kind == "deliver" and pos == 0:
            if x in flushed:
                continue
            flushed.add(x)
            actions = [action]
            cur = nxt
            ok = True
            while st.link(cur, x):
                cur = dict(system.successors(cur)).get(action)
                if cur is None:
                    ok = False      # the model cannot take the rest of the queue right away
                    break
                actions.append(action)
            if ok:
                s_, d = system.edges[x]
                src, dst = system.leaders[s_], system.leaders[d]
                n = len(actions)
                out.append((Step("deliver", dst, src, None, n, tuple(actions),
                                 f"deliver {src} -> {dst} ({n} message{'s' if n > 1 else ''})"), cur))
        elif kind in ("cut", "heal"):
            out.append((Step("fault", "", None, None, 0, (action,), system.action_name(action)), nxt))
        # anything else (crash, duplicate, lose, ...) is refused before enumeration (run.applicable)
    return out


def _resources(system: System, step: Step) -> frozenset:
    """What a step reads or writes, for independence (see module docstring)."""
    if step.kind == "fault":
        return frozenset({"*"})
    if step.kind == "commit":
        return frozenset({("node", step.leader)} | {("link", step.leader, b) for b in system.leaders})
    # A flush writes its receiver and, where the topology forwards, the receiver's out-links.
    out = {("link", step.src, step.leader), ("node", step.leader)}
    if system.forwards:
        out |= {("link", step.leader, b) for b in system.leaders}
    return frozenset(out)


def canonical(system: System, steps) -> tuple:
    """The Foata normal form of a schedule: equal for two schedules that
    differ only in the order of independent steps."""
    levels: list[list] = []
    placed: list[tuple[int, frozenset]] = []
    seen: dict = {}
    for step in steps:
        ident = (step.kind, step.leader, step.src, step.op)
        seen[ident] = seen.get(ident, 0) + 1
        res = _resources(system, step)
        level = 0
        for lv, r in placed:
            if "*" in r or "*" in res or r & res:
                level = max(level, lv + 1)
        placed.append((level, res))
        while len(levels) <= level:
            levels.append([])
        levels[level].append((*map(str, ident), seen[ident]))
    return tuple(tuple(sorted(lv)) for lv in levels)


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() > deadline


def _count(system: System, start, nexts, limit: int, deadline: float | None = None) -> int | None:
    """Number of paths from ``start`` to a state with no ``nexts`` (memoised
    over states; ``None`` past ``limit`` states or past ``deadline``)."""
    memo: dict = {}
    stack = [(start, False)]
    while stack:
        if len(memo) % 256 == 0 and _past(deadline):
            return None
        s, done = stack.pop()
        if s in memo:
            continue
        succ = [t for t in nexts(s)]
        if done:
            memo[s] = sum(memo[t] for t in succ) if succ else 1
            continue
        if len(memo) + len(stack) > limit:
            return None
        stack.append((s, True))
        stack.extend((t, False) for t in succ if t not in memo)
    return memo[start]


def enumerate_schedules(system: System, limit: int = 500, runs: int | None = None, seed: int = 0,
                        max_seconds: float | None = None, bound: str | None = None) -> Enumeration:
    """The executable schedules of ``system``: every class (at most
    ``limit``; more is a cut), or, with ``runs``, ``runs`` random
    executable runs (seeded walks, duplicates dropped).  ``max_seconds``
    bounds the whole enumeration (counting included): past it the
    schedules found so far are kept and ``cut`` says ``max_seconds`` (or
    ``bound``, the name of the bound the caller derived it from)."""
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    timed_out = bound or (f"max_seconds ({max_seconds:g} s)" if max_seconds is not None else None)
    init = system.initial_state()
    # The counts only inform the report: each gets at most a quarter of the time, so that listing
    # (what is run) keeps at least half of it.
    share = None if max_seconds is None else max_seconds / 4
    model_runs = _count(system, init, lambda s: [t for _, t in system.successors(s)], MAX_STATES,
                        None if share is None else min(deadline, time.monotonic() + share))
    executable = _count(system, init, lambda s: [t for _, t in macro_steps(system, s)], MAX_STATES,
                        None if share is None else min(deadline, time.monotonic() + share))
    found: dict = {}
    cut = None
    if runs is not None:
        rng = random.Random(seed)
        for _ in range(runs * 20):
            if len(found) >= runs:
                break
            if _past(deadline):
                cut = timed_out
                break
            steps, states = [], [init]
            s = init
            while True:
                options = macro_steps(system, s)
                if not options:
                    break
                step, s = options[rng.randrange(len(options))]
                steps.append(step)
                states.append(s)
            if system.successors(s):
                continue     # a dead end for flushes: not a complete run
            key = canonical(system, steps)
            found.setdefault(key, Schedule(tuple(steps), tuple(states)))
        return Enumeration(tuple(found.values()), model_runs, executable, cut)
    walked = 0
    stack = [(init, (), (init,))]
    while stack:
        if _past(deadline):
            cut = timed_out
            break
        s, steps, states = stack.pop()
        options = macro_steps(system, s)
        if not options:
            if system.successors(s):
                continue     # only partial deliveries lead on from here
            walked += 1
            key = canonical(system, steps)
            if key not in found:
                if len(found) >= limit:
                    cut = f"max-schedules ({limit})"
                    break
                found[key] = Schedule(steps, states)
            if walked >= MAX_PATHS:
                cut = f"{MAX_PATHS} executable runs walked"
                break
            continue
        for step, t in reversed(options):
            stack.append((t, steps + (step,), states + (t,)))
    ordered = sorted(found.values(), key=lambda sc: [s.text for s in sc.steps])
    return Enumeration(tuple(ordered), model_runs, executable, cut)
