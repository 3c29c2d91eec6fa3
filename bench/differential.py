"""Run the differential oracle (tests/differential/) on many generated specs.

    python bench/differential.py --n 500 --seed 1
    python bench/differential.py --n 200 --seed 2 --modes all --failures bench/results/differential

Prints one line per disagreement (the spec is written as TOML under
``--failures``) and a JSON summary: drafts generated, valid specs,
comparisons made by kind, comparisons skipped by reason, disagreements.
Exit 0 when nothing disagrees, 1 otherwise.  Generation is reproducible:
the same ``--n`` and ``--seed`` give the same specs.  Ctrl-C stops early
and still prints the summary of what ran.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tomli_w  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from tests.differential import oracle  # noqa: E402
from tests.differential.generate import spec_dicts  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="drafts to generate (default 200)")
    ap.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    ap.add_argument("--modes", default="light",
                    help=f"comma-separated comparisons, 'light' ({','.join(oracle.LIGHT_MODES)}) or 'all'")
    ap.add_argument("--reducible", action="store_true",
                    help="draw only specs the reductions accept (all-to-all or a ring or star, fifo, no faults but crashes)")
    ap.add_argument("--failures", type=Path, default=None, help="write each disagreeing spec here as TOML")
    args = ap.parse_args(argv)
    modes = {"light": oracle.LIGHT_MODES, "all": oracle.ALL_MODES}.get(args.modes, tuple(args.modes.split(",")))
    unknown = set(modes) - set(oracle.ALL_MODES)
    if unknown:
        ap.error(f"unknown mode(s) {', '.join(sorted(unknown))}; choose from {', '.join(oracle.ALL_MODES)}")
    outcomes = []
    t0 = time.monotonic()

    @seed(args.seed)
    @settings(max_examples=args.n, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(spec_dicts(reducible=args.reducible))
    def run(data):
        o = oracle.compare(data, modes)
        outcomes.append(o)
        for d in o.disagreements:
            print(f"spec {len(outcomes)}: {d}", flush=True)
        if o.disagreements and args.failures:
            args.failures.mkdir(parents=True, exist_ok=True)
            (args.failures / f"seed{args.seed}-{len(outcomes)}.toml").write_text(tomli_w.dumps(data))
        if len(outcomes) % 50 == 0:
            print(f"... {len(outcomes)} drafts, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)

    try:
        run()
    except KeyboardInterrupt:
        print("interrupted: the summary covers the specs that ran", file=sys.stderr)
    s = oracle.summary(outcomes)
    s["seconds"] = round(time.monotonic() - t0, 1)
    s["seed"] = args.seed
    s["modes"] = list(modes)
    print(oracle.dump(s))
    return 1 if s["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main())
