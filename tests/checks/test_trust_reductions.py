"""Reductions and engines never change what a verdict claims.

Regression tests for four wrong answers (specs/regressions/):
symmetry that ignored ``after``; a parallel swarm that built its properties
without the loop guard; an anomaly label that depended on the search
order; and "shortest counterexample" claimed where nothing proved it
(docs/reductions.md, docs/engine.md "Anomaly kinds")."""

import json
from pathlib import Path

import jsonschema
import pytest

from replcheck.checks import planner, render_json, render_text
from replcheck.checks.invariants import INVARIANTS, kinds_of
from replcheck.checks.verdict import Options, check, load, meets, properties
from replcheck.model import dead_content, por, symmetry
from replcheck.model.reduced import build
from replcheck.model import Bounds, System, bfs
from replcheck.model.search import QUIESCENT, Property, is_quiescent
from replcheck.model.spec import Expectation
from replcheck.model.symmetry import Symmetry, after_classes
from tests.conftest import force

ROOT = Path(__file__).resolve().parents[2]
REG = ROOT / "specs" / "regressions"
SCHEMA = json.loads((ROOT / "checks" / "schema" / "report.schema.json").read_text())
UNBOUNDED = Bounds(max_states=None, max_seconds=None)
PLAIN = Options(por=False, symmetry=False, dead_variables=False)


def _quiescent(system):
    """Every quiescent state the search judges on ``system``."""
    seen = set()
    r = bfs(system, [Property("q", QUIESCENT, lambda s: seen.add(s))], UNBOUNDED)
    assert r.complete
    return seen


def _judged_images(spec, options=Options()):
    """The quiescent states the default engine judges: with symmetry on,
    every image of every quiescent representative (checks/planner.py)."""
    system, _, _ = planner.reduced(spec, spec.invariants, True, options)
    return {img for rep in _quiescent(system) for img in system.images(rep)}, system


# ------------------------------------------------------ 1. symmetry and 'after'
@pytest.mark.parametrize("name", ["after-mv-symmetry", "after-mv-symmetry-missing"])
def test_symmetry_judges_exactly_the_reachable_quiescent_states_under_after(name):
    spec = load(REG / f"{name}.toml")
    judged, reduced = _judged_images(spec)
    assert judged == _quiescent(System(spec))
    on, off = check(spec), check(spec, options=PLAIN)
    assert [(r.invariant, r.verdict) for r in on.results] == [(r.invariant, r.verdict) for r in off.results]
    assert any("symmetry off" in n and "'after'" in n for n in on.reductions)


@pytest.mark.parametrize("name", ["after-mv-symmetry", "after-mv-symmetry-missing"])
def test_seeded_bug_symmetry_over_shape_classes_alone_is_caught(name):
    """The old rule (workload shape only) on the same specs: the images and
    the reachable quiescent states differ, so the test above can fail."""
    spec = load(REG / f"{name}.toml")
    system = System(spec)
    system = force(system, por=True)
    sym = Symmetry(system, full=True)
    shape = {}
    for l in range(system.n):
        ops = system.leader_ops[l]
        shape.setdefault((len(ops), tuple((system.ops[i].key, system.ops[i].kind) for i in ops)), []).append(l)
    sym.classes = tuple(tuple(c) for c in shape.values())
    sym.cls = [next(c for c, m in enumerate(sym.classes) if l in m) for l in range(system.n)]
    system = force(system, symmetry=sym)
    judged = {img for rep in _quiescent(system) for img in system.images(rep)}
    assert judged != _quiescent(System(spec))


def test_symmetry_stays_on_when_the_renaming_preserves_after():
    """a1 and b1 both wait on c1: swapping a and b maps the dependency
    graph onto itself, so they stay interchangeable, and the images are
    still exactly the reachable quiescent states."""
    from tests.conftest import force, make_spec
    w = [{"id": "a1", "leader": "a", "key": "k", "set": "x", "after": ["c1"]},
         {"id": "b1", "leader": "b", "key": "k", "set": "y", "after": ["c1"]},
         {"id": "c1", "leader": "c", "key": "k", "set": "z"}]
    spec = make_spec(("a", "b", "c"), w, resolver="mv-register", invariants=["convergence"])
    judged, reduced = _judged_images(spec)
    assert reduced.symmetry is not None and reduced.symmetry.classes == ((0, 1), (2,))
    assert judged == _quiescent(System(spec))


def test_after_classes_split_only_what_after_distinguishes():
    spec = load(REG / "after-mv-symmetry-missing.toml")
    system = System(spec)
    sym = Symmetry(system, full=True)
    assert after_classes(system, ((0, 1), (2,)), sym.pos) == ((0,), (1,), (2,))


# ------------------------------------------ 2. one place builds the properties
def test_workers_do_not_change_the_verdict():
    spec = load(REG / "workers-change-verdict.toml")
    one = check(spec, options=Options(simulate=200, seed=1, workers=1))
    two = check(spec, options=Options(simulate=200, seed=1, workers=2))
    bfs_ = check(spec)
    assert [(r.invariant, r.verdict) for r in one.results] == [(r.invariant, r.verdict) for r in two.results] \
        == [(r.invariant, r.verdict) for r in bfs_.results] == [("no-lost-writes", "incomplete")]


def test_properties_add_the_loop_guard_where_writes_are_forwarded():
    spec = load(REG / "workers-change-verdict.toml")
    props = properties(System(spec), ["no-lost-writes"])
    assert [p.name for p in props] == ["no-lost-writes", "replication-terminates"]


# ---------------------------------------------- 3. anomaly kinds, not order
FWW_KINDS = ("causally-later-write-lost", "lost-update")


@pytest.mark.parametrize("options,engine", [(Options(), "bfs"), (PLAIN, "bfs"), (Options(symmetry=False), "bfs"),
                                            (PLAIN, "dfs")])
def test_anomaly_kinds_do_not_depend_on_the_search(options, engine):
    spec = load(REG / "anomaly-order-fww.toml")
    r = {x.invariant: x for x in check(spec, engine=engine, options=options).results}["no-lost-writes"]
    assert r.verdict == "violated"
    assert r.anomalies == FWW_KINDS and r.anomalies_complete
    assert r.anomaly in r.anomalies


def test_anomaly_kinds_are_every_kind_of_every_violating_quiescent_state():
    """The reported set is exactly the union, over the plain system's
    reachable quiescent states, of the kinds each shows."""
    spec = load(REG / "anomaly-order-fww.toml")
    plain = System(spec)
    nlw = INVARIANTS["no-lost-writes"]
    check_, labels = nlw.build(plain), nlw.labels(plain)
    union = set()
    for s in _quiescent(plain):
        assert set(kinds_of(check_(s))) == set(labels(s))   # the cheap labeller agrees with the check
        union |= set(labels(s))
    assert tuple(sorted(union)) == FWW_KINDS


def test_a_bound_marks_the_kinds_partial():
    """A violation found before a bound cut the search: its kinds are only
    "at least" those reported, in the result and in the text."""
    cut = []
    for n in range(20, 265, 15):
        spec = load(REG / "anomaly-order-fww.toml", [f"bounds.max_states={n}"])
        r = {x.invariant: x for x in check(spec, engine="dfs", options=PLAIN).results}["no-lost-writes"]
        if r.verdict == "violated" and n < 265:
            assert not r.anomalies_complete and not r.shortest
            assert "at least" in render_text.also_text(r) or "not exhaustive" in render_text.also_text(r)
            cut.append(n)
    assert cut


def test_anomaly_kinds_in_text_json_and_expect():
    spec = load(REG / "anomaly-order-fww.toml")
    rep = check(spec)
    text = render_text.render(rep)
    r = rep.results[1]
    other = [k for k in FWW_KINDS if k != r.anomaly][0]
    assert f"VIOLATED  {r.anomaly} (also: {other})" in text
    data = render_json.report_json(rep)
    jsonschema.validate(data, SCHEMA)
    got = data["results"][1]
    assert got["anomalies"] == list(FWW_KINDS) and got["anomalies_complete"] is True and got["anomaly"] == r.anomaly
    for kind in FWW_KINDS:   # violated:X passes when X is among the kinds reported
        assert meets(r, Expectation("violated", kind))
    assert not meets(r, Expectation("violated", "divergence"))


# ------------------------------------------------- 4. shortest, only if proved
def _steps(spec, **kw):
    r = {x.invariant: x for x in check(spec, **kw).results}["no-lost-writes"]
    return len(r.trace), r.shortest, r


def test_reductions_keep_the_shortest_counterexample_when_local_checks_reject():
    spec = load(REG / "not-shortest-local-check.toml")
    n_red, short_red, _ = _steps(spec)
    n_plain, short_plain, _ = _steps(spec, options=PLAIN)
    assert n_red == n_plain == 5 and short_red and short_plain


def test_run_length_is_the_length_of_the_expanded_run():
    """System.run_length under por equals the length of the plain run a
    reduced path to a quiescent state expands to."""
    spec = load(REG / "not-shortest-local-check.toml")
    system = System(spec)
    system = force(system, por=True)
    init = system.initial_state()
    paths, frontier, checked = {init: ()}, [init], 0
    while frontier:
        nxt = []
        for s in frontier:
            succ = system.successors(s)
            if is_quiescent(system, succ):
                assert system.run_length(s, len(paths[s])) == len(system.expand_path(paths[s]))
                checked += 1
            for a, t in succ:
                if t not in paths:
                    paths[t] = paths[s] + (a,)
                    nxt.append(t)
        frontier = nxt
    lengths = {system.run_length(s, 0) for s in paths if is_quiescent(system, system.successors(s))}
    assert checked and len(lengths) > 1   # runs to quiescence do differ in length here


@pytest.mark.parametrize("kw", [{"engine": "dfs"}, {"options": Options(simulate=50, seed=3)}])
def test_engines_that_prove_nothing_about_length_say_a_counterexample(kw):
    spec = load(REG / "not-shortest-local-check.toml")
    rep = check(spec, **kw)
    r = {x.invariant: x for x in rep.results}["no-lost-writes"]
    assert r.verdict == "violated" and not r.shortest
    text = render_text.render(rep)
    assert "a counterexample, " in text and "shortest counterexample, " not in text
    data = render_json.report_json(rep)
    jsonschema.validate(data, SCHEMA)
    assert data["results"][1]["shortest"] is False


def test_a_cut_reduced_search_does_not_claim_shortest():
    spec = load(REG / "not-shortest-local-check.toml", ["bounds.max_states=20"])
    rep = check(spec)
    r = {x.invariant: x for x in rep.results}["no-lost-writes"]
    if r.verdict == "violated":
        assert not r.shortest and not r.anomalies_complete


def test_plain_bfs_claims_shortest_and_says_so():
    rep = check(load(REG / "not-shortest-local-check.toml"), options=PLAIN)
    assert "shortest counterexample, 5 steps" in render_text.render(rep)
    assert render_json.report_json(rep)["results"][1]["shortest"] is True


# ------------------- dead content and symmetry with ghost happens-before kept
from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.model.test_reductions import _paths_to_quiescent, _replay, shaped_workloads  # noqa: E402


def _ghost_reduced(spec, symmetric):
    system = System(spec)   # ghost kept: no-lost-writes and durability read it
    system = force(system, por=True)
    if not dead_content.applicable(system)[0]:
        return None
    system = force(system, dead_content=True)
    if symmetric:
        if not symmetry.applicable(system)[0]:
            return None
        system = force(system, symmetry=Symmetry(system, full=system.symmetry_full))
    return system


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads())
def test_dead_content_with_the_ghost_kept_keeps_exactly_the_quiescent_states(spec):
    """A busy leader reduced to its clock and causal past, dead messages
    dropped, and symmetry over that: the quiescent states judged are
    exactly the plain system's, ghost included (docs/reductions.md)."""
    if spec is None or not por.applicable(System(spec))[0]:
        return
    full = _quiescent(System(spec))
    dead = _ghost_reduced(spec, symmetric=False)
    if dead is None:
        return
    assert _quiescent(dead) == full
    sym = _ghost_reduced(spec, symmetric=True)
    if sym is not None:
        assert {img for rep in _quiescent(sym) for img in sym.images(rep)} == full
        base = System(spec)
        for rep, path in list(_paths_to_quiescent(sym).items())[:5]:
            assert set(sym.images(rep)) <= {_replay(base, p) for p in sym.expansions(path)}



# ------------------------------------- counters and escrow under the reductions
LEADERS4 = ["us-east", "eu-west", "ap-south", "sa-east"]


def _counter_spec(kind, n_leaders, ops_per, extra_ops=()):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    leaders = LEADERS4[:n_leaders]
    ops = []
    for l in leaders:
        for i in range(ops_per):
            op = {"id": f"{l}-{i}", "leader": l, "key": "stock"}
            op.update({"incr": 1} if kind == "g-counter" or (kind == "pn-counter" and i % 2 == 0) else {"decr": 1})
            ops.append(op)
    ops += list(extra_ops)
    table = {"type": kind}
    if kind != "g-counter":
        table["initial"] = 3
    data = {"system": {"leaders": leaders, "topology": "all-to-all"}, "workload": ops,
            "keys": {"stock": table}, "check": {"invariants": ["convergence", "no-lost-writes"]}}
    return parse_spec(data, "<test>", INVARIANTS)


def _final_values(system, state):
    return tuple(tuple(system.visible(state, l, k) for k in range(len(system.keys))) for l in range(system.n))


@pytest.mark.parametrize("kind,n,per", [("pn-counter", 2, 2), ("g-counter", 3, 1), ("escrow", 3, 1),
                                         ("escrow", 2, 3), ("pn-counter", 3, 1), ("escrow", 2, 2)])
def test_counters_commit_from_their_own_entries_so_every_reduction_applies_and_agrees(kind, n, per):
    """docs/reductions.md "Counters and escrow": a commit reads the leader's
    own slots from the write table, so busy leaders' contents are dead; the
    final values judged are exactly the plain system's, and the verdicts
    (anomaly kinds included) agree."""
    spec = _counter_spec(kind, n, per)
    on, off = check(spec), check(spec, options=PLAIN)
    assert on.complete and off.complete
    assert [(r.invariant, r.verdict, r.anomalies) for r in on.results] == \
        [(r.invariant, r.verdict, r.anomalies) for r in off.results]
    assert any("dead busy-leader content" in x for x in on.reductions), on.reductions
    assert on.stats.states < off.stats.states
    plain = System(spec)
    full = {_final_values(plain, s) for s in _quiescent(plain)}
    red = planner.reduced(spec, spec.invariants, False, Options())[0]
    assert {_final_values(red, img) for rep in _quiescent(red) for img in red.images(rep)} == full


def test_escrow_with_a_transfer_still_reads_content_and_keeps_dead_content_off():
    spec = _counter_spec("escrow", 2, 2, extra_ops=[{"id": "give", "leader": "us-east", "key": "stock",
                                                     "transfer": {"to": "eu-west", "n": 1}}])
    probe = System(spec)
    probe = force(probe, por=True)
    assert not dead_content.applicable(probe)[0]
    on, off = check(spec), check(spec, options=PLAIN)
    assert [(r.invariant, r.verdict) for r in on.results] == [(r.invariant, r.verdict) for r in off.results]


def test_seeded_bug_a_counter_reading_a_stale_slot_is_caught():
    """The own-slot rule is shared by the plain and the reduced engine, so
    agreement alone cannot catch a bug in it: the hand-known final value
    does (2 leaders x 2 increments of 1 from 0 = 4 everywhere)."""
    from replcheck.model.resolvers.counters import SlotMaxCounter
    spec = _counter_spec("g-counter", 2, 2)

    def finals():
        plain = System(spec)
        return {v.data for s in _quiescent(plain) for l in range(plain.n) for v in [plain.visible(s, l, 0)]}

    assert finals() == {(4,)}
    orig = SlotMaxCounter.own_slot
    try:
        SlotMaxCounter.own_slot = lambda self, j, writes: self._initial[j]
        assert finals() != {(4,)}
    finally:
        SlotMaxCounter.own_slot = orig


def test_leaders_with_different_escrow_rights_are_not_interchangeable():
    """Seeded in the first version of this change: symmetry renamed a leader
    with 2 rights into one with 1, judging a state no run reaches."""
    spec = _counter_spec("escrow", 2, 3)          # rights 2 / 1
    red = planner.reduced(spec, spec.invariants, False, Options())[0]
    assert red.symmetry is None
    even = _counter_spec("escrow", 2, 2, extra_ops=())  # initial 3 over 2: still 2 / 1
    assert planner.reduced(even, even.invariants, False, Options())[0].symmetry is None


def _escrow_sales_spec(initial=4):
    """Two leaders, one sale each of an escrow stock whose rights split
    evenly (2 / 2 from 4): the differential oracle's draft 100 of
    ``bench/differential.py --n 100 --seed 9101 --reducible`` on main."""
    from replcheck.model import parse_spec
    data = {"system": {"leaders": ["a", "b"], "topology": "all-to-all"},
            "keys": {"stock": {"type": "escrow", "initial": initial}},
            "workload": [{"id": "a0", "leader": "a", "key": "stock", "decr": 1},
                         {"id": "b0", "leader": "b", "key": "stock", "decr": 1}],
            "check": {"invariants": ["no-lost-writes"]}}
    return parse_spec(data, "<test>", INVARIANTS)


def test_symmetry_over_whole_leader_states_leaves_dead_escrow_contents_alone():
    """Regression: with the ghost kept, symmetry renames whole leader states
    (applied sets, causal pasts) and used to rename every key's content as
    a tuple of write indices.  Under dead busy-leader content a busy
    leader's content is its key type's initial one — for escrow the rights
    matrix and decrements, here 2 and 2 with only 2 ops — which names no
    write: ``canonical`` raised IndexError (and smaller numbers were
    silently renamed as if they were ops).  Those contents are now left
    as they are; the engine judges exactly the plain quiescent states."""
    spec = _escrow_sales_spec()
    judged, system = _judged(spec, ghost=True)
    sym = system.symmetry
    assert sym is not None and system.dead_content and system.symmetry_full
    initial = system.initial_state()
    assert sym.permute(initial, (1, 0)) == initial == sym.canonical(initial)
    assert judged == _plain_quiescent(spec, ghost=True)
    on, off = check(spec), check(spec, options=PLAIN)
    assert on.complete and off.complete
    assert [(r.invariant, r.verdict, r.anomalies) for r in on.results] == \
        [(r.invariant, r.verdict, r.anomalies) for r in off.results]


# ------------------------------------------- crash-only faults under the reductions
# docs/reductions.md "Crash-only faults": each reduced run first chooses the leaders that
# crash in it and keeps them whole; the others get every reduction.

def _crash_spec(n=3, per=1, faults=None, resolver="lww", clock="lamport", invariants=("convergence",
                                                                                        "no-lost-writes"),
                keys=None, ops=None):
    from replcheck.checks.invariants import INVARIANTS as INV
    from replcheck.model import parse_spec
    leaders = ["a", "b", "c", "d"][:n]
    if ops is None:
        ops = [{"id": f"{l}{i}", "leader": l, "key": "k", "set": f"{l}{i}"} for l in leaders for i in range(per)]
    data = {"system": {"leaders": leaders, "resolver": resolver, "clock": clock}, "workload": ops,
            "faults": faults or {"crashes": 1}, "check": {"invariants": list(invariants)}}
    if keys:
        data["keys"] = keys
    return parse_spec(data, "<test>", INV)


def _plain_quiescent(spec, ghost):
    return _quiescent(System(spec, ghost=ghost))


def _judged(spec, ghost, options=Options()):
    """The quiescent states the default engine judges, every image of each
    representative (with the reductions the planner chooses)."""
    reductions, _ = planner.choose(System(spec), ghost, True, options)
    system = build(spec, reductions)
    return {img for rep in _quiescent(system) for img in system.images(rep)}, system


CRASH_CASES = [
    dict(n=2, per=2),
    dict(n=3, per=1),
    dict(n=3, per=1, faults={"crashes": 2}),
    dict(n=3, per=1, faults={"crashes": 1, "crashable": ["b"]}),
    dict(n=3, per=1, faults={"crashes": 2, "crashable": ["b", "c"]}),
    dict(n=3, per=1, faults={"crashes": 1, "recoveries": True}),
    dict(n=2, per=2, faults={"crashes": 2, "recoveries": True}),
    dict(n=3, per=1, clock="wall"),
    dict(n=3, per=1, clock="hlc"),
    dict(n=3, per=1, resolver="mv-register"),
    dict(n=3, per=1, keys={"k": {"type": "pn-counter", "initial": 2}},
         ops=[{"id": f"{l}0", "leader": l, "key": "k", "incr": 1} for l in "abc"]),
    dict(n=3, per=1, ops=[{"id": "a0", "leader": "a", "key": "k", "set": "x"},
                          {"id": "b0", "leader": "b", "key": "k", "set": "y", "after": ["a0"]},
                          {"id": "c0", "leader": "c", "key": "k", "set": "z"}]),
    dict(n=3, per=1, ops=[{"id": "a0", "leader": "a", "key": "k", "set": "x", "time_ms": 10},
                          {"id": "b0", "leader": "b", "key": "k", "set": "y", "time_ms": 0},
                          {"id": "c0", "leader": "c", "key": "k", "set": "z"}], clock="wall"),
]


@pytest.mark.parametrize("case", CRASH_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()
                                                                      if k not in ("ops", "keys")))
@pytest.mark.parametrize("options", [Options(), Options(symmetry=False), Options(dead_variables=False)],
                         ids=["default", "no-symmetry", "no-dead-content"])
def test_crash_reduction_judges_exactly_the_plain_quiescent_states(case, options):
    """Under crash-only faults the reduced engine judges exactly the
    quiescent states plain runs reach — crashed leaders' frozen states
    included — with the ghost dropped and kept (docs/reductions.md,
    "Crash-only faults")."""
    spec = _crash_spec(**case)
    assert por.applicable(System(spec))[0]
    for ghost in (False, True):
        if not ghost and System(spec).ghost_needed_by_types():
            continue
        judged, system = _judged(spec, ghost, options)
        assert system.por and system.crash_por
        assert judged == _plain_quiescent(spec, ghost)


@pytest.mark.parametrize("case", CRASH_CASES[:8], ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()
                                                                          if k not in ("ops", "keys")))
def test_crash_reduced_paths_expand_to_plain_runs_of_the_claimed_length(case):
    """Every judged state is the end of a plain run rebuilt from its reduced
    path (the crash choice dropped, postponed and dead deliveries put back),
    and ``run_length`` is that run's length — what "shortest" rests on."""
    spec = _crash_spec(**case)
    base = System(spec)
    for options in (Options(), Options(symmetry=False)):
        reductions, _ = planner.choose(base, True, True, options)
        system = build(spec, reductions)
        for rep, path in _paths_to_quiescent(system).items():
            ends = {}
            for p in system.expansions(path):
                ends.setdefault(_replay(base, p), len(p))
            for img in system.images(rep):
                assert img in ends
                assert system.run_length(rep, len(path)) == ends[img]


def test_lww_three_leaders_one_crash_loses_a_write_in_five_steps():
    """Worked by hand: a and b commit concurrently (Lamport ts 1 each), c
    crashes before committing, a and b exchange their writes: the leader
    tie-break keeps b's write at both live leaders, so a's acknowledged
    write is lost — 2 commits + 1 crash + 2 deliveries = 5 steps, shorter
    than any crash-free counterexample (3 commits + 6 deliveries).  The
    reduced and the plain engine agree on the verdicts, the kinds and the
    shortest length."""
    spec = _crash_spec(3, 1, invariants=("convergence", "no-lost-writes", "durability"))
    on, off = check(spec), check(spec, options=PLAIN)
    assert any(n.startswith("por: ") and "crash" in n for n in on.reductions)
    for r in (on, off):
        v = {x.invariant: x for x in r.results}
        assert v["convergence"].verdict == "holds" and v["durability"].verdict == "holds"
        nlw = v["no-lost-writes"]
        assert nlw.verdict == "violated" and nlw.anomalies == ("lost-update",) and nlw.shortest
        assert len(nlw.trace) == 5
        assert [s.event.kind for s in nlw.trace.steps].count("crash") == 1
    assert on.stats.states < off.stats.states


def test_a_crash_freezes_the_crashed_leaders_state():
    """The crashed leader's state is what it had applied when it crashed —
    not everything (it never receives again), and every prefix is
    possible: with a, b each writing once and c (no writes) crashing, the
    judged states show c having applied nothing, a's write, b's write,
    or both."""
    ops = [{"id": "a0", "leader": "a", "key": "k", "set": "x"}, {"id": "b0", "leader": "b", "key": "k", "set": "y"}]
    spec = _crash_spec(3, ops=ops, faults={"crashes": 1, "crashable": ["c"]})
    judged, system = _judged(spec, False)
    from replcheck.model import state as st_
    seen = {st_.applied(s, 2) for s in judged if st_.crashed(s) == 4}
    assert seen == {0, 1, 2, 3}
    assert judged == _plain_quiescent(spec, False)


def _crash_oracle_spec():
    return {"system": {"leaders": ["a", "b", "c"], "resolver": "lww", "clock": "lamport"},
            "workload": [{"id": "a0", "leader": "a", "key": "k", "set": "1"},
                         {"id": "b0", "leader": "b", "key": "k", "set": "2"},
                         {"id": "c0", "leader": "c", "key": "k", "set": "x"}],
            "faults": {"crashes": 1}, "check": {"invariants": ["convergence", "no-lost-writes", "durability"]}}


def test_the_oracle_agrees_on_a_crash_spec():
    from tests.differential import oracle
    o = oracle.compare(_crash_oracle_spec(), ("reduced-vs-plain", "judged-reachable", "replay"))
    assert not o.disagreements and o.made["judged-reachable"] and o.tags["judged-reachable under crashes"]


def test_seeded_bug_forgetting_a_crashed_leaders_state_is_caught(monkeypatch):
    """Seeded: a leader is kept whole only until it crashes, then forgotten
    like a done one, so a crashed leader is rebuilt at quiescence as if it
    had received everything.  The oracle sees judged states no run
    reaches."""
    from replcheck.model import faults as fl
    from tests.differential import oracle
    from replcheck.model.reduced import Reduced
    real = Reduced._kept_whole

    def until_crashed(self, faults):
        return real(self, faults) & ~(faults[0] if faults else 0)
    monkeypatch.setattr(Reduced, "_kept_whole", until_crashed)
    assert fl.DOOMED
    o = oracle.compare(_crash_oracle_spec(), ("judged-reachable",))
    assert any(d.comparison == "judged-reachable" for d in o.disagreements), o.disagreements


def test_seeded_bug_a_crash_that_also_drops_sent_messages_is_caught(monkeypatch):
    """Seeded: por forced on with ``lose_unsent``, where a crash also
    disables deliveries *from* the crashed leader (to leaders whose
    deliveries the reduction postponed).  The oracle sees reachable
    states never judged."""
    from tests.differential import oracle
    monkeypatch.setattr(por, "crash_only", lambda system: (True, ""))
    data = _crash_oracle_spec()
    data["faults"] = {"crashes": 1, "lose_unsent": True}
    o = oracle.compare(data, ("judged-reachable", "reduced-vs-plain"))
    assert any(d.comparison == "judged-reachable" for d in o.disagreements), o.disagreements


def test_seeded_bug_a_crash_that_silences_its_leader_early_is_caught(monkeypatch):
    """Seeded: a leader chosen to crash receives nothing even before its
    crash (the crash disables deliveries it should not).  The oracle sees
    reachable states never judged: those where it received something
    first."""
    from replcheck.model import faults as fl
    from tests.differential import oracle
    from replcheck.model.reduced import Reduced
    monkeypatch.setattr(Reduced, "_deaf", staticmethod(lambda faults: faults[0] | (
        faults[fl.DOOMED] if len(faults) > fl.DOOMED else 0)))
    o = oracle.compare(_crash_oracle_spec(), ("judged-reachable",))
    assert any(d.comparison == "judged-reachable" and "never judged" in d.detail for d in o.disagreements), \
        o.disagreements
