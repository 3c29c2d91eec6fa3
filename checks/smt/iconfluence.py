"""I-confluence: can an invariant be kept without coordination?

After Bailis et al., "Coordination Avoidance in Database Systems", VLDB
2015: a set of operations is I-confluent for an invariant ``I`` when any
two ``I``-valid states reached from a common ``I``-valid ancestor, each by
operations that preserve ``I`` locally, merge into an ``I``-valid state.
Their theorem: coordination-free, convergent, available execution that
preserves ``I`` exists iff the operations are I-confluent.

A *query* (a TOML file, :func:`load_query`) declares state variables
(integers, sets over a bounded universe, tables with a unique key), the
merge of each, operations (parameters, a guard, effects, inserts) and the
invariant.  Two leaders ``A`` and ``B`` start from the same ancestor; each
runs up to ``max_ops`` operations; an operation runs only when its guard
holds and the state after it still satisfies ``I`` (the database refuses it
otherwise — ``I`` is preserved locally).  Z3 searches for a run whose merge
(at either leader) violates ``I``.

``i-confluent`` is a proof *for the stated bounds*: every ancestor (any
integers; up to ``rows`` rows per table), every choice of up to
``max_ops`` operations per branch with any integer parameters.  It is not a
proof for longer branches.  A counterexample is always a real one.

Merges: an integer or set variable merges by an expression over
``local``, ``remote`` and ``ancestor`` (a counter: ``local + remote -
ancestor``; a register: ``max(local, remote)``; a set:
``union(local, remote)``); a table merges by the union of its rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import z3

from replcheck.bundled import locate
from replcheck.checks.smt import context
from replcheck.checks.smt.expr import QueryError, Table, parse, to_z3
from replcheck.model.errors import did_you_mean
from replcheck.model.spec import read_toml

BRANCHES = ("A", "B")
_TOP = {"name", "description", "invariant", "max_ops", "vars", "tables", "ops"}
_VAR = {"type", "merge", "universe"}
_TABLE = {"columns", "unique", "rows"}
_OP = {"name", "params", "at", "guard", "effect", "insert"}


@dataclass(frozen=True)
class Var:
    name: str
    kind: str            # int | set
    merge: tuple
    universe: int = 0


@dataclass(frozen=True)
class TableDecl:
    name: str
    columns: tuple[str, ...]
    unique: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class Op:
    name: str
    params: tuple[str, ...]
    at: tuple[str, ...]
    guard: tuple | None
    effect: tuple[tuple[str, tuple], ...]
    insert: tuple[str, tuple[tuple[str, tuple], ...]] | None


@dataclass(frozen=True)
class Query:
    source: str
    name: str
    description: str
    invariant: tuple
    invariant_text: str
    max_ops: int
    vars: tuple[Var, ...]
    tables: tuple[TableDecl, ...]
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Step:
    op: str
    params: tuple[tuple[str, int], ...]
    state: str


@dataclass(frozen=True)
class Verdict:
    """``confluent`` (proved within ``bounds``), a counterexample, or
    ``incomplete`` (z3 decided nothing within the time limit: neither a
    proof nor a counterexample; ``note`` says why).

    A counterexample is ``minimal`` when no run with fewer operations (and
    ancestor rows) violates the invariant; when minimisation ran out of
    time the counterexample found first is kept, ``minimal`` is false and
    ``note`` says so — it is still a real counterexample.
    """

    query: Query
    confluent: bool
    bounds: str
    ancestor: str = ""
    branch_a: tuple[Step, ...] = ()
    branch_b: tuple[Step, ...] = ()
    merged_at: str = ""
    merged: str = ""
    incomplete: bool = False
    minimal: bool = True
    note: str = ""


def load_query(path) -> Query:
    """Read and validate a query file (errors name the file and key)."""
    src = str(path)
    try:
        data = read_toml(locate(path), src, QueryError, "fix the syntax")
    except OSError:
        raise QueryError(src, "", "cannot read this file; pass an I-confluence query .toml (see queries/)") from None

    def unknown(where, table, allowed):
        for k in table:
            if k not in allowed:
                raise QueryError(src, f"{where}{k}", f"unknown key{did_you_mean(k, allowed)}"
                                                     f" (allowed: {', '.join(sorted(allowed))})")

    unknown("", data, _TOP)
    inv = data.get("invariant")
    if isinstance(inv, list):
        inv = " and ".join(f"({x})" for x in inv)
    if not isinstance(inv, str):
        raise QueryError(src, "invariant", 'missing; e.g. invariant = "stock >= 0"')
    max_ops = data.get("max_ops", 2)
    if isinstance(max_ops, bool) or not isinstance(max_ops, int) or not 1 <= max_ops <= 6:
        raise QueryError(src, "max_ops", f"must be an integer from 1 to 6 (operations per branch), got {max_ops!r}")
    def table_of(key, example):
        v = data.get(key, {})
        if not isinstance(v, dict):
            raise QueryError(src, key, f"must be a table of tables, e.g. {example}, got {type(v).__name__}")
        return v

    for k in ("name", "description"):
        if k in data and not isinstance(data[k], str):
            raise QueryError(src, k, f"must be a string, got {type(data[k]).__name__}")
    variables = []
    for name, v in table_of("vars", '[vars.stock] type = "int"').items():
        if not isinstance(v, dict):
            raise QueryError(src, f"vars.{name}", 'must be a table, e.g. [vars.stock] type = "int"')
        unknown(f"vars.{name}.", v, _VAR)
        kind = v.get("type", "int")
        if kind not in ("int", "set"):
            raise QueryError(src, f"vars.{name}.type", f"unknown '{kind}'; int or set (tables go in [tables.NAME])")
        if "merge" not in v:
            raise QueryError(src, f"vars.{name}.merge", 'missing; e.g. merge = "local + remote - ancestor"')
        uni = v.get("universe", 4 if kind == "set" else 0)
        if kind == "set" and (isinstance(uni, bool) or not isinstance(uni, int) or not 1 <= uni <= 16):
            raise QueryError(src, f"vars.{name}.universe", "must be an integer from 1 to 16 (elements 0..universe-1)")
        variables.append(Var(name, kind, parse(v["merge"], src, f"vars.{name}.merge"), uni))
    tables = []
    for name, t in table_of("tables", '[tables.users] columns = ["email"]').items():
        if not isinstance(t, dict):
            raise QueryError(src, f"tables.{name}", 'must be a table, e.g. [tables.users] columns = ["email"]')
        unknown(f"tables.{name}.", t, _TABLE)
        cols = t.get("columns")
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            raise QueryError(src, f"tables.{name}.columns", 'must list the integer columns, e.g. ["id", "email"]')
        uniq = t.get("unique", [])
        uniq = [uniq] if isinstance(uniq, str) else uniq
        if not isinstance(uniq, list) or not all(isinstance(c, str) for c in uniq):
            raise QueryError(src, f"tables.{name}.unique", 'must name columns, e.g. unique = ["email"]')
        for c in uniq:
            if c not in cols:
                raise QueryError(src, f"tables.{name}.unique", f"'{c}' is not a column{did_you_mean(c, cols)}")
        rows = t.get("rows", 2)
        if isinstance(rows, bool) or not isinstance(rows, int) or not 0 <= rows <= 6:
            raise QueryError(src, f"tables.{name}.rows", "must be an integer from 0 to 6 (rows of the ancestor)")
        tables.append(TableDecl(name, tuple(cols), tuple(uniq), rows))
    raw_ops = data.get("ops")
    if not isinstance(raw_ops, list) or not raw_ops:
        raise QueryError(src, "ops", "missing; add at least one [[ops]] with a guard and an effect")
    ops = []
    tnames = {t.name: t for t in tables}
    for i, o in enumerate(raw_ops):
        where = f"ops[{i}]"
        if not isinstance(o, dict):
            raise QueryError(src, where, "must be a table: write each operation as [[ops]] with a guard and an effect")
        unknown(f"{where}.", o, _OP)
        name = o.get("name", f"op{i + 1}")
        if not isinstance(name, str) or not name:
            raise QueryError(src, f"{where}.name", f"must be a string, got {type(name).__name__}")
        params = o.get("params", [])
        if not isinstance(params, list) or not all(isinstance(p, str) and p for p in params):
            raise QueryError(src, f"{where}.params", 'must be a list of parameter names (strings),'
                                                     ' e.g. params = ["n"]')
        params = tuple(params)
        at = o.get("at", list(BRANCHES))
        at = [at] if isinstance(at, str) else at
        if not isinstance(at, list):
            raise QueryError(src, f"{where}.at", 'must be "A", "B" or ["A", "B"]')
        for b in at:
            if b not in BRANCHES:
                raise QueryError(src, f"{where}.at", f"unknown branch '{b}'; the two leaders are A and B")
        guard = parse(o["guard"], src, f"{where}.guard") if "guard" in o else None
        raw_effect = o.get("effect") or {}
        if not isinstance(raw_effect, dict):
            raise QueryError(src, f"{where}.effect", 'must be a table var = "expr", e.g. effect = { stock ='
                                                     ' "stock - 1" }')
        effect = tuple((k, parse(e, src, f"{where}.effect.{k}")) for k, e in raw_effect.items())
        insert = None
        if "insert" in o:
            if not isinstance(o["insert"], dict):
                raise QueryError(src, f"{where}.insert", 'must be a table, e.g. insert = { table = "users",'
                                                         ' email = "e" }')
            ins = dict(o["insert"])
            tname = ins.pop("table", None)
            if not isinstance(tname, str) or tname not in tnames:
                raise QueryError(src, f"{where}.insert.table", f"unknown table {tname!r}"
                                                               f"{did_you_mean(tname, tnames)}")
            cols = tnames[tname].columns
            if set(ins) != set(cols):
                raise QueryError(src, f"{where}.insert", f"give a value for each column of {tname}: {', '.join(cols)}")
            insert = (tname, tuple((c, parse(ins[c], src, f"{where}.insert.{c}")) for c in cols))
        if not effect and insert is None:
            raise QueryError(src, where, "an operation needs an effect = { var = \"expr\" } or an insert")
        ops.append(Op(name, params, tuple(at), guard, effect, insert))
    return Query(src, data.get("name", Path(src).stem), data.get("description", ""),
                 parse(inv, src, "invariant"), inv, max_ops, tuple(variables), tuple(tables), tuple(ops))


class _State:
    """Symbolic values of every variable, and table rows (present, cols)."""

    def __init__(self, values: dict, rows: dict):
        self.values, self.rows = values, rows

    def env(self, q: Query) -> dict:
        env = dict(self.values)
        for t in q.tables:
            env[t.name] = Table(t.name, t.columns, t.unique, self.rows[t.name])
        return env


def _fresh(q: Query, prefix: str) -> _State:
    values = {v.name: (z3.Int(f"{prefix}_{v.name}") if v.kind == "int" else z3.BitVec(f"{prefix}_{v.name}", v.universe))
              for v in q.vars}
    rows = {t.name: [(z3.BoolVal(True), [z3.Int(f"{prefix}_{t.name}{r}_{c}") for c in t.columns])
                     for r in range(t.rows)] for t in q.tables}
    return _State(values, rows)


def _compile(q: Query, tree, env, key):
    return to_z3(tree, env, q.source, key)


def _bool(q, tree, env, key):
    t = _compile(q, tree, env, key)
    if not z3.is_bool(t):
        raise QueryError(q.source, key, "must be a condition (a comparison, and/or/not, contains, unique)")
    return t


class _Branch:
    def __init__(self, q: Query, anc: _State, b: int, cons: list):
        name = BRANCHES[b]
        self.steps = []
        cur = anc
        inv_key = "invariant"
        prev_active = z3.BoolVal(True)
        for s in range(q.max_ops):
            active = z3.Bool(f"{name}{s}_active")
            choice = z3.Int(f"{name}{s}_op")
            cons.append(z3.Implies(active, prev_active))
            prev_active = active
            allowed = [k for k, op in enumerate(q.ops) if name in op.at]
            cons.append(z3.Or([choice == k for k in allowed]) if allowed else z3.Not(active))
            params = {k: {p: z3.Int(f"{name}{s}_{op.name}_{p}") for p in op.params} for k, op in enumerate(q.ops)}
            values = dict(cur.values)
            rows = {t: list(r) for t, r in cur.rows.items()}
            new_rows = {t.name: [] for t in q.tables}
            for k, op in enumerate(q.ops):
                env = cur.env(q) | params[k] | {"replica": z3.IntVal(b)}
                run = z3.And(active, choice == k)
                if op.guard is not None:
                    cons.append(z3.Implies(run, _bool(q, op.guard, env, f"ops.{op.name}.guard")))
                for var, tree in op.effect:
                    if var not in values:
                        raise QueryError(q.source, f"ops.{op.name}.effect.{var}",
                                         f"unknown variable{did_you_mean(var, values)}")
                    e = _compile(q, tree, env, f"ops.{op.name}.effect.{var}")
                    if e.sort() != values[var].sort():
                        raise QueryError(q.source, f"ops.{op.name}.effect.{var}", "has the wrong type for the variable")
                    values[var] = z3.If(run, e, values[var])
                if op.insert is not None:
                    tname, cols = op.insert
                    new_rows[tname].append((run, [_compile(q, c, env, f"ops.{op.name}.insert") for _, c in cols]))
            for t in q.tables:
                cand = new_rows[t.name]
                if not cand:
                    continue
                present = z3.Or([r for r, _ in cand])
                cols = []
                for c in range(len(t.columns)):
                    v = z3.IntVal(0)
                    for run, vals in cand:
                        v = z3.If(run, vals[c], v)
                    cols.append(v)
                rows[t.name].append((present, cols))
            nxt = _State(values, rows)
            cons.append(z3.Implies(active, _bool(q, q.invariant, nxt.env(q), inv_key)))
            self.steps.append((active, choice, params, nxt))
            cur = nxt
        self.final = cur


def _merge(q: Query, anc: _State, local: _State, remote: _State) -> _State:
    values = {}
    for v in q.vars:
        env = {"local": local.values[v.name], "remote": remote.values[v.name], "ancestor": anc.values[v.name]}
        e = _compile(q, v.merge, env, f"vars.{v.name}.merge")
        if e.sort() != local.values[v.name].sort():
            raise QueryError(q.source, f"vars.{v.name}.merge", f"must give {'an int' if v.kind == 'int' else 'a set'}")
        values[v.name] = e
    rows = {}
    for t in q.tables:
        n = t.rows
        rows[t.name] = local.rows[t.name] + remote.rows[t.name][n:]
    return _State(values, rows)


def _show(q: Query, m, st: _State) -> str:
    parts = []
    for v in q.vars:
        x = m.eval(st.values[v.name], model_completion=True).as_long()
        parts.append(f"{v.name}={x}" if v.kind == "int" else
                     f"{v.name}={{{', '.join(str(i) for i in range(v.universe) if (x >> i) & 1)}}}")
    for t in q.tables:
        rows = []
        for p, cols in st.rows[t.name]:
            if z3.is_true(m.eval(p, model_completion=True)):
                rows.append("(" + ", ".join(f"{c}={m.eval(x, model_completion=True).as_long()}"
                                            for c, x in zip(t.columns, cols)) + ")")
        parts.append(f"{t.name}=[{', '.join(rows)}]")
    return " ".join(parts)


def bounds_text(q: Query) -> str:
    out = f"up to {q.max_ops} operation{'s' if q.max_ops > 1 else ''} per branch, any integer parameters"
    if q.tables:
        out += ", ancestor tables of up to " + ", ".join(f"{t.rows} rows ({t.name})" for t in q.tables)
    sets = [v for v in q.vars if v.kind == "set"]
    if sets:
        out += ", sets over " + ", ".join(f"{v.universe} elements ({v.name})" for v in sets)
    return out


DEFAULT_TIMEOUT_S = 60


def check(q: Query, timeout_ms: int = DEFAULT_TIMEOUT_S * 1000) -> Verdict:
    """Search for an I-confluence counterexample within the query's bounds.

    Solve first, then minimise: a plain satisfiability check decides the
    question (unsat: i-confluent within the bounds; sat: a counterexample);
    only then is the counterexample shrunk, by asking for a run with fewer
    operations (and ancestor rows) than the best so far until none exists.
    ``timeout_ms`` bounds the whole question.  If the first check does not
    finish, the verdict is ``incomplete`` (never a proof, never bad input);
    if a shrinking step does not finish, the best counterexample so far is
    kept with ``minimal=False``.
    """
    with context.fresh():   # the same query, the same counterexample, whatever ran before
        return _check(q, timeout_ms)


def _check(q: Query, timeout_ms: int) -> Verdict:
    deadline = time.monotonic() + timeout_ms / 1000
    cons: list = []
    anc = _fresh(q, "anc")
    anc_rows_present = []
    for t in q.tables:   # the ancestor may have fewer rows than the bound
        rows = []
        for r, (_, cols) in enumerate(anc.rows[t.name]):
            p = z3.Bool(f"anc_{t.name}{r}_present")
            anc_rows_present.append(p)
            rows.append((p, cols))
        anc.rows[t.name] = rows
    cons.append(_bool(q, q.invariant, anc.env(q), "invariant"))
    a = _Branch(q, anc, 0, cons)
    b = _Branch(q, anc, 1, cons)
    at_a, at_b = _merge(q, anc, a.final, b.final), _merge(q, anc, b.final, a.final)
    bad_a = z3.Not(_bool(q, q.invariant, at_a.env(q), "invariant"))
    bad_b = z3.Not(_bool(q, q.invariant, at_b.env(q), "invariant"))
    size = z3.Sum([z3.If(act, 1, 0) for br in (a, b) for act, *_ in br.steps]
                  + [z3.If(p, 1, 0) for p in anc_rows_present] + [z3.IntVal(0)])
    solver = z3.Solver()
    solver.set("timeout", max(1, int(timeout_ms)))
    solver.add(cons + [z3.Or(bad_a, bad_b)])
    try:
        r = context.check(solver)
    except KeyboardInterrupt:   # Ctrl-C or SIGTERM (checks/signals.py): nothing decided
        return Verdict(q, False, bounds_text(q), incomplete=True,
                       note="interrupted (Ctrl-C or SIGTERM) before z3 decided; nothing proved or refuted")
    if r == z3.unsat:
        return Verdict(q, True, bounds_text(q))
    limit = f"{timeout_ms / 1000:g} s"
    if r != z3.sat:
        return Verdict(q, False, bounds_text(q), incomplete=True,
                       note=f"z3 could not decide within {limit} ({solver.reason_unknown()}); raise --timeout,"
                            " or lower max_ops or rows")
    m, minimal = _shrink(solver, size, solver.model(), deadline)
    note = "" if minimal else (f"not minimised: z3 could not shrink it within {limit}; a real counterexample,"
                               " perhaps with more operations than needed")

    def steps(br):
        out = []
        for act, choice, params, st in br.steps:
            if not z3.is_true(m.eval(act, model_completion=True)):
                break
            k = m.eval(choice, model_completion=True).as_long()
            op = q.ops[k]
            ps = tuple((p, m.eval(params[k][p], model_completion=True).as_long()) for p in op.params)
            out.append(Step(op.name, ps, _show(q, m, st)))
        return tuple(out)

    where, merged = ("A", at_a) if z3.is_true(m.eval(bad_a, model_completion=True)) else ("B", at_b)
    return Verdict(q, False, bounds_text(q), _show(q, m, anc), steps(a), steps(b), where, _show(q, m, merged),
                   minimal=minimal, note=note)


def _shrink(solver, size, model, deadline):
    """The smallest-``size`` model, by descent: ask for ``size`` below the
    best so far until unsat.  Returns ``(model, minimal)``; a step that
    runs out of time keeps the best model found (``minimal=False``)."""
    best = model.eval(size, model_completion=True).as_long()
    while best > 0:
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0:
            return model, False
        solver.push()
        solver.set("timeout", left)
        solver.add(size < best)
        try:
            r = context.check(solver)
        except KeyboardInterrupt:   # stopped while shrinking: the counterexample so far is real
            return model, False
        if r == z3.sat:
            model = solver.model()
            best = model.eval(size, model_completion=True).as_long()
        solver.pop()
        if r == z3.unsat:
            return model, True
        if r != z3.sat:
            return model, False
    return model, True
