"""A tiny, safe expression language for merges, guards, effects and invariants.

Custom merges and I-confluence queries are written as strings in TOML files,
never as Python.  This module parses them into a small AST of tuples; the
modules that need Z3 compile the AST with :func:`to_z3`.

Grammar (integers and booleans; sets and tables through functions;
docs/z3.md §3 "The expression language")::

    expr    := "if" expr "then" expr "else" expr
             | "let" NAME "=" expr "in" expr
             | ("forall" | "exists") NAME "in" NAME ":" expr
             | or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary ("*" unary)*
    unary   := "-" unary | atom
    atom    := INT | "true" | "false" | "{" "}" | NAME | NAME "." NAME
             | NAME "(" expr ("," expr)* ")" | "(" expr ")"

Functions: ``max(a, b, ...)``, ``min(a, b, ...)`` over integers; over sets
``size(s)``, ``contains(s, x)``, ``add(s, x)``, ``remove(s, x)``,
``union(s, t)``, ``intersection(s, t)``, ``minus(s, t)``, ``subset(s, t)``;
over tables ``count(t)`` and ``unique(t)`` (no two rows share the table's
unique key).

The constructs of issue 17 item 8: ``a * b`` when one side is a constant
(linear integer arithmetic, which z3 decides); ``{}``, the empty set, whose
universe is the other operand's (or the variable it is assigned to);
``let x = e in body``, a named sub-expression; ``forall r in t: p`` and
``exists r in t: p``, a condition on every / some present row of table
``t``, whose columns the body reads as ``r.col``.  ``if``, ``let``,
``forall`` and ``exists`` extend as far right as they can (bracket them to
stop earlier).  A quantifier ranges over a bounded table, so it unrolls
into one term per row: nesting is limited to :data:`MAX_QUANTIFIERS`
levels and one expression to :data:`MAX_INSTANCES` row combinations.

>>> parse("max(local, remote)")
('call', 'max', (('var', 'local'), ('var', 'remote')))
>>> parse("if local >= remote then local else remote - 1")[0]
'if'
"""

from __future__ import annotations

import re

import z3

from replcheck.model.errors import SpecError, did_you_mean

KEYWORDS = {"if", "then", "else", "and", "or", "not", "true", "false", "let", "in", "forall", "exists"}
QUANTIFIERS = ("forall", "exists")
FUNCTIONS = {"max", "min", "size", "contains", "add", "remove", "union", "intersection", "minus", "subset",
             "count", "unique"}
_TOKEN = re.compile(r"\s*(?:(?P<int>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op><=|>=|==|!=|[-+*<>(),.{}:=]))")


# Limits on one expression (docs/spec-format.md "Errors"): the parser and the
# compiler recurse over it, so anything larger is refused in one line instead.
MAX_TOKENS = 1000     # numbers, names and operators
MAX_NESTING = 50      # brackets, if/then/else, not and unary minus inside each other
MAX_DEPTH = 200       # the tree: each operator of a chain a + b + c ... is one more level
MAX_DIGITS = 4300     # Python's int-str conversion limit
MAX_QUANTIFIERS = 3   # forall/exists inside each other: each multiplies the terms by a table's row count
MAX_INSTANCES = 20_000  # row combinations one expression's quantifiers may unroll into


class QueryError(SpecError):
    """A query or merge file is malformed: one line naming file, key and fix."""


def _tokens(text: str, source: str, key: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(source, key, f"cannot read {text[pos:].strip()[:20]!r} in {text!r}; use integers,"
                                          " names, + - *, comparisons, and/or/not, if-then-else, let, forall,"
                                          " exists, {} and functions")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    out.append(("end", ""))
    return out


def parse(text, source: str = "<expr>", key: str = "expr"):
    """Parse ``text`` into a tuple AST; :class:`QueryError` on bad syntax."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError(source, key, f"must be a non-empty expression string, got {text!r}")
    toks = _tokens(text, source, key)
    if len(toks) - 1 > MAX_TOKENS:
        raise QueryError(source, key, f"expression too long ({len(toks) - 1} tokens); at most {MAX_TOKENS}:"
                                      " split it or simplify it")
    pos = 0
    nesting = 0
    quantifiers = 0

    def deeper():
        if nesting >= MAX_NESTING:
            raise QueryError(source, key, f"expression nested too deeply; at most {MAX_NESTING} levels of"
                                          " brackets, if, not and unary minus: flatten it")

    def peek():
        return toks[pos]

    def take(value=None):
        nonlocal pos
        kind, v = toks[pos]
        if value is not None and v != value:
            got = v or "the end"
            raise QueryError(source, key, f"expected '{value}' but found '{got}' in {text!r}")
        pos += 1
        return kind, v

    def expr():
        nonlocal nesting
        deeper()
        nesting += 1
        try:
            return _expr()
        finally:
            nesting -= 1

    def bound_name(what):
        kind, v = take()
        if kind != "name" or v in KEYWORDS:
            raise QueryError(source, key, f"expected a name after '{what}' but found '{v or 'the end'}' in {text!r}")
        return v

    def _expr():
        nonlocal quantifiers
        if peek() == ("name", "if"):
            take()
            c = expr()
            take("then")
            a = expr()
            take("else")
            return ("if", c, a, expr())
        if peek() == ("name", "let"):
            take()
            name = bound_name("let")
            take("=")
            value = expr()
            take("in")
            return ("let", name, value, expr())
        if peek()[0] == "name" and peek()[1] in QUANTIFIERS:
            _, q = take()
            row = bound_name(q)
            take("in")
            table = bound_name(f"{q} {row} in")
            take(":")
            if quantifiers >= MAX_QUANTIFIERS:
                raise QueryError(source, key, f"quantifiers nested too deeply; at most {MAX_QUANTIFIERS} forall/exists"
                                              " inside each other: split the condition into several invariants"
                                              " (a list)")
            quantifiers += 1
            try:
                return (q, row, table, expr())
            finally:
                quantifiers -= 1
        return disj()

    def disj():
        a = conj()
        while peek() == ("name", "or"):
            take()
            a = ("bin", "or", a, conj())
        return a

    def conj():
        a = neg()
        while peek() == ("name", "and"):
            take()
            a = ("bin", "and", a, neg())
        return a

    def neg():
        nonlocal nesting
        if peek() == ("name", "not"):
            take()
            deeper()
            nesting += 1
            try:
                return ("not", neg())
            finally:
                nesting -= 1
        return cmp()

    def cmp():
        a = arith()
        if peek()[0] == "op" and peek()[1] in ("<", "<=", ">", ">=", "==", "!="):
            _, op = take()
            return ("bin", op, a, arith())
        if peek() == ("op", "="):
            raise QueryError(source, key, f"'=' is not a comparison in {text!r}; write == (or let NAME = ... in ...)")
        return a

    def arith():
        a = product()
        while peek()[0] == "op" and peek()[1] in ("+", "-"):
            _, op = take()
            a = ("bin", op, a, product())
        return a

    def product():
        a = unary()
        while peek() == ("op", "*"):
            take()
            a = ("bin", "*", a, unary())
        return a

    def unary():
        nonlocal nesting
        if peek() == ("op", "-"):
            take()
            deeper()
            nesting += 1
            try:
                return ("neg", unary())
            finally:
                nesting -= 1
        return atom()

    def atom():
        kind, v = take()
        if kind == "int":
            if len(v) > MAX_DIGITS:
                raise QueryError(source, key, f"an integer with more than {MAX_DIGITS} digits; use a smaller number")
            return ("int", int(v))
        if kind == "name" and v in ("true", "false"):
            return ("bool", v == "true")
        if (kind, v) == ("op", "{"):
            if peek() != ("op", "}"):
                raise QueryError(source, key, f"only the empty set {{}} is a set literal, in {text!r}; build others"
                                              " with add({}, x)")
            take()
            return ("empty",)
        if kind == "name" and v not in KEYWORDS:
            if peek() == ("op", "."):
                take()
                fkind, col = take()
                if fkind != "name" or col in KEYWORDS:
                    raise QueryError(source, key, f"expected a column name after '{v}.' but found"
                                                  f" '{col or 'the end'}' in {text!r}")
                return ("field", v, col)
            if peek() == ("op", "("):
                if v not in FUNCTIONS:
                    raise QueryError(source, key, f"unknown function '{v}' in {text!r}"
                                                  f" (functions: {', '.join(sorted(FUNCTIONS))})")
                take()
                args = [expr()]
                while peek() == ("op", ","):
                    take()
                    args.append(expr())
                take(")")
                return ("call", v, tuple(args))
            return ("var", v)
        if (kind, v) == ("op", "("):
            e = expr()
            take(")")
            return e
        raise QueryError(source, key, f"unexpected '{v or 'end of text'}' in {text!r}")

    tree = expr()
    if peek()[0] != "end":
        raise QueryError(source, key, f"unexpected '{peek()[1]}' after a complete expression in {text!r}")
    if _tree_depth(tree) > MAX_DEPTH:
        raise QueryError(source, key, f"expression nested too deeply or too long; at most {MAX_DEPTH} levels"
                                      " (each operator of a chain such as a + b + c is one): split it")
    return tree


def _tree_depth(tree) -> int:
    """The depth of an AST, iteratively (no recursion, whatever its shape)."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        t, d = todo.pop()
        deepest = max(deepest, d)
        for part in t[1:]:
            if isinstance(part, tuple):
                todo.extend((p, d + 1) for p in (part if part and isinstance(part[0], tuple) else (part,)))
    return deepest


def names(tree) -> set[str]:
    """The variable names an AST mentions."""
    if tree[0] == "var":
        return {tree[1]}
    out: set[str] = set()
    for part in tree[1:]:
        if isinstance(part, tuple):
            for p in (part if part and isinstance(part[0], tuple) else (part,)):
                out |= names(p)
    return out


class Table:
    """A bounded table for :func:`to_z3`: row slots, each with a presence
    flag and one integer per column; ``key`` names the unique columns."""

    def __init__(self, name, columns, key, rows):
        self.name, self.columns, self.key, self.rows = name, tuple(columns), tuple(key), tuple(rows)

    def count(self):
        return z3.Sum([z3.If(p, 1, 0) for p, _ in self.rows] or [z3.IntVal(0)])

    def unique(self):
        out = []
        idx = [self.columns.index(c) for c in self.key]
        for i, (p, r) in enumerate(self.rows):
            for q, s in self.rows[i + 1:]:
                out.append(z3.Not(z3.And(p, q, *[r[c] == s[c] for c in idx])))
        return z3.And(out) if out else z3.BoolVal(True)


class Row:
    """One row slot of a :class:`Table`, bound to a name: by ``forall r in
    t: ...`` / ``exists r in t: ...``, or — in a row effect's ``where`` and
    ``set`` — the row being deleted or updated, named by its table.  The
    body reads its columns as ``r.col``."""

    def __init__(self, table: str, columns, values):
        self.table, self.columns, self.values = table, tuple(columns), tuple(values)

    def column(self, col):
        return self.values[self.columns.index(col)] if col in self.columns else None


class _Empty:
    """The empty-set literal ``{}`` before its universe is known: it takes
    the universe of the set it meets (the other operand, the other branch of
    an ``if``, or the variable it is assigned to)."""

    def __repr__(self):
        return "{}"


EMPTY = _Empty()


def _kind(t) -> str:
    if isinstance(t, Table):
        return "table"
    if isinstance(t, Row):
        return "row"
    if t is EMPTY:
        return "set"
    if z3.is_bool(t):
        return "bool"
    if z3.is_bv(t):
        return "set"
    return "int"


def kind(t) -> str:
    """What a compiled term is: ``int``, ``bool``, ``set``, ``table`` or ``row``."""
    return _kind(t)


def to_z3(tree, env: dict, source: str = "<expr>", key: str = "expr", universe: int = 0):
    """Compile an AST over ``env`` (name -> Z3 Int / Bool / BitVec set /
    :class:`Table` / :class:`Row`) into a Z3 term.  Set elements are
    integers ``0 .. universe-1``; an element outside the universe is never a
    member.  ``universe`` is the width given to ``{}`` when nothing else
    fixes it (0: none; a result that is still ``{}`` is returned as
    :data:`EMPTY`).
    """
    instances = 0

    def fail(msg):
        raise QueryError(source, key, msg)

    def want(t, kind, what):
        if _kind(t) != kind:
            fail(f"{what} needs {'an' if kind == 'int' else 'a'} {kind}, got {_kind(t)}")
        return t

    def sized(t, width, what):
        """A set term: ``{}`` resolved to ``width`` bits."""
        if t is not EMPTY:
            return t
        if width <= 0:
            fail(f"{what}: the universe of {{}} is not known here; use it next to a set variable"
                 " (e.g. union(s, {})), or assign it to one")
        return z3.BitVecVal(0, width)

    def pair(a, b, what):
        """Two sets of one width (``{}`` takes the other's)."""
        want(a, "set", what), want(b, "set", what)
        if a is EMPTY and b is EMPTY:
            return EMPTY, EMPTY
        if a is EMPTY:
            return z3.BitVecVal(0, b.size()), b
        if b is EMPTY:
            return a, z3.BitVecVal(0, a.size())
        if a.size() != b.size():
            fail(f"{what} needs two sets over one universe, got {a.size()} and {b.size()} elements")
        return a, b

    def bit(s, x):
        w = s.size()
        return z3.If(z3.And(x >= 0, x < w), z3.LShR(s, z3.Int2BV(x, w)) & 1 == 1, False) if w else z3.BoolVal(False)

    def single(s, x):
        w = s.size()
        return z3.If(z3.And(x >= 0, x < w), z3.BitVecVal(1, w) << z3.Int2BV(x, w), z3.BitVecVal(0, w))

    def bind(scope, name, value):
        if name in scope:
            fail(f"'{name}' already names {_kind(scope[name])} here; pick another name")
        return {**scope, name: value}

    def go(t, scope):
        nonlocal instances
        tag = t[0]
        if tag == "int":
            return z3.IntVal(t[1])
        if tag == "bool":
            return z3.BoolVal(t[1])
        if tag == "empty":
            return EMPTY
        if tag == "var":
            if t[1] not in scope:
                known = ", ".join(sorted(scope)) or "none; declare state in [vars.NAME] or [tables.NAME]"
                fail(f"unknown name '{t[1]}'{did_you_mean(t[1], scope)} (known here: {known})")
            return scope[t[1]]
        if tag == "field":
            _, name, col = t
            row = go(("var", name), scope)
            if not isinstance(row, Row):
                fail(f"'{name}.{col}' reads a column of a row, but '{name}' is {_kind(row)} here; bind a row with"
                     f" forall {name} in TABLE: ...")
            v = row.column(col)
            if v is None:
                fail(f"{row.table} has no column '{col}'{did_you_mean(col, row.columns)}"
                     f" (columns: {', '.join(row.columns)})")
            return v
        if tag == "let":
            return go(t[3], bind(scope, t[1], go(t[2], scope)))
        if tag in ("forall", "exists"):
            name, table = t[1], t[2]
            tab = go(("var", table), scope)
            if not isinstance(tab, Table):
                fail(f"'{tag} {name} in {table}' needs a table, but '{table}' is {_kind(tab)} here"
                     + (" (inside a row effect the table's name is the row; quantify in the guard)"
                        if isinstance(tab, Row) else ""))
            parts = []
            for present, values in tab.rows:
                instances += 1
                if instances > MAX_INSTANCES:
                    fail(f"the quantifiers unroll into more than {MAX_INSTANCES} row combinations; nest fewer, or"
                         " lower rows or max_ops")
                body = want(go(t[3], bind(scope, name, Row(tab.name, tab.columns, values))), "bool",
                            f"'{tag}'")
                parts.append(z3.Implies(present, body) if tag == "forall" else z3.And(present, body))
            if tag == "forall":
                return z3.And(parts) if parts else z3.BoolVal(True)
            return z3.Or(parts) if parts else z3.BoolVal(False)
        if tag == "neg":
            return -want(go(t[1], scope), "int", "'-'")
        if tag == "not":
            return z3.Not(want(go(t[1], scope), "bool", "'not'"))
        if tag == "if":
            c, a, b = go(t[1], scope), go(t[2], scope), go(t[3], scope)
            want(c, "bool", "'if'")
            if _kind(a) != _kind(b) or _kind(a) in ("table", "row"):
                fail("both branches of an if must have the same type (int, bool or set)")
            if _kind(a) == "set":
                a, b = pair(a, b, "'if'")
                if a is EMPTY:
                    return EMPTY
            return z3.If(c, a, b)
        if tag == "bin":
            op, a, b = t[1], go(t[2], scope), go(t[3], scope)
            if op in ("and", "or"):
                want(a, "bool", f"'{op}'"), want(b, "bool", f"'{op}'")
                return z3.And(a, b) if op == "and" else z3.Or(a, b)
            if op in ("==", "!=") and _kind(a) == _kind(b) == "set":
                a, b = pair(a, b, f"'{op}'")
                same = z3.BoolVal(True) if a is EMPTY else a == b
                return same if op == "==" else z3.Not(same)
            if op in ("==", "!=") and _kind(a) == _kind(b) and _kind(a) not in ("table", "row"):
                return a == b if op == "==" else a != b
            want(a, "int", f"'{op}'"), want(b, "int", f"'{op}'")
            if op == "*":
                ca, cb = z3.simplify(a), z3.simplify(b)
                if not (z3.is_int_value(ca) or z3.is_int_value(cb)):
                    fail("'*' needs a constant on one side (2 * x, x * 3): a product of two unknowns is"
                         " nonlinear, which z3 cannot always decide")
                return a * b
            return {"+": lambda: a + b, "-": lambda: a - b, "<": lambda: a < b, "<=": lambda: a <= b,
                    ">": lambda: a > b, ">=": lambda: a >= b}[op]()
        name, args = t[1], [go(a, scope) for a in t[2]]
        if name in ("max", "min"):
            if len(args) < 2:
                fail(f"{name}() needs at least two arguments")
            out = want(args[0], "int", name)
            for x in args[1:]:
                want(x, "int", name)
                out = z3.If(x > out, x, out) if name == "max" else z3.If(x < out, x, out)
            return out
        arity = {"size": 1, "count": 1, "unique": 1}.get(name, 2)
        if len(args) != arity:
            fail(f"{name}() takes {arity} argument{'s' if arity > 1 else ''}")
        if name in ("count", "unique"):
            tab = args[0]
            if not isinstance(tab, Table):
                fail(f"{name} needs a table, got {_kind(tab)}"
                     + (" (inside a row effect the table's name is the row)" if isinstance(tab, Row) else ""))
            return tab.count() if name == "count" else tab.unique()
        s = want(args[0], "set", name)
        if name == "size":
            return z3.IntVal(0) if s is EMPTY else z3.Sum([z3.If(bit(s, z3.IntVal(i)), 1, 0) for i in range(s.size())])
        if name in ("union", "intersection", "minus", "subset"):
            s, o = pair(s, args[1], name)
            if s is EMPTY:
                return z3.BoolVal(True) if name == "subset" else EMPTY
            if name == "subset":
                return s & ~o == 0
            return s | o if name == "union" else s & o if name == "intersection" else s & ~o
        x = want(args[1], "int", name)
        if name == "contains":
            return z3.BoolVal(False) if s is EMPTY else bit(s, x)
        if name == "remove" and s is EMPTY:
            return EMPTY
        s = sized(s, universe, f"{name}({{}}, ...)")
        return s | single(s, x) if name == "add" else s & ~single(s, x)

    out = go(tree, env)
    if out is EMPTY and universe > 0:
        return z3.BitVecVal(0, universe)
    return out
