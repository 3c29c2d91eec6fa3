"""Local checks: operations that commit only if the committing leader's own
view allows them (docs/model.md §2: "accepted (or rejected by a local check:
unique email taken, not enough stock)").

Four workload ops carry a check (and an observed delete, below); each is
spelled as the plain op it becomes when the check passes, plus the check
(``upsert`` is ``set`` spelled as SQL spells it, with no check;
docs/model.md §8):

``insert = "v"``
    an INSERT of the row at the key (the key is the row's primary key, e.g.
    ``users/alice@example.com``): commits only if the leader shows no row
    there, else it is rejected — the local ``UNIQUE`` / primary-key check
    of a SQL database.  On a ``users`` table (:mod:`model.resolvers.users`)
    the check is the table's: no user with the same email.  Becomes
    ``set = "v"``.
``update = "v"``
    an SQL UPDATE of the row at the key: commits only if the leader shows
    a row there; else it matches 0 rows and is refused (nothing changes,
    nothing is replicated).  Becomes ``set = "v"``.
``sell = n``
    commits only if the stock the leader shows is ``>= n``, else rejected
    (an application's ``UPDATE ... WHERE stock >= n``).  Becomes
    ``decr = n``: a read-modify-write on a register (lww: the value read
    minus n), a decrement on a PN-counter, a rights-checked decrement on an
    escrow counter (whose own check is stricter: *local rights* cover n).
``restock = n``
    adds n; never refused.  Becomes ``incr = n``.
``delete = true`` with ``if_version = "observed"``
    an observed delete (:mod:`model.resolvers.observed_delete`): it must
    read the version it removes, so it commits only if the leader shows a
    value there (check ``observed``; refused like an UPDATE that matches 0
    rows).  Stays ``delete``.

A refused op gets the write table's rejection entry
(:func:`model.resolvers.base.rejected_entry`): done, not acknowledged,
never replicated, in nobody's causal past — exactly like an escrow
decrement without rights.  The check reads only the committing leader's
content of the key: two leaders can both pass it for the same email or the
same last item, which is the anomaly the application invariants
(``email-unique``, ``stock-non-negative``) exist to catch.

Sources: DDIA ch. 5 "Multi-leader replication" (uniqueness constraints
and overselling cannot be enforced by local checks alone) and ch. 7
(write skew); Bailis et al., VLDB 2015 (I-confluence of uniqueness and
non-negative balances).
"""

from __future__ import annotations

from replcheck.model.resolvers.base import View, rejected_entry

# op key -> (plain op kind it becomes, check name)
CHECKED_OPS = {"insert": ("set", "unique"), "update": ("set", "exists"), "upsert": ("set", ""),
               "sell": ("decr", "stock"), "restock": ("incr", "restock")}

REASONS = {
    "unique": "the row already exists there (local UNIQUE check)",
    "stock": "the stock its leader shows is too low (local check: stock >= amount)",
    "exists": "no row there: an SQL UPDATE matches 0 rows",
    "observed": "its leader shows no value, so an observed delete has no version to remove",
}
# Checks that can refuse an op at commit (restock never refuses).
REFUSING = ("unique", "stock", "exists", "observed")


def translate(o: dict) -> tuple[dict, str]:
    """``(op table as its plain kind, check)`` for one workload op table;
    ``check`` is ``""`` for an op without a local check (pure)."""
    from replcheck.model.resolvers.config import OP_KINDS
    given = [k for k in (*OP_KINDS, *CHECKED_OPS) if k in o]
    if len(given) > 1:
        return {}, ""          # parse_op reports "give exactly one of ..."
    for name, (kind, check) in CHECKED_OPS.items():
        if name in o:
            rest = {k: v for k, v in o.items() if k != name}
            rest[kind] = o[name]
            return rest, check
    return o, ""


def shown_number(dtype, content, writes) -> int:
    """The number a reader at a leader sees for a numeric key (a counter's
    value, or a register's value read as an integer; absent = 0)."""
    vis = dtype.visible(content, writes)
    if isinstance(vis, View):
        return int(vis.data[0]) if vis.data else 0
    if not vis:
        return 0
    return dtype.ctx.number(vis[0])


def shows_row(dtype, content, writes) -> bool:
    """Does a reader at the leader see a row at the key (the primary-key
    check of ``insert``)?  A register shows ``()`` for no row (absent or
    deleted); a type whose view is a :class:`View` (CouchDB's winner, a
    custom merge) shows no row when the view's ``data`` is empty — the
    View object itself is always truthy, so it must not be tested as a
    boolean (docs/drills/README.md "Local checks")."""
    vis = dtype.visible(content, writes)
    if isinstance(vis, View):
        return bool(vis.data)
    return bool(vis)


class Checked:
    """A key's data type with the local checks of its ops in front of
    ``stamp``; everything else is the wrapped type's."""

    def __init__(self, inner, checks: dict):
        self.inner = inner
        self.checks = checks   # op index -> check name
        # Stock checks the type's own commit rule already implies (escrow
        # without transfers or restocks: Escrow.implies_stock_check): they
        # never refuse what the type accepts, so they are not evaluated and
        # read no content (docs/reductions.md "A `sell` on escrow").
        implied = getattr(inner, "implies_stock_check", None)
        self.implied = frozenset(i for i, c in checks.items() if c == "stock") \
            if implied is not None and implied() else frozenset()

    # The checks read what the leader shows, and a renaming could move them.
    renaming_safe = False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def stamp_reads_content(self, op) -> bool:
        return (op.index in self.checks and op.index not in self.implied) or self.inner.stamp_reads_content(op)

    def refuses(self, op, content, writes) -> bool:
        """Does the committing leader's view of the key refuse ``op``?"""
        if op.index in self.implied:
            return False    # the type's own stamp refuses whatever this would
        check = self.checks.get(op.index)
        if check == "unique":
            own = getattr(self.inner, "unique_conflict", None)
            if own is not None:
                return own(op, content, writes)
            return shows_row(self.inner, content, writes)
        if check == "stock":
            return shown_number(self.inner, content, writes) < op.amount
        if check in ("exists", "observed"):
            return not shows_row(self.inner, content, writes)
        return False

    def stamp(self, op, ts, past, content, writes):
        if self.refuses(op, content, writes):
            return rejected_entry(ts)
        return self.inner.stamp(op, ts, past, content, writes)

    def reject_reason(self, i: int) -> str:
        """Why op ``i`` can be refused, in words for a trace."""
        own = getattr(self.inner, "reject_reason", None)
        if own is not None and self.checks.get(i) != "stock":
            why = own(i)
            if why:
                return why
        if hasattr(self.inner, "rights0"):   # escrow: a sale needs local rights, not only visible stock
            return "its leader's local rights (escrow) do not cover it"
        return REASONS.get(self.checks.get(i), "a local check refuses it")


def with_checks(dtype, ctx):
    """``dtype`` guarded by the local checks of its key's ops (the type
    itself when none of them has one)."""
    checks = {}
    for i in ctx.key_ops:
        c = ctx.spec.workload[i].check if i < len(ctx.spec.workload) else ""
        if c in REFUSING:
            checks[i] = c
    if not checks:
        return dtype
    return Checked(dtype, checks)


def check_of(spec, i: int) -> str:
    """The local check of workload op ``i`` (``""`` for none)."""
    return getattr(spec.workload[i], "check", "")
