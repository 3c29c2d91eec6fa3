"""The model only produces runs the real system can produce (and all of them):
routed writes and partitions, real time (time_ms, latency_ms), and the
leader a trace names after a failover.  Each test failed before its fix."""

import json

from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import Options, check
from replcheck.model import symmetry
from replcheck.model import System, load_spec
from replcheck.model import faults as fl
from replcheck.model import state as st
from tests.conftest import SPECS, force, make_spec, reachable, verdicts

REG = SPECS / "regressions"


def _reachable(system):
    """Every reachable state of a small system (plain DFS, no reductions)."""
    return reachable(system)


def _actions(system, state):
    return [a for a, _ in system.successors(state)]


# ------------------------------------------------------- routed writes (1)
def test_a_routed_write_does_not_commit_at_its_home_across_a_cut_pair():
    system = System(load_spec(REG / "route-across-partition.toml"))
    cut = system.step(system.initial_state(), fl.code(fl.CUT, 0))
    write = system.op_index["west-write"]
    assert write not in _actions(system, cut)
    assert write in _actions(system, system.initial_state())


def test_a_routed_write_waits_for_the_heal_then_commits():
    system = System(load_spec(REG / "route-across-partition-heals.toml"))
    cut = system.step(system.initial_state(), fl.code(fl.CUT, 0))
    write = system.op_index["west-write"]
    assert write not in _actions(system, cut)
    healed = system.step(cut, fl.code(fl.HEAL, 0))
    assert write in _actions(system, healed)
    # Every quiescent state has the write committed: the heal is progress.
    for s in _reachable(system):
        if all(a >= fl.FAULT_BASE for a in _actions(system, s)) and not st.cut(s):
            assert st.is_committed(s, write)


def test_replay_of_a_commit_across_the_cut_is_refused(tmp_path):
    trace = {"results": [{"invariant": "convergence", "trace": {"steps": [
        {"event": {"kind": "cut", "leader": "us-east", "src": "us-west"}},
        {"event": {"kind": "commit", "op": "west-write"}}]}}]}
    f = tmp_path / "t.json"
    f.write_text(json.dumps(trace))
    r = CliRunner().invoke(main, ["replay", str(REG / "route-across-partition.toml"), str(f)])
    assert r.exit_code != 1   # 1 would be "violation reproduced"
    assert "not enabled" in r.output + (r.stderr if r.stderr_bytes is not None else "")


def test_a_routed_write_waits_while_its_home_is_crashed():
    spec = make_spec(("us-east", "us-west"), [{"id": "w", "leader": "us-west", "key": "k", "set": "b"}],
                     invariants=["convergence"], resolver="home-leader", homes={"": "us-east"})
    data_faults = System(spec)
    assert not data_faults.general   # no faults: the forward always gets through
    assert 0 in _actions(data_faults, data_faults.initial_state())


# ------------------------------------------------------------ real time (2)
def test_pglogical_luw_times_0_and_50_converge_as_real_pglogical_does():
    assert verdicts(load_spec(REG / "real-time-pglogical-luw.toml"))["convergence"] == ("holds", None)


def test_no_run_commits_the_later_op_while_the_earlier_one_is_enabled():
    system = System(load_spec(REG / "real-time-pglogical-luw.toml"))
    a, b = system.op_index["A"], system.op_index["B"]
    for s in _reachable(system):
        assert not (st.is_committed(s, b) and not st.is_committed(s, a)), "B (50 ms) committed before A (0 ms)"


def test_equal_times_still_diverge_under_pglogical_luw():
    v = verdicts(load_spec(REG / "real-time-pglogical-luw-same-time.toml"))
    assert v["convergence"] == ("violated", "divergence")


def test_without_time_ms_the_state_keeps_its_five_components():
    untimed = System(make_spec(workload=[{"leader": "us-east", "key": "k", "set": "a"}]))
    timed = System(load_spec(REG / "real-time-pglogical-luw.toml"))
    assert len(untimed.initial_state()) == 5 and not untimed.timed
    assert len(timed.initial_state()) == 6 and timed.timed


def test_a_delivery_is_not_earlier_than_its_latency_allows():
    spec = make_spec(("n1", "n2"), [{"id": "A", "leader": "n1", "key": "k", "set": "a", "time_ms": 0},
                                    {"id": "B", "leader": "n2", "key": "k", "set": "b", "time_ms": 50}],
                     invariants=["convergence"], latency_ms=100)
    system = System(spec)
    s = system.step(system.initial_state(), system.op_index["A"])
    deliver = system.nops + system.edges.index((0, 1))
    # A's row reaches n2 at 100 ms at the earliest: B (50 ms) commits first.
    assert _actions(system, s) == [system.op_index["B"]]
    s = system.step(s, system.op_index["B"])
    assert deliver in _actions(system, s)
    assert system.real_time(system.step(s, deliver)) == 100


def test_a_late_commit_is_stamped_when_it_really_happens():
    # Bob waits for Alice's edit, which needs 200 ms to reach us-east: his
    # commit is at 200 ms real time, stamped 100 by us-east's slow clock.
    system = System(load_spec(REG / "real-time-latency-skew.toml"))
    bob = system.op_index["bob"]
    stamps = {st.ts(st.write(s, bob)) for s in _reachable(system) if st.is_committed(s, bob)}
    assert stamps == {(100,)}
    assert verdicts(load_spec(REG / "real-time-latency-skew.toml"))["no-lost-writes"] == ("holds", None)


def test_on_time_wall_stamps_stay_time_ms_plus_offset():
    system = System(load_spec(SPECS / "seed" / "skew-wall.toml"))
    alice, bob = system.op_index["alice"], system.op_index["bob"]
    for s in _reachable(system):
        if st.is_committed(s, alice):
            assert st.ts(st.write(s, alice)) == (0,)
        if st.is_committed(s, bob):
            assert st.ts(st.write(s, bob)) == (70 - 100,)


def test_ops_without_time_ms_are_unconstrained():
    spec = make_spec(("n1", "n2"), [{"id": "A", "leader": "n1", "key": "k", "set": "a", "time_ms": 50},
                                    {"id": "B", "leader": "n2", "key": "k", "set": "b"}],
                     invariants=["convergence"])
    system = System(spec)
    assert sorted(_actions(system, system.initial_state())) == [0, 1]


def test_reductions_that_real_time_breaks_are_off_with_a_note():
    with_latency = check(load_spec(REG / "real-time-latency-skew.toml", ["system.resolver=mv-register"]))
    assert any(n.startswith("por off:") and "latency" in n for n in with_latency.reductions)
    timed = System(make_spec(("a", "b"), [{"leader": "a", "key": "k", "set": "x", "time_ms": 0},
                                          {"leader": "b", "key": "k", "set": "y", "time_ms": 0}],
                             resolver="mv-register"))
    timed = force(timed, por=True)
    ok, why = symmetry.applicable(timed)
    assert not ok and "time_ms" in why


def test_timed_specs_with_por_agree_with_the_unreduced_search():
    spec = make_spec(("a", "b", "c"), [{"leader": l, "key": "k", "set": l, "time_ms": t}
                                       for l, t in (("a", 0), ("b", 10), ("c", 10), ("a", 20))],
                     resolver="mv-register")
    assert verdicts(spec) == verdicts(spec, options=Options(por=False))


# ------------------------------------------------------------- failover (3)
def test_causal_order_names_the_leader_that_committed_the_write_after_failover():
    spec = load_spec(REG / "failover-causal-order-origin.toml")
    system = System(spec)
    s = system.initial_state()
    rename, reply = system.op_index["rename"], system.op_index["reply"]
    us, eu, ap = 0, 1, 2
    for a in (fl.code(fl.FAILOVER, us), rename, system.nops + system.edges.index((eu, ap)), reply,
              system.nops + system.edges.index((ap, us))):
        s = system.step(s, a)
    v = INVARIANTS["causal-order"].property(system).check(s)
    assert v is not None
    assert "rename's user:bob.name = \"Robert\" (from eu-west)" in v.message
    assert "(from us-east)" not in v.message
    assert system.committed_at(s, rename) == eu


def test_lost_write_message_names_the_leader_that_committed_after_a_failover():
    """issue 12, messages: after a failover the no-lost-writes message names
    where the winning write was really committed (the new home eu-west),
    not the client's leader (ap-south)."""
    from replcheck.checks.verdict import check, load
    from tests.conftest import SPECS
    report = check(load(SPECS / "faults" / "home-leader-failover.toml"))
    r = next(x for x in report.results if x.invariant == "no-lost-writes")
    assert r.verdict == "violated"
    assert "laptop's write (eu-west, ts 10)" in r.message
    assert "ap-south" not in r.message
