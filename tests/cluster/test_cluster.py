"""--cluster (replcheck.cluster, issue 15): the distributed exhaustive search
and the sweeps as Ray tasks give what the local engine gives.

On a 2-worker local Ray cluster: the bundled seed specs and a fixed sample
of the differential oracle's generated specs (tests/differential/) must
have, with the distributed BFS, the same verdicts, anomaly kinds, vacuity,
state, quiescent-state and transition counts, and shortest-trace lengths as
the local engine; ``matrix``, ``check --resolver``, ``check --simulate``,
``drill solve`` and ``drill check`` (one answer, or a folder graded) print
the same output.  Skipped when Ray is not installed (the optional
extra ``replcheck[cluster]``); the one-line error without Ray is tested
either way.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.verdict import check, load

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "specs" / "seed").glob("*.toml"))
SEED = str(ROOT / "specs" / "seed" / "alice-bob-lww.toml")


def test_cluster_without_ray_is_one_line_exit_2(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)   # import ray raises ImportError
    for args in (["matrix", SEED, "--cluster", "local"], ["check", SEED, "--cluster", "local"],
                 ["drill", "solve", "inventory", "--cluster", "local"],
                 ["drill", "check", str(ROOT / "specs" / "drills" / "answers"), "--cluster", "local"]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, (args, r.output)
        assert r.output.strip().count("\n") == 0 and "replcheck[cluster]" in r.output, r.output


def test_workers_without_cluster_is_bad_input():
    r = CliRunner().invoke(main, ["matrix", SEED, "--workers", "2"])
    assert r.exit_code == 2 and "--cluster local" in r.output


ray = pytest.importorskip("ray")

from replcheck.cluster import Cluster, bfs  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    c = Cluster("local", 2)
    c.start()
    yield c
    ray.shutdown()


def _same(a, b, where=""):
    """The distributed report ``b`` says what the local ``a`` says."""
    assert [r.invariant for r in a.results] == [r.invariant for r in b.results], where
    for x, y in zip(a.results, b.results):
        w = f"{where}: {x.invariant}"
        assert x.verdict == y.verdict, (w, x.verdict, y.verdict, x.bound, y.bound)
        assert bool(x.vacuous) == bool(y.vacuous) and x.vacuous == y.vacuous, (w, x.vacuous, y.vacuous)
        assert x.anomalies == y.anomalies and x.anomalies_complete == y.anomalies_complete, w
        assert x.shortest == y.shortest, w
        assert (x.trace is None) == (y.trace is None), w
        if x.trace is not None:
            assert len(x.trace) == len(y.trace), (w, len(x.trace), len(y.trace))
            assert y.anomaly in y.anomalies or not y.anomalies, w
    # A search that stops once every kind is found (docs/engine.md) may stop on
    # one side only: the distributed BFS looks between levels, and a small
    # phase can end there first.  Neither side was cut by a bound.
    assert a.cut == b.cut and (a.complete == b.complete or (a.cut is None and b.complete)), where
    if a.complete:
        assert (a.stats.states, a.stats.quiescent, a.stats.transitions) == \
               (b.stats.states, b.stats.quiescent, b.stats.transitions), where


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_distributed_bfs_equals_local_on_seed_specs(cluster, path):
    spec = load(path)
    metrics = []
    _same(check(spec), bfs.check(cluster, spec, metrics=metrics, dfs_probe=0), path.stem)
    assert metrics and all(m.partitions == 2 for m in metrics)


def _generated(n: int):
    """A fixed sample of the differential oracle's generated specs."""
    from hypothesis import HealthCheck, given, settings
    from tests.differential import oracle
    from tests.differential.generate import spec_dicts
    out = []

    @settings(max_examples=n * 3, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(spec_dicts())
    def draw(data):
        if len(out) < n and (spec := oracle.parse(data)) is not None:
            out.append(spec)
    draw()
    return out


def test_distributed_bfs_equals_local_on_generated_specs(cluster):
    specs = _generated(8)
    assert len(specs) >= 6
    for i, spec in enumerate(specs):
        spec = spec.with_bounds(max_seconds=None)
        a = check(spec)
        b = bfs.check(cluster, spec, dfs_probe=0)
        if a.complete:
            _same(a, b, f"generated #{i}")
        else:   # a bound cut the local run: only no contradiction
            for x, y in zip(a.results, b.results):
                assert {x.verdict, y.verdict} != {"holds", "violated"}, (i, x.invariant)


def test_b3_on_the_cluster_is_the_local_run(cluster):
    """Issue 15's criterion: B3's verdicts, state count and shortest trace on
    the cluster are the local engine's.  Phase 1 (convergence, to the end) is
    distributed; phase 2 (depth-first, stops at the lost update) is the
    local engine's own search within the probe (docs/scale-out.md)."""
    spec = load(ROOT / "bench" / "specs" / "B3.toml")
    metrics = []
    a, b = check(spec), bfs.check(cluster, spec, metrics=metrics)
    _same(a, b, "B3")
    assert len(metrics) == 1 and metrics[0].partitions == 2 and sum(metrics[0].states_per_partition) == 2_377
    assert (a.stats.states, a.stats.quiescent, a.stats.transitions) == \
           (b.stats.states, b.stats.quiescent, b.stats.transitions) == (2_429, 1_106, 14_766)
    assert [r.path for r in a.results] == [r.path for r in b.results]


def test_a_long_depth_first_phase_goes_to_the_cluster(cluster):
    """A depth-first phase that outgrows the probe restarts as distributed
    BFS: both phases distributed, verdicts and kinds still the local ones."""
    spec = load(ROOT / "bench" / "specs" / "B3.toml")
    metrics = []
    b = bfs.check(cluster, spec, metrics=metrics, dfs_probe=10)
    _same(check(spec), b, "B3, probe 10")
    assert len(metrics) == 2 and sum(metrics[1].states_per_partition) > 10


def test_distributed_bfs_honours_max_states(cluster):
    spec = load(ROOT / "bench" / "specs" / "B1.toml").with_bounds(max_states=60)
    rep = bfs.check(cluster, spec)
    local = check(spec)   # a later phase gets at least one state (checks/verdict.py), locally too
    assert not rep.complete and rep.cut == "max_states" and rep.stats.states <= local.stats.states
    assert all(r.verdict != "holds" for r in rep.results)


_SECONDS = re.compile(r"in [0-9.]+ s|[0-9,]+ states/s")


@pytest.mark.parametrize("args", [
    ["matrix", SEED, "--resolver", "lww,mv-register,g-counter", "--topology", "all-to-all,ring"],
    ["check", SEED, "--resolver", "lww,mv-register"],
    ["check", SEED],
    ["drill", "solve", "inventory", "--resolver", "lww,mv-register"],
    ["check", SEED, "--simulate", "--runs", "40", "--seed", "3"],
    ["check", str(ROOT / "specs" / "seed" / "skew-wall.toml"), "--simulate", "--runs", "30", "--seed", "5", "-v"],
    ["drill", "check", str(ROOT / "specs" / "drills" / "answers" / "notes-lww.toml")],
    ["drill", "check", str(ROOT / "specs" / "drills" / "answers")],
], ids=["matrix", "check-resolvers", "check-one", "drill-solve", "simulate", "simulate-verbose", "drill-check",
        "drill-check-folder"])
def test_cluster_runs_print_what_local_runs_print(cluster, args):
    local = CliRunner().invoke(main, args)
    remote = CliRunner().invoke(main, args + ["--cluster", "local"])
    assert local.exit_code in (0, 1), local.output   # a verdict, not an error on both sides
    assert remote.exit_code == local.exit_code, remote.output
    assert _SECONDS.sub("", remote.output) == _SECONDS.sub("", local.output)


def test_sweep_stopped_is_partial_and_honest(cluster, monkeypatch):
    """A stop while the tasks run (Ctrl-C, SIGTERM: a KeyboardInterrupt in the
    driver): what finished keeps its report, the rest is interrupted."""
    from replcheck.checks import matrix
    from replcheck.cluster import sweep
    real_wait, calls = ray.wait, []

    def wait(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_wait(*a, **k)
    monkeypatch.setattr(ray, "wait", wait)
    m = matrix.run(SEED, ["lww", "mv-register"], mapper=sweep.mapper(cluster))
    assert calls, "the stop was never delivered"
    assert all(isinstance(rep, matrix.NotRun) or rep.cut in (None, "interrupted") for rep in m.reports.values())
    # Warm workers may finish both tiny runs before the cancel lands: then every
    # row is complete and "interrupted" would be a false claim.  Otherwise the
    # matrix says it was interrupted.
    unfinished = [rep for rep in m.reports.values() if isinstance(rep, matrix.NotRun) or rep.cut is not None]
    assert m.interrupted == bool(unfinished)


def test_sweep_total_seconds_spent_runs_nothing(cluster):
    from replcheck.checks import matrix
    from replcheck.checks.budget import TOTAL, Budget
    from replcheck.cluster import sweep
    import time
    budget = Budget.start(0.01)
    time.sleep(0.05)
    got = sweep.check_many(cluster, [(load(SEED), None, "bfs", None)] * 2, budget)
    assert got == [TOTAL, TOTAL]
    m = matrix.run(SEED, ["lww"], budget=budget, mapper=sweep.mapper(cluster))
    assert m.not_started == 1


@pytest.mark.parametrize("path", SEEDS[:4], ids=lambda p: p.stem)
def test_swarm_on_the_cluster_equals_the_local_run(cluster, path):
    """A --simulate swarm split over Ray tasks (2 or 3 chunks) finds what
    one local process finds with the same seed: verdicts, the
    lowest-numbered run's counterexample, and (no invariant stopping the
    swarm early) the same state, quiescent-state and transition counts."""
    from replcheck.checks.verdict import Options
    from replcheck.cluster import swarm
    spec = load(path)
    opts = Options(simulate=50, seed=7)
    local = check(spec, options=opts)
    for parts in (None, 3):
        def runner(spec_, s, names, bounds, options, progress):
            assert s.engine == "simulate"
            return swarm.simulate(cluster, spec_, names, options.simulate, options.seed, bounds, parts)
        remote = check(spec, options=opts, runner=runner)
        assert [(r.invariant, r.verdict, r.anomaly, r.path) for r in local.results] == \
               [(r.invariant, r.verdict, r.anomaly, r.path) for r in remote.results], (path.stem, parts)
        assert remote.engine == local.engine == "simulation" and remote.cut == local.cut
        if any(r.verdict != "violated" for r in local.results):   # every run ran on both sides
            assert (local.stats.states, local.stats.quiescent, local.stats.transitions, local.stats.depth) == \
                   (remote.stats.states, remote.stats.quiescent, remote.stats.transitions, remote.stats.depth)


def test_swarm_stopped_keeps_what_the_chunks_found(cluster, monkeypatch):
    """Ctrl-C / SIGTERM during a cluster swarm: the chunks are cancelled,
    their partial results merged, the swarm is interrupted (never holds)."""
    from replcheck.checks.verdict import Options
    from replcheck.cluster import swarm
    real_wait, calls = ray.wait, []

    def wait(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_wait(*a, **k)
    monkeypatch.setattr(ray, "wait", wait)
    rep = check(load(SEED), options=Options(simulate=400, seed=1), runner=swarm.runner(cluster))
    assert rep.cut == "interrupted"
    assert all(r.verdict != "holds" for r in rep.results)
