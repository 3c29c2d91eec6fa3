"""A Report renders itself in Jupyter (checks/verdict.py, docs/api.md "Jupyter"):
``_repr_markdown_`` is ``--format markdown``; ``_repr_html_`` is ``--format html``
in a sandboxed iframe, safe to embed whatever the spec's strings hold."""

import re
from html.parser import HTMLParser

import pytest

from replcheck.checks.explain import explained
from replcheck.checks import render_html, render_markdown
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import check, load
from replcheck.model import parse_spec

HOSTILE = '"><img src=x onerror=alert(1)></iframe><script>alert(1)</script>'


class Tags(HTMLParser):
    """Every start tag with its attributes (values unescaped, as a browser reads them)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


@pytest.fixture(scope="module")
def seed():
    return check(load("specs/seed/alice-bob-lww.toml"))


@pytest.fixture(scope="module")
def hostile():
    data = {"name": "title " + HOSTILE, "description": HOSTILE,
            "system": {"leaders": ["us-east", "eu-west" + HOSTILE]},
            "workload": [{"id": "alice" + HOSTILE, "leader": "eu-west" + HOSTILE, "key": "doc<1>", "set": HOSTILE},
                         {"id": "bob", "leader": "us-east", "key": "doc<1>", "set": "B</script>"}]}
    return check(parse_spec(data, "<hostile>", INVARIANTS))


def test_markdown_is_the_markdown_rendering(seed):
    md = seed._repr_markdown_()
    assert md == render_markdown.render(explained(seed))
    assert "## Verdicts" in md and "```mermaid" in md and "**VIOLATED**" in md


def test_html_is_the_viewer_in_a_sandboxed_frame(seed):
    outer = Tags(seed._repr_html_()).tags
    assert [t for t, _ in outer] == ["iframe"]          # nothing else reaches the notebook's markup
    attrs = outer[0][1]
    assert attrs["sandbox"] == "allow-scripts"           # no allow-same-origin: the frame cannot touch the notebook
    assert "src" not in attrs
    assert attrs["srcdoc"] == render_html.render(explained(seed))   # the --format html page, whole
    assert "alice-bob-title-lww" in attrs["title"]


def test_the_page_fetches_nothing(seed):
    page = Tags(seed._repr_html_()).tags[0][1]["srcdoc"]
    tags = Tags(page).tags
    csp = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    for tag, attrs in tags:
        assert "src" not in attrs, tag
        assert not attrs.get("href", "#").startswith(("http", "//")), tag
    assert {t for t, _ in tags} & {"img", "iframe", "link", "object", "embed", "base"} == set()


def test_hostile_strings_stay_text(hostile):
    outer = hostile._repr_html_()
    tags = Tags(outer).tags
    assert [t for t, _ in tags] == ["iframe"] and tags[0][1]["sandbox"] == "allow-scripts"
    page = tags[0][1]["srcdoc"]
    inner = Tags(page).tags
    assert {t for t, _ in inner} & {"img", "iframe"} == set()
    assert not any(k.startswith("on") for _, a in inner for k in a)
    # The only scripts are the viewer's own and its JSON data blocks.
    scripts = [a for t, a in inner if t == "script"]
    assert all(a.get("type") in (None, "application/json") for a in scripts)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    md = hostile._repr_markdown_()   # Markdown: every "<" of the spec's text backslash-escaped (docs/rendering.md)
    assert re.search(r"(?<!\\)<(script|img|/iframe)", md) is None


def test_a_report_without_counterexample_renders(seed):
    holds = check(load("specs/seed/alice-bob-lww.toml", ["system.resolver=mv-register"]))
    page = Tags(holds._repr_html_()).tags[0][1]["srcdoc"]
    verdicts = page.split('<ul class="verdicts">', 1)[1].split("</ul>", 1)[0]   # the viewer's verdict line
    assert "holds" in verdicts and "VIOLATED" not in verdicts
    assert "| no-lost-writes | holds |" in holds._repr_markdown_()
