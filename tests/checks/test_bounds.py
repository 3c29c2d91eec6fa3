"""Issue 14, "Hardening", items 2, 3, 4, 5 and 8: every bound bounds (time
for z3 too, spec sizes refused before any work), memory is a bound,
Ctrl-C and SIGTERM stop every command with an honest partial result
(exit 3), replay refuses what it cannot judge, and ``--allow-python``
runs only a two-value function of the user's own module.  Each case runs
the real CLI (CliRunner, or a subprocess for signals and memory)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from replcheck.checks import cli
from replcheck.checks.cli import main
from replcheck.model import memory
from tests.conftest import SPECS, sigint_default

SEED = SPECS / "seed" / "alice-bob-lww.toml"
REPLCHECK = [str(Path(sys.executable).with_name("replcheck"))]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line(r, code, *names):
    """Exactly one non-empty line of output, ``code``, naming each of ``names``."""
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert r.exit_code == code, r.output
    assert len(lines) == 1, r.output
    assert "Traceback" not in r.output and "Aborted" not in r.output
    for n in names:
        assert str(n) in lines[0], lines[0]
    return lines[0]


def leaders_spec(tmp_path, n, clock="lamport", name="big.toml", extra=""):
    """``n`` leaders each writing the same key once: grows fast with ``n``."""
    leaders = [f"l{i}" for i in range(n)]
    text = (f'name = "big"\n[system]\nleaders = {json.dumps(leaders)}\ntopology = "all-to-all"\n'
            f'resolver = "lww"\nclock = "{clock}"\n')
    for i, l in enumerate(leaders):
        text += f'\n[[workload]]\nid = "w{i}"\nleader = "{l}"\nkey = "k"\nset = "v{i}"\n'
    p = tmp_path / name
    p.write_text(text + extra)
    return p


def rmw_spec(tmp_path, amounts, initial=0):
    text = f'[system]\nleaders = ["a", "b", "c"]\n[keys."n"]\ntype = "register"\nresolver = "lww"\ninitial = {initial}\n'
    for i, amount in enumerate(amounts):
        text += f'\n[[workload]]\nid = "i{i}"\nleader = "{"abc"[i % 3]}"\nkey = "n"\nincr = {amount}\n'
    p = tmp_path / "rmw.toml"
    p.write_text(text)
    return p


# ------------------------------------------------ 2. every bound bounds
def test_smt_max_seconds_bounds_z3(tmp_path):
    """Before: --engine smt --max-seconds 2 on 10 leaders ran 16-60 s (z3 had no timeout)."""
    spec = leaders_spec(tmp_path, 10)
    t = time.monotonic()
    r = run("check", spec, "--engine", "smt", "--max-seconds", "1")
    took = time.monotonic() - t
    assert r.exit_code == 3, r.output
    assert "max_seconds" in r.output and "incomplete" in r.output
    assert took < 6, took


def test_a_billion_per_increment_is_two_numbers_not_a_billion(tmp_path):
    """Before: incr = 1000000000 interned every integer up to 3e9 (hung); initial = 30000 took 13-32 s."""
    for amounts, initial in (([10 ** 9] * 3, 0), ([1, 1, 1], 30000), ([-(10 ** 12) + 1, 7, 7], 10 ** 15)):
        t = time.monotonic()
        r = run("check", rmw_spec(tmp_path, [abs(a) for a in amounts], initial))
        assert r.exit_code == 1 and "lost-update" in r.output, r.output
        assert time.monotonic() - t < 5


def test_too_many_distinct_numbers_is_one_line_naming_the_key(tmp_path):
    r = run("check", rmw_spec(tmp_path, [2 ** i for i in range(20)]))
    one_line(r, 2, "keys.n", "10,000 distinct numbers")


def test_the_leader_limit_comes_before_the_duplicate_check(tmp_path):
    """Before: 60,001 leaders with a duplicate at the end took 61-150 s (a quadratic duplicate search)."""
    names = [f"l{i}" for i in range(60_000)] + ["l59999"]
    p = tmp_path / "many.toml"
    p.write_text(f'[system]\nleaders = {json.dumps(names)}\n[[workload]]\nleader = "l0"\nkey = "k"\nset = "v"\n')
    t = time.monotonic()
    line = one_line(run("check", p), 2, "system.leaders", "at most 16")
    assert "60,001" in line and time.monotonic() - t < 5
    dup = tmp_path / "dup.toml"
    dup.write_text('[system]\nleaders = ["a", "b", "a"]\n[[workload]]\nleader = "a"\nkey = "k"\nset = "v"\n')
    one_line(run("check", dup), 2, "system.leaders", "'a' is listed twice")


def test_custom_edges_are_counted_before_they_are_read(tmp_path):
    p = tmp_path / "edges.toml"
    edges = json.dumps(["a -> b"] * 200_000)
    p.write_text(f'[system]\nleaders = ["a", "b"]\ntopology = "custom"\nedges = {edges}\n'
                 '[[workload]]\nleader = "a"\nkey = "k"\nset = "v"\n')
    t = time.monotonic()
    one_line(run("check", p), 2, "system.edges", "at most 2 links")
    assert time.monotonic() - t < 5
    p.write_text('[system]\nleaders = ["a", "b"]\ntopology = "custom"\nedges = ["a -> b", "a -> b"]\n'
                 '[[workload]]\nleader = "a"\nkey = "k"\nset = "v"\n')
    one_line(run("check", p), 2, "system.edges[1]", "listed twice")


def test_a_set_of_a_hundred_thousand_initial_elements_is_refused_at_once(tmp_path):
    p = tmp_path / "set.toml"
    p.write_text('[system]\nleaders = ["a", "b"]\n[keys."cart"]\ntype = "or-set"\n'
                 f'initial = {json.dumps([f"e{i}" for i in range(100_000)])}\n'
                 '[[workload]]\nleader = "a"\nkey = "cart"\nadd = "x"\n')
    t = time.monotonic()
    one_line(run("check", p), 2, "keys.cart.initial", "at most 1,000")
    assert time.monotonic() - t < 5


def test_the_workload_limit_is_one_line(tmp_path):
    ops = "".join(f'\n[[workload]]\nleader = "a"\nkey = "k{i}"\nset = "v"\n' for i in range(61))
    p = tmp_path / "ops.toml"
    p.write_text('[system]\nleaders = ["a", "b"]\n' + ops)
    one_line(run("check", p), 2, "workload", "at most 60")


@pytest.mark.parametrize("args", [
    ["smt", "skew", SPECS / "seed" / "skew-wall.toml", "--least-skew", "--timeout", "0.001"],
    ["smt", "skew", SPECS / "seed" / "skew-wall.toml", "--max-seconds", "0.001"],
    ["smt", "laws", "or-set", "--timeout", "0.001"],
])
def test_every_smt_question_has_a_time_and_says_what_it_did_not_decide(args):
    t = time.monotonic()
    r = run(*args)
    assert r.exit_code == 3, r.output
    assert "NOT DECIDED" in r.output and "impossible" not in r.output
    # exit 3 says "incomplete" in words too (README "Exit codes"; the fuzz oracle's exit-3 rule)
    assert "NOT DECIDED: incomplete, " in r.output
    assert time.monotonic() - t < 5


def test_smt_laws_and_skew_still_decide_with_time_enough():
    assert run("smt", "laws", "max").exit_code == 0
    r = run("smt", "skew", SPECS / "seed" / "skew-wall.toml", "--least-skew")
    assert r.exit_code == 1 and "NOT DECIDED" not in r.output and "least skew" in r.output


# ------------------------------------------------ 3. memory is a bound
def test_parse_size():
    assert memory.parse_size("4G") == 4 << 30
    assert memory.parse_size("512M") == 512 << 20
    assert memory.parse_size("1.5GiB") == 3 << 29
    assert memory.parse_size("1000") == 1000
    for bad in ("lots", "0", "-1G", "4X"):
        with pytest.raises(ValueError):
            memory.parse_size(bad)


def test_the_default_limit_comes_from_the_machine():
    limit = memory.default_limit()
    assert limit is not None and limit > memory.rss() > 0
    assert limit <= memory.rss() + (memory.available() or 0) + (1 << 30)


@pytest.mark.parametrize("engine", ["bfs", "dfs"])
def test_max_memory_ends_incomplete_with_partial_statistics(tmp_path, engine):
    spec = leaders_spec(tmp_path, 8)
    t = time.monotonic()
    r = subprocess.run([*REPLCHECK, "check", str(spec), "--engine", engine, "--max-memory", "1M",
                        "--invariant", "convergence"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "incomplete" in r.stdout and "max_memory" in r.stdout
    assert "explored" in r.stdout and "states" in r.stdout   # the partial statistics
    assert "Traceback" not in r.stderr and time.monotonic() - t < 10


def test_max_memory_above_the_current_size(tmp_path):
    """The brief's case: a limit some tens of MB above what the process holds is reached quickly."""
    spec = leaders_spec(tmp_path, 8)
    probe = "from replcheck.model import memory; import replcheck.checks.cli; print(memory.rss())"
    base = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout)
    r = subprocess.run([*REPLCHECK, "check", str(spec), "--max-memory", str(base + (30 << 20))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and "max_memory" in r.stdout, r.stdout + r.stderr


def test_max_memory_takes_a_size():
    r = run("check", SEED, "--max-memory", "lots")
    assert r.exit_code == 2 and "not a size" in r.output and "Traceback" not in r.output
    assert run("check", SEED, "--max-memory", "4G").exit_code == 1


def test_dfs_keeps_parent_pointers_not_paths():
    """DFS's counterexamples are rebuilt from parent indices, and still replay."""
    from replcheck.checks.verdict import check, load
    for spec in ("seed/alice-bob-lww.toml", "seed/skew-wall.toml", "app/ddia-insert-update-all-to-all.toml"):
        rep = check(load(SPECS / spec), engine="dfs")
        assert rep.worst == "violated"
        assert all(r.trace is not None and len(r.trace) == len(r.path) for r in rep.results if r.verdict == "violated")


# ------------------------------------------------ 4. Ctrl-C and SIGTERM
def _children(pid: int) -> list[str]:
    """The child processes of ``pid`` (Linux /proc)."""
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def stop(args, sig, delay=3.0, cwd=None, workers=0):
    """Run the CLI, send ``sig`` once it is working; ``(exit code, stdout,
    stderr, seconds after the signal)``.  With ``--progress`` in ``args`` it
    is working when the first progress line arrives (a loaded machine may
    take seconds to import); else after ``delay`` seconds."""
    import threading
    p = subprocess.Popen([*REPLCHECK, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=cwd, preexec_fn=sigint_default)
    err_parts: list[str] = []
    started = threading.Event()

    def read_err():
        while True:
            c = p.stderr.read(1)
            if not c:
                return
            err_parts.append(c)
            started.set()
    reader = threading.Thread(target=read_err, daemon=True)
    reader.start()
    if "--progress" in args:
        assert started.wait(30), "no progress line"
        time.sleep(0.3)
    elif workers:
        # a swarm is working once its worker processes exist (a signal during start-up
        # is the start-up's own stop: one line on stderr, nothing on stdout)
        t_end = time.monotonic() + 30
        while len(_children(p.pid)) < workers and time.monotonic() < t_end:
            time.sleep(0.1)
        assert len(_children(p.pid)) >= workers, "the swarm's workers never started"
        time.sleep(0.5)
    else:
        time.sleep(delay)
    assert p.poll() is None, "finished before the signal: make the case bigger"
    t = time.monotonic()
    p.send_signal(sig)
    out = p.stdout.read()
    p.wait(timeout=30)
    reader.join(5)
    after = time.monotonic() - t
    err = "".join(err_parts)
    assert "Traceback" not in out + err and "Aborted" not in out + err, err
    return p.returncode, out, err, after


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_check_stops_with_a_partial_result(tmp_path, sig):
    code, out, err, after = stop(["check", leaders_spec(tmp_path, 10), "--progress"], sig)
    assert code == 3 and after < 5
    assert "incomplete (search cut by interrupted" in out and "explored" in out
    assert "interrupted" in err


def test_check_of_several_specs_stops_at_the_first_signal(tmp_path):
    a, b = leaders_spec(tmp_path, 10, name="a.toml"), leaders_spec(tmp_path, 9, name="b.toml")
    code, out, err, after = stop(["check", a, b, "--progress"], signal.SIGTERM)
    assert code == 3 and after < 5
    assert "not checked: the run was interrupted before this spec" in out


def test_expect_stops_and_says_what_was_not_finished(tmp_path):
    spec = leaders_spec(tmp_path, 10, extra='\n[expect]\nconvergence = "holds"\n')
    code, out, err, after = stop(["check", "--expect", spec, "--progress"], signal.SIGINT)
    assert code == 3 and "interrupted" in out and "MISMATCH" not in out and "1 interrupted" in out


def test_matrix_stops_at_the_first_signal(tmp_path):
    """Before: matrix went on to the next combination after Ctrl-C (34 s)."""
    code, out, err, after = stop(["matrix", leaders_spec(tmp_path, 10), "--resolver", "lww,max,min,keep-local",
                                  "--progress"], signal.SIGINT)
    assert code == 3 and after < 5
    assert out.count("incomplete (interrupted)") >= 6


def test_swarm_stops_without_aborted(tmp_path):
    """Before: --simulate --workers 2 ended in Aborted!, exit 1."""
    code, out, err, after = stop(["check", leaders_spec(tmp_path, 10), "--simulate", "--workers", "2",
                                  "--runs", "100000000", "--invariant", "convergence"], signal.SIGINT, workers=2)
    assert code == 3 and after < 8
    assert "interrupted" in out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_smt_stops_inside_z3(tmp_path, sig):
    """Before: z3 swallowed Ctrl-C and the command went on; SIGTERM waited for z3."""
    code, out, err, after = stop(["check", leaders_spec(tmp_path, 10), "--engine", "smt"], sig)
    assert code == 3 and after < 5 and "interrupted" in out


def test_drill_solve_stops_and_reports_the_rest_not_finished(monkeypatch):
    from replcheck.checks import drill
    real, calls = drill.check, []

    def check_then_stop(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(drill, "check", check_then_stop)
    r = run("drill", "solve", "inventory", "--resolver", "lww,max,min,escrow,pn-counter")
    assert r.exit_code == 3, r.output
    assert "not finished: the run was interrupted" in r.output and "interrupted" in r.output
    assert len(calls) == 3 and "Aborted" not in r.output


@pytest.mark.parametrize("args", [
    ["smt", "laws", "max"],
    ["smt", "skew", SPECS / "seed" / "skew-wall.toml", "--least-skew"],
    ["smt", "iconfluence", Path(__file__).resolve().parents[2] / "queries" / "iconfluence" / "stock-decrement.toml"],
    ["check", SEED, "--engine", "smt"],
])
def test_every_z3_question_stops_with_what_was_decided(monkeypatch, args):
    """A stop inside a z3 call (checks/signals.py raises it from context.check) is a partial result, exit 3."""
    from replcheck.checks.smt import context

    def stopped(solver):
        raise KeyboardInterrupt
    monkeypatch.setattr(context, "check", stopped)
    r = run(*args)
    assert r.exit_code == 3, r.output
    assert "interrupted" in r.output.lower() and "Traceback" not in r.output and "Aborted" not in r.output


def test_ctrl_c_while_rendering_prints_the_verdicts(monkeypatch):
    def slow(explained):
        raise KeyboardInterrupt
    monkeypatch.setitem(cli.RICH, "html", slow)
    r = run("check", SPECS / "seed" / "skew-hlc.toml", "--format", "html")
    assert r.exit_code == 3, r.output
    assert "interrupted while rendering" in r.output and "convergence holds" in r.output
    assert "Aborted" not in r.output


def test_ctrl_c_outside_any_engine_is_one_line_exit_3(monkeypatch):
    from replcheck.checks import render_topology

    def stopped(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(render_topology, "render", stopped)
    one_line(run("topology", SEED), 3, "interrupted")


# ------------------------------------------------ 5. replay is honest
def saved(tmp_path, spec, name="t.json"):
    out = tmp_path / name
    assert run("check", spec, "--format", "json", "-o", out).exit_code == 1
    return out


def test_replay_refuses_a_trace_that_does_not_end_quiescent(tmp_path):
    """Before: exit 0 ("holds") although nothing was judged."""
    data = json.loads(saved(tmp_path, SEED).read_text())
    r0 = next(x for x in data["results"] if x["invariant"] == "no-lost-writes")
    r0["trace"]["steps"] = r0["trace"]["steps"][:-1]
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(data))
    line = one_line(run("replay", SEED, cut), 2, cut, "no-lost-writes", "not end in a quiescent state")
    assert "holds" not in line.lower()


def test_replay_judges_every_state_invariants_at_a_non_quiescent_end(tmp_path):
    spec = SPECS / "app" / "ddia-insert-update-all-to-all.toml"
    r = run("replay", spec, saved(tmp_path, spec))
    assert r.exit_code == 1 and "violation reproduced: causality-violation" in r.output


def test_the_docs_say_what_replay_refuses():
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    assert "not judged" in readme or "refuses" in readme
    assert "refuses a trace that does not end" in (root / "docs" / "rendering.md").read_text()


# ------------------------------------------------ 8. --allow-python says what it allows
MERGE_SPEC = """requires = ["python"]
[system]
leaders = ["a", "b"]
merge = "{ref}"
[[workload]]
leader = "a"
key = "k"
set = "x"
[[workload]]
leader = "b"
key = "k"
set = "y"
[check]
invariants = ["convergence"]
"""

MODULE = """from pathlib import Path
Path(__file__).with_name("ran.marker").write_text("top-level code ran")
import os
popen = os.popen
def concat(local, remote):
    return (local or "") + "|" + (remote or "")
def three(local, remote, extra):
    return local
class Klass:
    def __init__(self, a, b):
        pass
"""


def merge_case(tmp_path, ref, module=MODULE, name="mymerges"):
    (tmp_path / f"{name}.py").write_text(module)
    spec = tmp_path / "spec.toml"
    spec.write_text(MERGE_SPEC.format(ref=ref))
    return spec


@pytest.mark.parametrize("ref, why", [
    ("os:popen", "standard library"),
    ("subprocess:getoutput", "standard library"),
    ("builtins:eval", "standard library"),
    ("os.path:join", "standard library"),
])
def test_allow_python_refuses_the_standard_library(tmp_path, ref, why):
    one_line(run("check", merge_case(tmp_path, ref), "--allow-python"), 2, "system.merge", why)


@pytest.mark.parametrize("fn, why", [
    ("missing", "no function 'missing'"),
    ("popen", "no function 'popen'"),        # a name bound to os.popen, not a def
    ("three", "exactly two positional parameters"),
    ("Klass", "no function 'Klass'"),
])
def test_allow_python_refuses_what_is_not_a_two_value_function_before_running_anything(tmp_path, fn, why):
    spec = merge_case(tmp_path, f"mymerges.py:{fn}")
    one_line(run("check", spec, "--allow-python"), 2, "system.merge", why)
    assert not (tmp_path / "ran.marker").exists()   # the module's top-level code never ran


def test_allow_python_checks_the_loaded_object_too(tmp_path):
    """A def that a later assignment replaces is refused after import."""
    module = "import os\ndef alias(local, remote):\n    return local\nalias = os.getenv\n"
    spec = merge_case(tmp_path, "rebound.py:alias", module, name="rebound")
    r = run("check", spec, "--allow-python")
    assert r.exit_code == 2 and "not a plain Python function defined in" in r.output


def test_allow_python_runs_a_file_next_to_the_spec_and_says_so(tmp_path, monkeypatch):
    spec = merge_case(tmp_path, "mymerges.py:concat")
    monkeypatch.chdir(SPECS)   # the .py path is read from the spec's folder, not the current one
    r = run("check", spec, "--allow-python")
    assert r.exit_code == 1 and "divergence" in r.stdout, r.output
    assert "--allow-python: running the merge function concat from" in r.stderr
    assert str(tmp_path / "mymerges.py") in r.stderr


def test_allow_python_help_and_docs_say_what_it_allows():
    for cmd in (["check", "--help"], ["drill", "check", "--help"]):
        text = " ".join(run(*cmd).output.split())
        assert "standard library" in text and "two values" in text and "stderr" in text
    root = Path(__file__).resolve().parents[2]
    assert "standard library" in (root / "docs" / "spec-format.md").read_text()
