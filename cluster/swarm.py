"""``check --simulate`` swarms on Ray (issue 15, item 3).

A swarm's runs are independent: run ``i`` depends only on ``(seed, i)``
(:func:`model.search.run_rng`).  :func:`simulate` splits the run numbers
over the cluster's CPUs exactly as the local ``--workers`` swarm splits
them over processes (:func:`checks.parallel.chunks`), runs each chunk as
one Ray task (:func:`checks.parallel.run_chunk`) and merges them with the
local swarm's own :func:`checks.parallel.merge`: per invariant the
counterexample of the lowest-numbered run, the one a single process keeps.
So the verdicts and traces are those of the local run with the same seed,
whatever the number of CPUs.

A stop (Ctrl-C, SIGTERM) cancels the chunks: Ray raises KeyboardInterrupt
in each task, whose search returns what it found so far; those partial
results are merged and the swarm is ``interrupted``, as locally.
"""

from __future__ import annotations

import time

from replcheck.checks import parallel

_GRACE = 5.0
_remote = {}


def _task(ray):
    if "chunk" not in _remote:
        _remote["chunk"] = ray.remote(num_cpus=1, max_retries=0)(parallel.run_chunk)
    return _remote["chunk"]


def simulate(cluster, spec, names, runs: int, seed: int, bounds, parts: int | None = None):
    """The swarm of ``runs`` random runs of ``spec`` on ``cluster``, split
    in ``parts`` chunks (default: the cluster's CPUs): a
    :class:`model.search.SearchResult` as :func:`checks.parallel.simulate_parallel` gives."""
    ray = cluster.start()
    parts = parts or cluster.cpus()
    task = _task(ray)
    refs = [task.remote(spec, tuple(names), runs, seed, bounds, ids) for ids in parallel.chunks(runs, parts)]
    got: dict = {}
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.25)
            for r in done:
                got[r] = ray.get(r)
    except KeyboardInterrupt:
        for r in pending:
            ray.cancel(r)
        deadline = time.monotonic() + _GRACE
        while pending and time.monotonic() < deadline:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.25)
            for r in done:
                try:
                    got[r] = ray.get(r)
                except Exception:  # noqa: BLE001 - cancelled before it started: no result
                    pass
        return parallel.merge([got[r] for r in refs if r in got], True)
    return parallel.merge([got[r] for r in refs], False)


def runner(cluster, fallback=None):
    """A runner for :func:`checks.verdict.check` (its ``runner=``) that
    runs a plan's simulation on ``cluster`` and every other search with
    ``fallback`` (default: this process)."""
    from replcheck.checks.verdict import run_search
    fallback = fallback or run_search

    def run(spec, s, names, bounds, options, progress):
        if s.engine in ("simulate", "swarm"):
            return simulate(cluster, spec, names, options.simulate, options.seed, bounds)
        return fallback(spec, s, names, bounds, options, progress)
    return run
