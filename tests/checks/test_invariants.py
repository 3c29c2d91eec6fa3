"""Each resolver/invariant pair on a case whose verdict is known by hand,
plus a seeded bug that the checker must catch."""

import pytest

from replcheck.checks.invariants import INVARIANTS, lost_writes
from replcheck.checks.trace import build_trace
from replcheck.checks.verdict import check
from replcheck.model import System, bfs
from replcheck.model.resolvers import mv_register
from tests.conftest import make_spec, verdicts

ALICE = {"id": "alice", "leader": "eu-west", "key": "doc1.title", "set": "EU", "time_ms": 0}
BOB = {"id": "bob", "leader": "us-east", "key": "doc1.title", "set": "US", "time_ms": 10}
BOB_AFTER = {**BOB, "time_ms": 70, "after": ["alice"]}


@pytest.mark.parametrize("system,expected", [
    # Concurrent writes: LWW converges on Bob's (ts 10) and loses Alice's.
    (dict(resolver="lww", clock="wall"), {"convergence": ("holds", None),
                                          "no-lost-writes": ("violated", "lost-update")}),
    (dict(resolver="lww", clock="lamport"), {"convergence": ("holds", None),
                                             "no-lost-writes": ("violated", "lost-update")}),
    (dict(resolver="lww", clock="hlc"), {"convergence": ("holds", None),
                                         "no-lost-writes": ("violated", "lost-update")}),
    # Siblings keep both.
    (dict(resolver="mv-register"), {"convergence": ("holds", None), "no-lost-writes": ("holds", None)}),
    (dict(resolver="mv-register", topology="ring"), {"convergence": ("holds", None),
                                                     "no-lost-writes": ("holds", None)}),
    (dict(resolver="lww", topology="star", hub="ap-south"), {"convergence": ("holds", None),
                                                             "no-lost-writes": ("violated", "lost-update")}),
])
def test_seed_verdicts_by_hand(system, expected):
    assert verdicts(make_spec(workload=[ALICE, BOB], **system)) == expected


def test_lww_wall_with_a_slow_clock_loses_the_causally_later_write():
    spec = make_spec(workload=[ALICE, BOB_AFTER], resolver="lww", clock="wall", offsets={"us-east": -100})
    v = verdicts(spec)
    assert v["no-lost-writes"] == ("violated", "causally-later-write-lost")
    report = check(spec)
    assert "100 ms behind" in report.results[1].message


def test_lww_hlc_with_the_same_slow_clock_keeps_the_causally_later_write():
    spec = make_spec(workload=[ALICE, BOB_AFTER], resolver="lww", clock="hlc", offsets={"us-east": -100})
    assert verdicts(spec)["no-lost-writes"] == ("holds", None)


def test_lww_wall_without_skew_keeps_the_causally_later_write():
    spec = make_spec(workload=[ALICE, BOB_AFTER], resolver="lww", clock="wall")
    assert verdicts(spec)["no-lost-writes"] == ("holds", None)


def test_a_write_overwritten_by_a_causally_later_write_is_not_lost():
    a1 = {"id": "a1", "leader": "eu-west", "key": "k", "set": "1"}
    a2 = {"id": "a2", "leader": "eu-west", "key": "k", "set": "2"}
    spec = make_spec(workload=[a1, a2], resolver="lww", clock="lamport")
    assert verdicts(spec)["no-lost-writes"] == ("holds", None)


def test_incoming_loses_tie_break_diverges_on_equal_timestamps():
    w = [{"leader": "eu-west", "key": "k", "set": "A", "time_ms": 5},
         {"leader": "us-east", "key": "k", "set": "B", "time_ms": 5}]
    spec = make_spec(workload=w, resolver="lww", clock="wall", tie_break="incoming-loses")
    assert verdicts(spec)["convergence"] == ("violated", "divergence")
    spec = make_spec(workload=w, resolver="lww", clock="wall", tie_break="value")
    assert verdicts(spec)["convergence"] == ("holds", None)


def test_strong_convergence_holds_for_lww_and_mv_register():
    for resolver in ("lww", "mv-register"):
        spec = make_spec(workload=[ALICE, BOB], resolver=resolver, invariants=["strong-convergence"])
        assert verdicts(spec)["strong-convergence"] == ("holds", None)


def test_strong_convergence_catches_incoming_loses_mid_run():
    w = [{"leader": "eu-west", "key": "k", "set": "A", "time_ms": 5},
         {"leader": "us-east", "key": "k", "set": "B", "time_ms": 5}]
    spec = make_spec(workload=w, resolver="lww", clock="wall", tie_break="incoming-loses",
                     invariants=["strong-convergence"])
    assert verdicts(spec)["strong-convergence"] == ("violated", "divergence")


def test_ring_without_loop_prevention_never_terminates_and_origin_does():
    spec = make_spec(workload=[ALICE], topology="ring", loop_prevention="none",
                     invariants=["replication-terminates", "convergence"])
    assert verdicts(spec) == {"replication-terminates": ("violated", "replication-loop"),
                              "convergence": ("incomplete", None)}
    for loop in ("origin", "visited"):
        spec = make_spec(workload=[ALICE, BOB], topology="ring", loop_prevention=loop,
                         invariants=["replication-terminates", "convergence"])
        assert verdicts(spec) == {"replication-terminates": ("holds", None), "convergence": ("holds", None)}


def test_origin_loop_prevention_loops_on_a_graph_with_a_cycle_avoiding_the_origin():
    # a -> b -> c -> d -> b: a write from a circles b, c, d forever (flooding
    # never sends a write back over the link it came in on, so the cycle
    # must have three links).
    edges = ["a -> b", "b -> c", "c -> d", "d -> b"]
    spec = make_spec(("a", "b", "c", "d"), [{"leader": "a", "key": "k", "set": "x"}], topology="custom",
                     edges=edges, loop_prevention="origin",
                     invariants=["replication-terminates"])
    assert verdicts(spec)["replication-terminates"] == ("violated", "replication-loop")
    spec = make_spec(("a", "b", "c", "d"), [{"leader": "a", "key": "k", "set": "x"}], topology="custom",
                     edges=edges, loop_prevention="visited",
                     invariants=["replication-terminates", "convergence"])
    assert verdicts(spec) == {"replication-terminates": ("holds", None), "convergence": ("holds", None)}


def test_a_custom_graph_that_cannot_reach_a_leader_diverges():
    spec = make_spec(("a", "b", "c"), [{"leader": "a", "key": "k", "set": "x"}], topology="custom",
                     edges=["a -> b", "c -> a"])
    assert verdicts(spec)["convergence"] == ("violated", "divergence")


def test_seeded_bug_mv_register_that_drops_old_siblings_is_caught(monkeypatch):
    def buggy(self, content, w, writes, local):
        return (w,)  # "keep the newest sibling only": LWW in disguise
    monkeypatch.setattr(mv_register.MVRegister, "apply", buggy)
    spec = make_spec(workload=[ALICE, BOB], resolver="mv-register")
    v = verdicts(spec)
    assert v["no-lost-writes"][0] == "violated" or v["convergence"][0] == "violated"


def test_seeded_bug_lww_without_tie_break_rank_is_caught():
    # Equal wall timestamps and no total order: some delivery order diverges.
    w = [{"leader": "eu-west", "key": "k", "set": "A", "time_ms": 1},
         {"leader": "us-east", "key": "k", "set": "B", "time_ms": 1},
         {"leader": "ap-south", "key": "k", "set": "C", "time_ms": 1}]
    spec = make_spec(workload=w, resolver="lww", clock="wall", tie_break="incoming-loses")
    assert verdicts(spec)["convergence"][0] == "violated"


def test_lost_writes_helper_names_leader_and_write():
    spec = make_spec(workload=[ALICE, BOB], resolver="lww", clock="wall")
    system = System(spec)
    r = bfs(system, [INVARIANTS["no-lost-writes"].property(system)])
    _, state = build_trace(system, r.found["no-lost-writes"].path)
    lost = lost_writes(system, state)
    assert {system.ops[w].id for _, w, _, _ in lost} == {"alice"}
    assert len(lost) == 3  # lost at all three leaders


def test_the_trace_is_the_shortest_and_shows_values_after_each_step():
    report = check(make_spec(workload=[ALICE, BOB], resolver="lww", clock="wall"))
    r = report.results[1]
    assert len(r.trace) == 6  # 2 commits + 4 deliveries: every copy of alice's write must arrive
    last = r.trace.steps[-1]
    assert all(v.values == (("doc1.title", '"US"'),) for v in last.leaders)
    assert r.culprits == ("alice", "bob")
