"""Random specs over the whole spec language, as Hypothesis strategies.

A generated spec is a plain dict in the shape of a spec file (the same
tables and keys as docs/spec-format.md), so it can be written out as TOML
and replayed through the command line.  The generator draws from the
resolver catalogue itself (:data:`model.resolvers.RESOLVERS` and
:data:`model.resolvers.TABLES`): every key type and every op it takes,
every resolver and product preset, every clock and tie-break, every
topology including custom graphs, every loop-prevention mode, every link
kind, every fault kind (crash, recovery, lossy unsent, partition and heal,
clock jump, failover with homes), local checks (``insert``, ``sell``,
``restock``), ``after`` dependencies and 2-4 leaders.

It aims at *valid* specs but does not guarantee them: the spec parser
stays the judge, and the oracle counts the drafts it rejects (a spec
error is never a disagreement).  Sizes are kept small (at most five
operations, fewer with more leaders) so that the plain engine, with every
reduction off, still explores the whole state space in about a second.
"""

from __future__ import annotations

from hypothesis import strategies as st

from replcheck.model.clocks import CLOCKS
from replcheck.model.resolvers import RESOLVERS, TABLES
from replcheck.model.resolvers.lww import TIE_BREAKS
from replcheck.model.topology import LOOP_PREVENTION

LEADERS = ("a", "b", "c", "d")
INVARIANTS = ("convergence", "no-lost-writes", "strong-convergence", "durability", "email-unique",
              "stock-non-negative", "causal-order", "replication-terminates")
LINK_KINDS = ("fifo", "unordered", "duplicating", "lossy")
REGISTERS = tuple(n for n, r in RESOLVERS.items() if r.family == "register")
# Registers the reductions accept (an order-independent merge), plus the
# presets built on them.
REDUCIBLE = ("lww", "lww", "mv-register", "mv-register", "max", "min", "riak", "cassandra", "riak-lww")
OWN_TYPES = tuple(n for n, r in RESOLVERS.items() if r.family != "register") + ("mv-register",) + tuple(TABLES)
VALUES = ("1", "2", "x")        # numbers first: read-modify-writes need integer registers
ELEMENTS = ("x", "y")

# A generated spec never runs longer than this per engine; a bound that
# cuts a search makes its verdicts ``incomplete``, which the oracle
# compares only with what the other engine also established.
BOUNDS = {"max_states": 40_000, "max_seconds": 20}


def _entry(name: str):
    return TABLES[name] if name in TABLES else RESOLVERS[name]


@st.composite
def key_types(draw, leaders):
    """``(key table or None, catalogue entry name)`` for one key: a register
    under the system resolver (no table), a register with its own resolver,
    or a type that is its own merge (counters, sets, escrow, union, users)."""
    choice = draw(st.integers(0, 4))
    if choice <= 1:
        return None, None
    if choice == 2:
        name = draw(st.sampled_from(REGISTERS))
        table = {"type": "register", "resolver": name}
        return table, name
    name = draw(st.sampled_from(OWN_TYPES))
    table = {"type": name}
    info = _entry(name)
    if info.family == "counter" and draw(st.booleans()):
        initial = draw(st.integers(0, 2))
        table["initial"] = initial
        if name == "escrow":
            split = draw(st.integers(0, initial))
            rights = {leaders[0]: split, leaders[1]: initial - split}
            table["rights"] = {k: v for k, v in rights.items() if v} or {leaders[0]: 0}
    elif info.family == "set" and draw(st.booleans()):
        table["initial"] = [draw(st.sampled_from(ELEMENTS))]
    return table, name


def _ops_for(info) -> tuple[str, ...]:
    """The op kinds a key of this catalogue entry takes, local checks included."""
    ops = list(info.ops)
    if info.family in ("register", "table") and "set" in ops:
        ops.append("insert")
    if info.family == "register" and "set" in ops:
        ops += ["update", "upsert"]     # SQL's statements (docs/model.md §8)
    if info.family == "counter" or (info.family == "register" and "decr" in ops):
        ops += ["sell", "restock"]
    return tuple(ops)


@st.composite
def ops_of(draw, leaders, keys):
    """The workload: 1-5 operations (at most 3 with four leaders)."""
    most = 3 if len(leaders) == 4 else 5
    n = draw(st.integers(1, most))
    out = []
    for i in range(n):
        key, info = draw(st.sampled_from(keys))
        kind = draw(st.sampled_from(_ops_for(info)))
        leader = draw(st.sampled_from(leaders))
        op = {"id": f"w{i}", "leader": leader, "key": key}
        if kind in ("set", "resolve", "insert", "update", "upsert"):
            op[kind] = draw(st.sampled_from(VALUES if info.family != "table" else ("alice", "bob")))
        elif kind == "delete":
            op[kind] = True
        elif kind in ("add", "remove"):
            op[kind] = draw(st.sampled_from(ELEMENTS))
        elif kind == "transfer":
            op[kind] = {"to": draw(st.sampled_from([l for l in leaders if l != leader])), "n": 1}
        else:
            op[kind] = draw(st.integers(1, 2))
        if draw(st.integers(0, 3)) == 0:
            op["time_ms"] = draw(st.integers(0, 3)) * 10
        if i and draw(st.integers(0, 3)) == 0:
            op["after"] = [f"w{draw(st.integers(0, i - 1))}"]
        out.append(op)
    return out


@st.composite
def topologies(draw, leaders):
    kind = draw(st.sampled_from(("all-to-all", "all-to-all", "ring", "star", "custom")))
    out = {"topology": kind}
    if kind == "star":
        out["hub"] = draw(st.sampled_from(leaders))
    elif kind == "custom":
        pairs = [(a, b) for a in leaders for b in leaders if a != b]
        edges = draw(st.lists(st.sampled_from(pairs), min_size=len(leaders) - 1, max_size=len(pairs), unique=True))
        out["edges"] = [f"{a} -> {b}" for a, b in edges]
    if kind != "all-to-all":
        out["loop_prevention"] = draw(st.sampled_from(tuple(LOOP_PREVENTION)))
    return out


@st.composite
def forwarding(draw, leaders):
    """A ring or a star with a loop prevention that never loops there: the
    topologies relay turns reduce (model/relay.py)."""
    kind = draw(st.sampled_from(("ring", "star")))
    out = {"topology": kind, "loop_prevention": draw(st.sampled_from(("origin", "visited")))}
    if kind == "star":
        out["hub"] = draw(st.sampled_from(leaders))
    return out


@st.composite
def fault_budgets(draw, leaders):
    """``[faults]``: nothing (most specs), or one kind of fault."""
    kind = draw(st.sampled_from((None, None, None, "crash", "partition", "jump", "failover")))
    if kind is None:
        return None
    if kind == "crash":
        f = {"crashes": 1, "recoveries": draw(st.booleans()), "lose_unsent": draw(st.booleans())}
        if draw(st.booleans()):
            f["crashable"] = [draw(st.sampled_from(leaders))]
        return f
    if kind == "partition":
        return {"partitions": 1, "heals": draw(st.booleans())}
    if kind == "jump":
        return {"clock_jumps": {draw(st.sampled_from(leaders)): draw(st.sampled_from((-20, 20)))}}
    return {"failovers": 1}


@st.composite
def crash_only(draw, leaders):
    """``[faults]`` the reductions keep working under (docs/reductions.md,
    "Crash-only faults"): crashes only (one or two, of every leader or of some),
    with or without recovery, never ``lose_unsent``."""
    f = {"crashes": draw(st.integers(1, 2)), "recoveries": draw(st.integers(0, 3)) == 0}
    if draw(st.booleans()):
        f["crashable"] = draw(st.lists(st.sampled_from(leaders), min_size=1, max_size=2, unique=True))
    return f


@st.composite
def shaped_counters(draw, leaders):
    """A counter or escrow key where every leader runs the same ops (kind and
    amount) — the workloads symmetry can rename — with an initial value the
    leaders may not share evenly (escrow rights 2/1...): docs/reductions.md
    "Counters and escrow"."""
    kind = draw(st.sampled_from(("pn-counter", "g-counter", "escrow")))
    per = draw(st.integers(1, 3 if len(leaders) == 2 else 2 if len(leaders) == 3 else 1))
    shape = [draw(st.sampled_from((("incr", 1),) if kind == "g-counter" else
                                  (("incr", 1), ("decr", 1), ("decr", 2), ("sell", 1))))
             for _ in range(per)]
    table = {"type": kind}
    if kind != "g-counter":
        table["initial"] = draw(st.integers(0, 5))
    ops = [{"id": f"{l}{i}", "leader": l, "key": "stock", op: amount}
           for l in leaders for i, (op, amount) in enumerate(shape)]
    invariants = draw(st.lists(st.sampled_from(("convergence", "no-lost-writes", "stock-non-negative",
                                                "durability")), min_size=1, max_size=3, unique=True))
    data = {"name": "generated", "system": {"leaders": leaders, "topology": "all-to-all"},
            "keys": {"stock": table}, "workload": ops, "check": {"invariants": invariants},
            "bounds": dict(BOUNDS)}
    if draw(st.integers(0, 2)) == 0:
        data["faults"] = draw(crash_only(leaders))
    return data


@st.composite
def spec_dicts(draw, reducible: bool = False):
    """One draft spec (a dict shaped like a spec file).

    ``reducible``: only what the reductions accept (all-to-all — a quarter
    of the drafts a ring or a star, for relay turns —, fifo links, no faults
    but crashes — a third of the drafts crash —, no homes), so
    that partial-order reduction, dead content, symmetry and the two-phase
    search are exercised on most drafts — the whole-language drafts switch
    them off more often than not."""
    n = draw(st.integers(2, 4))
    leaders = list(LEADERS[:n])
    if reducible and draw(st.integers(0, 3)) == 0:
        return draw(shaped_counters(leaders))
    resolver = draw(st.sampled_from(REDUCIBLE if reducible else REGISTERS + ("home-leader",)))
    info = RESOLVERS[resolver]
    system: dict = {"leaders": leaders, "resolver": resolver}
    if reducible and draw(st.integers(0, 3)) == 0:
        # a forwarding topology: relay turns instead of done-leader elimination
        system.update(draw(forwarding(leaders)))
    else:
        system.update({"topology": "all-to-all"} if reducible else draw(topologies(leaders)))
    if info.clock is None and draw(st.booleans()):
        system["clock"] = draw(st.sampled_from(tuple(CLOCKS)))
    if not info.fixed_tie_break and draw(st.integers(0, 3)) == 0:
        system["tie_break"] = draw(st.sampled_from(tuple(TIE_BREAKS)))
    if draw(st.integers(0, 3)) == 0:
        system["offsets"] = {draw(st.sampled_from(leaders)): draw(st.sampled_from((-15, 15)))}
    if not reducible and draw(st.integers(0, 4)) == 0:
        system["links"] = draw(st.sampled_from(LINK_KINDS))
    if info.delete_configurable and draw(st.integers(0, 3)) == 0:
        system["delete_rule"] = draw(st.sampled_from(("as-write", "delete-wins", "update-wins")))
    if reducible:
        faults = draw(crash_only(leaders)) if draw(st.integers(0, 2)) == 0 else None
    else:
        faults = draw(fault_budgets(leaders))
    # system.homes routes only home-leader keys; anywhere else it is refused
    # (model/resolvers/compile.py _check_homes_used), so it is drawn only there.
    if not reducible and resolver == "home-leader":
        system["homes"] = {"": draw(st.sampled_from(leaders))}
    if system.get("homes") and faults and "failovers" in faults and draw(st.booleans()):
        faults["failover_order"] = list(reversed(leaders))

    data: dict = {"name": "generated", "system": system}
    keys = []
    tables = {}
    for name in ("k", "j")[:draw(st.integers(1, 2))]:
        table, entry = draw(key_types(leaders))
        if table is not None:
            tables[name] = table
        keys.append((name, _entry(entry or resolver)))
    if tables:
        data["keys"] = tables
    data["workload"] = draw(ops_of(leaders, keys))
    if faults:
        data["faults"] = faults
    invariants = draw(st.lists(st.sampled_from(INVARIANTS), min_size=1, max_size=4, unique=True))
    data["check"] = {"invariants": invariants}
    data["bounds"] = dict(BOUNDS)
    return data
