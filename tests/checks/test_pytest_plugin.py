"""The pytest plugin (checks/pytest_plugin.py, docs/api.md "pytest"): the
example project in examples/pytest-plugin/ run through pytester, as a team
would run it, and what the plugin must never collect."""

import shutil

import pytest

from tests.conftest import ROOT

pytest_plugins = ["pytester"]

EXAMPLE = ROOT / "examples" / "pytest-plugin"


@pytest.fixture
def project(pytester):
    """A copy of the example project, pytest started in it."""
    shutil.copytree(EXAMPLE, pytester.path, dirs_exist_ok=True)
    return pytester


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_the_example_passes_and_skips_the_python_merge(project):
    r = project.runpytest("-v")
    r.assert_outcomes(passed=6, skipped=1)
    r.stdout.fnmatch_lines(["design/cart.toml::convergence PASSED*",
                            "design/cart.toml::no-lost-writes PASSED*",
                            "design/nickname-merge.toml::convergence SKIPPED*",
                            "design/profile.toml::no-lost-writes PASSED*",
                            "tests/test_seed.py::test_the_seed_loses_alices_write PASSED*",
                            "tests/test_seed.py::test_siblings_keep_both_edits PASSED*"])
    project.runpytest("-rs").stdout.fnmatch_lines(["SKIPPED [[]1[]] design/nickname-merge.toml*: needs"
                                                   " --replcheck-allow-python*"])


def test_allow_python_runs_the_merge(project):
    project.runpytest("--replcheck-allow-python").assert_outcomes(passed=7)
    _edit(project.path / "pytest.ini", "# replcheck_allow_python = true", "replcheck_allow_python = true")
    project.runpytest().assert_outcomes(passed=7)


def test_a_missed_expectation_fails_with_the_expect_line_and_the_trace(project):
    _edit(project.path / "design" / "cart.toml", 'no-lost-writes = "violated:lost-update"', 'no-lost-writes = "holds"')
    r = project.runpytest()
    r.assert_outcomes(passed=5, failed=1, skipped=1)
    r.stdout.fnmatch_lines([
        "*_ design/cart.toml::no-lost-writes expects holds _*",
        "MISMATCH design/cart.toml",
        "  no-lost-writes: expected holds, got violated:lost-update",
        "*no-lost-writes  VIOLATED  lost-update",
        "*remove-espresso's acknowledged basket:42.remove(\"espresso\") (ap-south) is lost everywhere*",
        "*shortest counterexample, 9 steps:",
        "*. remove-espresso commits basket:42.remove(\"espresso\") at ap-south*<- lost write",   # (which shortest run: the search's)
        "FAILED design/cart.toml::no-lost-writes - *MISMATCH design/cart.toml",
    ])
    assert "two phases" not in r.stdout.str()   # the engine notes are left out
    assert "Traceback" not in r.stdout.str()


def test_an_expected_violation_that_holds_fails(project):
    _edit(project.path / "design" / "profile.toml", 'no-lost-writes = "holds"', 'no-lost-writes = "violated"')
    r = project.runpytest()
    r.assert_outcomes(passed=5, failed=1, skipped=1)
    r.stdout.fnmatch_lines(["  no-lost-writes: expected violated, got holds", "*no-lost-writes  holds"])


def test_an_incomplete_search_is_not_settled_unless_expected(project):
    profile = project.path / "design" / "profile.toml"
    profile.write_text(profile.read_text() + "\n[bounds]\nmax_states = 2\n")
    r = project.runpytest("design/profile.toml")
    r.assert_outcomes(failed=2)
    r.stdout.fnmatch_lines(["not settled design/profile.toml",
                            "  convergence: expected holds, got incomplete (max_states)",
                            "  (a bound cut the search before it decided*or expect \"incomplete\")"])
    _edit(profile, 'convergence = "holds"\nno-lost-writes = "holds"',
          'convergence = "incomplete"\nno-lost-writes = "incomplete"')
    project.runpytest("design/profile.toml").assert_outcomes(passed=2)


def test_the_fixture_fails_a_variant_that_misses(project):
    project.makepyfile(test_variant="""
        def test_ring(replcheck_expect):
            replcheck_expect("specs/seed/alice-bob-lww.toml", ["system.resolver=mv-register"])
    """)
    r = project.runpytest("test_variant.py")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["MISMATCH specs/seed/alice-bob-lww.toml",
                            "  no-lost-writes: expected violated:lost-update, got holds"])
    assert "Traceback" not in r.stdout.str() and "def expect" not in r.stdout.str()


def test_ids_are_file_and_invariant(project):
    r = project.runpytest("--collect-only", "-q", "design")
    r.stdout.fnmatch_lines(["design/cart.toml::convergence", "design/cart.toml::no-lost-writes",
                            "design/nickname-merge.toml::convergence", "design/profile.toml::convergence",
                            "design/profile.toml::no-lost-writes", "5 tests collected*"])


def test_a_bad_spec_is_a_one_line_collection_error(project):
    (project.path / "design" / "typo.toml").write_text(
        '[system]\nleaders = ["a", "b"]\nresolver = "lvw"\n[[workload]]\nleader = "a"\nkey = "k"\nset = "x"\n'
        '[expect]\nconvergence = "holds"\n')
    r = project.runpytest("design")
    r.stdout.fnmatch_lines(["*ERROR collecting design/typo.toml*",
                            "replcheck: design/typo.toml: system.resolver: unknown 'lvw'; did you mean 'lww'?*"])
    assert "Traceback" not in r.stdout.str()
    assert r.ret == pytest.ExitCode.INTERRUPTED


def test_only_matched_files_with_an_expect_table_are_collected(project):
    (project.path / "design" / "pyproject.toml").write_text("[tool.something]\nx = 1\n")   # matched, no [expect]
    (project.path / "other").mkdir()
    shutil.copy(project.path / "design" / "profile.toml", project.path / "other" / "profile.toml")   # not matched
    r = project.runpytest("--collect-only", "-q", "design", "other")
    r.stdout.fnmatch_lines(["5 tests collected*"])
    r = project.runpytest("--collect-only", "-q", "other/profile.toml")   # named on the command line
    r.stdout.fnmatch_lines(["other/profile.toml::convergence", "other/profile.toml::no-lost-writes"])
    r = project.runpytest("--collect-only", "-q", "--replcheck-specs", "other/*.toml", "other")
    r.stdout.fnmatch_lines(["other/profile.toml::convergence", "2 tests collected*"])


def test_without_a_pattern_nothing_is_collected(pytester):
    shutil.copytree(EXAMPLE / "design", pytester.path / "design")
    assert pytester.runpytest("design").ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_replcheck_own_suite_does_not_collect_its_specs(pytester):
    # replcheck's pyproject.toml sets no replcheck_specs: its specs/ are tests/specs/test_specs.py's, never the plugin's.
    r = pytester.runpytest("--collect-only", "-q", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
                           str(ROOT / "specs" / "seed"))
    assert r.ret == pytest.ExitCode.NO_TESTS_COLLECTED, r.stdout.str()


def test_a_refused_merge_function_fails_in_one_line(project):
    _edit(project.path / "design" / "nickname-merge.toml", 'merge = "merges.py:longest"', 'merge = "os:popen"')
    r = project.runpytest("--replcheck-allow-python", "design/nickname-merge.toml")
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["replcheck: design/nickname-merge.toml: system.merge: 'os' is part of Python's standard"
                            " library*"])
    assert "Traceback" not in r.stdout.str()
