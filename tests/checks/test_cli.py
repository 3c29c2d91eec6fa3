"""The replcheck CLI through click's CliRunner."""

import json

import jsonschema
import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from tests.conftest import ROOT, SPECS

SCHEMA = json.loads((ROOT / "checks" / "schema" / "report.schema.json").read_text())
SEED = str(SPECS / "seed" / "alice-bob-lww.toml")
SEED_MV = str(SPECS / "seed" / "alice-bob-mv-register.toml")


@pytest.fixture
def run():
    runner = CliRunner()

    def go(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    return go


def test_seed_lww_exits_1_with_the_lost_write_and_its_trace(run):
    r = run("check", SEED)
    assert r.exit_code == 1
    assert "no-lost-writes  VIOLATED  lost-update" in r.output
    assert "alice's acknowledged write" in r.output
    assert "1. alice commits doc1.title" in r.output   # real time: alice (0 ms) commits before bob (10 ms)
    assert "loses to bob's (ts 10)" in r.output
    assert "exhaustive" in r.output


def test_seed_mv_register_exits_0(run):
    r = run("check", SEED_MV)
    assert r.exit_code == 0, r.output
    assert "VIOLATED" not in r.output


def test_set_override_switches_the_resolver(run):
    r = run("check", SEED, "--set", "system.resolver=mv-register")
    assert r.exit_code == 0, r.output


def test_invariant_option_limits_the_check(run):
    r = run("check", SEED, "--invariant", "convergence")
    assert r.exit_code == 0
    assert "no-lost-writes" not in r.output


def test_incomplete_exits_3(run):
    r = run("check", SEED, "--max-states", "2", "--invariant", "convergence")
    assert r.exit_code == 3
    assert "incomplete (search cut by max_states" in r.output


def test_json_output_validates_against_the_documented_schema(run, tmp_path):
    out = tmp_path / "r.json"
    r = run("check", SEED, "--format", "json", "-o", str(out))
    assert r.exit_code == 1
    data = json.loads(out.read_text())
    jsonschema.validate(data, SCHEMA)
    res = {x["invariant"]: x for x in data["results"]}
    assert res["no-lost-writes"]["verdict"] == "violated"
    assert res["no-lost-writes"]["trace"]["steps"][0]["event"]["kind"] == "commit"
    assert res["convergence"]["trace"] is None


def test_json_for_several_specs_validates(run):
    r = run("check", SEED, SEED_MV, "--format", "json")
    data = json.loads(r.output)
    jsonschema.validate(data, SCHEMA)
    assert len(data["reports"]) == 2


def test_replay_confirms_the_violation_and_shows_a_fix(run, tmp_path):
    out = tmp_path / "r.json"
    run("check", str(SPECS / "seed" / "skew-wall.toml"), "--format", "json", "-o", str(out))
    r = run("replay", str(SPECS / "seed" / "skew-wall.toml"), str(out))
    assert r.exit_code == 1
    assert "violation reproduced: causally-later-write-lost" in r.output
    r = run("replay", str(SPECS / "seed" / "skew-hlc.toml"), str(out))
    assert r.exit_code == 0
    assert "HOLDS at the end" in r.output


def test_replay_rejects_a_trace_from_another_spec(run, tmp_path):
    out = tmp_path / "r.json"
    run("check", SEED, "--format", "json", "-o", str(out))
    r = run("replay", str(SPECS / "seed" / "alice-bob-lww-ring.toml"), str(out))
    assert r.exit_code == 2
    assert "not enabled" in r.output or "does not have" in r.output


def test_expect_mode_on_the_specs_folder_exits_0(run):
    r = run("check", "--expect", str(SPECS))
    assert r.exit_code == 0, r.output
    assert "0 mismatched" in r.output


def test_expect_mode_reports_a_mismatch(run, tmp_path):
    spec = tmp_path / "x.toml"
    spec.write_text((SPECS / "seed" / "alice-bob-lww.toml").read_text().replace(
        'no-lost-writes = "violated:lost-update"', 'no-lost-writes = "holds"'))
    r = run("check", "--expect", str(spec))
    assert r.exit_code == 1
    assert "MISMATCH" in r.output and "no-lost-writes: expected holds, got violated:lost-update" in r.output


@pytest.mark.parametrize("what,needle", [
    ("resolvers", "mv-register"), ("topologies", "star"), ("invariants", "no-lost-writes"),
    ("clocks", "hlc"), ("loop-prevention", "visited"), ("tie-breaks", "incoming-loses"),
])
def test_list_prints_each_entry_with_its_meaning(run, what, needle):
    r = run("list", what)
    assert r.exit_code == 0
    line = next(x for x in r.output.splitlines() if x.startswith(needle))
    assert len(line.split(None, 1)[1]) > 10


def test_every_command_has_help(run):
    for cmd in ([], ["check"], ["list"], ["replay"]):
        r = run(*cmd, "--help")
        assert r.exit_code == 0 and "Usage" in r.output


def test_input_nested_too_deeply_is_one_line_of_bad_input(run, tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 600 + "1" + "]" * 600 + "\n")
    r = CliRunner().invoke(main, ["check", str(deep)])
    assert r.exit_code == 2
    assert "deep.toml" in r.output and "nested too deeply" in r.output
    assert "Traceback" not in r.output


def test_an_unexpected_exception_is_an_internal_error_never_a_violation(monkeypatch):
    # One guard around every command (checks/cli.py _Guarded): exit 4, one
    # line, no traceback; never exit 1, which means "violation".
    from replcheck.checks import cli

    def boom(*a, **kw):
        raise ValueError("seeded bug")
    monkeypatch.setattr(cli, "check", boom)
    monkeypatch.delenv("REPLCHECK_DEBUG", raising=False)
    r = CliRunner().invoke(main, ["check", SEED])
    assert r.exit_code == 4
    lines = [l for l in r.output.splitlines() if l.strip()]
    assert len(lines) == 1 and "internal error: ValueError: seeded bug" in lines[0]
