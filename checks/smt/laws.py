"""Merge laws: commutativity, associativity, idempotence over symbolic states.

A state-based merge converges in every delivery order — whatever order,
grouping and repetition the replication links produce — exactly when it is
a join: commutative, associative and idempotent (Shapiro et al., "A
comprehensive study of Convergent and Commutative Replicated Data Types",
INRIA RR-7506, 2011, §2.2).  For each resolver of the catalogue
(docs/model.md §4, docs/resolvers.md) this module writes the merge of two
states as a Z3 function over symbolic states and asks for three states on
which a law fails:

* commutativity ``merge(a, b) = merge(b, a)``,
* associativity ``merge(merge(a, b), c) = merge(a, merge(b, c))``,
* idempotence ``merge(a, a) = a``.

``proved`` means Z3 showed the law for *every* state of the encoding
(unbounded integers and timestamps; sets, counters' replicas and
mv-register's writes over the stated bounded universe), and only for states
satisfying the encoding's well-formedness condition (e.g. one leader never
stamps two writes with one timestamp).  It says nothing about the
resolver's implementation in :mod:`model.resolvers`, only about the merge
the catalogue documents.

Custom merges are written in the expression language of
:mod:`checks.smt.expr` over integers ``local`` and ``remote``, in a TOML
file (:func:`load_custom`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import time

import z3

from replcheck.bundled import locate
from replcheck.checks.smt import context
from replcheck.checks.smt.context import remaining_ms
from replcheck.checks.smt.expr import QueryError, parse, to_z3
from replcheck.model.errors import did_you_mean
from replcheck.model.spec import read_toml

REPLICAS = 3        # vector entries of counters and escrow
UNIVERSE = 4        # elements of sets; dots of an OR-set
MV_WRITES = 3       # writes of the mv-register universe
LAWS = ("commutativity", "associativity", "idempotence")


@dataclass(frozen=True)
class Encoding:
    """A merge over symbolic states.

    ``fresh(prefix, ctx)`` makes a state (a tuple of Z3 terms); ``wf`` is
    the well-formedness of one state; ``pairwise`` relates two states that
    can meet (e.g. equal timestamp and leader imply the same write);
    ``show(model, state)`` prints a state from a Z3 model.  ``ctx`` holds
    constants shared by all states of one check (mv-register's version
    vectors).
    """

    name: str
    states: str
    merge: Callable
    fresh: Callable
    show: Callable
    wf: Callable = lambda s, ctx: z3.BoolVal(True)
    pairwise: Callable = lambda a, b, ctx: z3.BoolVal(True)
    shared: Callable = lambda: {}
    source: str = ""
    covers: frozenset = frozenset()   # rule tags of :func:`semantics` this merge also encodes


@dataclass(frozen=True)
class LawResult:
    """One law: proved, or the states it fails on and the two results."""

    law: str
    proved: bool
    states: tuple[tuple[str, str], ...] = ()     # (name, shown state)
    left: tuple[str, str] | None = None         # (expression, shown result)
    right: tuple[str, str] | None = None
    undecided: str | None = None                # z3 gave no answer: "timeout", "interrupted" or its reason


@dataclass(frozen=True)
class LawsReport:
    """The three laws of one encoding, and what of the resolver's semantics
    the encoding leaves out (``left_out``: one sentence per rule of the
    catalogue's data type that the state merge does not model)."""

    resolver: str
    states: str
    source: str
    laws: tuple[LawResult, ...]
    left_out: tuple[str, ...] = ()

    @property
    def proved(self) -> bool:
        """All three laws hold *for the encoded merge*."""
        return all(l.proved for l in self.laws)

    @property
    def refuted(self) -> bool:
        """Some law has a counterexample."""
        return any(not l.proved and not l.undecided for l in self.laws)

    @property
    def incomplete(self) -> bool:
        """Some law was not decided (z3's time ran out, or the run was stopped)."""
        return any(l.undecided for l in self.laws)

    @property
    def converges(self) -> bool:
        """The claim "converges under any delivery order": the merge is a
        join *and* it is the resolver's whole semantics."""
        return self.proved and not self.left_out


# ------------------------------------------------------------ state kinds
def _ints(names):
    def fresh(prefix, ctx):
        return tuple(z3.Int(f"{prefix}_{n}") for n in names)
    return fresh


def _val(m, t):
    v = m.eval(t, model_completion=True)
    if z3.is_bv_value(v):
        return v.as_long()
    if z3.is_int_value(v):
        return v.as_long()
    return v


def _show_fields(names):
    def show(m, s):
        return "(" + ", ".join(f"{n}={_val(m, x)}" for n, x in zip(names, s)) + ")"
    return show


def _show_int(m, s):
    return str(_val(m, s[0]))


def _bits(prefix, width):
    return z3.BitVec(prefix, width)


def _show_set(v, width):
    return "{" + ", ".join(str(i) for i in range(width) if (v >> i) & 1) + "}"


def _gt(a, b):
    out = z3.BoolVal(False)
    for x, y in reversed(list(zip(a, b))):
        out = z3.Or(x > y, z3.And(x == y, out))
    return out


def _pick(cond, a, b):
    return tuple(z3.If(cond, x, y) for x, y in zip(a, b))


def _leader_id(s, ctx):
    return s[1] >= 0


def _same_dot_same_value(a, b, ctx):
    # One leader never stamps two different writes with one timestamp.
    return z3.Implies(z3.And(a[0] == b[0], a[1] == b[1]), a[2] == b[2])


def _lww(tie: str) -> Encoding:
    if tie == "value":
        return Encoding(
            "largest-stamp", "(ts, value) with ts an integer timestamp; the larger (ts, value) wins",
            lambda l, r: _pick(_gt(r, l), r, l), _ints(("ts", "value")), _show_fields(("ts", "value")),
            source="tie-break value: Cassandra (CASSANDRA-14592)")
    if tie == "leader":
        return Encoding(
            "largest-stamp", "(ts, leader, value); the larger (ts, leader) wins; one leader never reuses a timestamp",
            lambda l, r: _pick(_gt(r[:2], l[:2]), r, l), _ints(("ts", "leader", "value")),
            _show_fields(("ts", "leader", "value")), pairwise=_same_dot_same_value, wf=_leader_id,
            source="tie-break leader: PGD higher node id wins; SQL Server highest originator")
    return Encoding(
        "largest-stamp", "(ts, leader, value); the larger ts wins; on equal ts the held (local) state is kept",
        lambda l, r: _pick(r[0] > l[0], r, l), _ints(("ts", "leader", "value")),
        _show_fields(("ts", "leader", "value")), pairwise=_same_dot_same_value, wf=_leader_id,
        source="tie-break incoming-loses: CockroachDB logical replication", covers=frozenset({"equal-ranks-keep"}))


def _vector(width, names=("v",), nonneg=True):
    fields = tuple(f"{n}{i}" for n in names for i in range(width))

    def show(m, s):
        parts = []
        for k, n in enumerate(names):
            parts.append(f"{n}=[" + ", ".join(str(_val(m, x)) for x in s[k * width:(k + 1) * width]) + "]")
        return "(" + ", ".join(parts) + ")"

    return dict(fresh=_ints(fields), show=show,
                wf=(lambda s, ctx: z3.And([x >= 0 for x in s])) if nonneg else (lambda s, ctx: z3.BoolVal(True)),
                merge=lambda l, r: tuple(z3.If(x >= y, x, y) for x, y in zip(l, r)))


def _sets(names, width=UNIVERSE, wf=None):
    def fresh(prefix, ctx):
        return tuple(_bits(f"{prefix}_{n}", width) for n in names)

    def show(m, s):
        return "(" + ", ".join(f"{n}={_show_set(_val(m, x), width)}" for n, x in zip(names, s)) + ")"

    return dict(fresh=fresh, show=show, merge=lambda l, r: tuple(x | y for x, y in zip(l, r)),
                wf=wf or (lambda s, ctx: z3.BoolVal(True)))


def _mv_register() -> Encoding:
    """Siblings over a universe of MV_WRITES writes with shared symbolic
    version vectors; a state is an antichain (no sibling dominated)."""

    def shared():
        return {"vv": [[z3.Int(f"vv_{w}_{r}") for r in range(REPLICAS)] for w in range(MV_WRITES)]}

    def dominated(ctx, x, y):   # vv(x) < vv(y)
        vx, vy = ctx["vv"][x], ctx["vv"][y]
        return z3.And(z3.And([p <= q for p, q in zip(vx, vy)]), z3.Or([p < q for p, q in zip(vx, vy)]))

    def has(s, x):
        return z3.Extract(x, x, s[0]) == 1

    def wf(s, ctx):
        c = [v >= 0 for row in ctx["vv"] for v in row]
        c += [z3.Not(z3.And(has(s, x), has(s, y), dominated(ctx, x, y)))
              for x in range(MV_WRITES) for y in range(MV_WRITES) if x != y]
        return z3.And(c)

    ctx_holder: dict = {}

    def fresh(prefix, ctx):
        ctx_holder.update(ctx)
        return (z3.BitVec(f"{prefix}_siblings", MV_WRITES),)

    def merge(l, r):
        ctx = ctx_holder
        u = l[0] | r[0]
        bits = []
        for x in range(MV_WRITES):
            beaten = z3.Or([z3.And(z3.Extract(y, y, u) == 1, dominated(ctx, x, y))
                            for y in range(MV_WRITES) if y != x])
            bits.append(z3.If(z3.And(z3.Extract(x, x, u) == 1, z3.Not(beaten)),
                              z3.BitVecVal(1 << x, MV_WRITES), z3.BitVecVal(0, MV_WRITES)))
        out = bits[0]
        for b in bits[1:]:
            out = out | b
        return (out,)

    def show(m, s):
        v = _val(m, s[0])
        vv = ctx_holder["vv"]
        return "{" + ", ".join(f"w{x}@[{','.join(str(_val(m, e)) for e in vv[x])}]"
                               for x in range(MV_WRITES) if (v >> x) & 1) + "}"

    return Encoding("siblings", f"sibling sets over {MV_WRITES} writes with symbolic version vectors"
                    f" ({REPLICAS} replicas); merge keeps the writes no other write in the union dominates",
                    merge, fresh, show, wf=wf, shared=shared,
                    source="Shapiro et al. INRIA RR-7506 (MV-register); Dynamo SOSP 2007 §4.4")


def _scalar(name, states, merge, source):
    return Encoding(name, states, merge, _ints(("v",)), _show_int, source=source)


def builtin(shape: str, tie_break: str = "leader") -> Encoding:
    """The encoding of a merge shape of :data:`SHAPES` (``KeyError`` if
    unknown); ``tie_break`` matters to ``largest-stamp`` only."""
    if shape == "largest-stamp":
        return _lww(tie_break)
    return SHAPES[shape]()


def _pglogical(first: bool) -> Encoding:
    verb = "first_update_wins: the earlier" if first else "last_update_wins: the later"
    return Encoding(
        f"{'earlier' if first else 'later'}-stamp-remote-ties",
        f"(ts, leader, value); {verb} commit timestamp wins; equal timestamps apply the remote change",
        (lambda l, r: _pick(r[0] <= l[0], r, l)) if first else (lambda l, r: _pick(r[0] >= l[0], r, l)),
        _ints(("ts", "leader", "value")), _show_fields(("ts", "leader", "value")),
        pairwise=_same_dot_same_value, wf=_leader_id,
        source="pglogical_conflict.c: equal timestamps apply the remote change", covers=frozenset({"equal-ranks-apply"}))


# The state merges, by shape.  Which catalogue entry uses which shape (and
# under which tie-break) is declared by the catalogue: ``ResolverInfo.laws``
# in model/resolvers/__init__.py (and ``LAWS_ONLY`` for merges outside it).
SHAPES: dict[str, Callable[[], Encoding]] = {
    "largest-stamp": lambda: _lww("leader"),
    "keep-held": lambda: _scalar("keep-held", "a value; merge keeps the local one",
                                 lambda l, r: l, "pglogical keep_local; Bucardo/GoldenGate IGNORE"),
    "take-incoming": lambda: _scalar("take-incoming", "a value; merge takes the incoming one",
                                     lambda l, r: r, "pglogical apply_remote; GoldenGate OVERWRITE"),
    "larger-value": lambda: _scalar("larger-value", "an integer; merge keeps the larger",
                                    lambda l, r: (z3.If(r[0] > l[0], r[0], l[0]),), "GoldenGate USEMAX"),
    "smaller-value": lambda: _scalar("smaller-value", "an integer; merge keeps the smaller",
                                     lambda l, r: (z3.If(r[0] < l[0], r[0], l[0]),), "GoldenGate USEMIN"),
    "added-values": lambda: _scalar("added-values", "an integer; merge adds the two states (not a CRDT:"
                                    " re-delivery double counts)", lambda l, r: (l[0] + r[0],), "a naive counter merge"),
    "smallest-stamp": lambda: Encoding(
        "smallest-stamp", "(ts, leader, value); the smaller (ts, leader) wins; one leader never reuses a timestamp",
        lambda l, r: _pick(_gt(l[:2], r[:2]), r, l), _ints(("ts", "leader", "value")),
        _show_fields(("ts", "leader", "value")), pairwise=_same_dot_same_value, wf=_leader_id,
        source="pglogical first_update_wins"),
    "set-union": lambda: Encoding("set-union", f"a set over {UNIVERSE} elements; merge is set union",
                                  source="Dynamo shopping cart (SOSP 2007)", **_sets(("s",))),
    "max-vector": lambda: Encoding("max-vector", f"a vector of {REPLICAS} non-negative per-replica counts;"
                                   " merge is the pointwise max", source="Shapiro et al. INRIA RR-7506 (G-Counter)",
                                   **_vector(REPLICAS)),
    "max-vector-pair": lambda: Encoding("max-vector-pair", f"two vectors P, N of {REPLICAS} non-negative counts;"
                                        " merge is the pointwise max",
                                        source="Shapiro et al. INRIA RR-7506 (PN-Counter)",
                                        **_vector(REPLICAS, ("P", "N"))),
    "dot-sets": lambda: Encoding("dot-sets", f"(adds, removes): sets of dots (element, tag) over {UNIVERSE} dots;"
                                 " removes only observed dots; merge is union of both", source="Shapiro et al."
                                 " INRIA RR-7506 (OR-Set, add-wins)",
                                 **_sets(("adds", "removes"), wf=lambda s, ctx: s[1] & ~s[0] == 0)),
    "two-sets": lambda: Encoding("two-sets", f"(added, removed) over {UNIVERSE} elements; merge is union of both",
                                 source="Shapiro et al. INRIA RR-7506 (2P-Set)", **_sets(("added", "removed"))),
    "stamp-vector": lambda: Encoding(
        "stamp-vector", f"per element of {UNIVERSE}: (add ts, remove ts); merge is the pointwise max",
        source="Shapiro et al. INRIA RR-7506 (LWW-element-Set)", **_vector(UNIVERSE, ("add", "rm"), nonneg=False)),
    "rights-matrix": lambda: Encoding(
        "rights-matrix", f"rights matrix P ({REPLICAS}x{REPLICAS}, diagonal = increments) and decrements D per"
        " replica, all non-negative; merge is the pointwise max", source="Balegas et al., SRDS 2015 (bounded counter)",
        **_vector(REPLICAS * REPLICAS + REPLICAS, ("PD",))),
    "siblings": _mv_register,
    "later-stamp-remote-ties": lambda: _pglogical(False),
    "earlier-stamp-remote-ties": lambda: _pglogical(True),
    "higher-originator": lambda: Encoding(
        "higher-originator", "(originator, value); the higher originator id wins; the same originator keeps the"
        " held row", lambda l, r: _pick(r[0] > l[0], r, l), _ints(("originator", "value")),
        _show_fields(("originator", "value")),
        source="SQL Server peer-to-peer continue_onconflict ('does not guarantee convergence')"),
}


def _declared() -> dict:
    """``{name: Laws}``: every name ``smt laws`` accepts, as the catalogue
    declares it (``ResolverInfo.laws``, then ``LAWS_ONLY``)."""
    from replcheck.model.resolvers import LAWS_ONLY, RESOLVERS
    return {**{n: r.laws for n, r in RESOLVERS.items() if r.laws is not None}, **LAWS_ONLY}


NAMES = tuple(sorted(_declared()))


def encoding_for(name: str, tie_break: str = "leader") -> Encoding:
    """The encoding of a built-in resolver or preset name, as its catalogue
    entry declares it (``ResolverInfo.laws``).

    Raises :class:`QueryError` for an unknown name.
    """
    laws = _declared().get(name)
    if laws is None:
        raise QueryError(name, "RESOLVER", f"no merge-law encoding for '{name}'{did_you_mean(name, NAMES)}"
                                           f" (built in: {', '.join(NAMES)}; or pass a merge .toml file)")
    tie = tie_break if laws.tie_break in ("spec", "") else laws.tie_break
    enc = replace(builtin(laws.shape, tie or "leader"), name=name)
    if not laws.preset_of:
        return enc
    fixed = f" (tie-break {laws.tie_break})" if laws.tie_break not in ("spec", "") else ""
    return replace(enc, source=f"preset of {laws.preset_of}{fixed}; {enc.source}")


# ------------------------------------------------ the resolver's semantics
# The rules of model/resolvers/register.py's policy that a state merge of
# two values does not express, by tag: what each does to convergence.
RULES = {
    "origin-detection": "origin conflict detection: a local commit replaces the held row without any comparison,"
                        " and an incoming write from the held row's origin is applied without comparison"
                        " (the encoded merge compares every pair)",
    "version-detection": "before-image (row version) conflict detection: a local commit replaces the held row"
                         " without comparison, and an incoming write based on the held version is applied"
                         " without comparison (the encoded merge compares every pair)",
    "local-replaces": "a commit at the key's home replaces the held row without comparison",
    "delete-wins": "delete-wins: a delete beats a conflicting (concurrent) update whatever the timestamps",
    "update-wins": "update-wins: an update beats a conflicting (concurrent) delete whatever the timestamps",
    "equal-ranks-apply": "equal ranks: the incoming write is applied (not a total order)",
    "equal-ranks-keep": "equal ranks (e.g. one leader's two writes with one timestamp; Cosmos DB's _ts counts"
                        " whole seconds): the held write is kept, not a total order",
    "rule-override": "the product's own conflict rules (GoldenGate USEMAX/USEMIN: a delete conflict overwrites,"
                     " an incoming row with an equal value is ignored)",
    "op-based": "op-based application: each incoming delta is added once, as an operation (the laws below are"
                " about adding states)",
}


def _catalogue_type(name: str, tie_break: str = "leader"):
    """The data type the explicit engine builds for catalogue resolver
    ``name`` (``model.resolvers``), on a two-leader spec with one write per
    leader; ``None`` for a name outside the catalogue (a plain merge)."""
    from replcheck.model.resolvers import RESOLVERS
    from replcheck.model.spec import parse_spec
    from replcheck.model.system import System
    info = RESOLVERS.get(name)
    if info is None:
        return None
    system = {"leaders": ["a", "b"]}
    if info.family == "register":
        system["resolver"] = name
        if info.laws is not None and info.laws.tie_break == "spec":   # the entry takes --tie-break
            system["tie_break"] = tie_break
        ops = [{"id": "x", "leader": "a", "key": "k", "set": "1"}, {"id": "y", "leader": "b", "key": "k", "set": "2"}]
        data = {"system": system, "workload": ops}
    else:
        op, v = ("incr", 1) if info.family == "counter" else ("add", "e")
        ops = [{"id": "x", "leader": "a", "key": "k", op: v}, {"id": "y", "leader": "b", "key": "k", op: v}]
        data = {"system": system, "keys": {"k": {"type": name}}, "workload": ops}
    t = System(parse_spec(data, f"<laws {name}>")).types[0]
    return getattr(t, "inner", t)


def semantics(name: str, tie_break: str = "leader") -> frozenset:
    """The rule tags (:data:`RULES`) of ``name``'s data type in
    ``model/resolvers/`` — the object the explicit engine runs — beyond a
    plain comparison of two values.  Read off the object's policy, not a
    second copy of the catalogue: a
    :class:`~model.resolvers.register.Register`'s ``detect``,
    ``delete_rule``, ``commutes``/``equal_applies`` and an overridden
    ``_wins``; the LWW fast path without a total tie-break; USEDELTA."""
    from replcheck.model.resolvers.lww import LWW
    from replcheck.model.resolvers.register import Register
    from replcheck.model.resolvers.usedelta import UseDelta
    t = _catalogue_type(name, tie_break)
    tags: set[str] = set()
    if isinstance(t, UseDelta):
        tags.add("op-based")
    if isinstance(t, LWW) and not t.commutes:
        tags.add("equal-ranks-keep")
    if isinstance(t, Register):
        if t.detect in ("origin", "version"):
            tags.add(f"{t.detect}-detection")
        if t.local_replaces:
            tags.add("local-replaces")
        if t.delete_rule != "as-write":
            tags.add(t.delete_rule)
        if "_wins" in vars(t):
            tags.add("rule-override")
        elif t.resolve == "rank" and not t.commutes:
            tags.add("equal-ranks-apply" if t.equal_applies else "equal-ranks-keep")
    return frozenset(tags)


def left_out(name: str, enc: Encoding, tie_break: str = "leader") -> tuple[str, ...]:
    """The rules of ``name``'s semantics that ``enc`` does not encode, one
    sentence each (empty: the merge is the whole semantics)."""
    return tuple(RULES[t] for t in sorted(semantics(name, tie_break) - enc.covers))


def report_for(name: str, tie_break: str = "leader", timeout_ms: int = 60_000) -> LawsReport:
    """The laws of a catalogue name's merge, with what they leave out of
    its semantics (``LawsReport.converges`` is the only convergence claim).

    >>> report_for("max").converges
    True
    >>> r = report_for("pgd"); (r.proved, r.converges)
    (True, False)
    """
    enc = encoding_for(name, tie_break)
    return replace(check_laws(enc, timeout_ms), left_out=left_out(name, enc, tie_break))


def load_custom(path) -> Encoding:
    """A custom integer merge from a TOML file::

        name = "larger"
        merge = "if local >= remote then local else remote"
        min = 0          # optional: states range over integers >= min
        max = 100        # optional
    """
    source = str(path)
    try:
        data = read_toml(locate(path), source, QueryError, "fix the syntax")
    except OSError:
        raise QueryError(source, "", "cannot read this file; pass a merge .toml file") from None
    allowed = {"name", "description", "merge", "min", "max"}
    for k in data:
        if k not in allowed:
            raise QueryError(source, k, f"unknown key{did_you_mean(k, allowed)} (allowed: {', '.join(sorted(allowed))})")
    if "merge" not in data:
        raise QueryError(source, "merge", 'missing; e.g. merge = "max(local, remote)"')
    tree = parse(data["merge"], source, "merge")
    lo, hi = data.get("min"), data.get("max")
    for k, v in (("min", lo), ("max", hi)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise QueryError(source, k, f"must be an integer, got {v!r}")
    probe = {"local": z3.Int("probe_l"), "remote": z3.Int("probe_r")}
    if not z3.is_int(to_z3(tree, probe, source, "merge")):
        raise QueryError(source, "merge", "must be an integer expression over local and remote")

    def merge(l, r):
        return (to_z3(tree, {"local": l[0], "remote": r[0]}, source, "merge"),)

    def wf(s, ctx):
        c = ([s[0] >= lo] if lo is not None else []) + ([s[0] <= hi] if hi is not None else [])
        return z3.And(c) if c else z3.BoolVal(True)

    bounds = "" if lo is None and hi is None else f" in [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
    return Encoding(data.get("name", Path(path).stem), f"an integer{bounds}; merge = {data['merge']}",
                    merge, _ints(("v",)), _show_int, wf=wf, source=source)


def relaxed(enc: Encoding) -> Encoding:
    """The same merge over *all* states, without its well-formedness
    condition: shows what the condition buys (e.g. mv-register's
    idempotence needs sibling sets that are antichains)."""
    return replace(enc, wf=lambda s, ctx: z3.BoolVal(True), pairwise=lambda a, b, ctx: z3.BoolVal(True))


def check_laws(enc: Encoding, timeout_ms: int = 60_000) -> LawsReport:
    """Prove or refute commutativity, associativity and idempotence.

    ``timeout_ms`` bounds the three questions together: each z3 call gets
    what is left.  A law z3 does not decide in time — or when Ctrl-C or
    SIGTERM stops the run — is ``undecided`` (the report is incomplete,
    exit 3), and the laws after it are not asked.

    >>> check_laws(encoding_for("max")).proved
    True
    >>> [l.law for l in check_laws(encoding_for("keep-local")).laws if not l.proved]
    ['commutativity']
    """
    with context.fresh():   # the same merge, the same counterexample, whatever ran before
        return _check_laws(enc, timeout_ms)


def _check_laws(enc: Encoding, timeout_ms: int) -> LawsReport:
    results = []
    deadline = time.monotonic() + timeout_ms / 1000
    for law in LAWS:
        if results and results[-1].undecided:
            results.append(LawResult(law, False, undecided=results[-1].undecided))
            continue
        left = remaining_ms(deadline)
        if time.monotonic() >= deadline:
            results.append(LawResult(law, False, undecided="timeout"))
            continue
        ctx = enc.shared()
        a, b, c = (enc.fresh(p, ctx) for p in ("a", "b", "c"))
        m = enc.merge
        if law == "commutativity":
            used, lhs, rhs = (("a", a), ("b", b)), ("merge(a, b)", m(a, b)), ("merge(b, a)", m(b, a))
        elif law == "associativity":
            used = (("a", a), ("b", b), ("c", c))
            lhs, rhs = ("merge(merge(a, b), c)", m(m(a, b), c)), ("merge(a, merge(b, c))", m(a, m(b, c)))
        else:
            used, lhs, rhs = (("a", a),), ("merge(a, a)", m(a, a)), ("a", a)
        s = z3.Solver()
        s.set("timeout", left)
        states = [x for _, x in used]
        s.add([enc.wf(x, ctx) for x in states])
        s.add([enc.pairwise(x, y, ctx) for i, x in enumerate(states) for y in states[i + 1:]])
        s.add(z3.Or([x != y for x, y in zip(lhs[1], rhs[1])]))
        try:
            r = context.check(s)
        except KeyboardInterrupt:
            results.append(LawResult(law, False, undecided="interrupted"))
            continue
        if r == z3.unsat:
            results.append(LawResult(law, True))
        elif r == z3.sat:
            mdl = s.model()
            results.append(LawResult(law, False, tuple((n, enc.show(mdl, x)) for n, x in used),
                                     (lhs[0], enc.show(mdl, lhs[1])), (rhs[0], enc.show(mdl, rhs[1]))))
        else:
            late = time.monotonic() >= deadline - 0.05
            results.append(LawResult(law, False, undecided="timeout" if late else s.reason_unknown()))
    return LawsReport(enc.name, enc.states, enc.source, tuple(results))
