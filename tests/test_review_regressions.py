"""Regressions for defects found in review: each once gave a wrong verdict,
a traceback, or a silently ignored input."""

import json

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.verdict import Options, check, load
from replcheck.model.search import fingerprint_of
from tests.conftest import SPECS, make_spec

FP_SPEC = """
[system]
leaders = ["z", "a"]
resolver = "lww"
clock = "wall"
tie_break = "incoming-loses"
offsets = { z = -3 }
[[workload]]
id = "alice"
leader = "z"
key = "x"
set = "A"
[[workload]]
id = "bob"
leader = "a"
key = "x"
set = "B"
time_ms = -1
"""


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_fingerprints_tell_minus_one_from_minus_two():
    # CPython's hash(-1) == hash(-2): a fingerprint built on hash() merged
    # states whose wall timestamps were -1 and -2 and printed a false holds.
    assert fingerprint_of(((-1,),)) != fingerprint_of(((-2,),))


def test_fingerprint_run_finds_the_divergence_the_exact_run_finds(tmp_path):
    p = tmp_path / "fp.toml"
    p.write_text(FP_SPEC)
    exact = _run("check", str(p), "--invariant", "convergence")
    fp = _run("check", str(p), "--invariant", "convergence", "--fingerprint")
    assert exact.exit_code == fp.exit_code == 1


def test_a_state_cut_by_a_replication_loop_is_not_judged_as_quiescent():
    w = [{"leader": "a", "key": "x", "set": "v1"}, {"leader": "b", "key": "x", "set": "v2"}]
    spec = make_spec(("a", "b", "c"), w, topology="ring", loop_prevention="none", resolver="keep-local")
    v = {r.invariant: (r.verdict, r.bound) for r in check(spec).results}
    assert v == {"convergence": ("incomplete", "replication-loop"),
                 "no-lost-writes": ("incomplete", "replication-loop")}


@pytest.mark.parametrize("name", ["async-replication-loss", "partition-forever", "crash-recover"])
def test_bfs_explores_faults_enabled_at_quiescent_states_as_dfs_does(name):
    spec = load(SPECS / "faults" / f"{name}.toml")
    b = check(spec, options=Options(por=False, dead_variables=False))
    d = check(spec, engine="dfs", options=Options(por=False, dead_variables=False))
    if b.complete and d.complete:
        assert b.stats.states == d.stats.states


def test_dfs_honours_max_seconds():
    spec = load(SPECS / "faults" / "ring-crash.toml").with_bounds(max_seconds=1e-6)
    r = check(spec, engine="dfs", invariants=["durability"])
    assert r.cut in ("max_seconds", None)
    if r.cut:
        assert r.results[0].verdict == "incomplete"


@pytest.mark.parametrize("doc", [
    {"results": [1]},
    {"results": [{"invariant": "convergence", "trace": [1]}]},
    {"results": [{"invariant": "convergence", "trace": {"steps": 5}}]},
    {"results": [{"invariant": ["x"], "trace": {"steps": []}}]},
])
def test_replay_rejects_malformed_traces_with_one_line(tmp_path, doc):
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc))
    r = _run("replay", str(SPECS / "seed" / "alice-bob-lww.toml"), str(p))
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1


def test_replay_judges_quiescence_with_unused_faults_still_enabled(tmp_path):
    spec = str(SPECS / "faults" / "partition-forever.toml")
    o = "faults.clock_jumps={us-east=5}"
    out = tmp_path / "j.json"
    assert _run("check", spec, "--set", o, "--format", "json", "-o", str(out)).exit_code == 1
    r = _run("replay", spec, str(out), "--set", o)
    assert r.exit_code == 1 and "violation reproduced" in r.output


def test_a_link_kind_or_latency_on_a_missing_link_is_an_error(tmp_path):
    p = tmp_path / "lk.toml"
    p.write_text('[system]\nleaders=["a","b","c"]\ntopology="ring"\nlink_kinds={"b -> a"="duplicating"}\n'
                 '[[workload]]\nleader="a"\nkey="k"\nset="x"\n')
    r = _run("check", str(p))
    assert r.exit_code == 2 and "has no link b -> a" in r.output


def test_nan_time_bound_is_rejected(tmp_path):
    p = tmp_path / "nan.toml"
    p.write_text('[system]\nleaders=["a","b"]\n[[workload]]\nleader="a"\nkey="k"\nset="x"\n'
                 '[bounds]\nmax_seconds=nan\n')
    r = _run("check", str(p))
    assert r.exit_code == 2 and "bounds.max_seconds" in r.output


@pytest.mark.parametrize("args,fragment", [
    (["--resolver", "nope"], "unknown resolver 'nope'"),
    (["--engine", "dfs", "--fingerprint"], "--fingerprint"),
    (["--engine", "smt", "--simulate"], "--simulate"),
    (["--workers", "2"], "--workers"),
])
def test_options_that_would_be_ignored_are_errors(args, fragment):
    r = _run("check", str(SPECS / "seed" / "alice-bob-lww.toml"), *args)
    assert r.exit_code == 2 and fragment in r.output
