"""The specs, drills and queries that ship with replcheck, wherever it is
installed.

In a source checkout they are the repository's ``specs/`` and ``queries/``
folders; in an installed wheel they are package data of ``replcheck.specs``
and ``replcheck.queries`` (read with :mod:`importlib.resources`).  A path a
user gives that does not exist but starts with ``specs/`` or ``queries/``
names the bundled copy, so every command of the README works from any
directory (docs/api.md, "Bundled specs").
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

ROOTS = ("specs", "queries")


def root(name: str) -> Path:
    """The folder of bundled ``specs`` or ``queries``."""
    return Path(str(files(f"replcheck.{name}").joinpath("")))


def locate(path) -> Path:
    """``path`` itself when it exists (or names nothing bundled); else the
    bundled file or folder it names, e.g. ``specs/seed/alice-bob-lww.toml``."""
    p = Path(path)
    if p.exists() or p.is_absolute() or not p.parts or p.parts[0] not in ROOTS:
        return p
    try:
        candidate = root(p.parts[0]).joinpath(*p.parts[1:])
    except (ModuleNotFoundError, TypeError):   # pragma: no cover - a broken install
        return p
    return candidate if candidate.exists() else p
