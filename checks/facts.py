"""What a report keeps of the compiled model: names and texts, no dynamics.

A :class:`~checks.verdict.Report` is plain data (issue 13 item 5,
docs/architecture.md "Results as data"): it holds these facts, not the live
:class:`~model.system.System`, so a report can be pickled, compared, sent
between processes and rendered without the model.  Everything here is read
off the compiled system once, when the report is made; a renderer reads
these fields and never steps the model.  Clock values are shown with
:func:`model.clocks.show` (docs/model.md §3), a pure function of the
clock kind and the timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from replcheck.checks.trace import op_kind, write_text
from replcheck.model import clocks
from replcheck.model.system import System


@dataclass(frozen=True)
class KeyType:
    """The catalogue entry (model/resolvers) that governs one key, as the
    report header names it: its name, whether it reads write timestamps
    (an LWW rank), and the tie-break it fixes (``fixed_tie_break``)."""

    name: str
    uses_clock: bool
    fixed_tie_break: bool
    tie_break_text: str


@dataclass(frozen=True)
class OpFacts:
    """One workload op as traces show it.

    ``kind`` is the workload kind as the spec wrote it (``set``, ``sell``,
    ``insert``...; checks/trace.py :func:`op_kind`); ``write`` what it
    writes as a trace shows it (``"v"``, ``(delete)``, ``+1``,
    ``transfer 1 to eu-west``: :func:`checks.trace.write_text`);
    ``operand`` its operand alone (the value, the amount, ``1 to
    eu-west``; ``""`` for a delete).
    """

    id: str
    kind: str
    write: str
    operand: str


@dataclass(frozen=True)
class Facts:
    """The compiled model's names, as a report keeps them."""

    leaders: tuple[str, ...]
    keys: tuple[str, ...]
    clock: str
    key_types: tuple[KeyType, ...]      # per key, in key order
    ops: tuple[OpFacts, ...]            # in op order
    _by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._by_id.update({o.id: o for o in self.ops})

    @property
    def n(self) -> int:
        return len(self.leaders)

    @property
    def reads_clock(self) -> bool:
        """Does any key's type read write timestamps (``uses_clock``)?"""
        return any(t.uses_clock for t in self.key_types)

    def op(self, op_id: str) -> OpFacts | None:
        """The op named ``op_id``, or ``None`` (a fault event names none)."""
        return self._by_id.get(op_id)

    def write(self, op_id: str) -> str:
        """What the op named ``op_id`` writes (``""`` for none)."""
        o = self._by_id.get(op_id)
        return o.write if o is not None else ""

    def show_ts(self, ts: tuple) -> str:
        """A timestamp as traces show it under this model's clock."""
        return clocks.show(self.clock, ts)


def facts(system: System) -> Facts:
    """The facts a report keeps of ``system`` (read once, here)."""
    ops = []
    for i, op in enumerate(system.ops):
        kind = op_kind(system, i)
        if op.value is not None:
            operand = op.value
        elif kind == "transfer":
            operand = f"{op.amount} to {system.leaders[op.target]}"
        else:
            operand = str(op.amount) if kind != "delete" else ""
        ops.append(OpFacts(op.id, kind, write_text(system, i), operand))
    key_types = tuple(KeyType(e.name, e.uses_clock, e.fixed_tie_break, e.tie_break_text)
                      for e in (t.ctx.entry for t in system.types))
    return Facts(tuple(system.leaders), tuple(system.keys), system.clock, key_types, tuple(ops))
