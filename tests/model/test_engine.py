"""The search engines: pinned state counts, bounds, BFS against DFS and
against an independent naive enumerator."""

import pytest

from replcheck.checks.verdict import Options, check
from replcheck.model import Bounds, System, bfs, dfs
from tests.conftest import make_spec, one_write_each
from tests import reference


def test_two_leaders_one_write_each_has_13_states_by_hand():
    # Phases per write: 0 not committed, 1 in flight, 2 delivered.  Pairs
    # (pa, pb) give 9 phase states; where a write is delivered to the other
    # leader before that leader commits, its write happens-after it (and
    # its Lamport stamp is 2): (1,2) and (2,1) come in 2 versions, (2,2) in
    # 3 (not both can have seen the other).  9 + 1 + 1 + 2 = 13; 3 are
    # quiescent.
    s = System(one_write_each(2, resolver="lww", clock="lamport"))
    r = bfs(s, [])
    assert (r.stats.states, r.stats.quiescent, r.complete) == (13, 3, True)


def test_wall_clock_commit_index_time_adds_the_commit_order():
    # Without time_ms, real time is the commit index, so which write
    # committed first is part of the state: 4 more states than with Lamport
    # (both-committed phase states that admit either order: (1,1), (1,2)
    # and (2,1) without a causal flag, (2,2) with none).
    r = bfs(System(one_write_each(2, resolver="lww", clock="wall")), [])
    assert (r.stats.states, r.stats.quiescent) == (17, 4)


@pytest.mark.parametrize("resolver,clock,states,quiescent", [
    ("lww", "lamport", 557, 19),
    ("lww", "wall", 1405, 42),
    ("mv-register", "wall", 1405, 42),
])
def test_three_leaders_one_write_each_counts_are_pinned(resolver, clock, states, quiescent):
    spec = one_write_each(3, resolver=resolver, clock=clock)
    r = bfs(System(spec), [])
    assert (r.stats.states, r.stats.quiescent) == (states, quiescent)
    # ... and an independent naive enumerator agrees on the count.
    n, q = reference.explore(spec)
    assert (n, len(q)) == (states, quiescent)


def test_bfs_and_dfs_visit_the_same_states_and_agree_on_verdicts():
    spec = make_spec(("a", "b", "c"), [
        {"leader": "a", "key": "k", "set": "1"}, {"leader": "a", "key": "k", "set": "2"},
        {"leader": "b", "key": "k", "set": "3"}, {"leader": "c", "key": "j", "set": "4"},
    ], resolver="lww", clock="lamport")
    b, d = check(spec, engine="bfs", options=Options(por=False)), check(spec, engine="dfs")
    assert b.stats.states == d.stats.states or not (b.complete and d.complete)
    assert [r.verdict for r in b.results] == [r.verdict for r in d.results]
    full_b, full_d = bfs(System(spec), []), dfs(System(spec), [])
    assert full_b.stats.states == full_d.stats.states
    assert full_b.stats.quiescent == full_d.stats.quiescent


def test_max_states_cuts_the_search_and_says_so():
    spec = one_write_each(3, resolver="lww", clock="lamport").with_bounds(max_states=50)
    report = check(spec, invariants=["convergence"], options=Options(por=False))
    assert report.results[0].verdict == "incomplete"
    assert report.results[0].bound == "max_states"
    assert report.stats.states == 50


def test_max_depth_cuts_the_search_and_says_so():
    # max_depth counts the searched model's steps: with por, deliveries absorbed
    # at a commit are not steps of their own, so three commits are the whole run
    # there (docs/spec-format.md); two cut it, and the plain model's three do.
    spec = one_write_each(3, resolver="mv-register").with_bounds(max_depth=2)
    report = check(spec, invariants=["convergence"])
    assert (report.results[0].verdict, report.results[0].bound) == ("incomplete", "max_depth")
    spec = one_write_each(3, resolver="mv-register").with_bounds(max_depth=3)
    report = check(spec, invariants=["convergence"], options=Options(por=False))
    assert (report.results[0].verdict, report.results[0].bound) == ("incomplete", "max_depth")
    assert check(spec, invariants=["convergence"]).results[0].verdict == "holds"   # nothing was cut


def test_a_violation_found_before_a_bound_is_still_violated():
    # DFS reaches quiescent states long before it has seen 100 states.  Wall
    # clocks: the kinds of lost write are not known in advance, so the search
    # does not stop once it has them (docs/engine.md) and the bound cuts it.
    spec = one_write_each(3, resolver="lww", clock="wall").with_bounds(max_states=100)
    report = check(spec, invariants=["no-lost-writes"], engine="dfs")
    assert report.cut == "max_states"
    assert report.results[0].verdict == "violated"


def test_max_seconds_is_honoured():
    spec = one_write_each(3, resolver="lww", clock="lamport")
    r = bfs(System(spec), [], Bounds(max_states=None, max_seconds=1e-9))
    # The deadline is looked at every 1024 expansions; this space is smaller,
    # so it may finish: either way the verdict must be honest.
    assert r.complete == (r.cut is None)


def test_progress_callback_is_called_on_long_runs():
    calls = []
    spec = make_spec(("a", "b", "c"), [{"leader": l, "key": "k", "set": l + str(i)}
                                       for l in "abc" for i in range(2)], resolver="lww", clock="lamport")
    bfs(System(spec), [], Bounds(max_states=20_000), progress=calls.append, progress_every=0.0)
    assert calls and calls[-1].states > 0


class _Counter:
    """A toy system (0 → 1 → … → 5) that records whether the cyclic
    garbage collector was on at each expansion."""

    def __init__(self):
        self.gc_on: list[bool] = []

    def initial_state(self):
        return 0

    def successors(self, state):
        import gc
        self.gc_on.append(gc.isenabled())
        return [(0, state + 1)] if state < 5 else []


@pytest.mark.parametrize("engine", ["bfs", "dfs", "simulate"])
def test_engines_run_without_the_cyclic_gc_and_restore_it(engine):
    """model/gcpause.py: the collector is off during the search (31% less CPU
    on B1 under apply-remote) and back to its former state after, also
    when it was off before."""
    import gc
    from replcheck.model import search
    run = {"bfs": lambda s: search.bfs(s, []), "dfs": lambda s: search.dfs(s, []),
           "simulate": lambda s: search.simulate(s, [], runs=2)}[engine]
    assert gc.isenabled()
    system = _Counter()
    run(system)
    assert system.gc_on and not any(system.gc_on)
    assert gc.isenabled()
    gc.disable()
    try:
        run(_Counter())
        assert not gc.isenabled()
    finally:
        gc.enable()
