"""The symbolic engine (checks/smt/bmc.py) agrees with the explicit one.

Both engines run on every covered spec in specs/ and on random small specs;
a violation found by one must be found by the other, and the symbolic
engine's counterexample must replay through the model to a violation.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replcheck.checks.smt import bmc
from replcheck.checks.trace import build_trace
from replcheck.checks.verdict import check, load
from replcheck.model.errors import ReplcheckError, SpecError
from replcheck.model.system import System
from replcheck.model.resolvers import PRESETS
from replcheck.model.spec import parse_spec
from tests.conftest import SPECS, make_spec

LEADERS = ("a", "b", "c")
CONFIGURABLE_DELETES = ("lww", "first-writer-wins", "keep-local", "apply-remote")


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
    assert len(COVERED) >= 40
    covered = {p.relative_to(SPECS).as_posix() for p in COVERED}
    # every register preset on the seed example, counters, escrow, the users table
    assert {f"resolvers/presets/{p}.toml" for p in bmc.REGISTER_RESOLVERS if p in PRESETS} <= covered
    assert {"resolvers/escrow-stock.toml", "resolvers/counter-pn.toml", "drills/user-auth.toml"} <= covered


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
    values = draw(st.sampled_from([("x", "y", "z"), ("1", "2", "10")]))   # max/min compare numbers numerically
    ops = []
    for i in range(n_ops):
        op = {"id": f"w{i}", "leader": draw(st.sampled_from(LEADERS)), "key": draw(st.sampled_from(["k", "j"]))}
        if draw(st.integers(0, 5)) == 0:
            op["delete"] = True
        else:
            op["set"] = draw(st.sampled_from(values))
        if draw(st.booleans()):
            op["time_ms"] = draw(st.integers(0, 6))
        if i and draw(st.integers(0, 2)) == 0:
            op["after"] = [f"w{draw(st.integers(0, i - 1))}"]
        ops.append(op)
    resolver = draw(st.sampled_from(["lww", "mv-register", *bmc.RESOLVERS]))
    if resolver.startswith("pglogical"):
        # SQL row semantics: the smt engine covers row writes, not deletes (bmc._check_system).
        ops = [{**{k: v for k, v in o.items() if k != "delete"}, "set": o.get("set", "x")} for o in ops]
    system = {"topology": topology, "resolver": resolver, "loop_prevention": draw(st.sampled_from(["origin", "visited"]))}
    if resolver not in PRESETS:   # a preset fixes its own clock and tie-break
        system["clock"] = draw(st.sampled_from(["wall", "lamport", "hlc"]))
        system["tie_break"] = draw(st.sampled_from(["leader", "value", "incoming-loses"]))
    if resolver in CONFIGURABLE_DELETES and draw(st.booleans()):
        system["delete_rule"] = draw(st.sampled_from(["as-write", "delete-wins", "update-wins"]))
    if topology == "star":
        system["hub"] = draw(st.sampled_from(LEADERS))
    if draw(st.booleans()):
        system["offsets"] = {draw(st.sampled_from(LEADERS)): draw(st.integers(-5, 5))}
    try:
        return make_spec(LEADERS, ops, invariants=["convergence", "no-lost-writes"], **system)
    except SpecError:
        return None   # an `after` cycle with program order


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(small_specs())
def test_both_engines_agree_on_random_small_specs(spec):
    if spec is None:
        return
    smt = check(spec, engine="smt")
    bfs = check(spec, engine="bfs")
    assert bfs.complete and smt.complete
    assert {r.invariant: r.verdict for r in smt.results} == {r.invariant: r.verdict for r in bfs.results}


# ------------------------------------------- counters, escrow, users table
@st.composite
def typed_specs(draw):
    """Small specs over a counter (g/pn/escrow) and a users table, with the
    local checks (sell, escrow rights, UNIQUE email) and their invariants."""
    topology = draw(st.sampled_from(["all-to-all", "ring", "star"]))
    counter = draw(st.sampled_from(["g-counter", "pn-counter", "escrow"]))
    keys = {"stock": {"type": counter, "initial": draw(st.integers(0, 2))}}
    if counter == "escrow" and draw(st.booleans()):
        keys["stock"]["rights"] = {LEADERS[0]: keys["stock"]["initial"]}
    users = draw(st.booleans())
    if users:
        keys["users"] = {"type": "users"}
    n_ops = draw(st.integers(1, 4 if topology == "all-to-all" else 3))
    ops, checked = [], set()
    for i in range(n_ops):
        leader = draw(st.sampled_from(LEADERS))
        op = {"id": f"w{i}", "leader": leader}
        if users and draw(st.integers(0, 2)) == 0:
            op.update(key="users", insert=draw(st.sampled_from(["a@x", "b@x"])))
            checked.add("email-unique")
        else:
            choices = ["incr", "restock"] + (["decr", "sell"] if counter != "g-counter" else [])
            choices += ["transfer"] if counter == "escrow" else []
            kind = draw(st.sampled_from(choices))
            n = draw(st.integers(1, 2))
            op["key"] = "stock"
            if kind == "transfer":
                op["transfer"] = {"to": draw(st.sampled_from([x for x in LEADERS if x != leader])), "n": n}
            else:
                op[kind] = n
            if kind == "sell":
                checked.add("stock-non-negative")
        if draw(st.booleans()):
            op["time_ms"] = draw(st.integers(0, 6))
        ops.append(op)
    # `after` only on ops no local check can refuse (the engine rejects the rest)
    system = {"leaders": list(LEADERS), "topology": topology,
              "clock": draw(st.sampled_from(["wall", "lamport", "hlc"])),
              "loop_prevention": draw(st.sampled_from(["origin", "visited"]))}
    if topology == "star":
        system["hub"] = draw(st.sampled_from(LEADERS))
    invariants = ["convergence", "no-lost-writes", *sorted(checked)]
    if draw(st.integers(0, 3)) == 0:
        invariants.append("causal-order")
    data = {"system": system, "workload": ops, "keys": keys, "check": {"invariants": invariants}}
    from replcheck.checks.invariants import INVARIANTS
    try:
        return parse_spec(data, "<typed>", INVARIANTS)
    except SpecError:
        return None


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(typed_specs())
def test_both_engines_agree_on_random_counter_escrow_and_users_specs(spec):
    if spec is None:
        return
    smt = check(spec, engine="smt")
    bfs = check(spec, engine="bfs")
    assert bfs.complete and smt.complete
    assert {r.invariant: r.verdict for r in smt.results} == {r.invariant: r.verdict for r in bfs.results}


def test_escrow_never_oversells_but_a_pn_counter_does():
    def spec(counter):
        ops = [{"id": "s1", "leader": "a", "key": "stock", "sell": 1},
               {"id": "s2", "leader": "b", "key": "stock", "sell": 1}]
        data = {"system": {"leaders": ["a", "b"]}, "workload": ops,
                "keys": {"stock": {"type": counter, "initial": 1}},
                "check": {"invariants": ["stock-non-negative"]}}
        from replcheck.checks.invariants import INVARIANTS
        return parse_spec(data, "<stock>", INVARIANTS)
    pn = {r.invariant: r for r in check(spec("pn-counter"), engine="smt").results}["stock-non-negative"]
    assert pn.verdict == "violated"
    # cut at the first state that breaks it: both sales committed, nothing delivered yet
    assert [s.event.kind for s in pn.trace.steps] == ["commit", "commit"]
    esc = {r.invariant: r for r in check(spec("escrow"), engine="smt").results}["stock-non-negative"]
    assert esc.verdict == "holds"


def test_every_state_invariants_search_within_the_depth():
    spec = load(SPECS / "drills" / "user-auth.toml")
    got = {r.invariant: r.verdict for r in check(spec.with_bounds(max_depth=4), engine="smt").results}
    # two registrations and one delivery of each to the same leader: violated within 4 steps
    assert got["email-unique"] == "violated"
    assert got["convergence"] == "incomplete"
    short = {r.invariant: r.verdict for r in check(spec.with_bounds(max_depth=2), engine="smt").results}
    assert short["email-unique"] == "incomplete"


def test_every_register_resolver_of_the_catalogue_is_covered_or_named_as_not():
    from replcheck.model.resolvers import RESOLVERS
    assert set(RESOLVERS) <= set(bmc.KEY_TYPES) | set(bmc.NOT_COVERED)


def test_resolver_all_prints_a_trace_for_each_covered_resolver():
    from click.testing import CliRunner

    from replcheck.checks.cli import main
    res = CliRunner().invoke(main, ["check", "--engine", "smt", str(SPECS / "seed" / "alice-bob-lww.toml"),
                                    "--resolver", "all"])
    assert res.exit_code == 1, res.output
    out = res.output
    for name in ("first-writer-wins", "keep-local", "apply-remote", "max", "min", "cassandra", "pgd",
                 "sqlserver-p2p", "goldengate-usemax", "couchdb"):
        assert re.search(rf"\| {re.escape(name)}( over [^|]*)? \|", out), name   # header; clocks shown per resolver
    # every register resolver that loses a write shows its own counterexample
    assert out.count("counterexample") >= 20   # the smt trace is "a counterexample", not a shortest one
    assert "n/a  home-leader: not covered by --engine smt" in out
    assert "n/a  or-set:" in out


def test_resolver_all_refuses_a_spec_whose_keys_all_have_their_own_type():
    from click.testing import CliRunner

    from replcheck.checks.cli import main
    res = CliRunner().invoke(main, ["check", "--engine", "smt", str(SPECS / "resolvers" / "escrow-stock.toml"),
                                    "--resolver", "all"])
    assert res.exit_code == 2 and "--resolver" in res.output
