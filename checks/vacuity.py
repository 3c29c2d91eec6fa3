"""Vacuity: an invariant that holds only because nothing it guards happened.

``email-unique`` holds trivially when every insert is rejected;
``stock-non-negative`` when no sale is ever accepted; ``no-lost-writes``
and ``convergence`` when no write commits.  Such a ``holds`` is true but
says nothing, and a drill answer that "passes" that way has not defended
anything (docs/model.md, "Vacuity").

Each invariant declares what it *guards* (:data:`GUARDS`): the events
without which it cannot fail.  During the search every invariant's check
is wrapped (:func:`watch`) so that, while no guarded event has been seen,
it also looks at the write table of the state it judges.  A ``holds``
needs a complete search, so by then the check has judged every state of
its scope: every reachable state for an every-state invariant, every
quiescent state for a quiescent one.  The write table (``st.writes(state)``) only
grows along a run (an op's entry, accepted or rejected, is never undone)
and every run can be extended to a quiescent state, so "a guarded op was
accepted in some reachable state" and "in some quiescent state" are the
same question — and the reductions judge exactly the quiescent states the
plain search would (docs/reductions.md; with symmetry, every image of a
representative is judged).  The answer is therefore the same with and
without reductions (``tests/checks/test_trust_app.py`` checks it).

Only the explicit engines (bfs, dfs) report vacuity; for a result they did
not explore (``--engine smt``) :attr:`Result.vacuous` stays ``None``
(not known), never a claim.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from replcheck.model import state as st
from replcheck.model.resolvers.base import is_accepted, is_rejected
from replcheck.model.resolvers.local_checks import check_of


@dataclass(frozen=True)
class Guard:
    """What an invariant guards: ops of the workload (all of them, or only
    those with the local check ``check``) that must be *accepted* in some
    explored run — with ``predecessor``, accepted with a non-empty ghost
    happens-before set (docs/model.md, "Vacuity")."""

    noun: str                 # one guarded op, in words: "insert", "sale", "write"
    check: str | None = None  # the local check of the guarded ops (model/resolvers/local_checks.py); None: every op
    predecessor: bool = False
    offline: bool = False     # only the ops issued while their leader is offline ([faults] offline)


WRITE = Guard("write")
GUARDS: dict[str, Guard] = {
    "convergence": WRITE,                  # leaders that never received a write agree trivially
    "no-lost-writes": WRITE,               # nothing committed, nothing to lose
    "strong-convergence": WRITE,
    "durability": WRITE,                   # only acknowledged writes can vanish
    "replication-terminates": WRITE,       # only a committed write is forwarded
    "email-unique": Guard("insert", "unique"),
    "stock-non-negative": Guard("sale", "stock"),
    "causal-order": Guard("write with a happens-before predecessor", predecessor=True),
    "offline-available": Guard("op issued offline", offline=True),
}


@dataclass(frozen=True)
class Watch:
    """The invariants being watched and, filled in during the search, the
    names of those whose guarded event some judged state showed
    (``seen``), and per name the guarded ops seen rejected (``rejected``)."""

    names: frozenset
    seen: set
    rejected: dict


def guarded_ops(system, guard: Guard) -> tuple[int, ...]:
    """The op indices ``guard`` is about (pure)."""
    if guard.offline:
        return tuple(i for i in range(system.nops) if (system.offline_ops >> i) & 1)
    if guard.check is None:
        return tuple(range(system.nops))
    return tuple(i for i in range(system.nops) if check_of(system.spec, i) == guard.check)


def happened(guard: Guard, ops: tuple[int, ...], writes) -> bool:
    """Does the write table ``writes`` show a guarded event (pure)?"""
    for i in ops:
        meta = writes[i]
        if is_accepted(meta) and (not guard.predecessor or st.hb(meta)):
            return True
    return False


def _watched(name, check, guard, ops, w: Watch):
    def judged(state):
        if name not in w.seen:
            writes = st.writes(state)
            if happened(guard, ops, writes):
                w.seen.add(name)
            else:
                w.rejected[name] |= sum(1 << i for i in ops if is_rejected(writes[i]))
        return check(state)
    return judged


def watch(system, props, exhaustive: bool) -> tuple[list, Watch]:
    """``props`` with every guarded invariant's check also watching for its
    guarded event, and the :class:`Watch` they fill.  Nothing is watched
    when the engine is not exhaustive (``exhaustive`` false: smt,
    simulation), nor a ``predecessor`` guard when ghost happens-before is
    not kept (the write table would not show predecessors)."""
    names = frozenset(p.name for p in props if p.name in GUARDS and exhaustive
                      and (system.ghost or not GUARDS[p.name].predecessor))
    w = Watch(names, set(), {n: 0 for n in names})
    out = [replace(p, check=_watched(p.name, p.check, GUARDS[p.name], guarded_ops(system, GUARDS[p.name]), w))
           if p.name in names else p for p in props]
    return out, w


def reason(system, name: str, w: Watch) -> str | None:
    """Why ``name``'s ``holds`` is vacuous, in one phrase, or ``None`` when
    a guarded event was seen (or ``name`` was not watched: not known)."""
    if name not in w.names or name in w.seen:
        return None
    g = GUARDS[name]
    ops = guarded_ops(system, g)
    what = {"unique": "insert", "stock": "sell"}.get(g.check)
    if not ops and g.offline:
        return f"no op is issued offline ([faults] offline names none), so nothing {name} guards can happen"
    if not ops:
        return f"the workload has no {what or 'op'}, so nothing {name} guards can happen"
    ids = ", ".join(system.ops[i].id for i in ops)
    if g.predecessor:
        return (f"no committed write had a happens-before predecessor in any explored run ({ids}: each was"
                " concurrent with every other, or rejected)")
    rejected = w.rejected.get(name, 0)
    every = all((rejected >> i) & 1 for i in ops)
    how = "each rejected at its leader" if every else "each rejected at its leader or never committed"
    plural = {"sale": "sales", "insert": "inserts", "write": "writes", "op issued offline": "ops issued offline"}[g.noun]
    return f"no {g.noun} was accepted in any explored run ({len(ops)} {plural}: {ids}; {how})"
