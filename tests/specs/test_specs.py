"""Every spec in specs/ gives the verdicts its [expect] table states."""

from dataclasses import replace

import pytest

from replcheck.checks.verdict import check, load, meets
from tests.conftest import SPECS

ALL = sorted(p for p in SPECS.rglob("*.toml") if "answers" not in p.parts)


def test_there_are_specs():
    assert len(ALL) >= 9


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(SPECS)))
def test_spec_matches_its_expectations(path):
    spec = load(path)
    if "python" in spec.requires:   # run with --allow-python's permission (CI's --expect skips it)
        spec = replace(spec, allow_python=True)
    assert spec.expect, f"{path} has no [expect] table"
    got = {r.invariant: r for r in check(spec).results}
    for inv, exp in spec.expect:
        assert got[inv].verdict == exp.verdict, f"{inv}: {got[inv].verdict} ({got[inv].bound})"
        assert meets(got[inv], exp), f"{inv}: {got[inv].anomaly} {got[inv].anomalies}"   # violated:X: X among the kinds
