"""Mutation testing of the resolvers, invariants and reductions (docs/mutation.md).

A small mutator of our own (Python ``ast``, no dependency): it plants one
classic bug at a time in the code that decides verdicts, runs a fast kill
suite against it in a throw-away copy of the repository, and reports which
mutants the tests notice (*killed*) and which they do not (*survived*).  A
survivor is either a missing test or an equivalent mutant (the same
behaviour on every input); docs/mutation.md lists each one with what we did.

    python bench/mutate.py --list                         # every mutant, no run
    python bench/mutate.py --n 60 --seed 1 --json out.json
    python bench/mutate.py --only ID [--only ID ...]      # re-run chosen mutants
    python bench/mutate.py --rev HEAD ...                 # mutate a commit, not the work tree
    python bench/mutate.py --rev HEAD --overlay tests/test_mutation_kills.py \
        --extra tests/test_mutation_kills.py --only ID    # re-run a survivor against new tests

The repository's own files are never touched: the base tree (``model/``,
``checks/``, ``tests/``, ``specs/``, ``examples/``, ``pyproject.toml``; from
the work tree, or from ``git archive REV`` with ``--rev``) is copied once to
a temporary directory, and each mutant runs in a fresh copy of that base with
``PYTHONPATH`` pointing at it.  Before the campaign the kill suite runs once
on the unmutated base: a test that already fails there is deselected (and
reported), and its time sets the default per-mutant timeout.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("replcheck", "model", "checks", "tests", "specs", "queries", "examples", "pyproject.toml")

# What is mutated, and where in it.  ``None``: the whole module; a regex:
# only code inside a function (at any nesting) whose name matches it.
RESOLVER_LOGIC = (r"^(merge|apply|stamp|stamp_register|visible|_?wins|winner|rank|key|present|generation|value"
                  r"|value_of|sort_value|number|outcome|losses|blame|refuses|cart|rights|is_rejected|is_accepted"
                  r"|rejected_entry|unique_conflict|duplicates|reached_at_live|shown_number|_leader_tie|_val)$")
REDUCTIONS = (r"^(_successors_por|_settle_por|_materialize|applicable|_drop_dead"
              r"|_successors_crash|crash_only|_kept_whole|_crash_run_length|_expand_crash_path)$")
SKIP_RESOLVER_FILES = {"__init__.py", "config.py"}   # the catalogue and the spec parser, not merge logic


def default_targets() -> list[tuple[str, str | None]]:
    out = [(f"model/resolvers/{p.name}", RESOLVER_LOGIC)
           for p in sorted((ROOT / "model" / "resolvers").glob("*.py")) if p.name not in SKIP_RESOLVER_FILES]
    out += [("checks/invariants.py", None), ("model/symmetry.py", None), ("model/por.py", REDUCTIONS),
            ("model/dead_content.py", REDUCTIONS)]
    return out


KILL_SUITE = (
    "tests/model/test_resolvers_core.py",
    "tests/checks/test_invariants.py",
    "tests/model/test_engine.py",
    "tests/model/test_resolvers_catalogue.py",
    "tests/model/test_resolvers_properties.py",
    "tests/specs/test_specs.py",
    "tests/model/test_reductions.py",
    "tests/differential/test_oracle.py::test_every_engine_and_reduction_agrees_on_generated_specs",
    "tests/checks/test_trust_reductions.py::test_crash_reduction_judges_exactly_the_plain_quiescent_states",
)


# ------------------------------------------------------------------ mutants
@dataclass(frozen=True)
class Mutant:
    file: str
    line: int
    col: int
    operator: str
    detail: str          # "a < b -> a <= b"
    start: tuple         # (line, col) of the replaced source span
    end: tuple
    replacement: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.col}:{self.operator}:{self.detail}"


CMP_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BIN_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr}
SMALL_INT = 8

OPERATORS = {
    "cmp-flip": "comparison flip: < <=, > >=, == !=, in / not in, is / is not",
    "bool-op": "and <-> or",
    "arith": "+ <-> - (and the bitset operators | <-> &)",
    "max-min": "max() <-> min()",
    "const-bool": "True <-> False",
    "return-none": "return EXPR -> return None, in predicates (annotated -> bool, or every return is a test)",
    "drop-not": "not EXPR -> EXPR",
    "off-by-one": f"a small int constant (|n| <= {SMALL_INT}) n -> n+1 and n-1",
    "negate-if": "if C: A else: B -> if not (C): A else: B (also C if X else Y)",
}


def _src(node) -> str:
    return ast.unparse(node)


def _is_test(e) -> bool:
    return (isinstance(e, (ast.Compare, ast.BoolOp)) or (isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not))
            or (isinstance(e, ast.Constant) and isinstance(e.value, bool)))


def _is_predicate(fn) -> bool:
    if isinstance(fn.returns, ast.Name) and fn.returns.id == "bool":
        return True
    rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]
    return bool(rets) and all(_is_test(r.value) for r in rets)


class _Collector(ast.NodeVisitor):
    def __init__(self, file: str, scope: str | None):
        self.file, self.scope = file, re.compile(scope) if scope else None
        self.funcs: list = []
        self.out: list[Mutant] = []
        self._skip = 0

    # -- scope
    def _active(self) -> bool:
        if self._skip:
            return False
        if self.scope is None:
            return True
        return any(self.scope.match(f.name) for f in self.funcs)

    def _add(self, node, op, detail, replacement, span=None):
        if not self._active():
            return
        span = span or node
        self.out.append(Mutant(self.file, node.lineno, node.col_offset, op, detail,
                               (span.lineno, span.col_offset), (span.end_lineno, span.end_col_offset),
                               replacement))

    def _skipped(self, node):
        self._skip += 1
        self.generic_visit(node)
        self._skip -= 1

    visit_JoinedStr = _skipped          # col offsets inside f-strings are unreliable on 3.11

    def visit_Expr(self, node):         # docstrings and bare expressions: only what is inside calls
        if isinstance(node.value, ast.Constant):
            return
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)

    def visit_arg(self, node):          # annotations are not behaviour
        return

    def _visit_def(self, node):
        for d in node.decorator_list:
            self.visit(d)
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(d)
        self.funcs.append(node)
        for s in node.body:
            self.visit(s)
        self.funcs.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_def

    # -- operators
    def visit_Compare(self, node):
        for i, op in enumerate(node.ops):
            new = CMP_FLIP.get(type(op))
            if new is None:
                continue
            m = ast.Compare(left=node.left, ops=list(node.ops), comparators=node.comparators)
            m.ops[i] = new()
            self._add(node, "cmp-flip", f"{_src(node)} -> {_src(m)}", f"({_src(m)})")
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        m = ast.BoolOp(op=ast.Or() if isinstance(node.op, ast.And) else ast.And(), values=node.values)
        self._add(node, "bool-op", f"{_src(node)} -> {_src(m)}", f"({_src(m)})")
        self.generic_visit(node)

    def visit_BinOp(self, node):
        new = BIN_SWAP.get(type(node.op))
        stringy = any(isinstance(x, ast.JoinedStr) or (isinstance(x, ast.Constant) and isinstance(x.value, str))
                      for x in (node.left, node.right))      # 'a' - 'b' is a stillborn TypeError
        if new is not None and not stringy:
            m = ast.BinOp(left=node.left, op=new(), right=node.right)
            self._add(node, "arith", f"{_src(node)} -> {_src(m)}", f"({_src(m)})")
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        new = BIN_SWAP.get(type(node.op))
        if new is not None:
            m = ast.AugAssign(target=node.target, op=new(), value=node.value)
            self._add(node, "arith", f"{_src(node)} -> {_src(m)}", _src(m))
        self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
            other = "min" if node.func.id == "max" else "max"
            self._add(node.func, "max-min", f"{node.func.id}(...) -> {other}(...)", other)
        self.generic_visit(node)

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            self._add(node, "const-bool", f"{v} -> {not v}", repr(not v))
        elif isinstance(v, int) and abs(v) <= SMALL_INT:
            for d in (1, -1):
                self._add(node, "off-by-one", f"{v} -> {v + d}", f"({v + d})")

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            self._add(node, "drop-not", f"{_src(node)} -> {_src(node.operand)}", f"({_src(node.operand)})")
        elif isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
                and type(node.operand.value) is int and abs(node.operand.value) <= SMALL_INT:
            v = -node.operand.value
            for d in (1, -1):
                self._add(node, "off-by-one", f"{v} -> {v + d}", f"({v + d})")
            return
        self.generic_visit(node)

    def visit_Return(self, node):
        if node.value is not None and self.funcs and _is_predicate(self.funcs[-1]) \
                and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self._add(node, "return-none", f"return {_src(node.value)} -> return None", "return None")
        self.generic_visit(node)

    def visit_If(self, node):
        self._add(node, "negate-if", f"if {_src(node.test)}: -> if not ({_src(node.test)}):",
                  f"not ({_src(node.test)})", span=node.test)
        self.generic_visit(node)

    def visit_IfExp(self, node):
        self._add(node, "negate-if", f"{_src(node.test)} if-else -> not ({_src(node.test)})",
                  f"(not ({_src(node.test)}))", span=node.test)
        self.generic_visit(node)


def _apply(source: str, m: Mutant) -> str:
    lines = source.splitlines(keepends=True)
    offs = [0]
    for ln in lines:
        offs.append(offs[-1] + len(ln.encode()))
    b = source.encode()
    s = offs[m.start[0] - 1] + m.start[1]
    e = offs[m.end[0] - 1] + m.end[1]
    return (b[:s] + m.replacement.encode() + b[e:]).decode()


def mutants_of(base: Path, targets) -> list[Mutant]:
    out = []
    for rel, scope in targets:
        src = (base / rel).read_text()
        tree = ast.parse(src)
        c = _Collector(rel, scope)
        c.visit(tree)
        orig = ast.dump(tree)
        seen = set()
        for m in c.out:
            try:
                new = _apply(src, m)
                d = ast.dump(ast.parse(new))
                compile(new, rel, "exec")
            except SyntaxError:
                continue
            if d == orig or (m.file, d) in seen:      # no change, or a duplicate of another mutant
                continue
            seen.add((m.file, d))
            out.append(m)
    return out


def sample(every: list[Mutant], n: int, seed: int) -> list[Mutant]:
    """``n`` mutants, stratified by operator: each operator gets its share
    of ``n`` in proportion to how many mutants it generated, at least one;
    within an operator the choice is uniform.  Reproducible from ``seed``."""
    rng = random.Random(seed)
    by_op: dict[str, list] = {}
    for m in every:
        by_op.setdefault(m.operator, []).append(m)
    quota = {op: max(1, round(n * len(ms) / len(every))) for op, ms in sorted(by_op.items())}
    while sum(quota.values()) > n:           # rounding and the minimum of one: trim the largest
        big = max(quota, key=lambda op: (quota[op], op))
        quota[big] -= 1
    while sum(quota.values()) < n:
        spare = [op for op in sorted(quota) if quota[op] < len(by_op[op])]
        op = max(spare, key=lambda o: (len(by_op[o]) - quota[o], o))
        quota[op] += 1
    chosen = []
    for op in sorted(by_op):
        chosen += rng.sample(by_op[op], quota[op])
    return sorted(chosen, key=lambda m: (m.file, m.line, m.col, m.operator, m.detail))


# ------------------------------------------------------------------ running
@dataclass
class Result:
    id: str
    file: str
    line: int
    operator: str
    detail: str
    status: str                  # killed | survived | timeout
    first_failure: str | None
    seconds: float
    tail: list = field(default_factory=list)


def make_base(rev: str | None, overlay=()) -> Path:
    d = Path(tempfile.mkdtemp(prefix="replcheck-mutate-base-"))
    if rev:
        arch = subprocess.run(["git", "-C", str(ROOT), "archive", rev, *COPIED], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(d)], input=arch.stdout, check=True)
    else:
        for name in COPIED:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, d / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
            else:
                shutil.copy2(src, d / name)
    for rel in overlay:              # work-tree files laid over a --rev base (e.g. a new test file)
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, d / rel)
    return d


def _pytest(copy: Path, suite, deselect, timeout, seed, xfirst=True):
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", f"--hypothesis-seed={seed}",
           "--no-header", "--tb=line"]
    if xfirst:
        cmd.append("-x")
    for t in deselect:
        cmd += ["--deselect", t]
    cmd += list(suite)
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)      # the pytest we started, and its children
        p.communicate()
        return None, "", time.monotonic() - t0


def _failures(out: str) -> list[str]:
    fs = []
    for ln in out.splitlines():
        if ln.startswith(("FAILED ", "ERROR ")):
            fs.append(ln.split(" ", 1)[1].split(" - ", 1)[0].strip())
    return fs


def run_mutant(base: Path, m: Mutant, suite, deselect, timeout, seed) -> Result:
    work = Path(tempfile.mkdtemp(prefix="replcheck-mutant-"))
    try:
        copy = work / "repo"
        shutil.copytree(base, copy)
        target = copy / m.file
        target.write_text(_apply(target.read_text(), m))
        rc, out, secs = _pytest(copy, suite, deselect, timeout, seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if rc is None:
        status, first = "timeout", None
    elif rc == 0:
        status, first = "survived", None
    else:
        status = "killed"
        fs = _failures(out)
        first = fs[0] if fs else f"pytest exit {rc}"
    tail = [] if status == "survived" else out.strip().splitlines()[-4:]
    return Result(m.id, m.file, m.line, m.operator, m.detail, status, first, round(secs, 1), tail)


def baseline(base: Path, suite, seed):
    rc, out, secs = _pytest(base, suite, (), None, seed, xfirst=False)
    return _failures(out), secs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=None, help="sample this many mutants (default: all)")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed (also --hypothesis-seed)")
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per mutant (default 3x the baseline)")
    ap.add_argument("--rev", default=None, help="mutate this commit (git archive) instead of the work tree")
    ap.add_argument("--target", action="append", default=None,
                    help="FILE or FILE::REGEX (functions to mutate); repeatable; default: see docs/mutation.md")
    ap.add_argument("--suite", action="append", default=None, help="a pytest node id for the kill suite; repeatable")
    ap.add_argument("--extra", action="append", default=[], help="add a pytest node id to the default kill suite")
    ap.add_argument("--deselect", action="append", default=[], help="drop a test from the kill suite")
    ap.add_argument("--overlay", action="append", default=[],
                    help="copy this work-tree file over the --rev base (e.g. a new test file); repeatable")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run (then nothing is deselected and the timeout defaults to 180 s)")
    ap.add_argument("--only", action="append", default=None, help="run only these mutant ids (from --json)")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--json", default=None, help="write every result and the summary here")
    a = ap.parse_args(argv)

    targets = default_targets() if not a.target else [tuple(t.split("::", 1)) if "::" in t else (t, None)
                                                      for t in a.target]
    suite = list(a.suite or KILL_SUITE) + a.extra
    base = make_base(a.rev, a.overlay)
    try:
        every = mutants_of(base, targets)
        if a.list:
            for m in every:
                print(m.id)
            print(f"{len(every)} mutants", file=sys.stderr)
            return 0
        if a.only:
            want = set(a.only)
            chosen = [m for m in every if m.id in want]
            missing = want - {m.id for m in chosen}
            if missing:
                print("unknown mutant ids:\n  " + "\n  ".join(sorted(missing)), file=sys.stderr)
                return 2
        elif a.n is not None and a.n < len(every):
            chosen = sample(every, a.n, a.seed)
        else:
            chosen = every
        per_op = {}
        for m in every:
            per_op[m.operator] = per_op.get(m.operator, 0) + 1
        print(f"mutants generated: {len(every)} ({', '.join(f'{k} {v}' for k, v in sorted(per_op.items()))});"
              f" running {len(chosen)}", flush=True)

        deselect = list(a.deselect)
        base_secs = None
        if not a.no_baseline:
            fails, base_secs = baseline(base, suite, a.seed)
            print(f"baseline (unmutated{' ' + a.rev if a.rev else ' work tree'}): {base_secs:.0f} s, "
                  f"{len(fails)} failing test(s)", flush=True)
            for f in fails:
                print(f"  already failing, deselected: {f}", flush=True)
            deselect += fails
        timeout = a.timeout or max(60.0, 3 * (base_secs or 60.0))

        results: list[Result] = []

        def report(r: Result):
            results.append(r)
            extra = f"  <- {r.first_failure}" if r.first_failure else ""
            print(f"[{len(results):3}/{len(chosen)}] {r.status:8} {r.file}:{r.line} {r.operator} "
                  f"({r.detail}) {r.seconds:.0f}s{extra}", flush=True)

        t0 = time.monotonic()
        if a.jobs <= 1:
            for m in chosen:
                report(run_mutant(base, m, suite, deselect, timeout, a.seed))
        else:
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(a.jobs) as ex:
                for r in ex.map(lambda m: run_mutant(base, m, suite, deselect, timeout, a.seed), chosen):
                    report(r)
        wall = time.monotonic() - t0

        killed = sum(r.status == "killed" for r in results)
        timeouts = sum(r.status == "timeout" for r in results)
        survived = [r for r in results if r.status == "survived"]
        rate = (killed + timeouts) / len(results) if results else 0.0
        print(f"\nsummary: {len(every)} generated, {len(results)} run, {killed} killed, {timeouts} timeout, "
              f"{len(survived)} survived; kill rate {100 * rate:.1f}% (timeouts count as killed); {wall:.0f} s")
        for r in survived:
            print(f"  survived: {r.id}")
        if a.json:
            Path(a.json).write_text(json.dumps({
                "generated": len(every), "run": len(results), "killed": killed, "timeout": timeouts,
                "survived": len(survived), "kill_rate": round(rate, 4), "seed": a.seed, "n": a.n,
                "rev": a.rev, "suite": suite, "deselected": deselect, "timeout_s": timeout,
                "baseline_s": None if base_secs is None else round(base_secs, 1), "seconds": round(wall, 1),
                "generated_by_operator": per_op, "results": [asdict(r) for r in results],
            }, indent=2) + "\n")
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
