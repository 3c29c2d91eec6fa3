"""Issue 17, "Faults in drill answers": an answer's [faults] table is
validated like a spec's (errors name the answer file) and checked; `drill
solve --faults` sweeps fault budgets."""

from click.testing import CliRunner

from replcheck.checks import drill as drill_mod
from replcheck.checks.cli import main


def _answer(tmp_path, topology="ring", resolver="escrow", faults="[faults]\ncrashes = 1\n"):
    p = tmp_path / "answer.toml"
    p.write_text(f'drill = "inventory"\ntopology = "{topology}"\nresolver = "{resolver}"\n'
                 f'defense = "rights per region"\n{faults}')
    return p


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


def test_a_crash_breaks_the_ring_answer_that_passes_without_it(tmp_path):
    """Escrow on a ring passes with no fault; with one crash a leader on the
    ring stops relaying and the others diverge (docs/faults.md)."""
    code, out = run("drill", "check", _answer(tmp_path, faults=""))
    assert code == 0 and "PASS: every required invariant holds" in out
    code, out = run("drill", "check", _answer(tmp_path))
    assert code == 1 and "faults crashes=1" in out and "FAIL  convergence" in out


def test_a_bad_faults_key_names_the_answer_file(tmp_path):
    p = _answer(tmp_path, faults='[faults]\ncrashes = 1\ncrashable = ["us-eats"]\n')
    code, out = run("drill", "check", p)
    assert code == 2 and out.startswith(f"replcheck: {p}: faults.crashable[0]: unknown leader 'us-eats'")
    p = _answer(tmp_path, faults='[faults]\ncrashs = 1\n')
    code, out = run("drill", "check", p)
    assert code == 2 and str(p) in out and "crashs" in out and "crashes" in out
    p = _answer(tmp_path, faults='faults = 3\n')
    code, out = run("drill", "check", p)
    assert code == 2 and "faults: must be a table" in out


def test_solve_sweeps_fault_budgets():
    d = drill_mod.find_drill("inventory")
    cells = drill_mod.solve(d, ["ring"], ["escrow"], ["none"], faults=drill_mod.parse_budgets(["none", "crashes=1"]))
    by = {drill_mod.faults_label(c.answer.faults): c.verdict for c in cells}
    assert by == {"none": "pass", "crashes=1": "fail"}
    text = drill_mod.render_solve(d, cells)
    assert "faults none, no routing:" in text and "faults crashes=1, no routing:" in text


def test_solve_refuses_a_budget_that_is_not_one():
    code, out = run("drill", "solve", "inventory", "--faults", "crashes")
    assert code == 2 and "--faults" in out and len(out.strip().splitlines()) == 1


def test_solve_tables_wrap_at_120_columns():
    """Issue 16: `drill solve` printed 600-character rows (every resolver of a
    row on one line); the resolver lists and n/a reasons wrap now."""
    d = drill_mod.find_drill("user-auth")
    text = drill_mod.render_solve(d, drill_mod.solve(d, ["all-to-all"]))
    assert max(len(line) for line in text.splitlines()) <= drill_mod.WIDTH
    assert "pglogical-first-update-wins" in text


def test_set_edits_the_drills_spec_for_check_and_solve():
    """Issue 16, one vocabulary: --set wherever a spec is involved — here the
    drill's (a slower network makes the routed answer cost more)."""
    from tests.conftest import SPECS
    answer = SPECS / "drills" / "answers" / "inventory-home-leader.toml"
    code, out = run("drill", "check", answer, "--set", "system.latency_ms=100")
    assert code == 0 and "205 ms  (routed to us-east: 100 + 5 + 100 ms)" in out
    code, out = run("drill", "check", answer, "--set", "system.latency_ms=-1")
    assert code == 2 and len(out.strip().splitlines()) == 1 and "latency_ms" in out
