"""Every spec in specs/conformance/ re-run on the real product it records
(docs/conformance.md "Recorded observations"): the same number of
schedules, all agreeing with the model, and the same final states the
product showed when the spec was recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from replcheck import load
from replcheck.checks.conform.observed import observed
from replcheck.checks.conform.observed import ends_of
from replcheck.checks.conform.run import AGREE, DISAGREE, conform, exit_code
from replcheck.checks.conform.targets.pglogical import available

ROOT = Path(__file__).resolve().parents[3]
SPECS = sorted((ROOT / "specs" / "conformance").rglob("*.toml"))
MISSING = available()


def test_every_conformance_spec_records_an_observation():
    assert len(SPECS) >= 30
    for path in SPECS:
        rec = observed(load(str(path)))
        assert rec is not None, f"{path}: no [observed] table; python bench/conformance_specs.py --observe"
        assert rec.schedules == rec.agree + rec.disagree and rec.ends


@pytest.mark.postgres
@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
@pytest.mark.parametrize("path", [p for p in SPECS if "pglogical" in p.parts], ids=lambda p: p.stem)
def test_the_recorded_observation_is_observed_again_on_postgresql(path):
    _again(path, "pglogical")


@pytest.mark.parametrize("path", [p for p in SPECS if "pycrdt" in p.parts], ids=lambda p: p.stem)
def test_the_recorded_observation_is_observed_again_on_pycrdt(path):
    _again(path, "pycrdt")


def _again(path, target):
    spec = load(str(path))
    rec = observed(spec)
    assert rec.target == target
    c = conform(spec, target)
    assert (len(c.outcomes), c.count(AGREE), c.count(DISAGREE)) == (rec.schedules, rec.agree, rec.disagree)
    assert ends_of(c) == sorted(rec.ends)
    assert exit_code(c) == (0 if rec.disagree == 0 else 1)
