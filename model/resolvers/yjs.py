"""Y.Map as pycrdt runs it (yrs, the Rust port of Yjs): one key of a map.

Meaning.  Every ``set`` of a key creates a new *item* whose *origin* is the
item the setting document held for the key (the key's current item,
deleted or not; none for the first set it saw).  The items of one key form
a list ordered by YATA; the key's value is the **last** item of that list,
and the key is absent when that item is deleted.  A ``delete`` marks the
document's current item deleted (a delete-set entry: it creates no item,
and does nothing when the current item is already deleted or there is
none).  A set also deletes its origin when it was live (the new current
value deletes its left neighbour).

YATA with map items (right origin always null) orders the list as a tree
walked depth-first: an item sits after its origin, and of items with the
same origin the one from the **higher client id** comes later, after the
whole subtree of the lower one.  Hence:

- two concurrent sets from the same base: the higher client id wins;
- a set made after seeing another (its origin is at or after it) always
  wins over it, whatever the client ids;
- it is not last-writer-wins by Lamport time: a set made after seeing A
  still loses to a set B concurrent with it when B is a later sibling of
  A's ancestor (B from a higher client id on the same base as A);
- a delete concurrent with a set: the delete hides the key only if the item
  it deleted stays last.  A set over the deleted item (it had seen what the
  delete saw) lands after it and wins; a set on an older base can land
  before it and lose — a set can lose to a delete it never saw;
- a delete of an absent key deletes nothing: it is not a tombstone that
  competes with later-arriving sets;
- an update whose origin item has not arrived is kept **pending**,
  invisible, and integrated when it arrives; a delete whose item has not
  arrived is kept pending the same way and applied when it does.

yrs vs Yjs (JavaScript).  yrs integrates an item as soon as its origin is
there, even when earlier items of the same client are missing (it fills
the hole with a Skip block: yrs ``Update::integrate``, "Block was send out
of order ... it's still safe to integrate"); JavaScript Yjs keeps such an
update pending until the client's earlier updates arrive
(``integrateStructs``: "update from the same client is missing").  The two
differ only when a client's update arrives while an earlier one of its own
is missing or pending (e.g. held for a missing origin); this entry follows
yrs, which is what pycrdt runs.  It is the reason one entry covers several
keys exactly: in yrs an item depends only on items of its own key (the
root map is always there), so keys never hold each other back.

Client ids: the leader's rank in sorted leader names, plus one (the leader
whose name sorts last has the highest id); ``checks/conform/targets/yjs.py``
gives each pycrdt ``Doc`` that client id, so the model and the product
break ties the same way.

The model replays the integration literally (yrs ``block.rs``
``Item::resolve_conflict``, Yjs ``Item.integrate``): content is ``(order,
received)`` — the integrated set items of the key in list order and the
bitmask of writes received (integrated or pending).  Pending items and
pending deletes are the received writes whose item (origin, or the item to
delete) is not integrated; deleted items are the targets of received
delete-set entries.  Content depends only on the set of writes received
(YATA converges), so remote applies commute.

A Y.Map starts empty: ``initial`` is refused; so is failover (like every
non-``Register`` type).

Merge laws (``replcheck smt laws yjs-map``): a document's state is its set
of items and its delete set, both grow-only and merged by union, and the
value is a function of that state — the ``two-sets`` shape (the 2P-set's
algebra, not its meaning).

Sources: yrs ``yrs/src/block.rs`` (``Item::resolve_conflict``,
``TransactionMut::integrate_item``), ``yrs/src/update.rs``
(``Update::integrate``, ``missing_dependency``), ``yrs/src/transaction.rs``
(``apply_update``: pending updates and delete sets), ``yrs/src/types/map.rs``
(``insert``: origin = the key's current item), ``yrs/src/branch.rs``
(``remove``); Yjs ``src/structs/Item.js`` (``integrate``, ``getMissing``),
``src/utils/encoding.js`` (``integrateStructs``); docs.rs ``yrs::Map``
("concurrent updates made by different peers are resolved into a single
value using document id seniority"); Nicolaescu et al., "Near Real-Time
Peer-to-Peer Shared Editing on Extensible Data Types", GROUP 2016 (YATA).
Checked against pycrdt 0.14.13 on every run of small specs
(tests/checks/conform/test_yjs_target.py).
"""

from __future__ import annotations

from replcheck.model.errors import SpecError
from replcheck.model.resolvers.base import DataType
from replcheck.model.state import DATA

SUMMARY = ("Y.Map (Yjs/yrs, pycrdt): the last item in YATA order wins — a set after seeing another wins,"
           " concurrent sets from one base: the higher client id; a delete hides the item it deleted;"
           " updates missing a dependency stay pending")
SOURCE = "Yjs Item.js integrate/getMissing; yrs block.rs resolve_conflict, transaction.rs apply_update"

NONE = 0   # "no item" in a write's data (items are stored as index + 1)


class YMapKey(DataType):
    """One Y.Map key; see the module docstring.

    A write's data (write-table entry ``(ts, past, data)``):
    ``(value id, origin + 1, deletes + 1)`` — the origin item of a set (0:
    none) and the item its delete-set entry marks deleted (0: none; a set's
    live origin, a delete's live current item).
    """

    holds_writes = False     # content is (order, received), not a tuple of held writes
    commutes = True          # content is a function of the writes received (YATA converges)
    reads_local = False      # a local commit integrates like a remote update
    uses_hb = False          # a write's dependency (its origin) is kept in its data

    def __init__(self, ctx):
        super().__init__(ctx)
        names = sorted(ctx.leaders)
        rank = tuple(names.index(x) for x in ctx.leaders)
        # The Yjs client id of each op's committer (no failover: the static home).
        self.client = tuple(rank[o] + 1 for o in ctx.origin)
        self.is_delete = ctx.is_delete

    # ------------------------------------------------------------ content
    def initial(self):
        return ((), 0)

    def stamp(self, op, ts, past, content, writes):
        order, recv = content
        last = order[-1] if order else -1
        live = last >= 0 and not self._deleted(last, recv, writes)
        target = last + 1 if live else NONE
        if op.kind == "delete":
            return (ts, past, (0, NONE, target))
        return (ts, past, (self.ctx.value_of(op.index, writes), last + 1, target))

    def stamp_reads_content(self, op) -> bool:
        return True

    def _deleted(self, item, recv, writes) -> bool:
        """Is integrated ``item`` marked deleted by a received delete-set
        entry (applied, since its target is integrated)?"""
        mark = item + 1
        w = 0
        while recv:
            if recv & 1 and writes[w][DATA][2] == mark:
                return True
            recv >>= 1
            w += 1
        return False

    def _ready(self, x, order, writes) -> bool:
        """Can set ``x`` be integrated into ``order``: is its origin there
        (yrs ``Update::missing_dependency``; a map item's right origin is
        null and its parent is the root map)?"""
        origin = writes[x][DATA][1]
        return not origin or origin - 1 in order

    def _place(self, order, x, writes):
        """``order`` with item ``x`` integrated: Yjs ``Item.integrate``'s
        conflict resolution with ``rightOrigin = null``."""
        origin = writes[x][DATA][1] - 1
        cx = self.client[x]
        if origin >= 0:
            left = order.index(origin)
            i = left + 1
        else:
            left = -1
            i = 0
        before: set = set()
        conflicting: set = set()
        n = len(order)
        while i < n:
            o = order[i]
            before.add(o)
            conflicting.add(o)
            oo = writes[o][DATA][1] - 1
            if oo == origin:
                if self.client[o] < cx:        # case 1: a lower client id goes first
                    left = i
                    conflicting.clear()
                else:                           # same (null) right origin: x goes before o
                    break
            elif oo >= 0 and oo in before:      # case 2: o is in the subtree of an item passed
                if oo not in conflicting:
                    left = i
                    conflicting.clear()
            else:
                break
            i += 1
        return order[:left + 1] + (x,) + order[left + 1:]

    def apply(self, content, w, writes, local):
        order, recv = content
        bit = 1 << w
        if recv & bit:
            return content
        recv |= bit
        if self.is_delete[w]:
            return (order, recv)
        # Integrate every received set whose dependencies are there, until none is.
        waiting = [x for x in self.ctx.key_ops if (recv >> x) & 1 and not self.is_delete[x] and x not in order]
        progress = True
        while waiting and progress:
            progress = False
            for x in waiting:
                if self._ready(x, order, writes):
                    order = self._place(order, x, writes)
                    waiting.remove(x)
                    progress = True
                    break
        return (order, recv)

    def merge(self, a, b, writes):
        recv = b[1]
        w = 0
        while recv:
            if recv & 1:
                a = self.apply(a, w, writes, False)
            recv >>= 1
            w += 1
        return a

    # -------------------------------------------------------- observation
    def visible(self, content, writes):
        order, recv = content
        if not order or self._deleted(order[-1], recv, writes):
            return ()
        return (self.ctx.value_of(order[-1], writes),)

    def held(self, content, writes) -> tuple[int, ...]:
        """The writes the reader's view reflects: the last item when live;
        when it is deleted, the received deletes that deleted it."""
        order, recv = content
        if not order:
            return ()
        last = order[-1]
        if not self._deleted(last, recv, writes):
            return (last,)
        return tuple(d for d in self.ctx.key_ops
                     if (recv >> d) & 1 and self.is_delete[d] and writes[d][DATA][2] == last + 1)

    def pending(self, content, writes) -> tuple[int, ...]:
        """Received writes not integrated (sets) or not applied (deletes
        whose item is missing)."""
        order, recv = content
        out = []
        for x in self.ctx.key_ops:
            if not (recv >> x) & 1:
                continue
            if self.is_delete[x]:
                t = writes[x][DATA][2]
                if t and t - 1 not in order:
                    out.append(x)
            elif x not in order:
                out.append(x)
        return tuple(out)

    def outcome(self, before, after, w, writes) -> str | None:
        """``applied`` (it shows, or a delete hid the current item),
        ``duplicate``, else a phrase the trace prints in parentheses."""
        order, recv = after
        if before[1] == recv:
            return "duplicate"
        if w in self.pending(after, writes):
            return "pending: an update it depends on has not arrived"
        last = order[-1] if order else -1
        if self.is_delete[w]:
            t = writes[w][DATA][2]
            if not t:
                return "nothing to delete: no change"
            return "applied" if last == t - 1 else "its item is no longer the current one: no change shown"
        return "applied" if last == w else "ordered before the current item (YATA): not shown"

    # ------------------------------------------------------ no-lost-writes
    def reflected(self, content, writes):
        """The register rule (docs/model.md §5, DataType.losses) with the
        writes the view reflects (:meth:`held`) as the held ones."""
        return self.held(content, writes)

def build(ctx) -> YMapKey:
    spec = ctx.spec
    if ctx.initial_vid is not None:
        raise SpecError(spec.source, f"keys.{ctx.key_name}.initial",
                        f"a {ctx.entry.name} key starts empty (a Y.Map has no initial rows); drop initial and"
                        " write the first value with a set op")
    return YMapKey(ctx)
