"""The rendering commands end to end: formats, explain, matrix, exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from replcheck.checks.cli import main

from conftest import SPECS

SEED = str(SPECS / "seed" / "alice-bob-lww.toml")
MV = str(SPECS / "seed" / "alice-bob-mv-register.toml")


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_check_renders_markdown_html_and_itf_with_violation_exit_code():
    md = run("check", SEED, "--format", "markdown")
    assert md.exit_code == 1 and "```mermaid\nsequenceDiagram" in md.output
    html = run("check", SEED, "--format", "html")
    assert html.exit_code == 1 and html.output.startswith("<!DOCTYPE html>")
    itf = run("check", SEED, "--format", "itf")
    assert itf.exit_code == 1 and json.loads(itf.output)["vars"] == ["leaders", "in_flight", "action_taken"]


def test_text_output_explains_the_anomaly_in_one_sentence():
    r = run("check", SEED)
    assert "    (lost-update: two leaders accepted concurrent writes to the same key" in r.output


def test_minimize_is_refused_for_text_and_json():
    r = run("check", SEED, "--minimize")
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        "replcheck: --minimize: applies to --format markdown, html, itf, svg or png, not text;"
        " drop --minimize or pick one of those formats"]


def test_explain_writes_one_invariant_and_exits_by_its_verdict(tmp_path):
    out = tmp_path / "x.md"
    r = run("explain", SEED, "--invariant", "no-lost-writes", "-o", str(out))
    assert r.exit_code == 0 and r.output == f"replcheck: wrote the lecture artefact (markdown) to {out}\n"
    text = out.read_text()
    assert "## no-lost-writes violated: lost-update" in text and "minimised:" in text
    held = run("explain", SEED, "--invariant", "convergence")
    assert held.exit_code == 0 and "```mermaid" not in held.output and "| convergence | holds |" in held.output
    assert run("explain", MV, "--format", "html").exit_code == 0
    bad = run("explain", SEED, "--invariant", "no-lost-write")
    assert bad.exit_code == 2 and "did you mean 'no-lost-writes'" in bad.output


def test_matrix_command_formats_and_exit_codes():
    r = run("matrix", SEED, "--resolvers", "lww,mv-register", "--topologies", "all-to-all,star", "--no-progress")
    assert r.exit_code == 1 and "star (hub us-east)" in r.output.splitlines()[2]
    ok = run("matrix", MV, "--resolvers", "mv-register", "--format", "csv")
    assert ok.exit_code == 0 and ok.output.splitlines()[0].startswith("topology,resolver,invariant,verdict")
    md = run("matrix", SEED, "--resolvers", "lww", "--format", "markdown")
    assert "](#all-to-all-lww-no-lost-writes)" in md.output
    bad = run("matrix", SEED, "--resolvers", "lww,lvw")
    assert bad.exit_code == 2 and "did you mean 'lww'" in bad.output


def test_matrix_progress_goes_to_stderr():
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        runner = CliRunner()
    r = runner.invoke(main, ["matrix", SEED, "--resolvers", "lww,mv-register", "--progress", "--format", "json"])
    assert "[2/2] all-to-all / mv-register" in r.stderr and "2/2 combinations checked" in r.stderr
    assert json.loads(r.stdout)["resolvers"] == ["lww", "mv-register"]


def test_expect_refuses_a_rendering_format_instead_of_writing_text_into_it(tmp_path):
    """--expect prints the expectations report, which is text: before, --format png -o x.png wrote that
    text into x.png."""
    out = tmp_path / "x.png"
    for fmt in ("png", "json", "html"):
        r = run("check", "--expect", SEED, "--format", fmt, "-o", str(out))
        assert r.exit_code == 2, r.output
        assert r.output.strip().splitlines() == [
            f"replcheck: --expect: writes the expectations report as text, not --format {fmt};"
            " drop --format (or drop --expect to render the reports)"]
    assert not out.exists()
