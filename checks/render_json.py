"""The stable JSON form of reports (schema: ``checks/schema/report.schema.json``,
documented in ``docs/json.md``)."""

from __future__ import annotations

import json

from replcheck.checks.trace import trace_json
from replcheck.checks.verdict import Report

SCHEMA_VERSION = 1


def result_json(report: Report, r) -> dict:
    st = report.stats
    return {
        "invariant": r.invariant,
        "verdict": r.verdict,
        "anomaly": r.anomaly,
        "anomalies": list(r.anomalies),
        "anomalies_complete": r.anomalies_complete,
        "shortest": r.shortest,
        "vacuous": r.vacuous,
        "message": r.message,
        "culprits": list(r.culprits),
        "bound": r.bound,
        "trace": trace_json(report.facts, r.trace) if r.trace is not None else None,
        "stats": {"states": _counted(report, st.states), "transitions": _counted(report, st.transitions),
                  "depth": st.depth, "seconds": round(st.seconds, 6)},
    }


def _counted(report: Report, n):
    """A count of enumerated states or transitions; ``None`` (JSON null) for
    the symbolic engine, which enumerates none (docs/z3.md, docs/json.md)."""
    return None if report.engine == "smt" else n


def report_json(report: Report) -> dict:
    s = report.spec
    st = report.stats
    return {
        "schema": SCHEMA_VERSION,
        "spec": s.source,
        "name": s.name,
        "system": {"leaders": list(s.leaders), "topology": s.topology, "hub": s.hub,
                   "loop_prevention": s.loop_prevention, "resolver": s.resolver, "clock": s.clock,
                   "tie_break": s.tie_break, "links": s.links},
        "engine": report.engine,
        "complete": report.complete,
        "cut": report.cut,
        "reductions": list(report.reductions),
        "results": [result_json(report, r) for r in report.results],
        "stats": {"states": _counted(report, st.states), "transitions": _counted(report, st.transitions),
                  "depth": st.depth, "quiescent": _counted(report, st.quiescent), "seconds": round(st.seconds, 6),
                  "states_per_second": _counted(report, round(st.states_per_second, 1))},
    }


def render(reports, outcomes=None) -> str:
    """One report as an object; several as ``{"reports": [...]}``.
    ``outcomes`` (``check --show-outcomes``): per report, the ``outcomes``
    object of checks/outcomes.py, added under that key."""
    docs = [report_json(r) for r in reports]
    for d, o in zip(docs, outcomes or ()):
        d["outcomes"] = o[0]
    if len(docs) == 1:
        return json.dumps(docs[0], indent=2)
    return json.dumps({"reports": docs}, indent=2)
