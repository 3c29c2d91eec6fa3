"""HTML rendering: one self-contained page (the browser test drives it)."""

from __future__ import annotations

import json
import re

from replcheck.checks.explain import explained
from replcheck.checks import render_html
from replcheck.checks.verdict import check, load

from conftest import SPECS


def _page():
    report = check(load(SPECS / "seed" / "alice-bob-lww.toml"))
    return report, render_html.render(explained(report))


def test_html_is_self_contained():
    _, page = _page()
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(http" not in page
    assert "default-src 'none'" in page      # the page forbids itself any fetch


def test_html_explains_the_anomaly_before_the_diagram():
    _, page = _page()
    explain = page.index("What went wrong.")
    assert explain < page.index("<svg") and explain < page.index("<table")
    assert "lost-update</strong> means two leaders accepted concurrent writes" in page


def test_html_diagram_has_a_lane_per_leader_and_a_row_per_step():
    report, page = _page()
    trace = report.results[1].trace
    assert re.findall(r'<div class="head" data-leader="([^"]+)"', page) == list(report.facts.leaders)
    steps = re.findall(r'<div class="ev( role-\w+)?" data-step="(\d+)" data-kind="(\w+)" data-op="(\w+)">'
                       r'<svg class="strip"', page)
    assert [(int(i), k, op) for _, i, k, op in steps] == [(s.index, s.event.kind, s.event.op) for s in trace.steps]
    assert steps[0][0] == " role-lost" and steps[1][0] == " role-culprit"   # real time: alice (0 ms) first
    # each row's slice of the lanes: one line per leader, as tall as the row
    assert page.count('<line class="lane"') == len(trace) * report.facts.n
    assert '<div class="seq lanes-3">' in page


def test_html_labels_are_whole_and_engine_notes_collapsed():
    """Issue 16: no label cut short ("Budget 2026 (E..."), the verdicts on
    one line at the top, the engine's notes behind a <details>."""
    from conftest import make_spec
    long = "Budget 2026 (EU) — a title long enough to have been cut at 46 characters before"
    spec = make_spec(("us-east", "eu-west"), [{"id": "alice", "leader": "eu-west", "key": "k", "set": long},
                                              {"id": "bob", "leader": "us-east", "key": "k", "set": "B"}])
    page = render_html.render(explained(check(spec)))
    labels = re.findall(r'<span class="label">([^<]*)</span>', page)
    assert any(long in label for label in labels) and not any("\u2026" in label for label in labels)
    assert page.index('<ul class="verdicts">') < page.index("What went wrong.") < page.index('<div class="diagram">')
    notes = re.search(r'<details class="engine"><summary>[^<]+</summary><p class="stats">(.*?)</p></details>', page,
                      re.S)
    assert notes and "explored" in notes.group(1)
    assert "<details open" not in page


def test_html_frames_carry_every_leader_state():
    report, page = _page()
    raw = re.search(r'<script type="application/json" class="frames">(.*?)</script>', page, re.S).group(1)
    frames = json.loads(raw)["frames"]
    trace = report.results[1].trace
    assert len(frames) == len(trace) + 1
    for f, step in zip(frames[1:], trace.steps):
        assert f["text"] == step.text
        assert [(l["name"], l["values"], l["applied"]) for l in f["leaders"]] == \
               [(v.name, dict(v.values), ", ".join(v.applied) or "-") for v in step.leaders]
    assert frames[-1]["leaders"][2]["vv"] == "us-east:1 eu-west:1 ap-south:0"


def test_html_escapes_values():
    from conftest import make_spec
    spec = make_spec(("a", "b"), [{"id": "x", "leader": "a", "key": "k", "set": "<script>alert(1)</script>"},
                                  {"id": "y", "leader": "b", "key": "k", "set": "</script>"}])
    page = render_html.render(explained(check(spec)))
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == page.count("<script")  # no value closes a script element
