"""Outcomes: what a run can end with (issue 17, ``check --show-outcomes``).

An *outcome* is what every leader shows for every key in a quiescent state
— replication has finished and only faults could still happen (the
engines' definition, docs/model.md §5) — together with the ops local
checks rejected on the way: the same final stock with a sale refused and
with both sales acknowledged are two outcomes (decision, docs/spec-format.md
"Outcomes").  Users ask "what value does the
stock end at?" and "which sales were refused?"; a verdict answers neither.
:func:`outcomes` lists the distinct outcomes, each with one shortest run
that reaches it and the ops local checks rejected in that run.

The exploration is breadth-first over the *plain* compiled system (no
reduction: a reduced system rebuilds some leaders' final states and would
show them only at the end), so the run shown is a shortest one.  It has its
own bounds — the spec's ``max_states`` and ``max_seconds`` — and when one
cuts it the list is ``incomplete``: outcomes may be missing, never made up.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from replcheck.checks.explain import leader_states
from replcheck.model import state as st
from replcheck.model.resolvers.base import is_rejected
from replcheck.model.gcpause import paused
from replcheck.model.search import is_quiescent
from replcheck.model.system import System


@dataclass(frozen=True)
class Ending:
    """One distinct outcome: ``values`` per leader ``(leader, ((key, shown
    value), ...))`` (a crashed leader's last state included), one shortest
    run reaching it (action codes), and the ops rejected in that run."""

    values: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    path: tuple[int, ...]
    rejected: tuple[str, ...]


@dataclass(frozen=True)
class Outcomes:
    """Every distinct outcome found, in the order BFS reached them;
    ``complete`` when no bound cut the exploration (``cut`` names it)."""

    endings: tuple[Ending, ...]
    states: int
    complete: bool
    cut: str | None


@paused
def outcomes(system: System, max_states: int | None = 200_000, max_seconds: float | None = 60.0) -> Outcomes:
    """The distinct quiescent outcomes of ``system`` (plain, unreduced)."""
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    init = system.initial_state()
    parent: dict = {init: None}
    queue = deque([init])
    found: dict = {}
    cut = None
    while queue:
        if deadline is not None and len(parent) % 512 == 0 and time.monotonic() > deadline:
            cut = "max_seconds"
            break
        s = queue.popleft()
        succ = system.successors(s)
        if is_quiescent(system, succ):
            values = tuple((ls.name, ls.values) for ls in leader_states(system, s))
            key = (values, _rejected(system, s))
            if key not in found:
                found[key] = s
        for a, t in succ:
            if t not in parent:
                if max_states is not None and len(parent) >= max_states:
                    cut = "max_states"
                    queue.clear()
                    break
                parent[t] = (s, a)
                queue.append(t)
    endings = []
    for (values, rejected), s in found.items():
        path = []
        cur = s
        while parent[cur] is not None:
            cur, a = parent[cur]
            path.append(a)
        endings.append(Ending(values, tuple(reversed(path)), rejected))
    return Outcomes(tuple(endings), len(parent), cut is None, cut)


def _rejected(system: System, state) -> tuple[str, ...]:
    return tuple(system.ops[i].id for i, meta in enumerate(st.writes(state)) if meta is not None and is_rejected(meta))


def _leaders_text(values) -> str:
    parts = []
    for name, kv in values:
        if len(kv) == 1:
            parts.append(f"{name}: {kv[0][1]}")
        else:
            parts.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in kv))
    return " | ".join(parts)


def render_text(system: System, o: Outcomes) -> list[str]:
    """The outcomes for the text report (each name from the spec escaped by
    the caller's :func:`checks.escape.terminal_lines`)."""
    how = ("every run explored" if o.complete
           else f"incomplete: the exploration was cut by {o.cut} after {o.states:,} states; more may exist")
    n = len(o.endings)
    out = [f"  outcomes: {n} distinct way{'s' if n != 1 else ''} a run can end ({how})"]
    for k, e in enumerate(o.endings, 1):
        ops = [system.ops[a].id for a in e.path if 0 <= a < system.nops]
        out.append(f"    {k}. {_leaders_text(e.values)}")
        out.append(f"       reached in {len(e.path)} steps (commits in order: {', '.join(ops) or 'none'});"
                   f" rejected by local checks: {', '.join(e.rejected) or 'none'}")
    return out


def to_json(system: System, o: Outcomes) -> dict:
    """The outcomes for ``--format json`` (docs/json.md, "outcomes")."""
    return {"complete": o.complete, "cut": o.cut, "states": o.states,
            "endings": [{"leaders": {name: dict(kv) for name, kv in e.values},
                         "steps": len(e.path),
                         "commits": [system.ops[a].id for a in e.path if 0 <= a < system.nops],
                         "rejected": list(e.rejected)} for e in o.endings]}
