"""Measuring and wrapping text for SVG, where nothing wraps by itself.

An SVG ``<text>`` is one line however long it is, and a standalone file
has no layout engine to ask how wide a string is.  So the slides renderer
(checks/render_svg.py) estimates widths from a table of advance widths and
breaks lines itself, never cutting text off: a word wider than the line is
split between characters.

The table is, per printable ASCII character, the wider of DejaVu Sans (the
first font the SVG names, Debian's default sans) and Liberation Sans (the
metrics of Arial and Helvetica, the usual fallbacks), measured in chromium
at 1000 px; every other character counts as wide as the widest Latin
capitals (1.1 em, 1.25 em bold), East Asian wide and full-width characters
and emoji as 1.25 em, combining marks as nothing.  An estimate can only err
towards wider, so a line drawn in any of those fonts fits where it was
placed.  Pure functions; the same text always gives the same lines.
"""

from __future__ import annotations

import unicodedata

FONT_FAMILY = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif"

# Advance widths in thousandths of an em for the characters ' ' (32) to '~' (126).
_NORMAL = (318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636,
           636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 556, 1015, 684, 686, 722, 770, 667, 611, 778, 752, 295,
           500, 667, 557, 863, 748, 787, 667, 787, 722, 667, 611, 732, 684, 989, 685, 667, 685, 390, 337, 390, 838,
           556, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521,
           392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838)
_BOLD = (348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696,
         696, 696, 696, 696, 400, 400, 838, 838, 838, 611, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 556, 775,
         637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 556, 500, 675,
         716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924,
         645, 652, 582, 712, 365, 712, 838)
_OTHER = (1100, 1250)    # any other character: normal, bold
_WIDE = 1250             # East Asian wide / full-width, emoji
_MARGIN = 1.02           # rounding, kerning, hinting


def _char(c: str, bold: bool) -> int:
    o = ord(c)
    if 32 <= o < 127:
        return (_BOLD if bold else _NORMAL)[o - 32]
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(c) in ("W", "F"):
        return _WIDE
    return _OTHER[bold]


def width(text: str, size: float, bold: bool = False) -> float:
    """The estimated width in px of ``text`` (shown text: no control
    characters) at ``size`` px; never less than any of the named fonts draws."""
    return sum(_char(c, bold) for c in text) * size * _MARGIN / 1000


_BREAK_AFTER = "-/._,:;)]}"   # where a name or a path may break when it has no space


def _split_word(word: str, room: float, size: float, bold: bool) -> tuple[str, str]:
    """The longest head of ``word`` that fits ``room``, cut after a hyphen,
    slash, dot, ... when one fits (``us-east-`` / ``1``), else between any
    two characters; at least one character, so every call makes progress."""
    units, i = 0, 0   # thousandths of an em, summed as width() sums them
    while i < len(word):
        units += _char(word[i], bold)
        if i and units * size * _MARGIN / 1000 > room:
            break
        i += 1
    if i < len(word):
        cut = max(word.rfind(c, 0, i) for c in _BREAK_AFTER) + 1
        if cut > 0:
            i = cut
    return word[:i], word[i:]


def wrap(text: str, max_width: float, size: float, bold: bool = False,
         first_width: float | None = None) -> tuple[str, ...]:
    """``text`` broken into lines no wider than ``max_width`` px (the first
    line ``first_width`` when given, e.g. beside a badge): greedy at spaces,
    a word wider than a whole line split between characters.  Every
    character of ``text`` is on some line but for the single spaces where a
    line was broken.  At least one line ("" for an empty text)."""
    lines: list[str] = []
    cur = ""
    room = max_width if first_width is None else first_width
    for word in text.split(" "):
        candidate = word if not cur else f"{cur} {word}"
        if width(candidate, size, bold) <= room or (not cur and not word):
            cur = candidate
            continue
        if cur:
            lines.append(cur)
            room = max_width
        while width(word, size, bold) > room:
            head, word = _split_word(word, room, size, bold)
            lines.append(head)
            room = max_width
        cur = word
    lines.append(cur)
    return tuple(lines)
