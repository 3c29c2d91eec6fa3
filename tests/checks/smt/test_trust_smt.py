"""Trust tests for the Z3 side: every claim the smt commands print must be
one the explicit engine (or the schema) confirms.

1. ``smt laws``: "proved: converges" only when the explicit engine finds no
   divergence on two-leader concurrent-write workloads, for every resolver
   and preset of the catalogue.
2. ``smt iconfluence``: a solver timeout is incomplete (exit 3), not bad input.
3. ``check --engine smt --format json`` validates against the report schema.
4. The smt engine's anomaly label is deterministic and equals the explicit
   engine's label for the shown trace.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.smt import laws
from replcheck.checks.verdict import HOLDS, check
from replcheck.model import parse_spec
from replcheck.model.resolvers import RESOLVERS
from tests.conftest import ROOT

# ----------------------------------------------------------- 1. smt laws
# Two-leader (and the seed's three-leader) workloads with concurrent writes,
# one per family of ops; numeric values so value-ranked and delta resolvers
# take them too.
_REGISTER = {
    "seed": (["us-east", "eu-west", "ap-south"],
             [{"id": "alice", "leader": "eu-west", "key": "k", "set": "10", "time_ms": 0},
              {"id": "bob", "leader": "us-east", "key": "k", "set": "20", "time_ms": 10}]),
    # no time_ms: any commit order; eu-west's clock 100 ms behind
    "skewed": (["us-east", "eu-west", "ap-south"],
               [{"id": "alice", "leader": "eu-west", "key": "k", "set": "10"},
                {"id": "bob", "leader": "us-east", "key": "k", "set": "20"}], {"eu-west": -100}),
    "update-vs-delete": (["a", "b"],
                         [{"id": "w", "leader": "a", "key": "k", "set": "10", "time_ms": 5},
                          {"id": "d", "leader": "b", "key": "k", "delete": True, "time_ms": 5}]),
    "same-leader-tie": (["a", "b"],
                        [{"id": "w1", "leader": "a", "key": "k", "set": "10", "time_ms": 0},
                         {"id": "w2", "leader": "a", "key": "k", "set": "20", "time_ms": 0},
                         {"id": "v", "leader": "b", "key": "k", "set": "30", "time_ms": 500}]),
    # a delete, an update that saw it, and an update concurrent with both
    "delete-race": (["a", "b", "c"],
                    [{"id": "d", "leader": "a", "key": "k", "delete": True},
                     {"id": "u1", "leader": "b", "key": "k", "set": "10", "after": ["d"]},
                     {"id": "u2", "leader": "c", "key": "k", "set": "20"}], {"b": 1000, "c": 2000}),
}
_OTHER = {
    "counter": [{"id": "x", "leader": "a", "key": "k", "incr": 1}, {"id": "y", "leader": "b", "key": "k", "incr": 2}],
    "set": [{"id": "x", "leader": "a", "key": "k", "add": "e"}, {"id": "y", "leader": "b", "key": "k", "remove": "e"},
            {"id": "z", "leader": "b", "key": "k", "add": "f"}],
}


def _scenarios(name):
    """``(label, Spec)`` pairs: the workloads resolver ``name`` takes."""
    info = RESOLVERS[name]
    out = []
    if info.family == "register":
        for label, (leaders, ops, *offsets) in _REGISTER.items():
            takes = all(next(k for k in ("set", "delete") if k in o) in info.ops for o in ops)
            if not takes or (name == "goldengate-usedelta" and any("delete" in o for o in ops)):
                continue   # usedelta: integers only, no deletes
            data = {"system": {"leaders": leaders, "resolver": name, "offsets": offsets[0] if offsets else {}},
                    "workload": ops}
            out.append((label, parse_spec(data, f"<{label} {name}>", INVARIANTS)))
    else:
        ops = [o for o in _OTHER["counter" if info.family == "counter" else "set"]
               if next(k for k in ("incr", "add", "remove") if k in o) in info.ops]
        data = {"system": {"leaders": ["a", "b"]}, "keys": {"k": {"type": name}}, "workload": ops}
        out.append((info.family, parse_spec(data, f"<{info.family} {name}>", INVARIANTS)))
    return out


def _converges(spec) -> bool:
    [r] = check(spec, ["convergence"]).results
    return r.verdict == HOLDS


@pytest.mark.parametrize("name", sorted(RESOLVERS))
def test_laws_claims_convergence_only_where_the_explicit_engine_finds_it(name):
    """Whenever ``smt laws NAME`` says "proved: converges", ``check`` says
    convergence holds on every concurrent-write workload NAME takes."""
    report = laws.report_for(name)
    scenarios = _scenarios(name)
    assert scenarios, name
    if report.converges:
        diverging = [label for label, spec in scenarios if not _converges(spec)]
        assert not diverging, f"smt laws proves {name} converges; check diverges on {diverging}"


def test_laws_comparison_figures():
    """The figures of the comparison, pinned: which catalogue entries laws
    proves convergent, and that every catalogue entry marked as not
    converging is shown diverging by check on these workloads and is not
    claimed by laws."""
    proved = {n for n in RESOLVERS if laws.report_for(n).converges}
    assert proved == {"lww", "first-writer-wins", "max", "min", "mv-register", "union", "g-counter", "pn-counter",
                      "or-set", "lww-element-set", "2p-set", "escrow", "cassandra", "couchdb", "riak", "riak-lww",
                      "dynamodb-global-tables", "bucardo-latest", "yjs-map"}
    for n in RESOLVERS:
        if not RESOLVERS[n].converges:
            assert n not in proved
            assert any(not _converges(s) for _, s in _scenarios(n)), n


@pytest.mark.parametrize("name", ["pgd", "cosmosdb-lww", "goldengate-usemax", "goldengate-usemin"])
def test_cli_laws_does_not_print_proved_for_diverging_presets(name):
    res = CliRunner().invoke(main, ["smt", "laws", name])
    assert res.exit_code == 3, res.output
    assert "proved: converges" not in res.output
    assert "convergence NOT proved" in res.output and "left out" in res.output
    # ... and the explicit engine indeed shows a divergence
    assert any(not _converges(spec) for _, spec in _scenarios(name))


def test_left_out_rules_are_read_off_the_model_objects():
    """The rules come from the data type the explicit engine runs."""
    assert laws.semantics("pgd") == {"origin-detection", "delete-wins", "equal-ranks-keep"}
    assert laws.semantics("cosmosdb-lww") == {"delete-wins", "equal-ranks-keep"}
    assert laws.semantics("goldengate-usemax") == {"version-detection", "rule-override"}
    assert laws.semantics("lww", "incoming-loses") == {"equal-ranks-keep"}
    assert laws.semantics("lww") == laws.semantics("max") == laws.semantics("or-set") == frozenset()
    assert laws.semantics("sum") == frozenset()   # a plain merge, outside the catalogue


# ------------------------------------------------------ 2. smt iconfluence
# Easy to answer (one booking per branch overflows), slow to prove minimal:
# the old single Optimize call timed out at max_ops = 2 and exited 2.
SEATS = """
name = "seats"
description = "Seats as a set; booking adds a free seat while under capacity; each booking also inserts a row"
invariant = ["size(booked) <= 9", "count(users) <= 9"]
max_ops = 2

[vars.booked]
type = "set"
universe = 16
merge = "union(local, remote)"

[tables.users]
columns = ["id", "email"]
unique = ["email"]
rows = 2

[[ops]]
name = "book"
params = ["s", "id", "email"]
guard = "not contains(booked, s) and size(booked) < 9"
effect = { booked = "add(booked, s)" }
insert = { table = "users", id = "id", email = "email" }
"""


def test_iconfluence_timeout_is_incomplete_not_bad_input(tmp_path):
    q = tmp_path / "seats.toml"
    q.write_text(SEATS)
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(q), "--timeout", "0.001"])
    assert res.exit_code == 3, res.output
    assert "INCOMPLETE" in res.output and "raise --timeout" in res.output
    assert "i-confluent  (proved" not in res.output


def test_iconfluence_solves_first_then_minimises(tmp_path):
    q = tmp_path / "seats.toml"
    q.write_text(SEATS)
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(q), "--timeout", "3"])
    assert res.exit_code == 1, res.output
    assert "NOT i-confluent" in res.output and "<- violates" in res.output
    from replcheck.checks.smt.iconfluence import check as ic_check, load_query
    v = ic_check(load_query(q), timeout_ms=3000)
    assert not v.confluent and not v.incomplete
    assert v.minimal or "not minimised" in v.note   # a shrink that ran out of time says so
    assert len(v.branch_a) + len(v.branch_b) <= 4


def test_iconfluence_timeout_option_is_documented():
    res = CliRunner().invoke(main, ["smt", "iconfluence", "--help"])
    assert "--timeout SECONDS" in res.output
    assert "--timeout" in (ROOT / "docs" / "z3.md").read_text()


# --------------------------------------------- 3. --engine smt --format json
@pytest.mark.parametrize("spec", ["specs/seed/alice-bob-lww.toml", "specs/resolvers/counter-pn.toml"])
def test_smt_json_report_validates_against_the_schema(spec):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "checks" / "schema" / "report.schema.json").read_text())
    res = CliRunner().invoke(main, ["check", "--engine", "smt", "--format", "json", str(ROOT / spec)])
    assert res.exit_code in (0, 1), res.output
    report = json.loads(res.output)
    jsonschema.validate(report, schema)
    st = report["stats"]
    # a symbolic run enumerates no states: counts are null, depth is the unrolling depth
    assert st["states"] is None and st["transitions"] is None and st["quiescent"] is None
    assert isinstance(st["depth"], int) and st["depth"] >= 1
    assert all(r["stats"]["states"] is None for r in report["results"])
    # ... and the schema still refuses a made-up count for an explicit engine
    bad = dict(report, engine="bfs")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


# ------------------------------------------- 4. deterministic smt anomaly labels
PRESETS = sorted((ROOT / "specs" / "resolvers" / "presets").glob("*.toml"))


def _smt_labels(args):
    """``{(spec, invariant): (verdict, anomaly, path)}`` of one ``replcheck
    check --engine smt --format json`` process over ``args``."""
    out = subprocess.run([sys.executable, "-m", "replcheck.checks.cli", "check", "--engine", "smt", "--format", "json",
                          *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode in (0, 1), out.stderr
    data = json.loads(out.stdout)
    reports = data["reports"] if "reports" in data else [data]
    return {(r["spec"], x["invariant"]): (x["verdict"], x["anomaly"],
                                         tuple(s["text"] for s in (x["trace"] or {"steps": []})["steps"]))
            for r in reports for x in r["results"]}


def test_smt_labels_do_not_depend_on_what_ran_before():
    together = _smt_labels(PRESETS)
    backwards = _smt_labels(list(reversed(PRESETS)))
    assert together == backwards
    alone = {}
    for p in PRESETS[:6]:           # a few files alone, each in its own process
        alone.update(_smt_labels([p]))
    assert {k: v for k, v in together.items() if k in alone} == alone


def test_smt_labels_meet_the_presets_expectations_together_and_alone():
    res = CliRunner().invoke(main, ["check", "--expect", "--engine", "smt", str(ROOT / "specs/resolvers/presets")])
    assert res.exit_code == 0, res.output
    for p in PRESETS:
        res = CliRunner().invoke(main, ["check", "--expect", "--engine", "smt", str(p)])
        assert res.exit_code == 0, res.output


@pytest.mark.parametrize("spec", PRESETS, ids=lambda p: p.stem)
def test_smt_label_is_the_explicit_judgement_of_the_shown_trace(spec):
    """Replay the smt engine's path through the model and judge the end
    state with the explicit invariant: the same anomaly kind."""
    from replcheck.checks.verdict import load
    from replcheck.model.system import System
    rep = check(load(spec), engine="smt")
    for r in rep.results:
        if r.verdict != "violated":
            continue
        system = System(load(spec))
        state = system.initial_state()
        for a in r.path:
            state = system.step(state, a)
        v = INVARIANTS[r.invariant].build(system)(state)
        assert v is not None and v.anomaly == r.anomaly


def test_text_stats_line_of_the_symbolic_engine_counts_no_states():
    """The smt engine enumerates no states: its text stats line says what it
    searched (the unrolling depth), never "explored 0 states"."""
    from replcheck.checks import render_text
    from replcheck.checks.verdict import check, load
    from tests.conftest import SPECS
    line = render_text.stats_line(check(load(SPECS / "seed" / "alice-bob-lww.toml"), engine="smt"))
    assert line.startswith("symbolic (z3): unrolled to depth ") and "states" not in line
