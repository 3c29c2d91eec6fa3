"""Issue 16, "Calm, honest output": verdict lines first, -q and -v, colour
only on a terminal (README "What it shows")."""

import sys

from click.testing import CliRunner

from replcheck.checks import cli
from replcheck.checks.cli import main
from tests.conftest import SPECS

SEED = SPECS / "seed" / "alice-bob-lww.toml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_verdict_lines_come_before_the_counterexample():
    out = run("check", SEED).output.splitlines()
    first_verdict = next(i for i, line in enumerate(out) if line.strip().startswith("convergence"))
    trace = next(i for i, line in enumerate(out) if "shortest counterexample" in line)
    assert out[first_verdict + 1].split() == ["no-lost-writes", "VIOLATED", "lost-update"]
    assert first_verdict < trace
    assert out[-1].strip().startswith("explored 8 states in") and "exhaustive" in out[-1]
    assert "transitions" not in "\n".join(out) and "por:" not in "\n".join(out)


def test_quiet_prints_the_verdicts_only_and_keeps_the_exit_code():
    r = run("check", SEED, "-q")
    assert r.exit_code == 1
    assert r.output.splitlines() == [f"{SEED}: alice-bob-title-lww", "  convergence     holds",
                                     "  no-lost-writes  VIOLATED  lost-update"]


def test_verbose_adds_the_engine_figures_and_one_note_per_line():
    r = run("check", SEED, "-v")
    assert r.exit_code == 1
    assert "transitions" in r.output and "depth" in r.output and "states/s" in r.output
    assert any(line.startswith("    - por: ") for line in r.output.splitlines())


def test_quiet_and_verbose_are_refused_where_they_mean_nothing():
    for args in (("-q", "--format", "json"), ("-v", "--expect"), ("-q", "-v")):
        r = run("check", SEED, *args)
        assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1, r.output


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert "\x1b[" in cli._verdict_style(None)("VIOLATED")
    assert cli._verdict_style("out.txt")("VIOLATED") == "VIOLATED"   # a file never gets colour
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._verdict_style(None)("VIOLATED") == "VIOLATED"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert cli._verdict_style(None)("holds") == "holds"               # a pipe never gets colour


def test_markdown_folds_the_engine_notes_after_the_counterexamples():
    md = run("check", SEED, "--format", "markdown").output
    assert md.index("## Verdicts") < md.index("<details><summary>How the search ran</summary>")
    assert md.rstrip().endswith("</details>")


def test_a_long_run_announces_a_violation_on_stderr_as_soon_as_the_progress_sees_it():
    """Progress sees the properties violated so far (Stats.violated) and says
    each once; the report still comes at the end."""
    from replcheck.model.search import Stats
    from click.testing import CliRunner as _R   # noqa: F401  (the real CLI path is the search's progress)
    bar = cli._Progress(True)
    seen = []
    orig = cli.click.echo
    try:
        cli.click.echo = lambda msg="", **kw: seen.append(msg)
        bar(Stats(states=10, seconds=1.0, violated=("causal-order",)))
        bar(Stats(states=20, seconds=2.0, violated=("causal-order",)))
        bar(Stats(states=30, seconds=3.0, violated=("causal-order", "no-lost-writes")))
    finally:
        cli.click.echo = orig
    said = [m for m in seen if "VIOLATED" in m]
    assert len(said) == 2 and "causal-order VIOLATED after 10 states" in said[0]
    assert "no-lost-writes VIOLATED after 30 states" in said[1] and "goes on" in said[1]
