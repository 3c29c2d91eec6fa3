"""Reductions never change a verdict: partial-order reduction (done-leader
elimination), fingerprints, and simulation's honesty."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replcheck.checks.verdict import Options, check, load
from replcheck.model import dead_content, por, symmetry
from replcheck.model.reduced import Reduced
from replcheck.model import Bounds, System, bfs
from replcheck.model.search import QUIESCENT, Property, simulate
from tests.conftest import SPECS, force, make_spec

ALL = sorted(p for p in SPECS.rglob("*.toml") if "answers" not in p.parts)


def _quiescent_states(system):
    seen = set()
    r = bfs(system, [Property("q", QUIESCENT, lambda s: seen.add(s))], Bounds(max_states=None, max_seconds=None))
    assert r.complete
    return seen, r.stats.states


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(SPECS)))
def test_every_spec_gives_the_same_verdicts_with_and_without_por(path):
    spec = load(path)
    if "python" in spec.requires:
        pytest.skip("runs Python; covered with --allow-python in test_specs")
    on = check(spec, options=Options(por=True))
    off = check(spec, options=Options(por=False, symmetry=False))
    no_sym = check(spec, options=Options(symmetry=False))
    # The set of anomaly kinds is engine-independent (docs/engine.md, "Anomaly
    # kinds"); the shown trace's own kind may differ with the search order.
    assert [(r.invariant, r.verdict, r.anomalies) for r in on.results] == \
        [(r.invariant, r.verdict, r.anomalies) for r in off.results] == \
        [(r.invariant, r.verdict, r.anomalies) for r in no_sym.results]


LEADERS = ("a", "b", "c")


@st.composite
def workloads(draw, resolvers=("lww", "mv-register")):
    n = draw(st.integers(1, 5))
    ops = []
    for i in range(n):
        op = {"id": f"w{i}", "leader": draw(st.sampled_from(LEADERS)), "key": draw(st.sampled_from(["k", "j"]))}
        if draw(st.integers(0, 5)) == 0:
            op["delete"] = True
        else:
            op["set"] = draw(st.sampled_from(["x", "y"]))
        if draw(st.booleans()):
            op["time_ms"] = draw(st.integers(0, 5))
        if i and draw(st.integers(0, 3)) == 0:
            op["after"] = [f"w{draw(st.integers(0, i - 1))}"]
        ops.append(op)
    system = {"resolver": draw(st.sampled_from(resolvers)), "clock": draw(st.sampled_from(["wall", "lamport", "hlc"]))}
    return ops, system


def _spec(ops, system):
    from replcheck.model.errors import SpecError
    try:
        return make_spec(LEADERS, ops, **system)
    except SpecError:
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_por_reaches_exactly_the_same_quiescent_states(case):
    spec = _spec(*case)
    if spec is None:
        return
    plain = System(spec)
    reduced = System(spec)
    ok, _ = por.applicable(reduced)
    if not ok:
        return
    reduced = force(reduced, por=True)
    full, n_full = _quiescent_states(plain)
    red, n_red = _quiescent_states(reduced)
    assert red == full
    assert n_red <= n_full


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_por_never_changes_a_verdict_on_random_specs(case):
    spec = _spec(*case)
    if spec is None:
        return
    on = check(spec, options=Options(por=True))
    off = check(spec, options=Options(por=False))
    assert [(r.verdict, r.anomaly) for r in on.results] == [(r.verdict, r.anomaly) for r in off.results]
    for r in on.results:
        if r.trace is not None:  # a reduced counterexample is a real, complete run
            assert len(r.trace) == len(next(x for x in off.results if x.invariant == r.invariant).trace)


def test_seeded_bug_an_unsound_por_is_caught(monkeypatch):
    # apply-remote does not commute: c (no writes of its own) ends with
    # whichever write arrives last.  Pretending it commutes loses states.
    w = [{"leader": "a", "key": "k", "set": "x"}, {"leader": "b", "key": "k", "set": "y"}]
    spec = make_spec(LEADERS, w, resolver="apply-remote")
    plain, reduced = System(spec), System(spec)
    assert not por.applicable(reduced)[0]
    reduced = force(reduced, por=True)  # forced, unsound
    full, _ = _quiescent_states(plain)
    red, _ = _quiescent_states(reduced)
    assert red != full


def _reduced(spec, dead_content=False, symmetry=False, ghost=False, absorb=False):
    from replcheck.model.symmetry import Symmetry
    system = System(spec)
    system = force(system, ghost=ghost)
    system = force(system, por=True, absorb=absorb)
    system = force(system, dead_content=dead_content)
    if symmetry:
        system = force(system, symmetry=Symmetry(system))
    return system


def test_each_reduction_on_b1_keeps_the_quiescent_states():
    """B1 = 3 leaders x 2 writes, all-to-all, lww over lamport, convergence."""
    w = [{"leader": l, "key": "k", "set": f"{l}{i}"} for l in LEADERS for i in (1, 2)]
    spec = make_spec(LEADERS, w, resolver="lww", clock="lamport", invariants=["convergence"])
    plain = Options(por=False, dead_variables=False, symmetry=False)
    on, off = check(spec, options=Options(dead_variables=False)), check(spec, options=plain)
    assert (off.stats.states, off.stats.quiescent) == (312_192, 2_827)
    # por (ghost kept), deliveries to busy leaders absorbed at their next commit
    assert (on.stats.states, on.stats.quiescent) == (4_533, 2_827)
    assert any(r.startswith("por: ") for r in on.reductions)
    assert any(r.startswith("deliveries to a busy leader absorbed") for r in on.reductions)
    q_ghost, _ = _quiescent_states(force(System(spec), ghost=True))
    q, n = _quiescent_states(_reduced(spec, ghost=True))
    assert (n, len(q)) == (14_619, 2_827) and q == q_ghost      # without absorbing
    q, n = _quiescent_states(_reduced(spec, ghost=True, absorb=True))
    assert (n, len(q)) == (4_533, 2_827) and q == q_ghost
    # Ghost dropped: states that differed only there merge (2,827 -> 409 quiescent).
    ghostless = System(spec)
    ghostless = force(ghostless, ghost=False)
    q_plain, _ = _quiescent_states(ghostless)
    q, n = _quiescent_states(_reduced(spec))
    assert (n, len(q)) == (5_157, 409) and q == q_plain
    q, n = _quiescent_states(_reduced(spec, absorb=True))
    assert (n, len(q)) == (1_275, 409) and q == q_plain
    # A busy leader is only its clock; dead messages dropped: the same 409.
    q, n = _quiescent_states(_reduced(spec, dead_content=True))
    assert (n, len(q)) == (2_091, 409) and q == q_plain
    q, n = _quiescent_states(_reduced(spec, dead_content=True, absorb=True))
    assert (n, len(q)) == (903, 409) and q == q_plain
    # One state per orbit of the 3! renamings: 75 representatives stand for the 409.
    sym = _reduced(spec, dead_content=True, symmetry=True)
    q, n = _quiescent_states(sym)
    assert (n, len(q)) == (373, 75)
    assert {img for s in q for img in sym.images(s)} == q_plain
    sym = _reduced(spec, dead_content=True, symmetry=True, absorb=True)
    q, n = _quiescent_states(sym)
    assert (n, len(q)) == (167, 75)
    assert {img for s in q for img in sym.images(s)} == q_plain
    both = check(spec)
    assert both.stats.states == 167 and any(r.startswith("symmetry over") for r in both.reductions)
    assert [r.verdict for r in both.results] == [r.verdict for r in off.results] == ["holds"]


@st.composite
def shaped_workloads(draw, resolvers=("lww",)):
    """All-to-all specs whose leaders often share a workload shape."""
    n = draw(st.integers(2, 4))
    leaders = LEADERS + ("d",)
    per = draw(st.lists(st.integers(0, 2), min_size=1, max_size=2))
    keys = [draw(st.sampled_from(["k", "j"])) for _ in range(2)]
    ops = []
    for l in leaders[:n]:
        count = per[0] if draw(st.integers(0, 3)) else per[-1]
        for i in range(count):
            key = keys[i] if draw(st.integers(0, 3)) else draw(st.sampled_from(["k", "j"]))
            op = {"leader": l, "key": key, "set": draw(st.sampled_from(["x", "y", l]))}
            if draw(st.integers(0, 5)) == 0:
                op = {"leader": l, "key": key, "delete": True}
            ops.append(op)
    ops = ops[:4]   # the plain system is explored too: keep it small
    if not ops:
        ops.append({"leader": "a", "key": "k", "set": "x"})
    system = {"resolver": draw(st.sampled_from(resolvers)), "clock": draw(st.sampled_from(["wall", "lamport", "hlc"]))}
    if system["resolver"] == "lww":
        system["tie_break"] = draw(st.sampled_from(["leader", "value"]))
    if draw(st.booleans()):
        system["offsets"] = {"a": draw(st.sampled_from([0, 2]))}
    try:
        return make_spec(leaders[:n], ops, **system)
    except Exception:  # an invalid combination: skip it
        return None


def _ghostless(spec):
    system = System(spec)
    system = force(system, ghost=False)
    return system


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads())
def test_dead_content_and_symmetry_keep_exactly_the_quiescent_states(spec):
    if spec is None:
        return
    base = _ghostless(spec)
    if not por.applicable(base)[0]:
        return
    full, n_full = _quiescent_states(base)
    dead = _reduced(spec, dead_content=True)
    assert dead_content.applicable(dead)[0]
    q, n = _quiescent_states(dead)
    assert q == full and n <= n_full
    if symmetry.applicable(dead)[0]:
        sym = _reduced(spec, dead_content=True, symmetry=True)
        reps, n_sym = _quiescent_states(sym)
        assert {img for s in reps for img in sym.images(s)} == full
        assert n_sym <= n


def _paths_to_quiescent(system):
    """Every quiescent state of a (small) system with one path to it."""
    from replcheck.model.search import is_quiescent
    init = system.initial_state()
    paths = {init: ()}
    frontier = [init]
    out = {}
    while frontier:
        nxt = []
        for s in frontier:
            succ = system.successors(s)
            if is_quiescent(system, succ):
                out[s] = paths[s]
            for a, t in succ:
                if t not in paths:
                    paths[t] = paths[s] + (a,)
                    nxt.append(t)
        frontier = nxt
    return out


def _replay(system, path):
    state = system.initial_state()
    for a in path:
        state = system.step(state, a)
    return state


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads())
def test_every_reduced_quiescent_state_expands_to_a_real_run(spec):
    """Counterexamples are rebuilt from reduced paths: each image of each
    quiescent representative must be the end of a real primitive run."""
    if spec is None:
        return
    base = _ghostless(spec)
    if not por.applicable(base)[0]:
        return
    sym = _reduced(spec, dead_content=True, symmetry=True)
    if not symmetry.applicable(sym)[0]:
        sym = force(sym, symmetry=None)
    for rep, path in list(_paths_to_quiescent(sym).items())[:8]:
        ends = {_replay(base, p) for p in sym.expansions(path)}
        assert set(sym.images(rep)) <= ends


def _whole_state_symmetry(spec):
    from replcheck.model.symmetry import Symmetry
    system = System(spec)
    system = force(system, por=True)
    if not symmetry.applicable(system)[0]:
        return None
    system = force(system, symmetry=Symmetry(system, full=True))
    return system


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads(resolvers=("mv-register",)))
def test_whole_state_symmetry_keeps_exactly_the_quiescent_states(spec):
    """mv-register keeps the ghost (siblings are decided by it), so leader
    states are permuted whole; the images are exactly the plain quiescent
    states, and each is the end of an expanded real run."""
    if spec is None:
        return
    sym = _whole_state_symmetry(spec)
    if sym is None:
        return
    full, n_full = _quiescent_states(System(spec))
    reps, n = _quiescent_states(sym)
    assert {img for s in reps for img in sym.images(s)} == full
    assert n <= n_full
    base = System(spec)
    for rep, path in list(_paths_to_quiescent(sym).items())[:5]:
        assert set(sym.images(rep)) <= {_replay(base, p) for p in sym.expansions(path)}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads(resolvers=("mv-register",)))
def test_whole_state_images_renamed_after_rebuilding_equal_images_rebuilt_one_by_one(spec):
    """System.images under whole-state symmetry rebuilds the representative's
    done leaders once and renames the result (issue 18 item 3); that is the
    set of rebuilding each renamed representative, the way it was computed
    before — rebuilding commutes with a renaming."""
    if spec is None:
        return
    sym = _whole_state_symmetry(spec)
    if sym is None:
        return
    reps, _ = _quiescent_states(sym)
    for rep in reps:
        one_by_one = {sym._materialize(t) for t in sym.symmetry.orbit(sym._unmaterialize(rep))}
        assert set(sym.images(rep)) == one_by_one


def test_whole_state_symmetry_needs_renaming_safe_types():
    w = [{"leader": l, "key": "k", "set": l} for l in LEADERS]
    lww = System(make_spec(LEADERS, w, resolver="lww", clock="lamport"))
    lww = force(lww, por=True)   # ghost kept, no dead content: the lww tie-break names leaders
    ok, why = symmetry.applicable(lww)
    assert not ok and "tie-break" in why
    assert _whole_state_symmetry(make_spec(LEADERS, w, resolver="mv-register")) is not None


def test_seeded_bug_unsound_symmetry_is_caught():
    # Under wall clocks a leader's offset decides who wins: a and b are not
    # interchangeable.  Forcing them into one class loses quiescent states.
    from replcheck.model.symmetry import Symmetry
    w = [{"leader": "a", "key": "k", "set": "x"}, {"leader": "b", "key": "k", "set": "y"}]
    spec = make_spec(("a", "b"), w, resolver="lww", clock="wall", offsets={"a": 5})
    sym = _reduced(spec, dead_content=True)
    assert not symmetry.applicable(sym)[0]
    forced = Symmetry(sym)
    forced.classes, forced.cls = ((0, 1),), [0, 0]
    sym = force(sym, symmetry=forced)
    full, _ = _quiescent_states(_ghostless(spec))
    reps, _ = _quiescent_states(sym)
    assert {img for s in reps for img in sym.images(s)} != full


def test_seeded_bug_dead_content_under_a_read_modify_write_is_caught():
    # An increment reads the value its leader shows: that content is live.
    w = [{"leader": "a", "key": "n", "incr": 1}, {"leader": "b", "key": "n", "incr": 1},
         {"leader": "b", "key": "n", "incr": 1}]
    spec = make_spec(("a", "b"), w, resolver="lww", clock="lamport")
    dead = _reduced(spec, dead_content=True)
    assert not dead_content.applicable(dead)[0]
    full, _ = _quiescent_states(_ghostless(spec))
    q, _ = _quiescent_states(dead)
    assert q != full


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads(resolvers=("lww",)))
def test_dropping_dead_ghosts_never_changes_a_convergence_verdict(case):
    ops, system = case
    spec = _spec(ops, {**system, "invariants": ["convergence", "strong-convergence"]})
    if spec is None:
        return
    a = check(spec, options=Options(por=False, dead_variables=True))
    b = check(spec, options=Options(por=False, dead_variables=False))
    assert [(r.verdict, r.anomaly) for r in a.results] == [(r.verdict, r.anomaly) for r in b.results]
    assert a.stats.states <= b.stats.states


@pytest.mark.parametrize("kwargs,reason", [
    (dict(invariants=["strong-convergence"]), "every state"),
    (dict(topology="ring"), "forwards"),
    (dict(resolver="keep-local"), "order-independent"),
])
def test_por_is_off_where_it_would_be_unsound(kwargs, reason):
    w = [{"leader": "a", "key": "k", "set": "x"}, {"leader": "b", "key": "k", "set": "y"}]
    spec = make_spec(LEADERS, w, **kwargs)
    report = check(spec)
    por = [r for r in report.reductions if r.startswith("por")]
    assert por and por[0].startswith("por off") and reason in por[0]


@pytest.mark.parametrize("faults,system,reason", [
    ({"partitions": 1}, {}, "partition"),
    ({"crashes": 1, "lose_unsent": True}, {}, "lose_unsent"),
    ({"clock_jumps": {"a": 20}}, {"clock": "wall"}, "clock jump"),
    ({"crashes": 1}, {"links": "unordered"}, "unordered link"),
    ({"crashes": 1}, {"links": "duplicating"}, "duplicating link"),
    ({"crashes": 1}, {"topology": "ring"}, "forwards"),
])
def test_faults_other_than_crashes_turn_por_off(faults, system, reason):
    """docs/reductions.md "Crash-only faults": only crash-only faults on FIFO
    all-to-all links keep por on; everything else says why it is off."""
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    spec = parse_spec({"system": {"leaders": list(LEADERS), **system},
                       "workload": [{"leader": "a", "key": "k", "set": "x"}], "faults": faults}, "<t>", INVARIANTS)
    ok, why = por.applicable(System(spec))
    assert not ok and reason in why


def test_crashes_with_recovery_under_real_time_turn_por_off():
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    spec = parse_spec({"system": {"leaders": list(LEADERS)},
                       "workload": [{"leader": "a", "key": "k", "set": "x", "time_ms": 10}],
                       "faults": {"crashes": 1, "recoveries": True}}, "<t>", INVARIANTS)
    ok, why = por.applicable(System(spec))
    assert not ok and "time_ms" in why


@pytest.mark.parametrize("faults", [{"crashes": 1}, {"crashes": 2, "crashable": ["a", "b"]},
                                    {"crashes": 1, "recoveries": True}])
def test_crash_only_faults_keep_por_on(faults):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    spec = parse_spec({"system": {"leaders": list(LEADERS)}, "workload": [{"leader": "a", "key": "k", "set": "x"}],
                       "faults": faults}, "<t>", INVARIANTS)
    ok, why = por.applicable(System(spec))
    assert ok and "crash" in why
    report = check(spec)
    assert any(n.startswith("por: ") and "crash" in n for n in report.reductions)



def test_symmetry_under_crashes_keeps_crashable_and_other_leaders_apart():
    """docs/reductions.md "Crash-only faults": a renaming must map the
    leaders that may crash onto themselves."""
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    w = [{"leader": l, "key": "k", "set": l} for l in LEADERS]
    for crashable, classes in ((None, ((0, 1, 2),)), (["a", "b"], ((0, 1), (2,)))):
        faults = {"crashes": 1} if crashable is None else {"crashes": 1, "crashable": crashable}
        spec = parse_spec({"system": {"leaders": list(LEADERS)}, "workload": w, "faults": faults,
                           "check": {"invariants": ["convergence"]}}, "<t>", INVARIANTS)
        report = check(spec)
        assert any(n.startswith("symmetry over interchangeable leaders") for n in report.reductions)
        from replcheck.checks import planner
        system = planner.reduced(spec, spec.invariants, False, Options())[0]
        assert system.symmetry.classes == classes


def test_fingerprints_give_the_same_counts_and_verdicts():
    spec = load(SPECS / "seed" / "alice-bob-lww.toml")
    a = check(spec, options=Options(fingerprint=True, por=False))
    b = check(spec, options=Options(por=False))
    assert a.stats.states == b.stats.states
    assert [r.verdict for r in a.results] == [r.verdict for r in b.results]
    assert any("64-bit" in r for r in a.reductions)


def test_simulation_finds_the_seed_violation_and_never_says_holds():
    spec = load(SPECS / "seed" / "alice-bob-lww.toml")
    r = check(spec, options=Options(simulate=200, seed=1))
    v = {x.invariant: x.verdict for x in r.results}
    assert v == {"convergence": "incomplete", "no-lost-writes": "violated"}
    spec = load(SPECS / "seed" / "alice-bob-mv-register.toml")
    r = check(spec, options=Options(simulate=50, seed=1))
    assert {x.verdict for x in r.results} == {"incomplete"}
    assert all(x.bound == "simulation" for x in r.results)


def test_simulation_is_reproducible_by_seed():
    spec = load(SPECS / "faults" / "ring-crash.toml")
    system = System(spec)
    from replcheck.checks.invariants import INVARIANTS
    props = [INVARIANTS["convergence"].property(system)]
    a = simulate(system, props, 30, seed=7)
    b = simulate(system, props, 30, seed=7)
    assert a.found.keys() == b.found.keys()
    assert [f.path for f in a.found.values()] == [f.path for f in b.found.values()]


def test_parallel_swarm_finds_the_violation_and_stays_honest():
    spec = load(SPECS / "seed" / "alice-bob-lww.toml")
    r = check(spec, options=Options(simulate=60, seed=2, workers=2))
    v = {x.invariant: (x.verdict, x.anomaly) for x in r.results}
    assert v == {"convergence": ("incomplete", None), "no-lost-writes": ("violated", "lost-update")}
    assert r.results[1].trace is not None and len(r.results[1].trace) == 6
    assert r.stats.quiescent == 60   # every run of every worker reached quiescence


def test_local_checks_keep_a_busy_leaders_content_alive():
    # Review regression: a unique check on an lww key reads what the leader
    # shows when it commits, so the content is live: dead content must not
    # apply (it used to, through the wrapper delegating stamp_reads_content).
    w = [{"leader": "a", "key": "k", "insert": "x"}, {"leader": "b", "key": "k", "set": "y"},
         {"leader": "b", "key": "k", "insert": "z"}]
    spec = make_spec(("a", "b"), w, resolver="lww", clock="lamport", invariants=["convergence"])
    system = _ghostless(spec)
    assert por.applicable(system)[0]
    ok, why = dead_content.applicable(system)
    assert not ok and "reads its leader's content" in why
    full, _ = _quiescent_states(system)
    assert _quiescent_states(_reduced(spec))[0] == full
    assert not System(spec).types[0].renaming_safe


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20).flatmap(lambda n: st.tuples(st.permutations(range(n)),
                                                        st.integers(0, (1 << n) - 1))))
def test_renaming_a_mask_by_byte_tables_equals_renaming_it_bit_by_bit(case):
    """Symmetry._bits (a table lookup per byte) renames an op bitmask as the
    bit-by-bit reference does, for masks over 1..20 ops."""
    from replcheck.model.symmetry import Symmetry, _bits_slow
    om, mask = tuple(case[0]), case[1]
    sym = Symmetry.__new__(Symmetry)
    sym._byte_tables = {}
    assert sym._bits(mask, om) == _bits_slow(mask, om)


# -- judging one image where every image's leaders are alike (System.rebuilt_alike)

def _planned(spec, names=("convergence",)):
    """The system the planner's first search explores for ``names``."""
    from replcheck.checks import planner
    return planner.plan(spec, list(names), "bfs", Options()).searches[0].system


def _alike_claims(system):
    """(representatives claimed alike, all judged): every image of a claimed
    one has one leader state at its live leaders; and no other reachable
    state (busy, not quiescent) is claimed alike unless that holds there too."""
    from replcheck.model import state as st_
    from replcheck.model.search import EVERY
    reps, _ = _quiescent_states(system)
    claimed = 0
    for rep in reps:
        if system.rebuilt_alike(rep):
            claimed += 1
            for img in system.images(rep):
                assert len({st_.leaders(img)[l] for l in system.live(img)}) == 1, (rep, img)
    seen = set()
    bfs(system, [Property("all", EVERY, lambda s: seen.add(s))], Bounds(max_states=None, max_seconds=None))
    for s in seen - reps:
        if system.rebuilt_alike(s):
            leaders = st_.leaders(system._materialize(system._unmaterialize(s)))
            assert len({leaders[l] for l in system.live(s)}) == 1, s
    return claimed, len(reps)


def _crash_spec(n=3, crashes=1, recoveries=False):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    leaders = list(LEADERS + ("d",))[:n]
    data = {"system": {"leaders": leaders, "resolver": "lww", "clock": "lamport"},
            "workload": [{"leader": l, "key": "k", "set": l} for l in leaders],
            "faults": {"crashes": crashes, **({"recoveries": True} if recoveries else {})}}
    return parse_spec(data, "<test>", INVARIANTS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads(resolvers=("lww", "mv-register")))
def test_representatives_claimed_alike_have_alike_leaders_in_every_image(spec):
    if spec is None:
        return
    system = _planned(spec)
    if system.symmetry is None:
        return
    _alike_claims(system)


def test_without_faults_every_lww_representative_is_alike():
    """B1 (lww 3x2, no fault): at quiescence every leader is done and rebuilt
    from every committed write, so all 75 representatives are claimed."""
    assert _alike_claims(_planned(load(SPECS.parent / "bench" / "specs" / "B1.toml"))) == (75, 75)


@pytest.mark.parametrize("kw", [dict(), dict(crashes=2), dict(recoveries=True), dict(n=4)],
                         ids=["crash", "two-crashes", "crash-recovers", "4-leaders"])
def test_under_crashes_every_representative_is_alike_at_its_live_leaders(kw):
    system = _planned(_crash_spec(**kw))
    assert system.symmetry is not None and system.crash_por
    claimed, reps = _alike_claims(system)
    # a crashed leader is kept whole but is not live: every representative is alike
    assert claimed == reps > 0, (claimed, reps)


def test_seeded_bug_claiming_every_state_alike_is_caught(monkeypatch):
    """A rebuilt_alike that does not ask whether the live leaders were
    forgotten claims busy states whose leaders differ (one has committed,
    another not yet): the structural check above must fail."""
    system = _planned(_crash_spec())
    monkeypatch.setattr(Reduced, "rebuilt_alike", lambda self, state: self.por)
    with pytest.raises(AssertionError):
        _alike_claims(system)


@pytest.mark.parametrize("spec", [
    pytest.param(lambda: load(SPECS.parent / "bench" / "specs" / "B1.toml"), id="B1"),
    pytest.param(lambda: load(SPECS.parent / "bench" / "specs" / "B2.toml"), id="B2"),
    pytest.param(lambda: _crash_spec(), id="lww-3x1-crash"),
    pytest.param(lambda: _crash_spec(n=4, recoveries=True), id="lww-4x1-crash-recovers"),
])
def test_judging_one_image_of_alike_representatives_changes_no_report(spec, monkeypatch):
    spec = spec()
    short = check(spec)
    monkeypatch.setattr(Reduced, "rebuilt_alike", lambda self, state: False)
    every = check(spec)
    assert short.stats.states == every.stats.states
    for a, b in zip(short.results, every.results):
        assert (a.invariant, a.verdict, a.anomalies, a.anomalies_complete, a.vacuous, a.shortest) == \
               (b.invariant, b.verdict, b.anomalies, b.anomalies_complete, b.vacuous, b.shortest)
        assert (a.trace is None) == (b.trace is None) and (a.trace is None or len(a.trace) == len(b.trace))
