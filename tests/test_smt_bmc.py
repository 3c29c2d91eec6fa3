"""The symbolic engine (checks/smt/bmc.py) agrees with the explicit one.

Both engines run on every covered spec in specs/ and on random small specs;
a violation found by one must be found by the other, and the symbolic
engine's counterexample must replay through the model to a violation.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.smt import bmc
from checks.trace import build_trace
from checks.verdict import check, load
from model.errors import ReplcheckError, SpecError
from model.system import System
from tests.conftest import SPECS, make_spec

LEADERS = ("a", "b", "c")


def _covered(spec) -> bool:
    try:
        bmc.covered(spec, spec.invariants)
        bmc.execution_bound(System(spec))
        return True
    except SpecError:
        return False


ALL = sorted(p for p in SPECS.rglob("*.toml") if "answers" not in p.parts)
COVERED = [p for p in ALL if _covered(load(p))]


def _verdicts(spec, engine):
    return {r.invariant: r.verdict for r in check(spec, engine=engine).results}


def test_most_bundled_specs_are_covered():
    assert len(COVERED) >= 8


@pytest.mark.parametrize("path", COVERED, ids=lambda p: str(p.relative_to(SPECS)))
def test_both_engines_agree_on_every_covered_spec(path):
    spec = load(path)
    assert _verdicts(spec, "smt") == _verdicts(spec, "bfs")


@pytest.mark.parametrize("path", COVERED, ids=lambda p: str(p.relative_to(SPECS)))
def test_symbolic_verdicts_meet_the_specs_expectations(path):
    spec = load(path)
    got = {r.invariant: r for r in check(spec, engine="smt").results}
    for inv, exp in spec.expect:
        assert got[inv].verdict == exp.verdict


def test_skew_counterexample_is_decoded_into_a_replayable_trace():
    spec = load(SPECS / "seed" / "skew-wall.toml")
    r = {x.invariant: x for x in check(spec, engine="smt").results}["no-lost-writes"]
    assert r.verdict == "violated" and r.anomaly == "causally-later-write-lost"
    # 2 commits + 2 writes x 2 peers: every quiescent run has 6 events.
    assert len(r.trace) == 6 == bmc.execution_bound(System(spec))
    kinds = [s.event.kind for s in r.trace.steps]
    assert kinds.count("commit") == 2 and kinds.count("deliver") == 4
    # bob commits only after alice's write reached us-east (after = ["alice"])
    order = [(s.event.kind, s.event.op, s.event.leader) for s in r.trace.steps]
    assert order.index(("deliver", "alice", "us-east")) < order.index(("commit", "bob", "us-east"))
    trace, _ = build_trace(System(spec), r.path)
    assert [s.text for s in trace.steps] == [s.text for s in r.trace.steps]


def test_execution_bound_counts_commits_and_hops():
    seed = System(load(SPECS / "seed" / "alice-bob-lww.toml"))
    assert bmc.execution_bound(seed) == 2 + 2 * 2          # all-to-all: each write to 2 peers
    ring = System(load(SPECS / "seed" / "alice-bob-lww-ring.toml"))
    assert bmc.execution_bound(ring) == 2 + 2 * 3          # ring/origin: 2 forwards + the drop at the origin
    star = System(load(SPECS / "seed" / "alice-bob-lww-star.toml"))
    assert bmc.execution_bound(star) == 2 + 2 + 2          # hub us-east: bob to 2 spokes; alice to hub, hub to ap-south


def test_depth_below_the_bound_is_incomplete_never_holds():
    spec = load(SPECS / "seed" / "alice-bob-mv-register.toml").with_bounds(max_depth=5)
    rep = check(spec, engine="smt")
    assert {r.verdict for r in rep.results} == {"incomplete"}
    assert {r.bound for r in rep.results} == {"depth 5"}
    full = check(spec.with_bounds(max_depth=6), engine="smt")
    assert {r.verdict for r in full.results} == {"holds"}


def test_uncovered_features_are_rejected_with_one_line():
    spec = make_spec(("a", "b"), [{"leader": "a", "key": "k", "set": "x"}], topology="custom",
                     edges=["a -> b", "b -> a"])
    with pytest.raises(ReplcheckError) as e:
        check(spec, engine="smt")
    assert "system.topology" in str(e.value) and "--engine bfs" in str(e.value) and "\n" not in str(e.value)
    spec = load(SPECS / "seed" / "ring-no-loop-prevention.toml")
    with pytest.raises(ReplcheckError, match="loop_prevention"):
        check(spec, engine="smt")


# ------------------------------------------------------------ random specs
@st.composite
def small_specs(draw):
    topology = draw(st.sampled_from(["all-to-all", "ring", "star"]))
    n_ops = draw(st.integers(1, 4 if topology == "all-to-all" else 3))
    ops = []
    for i in range(n_ops):
        op = {"id": f"w{i}", "leader": draw(st.sampled_from(LEADERS)), "key": draw(st.sampled_from(["k", "j"]))}
        if draw(st.integers(0, 5)) == 0:
            op["delete"] = True
        else:
            op["set"] = draw(st.sampled_from(["x", "y", "z"]))
        if draw(st.booleans()):
            op["time_ms"] = draw(st.integers(0, 6))
        if i and draw(st.integers(0, 2)) == 0:
            op["after"] = [f"w{draw(st.integers(0, i - 1))}"]
        ops.append(op)
    system = {"topology": topology, "resolver": draw(st.sampled_from(["lww", "lww", "mv-register"])),
              "clock": draw(st.sampled_from(["wall", "lamport", "hlc"])),
              "tie_break": draw(st.sampled_from(["leader", "value", "incoming-loses"])),
              "loop_prevention": draw(st.sampled_from(["origin", "visited"]))}
    if topology == "star":
        system["hub"] = draw(st.sampled_from(LEADERS))
    if draw(st.booleans()):
        system["offsets"] = {draw(st.sampled_from(LEADERS)): draw(st.integers(-5, 5))}
    try:
        return make_spec(LEADERS, ops, invariants=["convergence", "no-lost-writes"], **system)
    except SpecError:
        return None   # an `after` cycle with program order


@pytest.mark.slow
@settings(max_examples=220, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(small_specs())
def test_both_engines_agree_on_random_small_specs(spec):
    if spec is None:
        return
    smt = check(spec, engine="smt")
    bfs = check(spec, engine="bfs")
    assert bfs.complete and smt.complete
    assert {r.invariant: r.verdict for r in smt.results} == {r.invariant: r.verdict for r in bfs.results}
