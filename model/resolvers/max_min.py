"""Max and min registers.

Meaning: ``max`` keeps the largest value ever written to the key, ``min``
the smallest, including at local commits (a max-register: a join
semi-lattice, so it converges under any delivery order).  A smaller write
after a larger one is discarded even when it causally follows it, and the
checker reports that (``causally-later-write-lost``).  Values compare as
numbers when every value of the key is a number, else by UTF-8 bytes.

Metadata: the value itself.

Tie-break: equal values are broken by leader name (the name sorting last
wins), so the order is total.

Deletes: ``update-wins``, fixed — a tombstone never beats a value.

Sources: GoldenGate ``USEMAX`` / ``USEMIN`` (docs.oracle.com, "Configuring
Conflict Detection and Resolution") with the value as its own resolution
column; Shapiro et al. INRIA RR-7506 (max register as a state-based CRDT);
docs/model.md §4.  The product's conflict-only variant is the
``goldengate-usemax`` / ``goldengate-usemin`` preset.
"""

from __future__ import annotations

from replcheck.model.resolvers.register import Register, value_rank

MAX = "max register: keep the largest value written (numbers numerically, else bytes); a delete never wins"
MIN = "min register: keep the smallest value written (numbers numerically, else bytes); a delete never wins"
SOURCE = "GoldenGate USEMAX/USEMIN; Shapiro et al. INRIA RR-7506"


def build_max(ctx):
    r = Register(ctx, rank=value_rank(ctx))
    r.commutes = True
    return r


def build_min(ctx):
    r = Register(ctx, rank=value_rank(ctx, tombstone_high=True), lower=True)
    r.commutes = True
    return r
