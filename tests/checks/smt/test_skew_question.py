"""Issue 16, "Questions asked the way people ask them": `smt skew SPEC`
answers the least skew that loses a causally later write, freeing the
ops' times when the spec's own leave none, and prints one witness."""

from click.testing import CliRunner

from replcheck.checks.cli import main
from tests.conftest import SPECS

SEED = SPECS / "seed" / "alice-bob-lww.toml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_seed_answers_32_5_ms_with_the_times_freed_and_one_witness():
    r = run("smt", "skew", SEED)
    assert r.exit_code == 1   # a write can be lost (lost-update at skew 0)
    out = r.output
    assert "least skew for a causally later write to be lost: none" in out   # with the spec's own times
    assert "with the ops' real times free" in out
    assert "32.5 ms (clocks 65 ms apart)" in out
    assert out.count("offsets:") == 1 and out.count("witness:") == 1


def test_verbose_shows_every_witness_timeline():
    out = run("smt", "skew", SEED, "-v").output
    assert out.count("offsets:") == 2   # lost-update's and the least skew's


def test_no_least_skew_asks_only_the_two_questions():
    out = run("smt", "skew", SEED, "--no-least-skew").output
    assert "least skew" not in out and "lost-update" in out


def test_a_spec_whose_times_allow_it_is_not_asked_twice():
    out = run("smt", "skew", SPECS / "seed" / "skew-wall.toml").output
    assert "with the ops' real times free" not in out and "least skew for a causally later write" in out
