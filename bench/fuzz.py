"""The fuzzing campaign of issue 14 (docs/reliability.md): mutated specs,
traces, drill answers, queries and merge files through every command, plus
targeted -o and bounds probes, each run in a subprocess with a time and a
memory limit, classified by tests/fuzz/oracle.py.

    python bench/fuzz.py --n 2000 --seed 1
    python bench/fuzz.py --n 300 --seed 2 --commands check,replay --failures bench/results/fuzz
    python bench/fuzz.py --seed 1 --only 17,230 --failures /tmp/f     # re-run single cases

Prints the figures table (per command: inputs, ok, tracebacks, internal
errors, hangs, OOM, wrong exit codes, injections, unsafe file behaviours),
the same per probe kind, and the distinct root causes (finding signatures)
with a count and one example command line.  ``--failures DIR`` keeps each
failing case as DIR/<id>/ (its input files, command.txt with the command
line, mutations and findings, stdout.txt, stderr.txt, repro.sh); ``--json
FILE`` writes every run's record and the summary.  Exit 0 when no run has
a finding, 1 otherwise.  Cases depend only on (--seed, index), so any
prefix of a campaign is reproducible and --only re-runs one case.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz import campaign, oracle  # noqa: E402

COLUMNS = [("inputs", None), ("ok", None), ("tracebacks", "traceback"), ("internal errors", "internal"),
           ("hangs", "hang"), ("OOM", "oom"), ("wrong exit codes", "wrong-exit"), ("injections", "injection"),
           ("unsafe file", "unsafe-file")]

_STATE = {}


def _init(corpus, seed, commands, workdir, failures, mem, timeout):
    _STATE.update(corpus=corpus, seed=seed, commands=commands, workdir=Path(workdir),
                  failures=Path(failures) if failures else None, mem=mem, timeout=timeout)


def _work(index: int) -> dict:
    try:
        return _work1(index)
    except Exception as e:  # noqa: BLE001 - a bug of the harness must not stop the campaign
        import traceback
        return {"index": index, "id": f"s{_STATE['seed']}-{index:05d}-harness", "command": "(harness)", "probe": "-",
                "rc": None, "seconds": 0.0, "timed_out": False, "argv": [], "command_line": "", "origin": "",
                "mutations": [], "notes": [], "stderr": "", "harness_error": traceback.format_exc(),
                "findings": [{"kind": "harness", "rule": "harness", "signature": f"harness: {type(e).__name__}: {e}",
                              "detail": traceback.format_exc()[-500:]}]}


def _work1(index: int) -> dict:
    s = _STATE
    case = campaign.build_case(s["corpus"], s["seed"], index, s["commands"])
    if s["timeout"]:
        case.timeout = s["timeout"]
    res = oracle.run(case, s["workdir"], s["mem"])
    findings = oracle.classify(case, res)
    rec = {"index": index, "id": case.id, "command": case.command, "probe": case.probe, "rc": res.rc,
           "seconds": round(res.seconds, 3), "timed_out": res.timed_out, "argv": case.argv,
           "command_line": case.command_line(), "origin": case.origin, "mutations": case.mutations,
           "notes": res.notes, "findings": [f.as_dict() for f in findings],
           "stderr": oracle.text(res.stderr)[:2000]}
    if findings and s["failures"]:
        _save(case, res, findings, s["failures"])
    if case.probe == "o-symlink":
        rec["symlink"] = {"rc": res.rc, "notes": res.notes, "stderr": oracle.text(res.stderr).strip()[:300]}
    return rec


def _save(case, res, findings, failures: Path) -> None:
    d = failures / case.id
    if d.exists():
        shutil.rmtree(d)
    oracle.materialise(case, d)
    lines = [f"# {case.id}: {case.command} ({case.probe})", f"cd {shlex.quote(str(d))}", case.command_line(), "",
             f"origin: {case.origin}", "mutations:"] + [f"  - {m}" for m in case.mutations] + [
        f"exit: {res.rc}  seconds: {res.seconds:.2f}  timed out: {res.timed_out}", "findings:"] + [
        f"  - {f.kind} [{f.rule}] {f.signature}\n      {f.detail}" for f in findings] + [
        f"notes: {n}" for n in res.notes]
    (d / "command.txt").write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
    (d / "stdout.txt").write_bytes(res.stdout[:2_000_000])
    (d / "stderr.txt").write_bytes(res.stderr[:2_000_000])
    if res.debug:
        (d / "debug-traceback.txt").write_text(res.debug, encoding="utf-8", errors="replace")
    (d / "repro.sh").write_text("#!/bin/sh\n# run from this folder (inputs are here)\ncd \"$(dirname \"$0\")\"\n"
                                + case.command_line() + "\necho \"exit $?\"\n")


def summarise(records) -> dict:
    rows = collections.OrderedDict()
    probes = collections.OrderedDict()
    causes = {}
    for r in records:
        for table, key in ((rows, r["command"]), (probes, r["probe"])):
            row = table.setdefault(key, collections.Counter())
            row["inputs"] += 1
            kinds = {f["kind"] for f in r["findings"]}
            if not kinds:
                row["ok"] += 1
            for k in kinds:
                row[k] += 1
        for f in r["findings"]:
            c = causes.setdefault((f["kind"], f["signature"]), {"kind": f["kind"], "signature": f["signature"],
                                                                "runs": 0, "commands": set(), "example": r["id"],
                                                                "command_line": r["command_line"],
                                                                "detail": f["detail"]})
            c["runs"] += 1
            c["commands"].add(r["command"])
    total = collections.Counter()
    for row in rows.values():
        total.update(row)
    secs = [r["seconds"] for r in records]
    return {"rows": {k: dict(v) for k, v in rows.items()}, "total": dict(total),
            "probes": {k: dict(v) for k, v in probes.items()},
            "causes": sorted(({**c, "commands": sorted(c["commands"])} for c in causes.values()),
                             key=lambda c: (c["kind"], -c["runs"])),
            "run_seconds": {"mean": round(statistics.mean(secs), 3) if secs else 0,
                            "median": round(statistics.median(secs), 3) if secs else 0,
                            "max": round(max(secs), 1) if secs else 0},
            "slow_unbounded": sum(1 for r in records if "slow-unbounded" in r["notes"]),
            "slow": [(r["id"], r["command"], r["seconds"]) for r in records
                     if r["seconds"] > 20 and not r["timed_out"]]}


def table(rows: dict, total: dict | None, first="command") -> str:
    head = [first] + [c for c, _ in COLUMNS]
    body = []
    for name, row in rows.items():
        body.append([name] + [str(row.get(key or col, 0)) for col, key in COLUMNS])
    if total is not None:
        body.append(["**total**"] + [f"**{total.get(key or col, 0)}**" for col, key in COLUMNS])
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * len(COLUMNS)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500, help="inputs (runs) in the campaign (default 500)")
    ap.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    ap.add_argument("--commands", default="", help=f"comma-separated subset of: {', '.join(campaign.COMMANDS)}")
    ap.add_argument("--only", default="", help="comma-separated case indices to run (with the same --seed)")
    ap.add_argument("--json", type=Path, help="write every run's record and the summary here")
    ap.add_argument("--failures", type=Path, help="keep each failing case (inputs, command line, output) here")
    ap.add_argument("--workers", type=int, default=2, help="parallel runs (default 2: this is a 2-core machine)")
    ap.add_argument("--memory-gb", type=float, default=2.0, help="address-space limit of each run (default 2)")
    ap.add_argument("--timeout", type=float, default=0, help="override each run's wall-clock timeout (seconds)")
    args = ap.parse_args(argv)
    commands = [c.strip() for c in args.commands.split(",") if c.strip()] or list(campaign.COMMANDS)
    unknown = [c for c in commands if c not in campaign.COMMANDS]
    if unknown:
        ap.error(f"unknown command(s) {', '.join(unknown)}; choose from {', '.join(campaign.COMMANDS)}")
    indices = [int(i) for i in args.only.split(",") if i.strip()] or list(range(args.n))
    workdir = Path(tempfile.mkdtemp(prefix="replcheck-fuzz-"))
    t0 = time.monotonic()
    print(f"fuzz: seed {args.seed}, {len(indices)} inputs, {args.workers} workers, "
          f"{args.memory_gb:g} GiB per run; preparing the corpus ...", file=sys.stderr, flush=True)
    corpus = campaign.load_corpus(workdir / "corpus")
    records = []
    interrupted = False
    mem = int(args.memory_gb * 1024 ** 3)
    try:
        with cf.ProcessPoolExecutor(args.workers, initializer=_init,
                                    initargs=(corpus, args.seed, commands, str(workdir), args.failures, mem,
                                              args.timeout)) as pool:
            futures = [pool.submit(_work, i) for i in indices]
            try:
                for k, fut in enumerate(cf.as_completed(futures), 1):
                    r = fut.result()
                    records.append(r)
                    for f in r["findings"]:
                        print(f"{r['id']} {r['command']:<15} {f['kind']:<11} {f['signature'][:110]}", flush=True)
                    if k % 100 == 0:
                        print(f"... {k}/{len(indices)} runs, {time.monotonic() - t0:.0f} s", file=sys.stderr,
                              flush=True)
            except KeyboardInterrupt:
                interrupted = True
                for fut in futures:
                    fut.cancel()
                print("interrupted: the figures cover the runs that finished", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - t0
    records.sort(key=lambda r: r["index"])
    s = summarise(records)
    s.update(seed=args.seed, n=len(records), seconds=round(elapsed, 1), workers=args.workers,
             memory_gb=args.memory_gb, interrupted=interrupted,
             command=" ".join(["python bench/fuzz.py"] + (argv if argv is not None else sys.argv[1:])))
    order = [c for c in campaign.COMMANDS if c in s["rows"]]
    print()
    print(table({c: s["rows"][c] for c in order}, s["total"]))
    print()
    print(table(s["probes"], None, first="probe"))
    print()
    print(f"{len(records)} runs in {elapsed:.0f} s ({len(records) / max(elapsed, 1e-9):.2f} runs/s with "
          f"{args.workers} workers); per run: mean {s['run_seconds']['mean']} s, median "
          f"{s['run_seconds']['median']} s, max {s['run_seconds']['max']} s; "
          f"{s['slow_unbounded']} unbounded runs outlived the timeout but stopped with bounds")
    if s["slow"]:
        print(f"\nslow but finished (> 20 s with bounds): " + ", ".join(f"{i} {c} {t:.0f} s" for i, c, t in s["slow"]))
    if s["causes"]:
        print("\nroot causes (kind, runs, signature, example):")
        for c in s["causes"]:
            print(f"  {c['kind']:<11} {c['runs']:>5}  {c['signature'][:140]}\n"
                  f"{'':<19}e.g. {c['example']}: {c['command_line'][:200]}")
    syml = [r for r in records if r.get("symlink")]
    if syml:
        print("\n-o onto a symlink (what happened):")
        seen = set()
        for r in syml:
            key = (r["mutations"][-1] if r["mutations"] else "", r["rc"], tuple(r["notes"]))
            if key in seen:
                continue
            seen.add(key)
            print(f"  {r['mutations'][-1] if r['mutations'] else ''}: exit {r['rc']}; {'; '.join(r['notes'])}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": s, "runs": records}, indent=1, default=str))
    return 1 if s["total"].get("ok", 0) != len(records) else 0


if __name__ == "__main__":
    sys.exit(main())
