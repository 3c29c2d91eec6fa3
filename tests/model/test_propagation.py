"""replcheck topology: graph analysis, and its cross-check against the
explicit-state engine."""

import json

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from replcheck.checks.cli import main
from replcheck.model import topology as t
from replcheck.model.propagation import analyse, receivers
from replcheck.checks.invariants import INVARIANTS
from replcheck.model import parse_spec
from tests.conftest import SPECS, verdicts


def test_single_points_of_failure_ring_star_all_to_all_of_4():
    assert analyse(t.ring(4)).spof_leaders == (0, 1, 2, 3)
    assert analyse(t.star(4, hub=2)).spof_leaders == (2,)
    assert analyse(t.all_to_all(4)).spof_leaders == ()


def test_paths_and_hops():
    a = analyse(t.ring(4))
    assert a.paths[(3, 2)] == (3, 0, 1, 2)
    assert analyse(t.star(4, 0)).paths[(1, 3)] == (1, 0, 3)
    assert analyse(t.all_to_all(3)).paths[(2, 0)] == (2, 0)


def test_worst_latency_with_link_latencies():
    topo = t.ring(4)
    a = analyse(topo, latency={e: 60 for e in topo.edges})
    assert a.worst_latency[0] == 180
    topo = t.all_to_all(3)
    assert analyse(topo, latency={e: 60 for e in topo.edges}).worst_latency[0] == 60


def test_causal_order_by_construction():
    assert analyse(t.ring(3)).causal_by_construction
    assert analyse(t.star(3, 0)).causal_by_construction
    assert not analyse(t.all_to_all(3)).causal_by_construction
    assert not analyse(t.ring(3), fifo=False).causal_by_construction


def test_a_leader_that_no_path_reaches_is_reported():
    a = analyse(t.custom(3, [(0, 1), (1, 0), (2, 0)]))
    assert (0, 2) in a.unreachable and (2, 1) not in a.unreachable


def test_cli_topology_text_and_json():
    runner = CliRunner()
    spec = str(SPECS / "faults" / "ring-crash.toml")
    r = runner.invoke(main, ["topology", spec])
    assert r.exit_code == 0
    assert "leaders: us-east, eu-west, ap-south, sa-east" in r.output
    r = runner.invoke(main, ["topology", spec, "--format", "json", "--set", "system.topology=star",
                             "--set", "system.hub=us-east", "--set", "system.latency_ms=60"])
    d = json.loads(r.output)
    assert d["single_points_of_failure"]["leaders"] == ["us-east"]
    assert d["worst_latency_ms"]["ms"] == 120
    r = runner.invoke(main, ["topology", spec, "--set", "system.topology=all-to-all"])
    assert "leaders: none" in r.output


@st.composite
def graphs(draw):
    n = draw(st.integers(3, 4))
    edges = draw(st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] != e[1]),
                         min_size=n, max_size=2 * n))
    return n, sorted(edges)


@settings(max_examples=30, deadline=None)
@given(graphs(), st.data())
def test_a_leader_that_is_not_a_single_point_of_failure_never_breaks_convergence_when_it_crashes(g, data):
    n, edges = g
    topo = t.custom(n, edges)
    a = analyse(topo)
    safe = [x for x in range(n) if x not in a.spof_leaders]
    if not safe or a.unreachable:
        return
    x = data.draw(st.sampled_from(safe))
    names = [f"l{i}" for i in range(n)]
    writers = [i for i in range(n) if i != x][:2]
    data_ = {"system": {"leaders": names, "topology": "custom", "loop_prevention": "visited",
                        "edges": [f"{names[s]} -> {names[d]}" for s, d in edges], "resolver": "mv-register"},
             "workload": [{"leader": names[i], "key": "k", "set": names[i]} for i in writers],
             "faults": {"crashes": 1, "crashable": [names[x]]}}
    spec = parse_spec(data_, "<hyp>", INVARIANTS)
    assert verdicts(spec)["convergence"][0] == "holds", (edges, x)


def test_the_analysis_matches_the_engine_on_the_ring():
    # The converse on a known case: a ring leader *is* a single point of failure.
    assert receivers(t.ring(4), 0, down=frozenset([1])) == frozenset()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_graph_that_cannot_loop_never_sets_the_loop_flag(data):
    """can_loop is a proof: where it says no, no reachable state of the plain
    model has the replication-loop flag set (so the planner's loop guard is
    not needed); where a state has it, can_loop said yes."""
    from replcheck.model import Bounds, System, bfs
    from replcheck.model import state as st_
    from replcheck.model.search import EVERY, Property
    n = data.draw(st.integers(2, 4))
    leaders = ["a", "b", "c", "d"][:n]
    pairs = [(x, y) for x in leaders for y in leaders if x != y]
    edges = data.draw(st.lists(st.sampled_from(pairs), min_size=n - 1, max_size=len(pairs), unique=True))
    mode = data.draw(st.sampled_from(("origin", "none")))
    spec = parse_spec({"system": {"leaders": leaders, "topology": "custom", "loop_prevention": mode,
                                  "edges": [f"{x} -> {y}" for x, y in edges]},
                       "workload": [{"id": f"{x}1", "leader": x, "key": "k", "set": x} for x in leaders[:2]]},
                      "<test>", INVARIANTS)
    system = System(spec)
    looped = []
    r = bfs(system, [Property("loop", EVERY, lambda s: looped.append(s) if st_.is_looped(s) else None)],
            Bounds(max_states=200_000, max_seconds=60))
    if not system.loops_possible:
        assert r.complete and not looped
    elif looped:
        assert system.loops_possible


def test_rings_and_stars_cannot_loop_under_origin_prevention():
    from replcheck.model.propagation import can_loop
    for n in (2, 3, 5):
        assert not can_loop(t.ring(n), "origin")
        assert not can_loop(t.star(n, 0), "origin")
        assert can_loop(t.ring(n), "none")
