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
import os
import signal
from concurrent.futures import ProcessPoolExecutor, wait

from replcheck.model import search
from replcheck.model.search import SearchResult, Stats


def _quiet():
    """A worker ignores Ctrl-C and SIGTERM except while it searches
    (:func:`_worker`): a signal between two calls would end it with a
    traceback.  The parent relays a stop as SIGINT (:func:`_gather`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)   # the parent's wake-up socket (checks/signals.py) is not this process's


def run_chunk(spec, names, runs: int, seed: int, bounds, run_ids):
    """The runs ``run_ids`` of a swarm of ``runs``, in this process: what
    :func:`merge` takes, ``(stats, cut, {invariant: (path, detail, run)})``
    (plain data, so it crosses processes; also a Ray task's body,
    replcheck.cluster.swarm).  A stop (KeyboardInterrupt) ends the search
    with its partial result, cut ``interrupted``."""
    from replcheck.checks.planner import properties
    from replcheck.model.system import System
    system = System(spec)
    props = properties(system, names)   # the same properties as a serial run, loop guard included
    res = search.simulate(system, props, runs, seed, bounds, run_ids=run_ids)
    return res.stats, res.cut, {k: (f.path, f.detail, f.run) for k, f in res.found.items()}


def chunks(runs: int, parts: int) -> list[range]:
    """Run numbers split over ``parts`` workers: worker ``i`` runs ``i, i + parts, ...``."""
    return [range(i, runs, parts) for i in range(min(parts, runs))]


def merge(results, stopped: bool) -> SearchResult:
    """One swarm's result from its chunks' (:func:`run_chunk`): counts
    summed, per invariant the counterexample of the lowest-numbered run (the
    one a single process keeps), ``interrupted`` if ``stopped``."""
    stats = Stats()
    found = {}
    cut = "interrupted" if stopped else "simulation"
    for st, c, f in results:
        stats.states += st.states
        stats.transitions += st.transitions
        stats.quiescent += st.quiescent
        stats.depth = max(stats.depth, st.depth)
        stats.seconds = max(stats.seconds, st.seconds)
        if c != "simulation" and cut != "interrupted":
            cut = c
        for name, (path, detail, run) in f.items():
            if name not in found or run < found[name].run:
                found[name] = search.Found(name, path, detail, run)
    return SearchResult("simulation", stats, False, cut, found)


def _worker(args):
    spec, names, runs, seed, bounds, run_ids = args
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:   # a stop here ends the search with its partial result (cut "interrupted")
        return run_chunk(spec, names, runs, seed, bounds, run_ids)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def simulate_parallel(spec, names, runs: int, seed: int, workers: int, bounds) -> SearchResult:
    """Split ``runs`` over ``workers`` processes (worker ``i`` runs the run
    numbers ``i, i + workers, ...``).
    ``names`` are the invariants asked for; each worker builds its
    properties with :func:`checks.verdict.properties`, as a serial run does."""
    jobs = [(spec, tuple(names), runs, seed, bounds, ids) for ids in chunks(runs, workers)]
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    results, stopped = _gather(jobs, ctx)
    return merge(results, stopped)


def _gather(jobs, ctx, grace: float = 5.0):
    """Run ``jobs`` on a process pool: ``(results, stopped)``.  On Ctrl-C or
    SIGTERM (a :class:`KeyboardInterrupt` here) every worker is asked to
    stop with SIGINT — a worker's search then returns its partial result,
    as a serial run does — and what they return within ``grace`` seconds
    is kept; a worker that does not answer is ended.  No traceback, no
    "Aborted!" (issue 14)."""
    pool = ProcessPoolExecutor(max_workers=len(jobs), mp_context=ctx, initializer=_quiet)
    futures = [pool.submit(_worker, j) for j in jobs]
    try:
        results = [f.result() for f in futures]
    except KeyboardInterrupt:
        pass
    else:
        pool.shutdown(wait=True)
        return results, False
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        try:
            os.kill(p.pid, signal.SIGINT)
        except (OSError, AttributeError):
            pass
    results = []
    wait(futures, timeout=grace)
    for f in futures:
        if f.done() and not f.cancelled() and f.exception() is None:
            results.append(f.result())
    for p in procs:
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    return results, True
