"""Issue 14: regression tests for the root causes the fuzzing campaign
found (docs/reliability.md "Root causes found"), one test or more each.
Each runs the real CLI (or the function the CLI calls) on the reproducer
or on a small spec made to show the cause."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from replcheck.checks import drill as drill_mod
from replcheck.checks import matrix as matrix_mod
from replcheck.checks.budget import TOTAL, Budget
from replcheck.checks.cli import main
from replcheck.checks.conform.schedules import enumerate_schedules
from replcheck.checks.minimize import minimize
from replcheck.checks.verdict import check, load
from replcheck.model import topology as t
from replcheck.model.propagation import analyse, receivers
from replcheck.model.system import System
from tests.conftest import ROOT, SPECS, sigint_default

SEED = SPECS / "seed" / "alice-bob-lww.toml"
REPRO = ROOT / "tests" / "fuzz" / "repro"


def run(args, cwd=None):
    """The CLI in-process: ``(exit code, stdout+stderr)``."""
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        r = CliRunner().invoke(main, [str(a) for a in args])
    finally:
        os.chdir(old)
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    return r.exit_code, r.output


# ------------------------------------------------- 2. conform's enumeration
def test_conform_enumeration_stops_at_max_seconds():
    """The reproducer's enumeration takes over a minute; the bound stops it
    and says so (a cut, never "agree")."""
    system = System(load(REPRO / "conform-unbounded.toml"))
    t0 = time.monotonic()
    enum = enumerate_schedules(system, limit=10 ** 6, max_seconds=0.5)   # the time bound, not the count, stops it
    assert time.monotonic() - t0 < 10
    assert enum.cut and enum.cut.startswith("max_seconds")


def test_conform_without_a_bound_still_lists_every_class():
    system = System(load(SPECS / "conformance" / "pycrdt" / sorted(os.listdir(SPECS / "conformance" / "pycrdt"))[0]))
    assert enumerate_schedules(system).cut is None


# ------------------------------------------------------- 3. minimisation
def test_minimisation_stops_at_its_budget_with_a_trace_that_still_violates():
    spec = load(SEED)
    rep = check(spec, ["no-lost-writes"])
    res = rep.results[0]
    mini = minimize(System(rep.spec), "no-lost-writes", res.path, res.anomaly, seconds=0.0)
    assert mini.stopped and mini.path == tuple(res.path)
    assert "time budget" in mini.note() and "may not all be needed" in mini.note()
    full = minimize(System(rep.spec), "no-lost-writes", res.path, res.anomaly)
    assert not full.stopped and "time budget" not in full.note()


# ---------------------------------------------- 5. a bound for the command
def test_budget_clamps_a_run_and_reports_the_runs_not_started():
    b = Budget.start(0.0)
    assert b.spent
    assert Budget().left() is None and not Budget().spent
    spec = load(SEED)
    assert Budget.start(5).bound(spec).bounds.max_seconds <= 5
    assert Budget().bound(spec) is spec


def test_check_resolver_all_honours_total_seconds():
    t0 = time.monotonic()
    code, out = run(["check", SEED, "--resolver", "all", "--total-seconds", "0.001"])
    assert time.monotonic() - t0 < 60
    assert code == 3 and f"incomplete ({TOTAL}" in out or "total_seconds" in out
    assert "--total-seconds 0.001 ran out" in out


def test_matrix_honours_total_seconds():
    m = matrix_mod.run(SEED, ["lww", "mv-register"], budget=Budget.start(0.0))
    assert m.not_started == 2 and not m.interrupted
    assert set(m.verdicts) == {"incomplete"}
    rows = matrix_mod.rows(m)
    assert all(r["bound"] == TOTAL and "total-seconds" in r["message"] for r in rows)


def test_drill_solve_honours_total_seconds():
    d = drill_mod.find_drill("inventory")
    cells = drill_mod.solve(d, resolvers=["lww", "escrow"], budget=Budget.start(0.0))
    assert cells and all(c.verdict in ("incomplete", "n/a") for c in cells)
    assert any(c.reason == drill_mod.NOT_STARTED for c in cells)
    assert "not started: --total-seconds ran out" in drill_mod.render_solve(d, cells)


# ------------------------------------------------------ 6. dense topology
def test_topology_on_a_dense_16_leader_mesh_is_quick():
    t0 = time.monotonic()
    code, out = run(["topology", REPRO / "dense-topology.toml"])
    assert code == 0, out
    assert time.monotonic() - t0 < 60   # was 35 s idle (minutes loaded); a hang guard, not a benchmark
    assert "single points of failure" in out.lower() or "links:" in out


def _reference_spof(topo):
    """Single points of failure as computed before the early stop: every
    walk to the end."""
    n = topo.n
    base = {a: receivers(topo, a) for a in range(n)}
    leaders = tuple(x for x in range(n) if any((base[a] - {x}) - receivers(topo, a, down=frozenset([x]))
                                               for a in range(n) if a != x))
    links = tuple(e for e in topo.edges if any(base[a] - receivers(topo, a, cut_links=frozenset([e]))
                                               for a in range(n)))
    return leaders, links


@pytest.mark.parametrize("topo", [t.ring(5), t.star(4, 0), t.all_to_all(4), t.star(5, 2),
                                  t.custom(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 2), (1, 4)])],
                         ids=["ring5", "star4", "a2a4", "star5", "custom5"])
def test_the_early_stopping_walk_finds_the_same_single_points_of_failure(topo):
    a = analyse(topo)
    assert (a.spof_leaders, a.spof_links) == _reference_spof(topo)


# ----------------------------------------------------------- 9./15. -o
def test_o_onto_a_folder_is_one_line(tmp_path):
    code, out = run(["topology", SEED, "-o", "."], cwd=tmp_path)
    assert code == 2 and out.count("\n") == 1 and "is a folder" in out


def test_o_with_a_trailing_slash_for_a_missing_folder_is_refused(tmp_path):
    code, out = run(["topology", SEED, "-o", "newdir/"], cwd=tmp_path)
    assert code == 2 and "ends in '/'" in out
    assert not (tmp_path / "newdir").exists()


def test_o_onto_a_dangling_link_into_a_missing_folder_is_refused_before_the_run(tmp_path):
    (tmp_path / "lnk").symlink_to("/nonexistent-replcheck/x.txt")
    code, out = run(["topology", SEED, "-o", "lnk"], cwd=tmp_path)
    assert code == 2 and "does not exist" in out


# ------------------------------------------------------------- 11./16. drills
def test_drill_check_names_the_answer_for_an_unknown_drill(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text('drill = "nope"\ntopology = "ring"\nresolver = "lww"\ndefense = "x"\n')
    code, out = run(["drill", "check", a])
    assert code == 2 and out.startswith(f"replcheck: {a}: drill: unknown drill 'nope'")


def test_drill_solve_refuses_o_onto_another_drill_of_its_folder(tmp_path):
    import shutil
    shutil.copytree(SPECS / "drills", tmp_path / "d", ignore=shutil.ignore_patterns("answers"))
    victim = tmp_path / "d" / "metrics.toml"
    before = victim.read_bytes()
    code, out = run(["drill", "solve", "inventory", "--drills", tmp_path / "d", "-o", victim])
    assert code == 2 and "would overwrite the input" in out
    assert victim.read_bytes() == before


# ---------------------------------------------------------- 12. SystemExit
@pytest.mark.parametrize("fn", ["exit_zero", "exit_one"])
def test_a_merge_that_exits_is_a_one_line_error(fn):
    code, out = run(["check", REPRO / "python-exit.toml", "--allow-python",
                     "--set", f'system.merge="tests.fuzz.repro.python_exit:{fn}"'], cwd=ROOT)
    assert code == 2, out
    assert "raised SystemExit" in out and "fix the function" in out


def test_a_merge_that_calls_os_exit_is_a_one_line_error():
    """os._exit ends an interpreter at once (exit 0, nothing printed): while
    the user's merge runs it raises instead (model/resolvers/custom_merge.py)."""
    code, out = run(["check", REPRO / "python-exit.toml", "--allow-python",
                     "--set", 'system.merge="tests.fuzz.repro.python_exit:hard_exit"'], cwd=ROOT)
    assert code == 2, out
    assert "raised HardExit: os._exit(0) called" in out and "fix the function" in out
    import os as os_
    assert os_._exit.__name__ == "_exit"       # restored after the call


def test_a_failing_merge_in_a_swarm_worker_is_the_same_one_line_error():
    """The worker's SpecError crosses the process boundary (SpecError.__reduce__);
    before, unpickling it raised TypeError and the pool died: exit 4."""
    args = [sys.executable, "-m", "replcheck.checks.cli", "check", str(REPRO / "python-exit.toml"), "--allow-python",
            "--set", 'system.merge="tests.fuzz.repro.python_exit:recurse"', "--simulate", "--runs", "20",
            "--workers", "2"]
    script = Path(sys.executable).parent / "replcheck"
    if script.exists():
        args = [str(script)] + args[3:]
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "raised RecursionError" in out.stderr and "internal error" not in out.stderr


def test_every_spec_error_survives_pickling():
    import pickle
    from replcheck.checks.smt.expr import QueryError
    from replcheck.model.errors import SpecError
    from replcheck.model.variants import NotApplicable
    for cls in (SpecError, QueryError, NotApplicable):
        e = cls("f.toml", "system.merge", "what is wrong; the fix")
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is cls and (back.source, back.key, back.message, str(back)) == \
            (e.source, e.key, e.message, str(e))


# ---------------------------------------------------------- Ctrl-C at start
def test_ctrl_c_while_starting_is_one_line_exit_3():
    """The package imports nothing heavy until asked (PEP 562), so a Ctrl-C
    while the CLI's modules load reaches the console entry's handler."""
    code = ("import sys, replcheck; assert 'replcheck.checks.verdict' not in sys.modules;"
            " assert replcheck.check and replcheck.SpecError; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr
    script = Path(sys.executable).parent / "replcheck"
    if not script.exists():
        pytest.skip("no console script in this environment")
    proc = subprocess.Popen([str(script), "check", str(SEED)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=sigint_default)
    time.sleep(0.4)   # past the interpreter's own start (site), which no program can guard
    proc.send_signal(2)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert proc.returncode in (0, 1, 3), (proc.returncode, err)   # finished first (fast machine) or stopped
    if proc.returncode == 3:
        assert len(err.strip().splitlines()) == 1


# ------------------------------------------- a wide fan-out and the clock
@pytest.mark.parametrize("engine", ["dfs", "bfs"])
def test_max_seconds_holds_when_every_state_has_hundreds_of_successors(engine):
    """The campaign's 16-leader full mesh: the clock was read every 1,024
    states popped — 80 s for a 10 s bound; now successors count as work."""
    spec = load(REPRO / "dense-dfs.toml").with_bounds(max_seconds=2)
    t0 = time.monotonic()
    rep = check(spec, engine=engine)
    assert time.monotonic() - t0 < 60   # was 80 s for a 10 s bound; a hang guard, not a benchmark
    assert rep.cut == "max_seconds" and all(r.verdict in ("incomplete", "violated") for r in rep.results)


# ------------------------------------------------- a 50 MB input file
def test_an_input_file_past_4_mib_is_refused_before_parsing(tmp_path):
    """Parsing precedes every bound: a 50 MB spec (500,000 ops) ran past the
    campaign's 40 s timeout with --max-seconds 10 (s1-09562).  Each TOML
    reader refuses such a file at once, in one line naming it."""
    big = tmp_path / "big.toml"
    big.write_text(SEED.read_text() + "\n# " + "x" * (4 * 2 ** 20) + "\n")
    t = time.monotonic()
    for args in (["check", big], ["matrix", big], ["smt", "iconfluence", big]):
        code, out = run(args)
        assert code == 2, out
        assert out.strip().splitlines() == [
            f"replcheck: {big}: {big.stat().st_size:,} bytes; at most 4 MiB are read (a spec of 60 operations"
            " is a few KB); shorten the file"], out
    assert time.monotonic() - t < 60      # a hang guard only: refused before parsing
