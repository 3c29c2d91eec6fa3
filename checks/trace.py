"""Counterexample traces: one data model, rebuilt by replaying actions.

A trace is the list of events from the initial state to the violating
state, with every leader's visible state after each event (docs/model.md §6).
Engines return action paths; this module replays them through the model to
get the events and states, so a trace saved as JSON replays the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from replcheck.model import state as st
from replcheck.model.errors import TraceError
from replcheck.model.system import Event, System


@dataclass(frozen=True)
class LeaderView:
    """A leader as a reader sees it after a step."""

    name: str
    values: tuple[tuple[str, str], ...]   # (key, shown value)
    clock: str
    applied: tuple[str, ...]              # op ids applied, in op order


@dataclass(frozen=True)
class Step:
    index: int
    event: Event
    text: str
    leaders: tuple[LeaderView, ...]


@dataclass(frozen=True)
class Trace:
    steps: tuple[Step, ...]

    def __len__(self) -> int:
        return len(self.steps)


def leader_views(system: System, state) -> tuple[LeaderView, ...]:
    views = []
    for l, name in enumerate(system.leaders):
        applied, clock = st.applied(state, l), st.clock(state, l)
        values = tuple((key, system.show_visible(system.visible(state, l, k))) for k, key in enumerate(system.keys))
        ids = tuple(op.id for op in system.ops if (applied >> op.index) & 1)
        views.append(LeaderView(name, values, system.show_clock(clock), ids))
    return tuple(views)


def build_trace(system: System, path) -> tuple[Trace, object]:
    """Replay ``path`` (action codes) from the initial state.

    Returns the trace and the final state.
    """
    state = system.initial_state()
    steps = []
    for i, a in enumerate(path, 1):
        ev = system.describe(state, a)
        state = system.step(state, a)
        steps.append(Step(i, ev, describe_event(system, ev, state), leader_views(system, state)))
    return Trace(tuple(steps)), state


# A workload op as the spec spelled it: local-check ops are compiled to a plain
# kind plus a check (model/resolvers/local_checks.py CHECKED_OPS).
_CHECKED_KIND = {"unique": "insert", "exists": "update", "stock": "sell", "restock": "restock"}


def op_kind(system: System, i: int) -> str:
    """The workload kind of op ``i`` as written in the spec: ``set``,
    ``delete``, ``resolve``, ``incr``, ``decr``, ``transfer``, ``add``,
    ``remove``, ``insert``, ``sell`` or ``restock`` (docs/spec-format.md)."""
    check = getattr(system.spec.workload[i], "check", "") if i < len(system.spec.workload) else ""
    return _CHECKED_KIND.get(check, system.ops[i].kind)


def write_text(system: System, i: int) -> str:
    """What op ``i`` writes, as a trace or message shows it: ``"v"`` for a
    set, ``(delete)`` for a delete, ``+1`` / ``-2`` for an increment /
    decrement, ``add "x"`` / ``remove "x"`` for a set op, ``transfer 1 to
    eu-west``, ``insert "v"``, ``sell 2``, ``restock 3``.  Only a set,
    resolve or insert carries a value; every other op is shown as what it
    does (docs/model.md §2: an op is a write, a delta or a set operation)."""
    op, kind = system.ops[i], op_kind(system, i)
    if kind in ("set", "resolve"):
        return f'"{op.value}"'
    if kind == "delete":
        return "(delete)"
    if kind in ("incr", "decr"):
        return f"{'+' if kind == 'incr' else '-'}{op.amount}"
    if kind in ("sell", "restock"):
        return f"{kind} {op.amount}"
    if kind == "transfer":
        return f"transfer {op.amount} to {system.leaders[op.target]}"
    return f'{kind} "{op.value}"'   # add, remove, insert


def op_written(system: System, ev: Event) -> str:
    """The op an event carries as a lecture writes it: ``title = "A"``,
    ``likes += 1``, ``cart.add("ham")``, ``stock -= 1 (sell)``."""
    if ev.op not in system.op_index:
        return f"{ev.key} = " + ("(delete)" if ev.value is None else f'"{ev.value}"')
    i = system.op_index[ev.op]
    kind = op_kind(system, i)
    text = f"{ev.key} = {write_text(system, i)}" if kind in ("set", "delete") else system.op_text(i)
    return text + (f" ({kind})" if kind in _CHECKED_KIND.values() else "")


def _ts_of(system: System, state, op_id: str) -> str:
    return system.show_ts(st.ts(st.write(state, system.op_index[op_id])))


def _names(system, state, ids) -> str:
    return " and ".join(f"{x}'s (ts {_ts_of(system, state, x)})" for x in ids)


def describe_event(system: System, ev: Event, state) -> str:
    """One line a lecture slide can show, e.g.
    ``deliver us-east -> eu-west: bob's write "B" (ts 10) overwrites alice's (ts 0)``."""
    if ev.kind == "crash":
        return f"crash {ev.leader}"
    if ev.kind == "recover":
        return f"recover {ev.leader} (state intact; buffered messages resume)"
    if ev.kind in ("cut", "heal"):
        return f"{ev.kind} {ev.leader} <-> {ev.src}"
    if ev.kind == "failover":
        new = system.leaders[system.next_home(system.leaders.index(ev.leader))]
        return f"failover {ev.leader} -> {new}: the keys homed at {ev.leader} are now committed at {new}"
    if ev.kind == "clock-jump":
        ms = system.jump_ms[system.leaders.index(ev.leader)]
        return f"clock jump at {ev.leader}: its wall clock moves {ms:+d} ms"
    ts = system.show_ts(ev.ts)
    written = op_written(system, ev)
    what = f"{ev.op}'s write {written} (ts {ts})"
    if ev.kind == "lose":
        return f"lose {ev.src} -> {ev.leader}: {what} is lost and will be retransmitted after the link's later messages"
    if ev.kind == "commit":
        head = f"{ev.op} commits {written} at {ev.leader} (ts {ts})"
        if ev.outcome == "offline":   # docs/model.md "Offline periods"
            op = system.ops[system.op_index[ev.op]]
            home = system.routing.home(op.key, state)
            return (f"{ev.op} tries {written} at {ev.leader}: CANNOT BE MADE, {ev.leader} is offline and"
                    f" {op.key_name}'s home {system.leaders[home if home is not None else op.origin]} is out of"
                    " reach (not acknowledged, not replicated)")
        if ev.outcome == "rejected":
            i = system.op_index[ev.op]
            why = getattr(system.types[system.ops[i].key], "reject_reason", None)   # local checks (issue 4)
            why = (why(i) if why else None) or "its local rights do not cover it"
            return f"{ev.op} tries {written} at {ev.leader}: REJECTED, {why} (not acknowledged, not replicated)"

    elif ev.kind == "duplicate":
        head = f"duplicate {ev.src} -> {ev.leader}: a copy of {what} is delivered (another stays on the link)"
    elif ev.kind == "drop":
        head = f"deliver {ev.src} -> {ev.leader}: {what} dropped, {ev.leader} originated it (origin loop prevention)"
    else:
        head = f"deliver {ev.src} -> {ev.leader}: {what}"
    outcome = {
        "applied": "" if ev.kind == "commit" else " is applied",
        "superseded": f" supersedes {_names(system, state, ev.replaced)}, which it had seen",
        "overwrote": f" overwrites the concurrent {_names(system, state, ev.replaced)}",
        "overwrote-later": f" overwrites {_names(system, state, ev.replaced)}, although that write came after it",
        "sibling": " is kept as a sibling",
        "discarded": f" loses to {_names(system, state, ev.beaten_by)}" + (" and is discarded at once"
                                                                            if ev.kind == "commit" else ""),
        "duplicate": " is already held (no change)",
        "skipped": f" finds no row at {ev.leader} and is skipped (an SQL {'DELETE' if ev.value is None else 'UPDATE'}"
                   " of a missing row changes nothing)",
        "dropped": "",
        "merged": " is merged" if ev.kind != "commit" else "",
        "double-counted": " is applied again: its delta now counts twice",
    }.get(ev.outcome, f" ({ev.outcome})")
    if ev.kind == "commit" and ev.outcome == "superseded":
        outcome = f", superseding {_names(system, state, ev.replaced)}"
    elif ev.kind == "commit" and ev.outcome in ("overwrote", "overwrote-later"):
        outcome = f", overwriting {_names(system, state, ev.replaced)}"
    elif ev.kind == "commit" and ev.outcome == "sibling":
        outcome = ", kept beside the concurrent values as a sibling"
    text = head + outcome
    if ev.kind != "commit" and ev.forwarded_to:
        text += f"; forwarded to {', '.join(ev.forwarded_to)}"
    if ev.loop:
        text += " - it has now crossed more links than the graph has: a replication loop"
    return text


# ---------------------------------------------------------------- JSON form
EVENT_KINDS = ("commit", "deliver", "drop", "duplicate", "lose", "crash", "recover", "cut", "heal", "clock-jump",
               "failover")

def event_json(facts, ev: Event) -> dict:
    """An event as saved in JSON; ``facts``: anything with ``show_ts``
    (:class:`checks.facts.Facts`, or the compiled system)."""
    return {
        "kind": ev.kind, "op": ev.op, "leader": ev.leader, "src": ev.src, "key": ev.key, "value": ev.value,
        "ts": facts.show_ts(ev.ts) if ev.ts else "", "outcome": ev.outcome, "beaten_by": list(ev.beaten_by),
        "replaced": list(ev.replaced), "forwarded_to": list(ev.forwarded_to),
    }


@dataclass(frozen=True)
class Messages:
    """The delivery cost of one run (issue 17 item 6, docs/model.md
    "Delivery cost"): ``delivered`` counts the messages a receiver took off
    a link (applied, kept as a sibling, lost to the resolver, or found
    redundant); ``redundant`` those that changed nothing at the receiver —
    already held (``duplicate``) or discarded by loop prevention (``drop``);
    ``lost`` messages a lossy link lost (each is retransmitted later)."""

    delivered: int
    redundant: int
    lost: int


def messages(trace: Trace) -> Messages:
    """The delivery cost of the run ``trace`` shows (read off its events)."""
    delivered = redundant = lost = 0
    for s in trace.steps:
        ev = s.event
        if ev.kind == "lose":
            lost += 1
        elif ev.kind in ("deliver", "duplicate", "drop"):
            delivered += 1
            if ev.kind == "drop" or ev.outcome in ("duplicate", "dropped"):
                redundant += 1
    return Messages(delivered, redundant, lost)


def trace_json(facts, trace: Trace) -> dict:
    """A trace as ``--format json`` saves it (``facts`` as for :func:`event_json`)."""
    m = messages(trace)
    return {"messages": {"delivered": m.delivered, "redundant": m.redundant, "lost": m.lost}, "steps": [{
        "index": s.index,
        "event": event_json(facts, s.event),
        "text": s.text,
        "leaders": {v.name: {"values": dict(v.values), "clock": v.clock, "applied": list(v.applied)}
                    for v in s.leaders},
    } for s in trace.steps]}


def path_from_json(system: System, steps, source: str = "<trace>") -> tuple[int, ...]:
    """Action codes for a trace's steps, as saved in JSON."""
    path = []
    state = system.initial_state()
    for i, s in enumerate(steps, 1):
        ev = s.get("event", s) if isinstance(s, dict) else None
        if not isinstance(ev, dict) or ev.get("kind") not in EVENT_KINDS:
            raise TraceError(f"{source}: steps[{i - 1}]: not an event with kind {'/'.join(EVENT_KINDS)};"
                             " pass a trace written by replcheck check --format json")
        try:
            a = system.action_for_event(state, ev)
        except (KeyError, ValueError, TypeError):
            raise TraceError(f"{source}: steps[{i - 1}]: names an operation or link this spec does not have;"
                             " replay a trace against the spec it came from") from None
        try:
            state = system.step(state, a)
        except ValueError:
            raise TraceError(f"{source}: steps[{i - 1}]: {system.action_name(a)} is not enabled at that point;"
                             " the trace does not fit this spec") from None
        path.append(a)
    return tuple(path)
