"""Real-browser checks: the HTML viewer in headless Chromium, and the
Markdown's Mermaid block rendered by mermaid's own bundled script.

Uses Debian's chromium (never a downloaded browser) through Playwright, and
the ``mermaid`` npm package that ``.ci/run`` installs into ``.ci/node/``.
Skips, saying why, only where those cannot be had.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main

from conftest import ARGS, CHROMIUM, ROOT, SPECS

MERMAID_JS = Path(os.environ.get("REPLCHECK_MERMAID_JS")
                  or ROOT / ".ci" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js")
SEED = SPECS / "seed" / "alice-bob-lww.toml"


@pytest.fixture
def page(browser):
    p = browser.new_page(viewport={"width": 1100, "height": 900})
    p.fetched = []
    p.errors = []

    def no_network(route):
        # The pages are local files; anything else is a fetch they must not make.
        if not route.request.url.startswith("file://"):
            p.fetched.append(route.request.url)
            return route.abort()
        return route.continue_()

    p.route("**/*", no_network)
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    yield p
    p.close()


def _run(*args) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code in (0, 1), r.output
    return r.output


def test_html_viewer_walks_every_step_like_the_json_trace(page, tmp_path):
    html = tmp_path / "lww.html"
    _run("explain", SEED, "--invariant", "no-lost-writes", "--format", "html", "-o", html)
    steps = json.loads(_run("check", SEED, "--format", "json"))["results"][1]["trace"]["steps"]
    page.goto(html.as_uri())
    assert page.locator(".viewer .pos").inner_text() == f"step 0 of {len(steps)}"
    assert page.locator(".ev.current").count() == 0
    assert page.locator(".viewer .prev").is_disabled()
    for step in steps:
        page.click(".viewer .next")
        current = page.locator(".ev.current")
        assert current.count() == 1
        assert int(current.get_attribute("data-step")) == step["index"]
        assert current.get_attribute("data-kind") == step["event"]["kind"]
        assert current.get_attribute("data-op") == step["event"]["op"]
        assert page.locator(".ev.future").count() == len(steps) - step["index"]
        assert page.locator(".viewer .event-text").inner_text() == f"{step['index']}. {step['text']}"
        for name, leader in step["leaders"].items():
            row = page.locator(f'tr[data-leader="{name}"]')
            for key, value in leader["values"].items():
                assert row.locator(f'span[data-key="{key}"]').inner_text() == value
            assert row.locator('td[data-field="applied"]').inner_text() == (", ".join(leader["applied"]) or "-")
            assert row.locator('td[data-field="clock"]').inner_text() == leader["clock"]
    assert page.locator(".viewer .next").is_disabled()
    page.click(".viewer .prev")
    assert int(page.locator(".ev.current").get_attribute("data-step")) == len(steps) - 1
    shot = tmp_path / "viewer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert page.fetched == [] and page.errors == []


def test_html_viewer_shows_version_vectors_and_messages_in_flight(page, tmp_path):
    html = tmp_path / "lww.html"
    _run("check", SEED, "--format", "html", "-o", html)
    page.goto(html.as_uri())
    page.locator(".viewer .slider").fill("2")     # after both commits
    assert page.locator(".ev.current").get_attribute("data-step") == "2"
    vv = page.locator('tr[data-leader="eu-west"] td[data-field="vv"]').inner_text()
    assert vv == "us-east:0 eu-west:1 ap-south:0"
    assert "eu-west -> us-east: alice" in page.locator(".viewer .flight").inner_text()
    assert page.errors == []


def _mermaid(page, code: str):
    if not MERMAID_JS.is_file():
        pytest.skip(f"mermaid is not installed at {MERMAID_JS}: .ci/run runs npm install --prefix .ci/node mermaid")
    page.set_content("<!DOCTYPE html><html><body><div id='out'></div></body></html>")
    page.add_script_tag(path=str(MERMAID_JS))
    return page.evaluate("""async (code) => {
        mermaid.initialize({startOnLoad: false});
        try {
            const {svg} = await mermaid.render('diagram', code);
            document.getElementById('out').innerHTML = svg;
            return {ok: true};
        } catch (e) { return {ok: false, error: String(e && e.message || e)}; }
    }""", code)


def _mermaid_block(md: str) -> str:
    return re.search(r"```mermaid\n(.*?)```", md, re.S).group(1)


def test_explain_markdown_mermaid_block_renders_one_lane_per_leader(page, tmp_path):
    md = tmp_path / "lww.md"
    _run("explain", SEED, "--invariant", "no-lost-writes", "--format", "markdown", "-o", md)
    result = _mermaid(page, _mermaid_block(md.read_text()))
    assert result == {"ok": True}
    assert page.locator("#out svg").count() == 1
    lanes = page.locator("#out svg line.actor-line")
    assert lanes.count() == 3
    names = set(page.locator("#out svg text.actor").all_text_contents())
    assert names == {"us-east", "eu-west", "ap-south"}
    svg = page.locator("#out").inner_html()
    assert "Syntax error" not in svg and "LOST WRITE" in svg and "culprit" in svg
    page.screenshot(path=str(tmp_path / "mermaid.png"), full_page=True)


def test_mermaid_renders_faults_and_escaped_values(page):
    from replcheck.checks import render_markdown
    from replcheck.checks.explain import counterexamples
    from replcheck.checks.verdict import check, load
    from conftest import make_spec

    tricky = make_spec(("a;1", "b#2"), [{"id": "x", "leader": "a;1", "key": "k", "set": "v;<w>#x"},
                                         {"id": "y", "leader": "b#2", "key": "k", "set": "z"}])
    reports = [check(load(SPECS / "faults" / "async-replication-loss.toml")), check(tricky)]
    blocks = [render_markdown.mermaid(cx) for rep in reports for cx in counterexamples(rep)]
    assert len(blocks) >= 2
    for block in blocks:
        assert _mermaid(page, block) == {"ok": True}, block
