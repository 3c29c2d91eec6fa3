"""Invariants: what a verdict is about (docs/model.md §5).

Each invariant is named data: a scope (checked at every reachable state, or
only at quiescent states, where nothing but faults is enabled), a one-line
meaning with its source, and a function that builds the state predicate for
a compiled :class:`~model.system.System`.  A predicate returns ``None`` or a
:class:`Violation` naming the anomaly and the culprit writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from replcheck.checks.trace import write_text
from replcheck.model import state as st
from replcheck.model.resolvers.base import CAUSALLY_LATER, DOUBLE_COUNTED, LOST_UPDATE, RESURRECTED, is_accepted, is_rejected
from replcheck.model.resolvers.lww import LWW
from replcheck.model.resolvers.local_checks import check_of, shown_number
from replcheck.model.search import EVERY, QUIESCENT, Property


@dataclass(frozen=True)
class Violation:
    """Why a state breaks an invariant, in domain terms.

    ``anomaly`` is one of docs/model.md §6's names (``lost-update``,
    ``causally-later-write-lost``, ``divergence``, ...); ``culprits`` are the
    op ids of the writes involved, the victim first; ``message`` is one
    sentence a student can read.
    """

    anomaly: str
    message: str
    culprits: tuple[str, ...] = ()
    leader: str | None = None
    kinds: tuple[str, ...] = ()   # every anomaly this state shows, sorted (empty: just ``anomaly``)


@dataclass(frozen=True)
class Invariant:
    name: str
    scope: str
    summary: str
    source: str
    build: Callable  # System -> (state -> Violation | None)
    ghost: bool = True  # reads ghost happens-before (False: the engine may drop it when nothing else needs it)
    # System -> (state -> every anomaly kind the state shows), cheaper than
    # build's check (no message); None: the kinds of build's Violation.
    labels: Callable | None = None
    # System -> whether this spec's check reads the ghost (None: ``ghost``).
    ghost_for: Callable | None = None
    # System -> every anomaly kind the check can show on this system (a
    # superset, proved from the spec), or None when unknown.  A search may
    # stop once each property has shown all of its kinds (docs/engine.md,
    # "Stopping when every kind is found").
    kinds: Callable | None = None
    # True when the check cannot fail at a state whose live leaders all hold
    # the same leader state (applied set, causal past, clock, contents): then
    # under symmetry a representative whose images all have alike live leaders
    # needs one image judged, not its whole orbit (checks/planner.py
    # for_images; docs/reductions.md "Judging the images cheaply").
    holds_when_leaders_alike: bool = False
    # An every-state invariant: System -> True when every violation at a
    # reachable state, with each kind it shows, is also shown by a quiescent
    # state reachable from it.  Then a search that judges quiescent states
    # only (partial-order reduction) finds the same verdict and kinds, but
    # proves no trace shortest (docs/reductions.md "Every-state invariants
    # judged at quiescence").  None: never.
    quiescence_suffices: Callable | None = None
    # System -> True when the check's verdict and kinds are the same at every
    # image of a state under the symmetry group, so a representative needs one
    # image judged (checks/planner.py for_images; docs/reductions.md "Judging
    # the images cheaply").  None: never assumed.
    same_on_every_image: Callable | None = None

    def needs_ghost(self, system) -> bool:
        """Whether checking this invariant on ``system`` reads ghost
        happens-before (the planner drops the ghost when nothing does)."""
        return self.ghost if self.ghost_for is None else self.ghost_for(system)

    def property(self, system) -> Property:
        check = self.build(system)
        labels = self.labels(system) if self.labels is not None else _labels_of(check)
        kinds = self.kinds(system) if self.kinds is not None else None
        return Property(self.name, self.scope, check, labels, kinds)


def kinds_of(v: Violation | None) -> tuple[str, ...]:
    """Every anomaly kind a violation's state shows (docs/model.md, "Invariants")."""
    return () if v is None else (v.kinds or (v.anomaly,))


def _labels_of(check):
    def labels(state):
        return kinds_of(check(state))
    return labels


def _renaming_invariant(system) -> bool:
    """Whether convergence and no-lost-writes give the same verdict and
    kinds at every image of a state under a leader renaming (a renaming
    maps each leader to one with the same workload shape and each op to
    the matching op, model/symmetry.py).  Both read contents, the write
    table and happens-before, which a renaming maps consistently, and
    compare *values*: the same holds when every key type names writes and
    never leaders (``renaming_safe``: mv-register) and no two ops of one key
    write the same value (the renamed value ids are then a bijection of
    the originals, so equal sibling sets stay equal and unequal ones
    unequal).  Sufficient, not necessary."""
    if not all(t.renaming_safe for t in system.types):
        return False
    for k in range(len(system.keys)):
        values = [op.value for op in system.ops if op.key == k and op.value is not None]
        if len(values) != len(set(values)):
            return False
    return True


def _convergence(system):
    keys = range(len(system.keys))

    def check(state):
        live = system.live(state)
        if not live:
            return None
        for k in keys:
            first = live[0]
            v0 = system.visible(state, first, k)
            for l in live[1:]:
                v = system.visible(state, l, k)
                if v != v0:
                    a, b = system.leaders[first], system.leaders[l]
                    return Violation(
                        "divergence",
                        f"replication has finished but {a} shows {system.keys[k]} = {system.show_visible(v0)}"
                        f" while {b} shows {system.show_visible(v)}",
                        tuple(sorted({system.ops[w].id for x in (first, l) for w in system.held_writes(state, x, k)})),
                        b)
        return None

    return check


def _strong_convergence(system):
    keys = range(len(system.keys))

    def check(state):
        live = system.live(state)
        by_applied: dict[int, int] = {}
        for l in live:
            applied = st.applied(state, l)
            other = by_applied.setdefault(applied, l)
            if other == l:
                continue
            for k in keys:
                va, vb = system.visible(state, other, k), system.visible(state, l, k)
                if va != vb:
                    a, b = system.leaders[other], system.leaders[l]
                    return Violation(
                        "divergence",
                        f"{a} and {b} have applied the same writes but show {system.keys[k]} ="
                        f" {system.show_visible(va)} and {system.show_visible(vb)}",
                        (), b)
        return None

    return check


def losses(system, state):
    """Every write not reflected at a live leader, as
    :class:`model.resolvers.base.Loss` values (leader, write, culprits,
    anomaly).

    Only writes that reached a live leader count (the rest is durability's
    concern).  What "reflected" means is the key's data type's
    (docs/model.md §5): a register holds the version (as value or sibling), a
    counter counts the delta exactly once, a set shows the element present
    / removed — unless a write that causally follows it superseded it.
    """
    live = system.live(state)
    reached = 0
    for l in live:
        reached |= st.applied(state, l)
    out = []
    for k, t in enumerate(system.types):
        out.extend(t.losses(system, state, k, live, reached))
    return out


def lost_writes(system, state):
    """Every lost write as ``(leader, write, culprit_writes, causally_later)``
    (see :func:`losses`)."""
    return [(x.leader, x.write, x.culprits, x.anomaly == CAUSALLY_LATER) for x in losses(system, state)]


UNREPLICATED = "unreplicated-write-lost"


def _loss_kind(state, x) -> str:
    """The anomaly a :class:`Loss` shows, as :func:`_no_lost_writes` names it:
    causally later first, then a write that never arrived, else the type's."""
    if x.anomaly == CAUSALLY_LATER:
        return CAUSALLY_LATER
    if not (st.applied(state, x.leader) >> x.write) & 1:
        return UNREPLICATED
    return x.anomaly


def _lost_write_kinds(system):
    """Every kind of lost write a state shows (no messages: cheap)."""
    def labels(state):
        return tuple(sorted({_loss_kind(state, x) for x in losses(system, state)}))
    return labels


def _lost_write_kinds_possible(system) -> frozenset | None:
    """The kinds of lost write this spec can show, when the spec proves
    them: ``{lost-update}`` alone for plain ``lww`` registers over Lamport
    or hybrid logical clocks with every op a ``set``, no fault but crashes
    (crash-only faults: no ``lose_unsent``, docs/reductions.md "Crash-only
    faults"), no offline period, FIFO links and every leader sending to
    every other (all-to-all, nothing forwarded); ``{lost-update,
    unreplicated-write-lost}`` under the same conditions on any other
    topology (a ring, a star, a custom graph); ``None`` (unknown)
    otherwise.

    * ``unreplicated-write-lost`` needs a write that never reached a live
      leader at a quiescent state.  Without faults every link has drained
      there, and all-to-all every write is sent to every leader.  A crash
      (crash-stop, docs/model.md §2) drops only messages *to* the crashed
      leader, which is not live and not judged; what it sent before still
      reaches the others, and with ``recoveries`` a recovery is a progress
      event, so quiescence waits for it and its buffered deliveries.  With
      ``lose_unsent`` a crash drops what it sent: all three kinds appear
      (lww 3 leaders x 4 ops, 1 crash: a full search shows them), so
      nothing is stated there.
    * ``causally-later-write-lost`` needs a leader to hold ``h`` instead of
      a lost ``w`` although ``h`` happens-before ``w``.  Both clocks stamp a
      commit above everything its leader has applied (``clocks.tick`` after
      ``clocks.observe``: Lamport, CACM 1978; Kulkarni et al., OPODIS 2014),
      so ``h``'s stamp is below ``w``'s, and lww holds the highest stamp it
      has applied: ``h`` can neither displace ``w`` nor outlast it.
    * The lww register's losses are the register rule's
      (``model/resolvers/base.py`` ``losses``: lost-update or causally
      later), and a ``set`` on it is never rejected.
    """
    if system.general and not system.faults_are_crash_only():
        return None
    if system.clock not in ("lamport", "hlc") or system.offline_periods:
        return None
    if any(op.kind != "set" for op in system.ops):
        return None
    for t in system.types:
        ctx = getattr(t, "ctx", None)
        if type(t) is not LWW or ctx is None or not ctx.entry.largest_stamp_only:   # exactly lww's register
            return None
    n = system.n
    if system.forwards or any(len(system.out_links[l]) != n - 1 for l in range(n)):
        # A write reaches some leaders only through others: a crash on its path,
        # or a leader no path reaches, leaves it unreplicated.  Still never
        # causally later (the stamp argument above does not read the topology).
        return frozenset({LOST_UPDATE, UNREPLICATED})
    return frozenset({LOST_UPDATE})


def _no_lost_writes(system):
    """The first lost write's violation, with every kind the state shows."""
    first = _no_lost_writes_first(system)

    def check(state):
        v = first(state)
        if v is None:
            return None
        kinds = tuple(sorted({_loss_kind(state, x) for x in losses(system, state)}))
        return Violation(v.anomaly, v.message, v.culprits, v.leader, kinds)

    return check


def _no_lost_writes_first(system):
    for t in system.types:
        t.check_judgeable(system.spec.source, "no-lost-writes")

    def check(state):
        found = losses(system, state)
        if not found:
            return None
        kinds = {(x.leader, x.write): x for x in found}
        lost = [(x.leader, x.write, x.culprits, x.anomaly == CAUSALLY_LATER) for x in found]
        # A write the leader applied and then discarded is the resolver's
        # loss; one it never received is a replication gap (faults).
        def arrived(x):
            return (st.applied(state, x[0]) >> x[1]) & 1

        lost.sort(key=lambda x: (not x[3], not arrived(x), x[1], x[0]))
        l, w, held, later = lost[0]

        def at_(x):   # where x was committed (its home, or where a failover moved it), docs/model.md
            return system.leaders[system.committed_at(state, x.index)]
        at = [system.leaders[x[0]] for x in lost if x[1] == w]
        if not later and not arrived(lost[0]):
            op = system.ops[w]
            down = [system.leaders[x] for x in range(system.n) if x not in system.live(state)]
            why = f" (crashed: {', '.join(down)})" if down else ""
            return Violation("unreplicated-write-lost",
                             f"{op.id}'s acknowledged write {write_text(system, w)} ({at_(op)}) never reached"
                             f" {', '.join(at)}, and nothing will deliver it now{why}",
                             (op.id,), system.leaders[l])
        where = "everywhere" if len(at) == len(system.live(state)) else "at " + ", ".join(at)
        op = system.ops[w]
        ts = system.show_ts(st.ts(st.write(state, w)))
        loss = kinds[(l, w)]
        if not system.types[op.key].holds_writes or loss.anomaly not in (LOST_UPDATE, CAUSALLY_LATER) \
                or system.types[op.key].family != "register":
            return _typed_loss(system, state, loss, where)
        winners = [system.ops[h] for h in held]
        by = " and ".join(f"{x.id}'s write ({at_(x)}, ts {system.show_ts(st.ts(st.write(state, x.index)))})"
                          for x in winners) or "nothing"
        culprits = (op.id,) + tuple(x.id for x in winners)
        if later:
            why = "its timestamp is behind"
            if system.clock == "wall" and winners:
                mine, theirs = system.committed_at(state, w), system.committed_at(state, winners[0].index)
                behind = system.offsets[theirs] - system.offsets[mine]
                if behind > 0:
                    why = f"{system.leaders[mine]}'s clock is {behind} ms behind {system.leaders[theirs]}'s"
            msg = (f"{op.id}'s write {_written(system, state, op)} ({at_(op)}, ts {ts}) causally follows {by},"
                   f" yet it is lost {where}: {why}")
            return Violation("causally-later-write-lost", msg, culprits, system.leaders[l])
        msg = (f"{op.id}'s acknowledged write {_written(system, state, op)} ({at_(op)}, ts {ts}) is lost {where}:"
               f" {by} won under {system.types[op.key].ctx.entry.name}")   # the key's resolver, not the default
        return Violation("lost-update", msg, culprits, system.leaders[l])

    return check


def _durability(system):
    def check(state):
        live = system.live(state)
        held = 0
        for l in live:
            held |= st.applied(state, l)
        writes = st.writes(state)
        for w, meta in enumerate(writes):
            if meta is None or is_rejected(meta) or (held >> w) & 1:
                continue
            op = system.ops[w]
            # Superseded by a causally later write that survives: overwritten, not lost.
            if any(m is not None and (held >> i) & 1 and (st.hb(m) >> w) & 1 and system.ops[i].key == op.key
                   for i, m in enumerate(writes)):
                continue
            holders = [system.leaders[l] for l in range(system.n) if (st.applied(state, l) >> w) & 1]
            return Violation("unreplicated-write-lost",
                             f"{op.id}'s acknowledged write {write_text(system, w)} is held by no live leader:"
                             f" only {', '.join(holders)} had it, and crashed before replicating it",
                             (op.id,), op.leader_name)
        return None

    return check


def _typed_loss(system, state, loss, where):
    """The message for a loss on a counter or set key."""
    op = system.ops[loss.write]
    what = f"{op.id}'s acknowledged {system.op_text(op.index)} ({system.leaders[op.origin]})"
    others = [system.ops[c] for c in loss.culprits]
    by = " and ".join(f"{x.id}'s {system.op_text(x.index)} ({system.leaders[x.origin]})" for x in others)
    culprits = (op.id,) + tuple(x.id for x in others)
    if loss.anomaly == RESURRECTED:
        msg = (f"{what} is undone {where}: '{loss.detail}' is back, because merging by union kept it from"
               f" {by or 'a concurrent version'}")
    elif loss.anomaly == DOUBLE_COUNTED:
        msg = f"{what} is not counted exactly once {where}: {loss.detail}"
    elif loss.anomaly == CAUSALLY_LATER:
        msg = f"{what} causally follows {by}, yet it is lost {where} under {system.types[op.key].ctx.entry.name}"
    else:
        msg = (f"{what} is lost {where}: " + (f"{by} won under {system.types[op.key].ctx.entry.name}" if by
                                              else loss.detail or "it is not reflected"))
    return Violation(loss.anomaly, msg, culprits, system.leaders[loss.leader])


def _replication_terminates(system):
    def check(state):
        w = st.looped_write(state)
        if w is None:
            return None
        op = system.ops[w]
        return Violation("replication-loop",
                         f"{op.id}'s write was forwarded over more links than the graph has ({system.max_hops}):"
                         f" it circles forever ({system.spec.loop_prevention} loop prevention)", (op.id,))

    return check


# ------------------------------------------- application invariants (issue 4)
def _checked_keys(system, check: str) -> tuple[int, ...]:
    """Keys written by at least one op with local check ``check``."""
    return tuple(sorted({op.key for op in system.ops if check_of(system.spec, op.index) == check}))


def _and(names) -> str:
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _email_unique(system):
    """No live leader shows two users with the same email: neither two rows
    with one email in a ``users`` table, nor two registrations kept side
    by side (siblings) in a row keyed by the email."""
    tables = tuple(k for k, t in enumerate(system.types) if t.family == "table")
    rows = tuple(k for k in _checked_keys(system, "unique") if k not in tables and system.types[k].holds_writes)
    spec = system.spec

    def report(l, k, dup, email):
        ops = [system.ops[w] for w in dup]
        who = _and(system.leaders[o.origin] for o in ops)
        both = "both" if len(ops) == 2 else "all"
        return Violation("duplicate-email",
                         f"{who} {both} accepted a registration for {email}, each checking UNIQUE only against"
                         f" what it had seen: {system.leaders[l]} now shows {len(ops)} users with that email"
                         f" ({', '.join(o.id for o in ops)})", tuple(o.id for o in ops), system.leaders[l])

    def check(state):
        for l in system.live(state):
            regs = st.regs(state, l)
            for k in tables:
                t = system.types[k]
                dup = t.duplicates(regs[k])
                if dup:
                    return report(l, k, dup, system.values[t.email[dup[0]]])
            for k in rows:
                dup = tuple(w for w in regs[k] if check_of(spec, w) == "unique")
                if len(dup) > 1:
                    return report(l, k, dup, system.keys[k])
        return None

    return check


def _stock_judge(system):
    """``state -> [Violation, ...]``: every way ``state`` breaks
    stock-non-negative, in a fixed order (per key: each live leader showing
    a negative stock, then the oversell)."""
    keys = _checked_keys(system, "stock")
    empty = (None,) * system.nops
    initial = {k: shown_number(system.types[k], system.types[k].initial(), empty) for k in keys}
    ops_of = {k: tuple(op for op in system.ops if op.key == k and op.kind in ("incr", "decr")) for k in keys}

    def judge(state, first: bool):
        out = []
        writes = st.writes(state)
        live = system.live(state)
        for k in keys:
            t = system.types[k]
            sales = [op for op in ops_of[k] if op.kind == "decr" and is_accepted(writes[op.index])]
            sold = sum(op.amount for op in sales)
            restocked = sum(op.amount for op in ops_of[k] if op.kind == "incr" and is_accepted(writes[op.index]))
            avail = initial[k] + restocked
            for l in live:
                v = shown_number(t, st.content(state, l, k), writes)
                if v < 0:
                    out.append(Violation("negative-stock",
                                         f"{system.leaders[l]} shows {system.keys[k]} = {v}: it merged sales that"
                                         f" were each checked against stock another leader had already sold"
                                         f" ({sold} sold of {avail})", tuple(op.id for op in sales),
                                         system.leaders[l]))
                    if first:
                        return out
            if sold > avail:
                sellers = [system.leaders[op.origin] for op in sales]
                unit = "item" if avail == 1 else "items"
                if avail == 1 and len(set(sellers)) > 1:
                    head = f"{_and(sellers)} {'both' if len(set(sellers)) == 2 else 'all'} sold the last unit of {system.keys[k]}"
                else:
                    head = f"{_and(sellers)} sold from {system.keys[k]} without seeing each other's sales"
                extra = f" (initial {initial[k]} + restocked {restocked})" if restocked else ""
                out.append(Violation("oversell", f"{head}: {sold} sales acknowledged for {avail} {unit}{extra}",
                                     tuple(op.id for op in sales)))
                if first:
                    return out
        return out

    return judge


def _stock_non_negative(system):
    """Every live leader's visible stock is >= 0, and the sales
    acknowledged never exceed the initial stock plus the restocks
    acknowledged (no oversell: LWW shows 0 after two sales of the last
    item, and that is still an oversell)."""
    judge = _stock_judge(system)

    def check(state):
        out = judge(state, True)
        return out[0] if out else None
    return check


def _stock_kinds(system):
    """Every kind a state shows (negative-stock and oversell together, not
    only the first): a state's kinds must be a function of what it breaks,
    not of the order the check looks, for the quiescent judging below to
    keep the kinds (docs/reductions.md)."""
    judge = _stock_judge(system)

    def labels(state):
        return tuple(sorted({v.anomaly for v in judge(state, False)}))
    return labels


def _stock_at_quiescence(system) -> bool:
    """Whether every stock-non-negative violation at a reachable state, with
    every kind it shows, is also shown by a quiescent state reachable from
    it: when no checked key's shown stock can rise (``shown_never_rises``:
    counters and escrow with no ``incr``).  Then from a violating state,
    let the run go on without another fault: each leader live there stays
    live and only applies more writes, so a negative stock stays negative
    (it can only fall), and an acknowledged sale stays acknowledged with the
    available stock unchanged (no restock), so an oversell stays one
    (docs/reductions.md "Every-state invariants judged at quiescence")."""
    return all(system.types[k].shown_never_rises() for k in _checked_keys(system, "stock"))


def _causal_order(system):
    """No live leader has applied a write without every write that
    happens-before it (ghost happens-before in the write table)."""
    def check(state):
        writes = st.writes(state)
        for l in system.live(state):
            applied = st.applied(state, l)
            a, w = applied, 0
            while a:
                if a & 1:
                    missing = st.hb(writes[w]) & ~applied
                    if missing:
                        m = (missing & -missing).bit_length() - 1
                        op, dep = system.ops[w], system.ops[m]
                        at = system.leaders[l]
                        return Violation(
                            "causality-violation",
                            # "from": the leader that actually committed it (a failover moves homes).
                            f"{at} applied {op.id}'s {system.op_text(w)}"
                            f" (from {system.leaders[system.committed_at(state, w)]}) before"
                            f" {dep.id}'s {system.op_text(m)} (from {system.leaders[system.committed_at(state, m)]}),"
                            " which happened"
                            f" before it: a reader at {at} sees the effect without its cause",
                            (op.id, dep.id), at)
                a >>= 1
                w += 1
        return None

    return check


def _offline_available(system):
    """docs/model.md "Offline periods": every op issued while its leader is
    offline can be made — it commits at that leader.  A routed write whose
    home is elsewhere cannot reach it and is refused (``System.refused_offline``)."""
    offline = system.offline_ops

    def check(state):
        writes = st.writes(state)
        w = 0
        m = offline
        while m:
            if m & 1 and system.refused_offline(writes[w]):
                op = system.ops[w]
                home = system.routing.home(op.key, state)
                home = system.leaders[home if home is not None else op.origin]
                return Violation("unavailable-offline",
                                 f"{op.id}'s write {write_text(system, w)} cannot be made: {op.leader_name} is"
                                 f" offline and {op.key_name} must be written at its home {home}, out of reach; the"
                                 " client's edit is refused, never acknowledged",
                                 (op.id,), op.leader_name)
            m >>= 1
            w += 1
        return None

    return check


def _written(system, state, op) -> str:
    """The value a register write wrote (a read-modify-write's is decided at
    commit)."""
    if op.kind in ("incr", "decr"):
        vid = system.types[op.key].ctx.value_of(op.index, st.writes(state))
        return f'"{system.values[vid]}" ({system.op_text(op.index)})'
    return write_text(system, op.index)


INVARIANTS: dict[str, Invariant] = {
    inv.name: inv for inv in (
        Invariant("convergence", QUIESCENT,
                  "at every quiescent state all live leaders show the same value (or siblings) for every key",
                  "docs/model.md §5; Vogels, 'Eventually consistent', CACM 2009", _convergence, ghost=False,
                  kinds=lambda system: frozenset({"divergence"}),   # its only Violation
                  # visible(state, l, k) reads only leader l's contents and the write table
                  holds_when_leaders_alike=True, same_on_every_image=_renaming_invariant),
        Invariant("no-lost-writes", QUIESCENT,
                  "at every quiescent state every acknowledged write is held everywhere unless a causally later"
                  " write superseded it", "docs/model.md §5; DDIA ch. 5 (LWW discards concurrent writes)",
                  _no_lost_writes, labels=_lost_write_kinds, kinds=_lost_write_kinds_possible,
                  # Only types whose "reflected" needs causal supersession read the
                  # ghost (registers, sets); a counter's delta is counted or not.
                  ghost_for=lambda system: any(getattr(t, "losses_use_hb", True) for t in system.types),
                  same_on_every_image=_renaming_invariant),
        Invariant("strong-convergence", EVERY,
                  "at every state two live leaders that applied the same writes show the same state",
                  "Shapiro et al., 'Conflict-free replicated data types', SSS 2011 (strong eventual consistency)",
                  _strong_convergence, ghost=False),
        Invariant("durability", QUIESCENT,
                  "no acknowledged write vanishes because every leader holding it crashed",
                  "docs/model.md §5; DDIA ch. 5 (asynchronous replication loses unreplicated writes on failover)",
                  _durability),
        Invariant("email-unique", EVERY,
                  "no live leader ever shows two users with the same email (so no quiescent state does either)",
                  "docs/model.md §5; DDIA ch. 5 (uniqueness constraints under multi-leader replication)", _email_unique),
        Invariant("stock-non-negative", EVERY,
                  "every live leader's visible stock is >= 0 and acknowledged sales never exceed initial stock plus"
                  " acknowledged restocks (no oversell)",
                  "docs/model.md §5; Balegas et al., SRDS 2015 (numeric invariants); Bailis et al., VLDB 2015",
                  _stock_non_negative, ghost=False, labels=_stock_kinds, quiescence_suffices=_stock_at_quiescence),
        Invariant("causal-order", EVERY,
                  "no leader applies a write before every write that happens-before it",
                  "docs/model.md §5; DDIA ch. 5 'Multi-leader replication topologies' (an update overtaking its insert)",
                  _causal_order),
        Invariant("offline-available", EVERY,
                  "every op a client issues while its leader is offline ([faults] offline) can be made: it commits"
                  " at that leader, not at a home out of reach",
                  "docs/model.md 'Offline periods'; DDIA ch. 5 'Clients with offline operation' (every device is"
                  " a leader)", _offline_available, ghost=False),
        Invariant("replication-terminates", EVERY,
                  "every write stops being forwarded: no write circles the topology forever",
                  "docs/model.md §1; DDIA ch. 5 (infinite replication loops); MySQL server_id", _replication_terminates,
                  ghost=False),
    )
}
