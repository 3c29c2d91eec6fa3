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
``union(local, remote)``); a table merges by the union of its rows — a row
deleted on either branch stays deleted, a column both branches updated
merges by the table's ``merge`` for it (docs/z3.md §3 "Rows").  Then the
*merge-time effects* apply: every delete or update marked ``at_merge`` of
an operation either branch ran is applied again, with that run's
parameters, to the merged state — the local branch's first, in order, then
the remote one's (a cascading delete: deleting a customer also deletes the
orders the other branch inserted for it concurrently).

The query file format is :mod:`checks.smt.query`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from replcheck.checks.smt import context
from replcheck.checks.smt.expr import EMPTY, QueryError, Row, Table, kind, parse, to_z3
from replcheck.checks.smt.query import (BRANCHES, DEFAULT_COLUMN_MERGE, Delete, Op, Query, TableDecl, Var,
                                        load_query)
from replcheck.model.errors import did_you_mean

__all__ = ["BRANCHES", "Query", "Op", "Var", "TableDecl", "Step", "Verdict", "load_query", "check", "bounds_text"]


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
    ``note`` says so — it is still a real counterexample.  ``merge_effects``
    lists the merge-time effects that applied to the shown merge, in order
    (``"B: delete_customer(c=1): delete from orders where ..."``).
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
    merge_effects: tuple[str, ...] = ()


class _State:
    """Symbolic values of every variable, and table rows: per table a list
    of slots ``(present, [column values])``.  ``env`` is what expressions
    over this state see: variables, tables and the query's ``[let]`` names
    (compiled once per state)."""

    def __init__(self, values: dict, rows: dict):
        self.values, self.rows = values, rows
        self._env = None

    def env(self, q: Query) -> dict:
        if self._env is None:
            env = dict(self.values)
            for t in q.tables:
                env[t.name] = Table(t.name, t.columns, t.unique, self.rows[t.name])
            for name, tree in q.lets:
                env[name] = to_z3(tree, env, q.source, f"let.{name}", q.universe)
            self._env = env
        return self._env


def _fresh(q: Query, prefix: str) -> _State:
    values = {v.name: (z3.Int(f"{prefix}_{v.name}") if v.kind == "int" else z3.BitVec(f"{prefix}_{v.name}", v.universe))
              for v in q.vars}
    rows = {t.name: [(z3.BoolVal(True), [z3.Int(f"{prefix}_{t.name}{r}_{c}") for c in t.columns])
                     for r in range(t.rows)] for t in q.tables}
    return _State(values, rows)


def _typed(q, tree, env, key, want: str, universe: int = 0):
    """Compile ``tree``; it must be ``want`` (int, bool or set)."""
    t = to_z3(tree, env, q.source, key, universe or q.universe)
    if kind(t) != want:
        what = {"bool": "a condition (a comparison, and/or/not, contains, subset, unique, forall, exists)",
                "int": "an integer", "set": "a set"}[want]
        raise QueryError(q.source, key, f"must be {what}, got {'{}' if t is EMPTY else kind(t)}")
    if want == "set" and universe and t.size() != universe:
        raise QueryError(q.source, key, f"must be a set over {universe} elements (the variable's universe),"
                                        f" got one over {t.size()}")
    return t


def _bool(q, tree, env, key):
    return _typed(q, tree, env, key, "bool")


def _table(q: Query, name: str) -> TableDecl:
    return next(t for t in q.tables if t.name == name)


def _row_effects(q: Query, effects, base: _State, rows: dict, env: dict, run, key: str) -> None:
    """Apply ``effects`` (deletes and updates of ``op``), when ``run``
    holds, to the slots in ``rows`` (in place).  Every condition and value
    reads ``base``, the state before the operation; in a ``where`` or
    ``set`` the row is named by its table."""
    for e in effects:
        t = _table(q, e.table)
        where = f"{key}.{'delete' if isinstance(e, Delete) else 'update'}"
        out = []
        for (present, cols), (was, before) in zip(rows[t.name], base.rows[t.name]):
            row_env = {**env, t.name: Row(t.name, t.columns, before)}
            hit = z3.And(run, was, _bool(q, e.where, row_env, f"{where}.where"))
            if isinstance(e, Delete):
                out.append((z3.And(present, z3.Not(hit)), cols))
                continue
            new = list(cols)
            for c, tree in e.sets:
                v = _typed(q, tree, row_env, f"{where}.set.{c}", "int")
                idx = t.columns.index(c)
                new[idx] = z3.If(hit, v, new[idx])
            out.append((present, new))
        rows[t.name] = out


class _Branch:
    def __init__(self, q: Query, anc: _State, b: int, cons: list):
        name = BRANCHES[b]
        self.index = b
        self.steps = []
        cur = anc
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
            new_rows = {t.name: [] for t in q.tables}     # per table: per insert slot, [(run, values)]
            for k, op in enumerate(q.ops):
                key = f"ops.{op.name}"
                env = cur.env(q) | params[k] | {"replica": z3.IntVal(b)}
                run = z3.And(active, choice == k)
                if op.guard is not None:
                    cons.append(z3.Implies(run, _bool(q, op.guard, env, f"{key}.guard")))
                for var, tree in op.effect:
                    if var not in values:
                        raise QueryError(q.source, f"{key}.effect.{var}", f"unknown variable{did_you_mean(var, values)}"
                                                                         f" (variables: {', '.join(values) or 'none'})")
                    v = next(x for x in q.vars if x.name == var)
                    values[var] = z3.If(run, _typed(q, tree, env, f"{key}.effect.{var}", v.kind, v.universe),
                                        values[var])
                _row_effects(q, op.deletes + op.updates, cur, rows, env, run, key)
                slot = {}
                for ins in op.inserts:
                    j = slot.get(ins.table, 0)
                    slot[ins.table] = j + 1
                    cand = new_rows[ins.table]
                    if len(cand) <= j:
                        cand.append([])
                    cand[j].append((run, [_typed(q, c, env, f"{key}.insert.{col}", "int") for col, c in ins.values]))
            for t in q.tables:
                for cand in new_rows[t.name]:
                    present = z3.Or([r for r, _ in cand])
                    cols = []
                    for c in range(len(t.columns)):
                        v = z3.IntVal(0)
                        for run, vals in cand:
                            v = z3.If(run, vals[c], v)
                        cols.append(v)
                    rows[t.name].append((present, cols))
            nxt = _State(values, rows)
            cons.append(z3.Implies(active, _bool(q, q.invariant, nxt.env(q), "invariant")))
            self.steps.append((active, choice, params, nxt))
            cur = nxt
        self.final = cur


def _merge_rows(q: Query, t: TableDecl, anc: _State, local: _State, remote: _State) -> list:
    """The union of both branches' rows.  An ancestor row is present when
    neither branch deleted it (delete wins: a merge never re-creates a
    row); a column some operation updates merges by the table's ``merge``
    for it (default :data:`DEFAULT_COLUMN_MERGE`).  Rows a branch inserted
    exist on that branch only and are taken as they are."""
    n = t.rows
    deleted = any(d.table == t.name for op in q.ops for d in op.deletes)
    updated = {c for op in q.ops for u in op.updates if u.table == t.name for c, _ in u.sets}
    merges = dict(t.merge)
    out = []
    for (lp, lc), (rp, rc), (_, ac) in zip(local.rows[t.name][:n], remote.rows[t.name][:n], anc.rows[t.name]):
        cols = list(lc)
        for i, c in enumerate(t.columns):
            if c in updated or c in merges:     # a declared merge is compiled (and checked) even if unused
                key = f"tables.{t.name}.merge.{c}" if c in merges else f"tables.{t.name}.merge"
                tree = merges.get(c) or parse(DEFAULT_COLUMN_MERGE, q.source, key)
                cols[i] = _typed(q, tree, {"local": lc[i], "remote": rc[i], "ancestor": ac[i]}, key, "int")
        out.append((z3.And(lp, rp) if deleted else lp, cols))
    return out + local.rows[t.name][n:] + remote.rows[t.name][n:]


def _merge(q: Query, anc: _State, local: _State, remote: _State) -> _State:
    """The state-based merge of two branches at the ``local`` leader,
    before merge-time effects."""
    values = {}
    for v in q.vars:
        env = {"local": local.values[v.name], "remote": remote.values[v.name], "ancestor": anc.values[v.name]}
        values[v.name] = _typed(q, v.merge, env, f"vars.{v.name}.merge", v.kind, v.universe)
    return _State(values, {t.name: _merge_rows(q, t, anc, local, remote) for t in q.tables})


def _merge_time(q: Query, merged: _State, order) -> tuple[_State, list]:
    """Apply the merge-time effects of every operation the branches in
    ``order`` ran, branch by branch and in program order, each with the
    parameters of its run, to ``merged``.  Returns the final state and
    ``(branch, step, op index, run)`` per effect that may apply."""
    applied = []
    st = merged
    for br in order:
        for s, (active, choice, params, _) in enumerate(br.steps):
            for k, op in enumerate(q.ops):
                effects = op.at_merge
                if not effects or BRANCHES[br.index] not in op.at:
                    continue
                run = z3.And(active, choice == k)
                env = st.env(q) | params[k] | {"replica": z3.IntVal(br.index)}
                rows = {t: list(r) for t, r in st.rows.items()}
                _row_effects(q, effects, st, rows, env, run, f"ops.{op.name}")
                st = _State(st.values, rows)
                applied.append((br, s, k, run))
    return st, applied


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
    at_a, applied_a = _merge_time(q, _merge(q, anc, a.final, b.final), (a, b))
    at_b, applied_b = _merge_time(q, _merge(q, anc, b.final, a.final), (b, a))
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

    def call(br, s, k):
        params = br.steps[s][2][k]
        return f"{q.ops[k].name}(" + ", ".join(f"{p}={m.eval(params[p], model_completion=True).as_long()}"
                                               for p in q.ops[k].params) + ")"

    def steps(br):
        out = []
        for s, (act, choice, params, st) in enumerate(br.steps):
            if not z3.is_true(m.eval(act, model_completion=True)):
                break
            k = m.eval(choice, model_completion=True).as_long()
            op = q.ops[k]
            ps = tuple((p, m.eval(params[k][p], model_completion=True).as_long()) for p in op.params)
            out.append(Step(op.name, ps, _show(q, m, st)))
        return tuple(out)

    def effects(applied):
        return tuple(f"{BRANCHES[br.index]}: {call(br, s, k)}: {e.text()}" for br, s, k, run in applied
                     if z3.is_true(m.eval(run, model_completion=True)) for e in q.ops[k].at_merge)

    at_a_bad = z3.is_true(m.eval(bad_a, model_completion=True))
    where, merged, applied = ("A", at_a, applied_a) if at_a_bad else ("B", at_b, applied_b)
    return Verdict(q, False, bounds_text(q), _show(q, m, anc), steps(a), steps(b), where, _show(q, m, merged),
                   minimal=minimal, note=note, merge_effects=effects(applied))


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
