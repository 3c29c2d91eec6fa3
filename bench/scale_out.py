"""Scale-out, measured in one run (issue 15, item 4; docs/scale-out.md).

    python bench/scale_out.py [--specs B1,B3] [--sweep-specs specs/seed/alice-bob-lww.toml,bench/specs/B1.toml]
                              [--sweep-resolvers lww,mv-register,...] [--workers 2,1] [--json out.json]

For each sweep spec: ``matrix`` over the whole resolver catalogue, local
(one process) and as Ray tasks on a local Ray runtime of 1 and 2 CPUs; for
each exhaustive spec: the local engine and the distributed BFS on 1 and 2
partitions.  Every Ray figure comes from the same run as the local one
(ratios), with the verdicts compared.  Printed per run: seconds, states/s,
bytes exchanged between partitions per state and per level, peak resident
memory per worker, partition imbalance (largest partition over the mean);
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


def sweep(path, workers, out, resolvers=None):
    from replcheck.checks import matrix
    from replcheck.cluster import sweep as sw
    t = time.monotonic()
    local = matrix.run(path, resolvers)
    tl = time.monotonic() - t
    row = dict(spec=str(path), cells=len(local.reports), local_s=round(tl, 2), ray={})
    print(f"sweep {path}: {len(local.reports)} combinations, local {tl:.2f} s", flush=True)
    for k in workers:
        c, startup = _start(k)
        t = time.monotonic()
        got = matrix.run(path, resolvers, mapper=sw.mapper(c))
        tk = time.monotonic() - t
        same = _matrix_verdicts(got) == _matrix_verdicts(local)
        row["ray"][k] = dict(seconds=round(tk, 2), startup_s=round(startup, 2), speedup=round(tl / tk, 3), same=same)
        print(f"  ray {k} worker(s): {tk:.2f} s (start-up {startup:.1f} s apart), speed-up {tl / tk:.2f}x,"
              f" same verdicts: {same}", flush=True)
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
               local_states_per_s=round(local.stats.states / tl, 1), local_peak_rss_process=rss_local, ray={})
    print(f"exhaustive {path}: {local.stats.states:,} states, local {tl:.2f} s"
          f" ({local.stats.states / tl:,.0f} states/s)", flush=True)
    for k in workers:
        c, startup = _start(k)
        metrics = []
        t = time.monotonic()
        rep = bfs.check(c, spec, metrics=metrics)
        tk = time.monotonic() - t
        sent = sum(m.bytes_sent for m in metrics)
        levels = [b for m in metrics for _, b in m.levels]
        per_part = [s for m in metrics for s in m.states_per_partition]
        same = _verdicts(rep) == _verdicts(local) and rep.stats.states == local.stats.states
        r = dict(seconds=round(tk, 2), startup_s=round(startup, 2), ratio_vs_local=round(tl / tk, 3),
                 states=rep.stats.states, states_per_s=round(rep.stats.states / tk, 1), same=same,
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
              f" imbalance {r['imbalance']}, same verdicts and count: {same}", flush=True)
    if local.stats.states <= imbalance_limit:
        row["imbalance_projected"] = _partition_imbalance(spec)
        print(f"  hash-partition imbalance (max/mean) at 2/10/100 workers: {row['imbalance_projected']}", flush=True)
    out["exhaustive"].append(row)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--specs", default="B1,B3", help="bench/specs names for the exhaustive part")
    ap.add_argument("--sweep-specs", default="specs/seed/alice-bob-lww.toml,bench/specs/B1.toml")
    ap.add_argument("--sweep-resolvers", default=None, help="comma-separated (default: the whole catalogue)")
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
        sweep(ROOT / p, workers, out, resolvers if "seed" not in p else None)
    for name in filter(None, a.specs.split(",")):
        exhaustive(ROOT / "bench" / "specs" / f"{name}.toml", workers, out, a.imbalance_limit)
    out["machine"]["load_end"] = __import__("os").getloadavg()
    text = json.dumps(out, indent=1, default=str)
    if a.json:
        Path(a.json).write_text(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
