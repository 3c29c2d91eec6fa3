"""A command's independent runs as Ray tasks (issue 15, item 3).

``check`` over several specs or resolvers, ``matrix`` and ``drill solve``
make runs that share nothing: each is one :func:`checks.verdict.check` of
one spec.  :func:`check_many` submits them all as Ray tasks (one CPU each)
and returns their reports in the order they were given, so the command
prints exactly what the local loop prints — the verdicts are those of the
same engine on the same spec; only where it runs changes.

The command's ``--total-seconds`` (checks/budget.py) is carried as a
wall-clock end: a task that starts after it returns :data:`TOTAL` without
checking, and one that starts before it gets what is left as its
``max_seconds``.  A stop (Ctrl-C, SIGTERM) cancels every task not finished;
the runs that finished keep their reports, the others are ``interrupted``.
"""

from __future__ import annotations

import dataclasses
import time

from replcheck.checks.budget import TOTAL, Budget

INTERRUPTED = "interrupted"
_GRACE = 5.0


def _run_one(spec, invariants, engine, options, end_wall, seconds):
    """One run, inside a Ray worker: a Report, :data:`TOTAL`, or ``("error", exc)``."""
    from replcheck.checks.verdict import Options, check
    options = options or Options()
    try:
        if end_wall is not None:
            left = end_wall - time.time()
            if left <= 0:
                return TOTAL
            spec = Budget(seconds, time.monotonic() + left).bound(spec)
        return check(spec, invariants, engine=engine, options=options)
    except KeyboardInterrupt:   # cancelled outside the search
        return INTERRUPTED
    except Exception as e:  # noqa: BLE001 - re-raised by the driver, in order, as the local loop would
        return ("error", e)


_remote = {}


def _task(ray):
    if "task" not in _remote:
        _remote["task"] = ray.remote(num_cpus=1, max_retries=0)(_run_one)
    return _remote["task"]


def check_many(cluster, jobs, budget: Budget = Budget(), on_done=None) -> list:
    """Check every job ``(spec, invariants, engine, options)`` on ``cluster``.

    Returns, in the jobs' order, a :class:`checks.verdict.Report` or the
    reason a run has none: :data:`TOTAL` (the budget ran out before it
    started) or :data:`INTERRUPTED` (stopped before it finished).
    ``on_done(i)`` is called as result ``i`` and all before it are known
    (progress).  An error a run raises (bad input) is raised here, in order."""
    ray = cluster.start()
    end_wall = None if budget.deadline is None else time.time() + (budget.left() or 0.0)
    task = _task(ray)
    refs = []
    for spec, invariants, engine, options in jobs:
        if options is not None and options.workers > 1:
            options = dataclasses.replace(options, workers=1)   # the swarm's split does not change its result
        refs.append(task.remote(spec, invariants, engine, options, end_wall, budget.seconds))
    results: list = [None] * len(refs)
    known = [False] * len(refs)
    shown = 0
    pending = {r: i for i, r in enumerate(refs)}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for r in done:
                i = pending.pop(r)
                results[i], known[i] = ray.get(r), True
            while shown < len(refs) and known[shown]:
                _raise_error(results[shown])
                if on_done:
                    on_done(shown)
                shown += 1
    except KeyboardInterrupt:
        for r in pending:
            ray.cancel(r)
        deadline = time.monotonic() + _GRACE
        while pending and time.monotonic() < deadline:
            done, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.5)
            for r in done:
                i = pending.pop(r)
                try:
                    results[i], known[i] = ray.get(r), True
                except Exception:  # noqa: BLE001 - cancelled: no report
                    results[i], known[i] = INTERRUPTED, True
        for r in pending:
            results[pending[r]] = INTERRUPTED
        results = [INTERRUPTED if isinstance(x, tuple) else x for x in results]
        return results
    return results


def _raise_error(x) -> None:
    if isinstance(x, tuple) and len(x) == 2 and x[0] == "error":
        raise x[1]


def mapper(cluster, engine: str = "bfs", options=None):
    """The ``mapper`` hook of ``matrix.run`` and ``drill.solve``: their
    ``(spec, invariants)`` runs through :func:`check_many` on ``cluster``."""
    def run(jobs, budget, on_done):
        return check_many(cluster, [(s, inv, engine, options) for s, inv in jobs], budget, on_done)
    return run


def check_specs(cluster, specs, invariants, engine, options, budget: Budget = Budget(), progress=None) -> list:
    """``check``'s runs on ``cluster``: one run alone with the exhaustive
    bfs engine is a distributed search (:mod:`replcheck.cluster.bfs`), one
    ``--simulate`` run alone a swarm split over the cluster
    (:mod:`replcheck.cluster.swarm`); several runs are Ray tasks, one per run.  Reports in order; a run not
    made has its :func:`checks.verdict.not_run` report."""
    from replcheck.checks.verdict import not_run
    if not specs:
        return []
    if len(specs) == 1 and engine == "bfs" and options.simulate is None:
        from replcheck.cluster import bfs
        cluster.start()
        try:
            return [bfs.check(cluster, specs[0], invariants, engine=engine, progress=progress, options=options)]
        except KeyboardInterrupt:   # stopped outside the search (planning, a replay)
            return [not_run(specs[0], invariants, engine)]
    if len(specs) == 1 and options.simulate is not None:
        from replcheck.checks.verdict import check
        from replcheck.cluster import swarm
        try:
            return [check(specs[0], invariants, engine=engine, progress=progress, options=options,
                          runner=swarm.runner(cluster))]
        except KeyboardInterrupt:
            return [not_run(specs[0], invariants, engine)]
    got = check_many(cluster, [(s, invariants, engine, options) for s in specs], budget)
    return [rep if not isinstance(rep, str) else not_run(spec, invariants, engine, why=rep)
            for spec, rep in zip(specs, got)]
