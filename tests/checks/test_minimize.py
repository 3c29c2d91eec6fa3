"""Trace minimisation: drop what the violation does not need, keep replay honest."""

from __future__ import annotations

import pytest

from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.minimize import is_quiescent, minimize
from replcheck.checks.trace import build_trace
from replcheck.checks.verdict import check, load
from replcheck.model.system import System

from conftest import SPECS, make_spec


def _ring_without_loop_prevention():
    return make_spec(workload=[{"id": "a", "leader": "us-east", "key": "k", "set": "A"},
                               {"id": "b", "leader": "eu-west", "key": "k", "set": "B"}],
                     topology="ring", loop_prevention="none", invariants=["replication-terminates"])


def test_minimize_drops_events_from_a_dfs_trace_and_the_rest_still_reproduces():
    spec = _ring_without_loop_prevention()
    report = check(spec, engine="dfs")
    r = report.results[0]
    bfs = check(spec).results[0]
    m = minimize(System(report.spec), r.invariant, r.path)
    assert m.changed and len(m.path) < len(r.path)
    assert len(m.path) == len(bfs.path)                      # as short as the shortest
    assert len(m.dropped) == len(r.path) - len(m.path)
    _, end = build_trace(System(report.spec), m.path)              # replays (raises otherwise)
    v = INVARIANTS[r.invariant].build(System(report.spec))(end)
    assert v is not None and v.anomaly == "replication-loop"
    assert "dropped" in m.note() and "still reproduce" in m.note()


def test_minimize_is_one_minimal():
    spec = _ring_without_loop_prevention()
    report = check(spec, engine="dfs")
    r = report.results[0]
    m = minimize(System(report.spec), r.invariant, r.path)
    again = minimize(System(report.spec), r.invariant, m.path)
    assert again.path == m.path and not again.changed


@pytest.mark.parametrize("name", ["alice-bob-lww", "alice-bob-lww-ring", "skew-wall"])
def test_quiescent_violations_keep_every_event_and_end_quiescent(name):
    report = check(load(SPECS / "seed" / f"{name}.toml"))
    r = next(x for x in report.results if x.verdict == "violated")
    m = minimize(System(report.spec), r.invariant, r.path)
    assert m.path == r.path and not m.changed
    _, end = build_trace(System(report.spec), m.path)
    assert is_quiescent(System(report.spec), end)
    assert "no event can be dropped" in m.note()


def test_dropping_a_delivery_to_an_uninvolved_leader_breaks_quiescence():
    # The seed's steps 4 and 6 only deliver to ap-south; without them the
    # run is not finished, so no-lost-writes cannot be judged there.
    report = check(load(SPECS / "seed" / "alice-bob-lww.toml"))
    r = report.results[1]
    path = tuple(a for i, a in enumerate(r.path, 1) if i not in (4, 6))
    _, end = build_trace(System(report.spec), path)
    assert not is_quiescent(System(report.spec), end)


def test_minimize_refuses_a_trace_that_does_not_violate():
    spec = load(SPECS / "seed" / "alice-bob-lww.toml")
    with pytest.raises(ValueError):
        minimize(System(spec), "no-lost-writes", ())
