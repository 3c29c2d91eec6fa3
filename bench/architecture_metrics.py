"""The redesign's figures (issue 13, docs/architecture.md), measured on the
source tree:

    python bench/architecture_metrics.py

Prints the largest modules, the functions over 60 lines, the modules using
the Z3 solver, writes of reduction flags on a System outside its constructor,
and positional state indexing outside the state's owners.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ("replcheck", "model", "checks", "cluster")
FLAG_WRITE = re.compile(r"^\s*\w+\.(por|ghost|dead_content|symmetry)\s*=(?!=)", re.M)
# state[3], s[0][l], state[2][w], t[1][j]... on names that hold states
POSITIONAL = re.compile(r"\b(state|s|t|st|final|start|nxt|image|rep)\[\d\](\[|\b)")
# the one module that spells the state encoding (tests/model/test_state_encoding.py OWNERS)
STATE_OWNERS = {"model/state.py"}


def sources():
    for top in PACKAGE:
        for p in sorted((ROOT / top).rglob("*.py")):
            yield p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")


def long_functions(text: str, limit: int = 60):
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > limit:
                yield node.name, n


def main() -> int:
    files = dict(sources())
    sizes = sorted(((len(t.splitlines()), f) for f, t in files.items()), reverse=True)
    print("largest modules (lines):", ", ".join(f"{f} {n}" for n, f in sizes[:5]))
    longs = [(f, name, n) for f, t in files.items() for name, n in long_functions(t)]
    print(f"functions over 60 lines: {len(longs)}")
    for f, name, n in sorted(longs, key=lambda x: -x[2]):
        print(f"  {f}:{name} {n}")
    z3_import = re.compile(r"^\s*(import|from)\s+" + "z3" + r"\b", re.M)   # spelled so this file is no match
    z3 = sorted(f for f, t in files.items() if z3_import.search(t))
    print(f"modules importing z3: {len(z3)} ({', '.join(z3)})")
    outside = [f for f in z3 if not f.startswith("checks/smt/")]
    print(f"  outside checks/smt/: {len(outside)}")
    writes = [(f, m.group(0).strip()) for f, t in files.items() if f not in ("model/system.py", "model/reduced.py")
              for m in FLAG_WRITE.finditer(t)]
    print(f"reduction-flag writes on a model outside its constructor: {len(writes)}")
    for f, w in writes:
        print(f"  {f}: {w}")
    pos = {f: len(POSITIONAL.findall(t)) for f, t in files.items() if f not in STATE_OWNERS}
    pos = {f: n for f, n in pos.items() if n}
    print(f"positional state indexing outside {', '.join(sorted(STATE_OWNERS))}: {sum(pos.values())}")
    for f, n in sorted(pos.items(), key=lambda x: -x[1]):
        print(f"  {f}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
