"""`replcheck smt skew`: the z3 answers match hand calculation.

Notation: Alice commits at eu-west at real time t_a, Bob at us-east at t_b;
offsets off_a (eu-west), off_b (us-east); skew S = max |offset|, so
off_a - off_b <= 2S.  Defaults: commit 5 ms, replication >= 60 ms per link,
so Alice's write is applied at us-east no sooner than t_a + 65.
Bob's write is causally after Alice's only if t_b >= t_a + 5 + 60 = t_a + 65
(it must have arrived before Bob commits).  Timestamps: t + offset.
LWW with tie-break "leader": on equal timestamps the leader whose name sorts
last wins; "us-east" > "eu-west", so Bob wins ties.
"""

from fractions import Fraction

from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.smt.skew import CAUSAL, LOST_UPDATE, Timing, analyse
from replcheck.checks.verdict import load
from tests.conftest import SPECS

SEED = SPECS / "seed" / "alice-bob-lww.toml"
SKEW_WALL = SPECS / "seed" / "skew-wall.toml"


def test_seed_loses_alices_concurrent_write_at_zero_skew():
    # t_a = 0, t_b = 10: Alice's write reaches us-east at >= 65 > 10, so the
    # writes are concurrent; with no skew Bob's ts 10 beats Alice's ts 0.
    r = analyse(load(SEED), minimize=True)
    w = r.lost_update
    # With unbounded offsets either write can be the concurrent loser; the
    # witness must be consistent: the loser's timestamp is behind (or tied
    # and from eu-west, which loses ties).
    ts = {e.op: e.ts for e in w.events if e.kind == "commit"}
    assert w.anomaly == LOST_UPDATE and {w.victim, w.winner} == {"alice", "bob"}
    assert ts[w.victim] < ts[w.winner] or (ts[w.victim] == ts[w.winner] and w.victim == "alice")
    assert r.causally_later is None
    # Neither write can see the other (10 - 0 < 65): no skew makes a
    # causally later write lost.
    assert r.least.skew is None
    # ... and the concurrent loss needs no skew at all: at skew 0, ts 0 < 10.
    w0 = analyse(load(SEED), Timing(max_skew=Fraction(0))).lost_update
    assert (w0.victim, w0.winner, w0.skew) == ("alice", "bob", 0)


def test_seed_with_free_times_least_skew_is_32_5_and_attained_by_the_tie_break():
    # Times free: a causal pair needs a gap of >= 65 ms.  Bob after Alice:
    # loses iff t_b + off_b < t_a + off_a, i.e. off_a - off_b > 65 -> S > 32.5
    # (strict: Bob wins the tie).  Alice after Bob: loses iff
    # t_a + off_a <= t_b + off_b (Bob wins ties), i.e. off_b - off_a >= 65
    # -> S >= 32.5, attained.  So the least skew is 32.5 ms, attained, with
    # Alice's later write the victim.
    r = analyse(load(SEED), Timing(free_times=True), minimize=True)
    assert r.least.skew == Fraction(65, 2) and r.least.attained
    w = r.least.witness
    assert (w.anomaly, w.victim, w.winner) == (CAUSAL, "alice", "bob")
    assert w.skew == Fraction(65, 2)
    offs = dict(w.offsets)
    assert offs["us-east"] - offs["eu-west"] == 65


def test_bob_70ms_after_alice_least_skew_is_above_35():
    # skew-wall: t_a = 0, t_b = 70, after = [alice] (70 >= 65: feasible).
    # Bob loses iff 70 + off_b < off_a  <=>  off_a - off_b > 70  <=>  S > 35.
    # At S = 35 exactly the timestamps tie and Bob (us-east) wins: an
    # infimum, not attained.  Clocks must be more than 70 ms apart.
    r = analyse(load(SKEW_WALL), minimize=True)
    assert r.least.skew == 35 and not r.least.attained
    assert r.lost_update is None          # Alice's write is superseded, never lost
    w = r.least.witness
    assert (w.victim, w.winner) == ("bob", "alice")
    offs = dict(w.offsets)
    assert offs["eu-west"] - offs["us-east"] > 70 and 35 < w.skew <= 36


def test_skew_below_the_least_cannot_lose_the_causal_write():
    assert analyse(load(SKEW_WALL), Timing(max_skew=Fraction(35))).causally_later is None
    assert analyse(load(SKEW_WALL), Timing(max_skew=Fraction(351, 10))).causally_later is not None


def test_replication_slower_than_bobs_gap_makes_the_workload_infeasible():
    # replication 66 ms: Alice's write reaches us-east at >= 71 > 70.
    r = analyse(load(SKEW_WALL), Timing(replication_ms=Fraction(66)))
    assert r.causally_later is None and any("no run fits" in n for n in r.notes)


def test_witness_timeline_shows_every_clock_at_every_event():
    r = analyse(load(SKEW_WALL), minimize=True)
    w = r.least.witness
    # 2 commits + each write applied at 2 other leaders
    assert [e.kind for e in w.events].count("commit") == 2 and len(w.events) == 6
    for e in w.events:
        assert {l for l, _ in e.clocks} == {"us-east", "eu-west", "ap-south"}
        for leader, reading in e.clocks:
            assert reading == e.time + dict(w.offsets)[leader]
    commit_bob = next(e for e in w.events if e.kind == "commit" and e.op == "bob")
    applied_alice = next(e for e in w.events if e.kind == "apply" and e.op == "alice" and e.leader == "us-east")
    assert applied_alice.time <= commit_bob.time == 70


def test_cli_prints_least_skew_and_timeline():
    res = CliRunner().invoke(main, ["smt", "skew", str(SKEW_WALL), "--minimize"])
    assert res.exit_code == 1
    assert "any skew above 35 ms (clocks more than 70 ms apart)" in res.output
    assert "clocks: us-east" in res.output


def test_cli_rejects_a_spec_without_wall_clock_lww():
    res = CliRunner().invoke(main, ["smt", "skew", str(SPECS / "seed" / "skew-hlc.toml")])
    assert res.exit_code == 2 and "lww over wall clocks" in res.output
