"""Faults as events: crashes, recoveries, partitions, clock jumps, link kinds."""

import json

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.verdict import check
from replcheck.model import System, bfs
from replcheck.model import faults as fl
from replcheck.model import state as st
from tests.conftest import SPECS, make_spec, verdicts

L4 = ("us-east", "eu-west", "ap-south", "sa-east")
TWO = [{"id": "alice", "leader": "eu-west", "key": "k", "set": "A"},
       {"id": "bob", "leader": "us-east", "key": "k", "set": "B"}]


def _spec(workload=TWO, leaders=L4, faults=None, **system):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    data = {"system": {"leaders": list(leaders), **system}, "workload": workload}
    if faults:
        data["faults"] = faults
    data["check"] = {"invariants": ["convergence", "no-lost-writes", "durability"]}
    return parse_spec(data, "<test>", INVARIANTS)


def test_ring_of_4_one_crash_survivors_diverge_with_a_crash_in_the_trace():
    report = check(_spec(topology="ring", resolver="mv-register", faults={"crashes": 1}))
    r = {x.invariant: x for x in report.results}
    assert r["convergence"].verdict == "violated"
    assert any(s.event.kind == "crash" and s.text.startswith("crash ") for s in r["convergence"].trace.steps)
    assert r["durability"].verdict == "holds"


def test_all_to_all_of_4_one_crash_survivors_converge():
    v = verdicts(_spec(topology="all-to-all", resolver="mv-register", faults={"crashes": 1}))
    assert v["convergence"] == ("holds", None) and v["no-lost-writes"] == ("holds", None)


@pytest.mark.parametrize("crashable,expected", [("us-east", "violated"), ("ap-south", "holds")])
def test_star_hub_crash_splits_the_spokes_a_spoke_crash_does_not(crashable, expected):
    w = [{"id": "alice", "leader": "eu-west", "key": "k", "set": "A"},
         {"id": "carol", "leader": "ap-south", "key": "k", "set": "C"}]
    spec = _spec(w, ("us-east", "eu-west", "ap-south"), {"crashes": 1, "crashable": [crashable]},
                 topology="star", hub="us-east", resolver="mv-register")
    assert verdicts(spec)["convergence"][0] == expected


def test_crash_is_optional_so_the_no_fault_runs_are_explored_too():
    # With a crash budget the no-crash interleavings are still there: the
    # state space contains the fault-free one.
    free = bfs(System(_spec(resolver="mv-register")), []).stats.states
    faulty = bfs(System(_spec(resolver="mv-register", faults={"crashes": 1})), []).stats.states
    assert faulty > free


def test_recovery_is_progress_so_quiescence_waits_for_it():
    spec = _spec(topology="ring", resolver="mv-register", faults={"crashes": 1, "recoveries": True})
    v = verdicts(spec)
    assert v["convergence"] == ("holds", None) and v["no-lost-writes"] == ("holds", None)


def test_lose_unsent_loses_an_acknowledged_write():
    w = [{"id": "alice", "leader": "eu-west", "key": "k", "set": "A"}]
    spec = _spec(w, faults={"crashes": 1, "crashable": ["eu-west"], "lose_unsent": True})
    v = verdicts(spec)
    assert v["durability"] == ("violated", "unreplicated-write-lost")
    spec = _spec(w, faults={"crashes": 1, "crashable": ["eu-west"]})
    assert verdicts(spec)["durability"] == ("holds", None)


def test_two_crashes_can_lose_a_write_even_with_outboxes_kept():
    # alice's only copy is at eu-west; the message to us-east is dropped when
    # us-east crashes, then eu-west crashes too.
    w = [{"id": "alice", "leader": "eu-west", "key": "k", "set": "A"}]
    spec = _spec(w, ("us-east", "eu-west"), {"crashes": 2})
    assert verdicts(spec)["durability"] == ("violated", "unreplicated-write-lost")


def test_partition_that_heals_converges_and_one_that_never_heals_diverges():
    assert verdicts(_spec(resolver="mv-register", faults={"partitions": 1}))["convergence"] == ("holds", None)
    v = verdicts(_spec(resolver="mv-register", faults={"partitions": 1, "heals": False}))
    assert v["convergence"] == ("violated", "divergence")


def test_clock_jump_makes_lww_wall_drop_a_causally_later_write_and_hlc_does_not():
    w = [{"id": "alice", "leader": "eu-west", "key": "k", "set": "A", "time_ms": 0},
         {"id": "bob", "leader": "us-east", "key": "k", "set": "B", "time_ms": 70, "after": ["alice"]}]
    faults = {"clock_jumps": {"us-east": -100}}
    assert verdicts(_spec(w, resolver="lww", clock="wall", faults=faults))["no-lost-writes"] == \
        ("violated", "causally-later-write-lost")
    assert verdicts(_spec(w, resolver="lww", clock="wall"))["no-lost-writes"] == ("holds", None)
    assert verdicts(_spec(w, resolver="lww", clock="hlc", faults=faults))["no-lost-writes"] == ("holds", None)


def test_duplicating_links_deliver_twice_and_idempotent_registers_do_not_care():
    spec = _spec(leaders=("us-east", "eu-west"), resolver="mv-register", links="duplicating")
    system = System(spec)
    r = bfs(system, [])
    assert r.complete
    fifo = bfs(System(_spec(leaders=("us-east", "eu-west"), resolver="mv-register")), [])
    assert r.stats.states > fifo.stats.states
    assert verdicts(spec)["convergence"] == ("holds", None)


def test_unordered_links_reorder_and_lossy_links_retransmit_last():
    w = [{"id": "a1", "leader": "eu-west", "key": "k", "set": "1"},
         {"id": "a2", "leader": "eu-west", "key": "k", "set": "2"}]
    for links in ("unordered", "lossy"):
        spec = _spec(w, ("us-east", "eu-west"), resolver="mv-register", links=links)
        system = System(spec)
        # Some run delivers a2 before a1 at us-east.
        seen_reorder = False
        r = bfs(system, [])
        assert r.complete
        state = system.initial_state()
        stack, visited = [state], {state}
        while stack and not seen_reorder:
            s = stack.pop()
            for a, t in system.successors(s):
                applied_before = st.applied(s, 0)
                if applied_before == 0 and st.applied(t, 0) == 0b10:
                    seen_reorder = True
                if t not in visited:
                    visited.add(t)
                    stack.append(t)
        assert seen_reorder, links


def test_fifo_links_never_reorder():
    w = [{"id": "a1", "leader": "eu-west", "key": "k", "set": "1"},
         {"id": "a2", "leader": "eu-west", "key": "k", "set": "2"}]
    system = System(_spec(w, ("us-east", "eu-west"), resolver="mv-register"))
    stack = [system.initial_state()]
    seen = set(stack)
    while stack:
        s = stack.pop()
        for _, t in system.successors(s):
            assert not (st.applied(s, 0) == 0 and st.applied(t, 0) == 0b10)
            if t not in seen:
                seen.add(t)
                stack.append(t)


def test_fault_actions_are_listed_after_progress_actions():
    system = System(_spec(faults={"crashes": 1, "partitions": 1}))
    succ = system.successors(system.initial_state())
    codes = [a for a, _ in succ]
    faults = [a for a in codes if fl.is_fault(a)]
    assert faults and codes == [a for a in codes if not fl.is_fault(a)] + faults


def test_fault_trace_replays_from_json(tmp_path):
    out = tmp_path / "t.json"
    spec = SPECS / "faults" / "ring-crash.toml"
    runner = CliRunner()
    r = runner.invoke(main, ["check", str(spec), "--format", "json", "-o", str(out)])
    assert r.exit_code == 1
    data = json.loads(out.read_text())
    kinds = [s["event"]["kind"] for res in data["results"] if res["trace"] for s in res["trace"]["steps"]]
    assert "crash" in kinds
    r = runner.invoke(main, ["replay", str(spec), str(out)])
    assert r.exit_code == 1 and "violation reproduced" in r.output


@pytest.mark.parametrize("faults,key,fragment", [
    ({"crashes": -1}, "faults.crashes", "non-negative integer"),
    ({"crashs": 1}, "faults.crashs", "did you mean 'crashes'"),
    ({"crashable": ["us-east"]}, "faults.crashable", "crashes is 0"),
    ({"crashes": 1, "crashable": ["us-eats"]}, "faults.crashable[0]", "did you mean 'us-east'"),
    ({"clock_jumps": {"us-east": 0}}, "faults.clock_jumps.us-east", "non-zero"),
    ({"recoveries": "yes"}, "faults.recoveries", "true or false"),
])
def test_bad_faults_are_one_line_errors(faults, key, fragment):
    from replcheck.model.errors import SpecError
    with pytest.raises(SpecError) as e:
        _spec(faults=faults)
    assert e.value.key == key and fragment in str(e.value)


def test_bad_link_kind_is_an_error():
    from replcheck.model.errors import SpecError
    with pytest.raises(SpecError) as e:
        _spec(links="fif")
    assert e.value.key == "system.links" and "did you mean 'fifo'" in str(e.value)


def _home_spec(faults=None, **extra):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    data = {"system": {"leaders": ["us-east", "eu-west", "ap-south"], "resolver": "home-leader", "clock": "wall",
                       "homes": {"user:bob": "us-east"}, **extra},
            "workload": [{"id": "phone", "leader": "us-east", "key": "user:bob.name", "set": "Bob", "time_ms": 0},
                         {"id": "laptop", "leader": "ap-south", "key": "user:bob.name", "set": "Robert",
                          "time_ms": 10}]}
    if faults:
        data["faults"] = faults
    return parse_spec(data, "<test>", INVARIANTS)


def test_home_leader_without_failover_loses_nothing():
    assert verdicts(_home_spec()) == {"convergence": ("holds", None), "no-lost-writes": ("holds", None)}


def test_failover_while_the_old_homes_write_is_in_flight_loses_it_under_lww():
    report = check(_home_spec({"failovers": 1, "failover_order": ["us-east", "eu-west", "ap-south"]}))
    r = {x.invariant: x for x in report.results}
    assert (r["no-lost-writes"].verdict, r["no-lost-writes"].anomaly) == ("violated", "lost-update")
    texts = [s.text for s in r["no-lost-writes"].trace.steps]
    assert any(t.startswith("failover us-east -> eu-west") for t in texts)
    assert any("laptop commits" in t and "at eu-west" in t for t in texts)


def test_failover_trace_replays_from_json(tmp_path):
    spec = SPECS / "faults" / "home-leader-failover.toml"
    out = tmp_path / "f.json"
    runner = CliRunner()
    assert runner.invoke(main, ["check", str(spec), "--format", "json", "-o", str(out)]).exit_code == 1
    r = runner.invoke(main, ["replay", str(spec), str(out), "--invariant", "no-lost-writes"])
    assert r.exit_code == 1 and "violation reproduced: lost-update" in r.output


def test_failover_needs_a_homed_register_key():
    from replcheck.model.errors import SpecError
    with pytest.raises(SpecError) as e:
        System(_spec(faults={"failovers": 1}))
    assert e.value.key == "faults.failovers" and "no key has a home" in str(e.value)


def test_op_based_counter_double_counts_on_a_duplicating_link_and_state_based_does_not():
    from replcheck.checks.verdict import load
    op = {r.invariant: (r.verdict, r.anomaly) for r in check(load(SPECS / "faults" /
                                                                  "duplicating-counter-op-based.toml")).results}
    st_ = {r.invariant: r.verdict for r in check(load(SPECS / "faults" /
                                                      "duplicating-counter-state-based.toml")).results}
    assert op["no-lost-writes"] == ("violated", "double-counted")
    assert st_ == {"convergence": "holds", "no-lost-writes": "holds"}
