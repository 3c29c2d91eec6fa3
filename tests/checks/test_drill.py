"""replcheck drill: every bundled answer's verdict is pinned, drill solve
agrees with each answer, answers are data only, and the CLI's exit codes."""

import re
import subprocess
import sys

import pytest

from replcheck.checks import drill as D
from replcheck.model.errors import SpecError
from tests.conftest import ROOT, SPECS

ANSWERS = SPECS / "drills" / "answers"

# answer file -> (passes?, {invariant: anomaly of each violation})
PINNED = {
    "inventory-escrow": (True, {}),
    "inventory-home-leader": (True, {}),
    "inventory-pn-counter": (False, {"stock-non-negative": "oversell"}),
    "inventory-lww": (False, {"stock-non-negative": "oversell", "no-lost-writes": "lost-update"}),
    "user-auth-by-id": (False, {"email-unique": "duplicate-email"}),
    "user-auth-by-email-lww": (False, {"no-lost-writes": "lost-update"}),
    "user-auth-by-email-mv-register": (False, {"email-unique": "duplicate-email"}),
    "user-auth-home-by-email": (True, {}),
    "issue-tracker-home-by-user": (True, {}),
    "issue-tracker-mv-register-ring": (True, {}),
    "issue-tracker-mv-register": (False, {"causal-order": "causality-violation"}),
    "notes-mv-register": (True, {}),
    "notes-lww": (False, {"no-lost-writes": "lost-update"}),
    "notes-home-cloud": (False, {"offline-available": "unavailable-offline"}),
    "metrics-g-counter": (True, {}),
    "metrics-lww": (False, {"no-lost-writes": "lost-update"}),
}


def _outcome(name):
    a = D.load_answer(ANSWERS / f"{name}.toml")
    return D.check_answer(D.find_drill(a.drill, near=ANSWERS), a)


def test_every_answer_is_pinned_and_every_drill_has_a_passing_and_a_failing_answer():
    assert {p.stem for p in ANSWERS.glob("*.toml")} == set(PINNED)
    drills = {d.name for d in D.list_drills()}
    assert drills == {"inventory", "user-auth", "issue-tracker", "notes", "metrics"}
    for d in drills:
        outcomes = {ok for name, (ok, _) in PINNED.items() if D.load_answer(ANSWERS / f"{name}.toml").drill == d}
        assert outcomes == {True, False}, d


@pytest.mark.parametrize("name", sorted(PINNED))
def test_answer_verdict(name):
    ok, violated = PINNED[name]
    o = _outcome(name)
    assert o.passed is ok
    got = {r.invariant: r.anomaly for r in o.report.results if r.verdict == "violated"}
    assert got == violated
    assert all(r.verdict in ("holds", "violated") for r in o.report.results)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_drill_solve_agrees_with_the_answer(name):
    a = D.load_answer(ANSWERS / f"{name}.toml")
    d = D.find_drill(a.drill)
    routing = a.routing if a.routing == "none" else f"home-leader:{a.home_by}"
    cells = D.solve(d, [a.topology], [a.resolver], [routing])
    mine = [c for c in cells if c.answer.layout == a.layout and c.answer.home_by == a.home_by]
    assert len(mine) == 1
    assert mine[0].verdict == ("pass" if PINNED[name][0] else "fail")
    assert set(mine[0].failed) == set(PINNED[name][1])


def test_the_inventory_counterexample_reads_like_the_issue():
    text = D.render_check(_outcome("inventory-pn-counter"))
    assert "us-east and eu-west both sold the last unit of item:42.stock: 2 sales acknowledged for 1 item" in text
    assert "if replication then runs to the end: us-east: -1 | eu-west: -1 | ap-south: -1" in text
    assert "FAIL: 1 of 3 required invariants violated (stock-non-negative)" in text


def test_one_leader_for_everything_passes_and_pays_the_round_trip():
    o = _outcome("inventory-home-leader")
    assert o.passed
    assert D.region_costs(o.costs) == [("us-east", 5, "local commit 5 ms"),
                                       ("eu-west", 125, "routed to us-east: 60 + 5 + 60 ms")]
    assert re.search(r"eu-west +125 ms  \(routed to us-east: 60 \+ 5 \+ 60 ms\)", D.render_check(o))


def test_escrow_passes_locally_but_refuses_the_region_without_rights():
    o = _outcome("inventory-escrow")
    assert o.passed and {ms for _, ms, _ in D.region_costs(o.costs)} == {5}
    assert o.rejected == {"sale-eu": "always"}
    assert "sale-eu is rejected in every run: its leader's local rights (escrow) do not cover it" in D.render_check(o)


def test_solve_inventory_table():
    d = D.find_drill("inventory")
    cells = D.solve(d, resolvers=["lww", "pn-counter", "escrow", "mv-register"])
    by = {(c.answer.topology, c.answer.resolver, c.answer.routing): c for c in cells}
    assert by[("all-to-all", "escrow", "none")].verdict == "pass"
    assert by[("ring", "lww", "home-leader")].verdict == "pass" and by[("ring", "lww", "home-leader")].worst_ms == 125
    assert by[("star", "pn-counter", "none")].failed == ("stock-non-negative",)
    assert by[("all-to-all", "mv-register", "none")].verdict == "n/a"
    text = D.render_solve(d, cells)
    assert "n/a mv-register: workload[0].decr" in text and "applicable answers pass" in text


def test_routing_by_email_on_rows_keyed_by_id_is_not_applicable():
    d = D.find_drill("user-auth")
    a = D.parse_answer({"drill": "user-auth", "topology": "all-to-all", "resolver": "lww", "layout": "by-id",
                        "routing": "home-leader", "home_by": "email", "defense": "x"})
    with pytest.raises(D.NotApplicable, match="routing by email needs rows keyed by email"):
        D.answer_spec(d, a)


@pytest.mark.parametrize("data,key", [
    ({"drill": "inventory", "topology": "all-to-all", "resolver": "escrow"}, "defense"),
    ({"drill": "inventory", "topology": "mesh", "resolver": "escrow", "defense": "x"}, "topology"),
    ({"drill": "inventory", "topology": "all-to-all", "resolver": "escrow", "defense": "x", "code": "rm"}, "code"),
    ({"drill": "inventory", "topology": "all-to-all", "resolver": "lww", "routing": "home-leader", "defense": "x"},
     "home_by"),
    ({"drill": "inventory", "topology": "ring", "resolver": "lww", "hub": "us-east", "defense": "x"}, "hub"),
])
def test_bad_answers_are_one_line_errors_naming_the_key(data, key):
    with pytest.raises(SpecError) as e:
        D.parse_answer(data, "a.toml")
    assert e.value.key == key and "\n" not in str(e.value)


def test_an_answer_never_runs_code_without_the_flag():
    d = D.find_drill("notes")
    a = D.parse_answer({"drill": "notes", "topology": "star", "merge": "examples.merges:concat_titles",
                        "defense": "concatenate both edits"})
    with pytest.raises(SpecError, match="--allow-python"):
        D.answer_spec(d, a)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "replcheck.checks.cli", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_drill_check_list_and_solve():
    r = _run("drill", "check", str(ANSWERS / "user-auth-home-by-email.toml"))
    assert r.returncode == 0 and "PASS  email-unique" in r.stdout
    r = _run("drill", "check", str(ANSWERS / "user-auth-by-email-lww.toml"))
    assert r.returncode == 1 and "FAIL  no-lost-writes  lost-update" in r.stdout
    # The written value, named as the op that wrote it (an insert; older wording had no "insert ").
    assert re.search(r'alice-us\'s acknowledged write (insert )?"alice-us"', r.stdout)
    r = _run("drill", "list")
    assert r.returncode == 0 and "user-auth: Multi-region user-auth database" in r.stdout
    r = _run("drill", "solve", "notes", "--resolvers", "lww,mv-register", "--progress")
    assert r.returncode == 0 and "answers checked" in r.stderr and "mv-register" in r.stdout
    r = _run("drill", "check", "nope.toml")
    assert r.returncode == 2 and r.stderr.startswith("replcheck: nope.toml")


def test_expect_over_specs_skips_answers(tmp_path):
    r = _run("check", "--expect", str(SPECS / "drills"))
    assert r.returncode == 0, r.stdout
    assert "answers" not in r.stdout and "5 specs, 5 as expected" in r.stdout


def test_solve_where_every_answer_was_cut_by_a_bound_is_incomplete_not_a_violation(tmp_path):
    # Review finding: "no answer passes" exited 1 (violation) although no
    # answer failed; every cell was incomplete.  Exit 3.
    import shutil
    shutil.copy(SPECS / "drills" / "metrics.toml", tmp_path / "metrics.toml")
    with open(tmp_path / "metrics.toml", "a") as f:
        f.write("\n[bounds]\nmax_states = 3\n")
    r = _run("drill", "solve", "metrics", "--drills", str(tmp_path), "--resolver", "g-counter,lww",
             "--topology", "all-to-all")
    assert "0 of 6 applicable answers pass" in r.stdout
    assert r.returncode == 3, r.stdout + r.stderr


def test_drill_check_of_a_folder_grades_every_answer_in_name_order(tmp_path):
    """Issue 15: ``drill check FOLDER`` grades a folder of answers: each
    answer's report as ``drill check ANSWER`` prints it, then one line per
    answer; exit 1 when one fails, 0 when all pass."""
    r = _run("drill", "check", str(ANSWERS))
    assert r.returncode == 1, r.stderr
    files = sorted(p.name for p in ANSWERS.glob("*.toml"))
    summary = r.stdout[r.stdout.index("graded "):].splitlines()
    assert summary[0].startswith(f"graded {len(files)} answers in {ANSWERS}: ")
    assert [line.split()[1] for line in summary[1:]] == files
    for f in ("user-auth-home-by-email.toml", "user-auth-by-email-lww.toml"):   # the same report as alone
        alone = _run("drill", "check", str(ANSWERS / f)).stdout
        assert alone in r.stdout
    assert "PASS         user-auth-home-by-email.toml" in r.stdout
    assert "FAIL         user-auth-by-email-lww.toml" in r.stdout
    passing = tmp_path / "passing"
    passing.mkdir()
    for f in ("user-auth-home-by-email.toml", "notes-mv-register.toml"):
        (passing / f).write_text((ANSWERS / f).read_text())
    r = _run("drill", "check", str(passing))
    assert r.returncode == 0 and f"graded 2 answers in {passing}: 2 PASS, 0 FAIL" in r.stdout, r.stdout + r.stderr


def test_drill_check_of_a_folder_refuses_a_bad_answer_before_running_any(tmp_path):
    (tmp_path / "a-good.toml").write_text((ANSWERS / "notes-mv-register.toml").read_text())
    (tmp_path / "b-bad.toml").write_text('drill = "notes"\nresolvr = "lww"\n')
    r = _run("drill", "check", str(tmp_path))
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.count("\n") == 1 and "b-bad.toml" in r.stderr and "resolvr" in r.stderr, r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _run("drill", "check", str(empty))
    assert r.returncode == 2 and "no answer files" in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_drill_check_of_a_folder_stopped_checks_no_further_answer(tmp_path, monkeypatch):
    """Ctrl-C / SIGTERM while grading: the answer being checked is
    interrupted, the ones after it are not checked (never run on), exit 3."""
    from click.testing import CliRunner
    from replcheck.checks.cli import main
    from replcheck.checks.verdict import not_run
    for f in ("notes-mv-register.toml", "user-auth-home-by-email.toml", "metrics-g-counter.toml"):
        (tmp_path / f).write_text((ANSWERS / f).read_text())
    calls = []

    def stopped_check(spec, *a, **k):   # the first search is stopped: as a real stop leaves it
        calls.append(spec)
        return not_run(spec)
    monkeypatch.setattr(D, "check", stopped_check)
    r = CliRunner().invoke(main, ["drill", "check", str(tmp_path)])
    assert len(calls) == 1, len(calls)
    assert r.exit_code == 3, r.output
    assert "graded 3 answers" in r.output and "0 PASS, 0 FAIL, 0 VACUOUS, 3 NOT SETTLED" in r.output, r.output
