"""Bad input: one line naming the file, the key and a fix; exit 2; no traceback."""

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main

GOOD = '''
name = "x"
[system]
leaders = ["us-east", "eu-west"]
topology = "all-to-all"
resolver = "lww"
clock = "wall"
[[workload]]
id = "alice"
leader = "eu-west"
key = "k"
set = "A"
[[workload]]
id = "bob"
leader = "us-east"
key = "k"
set = "B"
'''


def _run(tmp_path, text, *args):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    r = CliRunner().invoke(main, ["check", str(p), *args])
    return r, str(p)


@pytest.mark.parametrize("mutate,key,fragment", [
    (lambda s: s.replace('resolver = "lww"', 'resolver = "lvw"'), "system.resolver",
     "unknown 'lvw'; did you mean 'lww'? (replcheck list resolvers)"),
    (lambda s: s.replace('topology = "all-to-all"', 'topology = "rnig"'), "system.topology", "did you mean 'ring'"),
    (lambda s: s.replace('topology = "all-to-all"', 'topology = "star"'), "system.hub", "a star needs a hub"),
    (lambda s: s.replace('leader = "eu-west"', 'leader = "eu-wset"'), "workload[0].leader",
     "unknown leader 'eu-wset'; did you mean 'eu-west'?"),
    (lambda s: s.replace('clock = "wall"', 'clock = "wal"'), "system.clock", "did you mean 'wall'"),
    (lambda s: s.replace('clock = "wall"', 'clokc = "wall"'), "system.clokc", "unknown key; did you mean 'clock'"),
    (lambda s: s + '\n[bounds]\nmax_states = 0\n', "bounds.max_states", "must be a positive integer"),
    (lambda s: s + '\n[bounds]\nmax_seconds = -1\n', "bounds.max_seconds", "positive number"),
    (lambda s: s.replace('set = "B"', 'set = "B"\nafter = ["carol"]'), "workload[1].after[0]",
     "unknown operation 'carol'"),
    (lambda s: s.replace('set = "A"', 'set = "A"\nafter = ["bob"]').replace('set = "B"', 'set = "B"\nafter = ["alice"]'),
     "workload.after", "cyclic dependency"),
    (lambda s: s.replace('set = "A"', 'set = "A"\ndelete = true'), "workload[0]", "exactly one of set"),
    (lambda s: s + '\n[expect]\nconvergense = "holds"\n', "expect.convergense", "did you mean 'convergence'"),
    (lambda s: s + '\n[expect]\nconvergence = "hold"\n', "expect.convergence", "did you mean 'holds'"),
    (lambda s: s.replace('leaders = ["us-east", "eu-west"]', 'leaders = ["us-east"]'), "system.leaders",
     "at least two leaders"),
    (lambda s: s.replace('[system]', '[sytem]'), "sytem", "did you mean 'system'"),
    (lambda s: s.replace('topology = "all-to-all"', 'topology = "custom"\nedges = ["us-east -> mars"]'),
     "system.edges[0]", "unknown leader 'mars'"),
    (lambda s: s.replace('clock = "wall"', 'clock = "wall"\noffsets = { us-eats = 5 }'), "system.offsets.us-eats",
     "did you mean 'us-east'"),
    (lambda s: s.replace('id = "bob"', 'id = "alice"'), "workload[1].id", "used twice"),
    (lambda s: "[system\n", "", "not valid TOML"),
])
def test_bad_spec_gives_one_line_with_file_key_and_fix(tmp_path, mutate, key, fragment):
    r, path = _run(tmp_path, mutate(GOOD))
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith(f"replcheck: {path}: {key}") and fragment in lines[0], lines[0]
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_missing_file(tmp_path):
    r = CliRunner().invoke(main, ["check", str(tmp_path / "nope.toml")])
    assert r.exit_code == 2 and "no such spec file" in r.output


def test_unknown_invariant_option(tmp_path):
    r, path = _run(tmp_path, GOOD, "--invariant", "convergnce")
    assert r.exit_code == 2
    assert "did you mean 'convergence'" in r.output


def test_bad_override(tmp_path):
    r, path = _run(tmp_path, GOOD, "--set", "system.resolver")
    assert r.exit_code == 2 and "is not KEY=VALUE" in r.output
    r, path = _run(tmp_path, GOOD, "--set", "system.resolver=mvregister")
    assert r.exit_code == 2 and "did you mean 'mv-register'" in r.output


def test_impossible_cli_bound_is_rejected(tmp_path):
    r, _ = _run(tmp_path, GOOD, "--max-states", "0")
    assert r.exit_code == 2


# Per-row homes and observed deletes (docs/model.md "Per-row homes", "Observed deletes").
@pytest.mark.parametrize("mutate,key,fragment", [
    (lambda s: s.replace('clock = "wall"', 'clock = "wall"\nhomes = { "kk" = "eu-west" }'), "system.homes.kk",
     "matches no key or row the workload writes; did you mean 'k'? (keys: k)"),
    (lambda s: s + '\n[keys."k"]\nhome_by = "user"\n', "keys.k.home_by", 'only a table (type = "users") has rows'),
    (lambda s: s.replace('set = "B"', 'delete = true\nif_version = "obsrved"'), "workload[1].if_version",
     "unknown 'obsrved'; did you mean 'observed'?"),
    (lambda s: s.replace('set = "B"', 'set = "B"\nif_version = "observed"'), "workload[1].if_version",
     "only a delete carries the version it observed"),
    (lambda s: s.replace('resolver = "lww"', 'resolver = "max"').replace('set = "B"', 'delete = true\nif_version = "observed"'),
     "workload[1].if_version", "an observed delete is modelled on lww keys; 'k' is under max"),
])
def test_bad_homes_and_observed_deletes_give_one_line(tmp_path, mutate, key, fragment):
    r, path = _run(tmp_path, mutate(GOOD))
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith(f"replcheck: {path}: {key}") and fragment in lines[0], lines[0]


def test_system_homes_that_would_be_ignored_is_refused(tmp_path):
    """system.homes under lww used to be ignored without a word: the writes
    committed where each op said, and the verdict was about a design the
    user did not write.  Now one line names the key and both fixes."""
    text = """
[system]
leaders = ["eu-west", "us-east"]
resolver = "lww"
homes = { "doc1." = "eu-west" }
[[workload]]
id = "a"
leader = "eu-west"
key = "doc1.title"
set = "A"
[[workload]]
id = "b"
leader = "us-east"
key = "doc1.title"
set = "B"
"""
    r, _ = _run(tmp_path, text)
    assert r.exit_code == 2
    out = r.output.strip()
    assert len(out.splitlines()) == 1 and "Traceback" not in out
    assert "system.homes" in out and "'doc1.title'" in out and "home-leader" in out
    assert '[keys."doc1.title"] home' in out
    ok = text.replace('resolver = "lww"', 'resolver = "home-leader"')
    assert _run(tmp_path, ok)[0].exit_code == 0   # routed home: one leader commits both, nothing lost
