"""Multi-value register (siblings).

Meaning: a write replaces exactly the values it has seen (those that
happen-before it, by version vector); concurrent writes are all kept as
siblings for the application or a later write to merge.  Nothing is lost;
a reader may see several values.

Metadata: the write's version vector.  The model keeps it as the write's
ghost happens-before set (the writes applied at its leader when it
committed); with per-leader program order that set *is* the version
vector (entry ``L`` = how many of ``L``'s writes it contains).

Tie-break: none needed; siblings are a set.

Deletes: a tombstone is a sibling like any other value (neither wins: the
reader sees "(deleted)" beside the concurrent values and decides).

Manual resolution: a ``resolve = "v"`` op at a leader reads the siblings
that leader holds and writes ``v`` superseding exactly those (its version
vector covers them); a write concurrent with the resolution survives as a
new sibling.

Sources: DeCandia et al., "Dynamo", SOSP 2007 (§4.4 data versioning);
Shapiro et al., "A comprehensive study of CRDTs", INRIA RR-7506, 2011
(MV-register); Riak ``allow_mult=true``; CouchDB ``_conflicts``; docs/model.md §4.
"""

from __future__ import annotations

from replcheck.model.resolvers.base import DataType
from replcheck.model.state import HB

SUMMARY = "multi-value register: keep concurrent writes as siblings; a write replaces the siblings it has seen"
SOURCE = "Dynamo (SOSP 2007) §4.4; Shapiro et al. INRIA RR-7506 (MV-register); Riak allow_mult"


class MVRegister(DataType):
    """``commutes``: the merge is a join (keep the maximal writes under
    happens-before), so applying remote writes in any order gives the same
    siblings."""

    __slots__ = ()
    commutes = True
    renaming_safe = True   # siblings and version vectors name writes, not leaders
    fails_over = True      # writes from an old and a new home that did not see each other are siblings
    # apply() never looks at ``local``: a leader's own write is joined like a
    # remote one (at commit its version vector covers every sibling held, so
    # it replaces them all), which lets rebuilt contents be shared and alike
    # leaders be judged once (docs/reductions.md "mv-register").
    reads_local = False

    def stamp_reads_content(self, op) -> bool:
        """False: a commit's entry is its timestamp and the leader's causal
        past (``DataType.stamp``; a ``resolve`` supersedes exactly the
        siblings held because the past covers them), never the siblings
        themselves, so a busy leader's content is dead under por
        (docs/reductions.md "mv-register").  A local check in front of the
        type (``insert`` on CouchDB) says so itself (``Checked``)."""
        return False

    def apply(self, content: tuple, w: int, writes, local: bool) -> tuple:
        if w in content:
            return content
        for s in content:
            if (writes[s][HB] >> w) & 1:
                return content  # w was already superseded by a sibling that saw it
        hb = writes[w][HB]
        keep = tuple(s for s in content if not (hb >> s) & 1)
        return tuple(sorted(keep + (w,)))

    def merge(self, a, b, writes):
        """Join of two sibling sets: keep every write no write of the other
        side has seen."""
        both = set(a) | set(b)
        return tuple(sorted(s for s in both if not any((writes[t][HB] >> s) & 1 for t in both)))


def build(ctx) -> MVRegister:
    return MVRegister(ctx)
