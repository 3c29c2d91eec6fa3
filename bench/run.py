#!/usr/bin/env python3
"""The replcheck benchmark suite (issue 8): ``python3 bench/run.py``.

Runs every spec in ``bench/specs/`` (B1..B10, B6b) through ``replcheck check``
in a subprocess with a timeout, measures wall time and peak memory (the
child's own ``ru_maxrss``, from ``os.wait4``), and prints a table: spec,
mode, states, transitions, seconds, states/s, peak MB, verdict.  ``--json``
writes the same rows for comparison across commits.

What is measured.  Each spec checks ``convergence`` and ``no-lost-writes``
(B8 also ``stock-non-negative``, B10 ``email-unique``) and states its
expected verdicts in ``[expect]``.  A search runs to the end unless a bound
cuts it (the anomaly sets are complete, docs/engine.md), so the default
row explores the whole reachable space.
Where both fall (B4: a crash cuts the ring), an extra ``full`` run checks
only ``replication-terminates``, which holds there, to measure the full
space; both rows are reported.

Baseline.  When ``replcheck check --help`` offers ``--no-por``,
``--no-symmetry`` and ``--no-dead-variables``, every spec is also run with
them: the plain engine (``baseline`` rows), and the notes give baseline
seconds / default seconds and both state counts from the same run ("at
least" when the baseline was cut by the timeout).

SPIN (``--spin``).  B1-B3 are exported with ``replcheck export promela
--invariant convergence`` and verified by SPIN in the same run (``spin -a``,
``gcc -O2 -DSAFETY``, ``./pan``; partial-order reduction on).  B1 and B2 use
SPIN's exact state storage; B3's exact search does not fit in memory, so
it uses hash-compact (``-DHC4``), unless ``--spin-exact`` is given.  The
ratio printed is replcheck's wall time / SPIN's (``pan`` only, and ``spin
-a`` + ``gcc`` + ``pan``).  SPIN's state counts are not comparable with
replcheck's: the exported model drops state that cannot change a verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = Path(__file__).resolve().parent / "specs"
SPIN_SPECS = ("B1", "B2", "B3")
SPIN_HASH_COMPACT = ("B3",)           # exact search does not fit in memory
FULL_SPACE_INVARIANT = "replication-terminates"
BASELINE_FLAGS = ("--no-por", "--no-symmetry", "--no-dead-variables")


def run_measured(cmd, timeout: float, cwd=None, interrupt_first=False) -> dict:
    """Run ``cmd``; return its exit code, stdout, wall seconds and peak RSS
    (MB) of that child alone; kill its process group after ``timeout``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout and not timed_out:
                timed_out = True
                # pan prints its statistics on SIGINT; anything else is killed.
                os.killpg(p.pid, signal.SIGINT if interrupt_first else signal.SIGKILL)
                if interrupt_first:
                    deadline = time.perf_counter() + 10
                    while time.perf_counter() < deadline:
                        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
                        if pid:
                            break
                        time.sleep(0.05)
                    if pid:
                        break
                    os.killpg(p.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {"rc": p.returncode, "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace"), "seconds": seconds,
                "peak_mb": usage.ru_maxrss / 1024, "timed_out": timed_out}


def replcheck_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "replcheck.checks.cli", *args]


def engine_flags() -> tuple[str, ...]:
    """The baseline flags this replcheck offers (checked at run time)."""
    help_text = subprocess.run(replcheck_cmd("check", "--help"), capture_output=True, text=True, cwd=ROOT).stdout
    return tuple(f for f in BASELINE_FLAGS if f in help_text)


def run_replcheck(spec: Path, mode: str, timeout: float, extra=(), invariants=()) -> dict:
    args = ["check", str(spec), "--format", "json", "--no-progress", "--max-seconds", str(timeout)]
    for inv in invariants:
        args += ["--invariant", inv]
    cmd = replcheck_cmd(*args, *extra)
    m = run_measured(cmd, timeout + 60, cwd=ROOT)
    row = {"spec": spec.stem, "tool": "replcheck", "mode": mode, "args": " ".join(extra),
           "seconds": round(m["seconds"], 2), "peak_mb": round(m["peak_mb"], 1), "rc": m["rc"]}
    try:
        data = json.loads(m["stdout"])
    except ValueError:
        row.update(states=None, transitions=None, verdict="timeout" if m["timed_out"] else "error",
                   error=(m["stderr"].strip().splitlines() or ["no output"])[-1])
        return row
    rep = data["reports"][0] if "reports" in data else data
    stats = rep.get("stats", {})
    verdicts = []
    for r in rep.get("results", []):
        v = r["verdict"]
        if v == "violated" and r.get("anomaly"):
            v += f":{r['anomaly']}"
        elif v == "incomplete" and r.get("bound"):
            v += f" ({r['bound']})"
        verdicts.append(f"{r['invariant']} {v}")
    row.update(states=stats.get("states"), transitions=stats.get("transitions"),
               engine_seconds=stats.get("seconds"), complete=rep.get("complete"), cut=rep.get("cut"),
               verdict="; ".join(verdicts))
    return row


def run_spin(spec: Path, timeout: float, exact: bool) -> dict:
    row = {"spec": spec.stem, "tool": "spin", "mode": "exact", "args": ""}
    with tempfile.TemporaryDirectory(prefix="replcheck-spin-") as d:
        model = Path(d) / "model.pml"
        t0 = time.perf_counter()
        exp = subprocess.run(replcheck_cmd("export", "promela", str(spec), "--invariant", "convergence",
                                           "-o", str(model)), capture_output=True, text=True, cwd=ROOT)
        if exp.returncode != 0:
            row.update(verdict="error", error=exp.stderr.strip())
            return row
        flags = ["-O2", "-w", "-DSAFETY", "-DMEMLIM=16384"]
        if spec.stem in SPIN_HASH_COMPACT and not exact:
            flags.append("-DHC4")
            row["mode"] = "hash-compact (HC4)"
        t1 = time.perf_counter()
        subprocess.run(["spin", "-a", "model.pml"], cwd=d, check=True, capture_output=True)
        subprocess.run(["gcc", *flags, "-o", "pan", "pan.c"], cwd=d, check=True, capture_output=True)
        build = time.perf_counter() - t1
        hash_bits = "-w27" if spec.stem in SPIN_HASH_COMPACT else "-w24"
        m = run_measured(["./pan", "-m1000000", hash_bits], timeout, cwd=d, interrupt_first=True)
        out = m["stdout"]
    num = lambda pat: (int(float(x.group(1))) if (x := re.search(pat, out)) else None)  # noqa: E731
    states = num(r"([\d.e+]+) states, stored")
    transitions = num(r"([\d.e+]+) transitions \(= stored\+matched\)")
    if "assertion violated" in out:
        verdict = "convergence violated"
    elif "errors: 0" in out and "Search not completed" not in out and not m["timed_out"]:
        verdict = "convergence holds"
    else:
        verdict = "incomplete (timeout)" if m["timed_out"] else "incomplete"
        if states is None:   # killed before the summary: the last progress line
            found = re.findall(r"States=\s*([\d.e+]+)\s+Transitions=\s*([\d.e+]+)", out)
            if found:
                states, transitions = (int(float(x)) for x in found[-1])
    row.update(states=states, transitions=transitions, seconds=round(m["seconds"], 2),
               build_seconds=round(build, 2), total_seconds=round(m["seconds"] + build, 2),
               peak_mb=round(m["peak_mb"], 1), verdict=verdict, flags=" ".join(flags) + " | pan " + hash_bits)
    if "hash-compact" in row["mode"] or "HC4" in row.get("flags", ""):
        hc = re.search(r"hash conflicts:\s+(\d+)", out)
        row["hash_conflicts"] = int(hc.group(1)) if hc else None
    return row


def fmt_int(x) -> str:
    return "-" if x is None else f"{x:,}"


def table(rows) -> str:
    head = ("spec", "tool", "mode", "states", "transitions", "seconds", "states/s", "peak MB", "verdict")
    lines = [head]
    for r in rows:
        rate = (r["states"] / r["seconds"]) if r.get("states") and r.get("seconds") else None
        lines.append((r["spec"], r["tool"], r["mode"] + (f" {r['args']}" if r.get("args") else ""),
                      fmt_int(r.get("states")), fmt_int(r.get("transitions")),
                      "-" if r.get("seconds") is None else f"{r['seconds']:.2f}",
                      "-" if rate is None else f"{rate:,.0f}",
                      "-" if r.get("peak_mb") is None else f"{r['peak_mb']:,.0f}",
                      r.get("verdict", "")))
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(head))]
    out = []
    for n, l in enumerate(lines):
        out.append("| " + " | ".join(str(c).ljust(widths[i]) for i, c in enumerate(l)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def ratios(rows) -> list[str]:
    out = []
    by = {}
    for r in rows:
        by.setdefault(r["spec"], {})[(r["tool"], r["mode"])] = r
    for spec, d in by.items():
        default = d.get(("replcheck", "default"))
        base = d.get(("replcheck", "baseline"))
        if default and base and default.get("seconds") and base.get("seconds"):
            at_least = "" if base.get("complete") else ">= "
            cut = "" if default.get("complete") else " (default cut too: both figures are partial)"
            out.append(f"{spec}: baseline/default (replcheck {base['args']}) = "
                       f"{at_least}{base['seconds'] / default['seconds']:.2f}x time, states "
                       f"{at_least}{fmt_int(base.get('states'))} -> {fmt_int(default.get('states'))}{cut}")
        spin = next((r for (t, _), r in d.items() if t == "spin"), None)
        if default and spin and spin.get("seconds"):
            note = "" if spin["verdict"].endswith("holds") else f" (SPIN {spin['verdict']})"
            if not default.get("complete"):   # no cut: every verdict decided, the search stopped early
                note += f" (replcheck {default['cut']})" if default.get("cut") else \
                    " (replcheck stopped early, every verdict decided: no bound cut it)"
            out.append(f"{spec}: replcheck/SPIN wall time = {default['seconds'] / spin['seconds']:.2f}"
                       f" (pan only), {default['seconds'] / spin['total_seconds']:.2f}"
                       f" (spin -a + gcc + pan){note}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated spec names, e.g. B1,B2")
    ap.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    ap.add_argument("--spin", action="store_true", help="also run SPIN on the exported B1-B3")
    ap.add_argument("--spin-exact", action="store_true", help="exact SPIN search for B3 too (needs > 20 GB)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run (default 600)")
    ap.add_argument("--engine-args", default="", help="extra arguments for replcheck check, e.g. \"--engine dfs\"")
    ap.add_argument("--no-baseline", action="store_true", help="skip the runs with reductions switched off")
    a = ap.parse_args(argv)

    specs = sorted(SPECS.glob("*.toml"))
    if a.only:
        want = [x.strip() for x in a.only.split(",") if x.strip()]
        missing = [w for w in want if not (SPECS / f"{w}.toml").is_file()]
        if missing:
            ap.error(f"no spec {', '.join(missing)} in {SPECS} (have {', '.join(s.stem for s in specs)})")
        specs = [SPECS / f"{w}.toml" for w in want]
    extra = tuple(shlex.split(a.engine_args))
    base_flags = () if a.no_baseline else engine_flags()
    if a.spin and not (shutil.which("spin") and shutil.which("gcc")):
        print("bench: --spin needs spin and gcc on PATH (Debian: apt install spin gcc)", file=sys.stderr)
        return 2
    rows = []
    for spec in specs:
        print(f"[{time.strftime('%H:%M:%S')}] {spec.stem} replcheck ...", file=sys.stderr, flush=True)
        row = run_replcheck(spec, "default", a.timeout, extra)
        rows.append(row)
        if row.get("complete") is False and row.get("cut") is None:
            # Every invariant fell early: measure the full space with one that holds.
            print(f"[{time.strftime('%H:%M:%S')}] {spec.stem} replcheck full space ...", file=sys.stderr, flush=True)
            rows.append(run_replcheck(spec, "full", a.timeout, extra, (FULL_SPACE_INVARIANT,)))
        if base_flags:
            print(f"[{time.strftime('%H:%M:%S')}] {spec.stem} replcheck baseline {' '.join(base_flags)} ...",
                  file=sys.stderr, flush=True)
            rows.append(run_replcheck(spec, "baseline", a.timeout, extra + base_flags))
        if a.spin and spec.stem in SPIN_SPECS:
            print(f"[{time.strftime('%H:%M:%S')}] {spec.stem} spin ...", file=sys.stderr, flush=True)
            rows.append(run_spin(spec, a.timeout, a.spin_exact))
    print(table(rows))
    notes = ratios(rows)
    if not base_flags and not a.no_baseline:
        notes.append(f"no baseline: replcheck check offers none of {', '.join(BASELINE_FLAGS)}")
    if notes:
        print()
        print("\n".join(notes))
    if a.json:
        meta = {"machine": platform.node(), "python": platform.python_version(), "cpus": os.cpu_count(),
                "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                         cwd=ROOT).stdout.strip(),
                "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "timeout": a.timeout, "engine_args": a.engine_args,
                "baseline_flags": list(base_flags)}
        Path(a.json).write_text(json.dumps({"meta": meta, "rows": rows, "notes": notes}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
