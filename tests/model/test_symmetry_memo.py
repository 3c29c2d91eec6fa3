"""Symmetry.canonical's memo (model/symmetry.py) is a pure cache: it relies
on ``_canonical`` being idempotent (a representative is its own) and gives
the searches exactly what the uncached function gives."""

from __future__ import annotations

import pytest

from replcheck.checks import planner
from replcheck.checks.verdict import Options, check, load
from replcheck.model import parse_spec
from replcheck.model.symmetry import Symmetry
from tests.conftest import ROOT, reachable

BENCH = ROOT / "bench" / "specs"


def _crash_spec():
    from replcheck.checks.invariants import INVARIANTS
    data = {"system": {"leaders": ["a", "b", "c"], "resolver": "lww", "clock": "lamport"},
            "workload": [{"leader": l, "key": "k", "set": l} for l in ("a", "b", "c")],
            "faults": {"crashes": 1}}
    return parse_spec(data, "<test>", INVARIANTS)


SPECS = {
    "B1": lambda: load(BENCH / "B1.toml"),
    "B1-mv-register": lambda: load(BENCH / "B1.toml").with_resolver("mv-register"),
    "B6b": lambda: load(BENCH / "B6b.toml"),
    "lww-3x1-crash": _crash_spec,
    # whole-state symmetry, timestamps dropped: the signature reads happens-before
    "B6-mv-register": lambda: load(BENCH / "B6.toml"),
}


def _systems(spec):
    """Every system with symmetry the plan of ``spec`` searches."""
    p = planner.plan(spec, tuple(spec.invariants), "bfs", Options())
    return [s.system for s in p.searches if s.system.symmetry is not None]


@pytest.mark.parametrize("name", SPECS)
def test_a_representative_is_its_own_and_every_image_has_the_same(name):
    systems = _systems(SPECS[name]())
    assert systems, name
    for system in systems:
        sym = system.symmetry
        group = list(sym.group())
        states = reachable(system, 1500)
        assert len(states) > 10
        for s in states:
            rep = sym._canonical(s)
            assert sym._canonical(rep) == rep, (name, s)
            for p in group[:24]:
                assert sym._canonical(sym.permute(s, p)) == rep, (name, s, p)


@pytest.mark.parametrize("name", ["B1", "B1-mv-register", "lww-3x1-crash"])
def test_the_memo_changes_no_report(name, monkeypatch):
    spec = SPECS[name]()
    cached = check(spec)
    monkeypatch.setattr(Symmetry, "canonical", Symmetry._canonical)
    plain = check(spec)
    assert (cached.stats.states, cached.stats.transitions, cached.stats.quiescent) == \
           (plain.stats.states, plain.stats.transitions, plain.stats.quiescent)
    for a, b in zip(cached.results, plain.results):
        assert (a.verdict, a.anomalies, a.path, a.shortest) == (b.verdict, b.anomalies, b.path, b.shortest)


def test_the_memo_bounds_itself(monkeypatch):
    import replcheck.model.symmetry as symmetry
    monkeypatch.setattr(symmetry, "MEMO", 50)
    spec = SPECS["B1"]()
    (system,) = _systems(spec)[:1]
    for s in reachable(system, 400):
        system.symmetry.canonical(s)
        assert len(system.symmetry._memo) <= 51
