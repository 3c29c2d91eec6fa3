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

Sources: DeCandia et al., "Dynamo", SOSP 2007 (§4.4 data versioning);
Shapiro et al., "A comprehensive study of CRDTs", INRIA RR-7506, 2011
(MV-register); Riak ``allow_mult=true``; CouchDB ``_conflicts``; MODEL.md §4.
"""

from __future__ import annotations

SUMMARY = "multi-value register: keep concurrent writes as siblings; a write replaces the siblings it has seen"
SOURCE = "Dynamo (SOSP 2007) §4.4; Shapiro et al. INRIA RR-7506 (MV-register); Riak allow_mult"


class MVRegister:
    __slots__ = ()

    def apply(self, content: tuple, w: int, writes, local: bool) -> tuple:
        if w in content:
            return content
        for s in content:
            if (writes[s][1] >> w) & 1:
                return content  # w was already superseded by a sibling that saw it
        hb = writes[w][1]
        keep = tuple(s for s in content if not (hb >> s) & 1)
        return tuple(sorted(keep + (w,)))


def build(ops, config) -> MVRegister:
    return MVRegister()
