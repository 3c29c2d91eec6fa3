"""The JSON forms of the answers that are not check reports: ``smt skew``,
``smt laws``, ``drill check`` and ``drill solve`` (``--format json``).

Each document names its ``kind`` and ``schema`` version and follows the
JSON Schema of the same name in ``checks/schema/`` (docs/json.md,
"Other commands").  Times and skews are milliseconds as JSON numbers
(z3's exact rationals rounded to 1e-6); an unanswered question carries
``"undecided": reason`` instead of a made-up answer.
"""

from __future__ import annotations

import json
from fractions import Fraction

from replcheck.checks.render_json import SCHEMA_VERSION, result_json

SCHEMA = {"smt-skew": "smt-skew.schema.json", "smt-laws": "smt-laws.schema.json",
          "drill-check": "drill-check.schema.json", "drill-solve": "drill-solve.schema.json",
          "drill-list": "drill-list.schema.json", "smt-iconfluence": "smt-iconfluence.schema.json"}


def _ms(x: Fraction | None):
    """Milliseconds as a JSON number: an integer when exact, else rounded."""
    if x is None:
        return None
    return int(x) if x.denominator == 1 else round(float(x), 6)


def _witness(w) -> dict | None:
    if w is None:
        return None
    return {"anomaly": w.anomaly, "victim": w.victim, "winner": w.winner, "skew_ms": _ms(w.skew),
            "message": w.message,
            "offsets_ms": {leader: _ms(o) for leader, o in w.offsets},
            "events": [{"kind": e.kind, "op": e.op, "leader": e.leader, "time_ms": _ms(e.time), "ts": _ms(e.ts),
                        "clocks_ms": {leader: _ms(c) for leader, c in e.clocks}} for e in w.events]}


def _question(report, label: str, witness) -> dict:
    undecided = dict(report.undecided)
    if label in undecided:
        return {"possible": None, "undecided": undecided[label], "witness": None}
    return {"possible": witness is not None, "undecided": None, "witness": _witness(witness)}


def _least(report) -> dict | None:
    undecided = dict(report.undecided)
    if "least-skew" in undecided:
        return {"skew_ms": None, "attained": None, "undecided": undecided["least-skew"], "witness": None}
    le = report.least
    if le is None:
        return None
    return {"skew_ms": _ms(le.skew), "attained": le.attained if le.skew is not None else None, "undecided": None,
            "witness": _witness(le.witness)}


def skew(report, freed=None) -> dict:
    """``smt skew``: the two questions, the least skew, and (when the spec's
    own times left no causally later write) the least skew with free times."""
    t = report.timing
    return {"kind": "smt-skew", "schema": SCHEMA_VERSION, "spec": report.source, "name": report.name,
            "timing": {"commit_ms": _ms(t.commit_ms), "replication_ms": _ms(t.replication_ms),
                       "max_skew_ms": _ms(t.max_skew), "free_times": t.free_times},
            "notes": list(report.notes),
            "lost_update": _question(report, "lost-update", report.lost_update),
            "causally_later_write_lost": _question(report, "causally-later-write-lost", report.causally_later),
            "least_skew": _least(report),
            "least_skew_with_free_times": _least(freed) if freed is not None else None}


def laws(report) -> dict:
    """``smt laws``: each law proved, refuted (with the states) or undecided,
    and the one convergence claim (docs/z3.md)."""
    return {"kind": "smt-laws", "schema": SCHEMA_VERSION, "resolver": report.resolver, "states": report.states,
            "source": report.source or None,
            "laws": [{"law": law.law, "proved": law.proved, "undecided": law.undecided,
                      "states": {n: v for n, v in law.states} if law.states else None,
                      "left": list(law.left) if law.left else None, "right": list(law.right) if law.right else None}
                     for law in report.laws],
            "left_out": list(report.left_out), "proved": report.proved, "converges": report.converges}


def _answer(a) -> dict:
    return {"drill": a.drill, "topology": a.topology, "resolver": a.resolver, "routing": a.routing,
            "home_by": a.home_by, "layout": a.layout, "hub": a.hub, "label": a.label}


def drill_check(outcome) -> dict:
    """``drill check``: the answer, each required invariant's result (as in
    a check report), the costs, the rejected ops and the outcome."""
    from replcheck.checks.drill import status as status_of
    rep = outcome.report
    status = status_of(outcome)
    return {"kind": "drill-check", "schema": SCHEMA_VERSION, "drill": outcome.drill.name,
            "answer": {**_answer(outcome.answer), "source": outcome.answer.source,
                       "defense": outcome.answer.defense},
            "outcome": status,
            "results": [result_json(rep, r) for r in rep.results],
            "costs": [{"op": c.op, "issued_at": c.issued_at, "committed_at": c.committed_at, "ms": c.ms, "how": c.how} for c in outcome.costs],
            "rejected": [{"op": op, "when": when} for op, when in outcome.rejected.items()]}


def drill_grade(folder, outcomes) -> dict:
    """``drill check FOLDER``: each answer's ``drill-check`` document, in
    file-name order, and how many pass, fail, pass only vacuously or are
    not settled."""
    from replcheck.checks.drill import STATUS_WORDS, status
    return {"kind": "drill-grade", "schema": SCHEMA_VERSION, "folder": str(folder),
            "answers": [drill_check(o) for o in outcomes],
            "counts": {k: sum(1 for o in outcomes if status(o) == k) for k in STATUS_WORDS}}


def drill_solve(drill, cells) -> dict:
    """``drill solve``: every answer of the space and what happened to it."""
    return {"kind": "drill-solve", "schema": SCHEMA_VERSION, "drill": drill.name,
            "cells": [{"answer": _answer(c.answer), "verdict": c.verdict, "failed": list(c.failed),
                       "reason": c.reason or None, "worst_ms": c.worst_ms} for c in cells],
            "passing": sum(1 for c in cells if c.verdict == "pass")}


def iconfluence(v) -> dict:
    """``smt iconfluence``: proved, refuted (the ancestor, each branch's
    operations with the state after each, the merge-time effects and the
    merged state), or undecided (docs/z3.md §3)."""
    q = v.query
    verdict = "incomplete" if v.incomplete else "i-confluent" if v.confluent else "not i-confluent"
    cx = None
    if not v.incomplete and not v.confluent:
        cx = {"ancestor": v.ancestor,
              "branches": {name: [{"op": st.op, "params": dict(st.params), "state": st.state} for st in steps]
                           for name, steps in (("A", v.branch_a), ("B", v.branch_b))},
              "merge_effects": list(v.merge_effects), "merged_at": v.merged_at, "merged": v.merged,
              "minimal": v.minimal}
    expect = getattr(q, "expect", "") or None
    return {"kind": "smt-iconfluence", "schema": SCHEMA_VERSION, "query": q.source, "name": q.name,
            "invariant": q.invariant_text, "bounds": v.bounds, "verdict": verdict, "counterexample": cx,
            "note": v.note or None, "expect": expect,
            "as_expected": None if expect is None or v.incomplete else expect == verdict}


def drill_list(drills) -> dict:
    """``drill list``: each drill's question and what an answer may choose."""
    return {"kind": "drill-list", "schema": SCHEMA_VERSION,
            "drills": [{"name": d.name, "title": d.title, "question": d.question, "path": str(d.path),
                        "invariants": list(d.invariants), "leaders": list(d.leaders),
                        "homes_by": [basis for basis, _ in d.homes], "layouts": list(d.layouts)} for d in drills]}


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)
