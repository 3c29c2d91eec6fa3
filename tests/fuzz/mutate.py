"""Pure mutation functions for the fuzzing campaign (docs/reliability.md).

Everything here takes a seeded :class:`random.Random` and values, and
returns new values; nothing runs replcheck or touches a file.  Two levels:

* **tree level** (:func:`mutate_tree`): the parsed TOML/JSON document is
  changed as a hostile user would — keys dropped, duplicated under a near
  name, renamed (typos), values swapped for another type (str, int, float,
  bool, list, table, TOML datetimes), huge and out-of-range numbers,
  NaN/inf, empty and very long strings, deep nesting, payload strings
  (HTML/Markdown/Mermaid/ANSI/CSV/control/Unicode) in names and values,
  typo'd enum values, catalogue names in the wrong place, many leaders and
  many ops, subtrees spliced from another bundled file — then serialised
  with :mod:`tomli_w` or :mod:`json` (:func:`dumps_toml`, :func:`dumps_json`);
* **byte level** (:func:`mutate_bytes`): truncation, flipped bytes, invalid
  UTF-8, byte-order marks, NULs, duplicated/deleted/swapped lines (duplicate
  keys, tables defined twice), stray syntax, CR/CRLF line ends.

Every injected payload carries the marker ``x-inj`` so that the oracle can
tell an injection that came from the input from what a renderer writes
itself (:mod:`tests.fuzz.oracle`).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random
import sys

import tomli_w

MARK = "x-inj"

#: Payloads aimed at each output: (family, text).  Every one carries MARK.
PAYLOADS = [
    # HTML / Markdown raw HTML (an unescaped '<' from the input)
    ("html", "<x-inj>"),
    ("html", "<img src=x onerror=alert(1)//x-inj>"),
    ("html", "</script><x-inj>"),
    ("html", '"><x-inj a="'),
    ("html", "'><x-inj>"),
    ("html", "<!--x-inj-->"),
    ("html", "&lt;x-inj&gt;"),
    # Markdown structure
    ("markdown", "`<x-inj>`"),
    ("markdown", "``<x-inj>``"),
    ("markdown", "a | x-inj | b"),
    ("markdown", "[x-inj](javascript:alert(1))"),
    ("markdown", "a\n# x-inj-nl heading"),
    ("markdown", "```\n<x-inj>\n```"),
    # Mermaid (inside ```mermaid blocks)
    ("mermaid", "%%x-inj"),
    ("mermaid", "a\nx-inj-nl"),
    ("mermaid", "a;x-inj-semi"),
    ("mermaid", "end\nx-inj-nl"),
    ("mermaid", "#x-inj;"),
    ("mermaid", "a-->>b: x-inj"),
    ("mermaid", "x-inj\r\nx-inj-nl"),
    # terminal
    ("terminal", "\x1b[31mx-inj\x1b[0m"),
    ("terminal", "\x1b]0;x-inj\x07"),
    ("terminal", "\x1b[2J\x1b[Hx-inj"),
    ("terminal", "\x9b31mx-inj"),
    ("terminal", "a\rx-inj"),
    ("terminal", "a\x08\x08x-inj"),
    ("terminal", "\x00x-inj"),
    # CSV / spreadsheet formulas
    ("csv", "=x-inj()"),
    ("csv", '=HYPERLINK("http://x-inj")'),
    ("csv", "+x-inj"),
    ("csv", "-x-inj"),
    ("csv", "@x-inj"),
    ("csv", "\tx-inj"),
    ("csv", 'a","x-inj'),
    # Unicode oddities
    ("unicode", "\u202ex-inj"),
    ("unicode", "\u200bx-inj\u200b"),
    ("unicode", "\ufeffx-inj"),
    ("unicode", "x-inj\u0301\u0301\u0301"),
    ("unicode", "\U0001f600x-inj"),
    ("unicode", "x-inj\uffff"),
    ("unicode", "\u2028x-inj\u2029"),
    # plain oddities
    ("misc", " x-inj "),
    ("misc", "x-inj/../../etc/passwd"),
    ("misc", "${x-inj}{0}%s%n"),
    ("misc", "x-inj\\"),
    ("misc", "x-inj.x-inj"),
]

#: Catalogue names (what `replcheck list ...` prints) and spec vocabulary,
#: used to put valid-looking names in the wrong place.
CATALOGUE = {
    "resolver": ["lww", "first-writer-wins", "keep-local", "apply-remote", "max", "min", "mv-register",
                 "home-leader", "union", "g-counter", "pn-counter", "or-set", "lww-element-set", "2p-set", "escrow",
                 "cassandra", "couchdb", "riak", "riak-lww", "dynamodb-global-tables", "cosmosdb-lww", "pgd",
                 "pglogical-apply-remote", "pglogical-keep-local", "pglogical-last-update-wins",
                 "pglogical-first-update-wins", "bucardo-latest", "sqlserver-p2p", "goldengate-usemax",
                 "goldengate-usemin", "goldengate-overwrite", "goldengate-ignore", "goldengate-discard",
                 "goldengate-usedelta", "yjs-map"],
    "topology": ["all-to-all", "ring", "star", "custom"],
    "invariant": ["convergence", "no-lost-writes", "strong-convergence", "durability", "email-unique",
                  "stock-non-negative", "causal-order", "replication-terminates"],
    "clock": ["wall", "lamport", "hlc"],
    "loop_prevention": ["origin", "visited", "none"],
    "tie_break": ["leader", "value", "incoming-loses"],
    "key_type": ["register", "g-counter", "pn-counter", "or-set", "lww-element-set", "2p-set", "escrow", "union",
                 "users"],
    "links": ["fifo", "unordered", "lossy", "duplicating"],
    "delete_rule": ["as-write", "delete-wins", "update-wins"],
    "verdict": ["holds", "holds:vacuous", "violated", "violated:lost-update", "incomplete"],
    "op": ["set", "delete", "resolve", "incr", "decr", "add", "remove", "transfer", "upsert", "insert", "update",
           "sell"],
    "routing": ["none", "home-leader", "home-leader:key", "home-leader:user", "home-leader:email"],
}
ALL_NAMES = sorted({n for names in CATALOGUE.values() for n in names})

HUGE_INTS = [2 ** 31, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 18, 10 ** 100, -(10 ** 100), 10 ** 4299,
             10 ** 4300, 10 ** 5000]
ODD_NUMBERS = [-1, 0, 1, 2, 3, 15, 16, 17, 64, 65, 100, 1000, 10 ** 6, 10 ** 9, -(10 ** 9), 0.5, -0.5, 1e-9,
               1e308, 5e-324, -0.0]
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324]
LONG_LENGTHS = [257, 1000, 10_000, 100_000, 1_000_000]
DEEP_LEVELS = [20, 63, 64, 65, 100, 200, 300]
MANY = [0, 1, 2, 16, 17, 33, 100, 1000, 10_000]
DATETIMES = [dt.datetime(1979, 5, 27, 7, 32, tzinfo=dt.timezone.utc), dt.datetime(2026, 1, 1, 0, 0),
             dt.date(2026, 12, 6), dt.time(7, 32)]


# --------------------------------------------------------------- helpers
def paths(tree) -> list[tuple]:
    """Every path (tuple of keys/indices) to a value inside ``tree``
    (iteratively; the root is ``()``)."""
    out, todo = [], [((), tree)]
    while todo:
        p, v = todo.pop()
        out.append(p)
        if len(p) > 70:
            continue
        if isinstance(v, dict):
            todo.extend((p + (k,), x) for k, x in v.items())
        elif isinstance(v, list):
            todo.extend((p + (i,), x) for i, x in enumerate(v))
    out.reverse()
    return out


def get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def put(tree, path, value):
    if not path:
        return value
    get(tree, path[:-1])[path[-1]] = value
    return tree


def show_path(path) -> str:
    """``('workload', 0, 'leader')`` -> ``workload[0].leader``."""
    s = ""
    for k in path:
        s += f"[{k}]" if isinstance(k, int) else (("." if s else "") + str(k))
    return s or "<root>"


def short(value, n=60) -> str:
    r = repr(value)
    return r if len(r) <= n else r[: n - 12] + f"...<{len(r)} chars>"


def typo(rng: random.Random, s: str) -> str:
    """One keyboard-slip edit of ``s`` (or a case change)."""
    if not s:
        return rng.choice(["a", "-", " "])
    i = rng.randrange(len(s))
    c = rng.choice("abcdefghijklmnopqrstuvwxyz-_ .0")
    return rng.choice([
        s[:i] + s[i + 1:],                                   # drop
        s[:i] + c + s[i:],                                   # insert
        s[:i] + c + s[i + 1:],                               # replace
        s[:i] + s[i + 1: i + 2] + s[i: i + 1] + s[i + 2:],   # swap
        s.upper(), s.title(), s + " ", " " + s, s.replace("-", "_"), s.replace("_", "-"),
    ])


def payload(rng: random.Random, base: str | None = None) -> str:
    """A payload string; with ``base``, sometimes the payload woven into it."""
    _, p = rng.choice(PAYLOADS)
    if base is None or rng.random() < 0.4:
        return p
    return rng.choice([base + p, p + base, base[: len(base) // 2] + p + base[len(base) // 2:]])


def scalar(rng: random.Random, like=None):
    """A random scalar of any TOML type (different from ``like``'s when
    given)."""
    makers = [
        lambda: rng.choice(ALL_NAMES),
        lambda: payload(rng),
        lambda: "",
        lambda: rng.choice(ODD_NUMBERS),
        lambda: rng.choice(HUGE_INTS),
        lambda: rng.choice(SPECIAL_FLOATS),
        lambda: rng.choice([True, False]),
        lambda: rng.choice(DATETIMES),
        lambda: [],
        lambda: {},
        lambda: [rng.choice(ALL_NAMES)],
        lambda: {"x": rng.choice(ALL_NAMES)},
    ]
    for _ in range(6):
        v = rng.choice(makers)()
        if like is None or type(v) is not type(like):
            return v
    return v


def swap_type(rng: random.Random, v):
    """``v`` as another type: str<->int<->float<->bool<->list<->table<->datetime."""
    options = []
    if isinstance(v, str):
        options += [len(v), [v], {v: v} if v else {"": ""}, v == "", 1.5, DATETIMES[0]]
        try:
            options.append(int(v))
        except ValueError:
            pass
    elif isinstance(v, bool):
        options += [str(v).lower(), int(v), [v]]
    elif isinstance(v, (int, float)):
        options += [str(v), [v], {"value": v}, bool(v), float(v) if isinstance(v, int) else int(v) if
                    math.isfinite(v) else str(v)]
    elif isinstance(v, list):
        options += [v[0] if v else "", {str(i): x for i, x in enumerate(v)}, ",".join(map(str, v)), len(v), [v]]
    elif isinstance(v, dict):
        options += [list(v.values()), list(v.keys()), str(v), len(v), [v]]
    else:
        options += [str(v), 0, []]
    return rng.choice(options)


def nest(rng: random.Random, v, levels: int):
    for _ in range(levels):
        v = [v] if rng.random() < 0.5 else {"x": v}
    return v


# --------------------------------------------------------- tree mutations
def _containers(tree, kind):
    return [p for p in paths(tree) if isinstance(get(tree, p), kind)]


def _leaves(tree):
    return [p for p in paths(tree) if p and not isinstance(get(tree, p), (dict, list))]


def _strings(tree):
    return [p for p in _leaves(tree) if isinstance(get(tree, p), str)]


def _numbers(tree):
    return [p for p in _leaves(tree) if isinstance(get(tree, p), (int, float)) and not isinstance(get(tree, p), bool)]


def _keys(tree):
    return [p for p in paths(tree) if p and isinstance(p[-1], str)]


def m_drop_key(rng, t):
    ks = _keys(t)
    if not ks:
        return None
    p = rng.choice(ks)
    del get(t, p[:-1])[p[-1]]
    return f"drop {show_path(p)}"


def m_duplicate(rng, t):
    """A key copied under a near name (the TOML parser itself refuses a
    literal duplicate; mutate_bytes makes those), or a list element twice."""
    ks = _keys(t)
    lists = [p for p in _containers(t, list) if get(t, p)]
    if lists and (not ks or rng.random() < 0.5):
        p = rng.choice(lists)
        lst = get(t, p)
        i = rng.randrange(len(lst))
        lst.insert(rng.randrange(len(lst) + 1), copy.deepcopy(lst[i]))
        return f"duplicate {show_path(p + (i,))}"
    if not ks:
        return None
    p = rng.choice(ks)
    parent = get(t, p[:-1])
    new = rng.choice([typo(rng, p[-1]), p[-1].upper(), p[-1] + "s", p[-1].replace("_", "-"), p[-1] + " "])
    parent[new] = copy.deepcopy(parent[p[-1]])
    return f"duplicate {show_path(p)} as {new!r}"


def m_rename_key(rng, t):
    ks = _keys(t)
    if not ks:
        return None
    p = rng.choice(ks)
    parent = get(t, p[:-1])
    new = payload(rng, p[-1]) if rng.random() < 0.2 else typo(rng, p[-1])
    if new in parent:
        return None
    parent[new] = parent.pop(p[-1])
    return f"rename {show_path(p)} -> {new!r}"


def m_swap_type(rng, t):
    ps = [p for p in paths(t) if p]
    if not ps:
        return None
    p = rng.choice(ps)
    new = swap_type(rng, get(t, p))
    put(t, p, new)
    return f"type {show_path(p)} = {short(new)}"


def m_huge_int(rng, t):
    ps = _numbers(t) or _leaves(t)
    if not ps:
        return None
    p = rng.choice(ps)
    v = rng.choice(HUGE_INTS)
    put(t, p, v)
    return f"huge {show_path(p)} = {len(str(abs(v)))} digits"


def m_special_float(rng, t):
    ps = _numbers(t) or _leaves(t)
    if not ps:
        return None
    p = rng.choice(ps)
    v = rng.choice(SPECIAL_FLOATS)
    put(t, p, v)
    return f"float {show_path(p)} = {v!r}"


def m_out_of_range(rng, t):
    ps = _numbers(t) or _leaves(t)
    if not ps:
        return None
    p = rng.choice(ps)
    v = rng.choice(ODD_NUMBERS)
    put(t, p, v)
    return f"number {show_path(p)} = {v!r}"


def m_empty(rng, t):
    ps = [p for p in paths(t) if p]
    if not ps:
        return None
    p = rng.choice(ps)
    v = get(t, p)
    new = {str: "", list: [], dict: {}}.get(type(v), rng.choice(["", [], {}]))
    put(t, p, new)
    return f"empty {show_path(p)} = {new!r}"


def m_long_string(rng, t):
    ps = _strings(t) or _leaves(t)
    if not ps:
        return None
    p = rng.choice(ps)
    n = rng.choice(LONG_LENGTHS)
    v = (str(get(t, p)) or "x") * (n // max(1, len(str(get(t, p)))) + 1)
    put(t, p, v[:n])
    return f"long {show_path(p)} = {n} chars"


def m_deep(rng, t):
    ps = [p for p in paths(t) if p]
    if not ps:
        return None
    p = rng.choice(ps)
    levels = rng.choice(DEEP_LEVELS)
    put(t, p, nest(rng, get(t, p), levels))
    return f"nest {show_path(p)} {levels} levels"


def m_payload(rng, t):
    """A payload in a value (most often a name: leader, id, key, name...)."""
    ps = _strings(t)
    names = [p for p in ps if p[-1] in ("name", "id", "leader", "key", "set", "description", "hub", "drill",
                                        "defense", "title", "question") or isinstance(p[-1], int)]
    if not ps:
        return None
    p = rng.choice(names if names and rng.random() < 0.7 else ps)
    v = payload(rng, get(t, p))
    put(t, p, v)
    return f"payload {show_path(p)} = {v!r}"


def m_payload_name(rng, t):
    """A payload as a leader name, consistently: every occurrence of one
    leader's name replaced, so the spec stays valid and the payload reaches
    the renderers (the path an injection needs)."""
    leaders = []
    sysd = t.get("system") if isinstance(t, dict) else None
    if isinstance(sysd, dict) and isinstance(sysd.get("leaders"), list):
        leaders = [x for x in sysd["leaders"] if isinstance(x, str)]
    olds = leaders or [get(t, p) for p in _strings(t) if get(t, p)]
    if not olds:
        return None
    old = rng.choice(olds)
    new = payload(rng, old)

    def walk(v):
        if isinstance(v, dict):
            return {(new if k == old else k): walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str):
            return v.replace(old, new) if old and len(old) > 2 else (new if v == old else v)
        return v

    walked = walk(t)
    t.clear()
    t.update(walked)
    return f"rename-everywhere {old!r} -> {new!r}"


def m_typo_value(rng, t):
    ps = _strings(t)
    if not ps:
        return None
    p = rng.choice(ps)
    v = typo(rng, get(t, p))
    put(t, p, v)
    return f"typo {show_path(p)} = {v!r}"


def m_catalogue(rng, t):
    """A catalogue name (a real resolver, invariant, op...) in any string
    slot, or a known spec key added where it may not belong."""
    if rng.random() < 0.6:
        ps = _strings(t)
        if not ps:
            return None
        p = rng.choice(ps)
        v = rng.choice(ALL_NAMES)
        put(t, p, v)
        return f"name {show_path(p)} = {v!r}"
    ds = _containers(t, dict)
    if not ds:
        return None
    p = rng.choice(ds)
    k = rng.choice(list(CATALOGUE) + ["after", "time_ms", "offsets", "edges", "homes", "merge", "latency_ms",
                                      "commit_ms", "initial", "requires", "faults", "bounds", "max_states",
                                      "max_depth", "max_seconds", "home_by", "layout", "routing", "observed"])
    v = rng.choice(CATALOGUE[k]) if k in CATALOGUE else scalar(rng)
    get(t, p)[k] = v
    return f"add {show_path(p + (k,))} = {short(v)}"


def m_many_leaders(rng, t):
    sysd = t.setdefault("system", {}) if isinstance(t, dict) else None
    if not isinstance(sysd, dict):
        return None
    n = rng.choice(MANY)
    style = rng.choice(["distinct", "same", "payload"])
    if style == "distinct":
        leaders = [f"l{i}" for i in range(n)]
    elif style == "same":
        leaders = ["l0"] * n
    else:
        leaders = [payload(rng) + str(i) for i in range(min(n, 40))]
    sysd["leaders"] = leaders
    return f"leaders = {style} x{len(leaders)}"


def m_many_ops(rng, t):
    wl = t.get("workload") if isinstance(t, dict) else None
    if not isinstance(wl, list) or not wl:
        return None
    k = rng.choice([2, 3, 5, 10, 50, 500])
    src = [copy.deepcopy(x) for x in wl]
    out = []
    for j in range(k):
        for op in src:
            op = copy.deepcopy(op)
            if isinstance(op, dict) and "id" in op and rng.random() < 0.9:
                op["id"] = f"{op['id']}-{j}"
            out.append(op)
    t["workload"] = out
    return f"workload x{k} ({len(out)} ops)"


def m_shuffle(rng, t):
    lists = [p for p in _containers(t, list) if len(get(t, p)) > 1]
    if not lists:
        return None
    p = rng.choice(lists)
    rng.shuffle(get(t, p))
    return f"shuffle {show_path(p)}"


def m_splice(rng, t, donors=()):
    """A subtree of another bundled file put at the same key (or anywhere)."""
    if not donors:
        return None
    donor = rng.choice(donors)
    dps = [p for p in paths(donor) if p and isinstance(p[-1], str)]
    if not dps:
        return None
    dp = rng.choice(dps)
    val = copy.deepcopy(get(donor, dp))
    ds = _containers(t, dict)
    target = dp[:-1] if dp[:-1] in ds else rng.choice(ds)
    get(t, target)[dp[-1]] = val
    return f"splice {show_path(target + (dp[-1],))} = {short(val, 40)}"


def m_insert_element(rng, t):
    lists = _containers(t, list)
    if not lists:
        return None
    p = rng.choice(lists)
    lst = get(t, p)
    v = copy.deepcopy(rng.choice(lst)) if lst and rng.random() < 0.3 else scalar(rng)
    lst.insert(rng.randrange(len(lst) + 1), v)
    return f"insert into {show_path(p)}: {short(v)}"


# -------------------------------------------- semantic (valid-ish) mutations
# Most hostile edits are refused by the validator (exit 2).  These keep a spec
# valid more often, so that the engine, the reductions and the renderers see
# unusual but legal combinations — where wrong answers and crashes hide.
VALID = {
    "resolver": CATALOGUE["resolver"], "topology": CATALOGUE["topology"][:3], "clock": CATALOGUE["clock"],
    "loop_prevention": CATALOGUE["loop_prevention"], "tie_break": CATALOGUE["tie_break"],
    "links": ["fifo", "unordered", "duplicating", "lossy"], "delete_rule": CATALOGUE["delete_rule"],
    "type": CATALOGUE["key_type"], "crashes": [0, 1, 2], "partitions": [0, 1, 2], "clock_jumps": [0, 1, 2],
    "failovers": [0, 1, 2], "recoveries": [True, False], "heals": [True, False], "lose_unsent": [True, False],
    "latency_ms": [0, 1, 10, 60, 500], "commit_ms": [0, 1, 5, 100], "time_ms": [0, 1, 5, 10, 35, 100, 1000],
    "max_depth": [1, 2, 3, 8], "initial": [0, 1, 3, "", "v0"], "n": [1, 2, 5],
}
FAULTS = {"crashes": [1, 2], "recoveries": [True, False], "lose_unsent": [True, False], "partitions": [1, 2],
          "heals": [True, False], "clock_jumps": [1], "failovers": [1]}


def _leaders(t) -> list:
    sysd = t.get("system") if isinstance(t, dict) else None
    ls = sysd.get("leaders") if isinstance(sysd, dict) else None
    return [x for x in ls if isinstance(x, str)] if isinstance(ls, list) else []


def _ops(t) -> list:
    wl = t.get("workload") if isinstance(t, dict) else None
    return [o for o in wl if isinstance(o, dict)] if isinstance(wl, list) else []


def _op_value(rng, kind, leaders):
    if kind == "delete":
        return True
    if kind in ("incr", "decr", "sell", "restock"):
        return rng.choice([1, 1, 2, 3])
    if kind == "transfer":
        return {"to": rng.choice(leaders) if leaders else "x", "n": rng.choice([1, 2])}
    return rng.choice(["A", "B", "v", "Budget", "milk", "eggs", payload(rng)])


OP_KINDS = ["set", "delete", "resolve", "incr", "decr", "add", "remove", "transfer", "insert", "update", "upsert",
            "sell", "restock"]


def m_valid_value(rng, t):
    cands = [p for p in paths(t) if p and isinstance(p[-1], str) and p[-1] in VALID]
    if cands and rng.random() < 0.7:
        p = rng.choice(cands)
        v = rng.choice(VALID[p[-1]])
        put(t, p, v)
        return f"valid {show_path(p)} = {v!r}"
    sysd = t.setdefault("system", {}) if isinstance(t, dict) else None
    if not isinstance(sysd, dict):
        return None
    k = rng.choice(["resolver", "topology", "clock", "loop_prevention", "tie_break", "links", "delete_rule",
                    "latency_ms", "commit_ms"])
    sysd[k] = rng.choice(VALID[k])
    if sysd.get("topology") == "star" and _leaders(t) and "hub" not in sysd:
        sysd["hub"] = rng.choice(_leaders(t))
    return f"valid system.{k} = {sysd[k]!r}"


def m_faults(rng, t):
    if not isinstance(t, dict):
        return None
    f = {k: rng.choice(v) for k, v in FAULTS.items() if rng.random() < 0.35} or {"crashes": 1}
    if rng.random() < 0.3 and _leaders(t):
        f["crashable"] = rng.sample(_leaders(t), 1)
    t["faults"] = f
    return f"faults = {f}"


def m_op_kind(rng, t):
    ops = _ops(t)
    if not ops:
        return None
    op = rng.choice(ops)
    for k in [k for k in op if k in OP_KINDS]:
        del op[k]
    kind = rng.choice(OP_KINDS)
    op[kind] = _op_value(rng, kind, _leaders(t))
    return f"op {op.get('id', '?')} -> {kind} = {short(op[kind])}"


def m_add_op(rng, t):
    ops, leaders = _ops(t), _leaders(t)
    if not leaders or not isinstance(t.get("workload", []), list):
        return None
    keys = [o["key"] for o in ops if isinstance(o.get("key"), str)] or ["k"]
    kind = rng.choice(OP_KINDS[:3] + OP_KINDS)
    op = {"id": f"fz{len(ops)}", "leader": rng.choice(leaders), "key": rng.choice(keys),
          kind: _op_value(rng, kind, leaders)}
    ids = [o["id"] for o in ops if isinstance(o.get("id"), str)]
    if ids and rng.random() < 0.3:
        op["after"] = [rng.choice(ids)]
    if rng.random() < 0.3:
        op["time_ms"] = rng.choice(VALID["time_ms"])
    t.setdefault("workload", []).append(op)
    return f"add op {op}"


def m_add_leader(rng, t):
    leaders = _leaders(t)
    if not leaders:
        return None
    new = rng.choice(["l-new", "zz", payload(rng), "a" * 40])
    if new in leaders:
        return None
    t["system"]["leaders"] = leaders + [new]
    if _ops(t) and rng.random() < 0.5:
        rng.choice(_ops(t))["leader"] = new
    return f"add leader {new!r}"


def m_offsets(rng, t):
    leaders = _leaders(t)
    if not leaders:
        return None
    offs = {x: rng.choice([-200, -100, -35, -1, 0, 1, 10, 100]) for x in rng.sample(leaders, rng.randint(1, len(leaders)))}
    t["system"]["offsets"] = offs
    return f"offsets = {offs}"


def m_invariants(rng, t):
    if not isinstance(t, dict):
        return None
    inv = rng.sample(CATALOGUE["invariant"], rng.randint(1, 4))
    t.setdefault("check", {})
    if isinstance(t["check"], dict):
        t["check"]["invariants"] = inv
        t.pop("expect", None) if rng.random() < 0.5 else None
        return f"check.invariants = {inv}"
    return None


def m_big_valid(rng, t):
    """A large but valid number where the spec counts or waits: incr/decr
    amounts, initial values, time_ms, latency_ms, offsets."""
    cands = [p for p in _numbers(t) if isinstance(p[-1], str) and p[-1] in (
        "incr", "decr", "sell", "restock", "initial", "time_ms", "latency_ms", "commit_ms", "n", "rights")]
    cands += [p for p in _numbers(t) if len(p) >= 2 and p[-2] == "offsets"]
    if not cands:
        return None
    p = rng.choice(cands)
    v = rng.choice([1000, 10 ** 5, 10 ** 6, 10 ** 9, 2 ** 31, 10 ** 12])
    put(t, p, v)
    return f"big {show_path(p)} = {v}"


def m_dense_edges(rng, t):
    """A custom topology with every directed link between the leaders."""
    leaders = _leaders(t)
    if len(leaders) < 2:
        return None
    if rng.random() < 0.5 and len(leaders) < 16:
        leaders = leaders + [f"m{i}" for i in range(rng.choice([4, 8, 16]) - len(leaders)) if i >= 0]
        leaders = leaders[:16]
        t["system"]["leaders"] = leaders
    t["system"]["topology"] = "custom"
    t["system"].pop("hub", None)
    t["system"]["edges"] = [f"{a} -> {b}" for a in leaders for b in leaders if a != b]
    return f"custom full mesh of {len(leaders)} leaders"


TREE_MUTATIONS = {
    "drop_key": (m_drop_key, 8), "duplicate": (m_duplicate, 5), "rename_key": (m_rename_key, 6),
    "swap_type": (m_swap_type, 10), "huge_int": (m_huge_int, 3), "special_float": (m_special_float, 3),
    "out_of_range": (m_out_of_range, 6), "empty": (m_empty, 5), "long_string": (m_long_string, 2),
    "deep": (m_deep, 2), "payload": (m_payload, 8), "payload_name": (m_payload_name, 14),
    "typo_value": (m_typo_value, 7), "catalogue": (m_catalogue, 10), "many_leaders": (m_many_leaders, 3),
    "many_ops": (m_many_ops, 3), "shuffle": (m_shuffle, 2), "splice": (m_splice, 8),
    "insert_element": (m_insert_element, 4),
    # semantic: valid-ish, to reach past the validator
    "valid_value": (m_valid_value, 14), "faults": (m_faults, 5), "op_kind": (m_op_kind, 8), "add_op": (m_add_op, 6),
    "add_leader": (m_add_leader, 4), "offsets": (m_offsets, 3), "invariants": (m_invariants, 5),
    "big_valid": (m_big_valid, 4), "dense_edges": (m_dense_edges, 2),
}
#: The valid-ish family (plus payloads in names, which keep a spec valid).
SEMANTIC = ["valid_value", "faults", "op_kind", "add_op", "add_leader", "offsets", "invariants", "payload_name",
            "shuffle", "duplicate", "splice", "big_valid", "dense_edges"]


def mutate_tree(rng: random.Random, tree, n: int | None = None, donors=(), only=None) -> tuple[object, list[str]]:
    """A mutated deep copy of ``tree`` and the list of what was done.
    ``n`` mutations (default 1-3); ``donors`` are other documents of the
    same kind for splicing; ``only`` restricts to some mutation names."""
    with _unlimited_int_digits():
        return _mutate_tree(rng, tree, n, donors, only)


def _mutate_tree(rng, tree, n, donors, only):
    t = copy.deepcopy(tree)
    if not isinstance(t, dict):
        t = {"value": t}
    n = n if n is not None else rng.choice([1, 1, 1, 2, 2, 3])
    names = list(only or TREE_MUTATIONS)
    weights = [TREE_MUTATIONS[k][1] for k in names]
    done = []
    for _ in range(n * 4):
        if len(done) >= n:
            break
        name = rng.choices(names, weights)[0]
        fn = TREE_MUTATIONS[name][0]
        try:
            what = fn(rng, t, donors) if name == "splice" else fn(rng, t)
        except RecursionError:      # a tree already nested hundreds deep: copy.deepcopy gives up
            what = None
        if what:
            done.append(what)
    return t, done


# ---------------------------------------------------------- serialisation
def _unlimited_int_digits():
    class _Ctx:
        def __enter__(self):
            self.old = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
            if self.old is not None:
                sys.set_int_max_str_digits(0)

        def __exit__(self, *exc):
            if self.old is not None:
                sys.set_int_max_str_digits(self.old)
    return _Ctx()


def _toml_safe(v):
    """What tomli_w cannot write (non-str keys, None) made writable."""
    if isinstance(v, dict):
        return {str(k): _toml_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_toml_safe(x) for x in v]
    if v is None:
        return ""
    return v


def dumps_toml(tree) -> bytes:
    """``tree`` as TOML bytes (huge ints written in full; a document too deep
    for tomli_w is written as a hand-made inline value)."""
    with _unlimited_int_digits():
        try:
            return tomli_w.dumps(_toml_safe(tree)).encode("utf-8", "surrogatepass")
        except (RecursionError, TypeError, ValueError):
            return ("x = " + "[" * 700 + "1" + "]" * 700 + "\n").encode()


def dumps_json(tree) -> bytes:
    with _unlimited_int_digits():
        try:
            return json.dumps(tree, indent=1, default=str).encode("utf-8", "surrogatepass")
        except (RecursionError, ValueError, TypeError):
            return ("[" * 5000 + "]" * 5000).encode()


# ---------------------------------------------------------- byte mutations
INVALID_UTF8 = [b"\xff", b"\xfe", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80",
                b"\xc0\xaf"]
BOMS = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"]
SYNTAX = [b"[system]\n", b"[[workload]]\n", b'"""', b"'''", b"= =", b"[", b"]]", b"{", b"}", b"=", b"\\",
          b"\n[system]\nleaders = []\n", b'\nname = "again"\n', b"\n[[workload]]\nleader = 1\n", b"#", b'"',
          b"x = " + b"[" * 1000, b"x = " + b"{a=" * 300, b"9" * 5000, b"\x00", b"\r", b"inf", b"nan"]


def _byte_truncate(rng, raw):
    cut = rng.randrange(len(raw) + 1) if raw else 0
    return raw[:cut], f"truncate at {cut}"


def _byte_flip(rng, raw):
    b = bytearray(raw)
    k = rng.choice([1, 1, 2, 4, 8])
    for _ in range(k):
        if b:
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256) if rng.random() < 0.5 else b[i] ^ (1 << rng.randrange(8))
    return bytes(b), f"flip {k} bytes"


def _byte_invalid_utf8(rng, raw):
    seq = rng.choice(INVALID_UTF8)
    i = rng.randrange(len(raw) + 1)
    return raw[:i] + seq + raw[i:], f"invalid utf-8 {seq!r} at {i}"


def _byte_bom(rng, raw):
    bom = rng.choice(BOMS)
    if bom in (b"\xff\xfe", b"\xfe\xff") and rng.random() < 0.5:   # really UTF-16
        text = raw.decode("utf-8", "replace")
        return (text.encode("utf-16-le") if bom == b"\xff\xfe" else text.encode("utf-16-be")), "utf-16"
    return bom + raw, f"bom {bom!r}"


def _byte_line_op(rng, raw):
    lines = raw.split(b"\n")
    if len(lines) < 2:
        return raw + b"\n" + raw, "double"
    i = rng.randrange(len(lines))
    op = rng.choice(["dup", "del", "swap", "dup-table"])
    if op == "dup":
        lines.insert(i, lines[i])
    elif op == "del":
        del lines[i]
    elif op == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        heads = [k for k, line in enumerate(lines) if line.startswith(b"[")]
        if heads:
            k = rng.choice(heads)
            end = next((m for m in range(k + 1, len(lines)) if lines[m].startswith(b"[")), len(lines))
            lines.extend(lines[k:end])
    return b"\n".join(lines), f"line {op} {i}"


def _byte_syntax(rng, raw):
    s = rng.choice(SYNTAX)
    i = rng.randrange(len(raw) + 1)
    return raw[:i] + s + raw[i:], f"insert {s[:20]!r}{'...' if len(s) > 20 else ''} at {i}"


def _byte_line_ends(rng, raw):
    return (raw.replace(b"\n", b"\r\n") if rng.random() < 0.5 else raw.replace(b"\n", b"\r")), "line ends"


def _byte_control(rng, raw):
    c = bytes([rng.choice([0, 7, 8, 11, 12, 27, 127])])
    i = rng.randrange(len(raw) + 1)
    return raw[:i] + c + raw[i:], f"control {c!r} at {i}"


def _byte_empty(rng, raw):
    return rng.choice([b"", b"\n", b" ", b"\x00" * 16]), "empty file"


BYTE_MUTATIONS = {"truncate": (_byte_truncate, 6), "flip": (_byte_flip, 8), "invalid_utf8": (_byte_invalid_utf8, 5),
                  "bom": (_byte_bom, 3), "lines": (_byte_line_op, 8), "syntax": (_byte_syntax, 6),
                  "line_ends": (_byte_line_ends, 2), "control": (_byte_control, 3), "empty": (_byte_empty, 1)}


def mutate_bytes(rng: random.Random, raw: bytes, n: int | None = None) -> tuple[bytes, list[str]]:
    """``raw`` mutated at the byte level, and the list of what was done."""
    n = n if n is not None else rng.choice([1, 1, 2])
    names = list(BYTE_MUTATIONS)
    weights = [BYTE_MUTATIONS[k][1] for k in names]
    done = []
    for _ in range(n):
        fn = BYTE_MUTATIONS[rng.choices(names, weights)[0]][0]
        raw, what = fn(rng, raw)
        done.append(what)
    return raw, done


# --------------------------------------------------------- command line
def fuzz_name(rng: random.Random, valid=()) -> str:
    """A name for a command-line slot: a valid one, a typo of one, a payload,
    a list with an unknown member, or an oddity."""
    v = list(valid) or ALL_NAMES
    return rng.choice([
        lambda: rng.choice(v),
        lambda: typo(rng, rng.choice(v)),
        lambda: payload(rng),
        lambda: ",".join(rng.sample(v, min(len(v), rng.randint(1, 3)))),
        lambda: rng.choice(v) + "," + payload(rng),
        lambda: rng.choice(["", ",", " ", "all", "ALL", "-", "--", "x" * 300, "../../etc/passwd", ".", "a/b"]),
        lambda: rng.choice(ALL_NAMES),
    ])()


def fuzz_set(rng: random.Random, tree) -> str:
    """A ``--set KEY=VALUE`` for a spec: a real key (or a typo of one) and a
    hostile value in TOML syntax (or not); half the time a valid value for
    a key of the catalogue (system.resolver=mv-register, faults.crashes=1)."""
    if rng.random() < 0.5:
        k = rng.choice(["resolver", "topology", "clock", "loop_prevention", "tie_break", "links", "delete_rule",
                        "latency_ms", "commit_ms", "crashes", "partitions", "heals", "clock_jumps"])
        table = "faults" if k in FAULTS or k in ("heals",) else "system"
        v = rng.choice(VALID[k])
        return f"{table}.{k}=" + (json.dumps(v) if isinstance(v, str) else str(v).lower())
    keys = [show_path(p) for p in paths(tree) if p and all(isinstance(k, str) for k in p)] or ["system.resolver"]
    key = rng.choice(keys)
    if rng.random() < 0.2:
        key = rng.choice([typo(rng, key), key + ".x", "." + key, key + ".", "", "system..resolver",
                          payload(rng)])
    v = rng.choice([
        lambda: rng.choice(ALL_NAMES),
        lambda: typo(rng, rng.choice(ALL_NAMES)),
        lambda: json.dumps(payload(rng)),
        lambda: payload(rng).replace("\x00", ""),
        lambda: str(rng.choice(ODD_NUMBERS + HUGE_INTS[:7])),
        lambda: rng.choice(["nan", "inf", "-inf", "true", "[]", "{}", '""', "[1, 'a']", "{ a = 1 }",
                            "1979-05-27T07:32:00Z", "[" * 80 + "]" * 80, "'", '"', "= x", ""]),
        lambda: '["' + '", "'.join(f"l{i}" for i in range(rng.choice([0, 1, 17, 200]))) + '"]',
    ])()
    return f"{key}={v}"
