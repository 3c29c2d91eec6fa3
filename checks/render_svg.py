"""Slides: a counterexample as a standalone SVG sequence diagram, 16:9.

Each page is a 1600 x 900 SVG document drawn here (no Mermaid, no script,
no stylesheet: presentation attributes only, so slide tools that import
SVG draw it as a browser does).  One vertical lane per leader, left; a
commit is a dot on its leader's lane, a replication delivery an arrow from
sender to receiver (crossed when the delivered write loses, dashed when it
changes nothing or is lost in transit), a fault or repair a diamond; the
step's full label is in the column right of the lanes, on the same row,
wrapped to the column (checks/wrap.py), never cut.  The lost write's row is
red and badged ``LOST WRITE``, the culprits' amber; a last row names the
violation.  Leaders that no event of the trace involves get no lane (a
footnote names them).

A trace that does not fit one page continues on the next, each page with
the same header, lanes and legend and a page number (docs/rendering.md
"SVG and PNG"): :func:`pages` returns them; :func:`stacked` puts them in
one document, one below the other (what ``--format svg`` prints on
stdout); with ``-o`` each page is a file of its own (:func:`page_paths`).

Every text from the spec goes through :func:`checks.escape.svg_text`.
Pure: the same report gives the same bytes (no times, no ids).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from replcheck.checks import escape as esc
from replcheck.checks.explain import Counterexample, Explained
from replcheck.checks.render_markdown import MESSAGE_KINDS, ROLE_LABEL, _outcome, _what, delivery_label
from replcheck.checks.render_text import system_line
from replcheck.checks.verdict import HOLDS, INCOMPLETE, VIOLATED, Report
from replcheck.checks.wrap import FONT_FAMILY, width, wrap

W, H = 1600, 900          # a page: 16:9
M = 48                    # margin
GAP = 24                  # between stacked pages
LH = 1.3                  # line height, in font sizes
BASE = 0.95               # baseline below a line's top, in font sizes (the glyphs stay inside the line)
TITLE, SUB, META, HEAD, LABEL, FOOT = 40, 28, 20, 24, 24, 16   # font sizes, px (24 px: 18 pt on a 1080p slide)
HEAD_SIZES = (HEAD, 20, 17)      # smaller for long leader names
LANE_MAX, LANES_MAX = 170, 680   # px between lanes; px for all lanes
ROW_MIN, ROW_PAD = 48, 14
BADGE_PAD = 10

INK, GREY, LANE_INK = "#1f2937", "#475569", "#94a3b8"
RED, AMBER, VIOLET, GREEN = "#dc2626", "#d97706", "#7c3aed", "#15803d"
DARK_RED, DARK_AMBER = "#b91c1c", "#a16207"
ROW_FILL = {"lost": "#fee2e2", "culprit": "#fef3c7", "end": "#fee2e2"}   # else zebra: every other row
ZEBRA = "#f8fafc"
BADGE_FILL = {"lost": RED, "culprit": AMBER, "end": DARK_RED, HOLDS: GREEN, INCOMPLETE: DARK_AMBER,
              VIOLATED: DARK_RED}


@dataclass(frozen=True)
class Page:
    """One slide: a standalone SVG document and its size in px."""

    svg: str
    width: int
    height: int


class _Block(NamedTuple):
    """Lines of the header in one style."""

    size: int
    bold: bool
    colour: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Row:
    """One row of the body, its label already wrapped: a step (``frame``
    set), the violation (``role`` ``end``) or a verdict; ``role`` picks the
    row's tint and the badge's colour (:data:`ROW_FILL`, :data:`BADGE_FILL`)."""

    lines: tuple[str, ...]
    height: float
    badge: str = ""
    role: str | None = None
    frame: object = None
    number: str = ""


@dataclass(frozen=True)
class _Sheet:
    """A counterexample's (or a report's) layout: what every page of it
    repeats, and its rows split into pages."""

    header: tuple[_Block, ...]   # page 1
    more: tuple[_Block, ...]     # the following pages: title and verdict only
    lanes: tuple[str, ...]
    lane_x: tuple[float, ...]
    heads: tuple[tuple[str, ...], ...]
    head_size: int
    heads_height: float
    text_x: float
    number_width: float          # the step numbers' column, left of the labels
    notes: tuple[str, ...]
    pages: tuple[tuple[_Row, ...], ...]
    cx: Counterexample | None = None


# ------------------------------------------------------------------ text
def _text(x: float, top: float, size: int, line: str, bold: bool = False, fill: str = INK, anchor: str = "") -> str:
    """One line of shown text whose line box starts at ``top``."""
    weight = ' font-weight="bold"' if bold else ""
    anchor = f' text-anchor="{anchor}"' if anchor else ""
    return (f'<text x="{x:g}" y="{top + BASE * size:g}" font-size="{size}"{weight} fill="{fill}"{anchor}>'
            f"{esc.svg_text(line)}</text>")


def _lines(x: float, top: float, size: int, lines, bold: bool = False, fill: str = INK) -> list[str]:
    return [_text(x, top + i * size * LH, size, line, bold, fill) for i, line in enumerate(lines)]


def _badge_width(label: str) -> float:
    return width(label, LABEL - 4, True) + 2 * BADGE_PAD


def _badge(x: float, top: float, label: str, fill: str) -> list[str]:
    w = _badge_width(label)
    return [f'<rect x="{x:g}" y="{top + 1:g}" width="{w:g}" height="{LABEL * LH - 2:g}" rx="6" fill="{fill}"/>',
            _text(x + BADGE_PAD, top + 2, LABEL - 4, label, True, "#ffffff")]


# ------------------------------------------------------------------ labels
def step_label(cx: Counterexample, f) -> str:
    """A step as the Mermaid diagram of the Markdown labels it
    (docs/rendering.md "Markdown"), without its number, e.g. ``bob: "B"
    (ts 10) overwrites concurrent alice``; faults and repairs by the
    trace's sentence."""
    ev = f.step.event
    if ev.kind == "commit":
        label = f"{_what(cx, ev)} committed"
        if ev.outcome not in ("applied", "merged"):
            label += f", {_outcome(ev)}"
        return label
    if ev.kind not in MESSAGE_KINDS:
        return f.step.text
    if ev.kind == "lose":
        return f"{_what(cx, ev)} lost in transit, resent later"
    return delivery_label(cx, ev)


def _row(text: str, column: float, badge: str = "", role: str | None = None, frame=None) -> _Row:
    shown = esc.svg_shown(text)
    first = column - _badge_width(badge) - 10 if badge else None
    lines = wrap(shown, column, LABEL, first_width=first)
    return _Row(lines, max(ROW_MIN, len(lines) * LABEL * LH + ROW_PAD), badge, role, frame,
                f"{frame.index}." if frame is not None else "")


def _minimised_note(cx: Counterexample) -> str:
    m = cx.minimized
    n = len(cx.steps)
    if m is None:
        return f"the engine's trace, {n} steps (not minimised)"
    if m.stopped:
        return f"minimisation stopped at its time budget: {n} of {m.original_length} steps shown"
    if not m.dropped:
        return f"minimised: all {n} steps are needed"
    return f"minimised: {n} of {m.original_length} steps needed"


# ------------------------------------------------------------------ layout
def _header(title: str, verdict: str, verdict_fill: str, lines: tuple[str, ...]):
    """What the pages of a sheet start with: title, verdict and context on
    the first; title and verdict on the others (more room for the rows)."""
    span = W - 2 * M
    more = (_Block(TITLE, True, INK, wrap(esc.svg_shown(title), span, TITLE, True)),
            _Block(SUB, True, verdict_fill, wrap(esc.svg_shown(verdict), span, SUB, True)))
    first = more + tuple(_Block(META, False, GREY, wrap(esc.svg_shown(x), span, META)) for x in lines if x)
    return first, more


def _height(header) -> float:
    return sum(len(b.lines) * b.size * LH for b in header) + 8 * (len(header) - 1)


def _fill(rows: list[_Row], first: float, room: float) -> tuple[tuple[_Row, ...], ...]:
    """Rows in order, as many per page as fit (``first`` px on the first
    page, ``room`` on the others), at least one each."""
    pages, page, used = [], [], 0.0
    for r in rows:
        if page and used + r.height > (room if pages else first):
            pages.append(tuple(page))
            page, used = [], 0.0
        page.append(r)
        used += r.height
    pages.append(tuple(page))
    return tuple(pages)


def _paginate(rows: list[_Row], first: float, room: float) -> tuple[tuple[_Row, ...], ...]:
    """As few pages as :func:`_fill` needs, the rows spread evenly over
    them (no last page with one step): the least height per page, in 4 px
    steps, that still gives that many pages."""
    pages = _fill(rows, first, room)
    cap = sum(r.height for r in rows) / len(pages)
    while len(pages) > 1 and cap < room:
        even = _fill(rows, min(first, cap), cap)
        if len(even) <= len(pages):
            return even
        cap += 4
    return pages


def _named(name: str, text: str) -> bool:
    """Does ``text`` name ``name`` as a word of its own (not inside another name)?"""
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text) is not None


def _lanes(cx: Counterexample) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(leaders shown, leaders folded): a leader gets a lane when some
    event of the trace happens at it or comes from it, or when the
    violation names it ("... never reached ap-south": nothing happening
    there is the point); the others are folded into a footnote."""
    involved = {n for f in cx.steps for n in (f.step.event.leader, f.step.event.src) if n}
    involved |= {n for n in cx.facts.leaders if _named(n, cx.message)}
    shown = tuple(l for l in cx.facts.leaders if l in involved) or tuple(cx.facts.leaders)
    return shown, tuple(l for l in cx.facts.leaders if l not in shown)


def _footer_height(notes: tuple[str, ...]) -> float:
    return 30 + len(notes) * FOOT * LH


def _body_top(header_height: float, heads_height: float) -> float:
    return M + header_height + 20 + heads_height + 12


def _room(header, heads_height: float, notes) -> float:
    """Px left for rows on a 900 px page under ``header``."""
    return H - M / 2 - _footer_height(notes) - _body_top(_height(header), heads_height) - 8


def _heads(names, room: float) -> tuple[int, tuple[tuple[str, ...], ...]]:
    """The leaders' names wrapped into their lane heads, at the largest
    size (24, 20 or 17 px) at which none takes more than two lines."""
    for size in HEAD_SIZES:
        heads = tuple(wrap(esc.svg_shown(n), room, size, True) for n in names)
        if max(len(h) for h in heads) <= 2 or size == HEAD_SIZES[-1]:
            return size, heads


def _sheet_of(cx: Counterexample) -> _Sheet:
    report = cx.report
    header, more = _header(report.spec.name, f"{cx.invariant} violated: {cx.anomaly}", DARK_RED,
                           (f"{cx.anomaly} means {cx.meaning}." if cx.meaning else "", system_line(report)))
    shown, folded = _lanes(cx)
    k = len(shown)
    step = min(LANE_MAX, LANES_MAX / k)
    lane_x = tuple(M + step * (i + 0.5) for i in range(k))
    head_size, heads = _heads(shown, step - 24)
    heads_h = max(len(h) for h in heads) * head_size * LH + 12
    text_x = M + step * k + 28
    number_width = width(f"{len(cx.steps)}.", LABEL) + 10
    column = W - M - text_x - number_width
    rows = [_row(step_label(cx, f), column, ROLE_LABEL[f.role] if f.role else "", f.role, f) for f in cx.steps]
    rows.append(_row(f"{cx.invariant}: {cx.message}", column, "VIOLATED", "end"))
    notes = [f"{report.spec.source} - {_minimised_note(cx)}"]
    if folded:
        notes.append(f"not shown: {', '.join(folded)} (no event of this trace happens at or comes from "
                     f"{'it' if len(folded) == 1 else 'them'}, and the violation does not name "
                     f"{'it' if len(folded) == 1 else 'them'})")
    notes_lines = tuple(line for n in notes for line in wrap(esc.svg_shown(n), W - 2 * M, FOOT))
    return _Sheet(header, more, shown, lane_x, heads, head_size, heads_h, text_x, number_width, notes_lines,
                  _paginate(rows, _room(header, heads_h, notes_lines), _room(more, heads_h, notes_lines)), cx)


def _sheet_of_verdicts(report: Report) -> _Sheet:
    """A report with no counterexample to draw: its verdicts, one row each."""
    violated = [r for r in report.results if r.verdict == VIOLATED]
    incomplete = [r for r in report.results if r.verdict == INCOMPLETE]
    summary = ("some invariants are violated" if violated else "incomplete: a bound cut the search"
               if incomplete else "every invariant holds")
    fill = DARK_RED if violated else DARK_AMBER if incomplete else GREEN
    header, more = _header(report.spec.name, summary, fill, (report.spec.description, system_line(report)))
    column = W - 2 * M
    rows = []
    for r in report.results:
        detail = f" (search cut by {r.bound})" if r.verdict == INCOMPLETE else f": {r.anomaly}" if r.anomaly else ""
        badge = "VIOLATED" if r.verdict == VIOLATED else r.verdict.value
        rows.append(_row(f"{r.invariant}{detail}", column, badge, r.verdict.value))
    notes = tuple(wrap(esc.svg_shown(report.spec.source), W - 2 * M, FOOT))
    return _Sheet(header, more, (), (), (), HEAD, 0, M, 0, notes,
                  _paginate(rows, _room(header, 0, notes), _room(more, 0, notes)))


# ------------------------------------------------------------------ drawing
def _arrow(x1: float, x2: float, y: float, dashed: bool, crossed: bool, colour: str = "#334155") -> list[str]:
    d = 1 if x2 > x1 else -1
    end = x2 - d * 12
    dash = ' stroke-dasharray="9,7"' if dashed else ""
    out = [f'<line x1="{x1:g}" y1="{y:g}" x2="{end:g}" y2="{y:g}" stroke="{colour}" stroke-width="3"{dash}/>']
    if crossed:
        c = x2 - d * 6
        out.append(f'<path d="M{c - 8:g},{y - 8:g} L{c + 8:g},{y + 8:g} M{c - 8:g},{y + 8:g} L{c + 8:g},{y - 8:g}"'
                   f' stroke="{RED}" stroke-width="4" fill="none"/>')
    else:
        out.append(f'<path d="M{x2:g},{y:g} L{x2 - d * 16:g},{y - 8:g} L{x2 - d * 16:g},{y + 8:g} z"'
                   f' fill="{colour}"/>')
    return out


def _diamond(x: float, y: float) -> str:
    return f'<path d="M{x:g},{y - 11:g} L{x + 11:g},{y:g} L{x:g},{y + 11:g} L{x - 11:g},{y:g} z" fill="{VIOLET}"/>'


def _glyph(sheet: _Sheet, f, y: float) -> list[str]:
    """What a step draws on the lanes at height ``y``."""
    x = dict(zip(sheet.lanes, sheet.lane_x))
    ev = f.step.event
    at = x[ev.leader]
    if ev.kind == "commit":
        colour = {"lost": RED, "culprit": AMBER}.get(f.role, "#334155")
        return [f'<circle cx="{at:g}" cy="{y:g}" r="10" fill="{colour}" stroke="#ffffff" stroke-width="3"/>']
    if ev.kind not in MESSAGE_KINDS:
        lanes = [at] + ([x[ev.src]] if ev.src else [])
        out = []
        if len(lanes) == 2:
            out.append(f'<line x1="{lanes[0]:g}" y1="{y:g}" x2="{lanes[1]:g}" y2="{y:g}" stroke="{VIOLET}"'
                       ' stroke-width="2" stroke-dasharray="3,5"/>')
        return out + [_diamond(lx, y) for lx in lanes]
    dashed = ev.kind == "lose" or ev.outcome in ("duplicate", "dropped")
    return _arrow(x[ev.src], at, y, dashed, ev.outcome in ("discarded", "dropped"))


def _legend(y: float) -> list[str]:
    """The glyphs, named: what a newcomer needs to read the lanes."""
    out, x = [], M
    items = (("commit", "a write committed"), ("arrow", "delivered"), ("cross", "delivered write loses"),
             ("dash", "no change / lost in transit"), ("fault", "fault or repair"))
    for kind, name in items:
        if kind == "commit":
            out.append(f'<circle cx="{x + 10:g}" cy="{y:g}" r="7" fill="#334155"/>')
            x += 26
        elif kind == "fault":
            out.append(f'<path d="M{x + 10:g},{y - 8:g} L{x + 18:g},{y:g} L{x + 10:g},{y + 8:g} L{x + 2:g},{y:g} z"'
                       f' fill="{VIOLET}"/>')
            x += 26
        else:
            out += [s.replace('stroke-width="3"', 'stroke-width="2"')
                    for s in _arrow(x, x + 44, y, kind == "dash", kind == "cross")]
            x += 54
        out.append(_text(x, y - FOOT * LH / 2, FOOT, name, fill=GREY))
        x += width(name, FOOT) + 28
    return out


def _draw(sheet: _Sheet, rows: tuple[_Row, ...], first: bool, number: int, total: int) -> Page:
    out: list[str] = []
    header = sheet.header if first else sheet.more
    top = M
    for b in header:
        out += _lines(M, top, b.size, b.lines, b.bold, b.colour)
        top += len(b.lines) * b.size * LH + 8
    heads_top = M + _height(header) + 20
    body_top = _body_top(_height(header), sheet.heads_height)
    body_bottom = body_top + sum(r.height for r in rows)
    footer = _footer_height(sheet.notes)
    height = max(H, int(body_bottom + 8 + footer + M / 2 + 0.999))
    # Rows: background, lanes over it, then glyphs and labels.
    y = body_top
    for i, r in enumerate(rows):
        fill = ROW_FILL.get(r.role) or (ZEBRA if i % 2 == 0 else None)
        if fill:
            out.append(f'<rect x="{M - 16:g}" y="{y:g}" width="{W - 2 * M + 32:g}" height="{r.height:g}" rx="6"'
                       f' fill="{fill}"/>')
        y += r.height
    if sheet.lanes:
        step = sheet.lane_x[1] - sheet.lane_x[0] if len(sheet.lane_x) > 1 else LANE_MAX
        for name, x, head in zip(sheet.lanes, sheet.lane_x, sheet.heads):
            out.append(f'<line x1="{x:g}" y1="{heads_top + sheet.heads_height:g}" x2="{x:g}" y2="{body_bottom:g}"'
                       f' stroke="{LANE_INK}" stroke-width="2"/>')
            out.append(f'<rect x="{x - step / 2 + 8:g}" y="{heads_top:g}" width="{step - 16:g}"'
                       f' height="{sheet.heads_height:g}" rx="8" fill="#e0e7ff" stroke="#6366f1" stroke-width="2"/>')
            for j, line in enumerate(head):
                out.append(_text(x, heads_top + 6 + j * sheet.head_size * LH, sheet.head_size, line, True,
                                 anchor="middle"))
    y = body_top
    for r in rows:
        mid = y + r.height / 2
        if r.frame is not None:
            out += _glyph(sheet, r.frame, mid)
        elif r.role == "end" and sheet.lanes:
            lo, hi = sheet.lane_x[0], sheet.lane_x[-1]
            out.append(f'<rect x="{lo - 14:g}" y="{mid - 7:g}" width="{hi - lo + 28:g}" height="14" rx="7"'
                       f' fill="{RED}"/>')
        text_top = mid - len(r.lines) * LABEL * LH / 2
        if r.number:
            out.append(_text(sheet.text_x + sheet.number_width - 10, text_top, LABEL, r.number, anchor="end"))
        x = sheet.text_x + sheet.number_width
        if r.badge:
            out += _badge(x, text_top, r.badge, BADGE_FILL[r.role])
            out.append(_text(x + _badge_width(r.badge) + 10, text_top, LABEL, r.lines[0]))
            out += _lines(x, text_top + LABEL * LH, LABEL, r.lines[1:])
        else:
            out += _lines(x, text_top, LABEL, r.lines)
        y += r.height
    # Footer: legend and page number, then the notes.
    legend_y = height - M / 2 - len(sheet.notes) * FOOT * LH - 18
    if sheet.lanes:
        out += _legend(legend_y)
    out.append(_text(W - M, legend_y - FOOT * LH / 2, FOOT, f"page {number} of {total}", fill=GREY, anchor="end"))
    out += _lines(M, height - M / 2 - len(sheet.notes) * FOOT * LH, FOOT, sheet.notes, fill=GREY)
    title = sheet.header[0]
    what = (f"{sheet.cx.report.spec.name}: {sheet.cx.invariant} violated ({sheet.cx.anomaly})" if sheet.cx
            else " ".join(title.lines))
    head = [f'<title>{esc.svg_text(what)} - page {number} of {total}</title>',
            f'<rect width="{W}" height="{height}" fill="#ffffff"/>']
    return Page("\n".join(head + out), W, height)


def _document(body: str, w: int, h: int) -> str:
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"'
        f' font-family="{FONT_FAMILY}" xml:space="preserve" role="img">',
        body, "</svg>", ""])


# ------------------------------------------------------------------ the pages
def _sheets(explained, invariants=None) -> list[_Sheet]:
    sheets = []
    for ex in explained:
        cxs = ex.only(invariants)
        sheets += [_sheet_of(cx) for cx in cxs] if cxs else [_sheet_of_verdicts(ex.report)]
    return sheets


def pages(explained, invariants=None) -> tuple[Page, ...]:
    """Every explained report's counterexamples (only ``invariants`` when given, as
    ``explain`` asks), each over as many pages as it needs; a report with
    no counterexample as one page of verdicts.  Each page a standalone SVG
    document; pages are numbered across all of them."""
    sheets = _sheets(explained, invariants)
    total = sum(len(s.pages) for s in sheets)
    drawn, n = [], 0
    for s in sheets:
        for i, rows in enumerate(s.pages):
            n += 1
            p = _draw(s, rows, i == 0, n, total)
            drawn.append(Page(_document(p.svg, p.width, p.height), p.width, p.height))
    return tuple(drawn)


def _body(page: Page) -> str:
    """A page's document without its XML declaration and root element."""
    lines = page.svg.split("\n")
    return "\n".join(lines[2:-2])


def stacked(pages_: tuple[Page, ...]) -> str:
    """All pages in one SVG document, one below the other with a grey gap
    (what ``--format svg`` writes without ``-o``)."""
    if len(pages_) == 1:
        return pages_[0].svg
    w = max(p.width for p in pages_)
    h = sum(p.height for p in pages_) + GAP * (len(pages_) - 1)
    parts, y = [f'<rect width="{w}" height="{h}" fill="#cbd5e1"/>'], 0
    for p in pages_:
        parts.append(f'<svg x="0" y="{y}" width="{p.width}" height="{p.height}" viewBox="0 0 {p.width} {p.height}">')
        parts.append(_body(p))
        parts.append("</svg>")
        y += p.height + GAP
    return _document("\n".join(parts), w, h)


def render(ex: Explained, invariants=None) -> str:
    """One explained report as one SVG document (its pages stacked)."""
    return stacked(pages([ex], invariants))


def render_many(explained) -> str:
    """Several explained reports as one SVG document (every page stacked)."""
    return stacked(pages(explained))


def page_paths(output: str, n: int) -> tuple[str, ...]:
    """Where ``-o output`` puts ``n`` pages: ``output`` itself for one
    page; else ``trace-1.svg``, ``trace-2.svg``, ... beside it for
    ``-o trace.svg`` (the number before the suffix)."""
    if n == 1:
        return (str(output),)
    p = Path(output)
    return tuple(str(p.with_name(f"{p.stem}-{i}{p.suffix}")) for i in range(1, n + 1))
