"""Compile a spec's keys into data types (one per key) for a System.

Everything a data type needs to know about the ops of its key is
precomputed here into flat per-op tuples (origin leader, tie-break rank,
value id, is-delete), so that ``apply`` — the hot path — only indexes
tuples.
"""

from __future__ import annotations

from dataclasses import replace

from replcheck.model.errors import SpecError
from replcheck.model.resolvers import local_checks
from replcheck.model.resolvers.base import RMW
from replcheck.model.routing import Routing, row_key
from replcheck.model.state import DATA, ORIGIN


class KeyContext:
    """Per-key facts shared by the data types (read-only after compile)."""

    def __init__(self, system, spec, k, keyspec, entry):
        self.key = k
        self.key_name = system.keys[k]
        self.spec = spec
        self.entry = entry
        self.keyspec = keyspec
        self.system = system
        self.n = system.n
        self.leaders = system.leaders
        ops = system.ops
        self.ops = ops
        self.key_ops = tuple(op.index for op in ops if op.key == k)
        self.origin = tuple(op.origin for op in ops)
        self.is_delete = tuple(op.kind == "delete" for op in ops)
        names = sorted(system.leaders)
        self.leader_rank = tuple(names.index(system.leaders[op.origin]) for op in ops)
        # Per leader index, the rank of its name (the leader tie-break's order).
        self.name_rank = tuple(names.index(name) for name in system.leaders)
        # Whether a failover can move this key's home, so that a write may be
        # committed away from its static home (set by compile_types; docs/model.md
        # "Failover of home leaders").
        self.moves = False
        if spec.tie_break == "leader":
            self.tie = tuple((r,) for r in self.leader_rank)
        elif spec.tie_break == "value":
            self.tie = tuple(((op.value or "").encode(),) for op in ops)
        else:
            self.tie = tuple(() for _ in ops)
        self.static_vid = tuple(op.value_id for op in ops)
        self.values = system.values
        dr = keyspec.delete_rule if keyspec is not None else None
        if dr is None and entry.delete_configurable:
            dr = getattr(spec, "delete_rule", None)
        self.delete_rule = dr or entry.delete_rule
        self.initial_vid = None
        if keyspec is not None and keyspec.initial is not None and entry.family == "register":
            self.initial_vid = system.values.index(keyspec.initial)
        self._numeric = all(_is_num(v) for v in self._key_values())
        self.num_vid = {}
        for i, v in enumerate(system.values):
            if v is not None and _is_int(v):
                self.num_vid.setdefault(int(float(v)), i)

    def _key_values(self):
        vals = [self.ops[i].value for i in self.key_ops if self.ops[i].value is not None]
        if self.initial_vid is not None:
            vals.append(self.values[self.initial_vid])
        return vals

    # -- the committing leader (failovers)
    def committer_rank(self, w, writes) -> int:
        """The name rank of the leader that actually committed write ``w``:
        its static home, or, after a failover, the home that committed it
        (recorded as the fourth field of its write-table entry,
        model/resolvers/register.origin_of).  A leader tie-break compares
        the leaders that stamped the two writes, whichever was home then."""
        meta = writes[w]
        return self.name_rank[meta[ORIGIN]] if len(meta) > ORIGIN else self.leader_rank[w]

    def tie_at(self, w, writes) -> tuple:
        """Write ``w``'s tie-break value (``system.tie_break``), read from
        the leader that actually committed it when the tie-break is
        ``leader`` (the precomputed :attr:`tie` names the static home)."""
        if self.spec.tie_break == "leader":
            return (self.committer_rank(w, writes),)
        return self.tie[w]

    # -- values
    def value_of(self, w, writes) -> int:
        """The value id write ``w`` wrote (a read-modify-write's is decided
        at commit and kept in its write-table entry)."""
        meta = writes[w]
        if meta is not None and len(meta) > DATA and meta[DATA] is not None:
            return meta[DATA][0]
        return self.static_vid[w]

    def sort_value(self, vid):
        v = self.values[vid]
        if v is None:
            return (0, b"")
        if self._numeric:
            return (1, float(v))
        return (1, v.encode())

    def number(self, vid) -> int:
        v = self.values[vid] if vid is not None else None
        return 0 if v is None else int(float(v))

    def stamp_register(self, op, ts, past, content, writes):
        """A register commit; ``incr``/``decr`` read the value the leader
        shows now and write it plus/minus the amount (read-modify-write)."""
        if op.kind not in RMW:
            return (ts, past)
        if content:
            cur = self.number(self.value_of(content[0], writes))
        else:
            cur = self.number(self.initial_vid)
        new = cur + op.amount if op.kind == "incr" else cur - op.amount
        return (ts, past, (self.num_vid[new],))


def _is_num(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _is_int(v) -> bool:
    return _is_num(v) and float(v).is_integer()


MAX_NUMBERS = 10_000   # distinct numbers the read-modify-writes of one register key may produce


def reachable_numbers(starts, deltas, source="<spec>", key="keys") -> list[int]:
    """Every number a chain of read-modify-writes can produce from one of
    ``starts``: a start plus the amounts of some subset of ``deltas`` (each
    operation commits once, so it adds its amount at most once to what it
    read), ascending.  Refuses (a :class:`SpecError` naming ``key``) when
    there would be more than :data:`MAX_NUMBERS` — before any of them is
    made: ``incr = 1000000000`` adds two numbers, not a billion."""
    sums = {0}
    for d in deltas:
        sums |= {x + d for x in sums}
        if len(sums) > MAX_NUMBERS:
            break
    out = {s + x for s in starts for x in sums}
    if len(out) > MAX_NUMBERS:
        raise SpecError(source, key, f"its increments and decrements can produce more than {MAX_NUMBERS:,}"
                                     " distinct numbers; use fewer read-modify-writes or amounts that repeat")
    return sorted(out)


def _intern_numbers(system, spec, keyspecs, entries):
    """Every number a read-modify-write can produce gets a value id: only
    the reachable ones (:func:`reachable_numbers`), not every integer of
    their range."""
    extra = list(system.values)
    known = set(extra)

    def add(v):
        if v not in known:
            known.add(v)
            extra.append(v)

    for k, key in enumerate(system.keys):
        entry = entries[k]
        ops = [op for op in system.ops if op.key == k]
        if entry.family != "register" or not any(op.kind in RMW for op in ops):
            continue
        ks = keyspecs.get(key)
        starts = {0}
        if ks is not None and ks.initial is not None:
            starts.add(int(float(ks.initial)))
        starts |= {int(float(op.value)) for op in ops if op.kind in ("set", "resolve")}
        deltas = [op.amount if op.kind == "incr" else -op.amount for op in ops if op.kind in RMW]
        where = f"keys.{key}" if ks is not None else "workload"
        for x in reachable_numbers(sorted(starts), deltas, getattr(spec, "source", "<spec>"), where):
            add(str(x))
    for ks in keyspecs.values():
        if ks.initial is not None and isinstance(ks.initial, str):
            add(ks.initial)
        if isinstance(ks.initial, tuple):
            for e in ks.initial:
                add(e)
    return tuple(extra)


def _check_homes_used(spec, keys, routed, entries) -> None:
    """Refuse a ``system.homes`` rule that would be silently ignored: one
    that matches a key whose writes are not routed (a key under ``lww`` with
    no ``[keys."k"] home`` commits where each op says, whatever
    ``system.homes`` claims).  ``system.homes`` homes the keys of resolver
    ``home-leader`` and the rows of tables with ``home_by``
    (docs/spec-format.md, "Homes")."""
    for prefix, _leader in getattr(spec, "homes", ()):
        for k, key in enumerate(keys):
            if key.startswith(prefix) and not routed[k]:
                name = entries[k].name
                raise SpecError(spec.source, "system.homes",
                                f"'{prefix}' matches key '{key}', but under resolver = \"{name}\" system.homes"
                                f" routes nothing, so its writes would commit where each op says; set resolver ="
                                f" \"home-leader\", or give the key its home with [keys.\"{key}\"] home ="
                                f" \"<leader>\"")


def compile_types(system, spec):
    """Give ``system`` its per-key data types.

    Sets ``system.types`` (one per key), ``system.routing``, the ops'
    commit leaders (``Op.origin``: the home leader for a home-routed key,
    or the row's home on a table with per-row homes)
    and extends ``system.values`` with every number a read-modify-write can
    write.  Raises :class:`SpecError` when a key needs Python and the spec
    was not allowed to run it.
    """
    from replcheck.model.resolvers import entry
    keyspecs = {ks.name: ks for ks in getattr(spec, "keys", ())}
    default = "custom-merge" if getattr(spec, "merge", None) else spec.resolver
    entries = tuple(entry(keyspecs[key].entry if key in keyspecs else default) for key in system.keys)
    routed = tuple(e.name == "home-leader" or getattr(keyspecs.get(key), "home", None) is not None
                   or getattr(keyspecs.get(key), "home_by", None) is not None
                   for key, e in zip(system.keys, entries))
    # Per-row homes (a table's home_by, model/routing.py): each op's row key.
    rows = []
    for op in system.ops:
        basis = getattr(keyspecs.get(op.key_name), "home_by", None)
        rows.append(row_key(op.key_name, basis, op.id, op.value) if basis else None)
    _check_homes_used(spec, system.keys, routed, entries)
    routing = Routing(spec, system.keys, routed, tuple(rows))
    system.routing = routing
    system.ops = tuple(replace(op, origin=routing.static_home(op.key, op.leader, op.index)) for op in system.ops)
    system.values = _intern_numbers(system, spec, keyspecs, entries)
    types = []
    for k, key in enumerate(system.keys):
        entry = entries[k]
        if entry.needs_python and not getattr(spec, "allow_python", False):
            where = f"keys.{key}.merge" if key in keyspecs and keyspecs[key].merge else "system.merge"
            raise SpecError(spec.source, where, "names a Python merge function, which runs code; pass"
                                                " --allow-python to replcheck check to run it")
        ctx = KeyContext(system, spec, k, keyspecs.get(key), entry)
        ctx.moves = bool(getattr(getattr(spec, "faults", None), "failovers", 0)) and routed[k]
        types.append(local_checks.with_checks(entry.build(ctx), ctx))   # insert / sell: checked at commit
    return tuple(types)


class KeyTypes:
    """The data types of a system's keys, seen as one resolver.

    ``commutes`` (read by partial-order reduction): every key's remote
    applies are order-independent and no key is home-routed (a routed op
    commits at a leader other than its issuer's).
    """

    def __init__(self, types, routing):
        self.types = tuple(types)
        self.commutes = all(t.commutes for t in types) and not any(routing.routed)
