"""Escaping user text for each output language (docs/rendering.md "Escaping").

Spec names and descriptions, leader names, keys, values, op ids and file
paths all come from a user's TOML (or command line) and may hold any
character: ``<img src=x onerror=alert(1)>``, a Mermaid ``%%{init: ...}%%``
directive, ``|``, backticks, ``](javascript:...)``, ANSI/OSC escape
sequences, newlines, ``=cmd|' /C calc'!A0``.  Every renderer passes every
such text through one function of this module, chosen by the language it
writes; none of them builds its own escaping.  Each function treats its
whole argument as plain text: a renderer may pass a sentence it composed
around user values (a trace step, a violation message), since replcheck's
own wording uses no syntax of these languages.

===============  ==========================================================
``terminal``     text and error output: control characters shown as escapes
``md_text``      Markdown paragraph / heading / list text (CommonMark 2.4)
``md_cell``      a GFM table cell (``|`` escaped too)
``md_code``      an inline code span (CommonMark 6.1)
``md_fence``     a fenced code block (CommonMark 4.5)
``mermaid_text`` a Mermaid sequence-diagram message or note (entity codes)
``mermaid_alias`` a Mermaid participant's shown name
``html_text``    HTML text and attribute values
``svg_text``     SVG (XML 1.0) text and attribute values (``svg_shown``: the text it shows)
``csv_cell``     a CSV cell (OWASP CSV injection)
``json_text``    a JSON document written with ``ensure_ascii=False``
===============  ==========================================================
"""

from __future__ import annotations

import html
import re

from replcheck.model.errors import UNSAFE, one_line

__all__ = ["terminal", "md_text", "md_cell", "md_code", "md_fence", "mermaid_text", "mermaid_alias", "html_text",
           "svg_shown", "svg_text", "csv_cell", "json_text", "one_line", "UNSAFE"]


def terminal(text) -> str:
    """``text`` safe to print on a terminal, on one line.

    ECMA-48 terminals act on control characters rather than show them: ESC
    starts CSI sequences (``\\x1b[31m`` recolours, ``\\x1b[2J`` clears) and OSC
    sequences (``\\x1b]8;;URL\\x07`` makes a hyperlink, ``\\x1b]0;`` retitles
    the window), CR rewrites the line, U+009B is an 8-bit CSI.  Each such
    character, the line separators and the bidi overrides are shown as their
    Python escape (``\\x1b``, ``\\n``, ``\\u202e``; :func:`model.errors.one_line`),
    so ``\\x1b[31mred`` prints as the nine characters ``\\x1b[31mred``.
    """
    return one_line(text)


def terminal_lines(lines) -> str:
    """``lines`` joined for a terminal, each through :func:`terminal`: a
    line break inside one element (a name or value from the input) is
    shown as ``\\n``, never starts a new line of the report."""
    return "\n".join(terminal(line) for line in lines)


# CommonMark 0.31 §2.4: any ASCII punctuation may be backslash-escaped, and is
# then a literal character.  Escaped everywhere: the characters that open
# inline syntax — \ (an escape), ` (code span), * and _ (emphasis), [ and ]
# (links, images, reference definitions: with both escaped no user text can
# form "[x](javascript:...)"), < (raw HTML, autolinks: §6.6, §6.5), & (entity
# references, §2.5), | (GFM table cells), ~ (GFM strikethrough), # (ATX
# headings and their closing sequence, §4.2), $ (math on GitHub).  Not
# escaped: > ( ) - + = . ! : " ', which mean something only at the start of
# a line or after an unescaped [ or <.
_MD_INLINE = re.compile(r"[\\`*_\[\]<&|~#$]")
# At the start of a block (a list item's text): block quotes, list markers,
# setext underlines, thematic breaks (§4.1-4.3, §5.1-5.2).
_MD_BLOCK_START = re.compile(r"^([>+=-]|\d{1,9}(?=[.)]))")


def md_text(text, line_start: bool = False) -> str:
    """``text`` as literal Markdown inline text: a renderer such as
    markdown-it or GitHub's never turns it into HTML, a link, emphasis, code
    or a table column.

    Markdown-significant ASCII punctuation is backslash-escaped (CommonMark
    §2.4, "Backslash escapes"; see ``_MD_INLINE`` for which and why);
    control characters and newlines, which could end the paragraph and start
    any block (an HTML block, §4.6), are shown as ``\\n``/``\\x1b`` escapes
    (:func:`terminal`).  ``line_start``: the text begins a block (e.g. after
    ``- ``), so a leading ``>``, ``-``, ``+``, ``=`` or ``1.`` is escaped
    too.

    >>> md_text('<img src=x onerror=alert(1)>](javascript:alert(1))')
    '\\\\<img src=x onerror=alert(1)>\\\\](javascript:alert(1))'
    """
    out = _MD_INLINE.sub(lambda m: "\\" + m.group(), terminal(text))
    if line_start:
        m = _MD_BLOCK_START.match(out)
        if m:
            out = (out[:m.end()] + "\\" + out[m.end():]) if m.group()[0].isdigit() else "\\" + out
    return out


def md_cell(text) -> str:
    """``text`` in a GitHub-Flavored-Markdown table cell: :func:`md_text`,
    whose ``\\|`` keeps a pipe from splitting the cell (GFM spec, "Tables
    (extension)": the pipe is escaped even inside code spans)."""
    return md_text(text)


def _longest_backtick_run(text: str) -> int:
    return max((len(r) for r in re.findall(r"`+", text)), default=0)


def md_code(text) -> str:
    """``text`` as an inline code span, shown character for character.

    CommonMark §6.1: a code span opened by N backticks ends at the next run
    of exactly N, and one space is stripped from each end when both ends have
    one; so the fence is one longer than the longest backtick run inside, and
    a space pads the text when it begins or ends with a backtick or with
    spaces.  Nothing inside a code span is Markdown or HTML.  Control
    characters are shown as escapes.  Not for a table cell (use
    :func:`md_cell`: GFM splits cells at ``|`` even in code).
    """
    t = terminal(text)
    fence = "`" * (_longest_backtick_run(t) + 1)
    if t.startswith("`") or t.endswith("`") or (t.startswith(" ") and t.endswith(" ") and t.strip()):
        t = f" {t} "
    return f"{fence}{t}{fence}"


def md_fence(lines, info: str = "") -> list[str]:
    """``lines`` as a fenced code block (a list of lines, fences included).

    CommonMark §4.5: the block ends only at a line of at least as many
    backticks as the opening fence, so the fence is longer than any backtick
    run in the text (at least three); each line has its control characters
    shown as escapes, so no user newline can start a line of its own.
    """
    body = [terminal(x) for x in lines]
    fence = "`" * max(3, max((_longest_backtick_run(x) for x in body), default=0) + 1)
    return [fence + info, *body, fence]


# Mermaid sequence diagrams (mermaid.js.org/syntax/sequenceDiagram.html,
# "Entity codes to escape characters"): #NN; is the character with decimal
# code NN.  Escaped: ; and # and newlines (they end a message or note: the
# lexer takes the text after ':' up to one of them), % (a "%%" comment or a
# "%%{init: ...}%%" directive anywhere in the source reconfigures the whole
# diagram: theme, fetched fonts and CSS, hidden labels), $ ("$$...$$" is
# rendered as KaTeX math), < and > (HTML tags; "<br>" breaks the line).
# tests/checks/test_browser.py renders every printable ASCII character and these
# payloads with mermaid's own script and finds the text unchanged.
_MERMAID = {";": "#59;", "#": "#35;", "<": "#60;", ">": "#62;", "%": "#37;", "$": "#36;"}
_MERMAID_RE = re.compile("[;#<>%$]")


def mermaid_text(text) -> str:
    """``text`` safe in a Mermaid message or note: the characters Mermaid
    reads as syntax as its entity codes (``;`` ``#59;``, ``#`` ``#35;``,
    ``<`` ``#60;``, ``>`` ``#62;``, ``%`` ``#37;``, ``$`` ``#36;``), control
    characters and newlines shown as ``\\x1b`` / ``\\n`` escapes (a raw one
    ends the statement and silently truncates the diagram).

    >>> mermaid_text('%%{init: {"theme":"dark"}}%% a;b#c')
    '#37;#37;{init: {"theme":"dark"}}#37;#37; a#59;b#35;c'
    """
    return _MERMAID_RE.sub(lambda m: _MERMAID[m.group()], terminal(text))


def mermaid_alias(name) -> str:
    """A participant's shown name, for ``participant L0 as <alias>`` (the
    id ``L0`` is replcheck's own, so nothing the user wrote is parsed as an
    id or keyword): :func:`mermaid_text`, and ``:`` as ``#58;`` (an alias
    beginning ``wrap:`` or ``nowrap:`` is read as a directive); an empty or
    blank name is shown quoted (``#quot;#quot;``) rather than left empty."""
    alias = mermaid_text(name).replace(":", "#58;")
    return alias if alias.strip() else f"#quot;{alias}#quot;"


def html_text(text) -> str:
    """``text`` as HTML text or a quoted attribute value: ``& < > " '`` as
    character references (HTML Living Standard §13.1.4, ``html.escape``),
    control characters shown as ``\\x1b`` / ``\\n`` escapes."""
    return html.escape(terminal(text), quote=True)


# XML 1.0 §2.2 "Characters": a document may not contain the C0 controls other
# than tab, LF and CR, lone surrogates, U+FFFE or U+FFFF, not even as a
# character reference; a parser stops at the first one ("not well-formed").
# terminal() already shows every control character and surrogate as an
# escape; these two are the rest.
_XML_NONCHAR = re.compile("[\ufffe\uffff]")


def svg_shown(text) -> str:
    """The characters :func:`svg_text` shows for ``text``, before XML
    escaping: control characters, separators and bidi marks as ``\\n`` /
    ``\\x1b`` / ``\\u202e`` escapes (:func:`terminal`), and the XML
    non-characters U+FFFE / U+FFFF as ``\\ufffe`` / ``\\uffff``.  What an
    SVG renderer measures and wraps (checks/wrap.py) before escaping each
    line with :func:`svg_text`, which leaves shown text as it is."""
    t = terminal(text)
    return _XML_NONCHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", t) if _XML_NONCHAR.search(t) else t


def svg_text(text) -> str:
    """``text`` as SVG character data or a quoted attribute value in a
    standalone XML 1.0 document: :func:`svg_shown` (so the document stays
    well-formed whatever the spec holds), then ``& < > " '`` as character
    references (``&amp;`` ``&lt;`` ``&gt;`` ``&quot;`` ``&#x27;``), so no
    user text opens an element, a CDATA section, a comment, an entity or a
    processing instruction, or ends an attribute.

    >>> svg_text('<script>a&b</script>\\x1b')
    '&lt;script&gt;a&amp;b&lt;/script&gt;\\\\x1b'
    """
    return html.escape(svg_shown(text), quote=True)


# OWASP, "CSV Injection": a spreadsheet reads a cell starting with one of
# these as a formula (=, +, -, @, tab, CR, LF; the full-width forms too).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value):
    """A CSV cell that no spreadsheet evaluates (OWASP "CSV Injection").

    A text whose first (non-blank) character is ``=``, ``+``, ``-``, ``@``,
    tab, CR or LF (or a full-width ``＝＋－＠``) gets a leading ``'``, which
    spreadsheets read as "this cell is text"; control characters are shown
    as ``\\n`` / ``\\x1b`` escapes.  The writer quotes every cell
    (``csv.QUOTE_ALL``), so a separator inside a cell (``,`` or a locale's
    ``;``) cannot start a new cell, and doubles ``"``: together the OWASP
    recipe.  Numbers and ``None`` (an empty cell) pass unchanged.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(_FORMULA_START):
        value = "'" + value
    return terminal(value)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text(document: str) -> str:
    """A JSON document written with ``ensure_ascii=False`` with DEL, the C1
    controls, the line separators and the bidi marks written as ``\\uXXXX``
    escapes (RFC 8259 §7) instead of raw: the same JSON value, and nothing a
    terminal acts on.  (``json.dumps`` already escapes the C0 controls; the
    characters replaced can only occur inside strings.)"""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
