"""The anomalies a counterexample can show, each explained in one sentence.

The names are docs/model.md §6's; invariants report them in
:class:`~checks.invariants.Violation`.  Renderers put the sentence next to
the instance-specific message so a student learns the *kind* of failure,
not only this run of it.
"""

from __future__ import annotations

MEANINGS: dict[str, str] = {
    "lost-update": ("two leaders accepted concurrent writes to the same key, and the conflict resolver kept one"
                    " and silently threw the other away although its client had been told it succeeded"),
    "causally-later-write-lost": ("a write made after its author had seen an earlier one was thrown away in"
                                  " favour of that earlier write, because its timestamp ran behind (clock skew)"),
    "divergence": ("replication has finished, yet two leaders show different values for the same key, and"
                   " nothing will ever make them agree"),
    "resurrected-delete": ("a deleted value came back, because a concurrent or older write won over the"
                           " delete's tombstone"),
    "causality-violation": ("a leader shows a write without the writes it depends on, so a reader sees an"
                            " effect before its cause"),
    "duplicate-email": ("two leaders each accepted a value that must be unique, because each checked the"
                        " constraint only against what it had seen locally"),
    "oversell": ("leaders each granted from the same stock without seeing each other's grants, so more was"
                 " handed out than existed"),
    "negative-stock": ("leaders each accepted a sale their own view allowed, and once the sales were merged the"
                       " stock shown is below zero"),
    "replication-loop": ("a write keeps being forwarded around a cycle of the topology, so replication never"
                         " finishes"),
    "unavailable-offline": ("a client of a disconnected leader (a device offline) made a write that had to go"
                            " to a home leader elsewhere, so it could not be made at all: the design is"
                            " unavailable while offline"),
    "unreplicated-write-lost": ("a leader acknowledged a write and failed before replicating it, so the write"
                                " is gone although its client was told it succeeded"),
}

# Anomalies where one acknowledged write is the victim: the first culprit.
LOSSES = ("lost-update", "causally-later-write-lost", "resurrected-delete", "unreplicated-write-lost")


def meaning(anomaly: str | None) -> str:
    """One sentence saying what ``anomaly`` means in general (no trailing period).

    >>> meaning("replication-loop").startswith("a write keeps being forwarded")
    True
    """
    if not anomaly:
        return ""
    return MEANINGS.get(anomaly, f"the invariant was broken ({anomaly})")


def roles(anomaly: str | None, culprits) -> dict[str, str]:
    """Which op plays which part: ``{"alice": "lost", "bob": "culprit"}``.

    For a loss the first culprit is the victim (the lost write) and the
    others beat it; for any other anomaly every culprit is just a culprit.
    """
    out = {}
    for i, op in enumerate(culprits):
        out[op] = "lost" if i == 0 and anomaly in LOSSES else "culprit"
    return out
