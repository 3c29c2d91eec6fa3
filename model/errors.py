"""One error hierarchy for replcheck.

Every error a user can cause (a malformed spec, an unknown resolver, a trace
that does not fit its spec) is a :class:`ReplcheckError`.  Its ``str`` is a
single line naming the file, the key and a fix, in the form

    specs/x.toml: system.resolver: unknown 'lvw'; did you mean 'lww'? (replcheck list resolvers)

so that the CLI can print it verbatim and exit 2, never a traceback.

A message quotes what the user wrote (a leader name, an op id, a value), and
those strings may hold any character TOML can carry: a newline, ESC and the
rest of an ANSI/OSC escape sequence, a bidi override.  ``str(error)`` shows
each such character as a Python escape (:func:`one_line`), so a quoted name
reads ``'a\\nb'`` and the message stays one line that a terminal prints as
text (docs/spec-format.md "Errors").
"""

from __future__ import annotations

import difflib
import re

# Characters a terminal or a line-oriented reader acts on instead of showing:
# C0 controls and DEL and C1 controls (Unicode category Cc: ESC starts ANSI
# CSI/OSC sequences, BEL ends OSC 8 hyperlinks, CR rewrites a line, U+009B is
# an 8-bit CSI), the line and paragraph separators (Zl, Zp), the bidi
# embedding/override/isolate marks ("Trojan Source", CVE-2021-42574) and
# lone surrogates.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(m: re.Match) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def one_line(text: str) -> str:
    """``text`` with every control, line-separator and bidi character
    (:data:`UNSAFE`) shown as its Python escape (``\\n``, ``\\x1b``,
    ``\\u202e``), as ``repr`` writes it; everything else, non-ASCII letters
    included, unchanged.  The result is one line with nothing a terminal
    interprets.

    >>> one_line("a\\nb\\x1b[31m")
    'a\\\\nb\\\\x1b[31m'
    """
    text = str(text)
    return UNSAFE.sub(_shown, text) if UNSAFE.search(text) else text


class ReplcheckError(Exception):
    """Base class of every error replcheck reports to a user.

    ``str(error)`` is one line: the user's values it quotes have their
    control characters escaped (:func:`one_line`)."""

    def __str__(self) -> str:
        return one_line(super().__str__())


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

    def __reduce__(self):
        # Rebuilt from its three parts, so it crosses a process boundary (a swarm
        # worker's failing merge, a Ray task): pickle's default would call
        # SpecError(one_string) and the pool would die on a TypeError instead.
        return (type(self), (self.source, self.key, self.message))


class TraceError(ReplcheckError):
    """A saved trace cannot be replayed against its spec."""


def did_you_mean(word: str, choices) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""
