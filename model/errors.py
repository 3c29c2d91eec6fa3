"""One error hierarchy for replcheck.

Every error a user can cause (a malformed spec, an unknown resolver, a trace
that does not fit its spec) is a :class:`ReplcheckError`.  Its ``str`` is a
single line naming the file, the key and a fix, in the form

    specs/x.toml: system.resolver: unknown 'lvw'; did you mean 'lww'? (replcheck list resolvers)

so that the CLI can print it verbatim and exit 2, never a traceback.
"""

from __future__ import annotations

import difflib


class ReplcheckError(Exception):
    """Base class of every error replcheck reports to a user."""


class SpecError(ReplcheckError):
    """A scenario spec is malformed or inconsistent.

    Parameters
    ----------
    source : str
        The file (or ``<string>``) the spec came from.
    key : str
        Dotted path of the offending key, e.g. ``system.resolver`` or
        ``workload[1].leader``.
    message : str
        What is wrong, followed by how to fix it.
    """

    def __init__(self, source: str, key: str, message: str):
        self.source = source
        self.key = key
        self.message = message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


class TraceError(ReplcheckError):
    """A saved trace cannot be replayed against its spec."""


def did_you_mean(word: str, choices) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""
