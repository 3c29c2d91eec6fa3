"""ITF rendering: what we write, itf-py reads back, state by state."""

from __future__ import annotations

import json

import itf_py

from replcheck.checks.explain import explained
from replcheck.checks import render_itf, render_json
from replcheck.checks.verdict import check, load

from conftest import SPECS


def _seed():
    report = check(load(SPECS / "seed" / "alice-bob-lww.toml"))
    return report, json.loads(render_itf.render([explained(report, False)]))


def test_itf_round_trips_through_itf_py():
    _, data = _seed()
    trace = itf_py.trace_from_json(data)
    assert trace.vars == ["leaders", "in_flight", "action_taken"]
    again = render_itf._sorted_sets(itf_py.trace_to_json(trace))
    again.pop("loop", None)
    assert again == data


def test_itf_states_match_the_json_trace():
    report, data = _seed()
    steps = json.loads(render_json.render([report]))["results"][1]["trace"]["steps"]
    trace = itf_py.trace_from_json(data)
    assert len(trace.states) == len(steps) + 1 and trace.states[0].meta == {"index": 0}
    assert type(trace.states[0].values["action_taken"]).__name__ == "Init"
    for state, step in zip(trace.states[1:], steps):
        assert state.meta["index"] == step["index"]
        act = state.values["action_taken"]
        assert type(act).__name__ == step["event"]["kind"].title()
        assert act.op == step["event"]["op"]
        for name, leader in step["leaders"].items():
            got = state.values["leaders"][name]
            shown = leader["values"]["doc1.title"]
            assert got.values["doc1.title"] == (frozenset() if shown == "-" else frozenset({shown.strip('"')}))
            assert got.applied == frozenset(leader["applied"])
            assert got.up is True


def test_itf_records_version_vectors_and_messages_in_flight():
    _, data = _seed()
    trace = itf_py.trace_from_json(data)
    after_two_commits = trace.states[2].values
    assert after_two_commits["in_flight"] == {"us-east -> eu-west": ["bob"], "us-east -> ap-south": ["bob"],
                                              "eu-west -> us-east": ["alice"], "eu-west -> ap-south": ["alice"]}
    assert after_two_commits["leaders"]["eu-west"].version_vector == {"us-east": 0, "eu-west": 1, "ap-south": 0}
    end = trace.states[-1].values
    assert end["in_flight"] == {}
    assert end["leaders"]["ap-south"].version_vector == {"us-east": 1, "eu-west": 1, "ap-south": 0}
    assert data["#meta"]["invariant"] == "no-lost-writes" and data["#meta"]["anomaly"] == "lost-update"


def test_itf_output_is_deterministic():
    report = check(load(SPECS / "seed" / "alice-bob-lww.toml"))
    assert render_itf.render([explained(report, False)]) == render_itf.render([explained(report, False)])


def test_itf_without_violations_is_an_empty_list():
    report = check(load(SPECS / "seed" / "alice-bob-mv-register.toml"))
    assert json.loads(render_itf.render([explained(report, False)])) == []


def test_itf_encodes_fault_events_as_variants():
    report = check(load(SPECS / "faults" / "async-replication-loss.toml"))
    data = json.loads(render_itf.render([explained(report, False)]))
    traces = data if isinstance(data, list) else [data]
    tags = {type(s.values["action_taken"]).__name__ for t in traces for s in itf_py.trace_from_json(t).states}
    assert "Crash" in tags and "Commit" in tags
