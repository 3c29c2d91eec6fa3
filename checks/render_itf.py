"""ITF rendering: counterexamples in the Apalache/Quint Informal Trace Format.

An ITF trace is a JSON object with ``vars`` and a list of ``states``, each
state mapping every variable to an ITF value (``{"#map": ...}``,
``{"#set": ...}``, ``{"#bigint": "3"}``, records as objects, variants as
``{"tag": ..., "value": ...}``).  Encoding goes through the ``itf-py``
package, so ITF viewers and tooling (and ``itf_py.trace_from_json``) read
what we write.  State 0 is the initial state; state ``i`` is the system
after step ``i``.  Variables:

``leaders``
    map leader -> record ``{values, held, clock, version_vector, applied}``:
    per key the set of values a reader sees (several = siblings), per key
    the set of op ids held, the clock as text (``-`` for wall clocks), per
    leader how many of its writes are in this leader's causal past, and the
    set of op ids applied.
``in_flight``
    map ``"src -> dst"`` -> the sequence of op ids queued on that link.
``action_taken``
    the event that led here, as a variant: ``Init``; ``Commit``; a message
    event ``Deliver``, ``Drop``, ``Duplicate`` or ``Lose``; a fault or repair
    ``Crash``, ``Recover``, ``Cut``, ``Heal`` or ``ClockJump`` (Quint's
    ``mbt::actionTaken`` idea).
"""

from __future__ import annotations

import json
from collections import namedtuple

import itf_py

from replcheck.checks.escape import json_text
from replcheck.checks.explain import Counterexample

Leader = namedtuple("Leader", "values held clock version_vector applied up")
Commit = itf_py.itf_variant(namedtuple("Commit", "op leader key kind value ts"))
Init = itf_py.itf_variant(namedtuple("Init", "value"))

# A replication message moved over a link: Deliver, Drop, Duplicate or Lose.
_MESSAGE_FIELDS = "op src dst key kind value ts outcome"
# A fault or repair: Crash, Recover, Cut, Heal or ClockJump (other = the
# second leader of a cut/healed pair, else "").
_FAULT_FIELDS = "leader other"


def _variant(tag: str, fields: str):
    return itf_py.itf_variant(namedtuple(tag, fields))


def _tag(kind: str) -> str:
    return "".join(part.title() for part in kind.split("-"))

VARS = ["leaders", "in_flight", "action_taken"]


def _op_fields(cx: Counterexample, ev) -> tuple[str, str]:
    """``(kind, value)`` of the op an event carries: the workload kind as
    written (set, delete, incr, add, sell, ...) and its operand as text
    (the value, the amount, ``1 to eu-west``; ``""`` for a delete)."""
    op = cx.facts.op(ev.op)
    if op is None:
        return ("delete" if ev.value is None else "set"), ev.value or ""
    return op.kind, op.operand


def _action(cx: Counterexample, frame):
    if frame.step is None:
        return Init("U_OF_UNIT")  # Apalache's unit value
    ev = frame.step.event
    kind, value = _op_fields(cx, ev)
    ts = cx.facts.show_ts(ev.ts) if ev.ts else ""
    if ev.kind == "commit":
        return Commit(ev.op, ev.leader, ev.key, kind, value, ts)
    if ev.op:
        return _variant(_tag(ev.kind), _MESSAGE_FIELDS)(ev.op, ev.src, ev.leader, ev.key, kind, value, ts,
                                                        ev.outcome)
    return _variant(_tag(ev.kind), _FAULT_FIELDS)(ev.leader, ev.src or "")


def itf_trace(cx: Counterexample) -> itf_py.Trace:
    """The counterexample as an ``itf_py.Trace`` (state ``i`` after step ``i``)."""
    states = []
    for f in cx.frames:
        leaders = {}
        for v in f.leaders:
            leaders[v.name] = Leader({k: frozenset(vals) for k, vals in v.shown},
                                     {k: frozenset(ids) for k, ids in v.held},
                                     v.clock,
                                     dict(v.version_vector),
                                     frozenset(v.applied),
                                     v.up)
        flight = {f"{s} -> {d}": list(ids) for s, d, ids in f.in_flight}
        states.append(itf_py.State({"index": f.index}, {"leaders": leaders, "in_flight": flight,
                                                        "action_taken": _action(cx, f)}))
    spec = cx.report.spec
    meta = {"format": "ITF", "format-description": "Apalache/Quint Informal Trace Format",
            "source": spec.source, "description": f"replcheck counterexample: {spec.name}",
            "invariant": cx.invariant, "anomaly": cx.anomaly, "message": cx.message,
            "culprits": list(cx.result.culprits)}
    if cx.minimized is not None:
        meta["minimized"] = cx.minimized.note()
    return itf_py.Trace(meta, [], list(VARS), states, None)


def trace_json(cx: Counterexample) -> dict:
    """The ITF JSON object of one counterexample (``loop`` omitted: traces are finite)."""
    data = _sorted_sets(itf_py.trace_to_json(itf_trace(cx)))
    if data.get("loop") is None:
        data.pop("loop", None)
    return data


def _sorted_sets(value):
    """Sort every ``#set`` so the same trace always prints the same bytes
    (Python's set order varies between runs)."""
    if isinstance(value, list):
        return [_sorted_sets(v) for v in value]
    if isinstance(value, dict):
        out = {k: _sorted_sets(v) for k, v in value.items()}
        if "#set" in out:
            out["#set"] = sorted(out["#set"], key=lambda v: json.dumps(v, sort_keys=True))
        return out
    return value


def render(explained) -> str:
    """Every counterexample of ``explained`` (:class:`checks.explain.Explained`,
    one per report) in ITF.

    One counterexample: one ITF trace object.  Otherwise a JSON array of
    ITF traces (empty when nothing was violated), each naming its invariant
    in ``#meta``.
    """
    traces = [trace_json(cx) for ex in explained for cx in ex.counterexamples]
    # Non-ASCII stays readable; C1 controls, separators and bidi marks are written as \u escapes.
    return json_text(json.dumps(traces[0] if len(traces) == 1 else traces, indent=2, ensure_ascii=False))
