"""Scale-out, measured in one run (issue 15, item 4; docs/scale-out.md).

    python bench/scale_out.py [--specs B1,B3] [--sweep-specs specs/seed/alice-bob-lww.toml,bench/specs/B1.toml]
                              [--sweep-resolvers lww,mv-register,...] [--sweep-topologies ring,star]
                              [--workers 2,1] [--json out.json]

For each sweep spec: ``matrix`` over the whole resolver catalogue, local
(one process) and as Ray tasks on a local Ray runtime of 1 and 2 CPUs; for
each exhaustive spec: the local engine and the distributed BFS on 1 and 2
partitions.  Every Ray figure comes from the same run as the local one
(ratios), with the verdicts compared.  Printed per run: seconds, states/s,
bytes exchanged between partitions per state and per level, peak resident
memory per worker, partition imbalance (largest partition over the mean),
for sweeps the best speed-up whole-run tasks allow (total / max(longest
run, total / CPUs));
and, from the exhaustive specs' own state sets, the imbalance the hash
partitioning would have on 10 and 100 workers.  Ray's start-up is timed
apart and not counted in the ratios.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _verdicts(rep):
    return tuple((r.invariant, r.verdict, r.anomalies, len(r.trace) if r.trace else None) for r in rep.results)


def _matrix_verdicts(m):
    out = []
    for (t, r), rep in m.reports.items():
        out.append((t, r, type(rep).__name__, _verdicts(rep) if hasattr(rep, "results") else getattr(rep, "reason", "")))
    return out


def _start(workers):
    import ray
    from replcheck.cluster import Cluster
    if ray.is_initialized():
        ray.shutdown()
    c = Cluster("local", workers)
    t = time.monotonic()
    c.start()
    return c, time.monotonic() - t


def _whole_task_bound(seconds, k):
    """The best speed-up ``k`` CPUs can give a sweep whose runs are scheduled whole.

    A run is one task (nothing splits it), so the sweep cannot end before
    its longest run, nor before the total work divided over ``k`` CPUs:
    bound = total / max(longest, total / k)."""
    total = sum(seconds)
    return round(total / max(max(seconds), total / k), 3) if total else 0.0


def sweep(path, workers, out, resolvers=None, topologies=None):
    from replcheck.checks import matrix
    from replcheck.cluster import sweep as sw
    marks = []
    t = time.monotonic()
    local = matrix.run(path, resolvers, topologies, progress=lambda *a: marks.append(time.monotonic()))
    tl = time.monotonic() - t
    marks.append(t + tl)
    runs = [b - a for a, b in zip(marks, marks[1:])]
    row = dict(spec=str(path), topologies=topologies, cells=len(local.reports), local_s=round(tl, 2),
               longest_run_s=round(max(runs), 2), ray={})
    print(f"sweep {path}{' x ' + ','.join(topologies) if topologies else ''}: {len(local.reports)} combinations,"
          f" local {tl:.2f} s, longest run {max(runs):.2f} s", flush=True)
    for k in workers:
        c, startup = _start(k)
        t = time.monotonic()
        got = matrix.run(path, resolvers, topologies, mapper=sw.mapper(c))
        tk = time.monotonic() - t
        same = _matrix_verdicts(got) == _matrix_verdicts(local)
        bound = _whole_task_bound(runs, k)
        row["ray"][k] = dict(seconds=round(tk, 2), startup_s=round(startup, 2), speedup=round(tl / tk, 3),
                             whole_task_bound=bound, same=same)
        print(f"  ray {k} worker(s): {tk:.2f} s (start-up {startup:.1f} s apart), speed-up {tl / tk:.2f}x"
              f" (at most {bound:.2f}x with whole runs as tasks), same verdicts: {same}", flush=True)
    out["sweeps"].append(row)


def _partition_imbalance(spec, ks=(2, 10, 100)):
    """Hash-partition imbalance (max over mean) of every state each phase's
    search visits, for ``ks`` workers (a plain BFS over the planner's systems)."""
    from replcheck.checks import planner
    from replcheck.checks.verdict import Options
    from replcheck.model.search import fingerprint_of
    res = {}
    p = planner.plan(spec, spec.invariants, "bfs", Options())
    counts = {k: [0] * k for k in ks}
    for s in p.searches:
        system = s.system
        init = system.initial_state()
        seen = {init}
        frontier = [init]
        while frontier:
            nxt = []
            for st in frontier:
                for _, t in system.successors(st):
                    if t not in seen:
                        seen.add(t)
                        nxt.append(t)
            frontier = nxt
        for st in seen:
            f = fingerprint_of(st)
            for k in ks:
                counts[k][f % k] += 1
    for k in ks:
        c = counts[k]
        res[k] = round(max(c) / (sum(c) / k), 3)
    return res


def exhaustive(path, workers, out, imbalance_limit):
    from replcheck.checks.verdict import check, load
    from replcheck.cluster import bfs
    spec = load(path)
    t = time.monotonic()
    local = check(spec)
    tl = time.monotonic() - t
    rss_local = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    row = dict(spec=str(path), states=local.stats.states, local_s=round(tl, 2),
               local_states_per_s=round(local.stats.states / tl, 1), local_peak_rss_process=rss_local,
               local_complete=local.complete, local_notes=list(local.reductions), ray={})
    print(f"exhaustive {path}: {local.stats.states:,} states, local {tl:.2f} s"
          f" ({local.stats.states / tl:,.0f} states/s)", flush=True)
    for k in workers:
        c, startup = _start(k)
        metrics = []
        t = time.monotonic()
        # dfs_probe=0: every phase distributed, so this measures the distributed engine
        # (a user's --cluster run keeps a short depth-first phase in the driver).
        rep = bfs.check(c, spec, metrics=metrics, dfs_probe=0)
        tk = time.monotonic() - t
        sent = sum(m.bytes_sent for m in metrics)
        levels = [b for m in metrics for _, b in m.levels]
        per_part = [s for m in metrics for s in m.states_per_partition]
        # State counts are a property of the spec only when both searches ran to the end; a
        # search that stopped once every anomaly kind was found stops where its order got there
        # (the local ghost phase is a DFS, the distributed one a level-synchronous BFS).
        same = _verdicts(rep) == _verdicts(local) and (not local.complete or rep.stats.states == local.stats.states)
        r = dict(seconds=round(tk, 2), startup_s=round(startup, 2), ratio_vs_local=round(tl / tk, 3),
                 states=rep.stats.states, states_per_s=round(rep.stats.states / tk, 1), same=same,
                 counts_compared=local.complete, states_per_search=[sum(m.states_per_partition) for m in metrics],
                 bytes_sent=sent, bytes_per_state=round(sent / max(rep.stats.states, 1), 1),
                 levels=len(levels), bytes_per_level_mean=round(sent / max(len(levels), 1)),
                 bytes_per_level_max=max(levels, default=0),
                 peak_rss_per_worker=[max(m.peak_rss[i] for m in metrics) for i in range(k)],
                 imbalance=[round(m.imbalance, 3) for m in metrics], searches=len(metrics),
                 states_per_partition=per_part)
        row["ray"][k] = r
        print(f"  ray {k} partition(s): {tk:.2f} s (start-up {startup:.1f} s apart), {tl / tk:.2f}x local,"
              f" {rep.stats.states / tk:,.0f} states/s, {r['bytes_per_state']} B/state sent between partitions,"
              f" {r['bytes_per_level_mean']:,} B/level mean ({r['bytes_per_level_max']:,} max, {len(levels)} levels),"
              f" peak RSS/worker {[round(x / 2**20) for x in r['peak_rss_per_worker']]} MiB,"
              f" imbalance {r['imbalance']}, states per search {r['states_per_search']},"
              f" same verdicts{' and count' if local.complete else ' (counts not compared: stopped once saturated)'}:"
              f" {same}", flush=True)
    if local.stats.states <= imbalance_limit:
        row["imbalance_projected"] = _partition_imbalance(spec)
        print(f"  hash-partition imbalance (max/mean) at 2/10/100 workers: {row['imbalance_projected']}", flush=True)
    out["exhaustive"].append(row)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", default="B1,B3", help="bench/specs names for the exhaustive part")
    ap.add_argument("--sweep-specs", default="specs/seed/alice-bob-lww.toml,bench/specs/B1.toml")
    ap.add_argument("--sweep-resolvers", default=None, help="comma-separated (default: the whole catalogue)")
    ap.add_argument("--sweep-topologies", default=None, help="comma-separated (default: each spec's own)")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--imbalance-limit", type=int, default=50_000,
                    help="project 10/100-worker imbalance only for specs with at most this many states")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    workers = [int(x) for x in a.workers.split(",")]
    out = dict(machine=dict(cpus=__import__("os").cpu_count(), load=__import__("os").getloadavg()),
               sweeps=[], exhaustive=[])
    resolvers = a.sweep_resolvers.split(",") if a.sweep_resolvers else None
    for p in filter(None, a.sweep_specs.split(",")):
        sweep(ROOT / p, workers, out, resolvers if "seed" not in p else None,
              a.sweep_topologies.split(",") if a.sweep_topologies else None)
    for name in filter(None, a.specs.split(",")):
        exhaustive(ROOT / "bench" / "specs" / f"{name}.toml", workers, out, a.imbalance_limit)
    out["machine"]["load_end"] = __import__("os").getloadavg()
    text = json.dumps(out, indent=1, default=str)
    if a.json:
        Path(a.json).write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
