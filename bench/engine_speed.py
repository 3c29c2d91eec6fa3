#!/usr/bin/env python3
"""Per-state speed and bytes per state of the plain engine against a naive
reference search, in one run (issue 18, item 4).

The reference is ``tests/reference.py``: an independent, deliberately naive
enumerator of the same semantics (full states as nested frozensets, a set of
visited states, a stack), the one the engine's state counts are
cross-checked against.  The plain engine is :func:`model.search.bfs` over a
:class:`model.system.System` with no reduction (``--no-por --no-symmetry
--no-dead-variables``), once storing full states and once storing 64-bit
fingerprints (``--fingerprint``).  The reference is also run with Python's
cyclic collector paused, as the engines now run (docs/engine.md, "Without
the cyclic garbage collector"), so the ratio does not credit the engine with
a trick the reference could use too, and the engine once with the collector
on, as it ran before that change.

Each mode runs in its own subprocess so its memory is its own: bytes per
state is the growth of the peak resident set during the search divided by
the states stored (the frontier included: what bounds the machine).  Seconds are CPU seconds of the search (``process_time``),
less sensitive than wall time to other jobs on the machine.  Both searches
must count the same states, or the run says so and exits 1.

    python3 bench/engine_speed.py                      # bench/specs/B1.toml
    python3 bench/engine_speed.py --spec bench/specs/B2.toml --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = ("reference", "reference, gc paused", "plain engine, gc on (as before)", "plain engine",
         "plain engine, fingerprints")


def _rss() -> int:
    from replcheck.model.memory import rss
    return rss()


def _peak() -> int:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def one(mode: str, path: str) -> dict:
    """Measure one mode in this process."""
    sys.path.insert(0, str(ROOT))
    from replcheck import load
    spec = load(path)
    if mode.startswith("reference"):
        from tests import reference
        if "gc paused" in mode:
            gc.disable()
        before, t = _rss(), time.process_time()
        states, _ = reference.explore(spec)
    else:
        if "gc on" in mode:
            gc.disable = lambda: None   # the engines' pause (model/gcpause.py) becomes a no-op
        from replcheck.model import search
        from replcheck.model.system import System
        system = System(spec)
        before, t = _rss(), time.process_time()
        res = search.bfs(system, [], fingerprint=mode.endswith("fingerprints"))
        states = res.stats.states
    seconds = time.process_time() - t
    return dict(mode=mode, states=states, cpu_seconds=round(seconds, 3),
                states_per_second=round(states / seconds) if seconds else None,
                bytes_per_state=round((_peak() - before) / states) if states else None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default=str(ROOT / "bench" / "specs" / "B1.toml"))
    ap.add_argument("--json", help="write the rows here")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        print(json.dumps(one(a.one, a.spec)))
        return 0
    rows = []
    for mode in MODES:
        out = subprocess.run([sys.executable, __file__, "--spec", a.spec, "--one", mode],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{mode}: failed\n{out.stderr}", file=sys.stderr)
            return 1
        rows.append(json.loads(out.stdout))
    ref = rows[0]
    print(f"spec {a.spec}, CPU seconds of the search, each mode in its own process")
    print(f"{'mode':<28} {'states':>10} {'CPU s':>8} {'states/s':>10} {'bytes/state':>12} {'speed vs ref':>13} {'bytes vs ref':>13}")
    for r in rows:
        print(f"{r['mode']:<28} {r['states']:>10,} {r['cpu_seconds']:>8.2f} {r['states_per_second']:>10,}"
              f" {r['bytes_per_state']:>12,} {r['states_per_second'] / ref['states_per_second']:>12.2f}x"
              f" {r['bytes_per_state'] / ref['bytes_per_state']:>12.2f}x")
    counts = {r["states"] for r in rows}
    if len(counts) != 1:
        print(f"state counts differ: {sorted(counts)}: the engines disagree", file=sys.stderr)
        return 1
    if a.json:
        Path(a.json).write_text(json.dumps(dict(spec=a.spec, rows=rows), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
