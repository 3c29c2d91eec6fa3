"""A report is plain data and renderers only read (issue 13 item 5,
docs/architecture.md "Results as data"): a ``Report`` holds no live model,
survives pickling on its own, and once :func:`checks.explain.explained`
has built the counterexamples, every renderer runs with the model, the
replay and the minimiser made unusable."""

import dataclasses
import pickle

import pytest

from replcheck.checks import explain as explain_mod
from replcheck.checks import (render_html, render_itf, render_json, render_markdown, render_svg, render_text,
                              trace as trace_mod)
from replcheck.checks.explain import explained
from replcheck.checks.facts import Facts
from replcheck.checks.verdict import VIOLATED, check
from replcheck.model.spec import load_spec
from replcheck.model.system import System
from tests.conftest import SPECS

SEED = SPECS / "seed" / "alice-bob-lww.toml"


def _holds_no_system(value, seen=None) -> bool:
    """No :class:`System` anywhere inside ``value`` (dataclasses, tuples, dicts)."""
    seen = seen if seen is not None else set()
    if id(value) in seen:
        return True
    seen.add(id(value))
    if isinstance(value, System):
        return False
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_holds_no_system(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    if isinstance(value, (tuple, list, frozenset, set)):
        return all(_holds_no_system(v, seen) for v in value)
    if isinstance(value, dict):
        return all(_holds_no_system(k, seen) and _holds_no_system(v, seen) for k, v in value.items())
    return True


@pytest.fixture(scope="module")
def seed():
    return check(load_spec(SEED))


def test_a_report_holds_facts_not_the_model(seed):
    assert isinstance(seed.facts, Facts)
    assert _holds_no_system(seed)
    assert seed.facts.leaders == ("us-east", "eu-west", "ap-south")
    assert [o.id for o in seed.facts.ops] == ["alice", "bob"]
    assert seed.facts.write("bob") == '"Budget 2026 (US)"' and seed.facts.write("a fault") == ""


def test_a_report_pickles_without_the_model(seed):
    again = pickle.loads(pickle.dumps(seed))
    assert again == seed
    assert again.facts.op("alice") == seed.facts.op("alice")   # the id index is rebuilt


def test_explained_counterexamples_are_plain_data(seed):
    ex = explained(seed)
    assert [cx.invariant for cx in ex.counterexamples] == [r.invariant for r in seed.results if r.verdict == VIOLATED]
    assert _holds_no_system(ex)


def test_renderers_only_read(seed, monkeypatch):
    """Built first, the counterexamples need nothing more: with the model's
    constructor, the replay and the minimiser broken, every format renders
    the same bytes as before."""
    ex = explained(seed)
    before = _render_all(ex)

    def broken(*a, **k):
        raise AssertionError("a renderer reached the model")
    monkeypatch.setattr(System, "__init__", broken)
    monkeypatch.setattr(System, "step", broken)
    monkeypatch.setattr(explain_mod, "minimize", broken)
    monkeypatch.setattr(explain_mod, "build_trace", broken)
    monkeypatch.setattr(trace_mod, "build_trace", broken)
    assert _render_all(ex) == before


def _render_all(ex) -> dict:
    return {"text": render_text.render(ex.report), "json": render_json.render([ex.report]),
            "markdown": render_markdown.render(ex), "html": render_html.render(ex),
            "svg": render_svg.render(ex), "itf": render_itf.render([ex])}
