"""A command's whole-run time budget (``--total-seconds``).

``--max-seconds`` and ``[bounds] max_seconds`` bound *one run*: one spec
under one resolver and topology.  The commands that make many runs —
``check`` over several specs or ``--resolver all``, ``matrix``, ``drill
solve`` — would otherwise take the number of runs times that bound (35
resolvers x 10 s).  A :class:`Budget` bounds the command: each run's
``max_seconds`` is clamped to what is left, and once nothing is left the
runs not started are reported ``incomplete (total_seconds)``, never
checked and never counted as holding (docs/engine.md "Bounds").
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: The bound a run reports when the command's budget cut it or kept it from starting.
TOTAL = "total_seconds"


@dataclass(frozen=True)
class Budget:
    """The end of a command's time (``None``: no budget)."""

    seconds: float | None = None
    deadline: float | None = None

    @classmethod
    def start(cls, seconds: float | None) -> "Budget":
        return cls(seconds, None if seconds is None else time.monotonic() + seconds)

    def left(self) -> float | None:
        """Seconds left (``None``: unbounded; never below 0)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    @property
    def spent(self) -> bool:
        """Nothing is left: runs not started must not start."""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def bound(self, spec):
        """``spec`` with ``max_seconds`` no later than the budget's end."""
        left = self.left()
        if left is None:
            return spec
        own = spec.bounds.max_seconds
        return spec if own is not None and own <= left else spec.with_bounds(max_seconds=max(left, 0.001))

    def why(self) -> str:
        return f"{TOTAL} ({self.seconds:g} s for the whole command)"
