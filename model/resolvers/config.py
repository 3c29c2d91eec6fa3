"""Spec keys of the resolver catalogue: ``[keys."name"]`` (with a table's
per-row homes, ``home_by``), ``system.homes``, ``system.delete_rule``,
``system.merge``, ``requires``, the workload ops ``resolve``, ``incr``,
``decr``, ``add``, ``remove``, ``transfer`` and a delete's ``if_version``.

:mod:`model.spec` calls :func:`parse_op` for each workload op and
:func:`parse_config` once the workload is known; every mistake is a
one-line :class:`~model.errors.SpecError` naming the file, the key and a fix.
"""

from __future__ import annotations

import math

import re
from dataclasses import dataclass

from replcheck.model.errors import SpecError, did_you_mean

OP_KINDS = ("set", "delete", "resolve", "incr", "decr", "add", "remove", "transfer")
REQUIREMENTS = {"python": "runs a Python merge function: needs replcheck check --allow-python"}
_KEY_FIELDS = {"type", "resolver", "initial", "rights", "merge", "delete_rule", "home", "home_by"}
_MERGE_RE = re.compile(r"^(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|[^:]+\.py):[A-Za-z_]\w*$")   # module:function or file.py:function


@dataclass(frozen=True)
class KeySpec:
    """A ``[keys."name"]`` table: the key's data type and its settings.

    ``entry`` is the catalogue name that governs the key (a register's
    resolver, or the CRDT / escrow / union type itself).
    """

    name: str
    entry: str
    initial: object = None          # str (register), int (counters), tuple[str, ...] (sets)
    rights: tuple[tuple[str, int], ...] = ()
    merge: str | None = None
    delete_rule: str | None = None
    home: str | None = None         # route every write of the key to this leader (any type; model/routing.py)
    home_by: str | None = None      # a table's per-row homes: user | email | key (model/routing.py ROW_BASES)


def parse_op(source, where, o, leader_ref):
    """``(kind, value, amount, target)`` of one workload op table."""
    given = [k for k in OP_KINDS if k in o]
    if len(given) != 1:
        raise SpecError(source, where, "give exactly one of set = \"value\", delete = true, resolve = \"value\","
                                       " incr = n, decr = n, add = \"x\", remove = \"x\", transfer = { to, n },"
                                       " insert = \"v\", update = \"v\", upsert = \"v\", sell = n or restock = n")
    kind = given[0]
    v = o[kind]
    key = f"{where}.{kind}"
    if kind in ("set", "resolve"):
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise SpecError(source, key, f"must be a string or a number, got {v!r}")
        return kind, str(v), 0, None
    if kind == "delete":
        if v is not True:
            raise SpecError(source, key, "must be true (a delete is a write of a tombstone)")
        return kind, None, 0, None
    if kind in ("add", "remove"):
        if isinstance(v, bool) or not isinstance(v, (str, int)) or v == "":
            raise SpecError(source, key, f"must name one set element, e.g. {kind} = \"milk\", got {v!r}")
        return kind, str(v), 0, None
    if kind in ("incr", "decr"):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise SpecError(source, key, f"must be a positive integer amount, e.g. {kind} = 1, got {v!r}")
        return kind, None, v, None
    if not isinstance(v, dict) or set(v) != {"to", "n"}:
        raise SpecError(source, key, "must be a table { to = \"<leader>\", n = <amount> }")
    n = v["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SpecError(source, f"{key}.n", f"must be a positive integer, got {n!r}")
    leader_ref(f"{key}.to", v["to"])
    return kind, None, n, v["to"]


def _entry(source, key, name):
    from replcheck.model.resolvers import RESOLVERS, TABLES
    if isinstance(name, str) and name in TABLES and key.endswith(".type"):
        return TABLES[name]
    if not isinstance(name, str) or name not in RESOLVERS:
        known = list(RESOLVERS) + (list(TABLES) if key.endswith(".type") else [])
        raise SpecError(source, key, f"unknown '{name}'{did_you_mean(name, known)} (replcheck list resolvers)")
    return RESOLVERS[name]


def _delete_rule(source, key, value, info):
    from replcheck.model.resolvers.register import DELETE_RULES
    if value is None:
        return None
    if not isinstance(value, str) or value not in DELETE_RULES:
        raise SpecError(source, key, f"unknown '{value}'{did_you_mean(value, DELETE_RULES)}"
                                     f" (as-write, delete-wins or update-wins)")
    if not info.delete_configurable and value != info.delete_rule:
        raise SpecError(source, key, f"{info.name} fixes its delete rule to {info.delete_rule};"
                                     " remove the key (or pick a resolver whose rule is configurable, e.g. lww)")
    return value


def _merge_ref(source, key, value):
    if not isinstance(value, str) or not _MERGE_RE.match(value):
        raise SpecError(source, key, f"{value!r} is not \"package.module:function\" nor \"file.py:function\", e.g."
                                     " merge = \"examples.merges:concat_titles\" or \"merges.py:concat_titles\"")
    return value


def parse_config(source, data, system, leaders, workload, resolver, clock):
    """The catalogue's spec keys, validated against the workload.

    Returns the :class:`model.spec.Spec` fields ``keys``, ``homes``,
    ``delete_rule``, ``merge`` and ``requires``.
    """
    from replcheck.model.resolvers import CUSTOM_MERGE, RESOLVERS, entry
    sysinfo = RESOLVERS[resolver]
    # A preset is the product: its clock and tie-break are not choices.
    if sysinfo.clock and "clock" in system and system["clock"] != sysinfo.clock:
        raise SpecError(source, "system.clock", f"{resolver} stamps writes with {sysinfo.clock} clocks;"
                                                f" remove the key (or use resolver = \"lww\" to pick a clock)")
    if sysinfo.fixed_tie_break and "tie_break" in system:
        raise SpecError(source, "system.tie_break", f"{resolver} has its own tie-break ({sysinfo.tie_break_text});"
                                                    " remove the key (or use resolver = \"lww\" to pick one)")
    merge = system.get("merge")
    if merge is not None:
        _merge_ref(source, "system.merge", merge)
        if "resolver" in system:
            raise SpecError(source, "system.merge", "give either resolver or merge, not both; a merge function is"
                                                    " the resolver")
    delete_rule = _delete_rule(source, "system.delete_rule", system.get("delete_rule"), sysinfo)

    raw_keys = data.get("keys", {})
    if not isinstance(raw_keys, dict) or not all(isinstance(v, dict) for v in raw_keys.values()):
        raise SpecError(source, "keys", "must be tables, one per key: [keys.\"cart\"] with type = \"or-set\"")
    keys = []
    for name, kt in raw_keys.items():
        where = f"keys.{name}"
        for f in kt:
            if f not in _KEY_FIELDS:
                raise SpecError(source, f"{where}.{f}", f"unknown key{did_you_mean(f, _KEY_FIELDS)}"
                                                        f" (allowed: {', '.join(sorted(_KEY_FIELDS))})")
        ktype = kt.get("type", "register")
        if ktype == "register":
            if "merge" in kt:
                if "resolver" in kt:
                    raise SpecError(source, f"{where}.merge", "give either resolver or merge, not both")
                info = CUSTOM_MERGE
                kmerge = _merge_ref(source, f"{where}.merge", kt["merge"])
            else:
                if "resolver" not in kt and merge:
                    info = CUSTOM_MERGE
                else:
                    info = _entry(source, f"{where}.resolver", kt.get("resolver", resolver))
                kmerge = merge if info.name == "custom-merge" else None
                if info.family != "register":
                    raise SpecError(source, f"{where}.resolver", f"{info.name} is a {info.family} type, not a register"
                                                                 f" resolver; write type = \"{info.name}\" instead")
        else:
            info = _entry(source, f"{where}.type", ktype)
            if info.family == "register" and info.name != "mv-register":
                raise SpecError(source, f"{where}.type", f"'{ktype}' is a register resolver; write type = \"register\""
                                                         f" and resolver = \"{ktype}\"")
            for f in ("resolver", "merge"):
                if f in kt:
                    raise SpecError(source, f"{where}.{f}", f"only a register takes a {f}; {ktype} is its own merge")
            kmerge = None
        kdr = _delete_rule(source, f"{where}.delete_rule", kt.get("delete_rule"), info)
        initial = _initial(source, f"{where}.initial", kt.get("initial"), info)
        rights = ()
        if "rights" in kt:
            if not info.rights:
                raise SpecError(source, f"{where}.rights", "only an escrow counter has rights; remove the key")
            rights = _rights(source, f"{where}.rights", kt["rights"], leaders, initial)
        home = kt.get("home")
        if home is not None and home not in leaders:
            raise SpecError(source, f"{where}.home", f"unknown leader '{home}'{did_you_mean(str(home), leaders)}"
                                                     f" (leaders: {', '.join(leaders)})")
        home_by = _home_by(source, where, kt, info)
        keys.append(KeySpec(name, info.name, initial, rights, kmerge, kdr, home, home_by))

    homes = _homes(source, system.get("homes"), leaders)
    _homes_match(source, homes, keys, workload)
    requires = _requires(source, data.get("requires", []))
    by_name = {k.name: k for k in keys}
    default_entry = "custom-merge" if merge else resolver
    needs_python = []
    for i, op in enumerate(workload):
        ks = by_name.get(op.key)
        info = entry(ks.entry if ks else default_entry)
        if info.name == "custom-merge":
            needs_python.append(f"keys.{op.key}.merge" if ks and ks.merge else "system.merge")
        if op.kind not in info.ops:
            raise SpecError(source, f"workload[{i}].{op.kind}",
                            f"a {info.name} key ('{op.key}') takes {', '.join(info.ops)}, not {op.kind};"
                            f" change the op or the key's type ([keys.\"{op.key}\"])")
        if info.name == "goldengate-usedelta" or (op.kind in ("incr", "decr") and info.family == "register"):
            _numeric_register(source, i, op, ks, workload)
        if getattr(op, "if_version", None):
            _observed_delete(source, i, op, info, ks, system)
        if op.kind == "transfer" and op.target == op.leader:
            raise SpecError(source, f"workload[{i}].transfer.to", "a leader cannot transfer rights to itself;"
                                                                  " name another leader")
    if needs_python and "python" not in requires:
        raise SpecError(source, needs_python[0], "runs a Python merge function; declare requires = [\"python\"]"
                                                 " at the top of the spec (--expect then skips it unless"
                                                 " --allow-python is given)")
    return dict(keys=tuple(keys), homes=homes, delete_rule=delete_rule, merge=merge, requires=requires)


MAX_SET_ELEMENTS = 1_000   # a set key's initial elements (each state carries them)


def _initial(source, key, v, info):
    if v is None:
        return None
    if info.family == "set":
        if isinstance(v, list) and len(v) > MAX_SET_ELEMENTS:   # the size first: every state holds the set
            raise SpecError(source, key, f"{len(v):,} elements; a set starts from at most {MAX_SET_ELEMENTS:,};"
                                         " keep the elements the workload touches")
        if not isinstance(v, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in v):
            raise SpecError(source, key, "a set starts from a list of elements, e.g. initial = [\"milk\", \"eggs\"]")
        return tuple(dict.fromkeys(str(x) for x in v))
    if info.family == "counter":
        if isinstance(v, bool) or not isinstance(v, int) or (info.name in ("escrow", "g-counter") and v < 0):
            raise SpecError(source, key, f"a {info.name} starts from a{' non-negative' if info.name != 'pn-counter' else 'n'}"
                                         f" integer, e.g. initial = 3, got {v!r}")
        return v
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise SpecError(source, key, f"a register starts from a string or a number, got {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise SpecError(source, key, f"must be a finite number or a string, got {v!r}; write initial = \"{v!r}\""
                                     " if you mean the text")
    return str(v)


def _rights(source, key, v, leaders, initial):
    if not isinstance(v, dict):
        raise SpecError(source, key, "must be a table leader = rights, e.g. rights = { us-east = 2, eu-west = 1 }")
    out = []
    for l, n in v.items():
        if l not in leaders:
            raise SpecError(source, f"{key}.{l}", f"unknown leader '{l}'{did_you_mean(l, leaders)}"
                                                  f" (leaders: {', '.join(leaders)})")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise SpecError(source, f"{key}.{l}", f"must be a non-negative integer, got {n!r}")
        out.append((l, n))
    total = sum(n for _, n in out)
    if total != (initial or 0):
        raise SpecError(source, key, f"rights add up to {total} but initial is {initial or 0}; the initial value"
                                     " is exactly the rights handed out")
    return tuple(out)


def _homes(source, v, leaders):
    if v is None:
        return ()
    if not isinstance(v, dict):
        raise SpecError(source, "system.homes", "must be a table of key prefix = leader, e.g."
                                                " homes = { \"user:alice\" = \"eu-west\" }")
    out = []
    for prefix, l in v.items():
        if l not in leaders:
            raise SpecError(source, f"system.homes.{prefix}", f"unknown leader '{l}'{did_you_mean(l, leaders)}"
                                                              f" (leaders: {', '.join(leaders)})")
        out.append((prefix, l))
    return tuple(out)


def _home_by(source, where, kt, info):
    """A table's ``home_by`` (per-row homes, model/routing.py), or ``None``."""
    from replcheck.model.routing import ROW_BASES
    if "home_by" not in kt:
        return None
    v = kt["home_by"]
    key = f"{where}.home_by"
    if not isinstance(v, str) or v not in ROW_BASES:
        raise SpecError(source, key, f"unknown '{v}'{did_you_mean(str(v), ROW_BASES)} (user, email or key: what"
                                     " names a row for its home in system.homes)")
    if info.family != "table":
        raise SpecError(source, key, f"only a table (type = \"users\") has rows to home; a {info.name} key is one"
                                     f" value: give it one home with home = \"<leader>\" (or system.homes)")
    if "home" in kt:
        raise SpecError(source, f"{where}.home", "give the table one home (home) or per-row homes (home_by),"
                                                 " not both; remove one")
    return v


def _shown(names, most=6) -> str:
    names = list(names)
    return ", ".join(names[:most]) + (", ..." if len(names) > most else "")


def _homes_match(source, homes, keys, workload):
    """Every ``system.homes`` prefix must match a key the workload writes or
    a row of a table with per-row homes (else it homes nothing: a typo that
    would leave every key at the first leader, silently); and a table with
    ``home_by`` must have at least one row a prefix matches."""
    from replcheck.model.resolvers import TABLES
    from replcheck.model.routing import longest_home, row_key
    by_name = {k.name: k for k in keys}
    written = list(dict.fromkeys(op.key for op in workload))
    tables = [k for k in written if k in by_name and by_name[k].entry in TABLES]

    def rows_of(table, basis):
        return list(dict.fromkeys(row_key(table, basis, op.id, op.value) for op in workload if op.key == table))

    rows = {t: rows_of(t, by_name[t].home_by) for t in tables if by_name[t].home_by}
    row_names = [r for rs in rows.values() for r in rs if r not in written]
    for prefix, _ in homes:
        if any(n.startswith(prefix) for n in written + row_names):
            continue
        listed = f"keys: {_shown(written)}" + (f"; rows: {_shown(row_names)}" if row_names else "")
        other = [(t, b) for t in tables for b in ("user", "email")
                 if b != by_name[t].home_by and any(r.startswith(prefix) for r in rows_of(t, b))]
        if other:
            t, b = other[0]
            raise SpecError(source, f"system.homes.{prefix}",
                            f"matches no key or row the workload writes ({listed}), but it names a row of '{t}' by"
                            f" {b}; set [keys.\"{t}\"] home_by = \"{b}\" to home the table's rows by {b}")
        names = written + row_names
        near = {n[:len(prefix)] for n in names} | set(names)
        raise SpecError(source, f"system.homes.{prefix}",
                        f"matches no key or row the workload writes{did_you_mean(prefix, sorted(near))} ({listed});"
                        " name a prefix of one of them, or remove the entry")
    for table, rs in rows.items():
        if not any(longest_home(homes, r) for r in rs):
            basis = by_name[table].home_by
            raise SpecError(source, f"keys.{table}.home_by",
                            f"no system.homes prefix matches a row of '{table}' by {basis} (rows: {_shown(rs)}),"
                            f" so every row would sit at the first leader; add homes, e.g. system.homes ="
                            f" {{ \"{rs[0]}\" = \"<leader>\" }} (or give the table one home: home = \"<leader>\")")


# What a delete's ``if_version`` may name (docs/model.md "Observed deletes").
IF_VERSION = {"observed": "the version its leader shows when it commits: the delete removes only that version"}


def _observed_delete(source, i, op, info, ks, system):
    """An observed delete (``if_version = "observed"``) is modelled on lww
    registers whose deletes compete as writes (model/resolvers/lww.py)."""
    key = f"workload[{i}].if_version"
    rule = (ks.delete_rule if ks is not None else None) or (system.get("delete_rule") if info.delete_configurable
                                                          else None) or info.delete_rule
    if info.name != "lww":
        raise SpecError(source, key, f"an observed delete is modelled on lww keys; '{op.key}' is under {info.name};"
                                     f" use resolver = \"lww\" for it (or remove if_version: a tombstone delete)")
    if rule != "as-write":
        where = f"keys.{op.key}.delete_rule" if ks is not None and ks.delete_rule else "system.delete_rule"
        raise SpecError(source, key, f"an observed delete is its own delete rule (it removes only the version it"
                                     f" read), so it cannot also follow {where} = \"{rule}\"; remove one of them")


def _requires(source, v):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise SpecError(source, "requires", "must be a list, e.g. requires = [\"python\"]")
    for i, x in enumerate(v):
        if x not in REQUIREMENTS:
            raise SpecError(source, f"requires[{i}]", f"unknown '{x}'{did_you_mean(x, REQUIREMENTS)} (python)")
    return tuple(v)


def _numeric_register(source, i, op, ks, workload):
    """A read-modify-write (or a delta) needs integer values on its key."""
    def num(x):
        try:
            float(x)
            return True
        except ValueError:
            return False
    if ks is not None and ks.initial is not None and not num(ks.initial):
        raise SpecError(source, f"keys.{op.key}.initial", f"{op.kind} reads a number; start from a number, e.g."
                                                          " initial = 0")
    for j, o in enumerate(workload):
        if o.key == op.key and o.kind in ("set", "resolve") and not (num(o.value) and float(o.value).is_integer()):
            raise SpecError(source, f"workload[{j}].{o.kind}", f"'{op.key}' holds a number (workload[{i}] is"
                                                               f" {op.kind}); its values must be integers")
