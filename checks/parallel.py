"""Both cores for simulation: a parallel swarm (issue 8).

Each worker process rebuilds the system from the (picklable) spec and runs
every ``workers``-th run number; run ``i`` depends only on ``(seed, i)``
(:func:`model.search.run_rng`), and the merge keeps, per property, the
counterexample of the lowest-numbered run — the one a single process keeps
— so the result does not depend on ``workers``.  This is
swarm verification's own parallelism (Holzmann et al., ASE 2008): the runs
are independent, so the speed-up is close to the number of cores.
Exhaustive search stays single-process (see docs/reductions.md).
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

from replcheck.model import search
from replcheck.model.search import SearchResult, Stats


def _worker(args):
    spec, names, runs, seed, bounds, run_ids = args
    from replcheck.checks.planner import properties
    from replcheck.model.system import System
    system = System(spec)
    props = properties(system, names)   # the same properties as a serial run, loop guard included
    res = search.simulate(system, props, runs, seed, bounds, run_ids=run_ids)
    return res.stats, res.cut, {k: (f.path, f.detail, f.run) for k, f in res.found.items()}


def simulate_parallel(spec, names, runs: int, seed: int, workers: int, bounds) -> SearchResult:
    """Split ``runs`` over ``workers`` processes (worker ``i`` runs the run
    numbers ``i, i + workers, ...``).
    ``names`` are the invariants asked for; each worker builds its
    properties with :func:`checks.verdict.properties`, as a serial run does."""
    jobs = [(spec, tuple(names), runs, seed, bounds, range(i, runs, workers)) for i in range(min(workers, runs))]
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=ctx) as pool:
        results = list(pool.map(_worker, jobs))
    stats = Stats()
    found = {}
    cut = "simulation"
    for st, c, f in results:
        stats.states += st.states
        stats.transitions += st.transitions
        stats.quiescent += st.quiescent
        stats.depth = max(stats.depth, st.depth)
        stats.seconds = max(stats.seconds, st.seconds)
        if c != "simulation":
            cut = c
        for name, (path, detail, run) in f.items():
            if name not in found or run < found[name].run:
                found[name] = search.Found(name, path, detail, run)
    return SearchResult("simulation", stats, False, cut, found)
