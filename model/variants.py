"""Spec variants: a validated :class:`~model.spec.Spec` re-made with a few
settings changed (the loader layer; docs/api.md "Variants").

A ``Spec`` keeps, privately, the source mapping it was validated from (the
TOML data after ``--set`` overrides).  A variant edits a copy of that mapping
and validates it again with :func:`model.spec.parse_spec`, so a variant is
exactly the spec a file with those settings would give: ``load(path,
["system.resolver=X"]) == load(path).with_resolver("X")``.  This module and
:mod:`model.spec` are the only code that touch spec dicts; the composing
commands (``matrix``, ``drill``, ``check --resolver``) call the ``Spec``
methods and never see a dict, re-read a file or match an error's text.

A variant that does not validate raises :class:`NotApplicable` (a
:class:`SpecError`) with the validator's own one-line key and reason: the
combination cannot run.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from replcheck.model.errors import SpecError


class NotApplicable(SpecError):
    """This combination of the spec cannot run (the reason says why)."""


class PresetConflict(NotApplicable):
    """The spec sets a ``clock`` or ``tie_break`` that the resolver, a
    product preset, fixes itself (``presets="retry"`` drops the spec's)."""


_PRESET_KEYS = ("system.clock", "system.tie_break")


# --------------------------------------------------------- [keys] re-typing
def takes_resolver(kt) -> bool:
    """Does a key with table ``kt`` take a conflict resolver?  A ``users``
    table does not: rows keyed by generated ids never conflict
    (docs/drills/README.md, "users table")."""
    from replcheck.model.resolvers import TABLES
    return not (isinstance(kt, dict) and kt.get("type") in TABLES)


def _initial_for(info, v):
    """A key's ``initial`` re-read for the data type ``info`` (an unreadable
    value is passed on, and validation names the mismatch)."""
    if v is None or info.family == "register":
        return v
    if info.family == "counter":
        try:
            return int(float(v))
        except (TypeError, ValueError):
            return v
    if info.family == "set":
        return v if isinstance(v, list) else [v]
    return v


def retype(kt: dict, info, merge: str | None = None) -> dict:
    """A ``[keys."k"]`` table under the catalogue entry ``info`` (or the
    Python ``merge``) instead of its own type (pure).

    Every setting the spec format allows (docs/resolvers.md, ``[keys]``) is
    carried over where the new type takes it: ``initial`` re-read for the
    type, ``home`` and ``delete_rule`` as given (validation refuses a
    delete rule the entry fixes otherwise, with its reason), ``rights``
    when the new type is ``escrow`` (only an escrow counter has rights)."""
    new: dict = {}
    if merge:
        new.update(type="register", merge=merge)
    elif info.family == "register":
        new.update(type="register", resolver=info.name)
    else:
        new["type"] = info.name
    if kt.get("initial") is not None:
        new["initial"] = kt["initial"] if merge else _initial_for(info, kt["initial"])
    for f in ("home", "delete_rule"):
        if f in kt:
            new[f] = kt[f]
    if "rights" in kt and not merge and info.rights:
        new["rights"] = kt["rights"]
    return new


# ------------------------------------------------------------- table layouts
def _by_email(data: dict) -> dict:
    """The scenario with every ``users`` table turned into rows keyed by
    email: a registration ``insert = "a@x"`` on table ``users`` becomes
    ``insert = "<op id>"`` on the register row ``users/a@x``."""
    keys = dict(data.get("keys", {}))
    tables = {k for k, kt in keys.items() if not takes_resolver(kt)}
    work = []
    for i, o in enumerate(data.get("workload", [])):
        o = dict(o)
        if o.get("key") in tables:
            email = o.pop("insert", None) or o.pop("set", None)
            o["key"] = f"{o['key']}/{email}"
            o["insert"] = o.get("id", f"w{i + 1}")
        work.append(o)
    for t in tables:
        keys.pop(t)
    return {**data, "keys": keys, "workload": work}


def _written(data: dict) -> list[str]:
    return list(dict.fromkeys(o.get("key") for o in data.get("workload", []) if isinstance(o, dict)))


def written_keys(spec, rows_by_email: bool = False) -> tuple[str, ...]:
    """The keys the workload writes, in order (under the ``by-email``
    layout when ``rows_by_email``), without validating anything."""
    if not rows_by_email:
        return tuple(dict.fromkeys(o.key for o in spec.workload))
    return tuple(_written(_by_email(_data(spec))))


def resolver_keys(spec) -> tuple[str, ...]:
    """The keys of the workload a resolver governs: every written key but a
    ``users`` table."""
    from replcheck.model.resolvers import TABLES
    table_entries = {info.name for info in TABLES.values()}
    tables = {k.name for k in spec.keys if k.entry in table_entries}
    return tuple(k for k in dict.fromkeys(o.key for o in spec.workload) if k not in tables)


# ------------------------------------------------------------------ variants
def _data(spec) -> dict:
    data = spec._data
    if data is None:
        raise SpecError(spec.source, "", "this Spec was not made by the spec loader; load it with"
                                         " replcheck.load (or parse_spec) to derive variants")
    return copy.deepcopy(data)


def source_data(spec) -> dict:
    """A copy of the mapping ``spec`` was validated from (what a spec file
    with the same settings would hold), e.g. to write the variant out or to
    validate it independently."""
    return _data(spec)


def extra_table(spec, name: str):
    """A copy of a top-level table the spec loader accepts but leaves to
    another reader (``[drill]``, read by :mod:`checks.drill`); ``None`` when
    the spec has none."""
    return copy.deepcopy(_data(spec).get(name))


def derive(spec, *, resolver: str | None = None, retype_keys: str | None = None, merge: str | None = None,
           topology: str | None = None, hub: str | None = None, homes=None, rows_by_email: bool = False,
           invariants=None, drop_expect: bool = False, presets: str | None = None):
    """A new validated Spec: ``spec`` with these settings changed (pure).

    ``resolver``
        ``system.resolver`` (a register resolver also governs undeclared keys).
    ``retype_keys``
        ``"declared"``: every ``[keys]`` table but a ``users`` table is
        re-typed to ``resolver`` (:func:`retype`), as ``replcheck matrix``
        does; ``"written"``: every key the workload writes (a declared table
        or not) but a ``users`` table, as a drill answer does — then
        ``system.resolver`` is set only when a key is a register, and a
        ``merge`` answer makes every such key a Python merge (``requires =
        ["python"]``, no ``system.resolver``).
    ``topology``, ``hub``
        a star's hub is ``hub``, else the spec's own, else the first leader;
        other topologies drop ``hub``, all but ``custom`` drop ``edges``.
    ``homes``
        ``{key: leader}``: each key's writes commit at its home.
    ``rows_by_email``
        every ``users`` table becomes register rows keyed by email.
    ``invariants``, ``drop_expect``
        the ``[check]`` list; drop the ``[drill]`` and ``[expect]`` tables.
    ``presets``
        what to do with the spec's ``clock`` / ``tie_break`` under a product
        preset that fixes its own: ``None`` keep them (validation refuses a
        contradiction), ``"retry"`` drop both when validation refuses them,
        ``"drop"`` drop whichever the preset fixes.

    Raises :class:`NotApplicable` with the validator's one-line reason when
    the variant does not validate.  Bounds and ``allow_python`` are the
    spec's.
    """
    from replcheck.model.resolvers import RESOLVERS
    from replcheck.model.spec import parse_spec
    data = _data(spec)
    if drop_expect:
        data.pop("drill", None)
        data.pop("expect", None)
    if invariants is not None:
        data["check"] = {"invariants": list(invariants)}
    if rows_by_email:
        data = _by_email(data)
    system = dict(data.get("system", {}))
    if topology is not None:
        system["topology"] = topology
        if topology == "star":
            leaders = system.get("leaders") or [None]
            system["hub"] = hub or system.get("hub") or leaders[0]
        else:
            system.pop("hub", None)
        if topology != "custom":
            system.pop("edges", None)
    info = RESOLVERS.get(resolver) if resolver is not None else None
    sets_resolver = resolver is not None
    if retype_keys == "declared":
        if "keys" in data:
            data["keys"] = {k: (retype(kt, info) if takes_resolver(kt) else kt) for k, kt in data["keys"].items()}
        system["resolver"] = resolver
    elif retype_keys == "written":
        keys = {k: dict(v) for k, v in data.get("keys", {}).items()}
        uses_resolver = False
        for k in _written(data):
            kt = keys.get(k, {})
            if not takes_resolver(kt):
                continue   # rows keyed by generated ids never conflict: no resolver runs
            keys[k] = retype(kt, info, merge)
            uses_resolver = uses_resolver or (not merge and info.family == "register")
        if merge:
            data["requires"] = ["python"]
            system.pop("resolver", None)
        elif uses_resolver:
            system["resolver"] = resolver
        sets_resolver = uses_resolver and not merge
        data["keys"] = keys
    elif resolver is not None:
        system["resolver"] = resolver
    if presets == "drop" and sets_resolver and info is not None:
        if info.clock:
            system.pop("clock", None)
        if info.fixed_tie_break:
            system.pop("tie_break", None)
    if homes:
        keys = {k: dict(v) for k, v in data.get("keys", {}).items()}
        for k, leader in dict(homes).items():
            keys.setdefault(k, {})["home"] = leader
        data["keys"] = keys
    data["system"] = system
    try:
        new = parse_spec(data, spec.source, spec._invariant_names)
    except SpecError as e:
        if e.key in _PRESET_KEYS and presets != "retry":
            raise PresetConflict(e.source, e.key, e.message) from None
        if e.key not in _PRESET_KEYS:
            raise NotApplicable(e.source, e.key, e.message) from None
        # A product preset fixes its own clock and tie-break: drop the spec's.
        data["system"] = {k: v for k, v in system.items() if k not in ("clock", "tie_break")}
        try:
            new = parse_spec(data, spec.source, spec._invariant_names)
        except SpecError as e2:
            raise NotApplicable(e2.source, e2.key, e2.message) from None
    return replace(new, bounds=spec.bounds, allow_python=spec.allow_python)
