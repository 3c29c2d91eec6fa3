"""The composing commands against a direct check (docs/trust.md): every row
of ``matrix``, every ``drill check`` and every ``drill solve`` cell must say
what ``replcheck check`` says about the spec it stands for."""

from __future__ import annotations

import pytest

from replcheck.checks import drill, matrix
from replcheck.checks.verdict import HOLDS, INCOMPLETE, VIOLATED, check, load
from replcheck.model.errors import SpecError
from replcheck.model.spec import parse_spec
from tests.conftest import SPECS

ANSWERS = sorted((SPECS / "drills" / "answers").glob("*.toml"))


def _verdicts(report):
    return [(r.invariant, r.verdict, r.anomaly, bool(r.vacuous)) for r in report.results]


def _cell_verdict(report) -> str:
    """What a solve cell must read for this direct report."""
    if any(r.verdict == VIOLATED for r in report.results):
        return "fail"
    if any(r.verdict == INCOMPLETE for r in report.results):
        return "incomplete"
    if any(r.vacuous for r in report.results):
        return "vacuous"
    return "pass"


@pytest.mark.parametrize("path", ANSWERS, ids=lambda p: p.stem)
def test_drill_check_says_what_a_direct_check_of_the_composed_spec_says(path):
    answer = drill.load_answer(path)
    d = drill.find_drill(answer.drill, near=path.parent)
    outcome = drill.check_answer(d, answer, explore_rejections=False)
    direct = check(parse_spec(drill.compose(d, answer), str(path), None))
    assert _verdicts(outcome.report) == _verdicts(direct)
    assert outcome.passed == all(r.verdict == HOLDS and not r.vacuous for r in direct.results)


@pytest.mark.parametrize("name", ["inventory", "user-auth", "notes"])
def test_every_drill_solve_cell_says_what_a_direct_check_says(name):
    d = drill.find_drill(name)
    resolvers = ("lww", "pn-counter", "escrow", "mv-register", "couchdb", "home-leader")
    cells = drill.solve(d, resolvers=[r for r in resolvers if r in drill.RESOLVERS])
    checked = 0
    for c in cells:
        try:
            spec = parse_spec(drill.compose(d, c.answer), f"solve {name}", None)
        except SpecError:        # drill.NotApplicable is one: the combination cannot run
            assert c.verdict == "n/a", c.answer
            continue
        assert c.verdict != "n/a", c.answer
        direct = check(spec)
        assert c.verdict == _cell_verdict(direct), c.answer
        checked += 1
    assert checked >= 6      # the comparison is not vacuous


@pytest.mark.parametrize("spec", ["seed/alice-bob-lww.toml", "seed/skew-wall.toml", "app/ddia-insert-update-ring.toml"])
def test_every_matrix_row_says_what_check_with_set_says(spec):
    """Rows against ``--set system.resolver=R --set system.topology=T``: a
    path through the spec loader that shares nothing with matrix.variant
    (these specs declare no per-key types)."""
    path = SPECS / spec
    resolvers, topologies = ("lww", "mv-register", "first-writer-wins", "keep-local"), ("all-to-all", "ring")
    m = matrix.run(path, resolvers=resolvers, topologies=topologies)
    compared = 0
    for t in topologies:
        for r in resolvers:
            rep = m.report(t, r)
            if isinstance(rep, matrix.NotApplicable):
                continue
            direct = check(load(path, [f"system.resolver={r}", f"system.topology={t}"]))
            assert _verdicts(rep) == _verdicts(direct), (t, r)
            compared += 1
    assert compared >= 6
