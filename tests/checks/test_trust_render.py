"""What is printed about a verdict must be true, and must print at all.

- Every key type and every workload op renders: every reachable state and
  transition of a small concurrent spec (what a trace's intermediate
  states are made of, with some ops not yet committed), and a real
  counterexample in every output format (text, json, markdown, html, itf).
- ``replay`` confirms a replication-loop trace (its violation *is* the
  loop-cut state).
- A write is shown as what it is (``+1``, ``add "x"``, ``sell 1``), never
  as ``(delete)``; the header names the types that run and a clock only
  where a type reads it.
"""

from __future__ import annotations

import json
from collections import deque

import itf_py
import pytest
from click.testing import CliRunner

from replcheck.checks.explain import explained
from replcheck.checks import render_html, render_itf, render_json, render_markdown, render_text
from replcheck.checks.cli import main
from replcheck.checks.explain import frames, in_flight, leader_states
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.trace import describe_event, leader_views
from replcheck.checks.verdict import VIOLATED, check
from replcheck.model import parse_spec
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import RESOLVERS, TABLES
from replcheck.model.system import System

from conftest import SPECS

LEADERS = ["a", "b"]

# One workload op table per op kind (a at leader a, b at leader b).
_OP = {
    "set": lambda me, other: {"set": "7" if me == "a" else "8"},
    "delete": lambda me, other: {"delete": True},
    "resolve": lambda me, other: {"resolve": "9"},
    "incr": lambda me, other: {"incr": 1},
    "decr": lambda me, other: {"decr": 2},
    "transfer": lambda me, other: {"transfer": {"to": other, "n": 1}},
    "add": lambda me, other: {"add": "x"},
    "remove": lambda me, other: {"remove": "x"},
    "insert": lambda me, other: {"insert": "6"},
    "sell": lambda me, other: {"sell": 1},
    "restock": lambda me, other: {"restock": 1},
}
_NUMERIC = {"incr", "decr", "sell", "restock"}


def _kinds(name: str, info) -> list[str]:
    """Every op a key of catalogue entry ``name`` takes, local-check ops included."""
    kinds = list(info.ops)
    if "set" in kinds:
        kinds.append("insert")
    if "decr" in kinds:
        kinds.append("sell")
    if "incr" in kinds:
        kinds.append("restock")
    return kinds


def _pairs(kinds: list[str]) -> list[tuple[str, str]]:
    """The kinds two at a time (a concurrent pair each), every kind covered."""
    out = [tuple(kinds[i:i + 2]) for i in range(0, len(kinds), 2)]
    return [p if len(p) == 2 else (p[0], kinds[0] if kinds[0] != p[0] else p[0]) for p in out]


def _key_table(name: str, info, pair) -> dict:
    if name in TABLES or info.family != "register":
        table = {"type": name}
    else:
        table = {"type": "register", "resolver": name}
    if info.family == "set":
        table["initial"] = ["y"]
    elif name == "escrow":
        table.update(initial=2, rights={"a": 1, "b": 1})
    elif name == "pn-counter":
        table["initial"] = 1
    elif info.family == "register" and (_NUMERIC & set(pair) or name == "goldengate-usedelta"):
        table["initial"] = "5"
    return table


def _spec_data(name: str, info, pair, faults: bool) -> dict:
    data = {
        "name": f"render-{name}-{'-'.join(pair)}",
        "system": {"leaders": LEADERS, "clock": "lamport" if info.clock is None else info.clock},
        "keys": {"k": _key_table(name, info, pair)},
        "workload": [{"id": f"{kind}-{me}", "leader": me, "key": "k", **_OP[kind](me, other)}
                     for kind, me, other in zip(pair, ("a", "b"), ("b", "a"))],
        "check": {"invariants": ["durability", "convergence", "no-lost-writes"]},
    }
    if info.clock is not None:
        del data["system"]["clock"]
    if faults:   # a's acknowledged op can die with it: every type has a counterexample
        data["faults"] = {"crashes": 1, "crashable": ["a"], "lose_unsent": True}
    return data


CASES = [(name, pair) for name, info in {**RESOLVERS, **TABLES}.items() if not info.needs_python
         for pair in _pairs(_kinds(name, info))]


def _spec(name, pair, faults):
    info = {**RESOLVERS, **TABLES}[name]
    data = _spec_data(name, info, pair, faults)
    try:
        return parse_spec(data, f"<{data['name']}>", INVARIANTS)
    except SpecError:
        data["check"]["invariants"] = ["durability", "convergence"]   # a type no-lost-writes cannot judge
        return parse_spec(data, f"<{data['name']}>", INVARIANTS)


def test_the_cases_cover_every_key_type_and_op():
    names = {n for n, _ in CASES}
    assert names == {n for n, i in {**RESOLVERS, **TABLES}.items() if not i.needs_python}
    assert {k for _, p in CASES for k in p} == set(_OP)


@pytest.mark.parametrize("name,pair", CASES, ids=[f"{n}:{'+'.join(p)}" for n, p in CASES])
def test_every_reachable_state_and_transition_renders(name, pair):
    """Each state a trace can pass through (ops committed or not, messages in
    flight) is shown, and each transition described, for this type and op."""
    system = System(_spec(name, pair, faults=False))
    start = system.initial_state()
    seen, todo = {start}, deque([start])
    while todo:
        state = todo.popleft()
        leader_views(system, state)
        assert all(len(v.shown) == len(system.keys) for v in leader_states(system, state))   # ITF's values too
        in_flight(system, state)
        for a, nxt in system.successors(state):
            assert describe_event(system, system.describe(state, a), nxt)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert len(seen) > 3


def _render_all(report) -> dict[str, str]:
    return {
        "text": render_text.render(report),
        "json": render_json.render([report]),
        "markdown": render_markdown.render(explained(report)),
        "html": render_html.render(explained(report)),
        "itf": render_itf.render([explained(report, True)]),
    }


@pytest.mark.parametrize("name,pair", CASES, ids=[f"{n}:{'+'.join(p)}" for n, p in CASES])
def test_every_counterexample_renders_in_every_format(name, pair):
    report = check(_spec(name, pair, faults=True))
    violated = [r for r in report.results if r.verdict == VIOLATED]
    assert violated, "the crash of a before replicating makes a counterexample for every type"
    out = _render_all(report)
    data = json.loads(out["json"])
    assert all(r["trace"]["steps"] for r in data["results"] if r["verdict"] == "violated")
    itf = json.loads(out["itf"])
    for t in itf if isinstance(itf, list) else [itf]:
        assert len(itf_py.trace_from_json(t).states) >= 2
    for r in violated:
        assert r.message in out["text"]
        assert f"## {r.invariant} violated: {r.anomaly}" in out["markdown"]
        assert frames(System(report.spec), r.path, {})[-1].index == len(r.trace)
    if "delete" not in pair:   # only a delete is ever shown as one
        for fmt, text in out.items():
            assert "(delete)" not in text, fmt


# ---------------------------------------------------------------- the repro
LWW_SET = SPECS / "regressions" / "lww-element-set-concurrent-add-remove.toml"


def test_lww_element_set_concurrent_add_remove_renders_in_every_format():
    """/work/shared/repro/lww-element-set-crash.toml: rendering crashed."""
    from replcheck.checks.verdict import load
    report = check(load(LWW_SET))
    r = {x.invariant: x for x in report.results}["no-lost-writes"]
    assert (r.verdict, r.anomaly) == (VIOLATED, "lost-update")
    out = _render_all(report)
    assert '1. a1 commits s.add("x") at a (ts 1)   <- lost write\n         a: {x} | b: {}' in out["text"]
    assert "1. [LOST WRITE] a1 commits add &quot;x&quot; (ts 1)" in out["html"]
    assert 'Note over L0: 1. a1: add "x" (ts 1) committed - LOST WRITE' in out["markdown"]
    itf = json.loads(out["itf"])
    commit = itf["states"][1]["action_taken"]
    assert commit["tag"] == "Commit" and commit["value"]["kind"] == "add" and commit["value"]["value"] == "x"
    # the initial state and after a1: b1 is not committed yet, and a holds only a1
    assert itf["states"][1]["leaders"]["#map"][0][1]["held"]["#map"] == [["s", {"#set": ["a1"]}]]


# ---------------------------------------------------------------- replay
def test_replay_confirms_a_replication_loop(tmp_path):
    """/work/shared/repro/replay-loop.sh: replay refused to judge the loop-cut state."""
    spec = str(SPECS / "seed" / "ring-no-loop-prevention.toml")
    out = tmp_path / "loop.json"
    runner = CliRunner()
    assert runner.invoke(main, ["check", spec, "--format", "json", "--no-progress", "-o", str(out)]).exit_code == 1
    r = runner.invoke(main, ["replay", spec, str(out), "--invariant", "replication-terminates"])
    assert r.exit_code == 1, r.output
    assert "replication-terminates: replayed 4 steps; violation reproduced: replication-loop" in r.output
    # a quiescent-state invariant is still not judged at a loop-cut state (as in the engine)
    data = json.loads(out.read_text())
    steps = next(x for x in data["results"] if x["invariant"] == "replication-terminates")["trace"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(steps))
    # ... and replay refuses it (exit 2, one line) rather than saying "holds" (issue 14, item 5)
    c = runner.invoke(main, ["replay", spec, str(bare), "--invariant", "convergence"])
    assert c.exit_code == 2 and "replication loop" in c.output and len(c.output.strip().splitlines()) == 1


# ---------------------------------------------------------------- messages
def _parse(data):
    return parse_spec(data, "<test>", INVARIANTS)


def _crash_spec(key: dict, op: dict, invariants=("durability", "no-lost-writes")):
    return _parse({"name": "lost-op", "system": {"leaders": ["a", "b"]}, "keys": {"k": key},
                   "workload": [{"id": "op-a", "leader": "a", "key": "k", **op}],
                   "faults": {"crashes": 1, "crashable": ["a"], "lose_unsent": True},
                   "check": {"invariants": list(invariants)}})


@pytest.mark.parametrize("key,op,shown", [
    ({"type": "pn-counter"}, {"incr": 1}, "+1"),
    ({"type": "pn-counter", "initial": 3}, {"decr": 2}, "-2"),
    ({"type": "or-set"}, {"add": "x"}, 'add "x"'),
    ({"type": "or-set", "initial": ["x"]}, {"remove": "x"}, 'remove "x"'),
    ({"type": "pn-counter", "initial": 3}, {"sell": 1}, "sell 1"),
    ({"type": "pn-counter"}, {"restock": 2}, "restock 2"),
    ({"type": "escrow", "initial": 2, "rights": {"a": 2, "b": 0}}, {"transfer": {"to": "b", "n": 1}},
     "transfer 1 to b"),
    ({"type": "register", "resolver": "lww"}, {"insert": "v"}, 'insert "v"'),
    ({"type": "register", "resolver": "lww"}, {"delete": True}, "(delete)"),
])
def test_a_lost_op_is_shown_as_what_it_is(key, op, shown):
    report = check(_crash_spec(key, op))
    r = {x.invariant: x for x in report.results}["durability"]
    assert r.verdict == VIOLATED and r.anomaly == "unreplicated-write-lost"
    assert r.message.startswith(f"op-a's acknowledged write {shown} is held by no live leader")
    text, md = render_text.render(report), render_markdown.render(explained(report))
    assert f"op-a's acknowledged write {shown} " in text and f"op-a's acknowledged write {shown} " in md
    assert f"op-a: {shown} (ts " in md            # the Mermaid note of its commit
    if shown != "(delete)":
        assert "(delete)" not in text and "(delete)" not in md


def test_write_text_names_every_op():
    from replcheck.checks.trace import write_text
    spec = _parse({"system": {"leaders": ["a", "b"]}, "keys": {"c": {"type": "pn-counter"}},
                   "workload": [{"id": "i", "leader": "a", "key": "c", "incr": 1},
                                {"id": "d", "leader": "b", "key": "c", "decr": 2}]})
    system = System(spec)
    assert [write_text(system, i) for i in range(2)] == ["+1", "-2"]


# ---------------------------------------------------------------- the header
def _header(report) -> tuple[str, str]:
    text = next(line.strip() for line in render_text.render(report).splitlines() if " leaders (" in line)
    md = next(line for line in render_markdown.render(explained(report)).splitlines() if line.startswith("`<test>`"))
    return text, md


def test_header_of_a_pn_counter_spec_names_no_lww_and_no_clock():
    spec = _parse({"system": {"leaders": ["a", "b"]}, "keys": {"likes": {"type": "pn-counter"}},
                   "workload": [{"id": "i", "leader": "a", "key": "likes", "incr": 1},
                                {"id": "j", "leader": "b", "key": "likes", "incr": 1}]})
    text, md = _header(check(spec))
    assert text == "2 leaders (a, b) | all-to-all | pn-counter | fifo links"
    assert md.endswith("2 leaders (a, b) | all-to-all | pn-counter | fifo links")
    for line in (text, md):
        assert "lww" not in line and "clock" not in line


def test_header_of_mv_register_over_a_skewed_wall_clock_names_no_clock():
    spec = _parse({"system": {"leaders": ["a", "b"], "resolver": "mv-register", "clock": "wall",
                              "offsets": {"a": -100}},
                   "workload": [{"id": "x", "leader": "a", "key": "t", "set": "A"},
                                {"id": "y", "leader": "b", "key": "t", "set": "B"}]})
    text, md = _header(check(spec))
    assert text == "2 leaders (a, b) | all-to-all | mv-register | fifo links"
    assert "clock" not in md and "lww" not in md


def test_header_names_each_keys_type_and_the_clock_where_it_is_read():
    spec = _parse({"system": {"leaders": ["a", "b"], "clock": "lamport"},
                   "keys": {"likes": {"type": "pn-counter"}, "cart": {"type": "lww-element-set"}},
                   "workload": [{"id": "i", "leader": "a", "key": "likes", "incr": 1},
                                {"id": "t", "leader": "b", "key": "title", "set": "B"},
                                {"id": "c", "leader": "b", "key": "cart", "add": "ham"}]})
    text, md = _header(check(spec))
    want = ("likes: pn-counter; title: lww over lamport clocks (tie-break: leader);"
            " cart: lww-element-set over lamport clocks (tie-break: leader)")
    assert f"| {want} |" in text and f"| {want} |" in md
