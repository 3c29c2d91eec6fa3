"""The one small interface every conformance target implements
(docs/conformance.md "Targets").

A *target* is a real product running several nodes, one per model leader.
The conformance runner (:mod:`checks.conform.run`) drives it step by step
through a schedule the model can take and compares, after every step, what
each node shows with what the model's leader shows for the same prefix.

Links are *held* unless delivered: a node's changes reach another node only
inside :meth:`Target.deliver`, which hands over everything pending on that
link (its whole FIFO queue) and returns once the receiver has applied it.
This is why only the model's runs in which every delivery takes a link's
whole queue are executable on a target (docs/conformance.md "Which model
runs a target can execute").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from replcheck.model.errors import ReplcheckError

#: SQL's write statements, as conformance maps the model's ops onto them
#: (docs/model.md §8): ``insert`` fails locally on an existing row,
#: ``update`` changes nothing on a missing row, ``upsert`` is
#: ``INSERT ... ON CONFLICT DO UPDATE``, ``delete`` removes the row if any.
SQL_KINDS = ("insert", "update", "upsert", "delete")


class TargetUnavailable(ReplcheckError):
    """The product cannot be started or reached here (packages missing,
    running as root without an unprivileged user, a server that does not
    answer within its bound).  Exit code 3: nothing was compared."""

    exit_code = 3


@dataclass(frozen=True)
class TargetOp:
    """One client statement at one node.

    ``key`` is the model key (the row's primary key), ``value`` the text
    written (``None`` for a delete)."""

    label: str          # the model op's id, e.g. "alice"
    kind: str           # one of SQL_KINDS
    key: str
    value: str | None


@dataclass(frozen=True)
class Committed:
    """What a client was told: ``rows`` changed (0 for an UPDATE or DELETE
    that matched nothing, or an INSERT refused by a duplicate key, then
    ``error`` holds the product's message); ``commit_ts_ms`` the commit
    timestamp the node recorded, in ms on the node's own clock (offsets
    included), when the product exposes it."""

    rows: int
    error: str | None = None
    commit_ts_ms: float | None = None


@dataclass(frozen=True)
class Setup:
    """How to start a target for one spec.

    ``leaders`` are the model's leader names (node i runs leader i);
    ``links`` the directed links ``(src, dst)`` of the topology;
    ``mode`` the product's conflict setting taken from the resolver preset
    (pglogical: ``apply_remote``, ``keep_local``, ``last_update_wins``,
    ``first_update_wins``; pycrdt: ``""``); ``offsets_ms`` each leader's
    clock offset (the spec's ``offsets``), applied with libfaketime where
    the target supports it; ``keys`` every model key a schedule writes."""

    leaders: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    mode: str = ""
    offsets_ms: dict = field(default_factory=dict)
    keys: tuple[str, ...] = ()


class Target(Protocol):
    """A running product.  Every method raises :class:`TargetUnavailable`
    (never hangs: each wait has a bound) when the product stops answering."""

    #: shown in reports, e.g. "PostgreSQL 15.18 + pglogical 2.4.2"
    name: str

    def start(self, setup: Setup) -> None:
        """Start (or connect to) one node per leader, create the row table,
        and wire the links, all held."""

    def reset(self) -> None:
        """Back to empty nodes with nothing pending on any link, for the
        next schedule (cheaper than a restart where the product allows)."""

    def commit(self, leader: str, op: TargetOp) -> Committed:
        """Run ``op`` as one transaction at ``leader``'s node."""

    def deliver(self, src: str, dst: str) -> None:
        """Hand everything ``src`` has pending for ``dst`` to ``dst`` and
        return once ``dst`` has applied it; the link is held again after."""

    def read(self, leader: str) -> dict:
        """``{key: value}`` of the rows ``leader``'s node shows now (a
        missing or deleted row is absent; a type with siblings maps the key
        to a sorted tuple of values)."""

    def log(self, leader: str) -> list[str]:
        """The product's conflict log lines at ``leader``'s node since the
        last call (pglogical: its ``CONFLICT: ...`` server log lines)."""

    def stop(self) -> None:
        """Stop every node this target started and remove its files."""
