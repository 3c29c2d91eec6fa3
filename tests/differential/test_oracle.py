"""The differential oracle in CI: a fixed-seed sample of generated specs on
which every engine, reduction and mode must agree, the known wrong answers
as regressions, and seeded bugs it must catch (docs/trust.md).

``python bench/differential.py --n N --seed S`` runs the same comparisons on
thousands of specs.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings

from tests.differential import oracle
from tests.differential.generate import spec_dicts

ROOT = Path(__file__).resolve().parents[2]
REGRESSIONS = ROOT / "specs" / "regressions"

# Derandomized: the same specs on every run, so CI's time and verdict are
# stable; a failure is shrunk by Hypothesis to a minimal spec dict.
SAMPLE = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))


def _assert_agrees(data, modes=oracle.LIGHT_MODES):
    o = oracle.compare(data, modes)
    assert not o.disagreements, "\n".join(map(str, o.disagreements))
    return o


@pytest.mark.slow
@SAMPLE
@given(spec_dicts())
def test_every_engine_and_reduction_agrees_on_generated_specs(data):
    _assert_agrees(data)


@pytest.mark.slow
@SAMPLE
@given(spec_dicts(reducible=True))
def test_every_reduction_agrees_with_the_plain_engine_where_it_applies(data):
    _assert_agrees(data, ("reduced-vs-plain", "judged-reachable", "bfs-vs-dfs", "replay"))


@seed(12)
@settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(spec_dicts())
def test_the_parallel_swarm_agrees_with_the_serial_one(data):
    _assert_agrees(data, ("workers",))


@seed(3)
@settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(spec_dicts())
def test_spin_agrees_where_the_export_covers_the_spec(data):
    _assert_agrees(data, ("spin",))


def test_the_generator_covers_the_whole_spec_language():
    """The sample really exercises what the oracle claims to cover."""
    from hypothesis import find
    seen = set()

    def note(d):
        s = d["system"]
        seen.add(("topology", s.get("topology")))
        seen.add(("resolver", s["resolver"]))
        seen.add(("links", s.get("links", "fifo")))
        seen.add(("loop", s.get("loop_prevention", "origin")))
        for t in d.get("keys", {}).values():
            seen.add(("type", t.get("type")))
        for op in d["workload"]:
            seen.update(("op", k) for k in op if k not in ("id", "leader", "key", "time_ms"))
        for k in d.get("faults", {}):
            seen.add(("fault", k))
        return False

    with pytest.raises(Exception):   # find() raises when nothing matches: we only want the walk
        find(spec_dicts(), note, settings=settings(max_examples=3000, database=None, derandomize=True,
                                                   suppress_health_check=list(HealthCheck)))
    ops = {v for k, v in seen if k == "op"}
    assert {"set", "delete", "resolve", "incr", "decr", "transfer", "insert", "update", "upsert", "sell",
            "restock", "add", "remove", "after"} <= ops
    assert {v for k, v in seen if k == "topology"} >= {"all-to-all", "ring", "star", "custom"}
    assert {v for k, v in seen if k == "links"} >= {"fifo", "unordered", "duplicating", "lossy"}
    assert {v for k, v in seen if k == "loop"} >= {"origin", "visited", "none"}
    assert {v for k, v in seen if k == "fault"} >= {"crashes", "recoveries", "lose_unsent", "partitions", "heals",
                                                    "clock_jumps", "failovers"}
    from replcheck.model.resolvers import RESOLVERS, TABLES
    named = {v for k, v in seen if k in ("resolver", "type")}
    registers = {n for n, r in RESOLVERS.items() if r.family == "register"}
    assert registers <= named | {v for k, v in seen if k == "resolver"}
    assert {n for n, r in RESOLVERS.items() if r.family != "register"} | set(TABLES) <= named


def _repro(path: Path) -> dict:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.pop("expect", None)
    return data


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*.toml")) if REGRESSIONS.is_dir() else [],
                         ids=lambda p: p.stem)
def test_every_regression_spec_is_agreed_on(path):
    data = _repro(path)
    if oracle.parse(data) is None:
        pytest.skip("not a plain spec (needs flags or Python)")
    _assert_agrees(data, oracle.ALL_MODES)


# ----------------------------------------------------------- seeded bugs
# The oracle must catch a wrong engine: each test below breaks one piece
# on purpose and asserts that some comparison disagrees.

TWO_WRITES = {"system": {"leaders": ["a", "b", "c"], "resolver": "apply-remote"},
              "workload": [{"id": "w0", "leader": "a", "key": "k", "set": "1"},
                           {"id": "w1", "leader": "b", "key": "k", "set": "2"}],
              "check": {"invariants": ["convergence", "no-lost-writes"]}}


def test_seeded_bug_an_unsound_partial_order_reduction_is_caught(monkeypatch):
    from replcheck.model import por
    monkeypatch.setattr(por, "applicable", lambda system: (True, "forced (seeded bug)"))
    o = oracle.compare(TWO_WRITES, ("judged-reachable", "reduced-vs-plain"))
    assert any(d.comparison == "judged-reachable" for d in o.disagreements)


def test_seeded_bug_a_check_that_cannot_fail_is_caught(monkeypatch):
    from replcheck.checks import invariants
    real = invariants.INVARIANTS["convergence"]
    broken = type(real)(**{**real.__dict__, "build": lambda system: (lambda state: None)})
    monkeypatch.setitem(invariants.INVARIANTS, "convergence", broken)
    o = oracle.compare(TWO_WRITES, ("smt", "replay"))
    assert o.disagreements


def test_seeded_bug_a_dfs_that_skips_states_is_caught(monkeypatch):
    from replcheck.model import search
    real = search.dfs

    def shallow(system, properties, bounds=search.Bounds(), **kw):
        return real(system, properties, search.Bounds(max_states=None, max_depth=1, max_seconds=None), **kw)

    def complete_lie(*a, **kw):
        r = shallow(*a, **kw)
        return search.SearchResult(r.engine, r.stats, True, None, r.found)

    monkeypatch.setattr(search, "dfs", complete_lie)
    o = oracle.compare(TWO_WRITES, ("bfs-vs-dfs",))
    assert any(d.comparison == "bfs-vs-dfs" for d in o.disagreements)
