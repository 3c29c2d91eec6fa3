"""Issue 14, "Hardening", items 6 and 9: output injection and one-line errors.

Spec names and descriptions, leader names, op ids, keys, values and set
elements are any string a TOML file can carry (the loader checks only that
they are strings, unique where they must be, and non-empty for op ids and
keys).  Here they carry payloads that a fuzz campaign found reaching the
outputs raw: an HTML tag with an event handler, a Mermaid ``%%{init}%%``
directive, ``|``, backticks, ``](javascript:...)``, OSC 8 and CSI escape
sequences, newlines and other control characters, a spreadsheet formula.

Each output is checked against a *twin*: the same spec with plain names
(``l0``, ``o0``, ``v0``, ...).  Escaping must not change an output's
structure, so line by line the two have the same syntax — the same number
of unescaped Markdown metacharacters, the same HTML tags, the same Mermaid
statements, the same CSV rows — while the payloads stay readable.  The
renderers' rules are in ``checks/escape.py`` (docs/rendering.md "Escaping").
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner

from replcheck.checks.explain import explained
from replcheck.checks import escape, matrix, render_html, render_itf, render_json, render_markdown, render_text
from replcheck.checks import render_topology
from replcheck.checks.cli import main
from replcheck.checks.verdict import check, load
from replcheck.model.errors import SpecError
from replcheck.model.spec import parse_spec

# ------------------------------------------------------------------ payloads
HTML = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
MERMAID = '%%{init: {"theme":"dark", "themeCSS": ".note{display:none} @import url(http://evil.invalid/m.css);"}}%%'
LINK = "](javascript:alert(1))"
OSC = "\x1b]8;;http://evil.invalid\x07click\x1b]8;;\x07"
CSI = "\x1b[31m"
CTRL = "\r\x00\x08\x7f\x9b\u202e\u2028"
FORMULA = "=cmd|' /C calc'!A0"

# (payload, plain twin) for every string the loader takes from the user.
NAME = ("n" + HTML + "|``x``" + CSI + "\n# heading", "spec-name")
DESCRIPTION = (LINK + " " + SCRIPT + " " + MERMAID + OSC + "\n- item", "a description")
LEADERS = [(HTML, "l0"), ("a|b`c`;d#e" + MERMAID, "l1"), (CSI + "x\ny" + CTRL, "l2")]
IDS = [(FORMULA, "o0"), ("+b" + LINK + OSC, "o1")]
KEY = ("k" + LINK + "\n|x;#" + HTML, "k")
VALUES = [(MERMAID + "\nNote over L0: hidden", "v0"), (HTML + "``code``|" + CTRL + CSI + "$$x$$", "v1")]

# Characters a terminal acts on (checks/escape.py terminal): none may reach an output raw.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _pick(pair, payload):
    return pair[0] if payload else pair[1]


def spec_data(payload: bool, kind: str = "register") -> dict:
    leaders = [_pick(p, payload) for p in LEADERS]
    ids = [_pick(p, payload) for p in IDS]
    key = _pick(KEY, payload)
    data = {"name": _pick(NAME, payload), "description": _pick(DESCRIPTION, payload),
            "system": {"leaders": leaders, "topology": "all-to-all", "resolver": "lww", "clock": "wall"}}
    if kind == "register":
        data["workload"] = [{"id": ids[i], "leader": leaders[i], "key": key, "set": _pick(VALUES[i], payload),
                             "time_ms": 10 * i} for i in range(2)]
    else:   # a set key: the payloads as elements
        data["keys"] = {key: {"type": "lww-element-set"}}
        element = _pick(VALUES[1], payload)
        data["workload"] = [{"id": ids[0], "leader": leaders[0], "key": key, "add": element, "time_ms": 10},
                            {"id": ids[1], "leader": leaders[1], "key": key, "remove": element, "time_ms": 0}]
    data["check"] = {"invariants": ["convergence", "no-lost-writes"]}
    return data


def write_spec(folder: Path, data: dict, name: str = "spec.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(tomli_w.dumps(data).encode())
    return p


@pytest.fixture(scope="module", params=["register", "set"])
def twins(request, tmp_path_factory):
    """``(payload spec path, plain twin path)``: same file name, so the
    ``source`` both outputs show is the same length and characters."""
    root = tmp_path_factory.mktemp("inj")
    return (write_spec(root / "payload", spec_data(True, request.param)),
            write_spec(root / "plain", spec_data(False, request.param)), request.param)


@pytest.fixture(scope="module")
def reports(twins):
    payload, plain = (check(load(p)) for p in twins[:2])
    assert [r.verdict for r in payload.results] == [r.verdict for r in plain.results]
    assert "violated" in [r.verdict for r in payload.results]
    return payload, plain


def run(*args, code=None):
    r = CliRunner().invoke(main, [str(a) for a in args], color=True)   # color: click strips no escape sequence
    if code is not None:
        assert r.exit_code == code, r.output
    return r


def _same_dir(text: str, twins) -> str:
    """The plain twin's output names its own folder; show it as the payload's."""
    return text.replace(str(twins[1].parent), str(twins[0].parent))


# ------------------------------------------------------------------ the loader
def test_the_loader_takes_these_payloads_as_names_ids_keys_and_values():
    """Which fields accept arbitrary strings: every one the payloads go in."""
    spec = parse_spec(spec_data(True))
    assert spec.name == NAME[0] and spec.description == DESCRIPTION[0]
    assert list(spec.leaders) == [p for p, _ in LEADERS]
    assert [op.id for op in spec.workload] == [p for p, _ in IDS]
    assert {op.key for op in spec.workload} == {KEY[0]}
    assert [op.value for op in spec.workload] == [p for p, _ in VALUES]
    spec = parse_spec(spec_data(True, "set"))
    assert [op.value for op in spec.workload] == [VALUES[1][0]] * 2


# ------------------------------------------------------------------ text
def _no_raw_controls(text: str, what: str):
    m = RAW_CONTROL.search(text)
    assert m is None, f"{what}: raw {m.group()!r} at {m.start()}: {text[max(0, m.start() - 60):m.start() + 20]!r}"


def test_text_output_shows_control_characters_as_escapes(reports):
    payload, plain = reports
    out, twin = render_text.render(payload), render_text.render(plain)
    _no_raw_controls(out, "text")
    assert "\x1b" not in out and "\\x1b[31m" in out and "\\x1b]8;;http://evil.invalid\\x07" in out
    assert len(out.splitlines()) == len(twin.splitlines())     # no user newline starts a line
    assert "\\n# heading" in out and "\\u202e" in out
    assert not any(line.startswith(("# heading", "Note over", "- item", "y")) for line in out.splitlines())


def test_check_text_on_the_command_line_has_no_escape_byte(twins):
    r = run("check", twins[0], code=1)
    _no_raw_controls(r.output, "check")
    assert "\\x1b" in r.output


def test_topology_text_shows_control_characters_as_escapes(twins):
    out = render_topology.render(load(twins[0]), "text")
    twin = render_topology.render(load(twins[1]), "text")
    _no_raw_controls(out, "topology")
    assert len(out.splitlines()) == len(twin.splitlines())
    data = json.loads(render_topology.render(load(twins[0]), "json"))
    assert data["leaders"] == [p for p, _ in LEADERS]


# ------------------------------------------------------------------ json and itf
def test_json_is_ascii_and_keeps_every_payload_exactly(reports):
    out = render_json.render([reports[0]])
    assert out.isascii()
    data = json.loads(out)
    assert data["name"] == NAME[0] and data["system"]["leaders"] == [p for p, _ in LEADERS]
    steps = next(r for r in data["results"] if r["verdict"] == "violated")["trace"]["steps"]
    assert {s["event"]["op"] for s in steps} == {p for p, _ in IDS}


def test_itf_escapes_c1_controls_and_keeps_every_payload(reports):
    out = render_itf.render([explained(reports[0], True)])
    _no_raw_controls(out.replace("\n", ""), "itf")
    data = json.loads(out)
    text = json.dumps(data, ensure_ascii=False)
    for p, _ in IDS + LEADERS:
        assert json.dumps(p, ensure_ascii=False)[1:-1] in text
    assert data["#meta"]["culprits"] if isinstance(data, dict) else data


# ------------------------------------------------------------------ markdown
PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
MD_SYNTAX = set("<[]`*_|~#&$\\")   # not > (syntax only at a line start), ! (only before [)


def unescaped(line: str) -> Counter:
    """The Markdown metacharacters of ``line`` that are not backslash-escaped
    (CommonMark §2.4: a backslash before ASCII punctuation makes it literal)."""
    out, i = Counter(), 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] in PUNCT:
            i += 2
            continue
        if c in MD_SYNTAX:
            out[c] += 1
        i += 1
    return out


def split_fences(md: str):
    """``(text lines, [(info, block lines), ...])``: fenced blocks apart."""
    text, blocks, block, fence = [], [], None, None
    for line in md.splitlines():
        if block is None:
            m = re.match(r"^(`{3,})(\w*)$", line)
            if m:
                fence, block = m.group(1), (m.group(2), [])
            else:
                text.append(line)
        elif line == fence:
            blocks.append(block)
            block = None
        else:
            block[1].append(line)
    assert block is None, "an unclosed code fence"
    return text, blocks


MERMAID_STATEMENT = re.compile(
    r"^(sequenceDiagram|    participant L\d+ as .+|    Note over L\d+(,L\d+)?: .+|    rect rgba\([\d., ]+\)|    end"
    r"|    L\d+(->>|-x|-->>|--x|--\))L\d+: .+)$")


def check_mermaid(block: list[str], twin: list[str]):
    """A Mermaid block that no user text can reconfigure or cut short."""
    assert len(block) == len(twin)
    body = "\n".join(block)
    _no_raw_controls(body.replace("\n", ""), "mermaid")
    assert "%" not in body and "$" not in body and "<" not in body and ">>" not in body.replace("->>", "")
    for line, plain in zip(block, twin):
        assert MERMAID_STATEMENT.match(line), line
        assert line.split(":")[0].split(" as ")[0] == plain.split(":")[0].split(" as ")[0]
        # ; and # only inside entity codes (#59; #35; ...), which Mermaid shows as the character
        rest = re.sub(r"#(\d+|quot);", "", line)
        assert ";" not in rest and "#" not in rest, line
    assert sum("LOST WRITE" in line for line in block) == sum("LOST WRITE" in line for line in twin) == 1


def check_markdown(md: str, twin: str):
    text, blocks = split_fences(md)
    twin_text, twin_blocks = split_fences(twin)
    assert len(text) == len(twin_text) and [b[0] for b in blocks] == [b[0] for b in twin_blocks]
    _no_raw_controls("".join(text), "markdown")
    for line, plain in zip(text, twin_text):
        # User text adds no syntax: the same unescaped metacharacters as the plain twin.
        assert unescaped(line) == unescaped(plain), (line, plain)
        if re.match(r"^<a id=", plain):
            assert re.fullmatch(r'<a id="[\w-]+"></a>', line), line
    for (info, block), (_, plain) in zip(blocks, twin_blocks):
        if info == "mermaid":
            check_mermaid(block, plain)
        else:
            _no_raw_controls("".join(block), "code block")
            assert not any(line.startswith("```") for line in block)
    assert "mermaid" in [b[0] for b in blocks]


def test_markdown_escapes_every_user_text(reports, twins):
    payload, plain = reports
    md = render_markdown.render(explained(payload))
    check_markdown(md, _same_dir(render_markdown.render(explained(plain)), twins))
    assert "\\<img src=x onerror=alert(1)>" in md and "\\](javascript:alert(1))" in md
    assert not re.search(r"(?<!\\)<(img|script)", md)


def test_explain_markdown_and_html_on_the_command_line(twins, tmp_path):
    outs = {}
    for which, spec in zip(("payload", "plain"), twins):
        for fmt in ("markdown", "html"):
            out = tmp_path / f"{which}.{fmt}"
            run("explain", spec, "--format", fmt, "-o", out, code=0)
            outs[which, fmt] = _same_dir(out.read_text(), twins)
    check_markdown(outs["payload", "markdown"], outs["plain", "markdown"])
    check_html(outs["payload", "html"], outs["plain", "html"])


def test_markdown_renders_no_html_through_markdown_it(reports):
    """With markdown-it-py installed (not a dependency): the rendered HTML
    has no tag, link or image from user text."""
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is not installed (optional)")
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    out = md.render(render_markdown.render(explained(reports[0])))
    assert "<img" not in out and "<script" not in out and "javascript:" not in out.replace("](javascript:", "")
    assert set(re.findall(r'href="([^"]*)"', out)) <= {"#no-lost-writes"}


# ------------------------------------------------------------------ html
class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self.handlers, self.meta, self._in = Counter(), [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        self.handlers += [(tag, a) for a, _ in attrs if a.lower().startswith("on") or a.lower() in ("href", "src")
                          and tag != "a"]
        if tag == "meta":
            self.meta.append(dict(attrs))
        if tag in ("script", "style"):
            self._in = [tag, dict(attrs), ""]

    def handle_data(self, data):
        if self._in:
            self._in[2] += data

    def handle_endtag(self, tag):
        if self._in and tag == self._in[0]:
            self.scripts.append(tuple(self._in))
            self._in = None


def check_html(page: str, twin: str):
    got, want = Tags(), Tags()
    got.feed(page)
    want.feed(twin)
    assert got.tags == want.tags                       # no tag from user text
    assert got.handlers == [] and "<img" not in page and page.count("<script") == twin.count("<script")
    executed = [text for tag, attrs, text in got.scripts if tag == "script" and "type" not in attrs]
    assert executed == [render_html.JS]
    csp = next(m["content"] for m in got.meta if m.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert render_html.csp_hash(render_html.JS) in csp and render_html.csp_hash(render_html.CSS) in csp
    for tag, attrs, text in got.scripts:
        if attrs.get("type") == "application/json":
            data = json.loads(text)
            _no_raw_controls(json.dumps(data, ensure_ascii=False), "frames")
    _no_raw_controls(page.replace("\n", ""), "html")


def test_html_escapes_every_user_text_and_runs_only_its_own_script(reports, twins):
    payload, plain = reports
    check_html(render_html.render(explained(payload)), _same_dir(render_html.render(explained(plain)), twins))


def test_html_frames_name_leaders_as_the_table_does(reports):
    """The viewer's script finds a leader's row by ``data-leader``: the JSON
    frames carry the names exactly as the attributes show them."""
    page = render_html.render(explained(reports[0]))
    rows = [html.unescape(x) for x in re.findall(r'<tr data-leader="([^"]*)">', page)]
    frames = json.loads(re.search(r'<script type="application/json" class="frames">(.*?)</script>', page).group(1))
    assert [l["name"] for l in frames["frames"][0]["leaders"]] == rows == [escape.terminal(p) for p, _ in LEADERS]


# ------------------------------------------------------------------ matrix: text, markdown, csv
@pytest.fixture(scope="module")
def matrices(twins):
    """Register specs under lww and mv-register; set specs under
    lww-element-set and lww, which cannot take ``add`` (an n/a row whose
    reason quotes the key)."""
    resolvers = ["lww", "mv-register"] if twins[2] == "register" else ["lww-element-set", "lww"]
    return tuple(matrix.run(p, resolvers, ["all-to-all", "star"]) for p in twins[:2])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def test_matrix_csv_cells_never_start_a_formula(matrices):
    out, twin = (matrix.render_csv(m) for m in matrices)
    rows, twin_rows = (list(csv.reader(io.StringIO(x))) for x in (out, twin))
    assert len(rows) == len(twin_rows) and rows[0] == twin_rows[0]
    assert all(len(r) == len(rows[0]) for r in rows)
    for row in rows:
        for cell in row:
            assert not cell.lstrip(" ").startswith(FORMULA_START), cell
    _no_raw_controls(out.replace("\n", ""), "csv")
    messages = [dict(zip(rows[0], r))["message"] for r in rows[1:]]
    # the lost write's message starts with its op id, "=cmd|..." or "+b...": a formula, neutralised
    assert any(m.startswith(("'" + FORMULA, "'" + escape.terminal(IDS[1][0]))) for m in messages)


def test_matrix_text_and_markdown_escape_user_text(matrices, twins):
    out, twin = (matrix.render_text(m) for m in matrices)
    _no_raw_controls(out, "matrix text")
    assert len(out.splitlines()) == len(twin.splitlines())
    md, md_twin = (matrix.render_markdown(m, matrix.counterexamples(m)) for m in matrices)
    check_markdown(md, _same_dir(md_twin, twins))


def test_matrix_csv_keeps_plain_cells_readable(matrices):
    rows = list(csv.DictReader(io.StringIO(matrix.render_csv(matrices[1]))))
    assert {r["resolver"] for r in rows} == set(matrices[1].resolvers)
    assert all(not r["message"].startswith("'") for r in rows)


def test_csv_cell_follows_owasp():
    assert escape.csv_cell("=1+1") == "'=1+1"
    assert escape.csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape.csv_cell("-2") == "'-2" and escape.csv_cell("+2") == "'+2"
    assert escape.csv_cell("\t=1") == "'\\t=1" and escape.csv_cell("\r=1") == "'\\r=1"
    assert escape.csv_cell("  =1") == "'  =1" and escape.csv_cell("\uff1d1") == "'\uff1d1"
    assert escape.csv_cell("a=1") == "a=1" and escape.csv_cell(8) == 8 and escape.csv_cell(None) == ""


# ------------------------------------------------------------------ conform render and observed sections
class _Product:
    """A simulated pglogical whose product name, rows and conflict log carry payloads."""

    def __init__(self):
        from tests.checks.conform.sim import SimPglogical
        self.sim = SimPglogical()
        self.name = "PostgreSQL " + HTML + CSI + "\n```\n<script>x</script>"

    def __getattr__(self, attr):
        return getattr(self.sim, attr)

    def read(self, leader):
        rows = self.sim.read(leader)
        return {k: v + OSC for k, v in rows.items()}      # differs from the model: a disagreement

    def log(self, leader):
        return [line + " " + CSI + "\n```" for line in self.sim.log(leader)] + ["```` " + OSC]


def _conformance(payload: bool):
    from replcheck.checks.conform.run import applicable, conform
    from replcheck.checks.conform.target import Setup
    from replcheck.model.system import System
    leaders = [_pick(p, payload) for p in LEADERS[:2]]
    data = {"name": _pick(NAME, payload),
            "system": {"leaders": leaders, "topology": "all-to-all", "resolver": "pglogical-last-update-wins"},
            "workload": [{"id": _pick(IDS[0], payload), "leader": leaders[0], "key": _pick(KEY, payload),
                          "insert": _pick(VALUES[0], payload)},
                         {"id": _pick(IDS[1], payload), "leader": leaders[1], "key": _pick(KEY, payload),
                          "upsert": _pick(VALUES[1], payload)}],
            "check": {"invariants": ["convergence"]}}
    spec = parse_spec(data, "<test>")
    target = _Product()
    system = System(spec)
    target.start(Setup(system.leaders, tuple((system.leaders[a], system.leaders[b]) for a, b in system.edges),
                       applicable(spec, "pglogical"), {}, system.keys))
    return spec, conform(spec, "pglogical", target_obj=target), target


def test_conform_text_and_markdown_escape_names_values_and_the_products_log():
    from replcheck.checks.conform.render import render
    _, c, _ = _conformance(True)
    assert c.count("disagree")
    text = render(c, "text")
    _no_raw_controls(text, "conform text")
    assert "\\x1b" in text and "\\n```" in text
    md = render(c, "markdown")
    text_lines, blocks = split_fences(md)
    _no_raw_controls("".join(text_lines), "conform markdown")
    assert blocks and all(not line.startswith("```") for _, b in blocks for line in b)
    for line in text_lines:
        assert not re.search(r"(?<!\\)<", line.replace("\\\\", "")), line
        if line.startswith("|"):
            assert unescaped(line)["|"] == 5, line
    json.loads(render(c, "json"))


def test_observed_sections_escape_the_product_and_its_rows():
    from replcheck.checks.conform import observe
    _, c, target = _conformance(True)
    outcome = next(o for o in c.outcomes if o.verdict == "disagree")
    md = observe.markdown_section(target.name, outcome)
    text_lines, blocks = split_fences(md)
    _no_raw_controls("".join(text_lines), "observed markdown")
    assert blocks and all(not line.startswith("```") for _, b in blocks for line in b)
    assert not any(re.search(r"(?<!\\)<", line.replace("\\\\", "")) for line in text_lines)
    section = observe.html_section(target.name, outcome)
    tags = Tags()
    tags.feed(section)
    assert "script" not in tags.tags and "img" not in tags.tags and tags.handlers == []
    _no_raw_controls(section.replace("\n", ""), "observed html")
    assert observe.markdown_section(HTML, "not run: " + SCRIPT).count("\\<") == 3


# ------------------------------------------------------------------ escape rules
def test_md_text_escapes_html_links_code_and_table_syntax():
    assert escape.md_text(HTML) == "\\<img src=x onerror=alert(1)>"
    assert escape.md_text("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert escape.md_text("a|b`c`*d*_e_&amp;~f~#g$h\\i") == "a\\|b\\`c\\`\\*d\\*\\_e\\_\\&amp;\\~f\\~\\#g\\$h\\\\i"
    assert escape.md_text("a\nb\x1b[31m") == "a\\\\nb\\\\x1b\\[31m"
    assert escape.md_text("- x", line_start=True) == "\\- x"
    assert escape.md_text("12. x", line_start=True) == "12\\. x"
    assert escape.md_text("> q", line_start=True) == "\\> q" and escape.md_text("> q") == "> q"
    assert escape.md_text("us-east -> eu-west") == "us-east -> eu-west"


def test_md_code_and_md_fence_outlast_any_backtick_run():
    assert escape.md_code("a.toml") == "`a.toml`"
    assert escape.md_code("a``b") == "```a``b```"
    assert escape.md_code("`x") == "`` `x ``"
    assert escape.md_fence(["```", "a ````` b"]) == ["``````", "```", "a ````` b", "``````"]
    assert escape.md_fence(["x\ny"]) == ["```", "x\\ny", "```"]


def test_mermaid_text_neutralises_directives_comments_math_and_statements():
    out = escape.mermaid_text(MERMAID + ";x#y<br>$$z$$\nNote over L0: hidden\x1b[31m")
    assert "%" not in out and "$" not in out and "\n" not in out and "\x1b" not in out
    assert ";" not in re.sub(r"#\d+;", "", out) and "<" not in out
    assert escape.mermaid_alias("wrap:x") == "wrap#58;x" and escape.mermaid_alias("") == "#quot;#quot;"
    assert render_markdown.mermaid_text("a;b#c<d>") == "a#59;b#35;c#60;d#62;"


def test_terminal_shows_every_control_character():
    assert escape.terminal("a\x1b]8;;http://e\x07b\x1b[31m\r\n\t\x00\x7f\x9b\u202e\u2028") == \
        "a\\x1b]8;;http://e\\x07b\\x1b[31m\\r\\n\\t\\x00\\x7f\\x9b\\u202e\\u2028"
    assert escape.terminal("café 東京 🙂") == "café 東京 🙂"


# ------------------------------------------------------------------ item 9: one-line errors
def one_line(args, *shown, code=2):
    """Exactly one line of output, exit ``code``, no raw control character,
    each of ``shown`` (escaped forms of the user's values) in it."""
    r = run(*args)
    assert r.exit_code == code, r.output
    assert len(r.output.rstrip("\n").split("\n")) == 1, repr(r.output)
    _no_raw_controls(r.output.rstrip("\n"), "error")
    assert "Traceback" not in r.output
    for s in shown:
        assert s in r.output, (s, r.output)
    return r.output


def _spec_file(tmp_path, change) -> Path:
    data = spec_data(False)
    change(data)
    return write_spec(tmp_path, data)


def _set(path, value):
    def change(data):
        node = data
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return change


def _unknown_among_odd_leaders(data):
    data["system"]["leaders"] = ["l0\n# x", "l1", "l2\x1b]8;;u\x07"]
    data["workload"][0]["leader"] = "l1"
    data["workload"][1]["leader"] = "zz"


ERROR_CASES = {
    "leader listed twice": (_set(["system", "leaders"], ["a\nb", "a\nb", "c"]), "'a\\nb' is listed twice"),
    "unknown leader": (_set(["workload", 0, "leader"], "x\x1b[31m\ny"), "unknown leader 'x\\x1b[31m\\ny'"),
    "leaders listed in the message": (_unknown_among_odd_leaders, "(leaders: l0\\n# x, l1, l2\\x1b]8;;u\\x07)"),
    "op id used twice": (lambda d: [w.update(id="id\r\n1") for w in d["workload"]], "'id\\r\\n1' is used twice"),
    "unknown after": (_set(["workload", 1, "after"], ["o\x1b]8;;http://evil\x07"]),
                      "unknown operation 'o\\x1b]8;;http://evil\\x07'"),
    "unknown resolver": (_set(["system", "resolver"], "lw\nw"), "unknown 'lw\\nw'"),
    "unknown hub": (lambda d: d["system"].update(topology="star", hub="h\u202eub\n"), "'h\\u202eub\\n'"),
    "bad edge": (lambda d: d["system"].update(topology="custom", edges=["l0 -> l1\n-> l2"]), "l1\\n"),
    "unknown key in a table": (_set(["system", "le\nvel\x1b[2J"], 1), "system"),
    "bad value type": (_set(["workload", 0, "set"], ["\x1b[31m"]), "['\\x1b[31m']"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_a_spec_error_quoting_user_values_is_one_line(tmp_path, case):
    change, shown = ERROR_CASES[case]
    spec = _spec_file(tmp_path, change)
    one_line(["check", spec], shown)
    with pytest.raises(SpecError) as e:
        load(spec)
    assert "\n" not in str(e.value) and "\x1b" not in str(e.value) and shown in str(e.value)


def test_command_line_values_are_quoted_on_one_line(tmp_path):
    spec = write_spec(tmp_path, spec_data(False))
    one_line(["check", spec, "--set", "system.resolver=lv\nw\x1b[31m"], "lv\\nw\\x1b[31m")
    one_line(["check", spec, "--invariant", "no-lost\nwrites"], "no-lost\\nwrites")
    one_line(["matrix", spec, "--resolver", "lww,l\x1b]8;;x\x07vw"], "l\\x1b]8;;x\\x07vw")
    one_line(["explain", spec, "--invariant", "conv\x1b[2Jergence"], "conv\\x1b[2Jergence")


def test_paths_with_control_characters_are_quoted_on_one_line(tmp_path):
    folder = tmp_path / "empty\nfolder\x1b[31m"
    folder.mkdir()
    one_line(["check", folder], "empty\\nfolder\\x1b[31m")
    spec = write_spec(tmp_path, spec_data(False))
    one_line(["check", spec, "-o", tmp_path / "no\nsuch\x1b" / "out.txt"], "no\\nsuch\\x1b")
    bad = tmp_path / "trace\n\x1b[31m.json"
    bad.write_text("{not json")
    one_line(["replay", spec, bad], "trace\\n\\x1b[31m.json")
    latin = tmp_path / "lat\nin\x1b]0;title\x07.toml"
    latin.write_bytes(b'name = "\xff"\n')
    one_line(["check", latin], "lat\\nin\\x1b]0;title\\x07.toml", "not UTF-8")


def test_an_internal_error_message_is_one_line(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, spec_data(False))

    def boom(*a, **k):
        raise RuntimeError("boom\nsecond line\x1b[2J")
    monkeypatch.setattr(render_text, "render", boom)
    one_line(["check", spec], "boom\\nsecond line\\x1b[2J", "internal error", code=4)


def test_spec_errors_are_one_line_when_used_as_a_library():
    with pytest.raises(SpecError) as e:
        parse_spec({"system": {"leaders": ["a\nb", "a\nb"]}, "workload": []}, "<x\ny>")
    assert str(e.value) == "<x\\ny>: system.leaders: 'a\\nb' is listed twice; leader names must be unique"
    assert e.value.message == "'a\nb' is listed twice; leader names must be unique"   # the raw parts stay raw


# ------------------------------------------------------------------ in a real browser (tests/checks/test_browser.py's setup)
@pytest.fixture
def page(browser):
    p = browser.new_page(viewport={"width": 1100, "height": 900})
    p.requests, p.errors = [], []
    p.on("requestfinished", lambda r: p.requests.append(r.url))    # a request the CSP blocks never finishes
    p.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file://", "data:"))
            else route.abort())
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                      " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
    yield p
    p.close()


def test_mermaid_renders_the_payload_diagram_with_every_label(page, reports):
    """Mermaid's own script: no directive takes effect (no fetch, no theme,
    no hidden note), every participant and note is there, LOST WRITE too."""
    from test_browser import _mermaid
    from replcheck.checks.explain import counterexamples
    cx = counterexamples(reports[0])[0]
    block = render_markdown.mermaid(cx)
    assert _mermaid(page, block) == {"ok": True}, block
    styles = "".join(page.locator("#out svg style").all_text_contents())
    assert "evil.invalid" not in styles and ".note{display:none}" not in styles.replace(" ", "")
    assert page.evaluate("getComputedStyle(document.querySelector('#out svg .note')).display") != "none"
    texts = page.locator("#out svg text").all_text_contents()
    for p, _ in LEADERS:
        assert escape.terminal(p) in texts
    joined = "\n".join(texts)
    assert "LOST WRITE" in joined
    for op in cx.report.spec.workload:                 # each value shown whole, "Note over L0: hidden" too
        assert escape.terminal(op.value) in joined
    assert len([t for t in texts if re.match(r"\d+\. ", t)]) == len(cx.steps)
    assert page.requests == [] or all(u.startswith(("file:", "data:", "about:")) for u in page.requests)


def test_html_page_runs_its_viewer_and_nothing_else(page, reports, tmp_path):
    """The viewer works under its CSP (the hashes match: no violation), shows
    each step's text as the frames carry it, and nothing from the spec runs."""
    out = tmp_path / "p.html"
    out.write_text(render_html.render(explained(reports[0])))
    page.goto(out.as_uri())
    frames = json.loads(re.search(r'class="frames">(.*?)</script>', out.read_text()).group(1))["frames"]
    assert page.locator(".viewer .pos").inner_text() == f"step 0 of {len(frames) - 1}"   # the script ran
    for f in frames[1:]:
        page.click(".viewer .next")
        assert page.locator(".viewer .event-text").inner_text() == f"{f['index']}. {f['text']}"
    assert page.locator("img").count() == 0 and page.locator("script").count() == 2
    assert page.evaluate("window.__csp") == [] and page.errors == []
    assert all(u.startswith("file:") for u in page.requests)


def test_html_policy_blocks_markup_that_would_escape_into_the_page(page, reports, tmp_path):
    """The CSP itself: an inline script or event handler smuggled into the
    page does not run, and an image is not fetched."""
    out = tmp_path / "p.html"
    smuggled = ("<script>window.__pwned = 1</script><img src='http://evil.invalid/x.png'"
                " onerror='window.__pwned = 2'><div onclick='x()'></div>")
    out.write_text(render_html.render(explained(reports[0])).replace("<main>", "<main>" + smuggled, 1))
    page.goto(out.as_uri())
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".viewer .pos").inner_text().startswith("step 0 of")    # the viewer still runs
    blocked = page.evaluate("window.__csp")
    assert "script-src-elem inline" in blocked and "script-src-attr inline" in blocked
    assert "img-src http://evil.invalid/x.png" in blocked
    assert not any("evil.invalid" in u for u in page.requests)
