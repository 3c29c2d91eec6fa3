"""One vocabulary and one exit policy across the CLI (issue 13, item 5).

The option table below is the contract README's "Commands" table states:
a new subcommand, or an option that drifts from the common shape, fails
here until it is documented.
"""

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from replcheck.checks import cli
from replcheck.checks.cli import exit_for, main
from replcheck.checks.verdict import HOLDS, INCOMPLETE, VIOLATED
from tests.conftest import ROOT, SPECS

SEED = str(SPECS / "seed" / "alice-bob-lww.toml")
SEED_MV = str(SPECS / "seed" / "alice-bob-mv-register.toml")
SKEW = str(SPECS / "seed" / "skew-wall.toml")

# The common options and, per subcommand, which of them it takes.
COMMON = ("--invariant", "--resolver", "--topology", "--set", "-o", "--format", "--minimize", "--cluster")
DOCUMENTED = {
    "check": {"--invariant", "--resolver", "--set", "-o", "--format", "--minimize", "--cluster"},
    "explain": {"--invariant", "--set", "-o", "--format", "--minimize"},
    "matrix": {"--invariant", "--resolver", "--topology", "--set", "-o", "--format", "--minimize", "--cluster"},
    "replay": {"--invariant", "--set", "-o", "--format"},
    "topology": {"--set", "-o", "--format"},
    "conform": {"--set", "-o", "--format"},
    "export promela": {"--invariant", "--set", "-o"},
    "smt skew": {"--set", "-o", "--format"},
    "smt laws": {"-o", "--format"},
    "smt iconfluence": {"-o", "--format"},
    "drill check": {"--set", "-o", "--format", "--cluster"},
    "drill solve": {"--resolver", "--topology", "--set", "-o", "--format", "--cluster"},
    "drill list": {"-o", "--format"},
    "list": set(),
}
# Old spellings: accepted, hidden from --help, deprecated.
ALIASES = {
    ("matrix", "--resolvers"): "--resolver",
    ("matrix", "--topologies"): "--topology",
    ("matrix", "--invariants"): "--invariant",
    ("drill solve", "--resolvers"): "--resolver",
    ("drill solve", "--topologies"): "--topology",
    ("smt skew", "--minimize"): "--least-skew",
}


def commands(group=main, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from commands(cmd, prefix + (name,))
        else:
            yield " ".join(prefix + (name,)), cmd


def visible(param) -> set[str]:
    return set(param.opts + param.secondary_opts) - set(getattr(param, "aliases", ()))


def option(cmd, name):
    found = [p for p in cmd.params if isinstance(p, click.Option) and name in visible(p)]
    assert len(found) == 1, (cmd.name, name)
    return found[0]


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


# ------------------------------------------------------------ the option table
def test_every_subcommand_is_documented_and_takes_exactly_its_common_options():
    seen = dict(commands())
    assert set(seen) == set(DOCUMENTED), "a subcommand was added or removed: document its options here and in README"
    for name, cmd in seen.items():
        names = set().union(*(visible(p) for p in cmd.params if isinstance(p, click.Option)))
        assert {c for c in COMMON if c in names} == DOCUMENTED[name], name


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_common_options_have_one_shape_everywhere(name):
    cmd = dict(commands())[name]
    for common in DOCUMENTED[name]:
        p = option(cmd, common)
        if common in ("--invariant", "--resolver", "--topology"):
            # repeatable and comma-separated alike, one dest spelled as the plural
            assert p.multiple and p.callback is cli._split_names, (name, common)
            assert p.name == {"--invariant": "invariants", "--resolver": "resolvers",
                              "--topology": "topologies"}[common], (name, p.name)
        elif common == "--set":
            assert p.multiple and p.name == "overrides" and p.metavar == "KEY=VALUE", name
        elif common == "-o":
            assert p.opts == ["-o", "--output"] and p.name == "output" and p.metavar == "FILE", name
        elif common == "--format":
            assert p.name == "fmt" and isinstance(p.type, click.Choice), name
        elif common == "--cluster":
            # replcheck.cluster: local or a Ray address; the runs as Ray tasks (docs/scale-out.md)
            assert p.name == "cluster" and p.metavar == "local|ADDRESS" and not p.multiple, name
        elif common == "--minimize":
            # trace minimisation only; smt skew's least skew is --least-skew
            assert p.secondary_opts == ["--no-minimize"] and p.name == "minimize", name


def test_no_visible_plural_spellings_remain():
    for name, cmd in commands():
        for p in cmd.params:
            assert not visible(p) & {"--invariants", "--resolvers", "--topologies"}, (name, p.name)


@pytest.mark.parametrize(("where", "old"), sorted(ALIASES))
def test_old_spelling_is_a_hidden_alias(where, old):
    cmd = dict(commands())[where]
    p = [p for p in cmd.params if old in p.opts]
    assert len(p) == 1 and ALIASES[(where, old)] in p[0].opts and old in p[0].aliases
    help_text = CliRunner().invoke(main, where.split() + ["--help"]).output
    assert ALIASES[(where, old)] in help_text
    assert not re.search(rf"{re.escape(old)}\b(?!-)", help_text.split("Options:")[1]), (where, old)


# ------------------------------------------------------ aliases still work
def test_matrix_old_and_new_spellings_agree(run):
    old = run("matrix", SEED, "--resolvers", "lww,mv-register", "--topologies", "all-to-all",
              "--invariants", "convergence,no-lost-writes")
    new = run("matrix", SEED, "--resolver", "lww", "--resolver", "mv-register", "--topology", "all-to-all",
              "--invariant", "convergence", "--invariant", "no-lost-writes")
    assert old.exit_code == new.exit_code == 1
    assert old.output == new.output
    assert "mv-register" in new.output and "lww" in new.output


def test_drill_solve_old_and_new_spellings_agree(run):
    old = run("drill", "solve", "inventory", "--resolvers", "lww", "--topologies", "ring")
    new = run("drill", "solve", "inventory", "--resolver", "lww", "--topology", "ring")
    assert old.exit_code == new.exit_code
    assert old.output == new.output and "lww" in new.output


def test_smt_skew_minimize_is_least_skew(run):
    old = run("smt", "skew", SKEW, "--minimize")
    new = run("smt", "skew", SKEW, "--least-skew")
    assert old.exit_code == new.exit_code == 1
    assert old.output == new.output


def test_invariant_repeated_or_comma_separated_is_the_same(run):
    a = run("check", SEED, "--invariant", "convergence,no-lost-writes")
    b = run("check", SEED, "--invariant", "convergence", "--invariant", "no-lost-writes")
    assert a.exit_code == b.exit_code == 1
    seconds = r"\d+\.\d+ s( \([\d,]+ states/s\))?"     # the plain summary says "in 0.00 s" (or 0.01 under load)
    assert re.sub(seconds, "", a.output) == re.sub(seconds, "", b.output)
    assert "convergence" in a.output and "no-lost-writes" in a.output


def test_check_resolver_is_repeatable(run):
    r = run("check", SEED, "--resolver", "lww,mv-register")
    assert r.exit_code == 1
    assert "lww" in r.output and "mv-register" in r.output


# --------------------------------------------------------- -o / --format / --set
def test_output_file_on_commands_that_printed_only(run, tmp_path):
    for args in (["topology", SEED], ["smt", "laws", "or-set"], ["smt", "skew", SKEW],
                 ["smt", "iconfluence", str(ROOT / "queries" / "iconfluence" / "stock-increment.toml")]):
        out = tmp_path / "out.txt"
        shown = run(*args)
        written = run(*args, "-o", str(out))
        assert written.exit_code == shown.exit_code, args
        assert written.output == f"replcheck: wrote the output to {out}\n" and out.read_text() == shown.output, args


def test_replay_takes_format_json_and_output(run, tmp_path):
    trace = tmp_path / "t.json"
    assert run("check", SEED, "--format", "json", "-o", str(trace)).exit_code == 1
    text = run("replay", SEED, str(trace), "--invariant", "no-lost-writes")
    assert text.exit_code == 1 and "violation reproduced: lost-update" in text.output
    out = tmp_path / "r.json"
    r = run("replay", SEED, str(trace), "--invariant", "no-lost-writes", "--format", "json", "-o", str(out))
    assert r.exit_code == 1
    [one] = json.loads(out.read_text())["replayed"]
    assert one["invariant"] == "no-lost-writes" and one["outcome"] == "reproduced"
    assert one["anomaly"] == "lost-update"


def test_explain_takes_invariant_as_a_list(run, tmp_path):
    r = run("explain", SEED, "--invariant", "convergence,no-lost-writes")
    assert r.exit_code == 0   # the artefact was written (it shows no-lost-writes violated)
    assert "## no-lost-writes violated" in r.output


# ------------------------------------------------------------ one exit policy
def test_exit_for_is_the_one_policy():
    assert exit_for([]) == 0
    assert exit_for([HOLDS, HOLDS]) == 0
    assert exit_for([HOLDS, INCOMPLETE]) == 3
    assert exit_for([INCOMPLETE, VIOLATED, HOLDS]) == 1


def test_cli_has_one_error_handler_and_one_exit():
    src = Path(cli.__file__).read_text(encoding="utf-8")
    assert src.count("except ReplcheckError") == 1      # the guard, _Guarded
    assert src.count("sys.exit(") == 1                 # _finish: sys.exit(exit_for(...))


@pytest.mark.parametrize(("args", "code"), [
    (["check", SEED], 1),
    (["check", SEED_MV], 0),
    (["check", SEED, "--max-states", "2"], 3),
    (["check", "--expect", SEED, SEED_MV], 0),
    (["explain", SEED_MV], 0),
    (["smt", "laws", "or-set"], 0),
    (["smt", "laws", "sum"], 1),
    (["smt", "laws", "no-such-resolver"], 2),
    (["check", SEED, "--invariant", "no-such"], 2),
])
def test_exit_codes_follow_the_policy(run, args, code):
    assert run(*args).exit_code == code


def test_a_domain_error_is_one_line_exit_2_on_every_spec_command(run):
    missing = "no/such/spec.toml"
    for args in (["check", missing], ["explain", missing], ["matrix", missing], ["topology", missing],
                 ["replay", missing, missing], ["smt", "skew", missing], ["export", "promela", missing]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, args
        assert r.output.startswith("replcheck: ") and r.output.count("\n") == 1, (args, r.output)
