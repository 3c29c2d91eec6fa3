"""Slides: the SVG sequence diagram (checks/render_svg.py), its text
wrapping (checks/wrap.py) and ``--format svg`` / ``--format png``.

The browser half (the pages drawn by chromium, nothing outside the
viewBox, screenshots against docs/img/) is in tests/checks/test_browser.py.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replcheck.checks.explain import explained
from replcheck.checks import escape, render_svg
from replcheck.checks.explain import counterexamples
from replcheck.checks.verdict import check, load
from replcheck.checks.wrap import width, wrap

from conftest import SPECS, make_spec

SEED = SPECS / "seed" / "alice-bob-lww.toml"
EIGHTEEN = SPECS / "lecture" / "three-editors-lww.toml"
NS = "{http://www.w3.org/2000/svg}"
# What the pages are drawn with: nothing that runs, links, loads or styles from outside.
ELEMENTS = {"svg", "title", "rect", "text", "line", "path", "circle"}


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{NS}text")]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def seed():
    return check(load(SEED))


@pytest.fixture(scope="module")
def eighteen():
    return check(load(EIGHTEEN))


# ------------------------------------------------------------------ wrap
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=300),
       st.integers(min_value=20, max_value=900), st.sampled_from([16, 24, 40]), st.booleans())
def test_wrap_keeps_every_character_and_fits_the_width(text, room, size, bold):
    lines = wrap(text, room, size, bold)
    assert _squeezed("".join(lines)) == _squeezed(text)        # only break spaces go
    for line in lines:
        # a line is wider than the room only when it is a single character
        assert width(line, size, bold) <= room or len(line) == 1


def test_wrap_breaks_at_spaces_then_after_hyphens_then_anywhere():
    assert wrap("alpha beta gamma", width("alpha beta", 20), 20) == ("alpha beta", "gamma")
    assert wrap("leader-with-a-long-name", width("leader-with-", 20) + 1, 20)[0] == "leader-with-"
    assert wrap("x" * 50, width("x" * 10, 20), 20) == ("x" * 10,) * 5


def test_widths_are_never_below_the_fonts_the_svg_names():
    # DejaVu Sans (Debian's default sans) and Liberation Sans (Arial's metrics), measured at 1000 px
    assert width("W", 1000) >= 989 and width("m", 1000) >= 974 and width("i", 1000) >= 278
    assert width("中", 100) >= 100 and width("e\u0301", 100) == width("e", 100)


# ------------------------------------------------------------------ escaping
def test_svg_text_escapes_markup_and_what_xml_forbids():
    assert escape.svg_text('<script>&"\'') == "&lt;script&gt;&amp;&quot;&#x27;"
    assert escape.svg_text("a\x1b[31m\x00\ufffe") == "a\\x1b[31m\\x00\\ufffe"
    ET.fromstring(f"<t>{escape.svg_text(''.join(map(chr, range(0, 0x250))) + chr(0xFFFE) + chr(0xFFFF))}</t>")


def test_injection_payloads_stay_text(tmp_path):
    """Leader names, ids, keys, values and the spec's name carrying markup,
    Mermaid directives, escape sequences and control characters: a
    well-formed document of the drawing elements only, each payload shown
    as its characters."""
    from test_injection import IDS, LEADERS, NAME, spec_data, write_spec
    for kind in ("register", "set"):
        report = check(load(write_spec(tmp_path / kind, spec_data(True, kind))))
        pages = render_svg.pages([explained(report)])
        for doc in [p.svg for p in pages] + [render_svg.stacked(pages)]:
            root = ET.fromstring(doc)          # well-formed: no raw control character, no broken markup
            assert {e.tag.removeprefix(NS) for e in root.iter()} <= ELEMENTS
            assert not any(a.startswith(("on", "href", "{http://www.w3.org/1999/xlink}")) or a == "style"
                           for e in root.iter() for a in e.attrib)
            assert "<img" not in doc and "<script" not in doc
        shown = _squeezed("".join(t for p in pages for t in _texts(p.svg)))
        for payload, _ in LEADERS + IDS + [NAME]:
            assert _squeezed(escape.svg_shown(payload)) in shown, payload
        assert "\\x1b[31m" in shown and "\\u202e" in shown


# ------------------------------------------------------------------ the pages
def test_the_seed_is_one_16_by_9_page_with_every_step_in_full(seed):
    pages = render_svg.pages([explained(seed)])
    assert len(pages) == 1 and (pages[0].width, pages[0].height) == (1600, 900)
    doc = pages[0].svg
    assert doc.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'
                          ' width="1600" height="900" viewBox="0 0 1600 900"')
    shown = _squeezed("".join(_texts(doc)))
    cx = counterexamples(seed)[0]
    for f in cx.steps:
        assert _squeezed(render_svg.step_label(cx, f)) in shown and f"{f.index}." in _texts(doc)
    assert "LOSTWRITE" in shown and "culprit" in shown and "VIOLATED" in shown
    assert _squeezed(cx.message) in shown and "page1of1" in shown
    texts = _texts(doc)
    assert [t for t in texts if t in cx.facts.leaders] == list(cx.facts.leaders)   # a lane head each


def test_the_lost_write_and_the_culprit_are_marked(seed):
    doc = render_svg.pages([explained(seed)])[0].svg
    assert doc.count(f'fill="{render_svg.RED}" stroke="#ffffff"') == 1      # the lost write's commit dot
    assert doc.count(f'fill="{render_svg.AMBER}" stroke="#ffffff"') == 1    # the culprit's
    assert doc.count('fill="#fee2e2"') == 2 and doc.count('fill="#fef3c7"') == 1   # their rows and the verdict's


def test_an_18_step_trace_is_spread_over_numbered_pages(eighteen):
    cx = counterexamples(eighteen)[0]
    assert len(cx.steps) == 18
    pages = render_svg.pages([explained(eighteen)])
    assert len(pages) == 3 and all((p.width, p.height) == (1600, 900) for p in pages)
    numbers = []
    for i, p in enumerate(pages, 1):
        texts = _texts(p.svg)
        assert f"page {i} of 3" in texts
        numbers += [int(t[:-1]) for t in texts if re.fullmatch(r"\d+\.", t)]
    assert numbers == list(range(1, 19))                                     # every step once, in order
    per_page = [sum(1 for t in _texts(p.svg) if re.fullmatch(r"\d+\.", t)) for p in pages]
    assert max(per_page) - min(per_page) <= 3                              # spread evenly, no lone last step
    assert "VIOLATED" in _texts(pages[-1].svg) and "VIOLATED" not in _texts(pages[0].svg)
    stacked = render_svg.stacked(pages)
    root = ET.fromstring(stacked)
    assert (root.get("width"), root.get("height")) == ("1600", str(3 * 900 + 2 * render_svg.GAP))
    assert len(root.findall(f"{NS}svg")) == 3


def test_rendering_is_deterministic(eighteen):
    again = check(load(EIGHTEEN))
    assert render_svg.render(explained(eighteen)) == render_svg.render(explained(again))
    assert [p.svg for p in render_svg.pages([explained(eighteen)])] == [p.svg for p in render_svg.pages([explained(again)])]


def test_leaders_nothing_happens_to_are_folded():
    report = check(load(SPECS / "regressions" / "render-lost-increment.toml"))   # durability: a commits, crashes
    doc = render_svg.pages([explained(report)])[0].svg
    texts = _texts(doc)
    assert "a" in texts and "b" not in texts
    assert any(t.startswith("not shown: b (no event of this trace") for t in texts)


def test_a_leader_the_violation_names_keeps_its_lane():
    """async-replication-loss, convergence: "us-east shows ... while
    ap-south shows -": nothing happens at ap-south, which is the point."""
    report = check(load(SPECS / "faults" / "async-replication-loss.toml"), ["convergence"])
    cx = counterexamples(report)[0]
    assert "ap-south" not in {n for f in cx.steps for n in (f.step.event.leader, f.step.event.src)}
    texts = _texts(render_svg.pages([explained(report)])[0].svg)
    assert "ap-south" in texts and not any(t.startswith("not shown") for t in texts)


def test_a_value_too_long_for_a_page_is_wrapped_whole():
    long = "w" * 900 + " " + "words " * 300
    spec = make_spec(("a", "b"), [{"id": "x", "leader": "a", "key": "k", "set": long},
                                  {"id": "y", "leader": "b", "key": "k", "set": "v"}])
    pages = render_svg.pages([explained(check(spec))])
    assert all(p.width == 1600 and p.height >= 900 for p in pages)
    assert any(p.height > 900 for p in pages)          # a row taller than a page makes its page taller
    shown = _squeezed("".join(t for p in pages for t in _texts(p.svg)))
    assert shown.count(_squeezed(long)) >= 2            # the commit and the delivery, in full


def test_a_report_without_violation_is_a_page_of_verdicts():
    report = check(load(SPECS / "seed" / "alice-bob-mv-register.toml"))
    pages = render_svg.pages([explained(report)])
    assert len(pages) == 1
    texts = _texts(pages[0].svg)
    assert "every invariant holds" in texts and texts.count("holds") == len(report.results)


def test_page_paths_number_pages_before_the_suffix():
    assert render_svg.page_paths("out/trace.svg", 1) == ("out/trace.svg",)
    assert render_svg.page_paths("out/trace.svg", 3) == ("out/trace-1.svg", "out/trace-2.svg", "out/trace-3.svg")
    assert render_svg.page_paths("slides", 2) == ("slides-1", "slides-2")


# ------------------------------------------------------------------ the command line
def run(*args):
    from click.testing import CliRunner
    from replcheck.checks.cli import main
    return CliRunner().invoke(main, [str(a) for a in args])


def test_check_prints_the_pages_as_one_document_on_stdout():
    r = run("check", SEED, "--format", "svg")
    assert r.exit_code == 1 and r.stderr == ""
    root = ET.fromstring(r.stdout)
    assert root.get("viewBox") == "0 0 1600 900"
    assert "minimised: all 6 steps are needed" in "".join(_texts(r.stdout))
    r = run("check", EIGHTEEN, "--format", "svg", "--no-minimize")
    assert r.exit_code == 1 and len(ET.fromstring(r.stdout).findall(f"{NS}svg")) == 3
    assert "the engine's trace, 18 steps (not minimised)" in "".join(_texts(r.stdout))


def test_o_writes_one_file_per_page(tmp_path):
    one = tmp_path / "seed.svg"
    r = run("explain", SEED, "--format", "svg", "-o", one)
    assert r.stderr == "" and ET.parse(one).getroot().get("height") == "900"
    r = run("check", EIGHTEEN, "--format", "svg", "-o", tmp_path / "trace.svg")
    assert r.exit_code == 1                                   # the verdict's exit code, as for every format
    names = [f"trace-{i}.svg" for i in (1, 2, 3)]
    assert sorted(p.name for p in tmp_path.glob("trace*")) == names
    assert r.stderr.splitlines() == [f"replcheck: 3 pages: wrote {', '.join(str(tmp_path / n) for n in names)}"]
    for i, n in enumerate(names, 1):
        assert f"page {i} of 3" in _texts((tmp_path / n).read_text())


def test_png_needs_o_and_chromium_and_says_so_in_one_line(tmp_path, monkeypatch):
    r = run("check", SEED, "--format", "png")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines() == ["replcheck: --format png: needs -o FILE.png (a PNG is not written to the"
                                     " terminal); or use --format svg, which can be"]
    import shutil
    monkeypatch.delenv("REPLCHECK_CHROMIUM", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    for cmd in ("check", "explain"):
        r = run(cmd, SEED, "--format", "png", "-o", tmp_path / "x.png")
        assert r.exit_code == 2 and r.stdout == ""
        assert r.stderr.splitlines() == ["replcheck: --format png: needs chromium to draw the PNG and none is"
                                         " installed; install it (sudo apt-get install chromium) or use --format svg"]
    assert list(tmp_path.iterdir()) == []


def test_observed_is_for_markdown_and_html():
    r = run("explain", SEED, "--format", "svg", "--observed", "pglogical")
    assert r.exit_code == 2 and r.stderr.strip() == "replcheck: --observed: shown in --format markdown or html, not svg"


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_png_through_chromium(tmp_path):
    from replcheck.checks import render_png
    try:
        render_png.chromium()
    except render_png.PngError as e:
        pytest.skip(str(e))
    r = run("explain", SEED, "--format", "png", "-o", tmp_path / "seed.png")
    assert r.exit_code == 1, r.output
    assert _png_size(tmp_path / "seed.png") == (1600 * render_png.SCALE, 900 * render_png.SCALE)
    assert [p.name for p in tmp_path.iterdir()] == ["seed.png"]        # no temporary file left behind


def _trust_cases():
    from test_trust_render import CASES
    return CASES


@pytest.mark.parametrize("name,pair", _trust_cases(), ids=[f"{n}:{'+'.join(p)}" for n, p in _trust_cases()])
def test_every_key_type_and_op_renders_as_slides(name, pair):
    """The counterexamples tests/checks/test_trust_render.py renders in the other
    formats (every resolver and table type, every op pair, with a crash):
    well-formed pages with every step's label whole."""
    from test_trust_render import _spec
    report = check(_spec(name, pair, faults=True))
    pages = render_svg.pages([explained(report)])
    shown = _squeezed("".join(t for p in pages for t in _texts(p.svg)))
    for cx in counterexamples(report):
        for f in cx.steps:
            assert _squeezed(escape.svg_shown(render_svg.step_label(cx, f))) in shown
        assert _squeezed(escape.svg_shown(cx.message)) in shown
