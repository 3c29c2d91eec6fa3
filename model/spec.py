"""Scenario specs: the TOML format, validated into frozen dataclasses.

A spec describes one system (leaders, topology, resolver, clock), one
workload (client operations at leaders), the invariants to check, the search
bounds and the expected verdicts.  ``docs/spec-format.md`` documents every
key; this module is its executable definition.  Every mistake becomes a
one-line :class:`~model.errors.SpecError` naming the file, the key and a fix.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import networkx as nx

from replcheck.model.clocks import CLOCKS
from replcheck.model.errors import SpecError, did_you_mean
from replcheck.model.resolvers import RESOLVERS
from replcheck.model.resolvers import config as resolver_config
from replcheck.model.resolvers import local_checks
from replcheck.model.resolvers.lww import TIE_BREAKS
from replcheck.model.topology import LOOP_PREVENTION, TOPOLOGIES

VERDICTS = ("holds", "violated", "incomplete")
LINK_KINDS = {
    "fifo": "a replication stream: messages on a link are delivered in send order",
    "unordered": "messages on a link may be delivered in any order",
    "duplicating": "a message may be delivered twice (a fault, within the link's budget of one copy per message)",
    "lossy": "a message may be lost and retransmitted after the link's later messages (once per message)",
}
DEFAULT_INVARIANTS = ("convergence", "no-lost-writes")


@dataclass(frozen=True)
class Bounds:
    """Where the search stops.  ``None`` = unbounded."""

    max_states: int | None = 2_000_000
    max_depth: int | None = None
    max_seconds: float | None = 600.0
    # Bytes of resident memory; None: 75% of what the machine has available (model/memory.py).
    max_memory: int | None = None


@dataclass(frozen=True)
class OpSpec:
    """One client operation of the workload.

    ``kind`` is ``set`` or ``delete``; ``value`` is ``None`` for a delete.
    ``after`` names operations that must be applied at this op's leader
    before it can commit (Bob writes only after seeing Alice's write).
    """

    id: str
    leader: str
    key: str
    kind: str
    value: str | None
    time_ms: int | None = None
    after: tuple[str, ...] = ()
    amount: int = 0               # incr / decr / transfer
    target: str | None = None     # transfer: the leader that receives the rights
    check: str = ""               # a local check (model/resolvers/local_checks.py): unique, stock, restock,
                                  # exists, observed
    if_version: str | None = None  # a delete's condition: "observed" (docs/model.md "Observed deletes")


@dataclass(frozen=True)
class Expectation:
    verdict: str
    anomaly: str | None = None


@dataclass(frozen=True)
class FaultSpec:
    """The fault budget of a spec (``[faults]``; docs/model.md §2).

    Faults are optional events explored like any other: ``crashes`` crash
    events (of leaders in ``crashable``), ``partitions`` link cuts (both
    directions of a pair), one wall-clock jump per leader in
    ``clock_jumps``.  ``recoveries`` and ``heals`` allow the repairs; a
    repair, once possible, is progress: quiescence waits for it.
    ``lose_unsent`` makes a crash also drop the messages still on the
    crashed leader's out-links (asynchronous replication's own loss).
    ``offline``: per leader, the ops its clients issue while it is
    disconnected (a mobile device): ``((leader, (op id, ...)), ...)``, not
    an optional fault but a stated period of the workload (docs/model.md
    "Offline periods").
    """

    crashes: int = 0
    crashable: tuple[str, ...] = ()
    recoveries: bool = False
    lose_unsent: bool = False
    partitions: int = 0
    heals: bool = True
    clock_jumps: tuple[tuple[str, int], ...] = ()
    failovers: int = 0
    failover_order: tuple[str, ...] = ()
    offline: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.crashes or self.partitions or self.clock_jumps or self.failovers or self.offline)


@dataclass(frozen=True)
class Spec:
    source: str
    name: str
    description: str
    leaders: tuple[str, ...]
    topology: str
    hub: str | None
    edges: tuple[tuple[str, str], ...]
    loop_prevention: str
    resolver: str
    clock: str
    tie_break: str
    offsets: tuple[tuple[str, int], ...]
    links: str
    workload: tuple[OpSpec, ...]
    invariants: tuple[str, ...]
    bounds: Bounds = field(default_factory=Bounds)
    expect: tuple[tuple[str, Expectation], ...] = ()
    faults: FaultSpec = field(default_factory=FaultSpec)
    link_kinds: tuple[tuple[str, str, str], ...] = ()   # per-link overrides (src, dst, kind)
    latency_ms: tuple[tuple[str, str, int], ...] = ()   # per-link replication latency (src, dst, ms)
    commit_ms: int = 0                                  # local commit latency
    # The resolver catalogue (model/resolvers/config.py): per-key data types,
    # home-leader routing, the delete rule, a Python merge and what it requires.
    keys: tuple = ()
    homes: tuple[tuple[str, str], ...] = ()
    delete_rule: str | None = None
    merge: str | None = None
    requires: tuple[str, ...] = ()
    allow_python: bool = False
    # The validated source mapping and the invariant names it was checked
    # against: private to the loader (model/variants.py derives variants from
    # them); never compared, never shown.
    _data: object = field(default=None, compare=False, repr=False)
    _invariant_names: object = field(default=None, compare=False, repr=False)

    def link_latency(self, src: str, dst: str) -> int | None:
        for a, b, ms in self.latency_ms:
            if (a, b) == (src, dst) or (a, b) == ("*", "*"):
                return ms
        return None

    def offset(self, leader: str) -> int:
        return dict(self.offsets).get(leader, 0)

    @property
    def timed(self) -> bool:
        """Some op gives ``time_ms``: real time constrains the interleavings
        (docs/model.md "Real time")."""
        return any(o.time_ms is not None for o in self.workload)

    def commits_in_time_order(self) -> bool:
        """Whether docs/model.md's real-time rule reduces to "timed ops commit
        in the order of their ``time_ms`` (equal times in any order),
        deliveries are free": every op has ``time_ms``, no latency, no
        faults, each leader lists its ops in time order, and an op with
        ``after`` is due no earlier than every other op.  Then no op is ever
        late (an op becomes enabled when its predecessor commits, at a time
        no later than its own; only an op due last can wait on a delivery),
        so an op may commit exactly when every op due strictly earlier has
        committed.  Engines that encode only this (Promela) refuse other
        timed specs."""
        if not self.timed:
            return True
        if any(o.time_ms is None for o in self.workload) or self.latency_ms or self.faults.any:
            return False
        latest = max(o.time_ms for o in self.workload)
        if any(o.after and o.time_ms < latest for o in self.workload):
            return False
        last: dict[str, int] = {}
        for o in self.workload:
            if o.time_ms < last.get(o.leader, o.time_ms):
                return False
            last[o.leader] = o.time_ms
        return True

    def with_bounds(self, **changes) -> "Spec":
        return replace(self, bounds=replace(self.bounds, **{k: v for k, v in changes.items() if v is not None}))

    # Variants (model/variants.py): each returns a new validated Spec, or
    # raises variants.NotApplicable (a SpecError) with the validator's reason.
    def with_resolver(self, name: str, *, retype: bool = False, presets: str | None = None) -> "Spec":
        """This spec under ``system.resolver = name`` (as ``--set
        system.resolver=NAME`` gives).  ``retype``: every ``[keys]`` table
        but a ``users`` table is re-typed to ``name`` too (``initial``,
        ``home``, ``delete_rule`` and an escrow's ``rights`` carried over);
        ``presets="retry"``: a preset that fixes its own clock and tie-break
        gets the spec's dropped instead of refused."""
        from replcheck.model import variants
        return variants.derive(self, resolver=name, retype_keys="declared" if retype else None, presets=presets)

    def with_topology(self, name: str, hub: str | None = None) -> "Spec":
        """This spec over topology ``name``; a star's hub is ``hub``, else the
        spec's own, else the first leader."""
        from replcheck.model import variants
        return variants.derive(self, topology=name, hub=hub)

    def with_homes(self, homes) -> "Spec":
        """Every key in ``homes`` (``{key: leader}``) routed to its home leader."""
        from replcheck.model import variants
        return variants.derive(self, homes=homes)

    def with_keys(self, resolver: str, merge: str | None = None) -> "Spec":
        """Every key the workload writes (but a ``users`` table) re-typed to
        ``resolver`` (or the Python ``merge``), as a drill answer does."""
        from replcheck.model import variants
        return variants.derive(self, resolver=resolver, retype_keys="written", merge=merge, presets="drop")

    def variant(self, **changes) -> "Spec":
        """Several changes validated at once (:func:`model.variants.derive`)."""
        from replcheck.model import variants
        return variants.derive(self, **changes)


_TOP_KEYS = {"name", "description", "system", "workload", "check", "bounds", "expect", "faults", "keys", "requires",
             "drill",   # [drill]: what a drill answer may choose (read by checks/drill.py)
             "observed"}   # [observed]: a recorded conformance run (read by checks/conform/observed.py)
_SYSTEM_KEYS = {"leaders", "topology", "hub", "edges", "loop_prevention", "resolver", "clock",
                "tie_break", "offsets", "links", "link_kinds", "latency_ms", "commit_ms",
                "homes", "delete_rule", "merge"}
_OP_KEYS = ({"id", "leader", "key", "time_ms", "after", "if_version"} | set(resolver_config.OP_KINDS)
            | set(local_checks.CHECKED_OPS))
_BOUND_KEYS = {"max_states", "max_depth", "max_seconds"}


def load_spec(path, overrides=(), invariant_names=None) -> Spec:
    """Read and validate a spec file.

    Parameters
    ----------
    path : str or Path
    overrides : iterable of str
        ``KEY=VALUE`` pairs applied before validation, e.g.
        ``system.resolver=mv-register``; VALUE is read as a TOML value when it
        parses as one, else as a string.
    invariant_names : collection of str, optional
        Known invariant names (the checks layer owns them).
    """
    from replcheck.bundled import locate
    source = str(path)
    p = locate(path)
    if not p.is_file():
        raise SpecError(source, "", "no such spec file; give a path to a .toml spec (see specs/)")
    try:
        data = read_toml(p, source)
    except OSError as e:
        raise SpecError(source, "", f"cannot read this file ({e.strerror or e}); check its permissions") from None
    for item in overrides:
        _apply_override(data, item, source)
    return parse_spec(data, source, invariant_names)


# What any TOML/JSON reader of replcheck accepts (docs/spec-format.md "Errors").
MAX_LEADERS = 16          # system.leaders: a state holds a vector per leader
MAX_BYTES = 4 * 2 ** 20   # a TOML input file (spec, drill, answer, query, merge file)
MAX_OPS = 60              # workload: a write set is a bit mask of the operations
MAX_NESTING = 64          # arrays/tables inside each other; real files nest fewer than 10 levels
INT_DIGITS = 4300         # Python's default int-str conversion limit (sys.get_int_max_str_digits)


def nesting_depth(value) -> int:
    """How deeply lists and dicts nest in ``value`` (iteratively: no
    recursion, whatever the input)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        v, d = todo.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d + 1)
            if deepest > MAX_NESTING:
                return deepest
            todo.extend((x, d + 1) for x in v)
    return deepest


def input_error(source: str, e: BaseException, error=SpecError, fix: str = "fix the syntax at that line"):
    """The one-line error for a file that cannot be decoded, or ``None``
    when ``e`` is not such a failure: not UTF-8, nested too deeply for the
    parser, an integer past Python's int-str limit, or (``fix``) a syntax
    error (``str(e)`` is the parser's message)."""
    if isinstance(e, UnicodeDecodeError):
        return error(source, "", "not UTF-8 text; save it as UTF-8")
    if isinstance(e, RecursionError):
        return error(source, "", "nested too deeply to read (arrays or tables hundreds of levels deep); flatten it")
    if isinstance(e, ValueError) and "integer string conversion" in str(e):
        return error(source, "", f"an integer literal has more than {INT_DIGITS} digits; use a smaller number"
                                 " (or a string)")
    if isinstance(e, tomllib.TOMLDecodeError):
        return error(source, "", f"not valid TOML ({e}); {fix}")
    if isinstance(e, ValueError):   # JSON's syntax errors
        return error(source, "", f"not valid JSON ({e}); {fix}")
    return None


def read_toml(path, source: str | None = None, error=SpecError, fix: str = "fix the syntax at that line") -> dict:
    """The data of a TOML file, every reader's way (spec, drill, answer,
    query, merge): bytes decoded as UTF-8, parsed, and refused in one line
    naming the file when it is not UTF-8, not TOML, nested more than
    :data:`MAX_NESTING` levels or holds an integer past :data:`INT_DIGITS`
    digits.  ``OSError`` is the caller's to word."""
    source = str(path) if source is None else source
    size = Path(path).stat().st_size
    if size > MAX_BYTES:
        # parsing is ~1 MB/s and precedes every bound: a 50 MB file outlived --max-seconds by minutes
        # (docs/reliability.md, the 10,000-run campaign); a spec of MAX_OPS operations is a few KB
        raise error(source, "", f"{size:,} bytes; at most {MAX_BYTES // 2 ** 20} MiB are read (a spec of"
                                f" {MAX_OPS} operations is a few KB); shorten the file")
    raw = Path(path).read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise input_error(source, e, error, fix) from None
    if nesting_depth(data) > MAX_NESTING:
        raise error(source, "", f"nested more than {MAX_NESTING} levels deep (arrays or tables); flatten it")
    return data


def _apply_override(data: dict, item: str, source: str) -> None:
    if "=" not in item:
        raise SpecError(source, "--set", f"'{item}' is not KEY=VALUE; e.g. --set system.resolver=mv-register")
    key, raw = item.split("=", 1)
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise SpecError(source, f"--set {key}", "nested too deeply to read; give a flat value") from None
    except ValueError:   # Python's int-str limit
        raise SpecError(source, f"--set {key}", f"an integer with more than {INT_DIGITS} digits; use a smaller"
                                                " number") from None
    if nesting_depth(value) > MAX_NESTING:
        raise SpecError(source, f"--set {key}", "nested too deeply to read; give a flat value")
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise SpecError(source, f"--set {key}", f"'{part}' is not a table; name a key inside a table")
    node[parts[-1]] = value


def _unknown(source, where, keys, allowed):
    for k in keys:
        if k not in allowed:
            prefix = f"{where}." if where else ""
            raise SpecError(source, f"{prefix}{k}",
                            f"unknown key{did_you_mean(k, allowed)} (allowed: {', '.join(sorted(allowed))})")


def _choice(source, key, value, choices, listing):
    if not isinstance(value, str):
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        raise SpecError(source, key, f"must be a quoted string ({listing}), got {shown}")
    if value not in choices:
        raise SpecError(source, key, f"unknown '{value}'{did_you_mean(value, choices)} ({listing})")
    return value


def _str_list(source, key, value) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(source, key, "must be a list of strings, e.g. [\"us-east\", \"eu-west\"]")
    return tuple(value)


def _positive_int(source, key, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        raise SpecError(source, key, f"must be a {'non-negative' if allow_zero else 'positive'} integer, got {value!r}")
    return value


def parse_spec(data: dict, source: str = "<spec>", invariant_names=None) -> Spec:
    """Validate a spec already read from TOML into a dict."""
    _unknown(source, "", data, _TOP_KEYS)
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str):
        raise SpecError(source, "name", "must be a string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(source, "description", "must be a string")

    system = data.get("system")
    if not isinstance(system, dict):
        raise SpecError(source, "system", "missing [system] table; add leaders, topology and resolver")
    _unknown(source, "system", system, _SYSTEM_KEYS)
    if "leaders" not in system:
        raise SpecError(source, "system.leaders", "missing; list the leaders, e.g. leaders = [\"us-east\", \"eu-west\"]")
    leaders = _str_list(source, "system.leaders", system["leaders"])
    if len(leaders) < 2:
        raise SpecError(source, "system.leaders", "needs at least two leaders for multi-leader replication")
    if len(leaders) > MAX_LEADERS:   # the size first: no work in proportion to an oversized list
        raise SpecError(source, "system.leaders", f"{len(leaders):,} leaders; at most {MAX_LEADERS} are supported;"
                                                  " split the scenario")
    seen_leaders: set[str] = set()
    for l in leaders:
        if l in seen_leaders:
            raise SpecError(source, "system.leaders", f"'{l}' is listed twice; leader names must be unique")
        seen_leaders.add(l)

    def leader_ref(key, value):
        if value not in leaders:
            raise SpecError(source, key, f"unknown leader '{value}'{did_you_mean(value, leaders)}"
                                         f" (leaders: {', '.join(leaders)})")
        return value

    topology = _choice(source, "system.topology", system.get("topology", "all-to-all"), TOPOLOGIES,
                       "replcheck list topologies")
    hub = system.get("hub")
    if topology == "star":
        if hub is None:
            raise SpecError(source, "system.hub", "a star needs a hub; add hub = \"<one of the leaders>\"")
        leader_ref("system.hub", hub)
    elif hub is not None:
        raise SpecError(source, "system.hub", f"only a star has a hub, not '{topology}'; remove the key")
    edges: tuple[tuple[str, str], ...] = ()
    if topology == "custom":
        raw = system.get("edges")
        if not isinstance(raw, list) or not raw:
            raise SpecError(source, "system.edges", "a custom topology needs edges, e.g. edges = [\"a -> b\", \"b -> a\"]")
        most = len(leaders) * (len(leaders) - 1)
        if len(raw) > most:   # the size first: each link once
            raise SpecError(source, "system.edges", f"{len(raw):,} edges; {len(leaders)} leaders have at most {most}"
                                                    " links; list each link once")
        parsed = []
        for i, e in enumerate(raw):
            key = f"system.edges[{i}]"
            if isinstance(e, str) and "->" in e:
                a, b = (x.strip() for x in e.split("->", 1))
            elif isinstance(e, list) and len(e) == 2:
                a, b = e
            else:
                raise SpecError(source, key, f"{e!r} is not an edge; write \"a -> b\" or [\"a\", \"b\"]")
            leader_ref(key, a)
            leader_ref(key, b)
            if a == b:
                raise SpecError(source, key, f"self-loop '{a} -> {a}'; a link joins two different leaders")
            if (a, b) in parsed:
                raise SpecError(source, key, f"'{a} -> {b}' is listed twice; list each link once")
            parsed.append((a, b))
        edges = tuple(parsed)
    elif "edges" in system:
        raise SpecError(source, "system.edges", f"only a custom topology takes edges, not '{topology}'")
    loop = _choice(source, "system.loop_prevention", system.get("loop_prevention", "origin"), LOOP_PREVENTION,
                   "origin, visited or none")
    resolver = _choice(source, "system.resolver", system.get("resolver", "lww"), RESOLVERS, "replcheck list resolvers")
    clock = _choice(source, "system.clock", system.get("clock", "wall"), CLOCKS, "wall, lamport or hlc")
    tie_break = _choice(source, "system.tie_break", system.get("tie_break", "leader"), TIE_BREAKS,
                        "leader, value or incoming-loses")
    links = _choice(source, "system.links", system.get("links", "fifo"), LINK_KINDS,
                    "fifo, unordered, duplicating or lossy")
    link_kinds = _parse_link_kinds(source, system.get("link_kinds", {}), leader_ref)
    latency = _parse_latency(source, system.get("latency_ms"), leader_ref)
    commit_ms = _positive_int(source, "system.commit_ms", system.get("commit_ms", 0), allow_zero=True)
    raw_off = system.get("offsets", {})
    if not isinstance(raw_off, dict):
        raise SpecError(source, "system.offsets", "must be a table of leader = offset_ms, e.g. offsets = { us-east = -100 }")
    offsets = []
    for l, v in raw_off.items():
        leader_ref(f"system.offsets.{l}", l)
        if isinstance(v, bool) or not isinstance(v, int):
            raise SpecError(source, f"system.offsets.{l}", f"must be an integer number of ms, got {v!r}")
        offsets.append((l, v))

    workload = _parse_workload(source, data.get("workload"), leader_ref)
    invariants, bounds, expect = _parse_checks(source, data, invariant_names)
    faults = _parse_faults(source, data.get("faults", {}), leader_ref)
    _check_offline(source, faults.offline, workload)
    catalogue = resolver_config.parse_config(source, data, system, leaders, workload, resolver, clock)
    if faults.failovers:
        rows = [k.name for k in catalogue["keys"] if k.home_by]
        if rows:
            raise SpecError(source, "faults.failovers", f"a failover moves a key's home, and per-row homes"
                                                        f" (keys.{rows[0]}.home_by) do not fail over; drop the"
                                                        " failover or the table's home_by")
    return Spec(source, name, description, leaders, topology, hub, edges, loop, resolver, clock, tie_break,
                tuple(sorted(offsets)), links, workload, invariants, bounds, expect, faults, link_kinds,
                latency, commit_ms, **catalogue, _data=copy.deepcopy(data),
                _invariant_names=tuple(invariant_names) if invariant_names is not None else None)


def _parse_workload(source, raw, leader_ref) -> tuple[OpSpec, ...]:
    if raw is None:
        raise SpecError(source, "workload", "missing; add at least one [[workload]] operation")
    if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
        raise SpecError(source, "workload", "must be an array of tables: write each operation as [[workload]]")
    if len(raw) > MAX_OPS:
        raise SpecError(source, "workload", f"{len(raw):,} operations; at most {MAX_OPS} are supported;"
                                            " shorten the workload")
    ops: list[OpSpec] = []
    ids: set[str] = set()
    for i, o in enumerate(raw):
        where = f"workload[{i}]"
        _unknown(source, where, o, _OP_KEYS)
        oid = o.get("id", f"w{i + 1}")
        if not isinstance(oid, str) or not oid:
            raise SpecError(source, f"{where}.id", "must be a non-empty string")
        if oid in ids:
            raise SpecError(source, f"{where}.id", f"'{oid}' is used twice; operation ids must be unique")
        ids.add(oid)
        if "leader" not in o:
            raise SpecError(source, f"{where}.leader", "missing; name the leader that commits this operation")
        leader = leader_ref(f"{where}.leader", o["leader"])
        key = o.get("key")
        if not isinstance(key, str) or not key:
            raise SpecError(source, f"{where}.key", "missing or not a string; name the key written, e.g. key = \"doc1.title\"")
        plain, check = local_checks.translate(o)   # insert / sell / restock: a plain op plus its local check
        kind, value, amount, target = resolver_config.parse_op(source, where, plain, leader_ref)
        t = o.get("time_ms")
        if t is not None and (isinstance(t, bool) or not isinstance(t, int)):
            raise SpecError(source, f"{where}.time_ms", f"must be an integer number of ms, got {t!r}")
        after = _str_list(source, f"{where}.after", o.get("after", []))
        if_version = None
        if "if_version" in o:
            if_version = _choice(source, f"{where}.if_version", o["if_version"], resolver_config.IF_VERSION,
                                 "observed: the delete removes only the version its leader shows")
            if kind != "delete":
                raise SpecError(source, f"{where}.if_version", "only a delete carries the version it observed;"
                                                               " write delete = true, or remove if_version")
            # It commits only where its leader shows a version to observe (local check "observed",
            # model/resolvers/local_checks.py); refused there, it is not replicated.
            check = "observed"
        ops.append(OpSpec(oid, leader, key, kind, value, t, after, amount, target, check, if_version))
    # References and cycles: `after` plus each leader's program order.
    g = nx.DiGraph()
    last: dict[str, str] = {}
    for i, op in enumerate(ops):
        g.add_node(op.id)
        if op.leader in last:
            g.add_edge(last[op.leader], op.id)
        last[op.leader] = op.id
        for j, dep in enumerate(op.after):
            if dep not in ids:
                raise SpecError(source, f"workload[{i}].after[{j}]",
                                f"unknown operation '{dep}'{did_you_mean(dep, ids)}")
            if dep == op.id:
                raise SpecError(source, f"workload[{i}].after[{j}]", "an operation cannot wait for itself")
            g.add_edge(dep, op.id)
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        chain = " -> ".join([cycle[0][0]] + [b for _, b in cycle])
        raise SpecError(source, "workload.after",
                        f"cyclic dependency {chain} (after + each leader's program order); remove one 'after'")
    return tuple(ops)


def _parse_checks(source, data, invariant_names):
    known = set(invariant_names) if invariant_names is not None else None

    def inv_ref(key, name):
        if known is not None and name not in known:
            raise SpecError(source, key, f"unknown invariant '{name}'{did_you_mean(name, known)}"
                                         " (replcheck list invariants)")
        return name

    check = data.get("check", {})
    if not isinstance(check, dict):
        raise SpecError(source, "check", "must be a table with invariants = [...]")
    _unknown(source, "check", check, {"invariants"})
    raw_exp = data.get("expect", {})
    if not isinstance(raw_exp, dict):
        raise SpecError(source, "expect", "must be a table of invariant = \"holds\" | \"violated\" | \"incomplete\"")
    expect = []
    for inv, v in raw_exp.items():
        key = f"expect.{inv}"
        inv_ref(key, inv)
        if not isinstance(v, str):
            raise SpecError(source, key, "must be \"holds\", \"holds:vacuous\", \"violated\", \"violated:<anomaly>\" or"
                                         " \"incomplete\"")
        verdict, _, anomaly = v.partition(":")
        if verdict not in VERDICTS:
            raise SpecError(source, key, f"unknown verdict '{verdict}'{did_you_mean(verdict, VERDICTS)}"
                                         " (holds, violated, violated:<anomaly>, incomplete)")
        if anomaly and verdict != "violated" and (verdict, anomaly) != ("holds", "vacuous"):
            raise SpecError(source, key, "only a violated verdict names an anomaly (and \"holds:vacuous\" a"
                                         " vacuous holds)")
        expect.append((inv, Expectation(verdict, anomaly or None)))
    if "invariants" in check:
        invariants = _str_list(source, "check.invariants", check["invariants"])
        for i, inv in enumerate(invariants):
            inv_ref(f"check.invariants[{i}]", inv)
    elif expect:
        invariants = tuple(inv for inv, _ in expect)
    else:
        invariants = DEFAULT_INVARIANTS
    if not invariants:
        raise SpecError(source, "check.invariants", "is empty; name at least one invariant")
    bounds_raw = data.get("bounds", {})
    if not isinstance(bounds_raw, dict):
        raise SpecError(source, "bounds", "must be a table with max_states, max_depth, max_seconds")
    _unknown(source, "bounds", bounds_raw, _BOUND_KEYS)
    b = Bounds()
    ms = bounds_raw.get("max_states", b.max_states)
    md = bounds_raw.get("max_depth", b.max_depth)
    sec = bounds_raw.get("max_seconds", b.max_seconds)
    if ms is not None:
        _positive_int(source, "bounds.max_states", ms)
    if md is not None:
        _positive_int(source, "bounds.max_depth", md)
    if sec is not None and (isinstance(sec, bool) or not isinstance(sec, (int, float)) or not sec > 0
                            or sec == float("inf")):
        raise SpecError(source, "bounds.max_seconds", f"must be a positive number of seconds, got {sec!r}")
    return tuple(invariants), Bounds(ms, md, float(sec) if sec is not None else None), tuple(expect)


_FAULT_KEYS = {"crashes", "crashable", "recoveries", "lose_unsent", "partitions", "heals", "clock_jumps",
               "failovers", "failover_order", "offline"}


def _link_ref(source, key, link: str, leader_ref) -> tuple[str, str]:
    """``"a -> b"`` naming two known leaders, as ``(a, b)``."""
    if "->" not in link:
        raise SpecError(source, key, f"'{link}' is not a link; write \"a -> b\"")
    a, b = (x.strip() for x in link.split("->", 1))
    return leader_ref(key, a), leader_ref(key, b)


def _parse_link_kinds(source, raw, leader_ref) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(raw, dict):
        raise SpecError(source, "system.link_kinds",
                        'must be a table of "a -> b" = kind, e.g. link_kinds = { "us-east -> eu-west" = "duplicating" }')
    out = []
    for link, kind in raw.items():
        key = f"system.link_kinds.{link}"
        a, b = _link_ref(source, key, link, leader_ref)
        _choice(source, key, kind, LINK_KINDS, "fifo, unordered, duplicating or lossy")
        out.append((a, b, kind))
    return tuple(sorted(out))


def _parse_faults(source, raw, leader_ref) -> FaultSpec:
    if not isinstance(raw, dict):
        raise SpecError(source, "faults", "must be a table, e.g. [faults] crashes = 1")
    _unknown(source, "faults", raw, _FAULT_KEYS)
    f = FaultSpec()
    crashes = _positive_int(source, "faults.crashes", raw.get("crashes", 0), allow_zero=True)
    partitions = _positive_int(source, "faults.partitions", raw.get("partitions", 0), allow_zero=True)
    failovers = _positive_int(source, "faults.failovers", raw.get("failovers", 0), allow_zero=True)
    for flag in ("recoveries", "lose_unsent", "heals"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise SpecError(source, f"faults.{flag}", f"must be true or false, got {raw[flag]!r}")
    crashable = ()
    if "crashable" in raw:
        crashable = _str_list(source, "faults.crashable", raw["crashable"])
        for i, l in enumerate(crashable):
            leader_ref(f"faults.crashable[{i}]", l)
        if not crashes:
            raise SpecError(source, "faults.crashable", "names leaders that may crash, but faults.crashes is 0;"
                                                        " set crashes = 1 (or more)")
    jumps = raw.get("clock_jumps", {})
    if not isinstance(jumps, dict):
        raise SpecError(source, "faults.clock_jumps", "must be a table of leader = ms, e.g. { us-east = -100 }")
    for l, v in jumps.items():
        leader_ref(f"faults.clock_jumps.{l}", l)
        if isinstance(v, bool) or not isinstance(v, int) or v == 0:
            raise SpecError(source, f"faults.clock_jumps.{l}", f"must be a non-zero integer number of ms, got {v!r}")
    order = ()
    if "failover_order" in raw:
        order = _str_list(source, "faults.failover_order", raw["failover_order"])
        for i, l in enumerate(order):
            leader_ref(f"faults.failover_order[{i}]", l)
    offline = _parse_offline(source, raw.get("offline", []), leader_ref)
    return FaultSpec(crashes, crashable, raw.get("recoveries", f.recoveries), raw.get("lose_unsent", f.lose_unsent),
                     partitions, raw.get("heals", f.heals), tuple(sorted(jumps.items())), failovers, order, offline)


_OFFLINE_EXAMPLE = 'offline = [{ leader = "phone", ops = ["phone-edit"] }]'


def _parse_offline(source, raw, leader_ref) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``[faults] offline``: a list of ``{ leader, ops }`` periods, at most
    one per leader (checked against the workload in :func:`_check_offline`)."""
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise SpecError(source, "faults.offline", f"must be a list of {{ leader, ops }} tables, e.g. {_OFFLINE_EXAMPLE}")
    out = []
    for n, x in enumerate(raw):
        key = f"faults.offline[{n}]"
        _unknown(source, key, x, {"leader", "ops"})
        if "leader" not in x or "ops" not in x:
            raise SpecError(source, key, f"needs leader and ops, e.g. {_OFFLINE_EXAMPLE}")
        leader = leader_ref(f"{key}.leader", x["leader"])
        ops = _str_list(source, f"{key}.ops", x["ops"])
        if not ops:
            raise SpecError(source, f"{key}.ops", "is empty; name the ops the leader's clients issue while it is"
                                                  " offline")
        if any(leader == l for l, _ in out):
            raise SpecError(source, f"{key}.leader", f"'{leader}' already has an offline period; give each leader"
                                                     " one (list all its offline ops in it)")
        out.append((leader, ops))
    return tuple(out)


def _check_offline(source, offline, workload) -> None:
    """Each offline period names ops of its own leader, consecutive in the
    leader's program order (one interval of its session), none waiting on
    another leader's write (nothing reaches an offline leader: it would
    wait forever)."""
    by_id = {o.id: o for o in workload}
    for n, (leader, ops) in enumerate(offline):
        key = f"faults.offline[{n}].ops"
        for op in ops:
            if op not in by_id:
                raise SpecError(source, key, f"unknown op '{op}'{did_you_mean(op, list(by_id))}")
            if by_id[op].leader != leader:
                raise SpecError(source, key, f"op '{op}' is issued at {by_id[op].leader}, not {leader}; list only"
                                             f" {leader}'s ops in its offline period")
            for dep in by_id[op].after:
                if by_id[dep].leader != leader:
                    raise SpecError(source, key, f"op '{op}' waits for '{dep}' from {by_id[dep].leader}, which"
                                                 f" cannot reach {leader} while it is offline; drop the after or"
                                                 " take the op out of the offline period")
        session = [o.id for o in workload if o.leader == leader]
        pos = sorted(session.index(op) for op in set(ops))
        if pos != list(range(pos[0], pos[0] + len(pos))):
            gap = session[next(p for p in range(pos[0], pos[-1]) if p not in pos)]
            raise SpecError(source, key, f"an offline period is one interval of {leader}'s session, but '{gap}'"
                                         f" comes between its ops; list '{gap}' too, or fewer ops")


def _parse_latency(source, raw, leader_ref) -> tuple[tuple[str, str, int], ...]:
    """``latency_ms = 60`` (every link) or ``{ "a -> b" = 60, ... }``."""
    if raw is None:
        return ()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return (("*", "*", _positive_int(source, "system.latency_ms", raw, allow_zero=True)),)
    if not isinstance(raw, dict):
        raise SpecError(source, "system.latency_ms", 'must be ms for every link (latency_ms = 60) or a table'
                                                     ' { "a -> b" = 60 }')
    out = []
    for link, ms in raw.items():
        key = f"system.latency_ms.{link}"
        a, b = _link_ref(source, key, link, leader_ref)
        out.append((a, b, _positive_int(source, key, ms, allow_zero=True)))
    return tuple(sorted(out))
