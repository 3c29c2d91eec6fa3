"""Issue 14, "Hardening": bad input is one line, exit 2, naming the file and
the key — never a traceback, never exit 4 for what is the user's input
(docs/spec-format.md "Errors").  Each case runs the real CLI."""

import errno
import json
import os

import pytest
from click.testing import CliRunner

from replcheck.checks import cli
from replcheck.checks.cli import main
from tests.conftest import SPECS

SEED = SPECS / "seed" / "alice-bob-lww.toml"
ANSWER = SPECS / "drills" / "answers" / "inventory-escrow.toml"
QUERY = """invariant = "stock >= 0"
[vars.stock]
merge = "local + remote - ancestor"
[[ops]]
name = "sell"
guard = "stock >= 1"
effect = { stock = "stock - 1" }
"""


def one_line(args, *names, code=2):
    """Run the CLI; assert ``code``, exactly one non-empty line of output
    (stdout and stderr together) naming each of ``names``, no traceback."""
    r = CliRunner().invoke(main, [str(a) for a in args])
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert r.exit_code == code, r.output
    assert len(lines) == 1, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    for n in names:
        assert str(n) in lines[0], lines[0]
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.exception
    return lines[0]


def spec_with(tmp_path, extra="", name="spec.toml"):
    p = tmp_path / name
    p.write_text(SEED.read_text() + extra)
    return p


def trace_file(tmp_path):
    """A real trace (check --format json) for replay."""
    out = tmp_path / "trace.json"
    r = CliRunner().invoke(main, ["check", str(SEED), "--format", "json", "-o", str(out)])
    assert r.exit_code == 1, r.output
    return out


# ------------------------------------------------------------ 1. not UTF-8
NOT_UTF8 = b'name = "\xff\xfe caf\xe9"\n'


@pytest.mark.parametrize("cmd", [["check"], ["drill", "check"], ["smt", "laws"], ["smt", "iconfluence"],
                                 ["matrix"], ["topology"]])
def test_a_file_that_is_not_utf8_is_one_line(tmp_path, cmd):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(NOT_UTF8)
    line = one_line([*cmd, bad], bad, "not UTF-8 text; save it as UTF-8")
    assert line == f"replcheck: {bad}: not UTF-8 text; save it as UTF-8"


def test_a_trace_that_is_not_utf8_is_one_line(tmp_path):
    bad = tmp_path / "trace.json"
    bad.write_bytes(b'{"results": "\xff"}')
    one_line(["replay", SEED, bad], bad, "not UTF-8 text; save it as UTF-8")


def test_a_drill_that_is_not_utf8_is_one_line(tmp_path):
    (tmp_path / "mine.toml").write_bytes(NOT_UTF8)
    answer = tmp_path / "answers" / "a.toml"
    answer.parent.mkdir()
    answer.write_text('drill = "mine"\ntopology = "ring"\nresolver = "lww"\ndefense = "x"\n')
    one_line(["drill", "check", answer], tmp_path / "mine.toml", "not UTF-8")


# --------------------------------------------------------- 2. deep TOML
DEEP_TOML = "x = " + "[" * 500 + "1" + "]" * 500 + "\n"


@pytest.mark.parametrize("cmd", [["check"], ["drill", "check"], ["smt", "laws"], ["smt", "iconfluence"]])
def test_toml_nested_500_deep_names_the_file_in_every_reader(tmp_path, cmd):
    deep = tmp_path / "deep.toml"
    deep.write_text(DEEP_TOML)
    one_line([*cmd, deep], deep, "nested too deeply")


@pytest.mark.parametrize("levels", [70, 200])
def test_toml_nested_past_the_limit_but_parseable_names_the_file(tmp_path, levels):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * levels + "1" + "]" * levels + "\n")
    for cmd in (["check"], ["drill", "check"], ["smt", "iconfluence"]):
        one_line([*cmd, deep], deep, "nested")


def test_a_drill_nested_500_deep_names_the_drill_file(tmp_path):
    (tmp_path / "mine.toml").write_text(DEEP_TOML)
    answer = tmp_path / "a.toml"
    answer.write_text('drill = "mine"\ntopology = "ring"\nresolver = "lww"\ndefense = "x"\n')
    one_line(["drill", "check", answer], tmp_path / "mine.toml", "nested too deeply")


# -------------------------------------------------------- 3. deep JSON
@pytest.mark.parametrize("levels", [1000, 100])
def test_a_replay_json_nested_deep_names_the_trace_file(tmp_path, levels):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * levels + "]" * levels)
    one_line(["replay", SEED, deep], deep, "nested")


def test_a_replay_json_with_a_huge_integer_names_the_trace_file(tmp_path):
    big = tmp_path / "big.json"
    big.write_text('{"results": ' + "9" * 5000 + "}")
    one_line(["replay", SEED, big], big, "4300 digits")


# ------------------------------------------------ 4. huge smt expressions
@pytest.mark.parametrize("expr", ["(" * 400 + "local" + ")" * 400, " + ".join(["local"] * 1500),
                                  " + ".join(["local"] * 300), "-" * 400 + "local", "not " * 400 + "true"])
def test_a_huge_merge_expression_is_one_line_naming_file_and_key(tmp_path, expr):
    merge = tmp_path / "m.toml"
    merge.write_text(f'merge = "{expr}"\n')
    line = one_line(["smt", "laws", merge], merge, "merge:", "at most")
    assert len(line) < 300   # the expression is not echoed


@pytest.mark.parametrize("expr", ["(" * 400 + "stock" + ")" * 400 + " >= 0",
                                  " + ".join(["stock"] * 1500) + " >= 0"])
def test_a_huge_query_expression_is_one_line_naming_file_and_key(tmp_path, expr):
    q = tmp_path / "q.toml"
    q.write_text(QUERY.replace('invariant = "stock >= 0"', f'invariant = "{expr}"'))
    one_line(["smt", "iconfluence", q], q, "invariant", "at most")
    q.write_text(QUERY.replace('guard = "stock >= 1"', f'guard = "{expr}"'))
    one_line(["smt", "iconfluence", q], q, "ops[0].guard", "at most")


def test_ordinary_expressions_still_work(tmp_path):
    merge = tmp_path / "m.toml"
    merge.write_text('merge = "' + " + ".join(["local"] * 20) + ' - remote"\n')
    r = CliRunner().invoke(main, ["smt", "laws", str(merge)])
    assert r.exit_code in (0, 1, 3) and "Traceback" not in r.output


# ------------------------------------------- 5. wrong types in a query
@pytest.mark.parametrize("change, key", [
    (('[vars.stock]\nmerge = "local + remote - ancestor"\n', 'vars = "stock"\n'), "vars"),
    (('name = "sell"\n', 'name = "sell"\nparams = ["n", 1]\n'), "ops[0].params"),
    (('name = "sell"\n', 'name = "sell"\nparams = "n"\n'), "ops[0].params"),
    (('effect = { stock = "stock - 1" }', 'effect = "stock - 1"'), "ops[0].effect"),
    (('name = "sell"\n', 'name = 3\n'), "ops[0].name"),
    (('name = "sell"\n', 'name = "sell"\nat = 1\n'), "ops[0].at"),
    (('invariant = "stock >= 0"\n', 'invariant = "stock >= 0"\ntables = [1]\n'), "tables"),
])
def test_a_wrong_type_in_a_query_names_the_key(tmp_path, change, key):
    q = tmp_path / "q.toml"
    old, new = change
    assert old in QUERY
    q.write_text(QUERY.replace(old, new))
    one_line(["smt", "iconfluence", q], q, f": {key}:")


def test_ops_that_are_not_tables_name_the_key(tmp_path):
    q = tmp_path / "q.toml"
    q.write_text('invariant = "stock >= 0"\nops = [1]\n[vars.stock]\nmerge = "local"\n')
    one_line(["smt", "iconfluence", q], q, "ops[0]")


# ----------------------------------------------------- 6. huge integers
BIG = "9" * 5000


def test_a_huge_integer_in_a_spec_is_one_line(tmp_path):
    spec = spec_with(tmp_path, f"\n[extra]\nbig = {BIG}\n")
    one_line(["check", spec], spec, "4300 digits")


def test_a_huge_integer_in_a_set_override_is_one_line():
    one_line(["check", SEED, "--set", f"bounds.max_states={BIG}"], "--set bounds.max_states", "4300 digits")


def test_a_huge_integer_in_a_query_is_one_line(tmp_path):
    q = tmp_path / "q.toml"
    q.write_text(QUERY.replace('max_ops', 'x') + f"max_ops = {BIG}\n")
    one_line(["smt", "iconfluence", q], q, "4300 digits")
    q.write_text(QUERY.replace('"stock >= 0"', f'"stock >= {BIG}"', 1))
    one_line(["smt", "iconfluence", q], q, "invariant", "4300 digits")


def test_a_huge_integer_in_a_merge_file_is_one_line(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(f'merge = "local"\nmin = {BIG}\n')
    one_line(["smt", "laws", m], m, "4300 digits")


# ------------------------------------------------- 7. long drill names
LONG = "x" * 300


def test_a_300_character_drill_name_on_the_command_line_is_one_line():
    line = one_line(["drill", "solve", LONG], "drill", "at most 100")
    assert LONG not in line and len(line) < 300


def test_a_300_character_drill_name_in_an_answer_is_one_line(tmp_path):
    answer = tmp_path / "a.toml"
    answer.write_text(f'drill = "{LONG}"\ntopology = "ring"\nresolver = "lww"\ndefense = "x"\n')
    line = one_line(["drill", "check", answer], answer, "drill:", "at most 100")
    assert LONG not in line


def test_a_drill_name_with_a_slash_is_one_line():
    one_line(["drill", "solve", "../../etc/passwd"], "drill", "not a file name")


# ------------------------------------------ 8. nan / inf register initial
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_register_initial_that_is_not_finite_is_one_line(tmp_path, value):
    spec = spec_with(tmp_path)
    one_line(["check", spec, "--set", f"keys.title.initial={value}"], spec, "keys.title.initial",
             "must be a finite number or a string")


def test_a_finite_float_initial_still_works(tmp_path):
    r = CliRunner().invoke(main, ["check", str(SEED), "--set", "keys.title.initial=1.5"])
    assert r.exit_code == 1, r.output


# ------------------------------------------------------ 9. -o safety
def test_o_into_a_missing_folder_is_refused_before_the_search(tmp_path, monkeypatch):
    def no_search(*a, **k):
        raise AssertionError("the search ran")
    monkeypatch.setattr(cli, "check", no_search)
    out = tmp_path / "missing" / "report.txt"
    one_line(["check", SEED, "-o", out], out, "does not exist")
    assert not out.parent.exists()


@pytest.mark.parametrize("cmd", [["topology", SEED], ["smt", "laws", "lww"], ["export", "promela", SEED],
                                 ["drill", "check", ANSWER], ["matrix", SEED]])
def test_o_into_a_missing_folder_is_refused_by_every_command(tmp_path, cmd):
    out = tmp_path / "missing" / "out.txt"
    one_line([*cmd, "-o", out], out, "does not exist")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_o_into_a_read_only_folder_is_one_line(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        one_line(["topology", SEED, "-o", ro / "out.txt"], ro / "out.txt", "cannot write")
    finally:
        ro.chmod(0o755)


def test_o_onto_a_full_disk_is_one_line_and_leaves_no_file(tmp_path, monkeypatch):
    out = tmp_path / "out.txt"
    out.write_text("the old report\n")

    def full(fd, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(cli.os, "fsync", full)
    one_line(["topology", SEED, "-o", out], out, "No space left on device")
    assert out.read_text() == "the old report\n"          # untouched, not truncated
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]   # no temporary file left


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    out = tmp_path / "out.txt"
    out.write_text("the old report\n")

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli.os, "replace", interrupted)
    r = CliRunner().invoke(main, ["topology", str(SEED), "-o", str(out)])
    assert r.exit_code != 0
    assert out.read_text() == "the old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_o_writes_the_whole_output(tmp_path):
    out = tmp_path / "out.json"
    r = CliRunner().invoke(main, ["check", str(SEED), "--format", "json", "-o", str(out)])
    assert r.exit_code == 1 and r.output == f"replcheck: wrote the report (json; 1 violated, 1 holds) to {out}\n"
    assert json.loads(out.read_text())["results"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


# ------------------------------------------------- 10. -o onto an input
def test_o_onto_the_spec_is_refused(tmp_path):
    spec = spec_with(tmp_path)
    before = spec.read_text()
    for cmd in (["check", spec], ["topology", spec], ["export", "promela", spec], ["matrix", spec],
                ["explain", spec, "--invariant", "no-lost-writes", "--format", "markdown"]):
        one_line([*cmd, "-o", spec], f"would overwrite the input {spec}; choose another output path")
    assert spec.read_text() == before


def test_o_onto_a_spec_in_a_checked_folder_is_refused(tmp_path):
    spec = spec_with(tmp_path)
    one_line(["check", tmp_path, "-o", spec], "would overwrite the input", spec.name)


def test_o_onto_the_trace_is_refused(tmp_path):
    trace = trace_file(tmp_path)
    before = trace.read_text()
    one_line(["replay", SEED, trace, "-o", trace], f"would overwrite the input {trace}")
    assert trace.read_text() == before


def test_o_onto_the_query_or_merge_is_refused(tmp_path):
    q = tmp_path / "q.toml"
    q.write_text(QUERY)
    one_line(["smt", "iconfluence", q, "-o", q], f"would overwrite the input {q}")
    m = tmp_path / "m.toml"
    m.write_text('merge = "local"\n')
    one_line(["smt", "laws", m, "-o", m], f"would overwrite the input {m}")


def test_o_onto_the_answer_or_its_drill_is_refused(tmp_path):
    drill = tmp_path / "inventory.toml"
    drill.write_text((SPECS / "drills" / "inventory.toml").read_text())
    answer = tmp_path / "a.toml"
    answer.write_text(ANSWER.read_text())
    one_line(["drill", "check", answer, "-o", answer], f"would overwrite the input {answer}")
    one_line(["drill", "check", answer, "-o", drill], f"would overwrite the input {drill}")
    assert drill.read_text() == (SPECS / "drills" / "inventory.toml").read_text()


def test_o_onto_another_existing_file_is_replaced(tmp_path):
    out = tmp_path / "old.txt"
    out.write_text("old\n")
    r = CliRunner().invoke(main, ["topology", str(SEED), "-o", str(out)])
    assert r.exit_code == 0 and "old" != out.read_text()
