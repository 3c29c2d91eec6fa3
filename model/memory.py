"""Memory as a bound (issue 14): how much the process holds, the default
limit, and ``--max-memory`` sizes.

The engines (:mod:`model.search`) read the resident set size every 1024
expanded states — one read of ``/proc/self/statm``, a few microseconds —
and stop with the cut ``max_memory`` once it passes the limit, keeping what
they found (docs/engine.md, "Memory").  Without ``--max-memory`` the limit
is 75% of the memory available when the run started (``MemAvailable`` in
``/proc/meminfo``, else ``os.sysconf``), so a default run ends with an
honest ``incomplete (max_memory)`` instead of a ``MemoryError`` or the
machine swapping.
"""

from __future__ import annotations

import os
import re

DEFAULT_FRACTION = 0.75
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def parse_size(text: str) -> int:
    """``4G``, ``512M``, ``1.5G``, ``800000000`` (bytes; K/M/G/T are powers
    of 1024, an optional trailing ``B``/``iB``) → bytes.  ``ValueError``
    with a readable reason otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", str(text).upper())
    if not m:
        raise ValueError(f"'{text}' is not a size; write e.g. 4G, 512M or a number of bytes")
    n = int(float(m.group(1)) * _UNITS[m.group(2)])
    if n <= 0:
        raise ValueError(f"'{text}' is not a positive size")
    return n


def show_size(n: int) -> str:
    """``1.5 GiB``, ``300 MiB``: a size for messages."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return f"{n} B"


def rss() -> int:
    """The resident set size of this process, in bytes (0 when unknown)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
        import sys
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except (ImportError, OSError, ValueError):
        return 0


def available() -> int | None:
    """The memory the machine has available now, in bytes, or ``None``."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * _PAGE
    except (ValueError, OSError, AttributeError):
        return None


_default: list = []


def default_limit() -> int | None:
    """The limit when none is given: what this process holds now plus 75%
    of what the machine has available (measured once per process), or
    ``None`` when neither can be read."""
    if not _default:
        free = available()
        _default.append(None if free is None else rss() + int(free * DEFAULT_FRACTION))
    return _default[0]


def limit_of(bounds) -> int | None:
    """The memory limit of ``bounds`` (``max_memory``, else the default)."""
    given = getattr(bounds, "max_memory", None)
    return given if given is not None else default_limit()


class Watch:
    """``over()`` is true once the resident set passes ``limit`` (cheap
    enough to call every 1024 states; always false without a limit)."""

    __slots__ = ("limit",)

    def __init__(self, limit: int | None):
        self.limit = limit

    def over(self) -> bool:
        return self.limit is not None and rss() > self.limit
