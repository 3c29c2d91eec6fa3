"""An I-confluence query: the TOML file ``replcheck smt iconfluence`` reads.

A query states what two leaders may do without coordination and what must
stay true (docs/z3.md §3; Bailis et al., "Coordination Avoidance in
Database Systems", VLDB 2015): state — integer and set variables, each
with the merge that combines two branches, and bounded tables of integer
rows, which merge by the union of their rows; named sub-expressions of the
state (``[let]``); operations — parameters, a guard, effects on variables,
and row effects (``insert``, ``delete``, ``update``), of which a delete or
an update may also apply when branches merge (``at_merge``, e.g. a
cascading delete); the invariant; and, optionally, the verdict the author
expects (``expect``).

:func:`load_query` validates the whole file and returns frozen
dataclasses; every mistake is one :class:`QueryError` line naming the
file, the key and the fix (exit 2), never a traceback.  The encoding that
asks z3 lives in :mod:`checks.smt.iconfluence`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from replcheck.bundled import locate
from replcheck.checks.smt.expr import KEYWORDS, QueryError, parse
from replcheck.model.errors import did_you_mean
from replcheck.model.spec import read_toml

BRANCHES = ("A", "B")
#: What ``expect`` may say: the verdict words ``smt iconfluence`` prints.
VERDICTS = ("i-confluent", "not i-confluent")
#: How concurrently updated columns of an ancestor row merge unless the
#: table says otherwise (docs/z3.md §3 "Rows"): an update on one branch
#: wins over no update; when both branches update, the remote one wins —
#: and since the merge is judged at A and at B, either update may win, as
#: under last-writer-wins with timestamps nobody controls.
DEFAULT_COLUMN_MERGE = "if remote == ancestor then local else remote"
MAX_LETS = 50          # named sub-expressions per query
MAX_ROW_EFFECTS = 4    # inserts (deletes, updates) per operation: each insert is a row slot per step

_TOP = {"name", "description", "invariant", "max_ops", "vars", "tables", "ops", "let", "expect"}
_VAR = {"type", "merge", "universe"}
_TABLE = {"columns", "unique", "rows", "merge"}
_OP = {"name", "params", "at", "guard", "effect", "insert", "delete", "update"}
_DELETE = {"table", "where", "at_merge"}
_UPDATE = {"table", "where", "set", "at_merge"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Var:
    """An integer or set variable and its merge (an expression over
    ``local``, ``remote`` and ``ancestor``)."""

    name: str
    kind: str            # int | set
    merge: tuple
    universe: int = 0


@dataclass(frozen=True)
class TableDecl:
    """A bounded table of integer columns.  ``rows`` bounds the ancestor;
    ``merge`` maps a column to its merge for ancestor rows both branches
    updated (default :data:`DEFAULT_COLUMN_MERGE`)."""

    name: str
    columns: tuple[str, ...]
    unique: tuple[str, ...]
    rows: int
    merge: tuple[tuple[str, tuple], ...] = ()


@dataclass(frozen=True)
class Insert:
    """``INSERT INTO table VALUES (...)``: one new row, a value per column."""

    table: str
    values: tuple[tuple[str, tuple], ...]


@dataclass(frozen=True)
class Delete:
    """``DELETE FROM table WHERE where``: every present row the condition
    holds for (the row is named by its table: ``orders.customer == c``).
    ``at_merge``: applied again to the merged state (a cascade that also
    catches rows the other branch inserted concurrently)."""

    table: str
    where: tuple
    where_text: str
    at_merge: bool = False

    def text(self) -> str:
        return f"delete from {self.table} where {self.where_text}"


@dataclass(frozen=True)
class Update:
    """``UPDATE table SET col = expr, ... WHERE where``; ``at_merge`` as
    for :class:`Delete`."""

    table: str
    where: tuple
    where_text: str
    sets: tuple[tuple[str, tuple], ...]
    set_text: tuple[tuple[str, str], ...]
    at_merge: bool = False

    def text(self) -> str:
        sets = ", ".join(f"{c} = {e}" for c, e in self.set_text)
        return f"update {self.table} set {sets} where {self.where_text}"


@dataclass(frozen=True)
class Op:
    """An operation a leader runs without coordination: when ``guard`` holds
    (and the state after it satisfies the invariant), every expression
    reads the state before it; then the effects, deletes and updates apply
    to what existed before it, and the inserts add new rows."""

    name: str
    params: tuple[str, ...]
    at: tuple[str, ...]
    guard: tuple | None
    effect: tuple[tuple[str, tuple], ...]
    inserts: tuple[Insert, ...] = ()
    deletes: tuple[Delete, ...] = ()
    updates: tuple[Update, ...] = ()

    @property
    def at_merge(self) -> tuple[Delete | Update, ...]:
        """The row effects that apply again when branches merge."""
        return tuple(e for e in self.deletes + self.updates if e.at_merge)


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
    lets: tuple[tuple[str, tuple], ...] = ()
    expect: str = ""

    @property
    def universe(self) -> int:
        """The set universe ``{}`` takes in guards and invariants when
        nothing else fixes it: the one all set variables share (0 if they
        differ or there are none)."""
        sizes = {v.universe for v in self.vars if v.kind == "set"}
        return sizes.pop() if len(sizes) == 1 else 0


def load_query(path) -> Query:
    """Read and validate a query file (errors name the file and key)."""
    src = str(path)
    try:
        data = read_toml(locate(path), src, QueryError, "fix the syntax")
    except OSError:
        raise QueryError(src, "", "cannot read this file; pass an I-confluence query .toml (see queries/)") from None

    def err(key, msg):
        return QueryError(src, key, msg)

    def unknown(where, table, allowed):
        for k in table:
            if k not in allowed:
                raise err(f"{where}{k}", f"unknown key{did_you_mean(k, allowed)} (allowed: {', '.join(sorted(allowed))})")

    unknown("", data, _TOP)
    inv = data.get("invariant")
    if isinstance(inv, list) and inv and all(isinstance(x, str) for x in inv):
        inv = " and ".join(f"({x})" for x in inv)
    if "invariant" not in data:
        raise err("invariant", 'missing; e.g. invariant = "stock >= 0"')
    if not isinstance(inv, str):
        raise err("invariant", 'must be a condition string, or a non-empty list of them (all must hold),'
                               ' e.g. invariant = ["stock >= 0", "unique(users)"]')
    max_ops = data.get("max_ops", 2)
    if isinstance(max_ops, bool) or not isinstance(max_ops, int) or not 1 <= max_ops <= 6:
        raise err("max_ops", f"must be an integer from 1 to 6 (operations per branch), got {max_ops!r}")

    def table_of(key, example):
        v = data.get(key, {})
        if not isinstance(v, dict):
            raise err(key, f"must be a table of tables, e.g. {example}, got {type(v).__name__}")
        return v

    for k in ("name", "description"):
        if k in data and not isinstance(data[k], str):
            raise err(k, f"must be a string, got {type(data[k]).__name__}")
    expect = data.get("expect", "")
    if "expect" in data and expect not in VERDICTS:
        raise err("expect", f"unknown verdict {expect!r}{did_you_mean(expect, VERDICTS)};"
                            f" write {' or '.join(repr(v) for v in VERDICTS)}")
    variables = []
    for name, v in table_of("vars", '[vars.stock] type = "int"').items():
        if not isinstance(v, dict):
            raise err(f"vars.{name}", 'must be a table, e.g. [vars.stock] type = "int"')
        unknown(f"vars.{name}.", v, _VAR)
        kind = v.get("type", "int")
        if kind not in ("int", "set"):
            raise err(f"vars.{name}.type", f"unknown '{kind}'; int or set (tables go in [tables.NAME])")
        if "merge" not in v:
            raise err(f"vars.{name}.merge", 'missing; e.g. merge = "local + remote - ancestor"')
        uni = v.get("universe", 4 if kind == "set" else 0)
        if kind == "set" and (isinstance(uni, bool) or not isinstance(uni, int) or not 1 <= uni <= 16):
            raise err(f"vars.{name}.universe", "must be an integer from 1 to 16 (elements 0..universe-1)")
        variables.append(Var(name, kind, parse(v["merge"], src, f"vars.{name}.merge"), uni))
    tables = _tables(src, err, unknown, table_of('tables', '[tables.users] columns = ["email"]'))
    tnames = {t.name: t for t in tables}
    state = {v.name for v in variables} | set(tnames)
    lets = _lets(src, err, data.get("let", {}), state)
    raw_ops = data.get("ops")
    if not isinstance(raw_ops, list) or not raw_ops:
        raise err("ops", "missing; add at least one [[ops]] with a guard and an effect")
    ops = [_op(src, err, unknown, i, o, tnames, {n for n, _ in lets}) for i, o in enumerate(raw_ops)]
    return Query(src, data.get("name", Path(src).stem), data.get("description", ""),
                 parse(inv, src, "invariant"), inv, max_ops, tuple(variables), tuple(tables), tuple(ops),
                 lets, expect)


def _tables(src, err, unknown, raw) -> list[TableDecl]:
    tables = []
    for name, t in raw.items():
        if not isinstance(t, dict):
            raise err(f"tables.{name}", 'must be a table, e.g. [tables.users] columns = ["email"]')
        unknown(f"tables.{name}.", t, _TABLE)
        cols = t.get("columns")
        if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
            raise err(f"tables.{name}.columns", 'must list the integer columns, e.g. ["id", "email"]')
        uniq = t.get("unique", [])
        uniq = [uniq] if isinstance(uniq, str) else uniq
        if not isinstance(uniq, list) or not all(isinstance(c, str) for c in uniq):
            raise err(f"tables.{name}.unique", 'must name columns, e.g. unique = ["email"]')
        for c in uniq:
            if c not in cols:
                raise err(f"tables.{name}.unique", f"'{c}' is not a column{did_you_mean(c, cols)}")
        rows = t.get("rows", 2)
        if isinstance(rows, bool) or not isinstance(rows, int) or not 0 <= rows <= 6:
            raise err(f"tables.{name}.rows", "must be an integer from 0 to 6 (rows of the ancestor)")
        merge = t.get("merge", {})
        if not isinstance(merge, dict):
            raise err(f"tables.{name}.merge", 'must be a table column = "expr", e.g. merge = { qty ='
                                              ' "local + remote - ancestor" }')
        for c in merge:
            if c not in cols:
                raise err(f"tables.{name}.merge.{c}", f"not a column of {name}{did_you_mean(c, cols)}"
                                                      f" (columns: {', '.join(map(str, cols))})")
        tables.append(TableDecl(name, tuple(cols), tuple(uniq), rows,
                                tuple((c, parse(e, src, f"tables.{name}.merge.{c}")) for c, e in merge.items())))
    return tables


def _lets(src, err, raw, state) -> tuple[tuple[str, tuple], ...]:
    """``[let]``: named sub-expressions of the state, each over the
    variables, tables and the lets above it."""
    if not isinstance(raw, dict):
        raise err("let", f'must be a table NAME = "expr", e.g. [let] rights_a = "p_aa - d_a", got {type(raw).__name__}')
    if len(raw) > MAX_LETS:
        raise err("let", f"{len(raw)} names; at most {MAX_LETS}: merge some")
    out = []
    for name, text in raw.items():
        if not _NAME.match(name) or name in KEYWORDS:
            raise err(f"let.{name}", "must be a name (letters, digits and _, not starting with a digit) and not"
                                     " a keyword")
        if name in state or name == "replica":
            raise err(f"let.{name}", f"'{name}' already names {'replica' if name == 'replica' else 'state'};"
                                     " pick another name")
        out.append((name, parse(text, src, f"let.{name}")))
    return tuple(out)


def _entries(err, key, value, example) -> list[tuple[str, dict]]:
    """A row effect: one inline table, or a list of them (keys named
    ``key`` or ``key[i]``)."""
    if isinstance(value, dict):
        return [(key, value)]
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        if len(value) > MAX_ROW_EFFECTS:
            raise err(key, f"{len(value)} entries; at most {MAX_ROW_EFFECTS} per operation")
        return [(f"{key}[{i}]", x) for i, x in enumerate(value)]
    raise err(key, f"must be a table, or a list of tables, e.g. {key.rsplit('.', 1)[-1]} = {example}")


def _table_ref(err, key, entry, tnames):
    tname = entry.get("table")
    if not isinstance(tname, str) or tname not in tnames:
        known = ", ".join(tnames) or "none; declare one in [tables.NAME]"
        raise err(f"{key}.table", f"unknown table {tname!r}{did_you_mean(tname, tnames)} (tables: {known})")
    return tnames[tname]


def _at_merge(err, key, entry) -> bool:
    v = entry.get("at_merge", False)
    if not isinstance(v, bool):
        raise err(f"{key}.at_merge", f"must be true or false (also apply when branches merge), got {v!r}")
    return v


def _where(src, err, key, entry, table):
    text = entry.get("where")
    if not isinstance(text, str):
        raise err(f"{key}.where", f'missing; the rows it applies to, e.g. where = "{table}.id == id"'
                                  ' (where = "true": every row)')
    return parse(text, src, f"{key}.where"), text


def _op(src, err, unknown, i, o, tnames, lets) -> Op:
    where = f"ops[{i}]"
    if not isinstance(o, dict):
        raise err(where, "must be a table: write each operation as [[ops]] with a guard and an effect")
    unknown(f"{where}.", o, _OP)
    name = o.get("name", f"op{i + 1}")
    if not isinstance(name, str) or not name:
        raise err(f"{where}.name", f"must be a string, got {type(name).__name__}")
    params = o.get("params", [])
    if not isinstance(params, list) or not all(isinstance(p, str) and p for p in params):
        raise err(f"{where}.params", 'must be a list of parameter names (strings), e.g. params = ["n"]')
    for p in params:
        if p in lets:
            raise err(f"{where}.params", f"'{p}' already names a [let]; pick another parameter name")
    at = o.get("at", list(BRANCHES))
    at = [at] if isinstance(at, str) else at
    if not isinstance(at, list):
        raise err(f"{where}.at", 'must be "A", "B" or ["A", "B"]')
    for b in at:
        if b not in BRANCHES:
            raise err(f"{where}.at", f"unknown branch '{b}'; the two leaders are A and B")
    guard = parse(o["guard"], src, f"{where}.guard") if "guard" in o else None
    raw_effect = o.get("effect") or {}
    if not isinstance(raw_effect, dict):
        raise err(f"{where}.effect", 'must be a table var = "expr", e.g. effect = { stock = "stock - 1" }')
    effect = tuple((k, parse(e, src, f"{where}.effect.{k}")) for k, e in raw_effect.items())
    inserts, deletes, updates = [], [], []
    if "insert" in o:
        for key, ins in _entries(err, f"{where}.insert", o["insert"], '{ table = "users", email = "e" }'):
            ins = dict(ins)
            if "at_merge" in ins:
                raise err(f"{key}.at_merge", "only a delete or an update applies at merge (an insert applied again"
                                             " would add its row twice); remove at_merge")
            t = _table_ref(err, key, ins, tnames)
            ins.pop("table")
            if set(ins) != set(t.columns):
                raise err(key, f"give a value for each column of {t.name}: {', '.join(t.columns)}")
            inserts.append(Insert(t.name, tuple((c, parse(ins[c], src, f"{key}.{c}")) for c in t.columns)))
    if "delete" in o:
        for key, d in _entries(err, f"{where}.delete", o["delete"], '{ table = "users", where = "users.id == id" }'):
            unknown(f"{key}.", d, _DELETE)
            t = _table_ref(err, key, d, tnames)
            tree, text = _where(src, err, key, d, t.name)
            deletes.append(Delete(t.name, tree, text, _at_merge(err, key, d)))
    if "update" in o:
        for key, u in _entries(err, f"{where}.update", o["update"],
                               '{ table = "orders", where = "orders.id == o", set = { qty = "orders.qty - n" } }'):
            unknown(f"{key}.", u, _UPDATE)
            t = _table_ref(err, key, u, tnames)
            tree, text = _where(src, err, key, u, t.name)
            sets = u.get("set")
            if not isinstance(sets, dict) or not sets:
                raise err(f"{key}.set", f'must be a table column = "expr", e.g. set = {{ {t.columns[0]} ='
                                        f' "{t.name}.{t.columns[0]} + 1" }}')
            for c, e in sets.items():
                if c not in t.columns:
                    raise err(f"{key}.set.{c}", f"not a column of {t.name}{did_you_mean(c, t.columns)}"
                                                f" (columns: {', '.join(t.columns)})")
                if not isinstance(e, str):
                    raise err(f"{key}.set.{c}", f"must be an expression string, got {e!r}")
            updates.append(Update(t.name, tree, text,
                                  tuple((c, parse(e, src, f"{key}.set.{c}")) for c, e in sets.items()),
                                  tuple(sets.items()), _at_merge(err, key, u)))
    if not (effect or inserts or deletes or updates):
        raise err(where, 'an operation needs an effect = { var = "expr" }, an insert, a delete or an update')
    return Op(name, tuple(params), tuple(at), guard, effect, tuple(inserts), tuple(deletes), tuple(updates))
