"""What every key data type provides, and the register behaviour they share.

A key's *data type* (a register under some resolver, a counter, a set, ...)
is one object per key of a compiled system.  It owns the key's *content*
inside a leader's state (small ints and tuples only) and answers four
questions:

``stamp(op, ts, past, content, writes)``
    what the write-table entry of a commit is (called once per commit, at
    the committing leader, with that leader's content for the key): the
    plain ``(ts, past)``; ``(ts, past, data)`` when the effect of the op is
    decided at commit (the number a read-modify-write wrote, the cart a
    union write carries, the escrow entry a decrement raises, the version a
    write was based on); or :func:`rejected_entry` when a local check
    refuses the op (escrow: not enough rights);
``apply(content, w, writes, local)``
    the content after write ``w`` is applied (the hot path: pure, fast,
    idempotent when ``w`` is applied twice for registers and CRDTs);
``visible(content, writes)``
    what a reader sees: a hashable value two leaders can compare;
``losses(system, state, k, live, reached)``
    which acknowledged writes are not *reflected* (docs/model.md §5).

The write table (``st.writes(state)``, model/state.py) holds per op ``None`` (not yet run), an
accepted entry ``(ts, hb[, data])`` or a rejected entry
``(ts, 0, REJECTED)``; ``data`` is a non-negative int or a tuple, so the
``REJECTED`` marker (-1) is unambiguous.  Issue 4's local checks (unique
email, stock) reuse the same marker: a rejected op is done (its leader moves
on), not acknowledged, never replicated, and in nobody's causal past.
"""

from __future__ import annotations

from dataclasses import dataclass

from replcheck.model import state as st
from replcheck.model.state import HB, DATA

REJECTED = -1

# Read-modify-write op kinds on a register: the commit reads the value shown.
RMW = ("incr", "decr")

# Anomaly names (docs/model.md §6) used by losses().
LOST_UPDATE = "lost-update"
CAUSALLY_LATER = "causally-later-write-lost"
RESURRECTED = "resurrected-delete"
DOUBLE_COUNTED = "double-counted"


def rejected_entry(ts) -> tuple:
    """The write-table entry of an op refused by a local check."""
    return (ts, 0, REJECTED)


def is_rejected(meta) -> bool:
    """True when a write-table entry is a rejection (not acknowledged)."""
    return meta is not None and len(meta) > DATA and meta[DATA] == REJECTED


def is_accepted(meta) -> bool:
    """True when a write-table entry is an acknowledged write."""
    return meta is not None and not is_rejected(meta)


def reached_at_live(key_ops, state, k, live, reached):
    """Each acknowledged write to key ``k`` that reached a live leader,
    paired with every live leader: yields ``(w, entry, leader, content)``,
    ``content`` being that leader's content of ``k`` (the candidates of
    the no-lost-writes rule for types judged write by write)."""
    writes = st.writes(state)
    for w in key_ops:
        meta = writes[w]
        if meta is None or is_rejected(meta) or not (reached >> w) & 1:
            continue
        for l in live:
            yield w, meta, l, st.content(state, l, k)


@dataclass(frozen=True)
class View:
    """What a reader sees of a non-register key (a count, a set, a
    CouchDB winner with its conflicts): ``data`` is compared, ``text``
    shown."""

    data: tuple
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Loss:
    """One write not reflected at one live leader.

    ``culprits`` are the write indices responsible (the winners, the
    sibling that brought an element back), ``anomaly`` a docs/model.md §6 name.
    """

    leader: int
    write: int
    culprits: tuple[int, ...]
    anomaly: str
    detail: str = ""


class DataType:
    """Default behaviour: a register whose content is the sorted tuple of the
    write indices held (one winner, or siblings)."""

    family = "register"
    holds_writes = True      # content is a tuple of write indices
    # Remote applies at one leader are order-independent (a join, or a
    # total order): partial-order reduction may rely on it.
    commutes = False
    # Whether apply() treats the leader's own writes differently (``local``).
    reads_local = True
    # Whether content and metadata name only writes and causal pasts, never
    # leaders, so renaming interchangeable leaders maps runs to runs
    # (model/symmetry.py).
    renaming_safe = False
    # Whether a failover may move the key's home (docs/model.md "Failover of
    # home leaders"): the type compares or keeps writes committed at two
    # homes by its own rule.  Registers (lww, mv-register, the presets) do;
    # counters, sets, tables and Y.Map keys are refused (model/system.py).
    fails_over = False

    def __init__(self, ctx=None):
        self.ctx = ctx

    # -- content
    def initial(self):
        return ()

    def stamp(self, op, ts, past, content, writes):
        return (ts, past)

    def stamp_reads_content(self, op) -> bool:
        """Whether :meth:`stamp` of ``op`` reads the committing leader's
        content (a read-modify-write, a local check, a sibling context).
        Conservatively true; a type that stamps from the clock alone says
        so, which lets the engine drop a busy leader's content as dead
        (docs/reductions.md)."""
        return True

    def apply(self, content, w, writes, local):  # pragma: no cover - abstract
        raise NotImplementedError

    def merge(self, a, b, writes):
        """State-based merge of two contents of this key (for the law tests
        and the symbolic engine): ``a`` is local, ``b`` remote."""
        for w in b:
            a = self.apply(a, w, writes, False)
        return a

    # -- observation
    def visible(self, content, writes):
        ctx = self.ctx
        vals = sorted({ctx.value_of(w, writes) for w in content})
        if not vals and ctx.initial_vid is not None:
            return (ctx.initial_vid,)
        if vals == [0]:
            return ()
        return tuple(vals)

    def shown_never_rises(self) -> bool:
        """True when the number a leader shows for this key can only stay or
        fall as the leader applies more writes, whatever their order (so
        ``stock-non-negative`` may be judged at quiescent states only:
        docs/reductions.md "Every-state invariants judged at quiescence").
        Default: not known (a register's shown value can rise: LWW replaces
        a low value by a higher one)."""
        return False

    def outcome(self, before, after, w, writes) -> str | None:
        """The trace outcome for non-register types (``None``: use the
        register logic of :meth:`model.system.System.describe`)."""
        return None

    def check_judgeable(self, source: str, invariant: str) -> None:
        """Raise a SpecError when ``invariant`` cannot judge this key."""

    # -- no-lost-writes
    def reflected(self, content, writes):
        """The writes a leader's ``content`` reflects, for :meth:`losses`:
        the writes held (a register's content), unless the type's view
        shows fewer (a Y.Map key shows only its last integrated item)."""
        return content

    def losses(self, system, state, k, live, reached):
        """Register rule (docs/model.md §5): a committed write ``w`` that reached a
        live leader is lost at live leader ``L`` when ``L`` does not hold it
        (as value or sibling) and no write to the key causally follows it.
        It is *causally later* when ``L`` applied ``w`` and a write that
        happens-before ``w`` is what ``L`` holds instead (its timestamp lost);
        a ``w`` that never reached ``L`` (a crash on its only path) lost no
        comparison, whatever ``L`` holds: it is not causally later
        (checks/invariants.py then names it ``unreplicated-write-lost``)."""
        writes = st.writes(state)
        committed = 0
        superseded = 0
        mask = system.key_mask[k]
        for i in range(system.nops):
            if (mask >> i) & 1:
                meta = writes[i]
                if meta is not None and not is_rejected(meta):
                    committed |= 1 << i
                    superseded |= meta[HB]
        candidates = committed & ~superseded & reached
        out = []
        if not candidates:
            return out
        reflected = self.reflected
        for l in live:
            applied = st.applied(state, l)
            held = tuple(reflected(st.content(state, l, k), writes))
            held_mask = 0
            for h in held:
                held_mask |= 1 << h
            lost = candidates & ~held_mask
            w = 0
            while lost:
                if lost & 1:
                    hb = writes[w][HB]
                    later = (applied >> w) & 1 and any((hb >> h) & 1 for h in held)
                    out.append(Loss(l, w, tuple(held), CAUSALLY_LATER if later else LOST_UPDATE))
                lost >>= 1
                w += 1
        return out

