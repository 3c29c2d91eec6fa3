"""Issue 16, "One vocabulary": `--format json` on smt skew, smt laws, drill
check and drill solve, each document valid against its shipped schema
(checks/schema/, docs/json.md "Other commands")."""

import json

import jsonschema
import pytest
from click.testing import CliRunner
from referencing import Registry, Resource

from replcheck.checks.cli import main
from tests.conftest import ROOT, SPECS

SCHEMAS = ROOT / "checks" / "schema"


def _validator(name):
    docs = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json")}
    registry = Registry().with_resources(
        [(f"replcheck/{n}", Resource.from_contents(d)) for n, d in docs.items()])
    return jsonschema.Draft202012Validator(docs[name], registry=registry)


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


CASES = [
    ("smt-skew.schema.json", ["smt", "skew", SPECS / "seed" / "alice-bob-lww.toml"], 1),
    ("smt-skew.schema.json", ["smt", "skew", SPECS / "seed" / "skew-hlc.toml", "--set", "system.clock=\"wall\""], None),
    ("smt-laws.schema.json", ["smt", "laws", "lww"], 0),
    ("smt-laws.schema.json", ["smt", "laws", "lww", "--tie-break", "incoming-loses"], 1),
    ("drill-check.schema.json", ["drill", "check", SPECS / "drills" / "answers" / "inventory-escrow.toml"], 0),
    ("drill-grade.schema.json", ["drill", "check", SPECS / "drills" / "answers"], 1),
    ("drill-solve.schema.json", ["drill", "solve", "inventory", "--resolver", "lww,escrow,pn-counter"], 0),
    ("drill-list.schema.json", ["drill", "list"], 0),
    ("smt-iconfluence.schema.json", ["smt", "iconfluence", ROOT / "queries" / "iconfluence" / "stock-decrement.toml"], 1),
    ("smt-iconfluence.schema.json", ["smt", "iconfluence",
                                     ROOT / "queries" / "iconfluence" / "foreign-keys" / "cascading-delete.toml"], 0),
]


@pytest.mark.parametrize("schema,args,code", CASES, ids=[" ".join(map(str, c[1][:2])) + f"-{i}"
                                                          for i, c in enumerate(CASES)])
def test_json_output_is_valid_against_its_schema_and_keeps_the_exit_code(schema, args, code):
    got, out = run(*args, "--format", "json")
    text, _ = run(*args)
    doc = json.loads(out)
    _validator(schema).validate(doc)
    assert doc["kind"] == schema.split(".")[0]
    assert got == (code if code is not None else got)
    assert got == run(*args)[0]   # the same exit code as the text form


def test_skew_json_carries_the_freed_least_skew_of_the_seed():
    _, out = run("smt", "skew", SPECS / "seed" / "alice-bob-lww.toml", "--format", "json")
    doc = json.loads(out)
    assert doc["least_skew"]["skew_ms"] is None and doc["least_skew_with_free_times"]["skew_ms"] == 32.5
    assert doc["lost_update"]["possible"] is True and doc["causally_later_write_lost"]["possible"] is False


def test_drill_check_json_fails_like_the_text():
    code, out = run("drill", "check", SPECS / "drills" / "answers" / "inventory-lww.toml", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["outcome"] == "fail"
    assert any(r["verdict"] == "violated" and r["trace"] for r in doc["results"])


def test_matrix_takes_set_like_every_spec_command():
    code, out = run("matrix", SPECS / "seed" / "alice-bob-lww.toml", "--resolver", "lww",
                    "--set", 'system.topology="ring"')
    assert code == 1 and "topology: ring" in out


def test_expect_under_other_resolvers_is_shown_not_compared():
    seed = SPECS / "seed" / "alice-bob-lww.toml"
    code, out = run("check", seed, "--expect", "--resolver", "mv-register,lww")
    assert code == 0 and out.startswith("other    ") and "not compared" in out and "MISMATCH" not in out
    code, out = run("check", seed, "--expect", "--resolver", "mv-register")
    assert code == 3 and "0 specs, 0 as expected" in out


def test_drill_grade_json_holds_each_answers_own_document():
    _, one = run("drill", "check", SPECS / "drills" / "answers" / "notes-lww.toml", "--format", "json")
    _, all_ = run("drill", "check", SPECS / "drills" / "answers", "--format", "json")
    doc = json.loads(all_)

    def timeless(d):   # only the seconds of a run differ
        for r in d["results"]:
            r.get("stats", {}).pop("seconds", None)
        return d
    assert timeless(json.loads(one)) in [timeless(a) for a in doc["answers"]]
    assert sum(doc["counts"].values()) == len(doc["answers"]) == len(list((SPECS / "drills" / "answers").glob("*.toml")))
