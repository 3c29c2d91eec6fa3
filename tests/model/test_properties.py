"""Hypothesis property tests over random small workloads."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replcheck.checks.verdict import check
from replcheck.model import System, bfs, dfs
from replcheck.checks.invariants import INVARIANTS
from tests import reference
from tests.conftest import make_spec

LEADERS = ("a", "b", "c")


@st.composite
def workloads(draw, max_ops=4, keys=("k", "j"), leaders=LEADERS):
    n = draw(st.integers(1, max_ops))
    ops = []
    for i in range(n):
        op = {"id": f"w{i}", "leader": draw(st.sampled_from(leaders)), "key": draw(st.sampled_from(keys))}
        if draw(st.integers(0, 5)) == 0:
            op["delete"] = True
        else:
            op["set"] = draw(st.sampled_from(["x", "y", "z"]))
        if draw(st.booleans()):
            op["time_ms"] = draw(st.integers(0, 20))
        if i and draw(st.integers(0, 3)) == 0:
            op["after"] = [f"w{draw(st.integers(0, i - 1))}"]
        ops.append(op)
    return ops


def _spec(ops, **system):
    return make_spec(LEADERS, ops, **system)


def _valid(ops, **system):
    """Drop workloads whose 'after' makes a cycle with program order."""
    from replcheck.model.errors import SpecError
    try:
        return _spec(ops, **system)
    except SpecError:
        return None


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(workloads(), st.sampled_from(["all-to-all", "ring", "star"]))
def test_mv_register_never_loses_a_write_and_converges(ops, topology):
    extra = {"hub": "a"} if topology == "star" else {}
    spec = _valid(ops, resolver="mv-register", topology=topology, **extra)
    if spec is None:
        return
    v = {r.invariant: r.verdict for r in check(spec).results}
    assert v == {"convergence": "holds", "no-lost-writes": "holds"}


@SETTINGS
@given(workloads(), st.sampled_from(["wall", "lamport", "hlc"]), st.sampled_from(["leader", "value"]))
def test_lww_with_a_total_tie_break_always_converges(ops, clock, tie):
    spec = _valid(ops, resolver="lww", clock=clock, tie_break=tie)
    if spec is None:
        return
    assert check(spec, invariants=["convergence", "strong-convergence"]).worst == "holds"


@SETTINGS
@given(workloads(max_ops=4))
def test_bfs_trace_is_never_longer_than_dfs_trace(ops):
    spec = _valid(ops, resolver="lww", clock="lamport")
    if spec is None:
        return
    system = System(spec)
    props = [INVARIANTS["no-lost-writes"].property(system)]
    b, d = bfs(system, props), dfs(system, props)
    assert ("no-lost-writes" in b.found) == ("no-lost-writes" in d.found)
    if "no-lost-writes" in b.found:
        assert len(b.found["no-lost-writes"].path) <= len(d.found["no-lost-writes"].path)


@settings(max_examples=25, deadline=None)
@given(workloads(max_ops=3, keys=("k",)), st.sampled_from([("lww", "lamport"), ("lww", "wall"),
                                                          ("mv-register", "wall")]))
def test_engine_agrees_with_the_naive_reference_model(ops, rc):
    resolver, clock = rc
    for o in ops:
        o.pop("delete", None)
        o.setdefault("set", "v")
    spec = _valid(ops, resolver=resolver, clock=clock)
    if spec is None:
        return
    system = System(spec)
    r = bfs(system, [])
    n, quiet = reference.explore(spec)
    assert r.stats.states == n
    assert r.stats.quiescent == len(quiet)
    ref_lost = any(reference.lost(spec, q) for q in quiet)
    mine = {x.invariant: x.verdict for x in check(spec, invariants=["no-lost-writes"]).results}
    assert (mine["no-lost-writes"] == "violated") == ref_lost
