"""The catalogue of conflict resolvers.

A register resolver decides what a leader keeps for one key when a write is
applied there, locally (its own commit) or remotely (a replication message).
It is a pure function over *contents*: the sorted tuple of write indices the
leader currently holds for the key (one write for a winner-takes-all
resolver, several for siblings).  Timestamps and ghost happens-before come
from the state's write table, never from the resolver's own memory.

Each resolver module states its meaning, the metadata it reads, its
tie-break and its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from model.resolvers import lww, mv_register


@dataclass(frozen=True)
class ResolverInfo:
    """A catalogue entry: how to build the resolver and what it means."""

    name: str
    summary: str
    source: str
    build: Callable  # (ops, config) -> resolver with .apply(content, w, writes, local)
    uses_clock: bool


RESOLVERS: dict[str, ResolverInfo] = {
    "lww": ResolverInfo("lww", lww.SUMMARY, lww.SOURCE, lww.build, True),
    "mv-register": ResolverInfo("mv-register", mv_register.SUMMARY, mv_register.SOURCE, mv_register.build, False),
}
