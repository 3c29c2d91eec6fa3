"""Absorbed deliveries (model/por.py ``_successors_absorb``) and dropped
timestamps (``System(spec, stamps=False)``): the judged states are the
plain model's, every reduced path expands to a real run of the same
length, seeded bugs are caught (docs/reductions.md "Absorbed deliveries",
"Dead timestamps")."""

import pytest
from hypothesis import HealthCheck, given, settings

from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import Options, check
from replcheck.model import faults as fl
from replcheck.model import parse_spec, por
from replcheck.model.reduced import Reduced
from replcheck.model.state import LINKS
from replcheck.model.system import System
from tests.conftest import force, make_spec
from tests.model.test_reductions import (_paths_to_quiescent, _quiescent_states, _reduced, _replay, _spec,
                                         shaped_workloads, workloads)


def _absorbing(spec, ghost=True, **flags):
    system = System(spec)
    if not (por.applicable(system)[0] and por.absorbable(system)[0]):
        return None
    return _reduced(spec, ghost=ghost, absorb=True, **flags)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_absorbing_reaches_exactly_the_plain_quiescent_states(case):
    spec = _spec(*case)
    if spec is None:
        return
    reduced = _absorbing(spec)
    if reduced is None:
        return
    assert reduced.absorb
    full, _ = _quiescent_states(System(spec))
    red, _ = _quiescent_states(reduced)
    assert red == full
    # every reduced path is a real run of the plain model, of the run length
    # the search charges for it (System.run_length)
    plain = System(spec)
    for end, path in list(_paths_to_quiescent(reduced).items())[:6]:
        (run,) = reduced.expansions(path)
        assert _replay(plain, run) == end
        assert len(run) == reduced.run_length(end, len(path))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads())
def test_absorbing_under_dead_content_and_symmetry_keeps_the_quiescent_states(spec):
    if spec is None:
        return
    from replcheck.model import symmetry
    from replcheck.model.symmetry import Symmetry
    reduced = _absorbing(spec, ghost=False, dead_content=True)
    if reduced is None:
        return
    base = force(System(spec), ghost=False)
    full, _ = _quiescent_states(base)
    red, _ = _quiescent_states(reduced)
    assert red == full
    if symmetry.applicable(reduced)[0]:
        sym = force(reduced, symmetry=Symmetry(reduced, dead_regs=True))
        reps, _ = _quiescent_states(sym)
        assert {img for s in reps for img in sym.images(s)} == full
        for rep, path in list(_paths_to_quiescent(sym).items())[:5]:
            assert set(sym.images(rep)) <= {_replay(base, p) for p in sym.expansions(path)}


def _b1():
    w = [{"leader": l, "key": "k", "set": f"{l}{i}"} for l in ("a", "b", "c") for i in (1, 2)]
    return make_spec(("a", "b", "c"), w, resolver="lww", clock="lamport", invariants=["convergence"])


def test_seeded_bug_absorbing_only_whole_queues_is_caught(monkeypatch):
    """A commit that takes every message waiting for it (never a prefix)
    loses the runs where a leader commits before some of them arrive."""
    spec = _b1()
    full, _ = _quiescent_states(force(System(spec), ghost=True))
    real = Reduced._successors_absorb

    def whole_queues_only(self, state, settle):
        links = state[LINKS]

        def takes_all(a):
            if a >= self.nops and fl.kind_of(a) == 0:
                return True                       # a delivery left over at the end
            i, counts = (a, (0,) * fl.ABSORB_LEADERS) if a < self.nops else fl.absorbed(a)
            return all(counts[s] == len(links[j]) for j, s in self._in_senders[self.ops[i].origin])
        return [(a, t) for a, t in real(self, state, settle) if takes_all(a)]
    monkeypatch.setattr(Reduced, "_successors_absorb", whole_queues_only)
    red, _ = _quiescent_states(_reduced(spec, ghost=True, absorb=True))
    assert red < full


def test_absorb_codes_round_trip_and_rename():
    a = fl.absorb_code(5, (0, 2, 0, 3))
    assert fl.kind_of(a) == fl.ABSORB and fl.absorbed(a) == (5, (0, 2, 0, 3, 0, 0, 0))
    assert fl.kind_of(fl.code(fl.CRASH, 3)) == fl.CRASH and fl.kind_of(7) == 0
    sym_spec = _b1()
    from replcheck.model.symmetry import Symmetry
    m = _reduced(sym_spec, dead_content=True, absorb=True)
    sym = Symmetry(m, dead_regs=True)
    p = (1, 2, 0)
    b = sym.permute_action(fl.absorb_code(0, (0, 1, 2)), p)
    i, counts = fl.absorbed(b)
    assert i == sym.opmap(p)[0] and counts[:3] == (2, 0, 1)


@pytest.mark.parametrize("data, why", [
    ({"faults": {"crashes": 1}}, "faults"),
    ({"workload_time": True}, "time_ms"),
])
def test_absorbing_is_off_under_faults_and_real_time(data, why):
    w = [{"id": "a1", "leader": "a", "key": "k", "set": "x"}, {"id": "b1", "leader": "b", "key": "k", "set": "y"}]
    if data.get("workload_time"):
        w[0]["time_ms"] = 5
    spec = {"system": {"leaders": ["a", "b"], "resolver": "lww", "clock": "lamport"}, "workload": w}
    if "faults" in data:
        spec["faults"] = data["faults"]
    ok, reason = por.absorbable(System(parse_spec(spec, "<test>", INVARIANTS)))
    assert not ok and why in reason


# ------------------------------------------------------------- dead timestamps
def _mv(values=("x", "y", "z"), **system):
    w = [{"id": f"{l}1", "leader": l, "key": "k", "set": v} for l, v in zip(("a", "b", "c"), values)]
    return make_spec(("a", "b", "c"), w, resolver="mv-register", invariants=["convergence", "no-lost-writes"],
                     **system)


def test_stamps_are_dropped_only_where_nothing_reads_them():
    assert not System(_mv()).stamps_needed()                       # wall clock, mv-register
    assert System(_mv(clock="lamport")).stamps_needed()              # a Lamport stamp moves leader clocks
    lww = make_spec(("a", "b"), [{"leader": "a", "key": "k", "set": "x"}], resolver="lww", clock="wall")
    assert System(lww).stamps_needed()                               # lww reads them
    with pytest.raises(ValueError):
        System(lww, stamps=False)
    report = check(_mv())
    assert any(n.startswith("timestamps dropped") for n in report.reductions)
    off = check(_mv(), options=Options(dead_variables=False))
    assert not any(n.startswith("timestamps dropped") for n in off.reductions)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_workloads(resolvers=("mv-register",)))
def test_the_stamp_free_model_reduces_exactly_like_the_stamp_free_plain_model(spec):
    if spec is None or System(spec).stamps_needed():
        return
    plain = System(spec, stamps=False)
    full, n_full = _quiescent_states(plain)
    with_stamps, n_stamps = _quiescent_states(System(spec))
    assert n_full <= n_stamps
    # the same verdicts with and without stamps, every reduction on and off
    on = check(spec)
    off = check(spec, options=Options(por=False, dead_variables=False, symmetry=False))
    assert [(r.invariant, r.verdict, r.anomalies) for r in on.results] == \
        [(r.invariant, r.verdict, r.anomalies) for r in off.results]


def test_a_counterexample_found_without_stamps_shows_the_real_ones():
    """An oversell on a PN-counter (no key type reads the clock): the search
    runs without stamps, the trace is replayed with them."""
    data = {"system": {"leaders": ["a", "b"]}, "keys": {"stock": {"type": "pn-counter", "initial": 1}},
            "workload": [{"id": "a1", "leader": "a", "key": "stock", "sell": 1},
                         {"id": "b1", "leader": "b", "key": "stock", "sell": 1}],
            "check": {"invariants": ["stock-non-negative"]}}
    spec = parse_spec(data, "<test>", INVARIANTS)
    assert not System(spec).stamps_needed()
    report = check(spec)
    assert any(n.startswith("timestamps dropped") for n in report.reductions)
    (r,) = report.results
    assert r.verdict == "violated"
    commits = [step.event for step in r.trace.steps if step.event.kind == "commit"]
    assert len(commits) == 2 and sorted(e.ts for e in commits) == [(1,), (2,)]
