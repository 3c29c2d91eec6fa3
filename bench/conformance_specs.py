"""Write specs/conformance/pglogical/*.toml: each conformance case of issue 19
under each pglogical preset, with the model's verdicts as [expect] (read
from the model when written, then reviewed) and, when a PostgreSQL +
pglogical target runs here, the observation as [observed]
(docs/conformance.md).  Run: python bench/conformance_specs.py [--observe]
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "specs" / "conformance" / "pglogical"
MODES = ("apply-remote", "keep-local", "last-update-wins", "first-update-wins")

CREATE = {"id": "create", "leader": "n1", "key": "doc1.title", "insert": "Budget 2026 (draft)"}


def op(id, leader, kind, value, t, after=("create",)):
    """An op; ``t`` is documentation only.  Conformance specs give no
    ``time_ms``: a commit's wall timestamp is then its commit index (+ the
    leader's offset), which a real server reproduces by committing in the
    schedule's order — with ``time_ms`` an op that waits for a delivery
    commits at the same model millisecond as another, a tie no real clock
    makes (docs/conformance.md "Timing")."""
    o = {"id": id, "leader": leader, "key": "doc1.title", kind: value}
    if after:
        o["after"] = list(after)
    return o


CASES = {
    "update-update": ("Alice updates the row at n1, Bob at n2, both after the row was inserted at n1; in some runs"
                      " neither update has arrived at the other node: an update/update conflict (the seed)",
                      ["n1", "n2"], {}, [CREATE, op("alice", "n1", "update", "Budget 2026 (EU)", 100),
                                         op("bob", "n2", "update", "Budget 2026 (US)", 150)]),
    "update-skew": ("n2's clock runs 2 s behind (libfaketime on the real server); Bob updates at n2 after he has"
                    " seen Alice's update: his commit timestamp is the older one",
                    ["n1", "n2"], {"n2": -2000}, [CREATE, op("alice", "n1", "update", "Budget 2026 (EU)", 100),
                                                  op("bob", "n2", "update", "Budget 2026 (US)", 150, ("alice",))]),
    "insert-insert": ("Alice inserts the row at n1, Bob inserts the same key at n2: an insert/insert"
                      " conflict where neither saw the other, or a duplicate-key error where Bob saw Alice's row",
                      ["n1", "n2"], {}, [op("alice", "n1", "insert", "Budget 2026 (EU)", 0, ()),
                                         op("bob", "n2", "insert", "Budget 2026 (US)", 50, ())]),
    "update-delete": ("Alice updates the row at n1, Bob deletes it at n2",
                      ["n1", "n2"], {}, [CREATE, op("alice", "n1", "update", "Budget 2026 (EU)", 100),
                                         op("bob", "n2", "delete", True, 150)]),
    "delete-update": ("Alice deletes the row at n1, Bob updates it at n2",
                      ["n1", "n2"], {}, [CREATE, op("alice", "n1", "delete", True, 100),
                                         op("bob", "n2", "update", "Budget 2026 (US)", 150)]),
    "delete-delete": ("Alice deletes the row at n1, Bob deletes it at n2",
                      ["n1", "n2"], {}, [CREATE, op("alice", "n1", "delete", True, 100),
                                         op("bob", "n2", "delete", True, 150)]),
    "three-nodes": ("Three nodes all-to-all: the row is inserted at n1; Alice updates it at n2, Bob at n3,"
                    " each after the row reached them",
                    ["n1", "n2", "n3"], {}, [CREATE, op("alice", "n2", "update", "Budget 2026 (EU)", 100),
                                             op("bob", "n3", "update", "Budget 2026 (US)", 150)]),
}


def _toml(value) -> str:
    import json
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f'{k} = {_toml(v)}' for k, v in value.items()) + " }"


def write(case: str, mode: str, observe: bool) -> Path:
    from replcheck import check, load
    desc, leaders, offsets, ops = CASES[case]
    resolver = f"pglogical-{mode}"
    lines = [f'name = "{case}-{mode}"',
             f"description = {_toml(desc + f'; pglogical conflict_resolution = {mode.replace(chr(45), chr(95))}')}",
             "", "[system]", f"leaders = {_toml(leaders)}", 'topology = "all-to-all"', f'resolver = "{resolver}"']
    if offsets:
        lines.append(f"offsets = {_toml(offsets)}")
    for o in ops:
        lines += ["", "[[workload]]"] + [f"{k} = {_toml(v)}" for k, v in o.items()]
    path = OUT / f"{case}-{mode}.toml"
    path.write_text("\n".join(lines) + "\n\n[check]\ninvariants = [\"convergence\", \"no-lost-writes\"]\n")
    report = check(load(str(path)))
    lines += ["", "[check]", 'invariants = ["convergence", "no-lost-writes"]', "", "[expect]"]
    for r in report.results:
        v = r.verdict if r.verdict != "violated" else f"violated:{r.anomaly}"
        lines.append(f'{r.invariant} = "{v}"')
    if observe:
        from replcheck.checks.conform.observed import observed_table
        from replcheck.checks.conform.run import AGREE, conform
        c = conform(load(str(path)), "pglogical")
        lines += [""] + observed_table(c, datetime.date.today().isoformat()).rstrip("\n").split("\n")
        print(f"{path.name}: {c.count(AGREE)}/{len(c.outcomes)} agree, {c.seconds:.1f} s", file=sys.stderr)
    path.write_text("\n".join(lines) + "\n")
    return path


def record(path: Path, target: str) -> None:
    """Run ``path`` on ``target`` and (re)write its [observed] table."""
    from replcheck import load
    from replcheck.checks.conform.observed import observed_table
    from replcheck.checks.conform.run import conform
    text = path.read_text()
    if "\n[observed]" in text:
        cut = text.index("\n[observed]")
        comment = text.rfind("\n# What `replcheck conform", 0, cut)
        text = text[:comment if comment != -1 else cut].rstrip("\n") + "\n"
    c = conform(load(str(path)), target)
    path.write_text(text + "\n" + observed_table(c, datetime.date.today().isoformat()))
    print(f"{path}: {len(c.outcomes)} schedules, {c.seconds:.1f} s", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--observe", action="store_true", help="run each spec on real PostgreSQL + pglogical")
    ap.add_argument("--only", help="one case name")
    ap.add_argument("--record", nargs=2, metavar=("SPEC", "TARGET"),
                    help="(re)record the [observed] table of one existing spec on TARGET (e.g. a pycrdt spec)")
    args = ap.parse_args()
    if args.record:
        record(Path(args.record[0]), args.record[1])
        return
    OUT.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        if args.only and case != args.only:
            continue
        for mode in MODES:
            print(write(case, mode, args.observe).relative_to(ROOT))


if __name__ == "__main__":
    main()
