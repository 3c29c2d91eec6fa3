"""The pglogical conformance target against real PostgreSQL 15 + pglogical 2
servers (checks/conform/targets/pglogical.py).

One 3-node target (every pair linked, last_update_wins, n3's clock 2 s
behind under libfaketime) is started once for the module and reset before
each test.  Skips with one line when the packages are missing (.ci/run
installs them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from replcheck.checks.conform.target import Setup, TargetOp, TargetUnavailable
from replcheck.checks.conform.targets.pglogical import PglogicalTarget, available
from tests.conftest import sigint_default

MISSING = available()
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

ROOT = Path(__file__).resolve().parents[3]
LEADERS = ("n1", "n2", "n3")
LINKS = tuple((a, b) for a in LEADERS for b in LEADERS if a != b)
SETUP = Setup(leaders=LEADERS, links=LINKS, mode="last_update_wins", offsets_ms={"n3": -2000})
#: the gap between alice's and bob's commits in the seed: the schedule's own
#: timing (the issue's 10-50 ms), not a wait for replication
GAP_S = 0.03


def op(label, kind, key="x", value=None):
    return TargetOp(label, kind, key, value)


@pytest.fixture(scope="module")
def pg():
    with PglogicalTarget() as target:
        target.start(SETUP)
        yield target


@pytest.fixture
def t(pg):
    pg.reset()
    return pg


def seed_row(t, src="n1", dst="n2", value="seed"):
    assert t.commit(src, op("seed", "insert", value=value)).rows == 1
    t.deliver(src, dst)
    assert t.read(dst) == {"x": value}


def test_name_is_read_from_the_servers(pg):
    import re
    assert re.fullmatch(r"PostgreSQL 15\.\d+ \+ pglogical 2\.\d+\.\d+", pg.name), pg.name


def test_seed_last_update_wins_converges_on_bobs_row(t):
    """The issue's seed: alice at n1, bob at n2 a little later, both links
    held, then delivered: bob's newer row wins on both nodes; n1 logs
    apply_remote, n2 keep_local."""
    seed_row(t)
    assert t.log("n1") == [] and t.log("n2") == []
    alice = t.commit("n1", op("alice", "update", value="alice"))
    time.sleep(GAP_S)
    bob = t.commit("n2", op("bob", "update", value="bob"))
    assert alice.rows == bob.rows == 1
    assert bob.commit_ts_ms > alice.commit_ts_ms
    assert t.read("n1") == {"x": "alice"} and t.read("n2") == {"x": "bob"}     # held
    t.deliver("n1", "n2")
    t.deliver("n2", "n1")
    assert t.read("n1") == t.read("n2") == {"x": "bob"}
    n1, n2 = t.log("n1"), t.log("n2")
    assert len(n1) == len(n2) == 1, (n1, n2)
    assert n1[0].startswith("CONFLICT: remote UPDATE on relation public.kv") and n1[0].endswith("Resolution: apply_remote.")
    assert n2[0].endswith("Resolution: keep_local.")
    assert t.log("n1") == []                                   # since the last call


def test_skewed_clock_diverges_for_good(t):
    """n3 runs 2 s behind: bob updates at n3 *after* alice's row arrived
    there, yet his commit is stamped earlier, so n1 keeps alice's row while
    n3 keeps bob's, and more deliveries change nothing."""
    seed_row(t, "n1", "n3")
    alice = t.commit("n1", op("alice", "update", value="alice"))
    t.deliver("n1", "n3")
    assert t.read("n3") == {"x": "alice"}
    bob = t.commit("n3", op("bob", "update", value="bob"))
    assert bob.commit_ts_ms < alice.commit_ts_ms - 1000            # the skew, on n3's clock
    t.deliver("n3", "n1")
    t.deliver("n1", "n3")
    assert t.read("n1") == {"x": "alice"} and t.read("n3") == {"x": "bob"}
    [line] = t.log("n1", detail=True)
    assert "Resolution: keep_local." in line and "DETAIL:" in line and "v[text]:bob" in line
    assert t.log("n3") == []                                    # bob's update was local there
    for src, dst in (("n1", "n3"), ("n3", "n1")):
        t.deliver(src, dst)
    assert t.read("n1") == {"x": "alice"} and t.read("n3") == {"x": "bob"}


def test_faketime_shifts_now_and_commit_timestamps(t):
    import psycopg
    nows = {}
    for leader in ("n1", "n3"):
        with psycopg.connect(t.dsn(leader)) as c:
            nows[leader] = c.execute("select extract(epoch from clock_timestamp()) * 1000").fetchone()[0]
    assert 1500 < float(nows["n1"] - nows["n3"]) < 2500, nows
    a = t.commit("n1", op("a", "insert", "a", "1"))
    b = t.commit("n3", op("b", "insert", "b", "1"))
    assert 1500 < a.commit_ts_ms - b.commit_ts_ms < 2500
    assert abs(a.commit_ts_ms - time.time() * 1000) < 5000


def test_deliver_hands_over_only_what_was_committed_before(t):
    assert t.commit("n1", op("one", "insert", value="1")).rows == 1
    t.deliver("n1", "n2")
    assert t.read("n2") == {"x": "1"}
    assert t.commit("n1", op("two", "update", value="2")).rows == 1
    assert t.commit("n1", op("three", "insert", "y", "3")).rows == 1
    # Give a leak every chance: the held link must not pass anything on.
    for _ in range(5):
        time.sleep(0.05)
        assert t.read("n2") == {"x": "1"}
    assert t.read("n3") == {}                                    # n1->n3 never delivered
    t.deliver("n1", "n2")
    assert t.read("n2") == {"x": "2", "y": "3"}
    t.deliver("n1", "n2")                                        # nothing pending: a no-op
    assert t.read("n2") == {"x": "2", "y": "3"}
    assert t.read("n3") == {}
    # No forwarding (forward_origins '{}'): n2 passes on only its own changes.
    assert t.commit("n2", op("z", "insert", "z", "n2")).rows == 1
    t.deliver("n2", "n3")
    assert t.read("n3") == {"z": "n2"}


def test_reset_forgets_rows_pending_changes_and_logs(t):
    seed_row(t, "n1", "n2")
    t.commit("n1", op("a", "update", value="alice"))
    t.commit("n2", op("b", "update", value="bob"))
    t.deliver("n2", "n1")                                        # a conflict line at n1
    t.commit("n3", op("c", "insert", "c", "pending"))            # pending on n3's links
    t.reset()
    for leader in LEADERS:
        assert t.read(leader) == {}
        assert t.log(leader) == []
    for src, dst in LINKS:
        t.deliver(src, dst)
    for leader in LEADERS:
        assert t.read(leader) == {}, leader
        assert t.log(leader) == []
    # The next schedule starts clean: the same key again, no conflicts left over.
    assert t.commit("n2", op("again", "insert", value="new")).rows == 1
    t.deliver("n2", "n1")
    assert t.read("n1") == {"x": "new"} and t.log("n1") == []


def test_sql_kinds(t):
    first = t.commit("n1", op("i", "insert", value="1"))
    assert first.rows == 1 and first.error is None
    dup = t.commit("n1", op("dup", "insert", value="2"))
    assert dup.rows == 0 and "duplicate key" in dup.error and dup.commit_ts_ms is None
    assert t.commit("n1", op("u", "update", "missing", "v")).rows == 0
    assert t.commit("n1", op("d", "delete", "missing")).rows == 0
    assert t.commit("n1", op("up", "upsert", value="3")).rows == 1
    assert t.commit("n1", op("up", "upsert", "y", "4")).rows == 1
    assert t.read("n1") == {"x": "3", "y": "4"}
    d = t.commit("n1", op("d", "delete"))
    assert d.rows == 1 and d.commit_ts_ms >= first.commit_ts_ms
    assert t.read("n1") == {"y": "4"}
    t.deliver("n1", "n2")
    assert t.read("n2") == {"y": "4"}


def test_given_nodes(pg):
    """dsns= mode on a second database of the same servers: the target
    creates its extension, node, table, set and subscriptions, applies the
    mode with ALTER DATABASE (the servers say last_update_wins), and drops
    it all again in stop()."""
    import psycopg
    servers = {"a": "n1", "b": "n2"}
    for server in servers.values():
        with psycopg.connect(pg.dsn(server), autocommit=True) as c:
            # Never dropped (the servers go at the module's end): DROP DATABASE
            # can wait forever for pglogical's workers to absorb its barrier.
            c.execute("create database given")
    dsns = {l: pg.dsn(s).replace("dbname=postgres", "dbname=given") for l, s in servers.items()}
    with PglogicalTarget(dsns=dsns, logs={l: pg.logfile(s) for l, s in servers.items()},
                         signal_manager=True) as g:
        g.start(Setup(leaders=("a", "b"), links=(("a", "b"), ("b", "a")), mode="keep_local"))
        assert g.table == "replcheck_kv"
        assert g.commit("a", op("seed", "insert", value="seed")).rows == 1
        g.deliver("a", "b")
        g.commit("a", op("alice", "update", value="alice"))
        g.commit("b", op("bob", "update", value="bob"))
        g.deliver("a", "b")
        g.deliver("b", "a")
        assert g.read("a") == {"x": "alice"} and g.read("b") == {"x": "bob"}     # keep_local
        lines = g.log("a") + g.log("b")
        assert len(lines) == 2 and all(l.endswith("Resolution: keep_local.") for l in lines), lines
    for dsn in dsns.values():
        with psycopg.connect(dsn) as c:
            assert c.execute("select count(*) from pg_extension where extname = 'pglogical'").fetchone()[0] == 0
            assert c.execute("select to_regclass('replcheck_kv')").fetchone()[0] is None
            assert c.execute("select count(*) from pg_replication_slots where database = 'given'").fetchone()[0] == 0
            assert c.execute("select count(*) from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase "
                             "where d.datname = 'given'").fetchone()[0] == 0
    # The module's own target is untouched.
    pg.reset()
    pg.commit("n1", op("x", "insert", value="still"))
    pg.deliver("n1", "n2")
    assert pg.read("n2") == {"x": "still"}


def test_bad_setups_are_refused_before_starting():
    with pytest.raises(TargetUnavailable, match="conflict_resolution"):
        PglogicalTarget().start(Setup(leaders=LEADERS, links=LINKS, mode="error"))
    with pytest.raises(TargetUnavailable, match="bad link"):
        PglogicalTarget().start(Setup(leaders=("n1", "n2"), links=(("n1", "n9"),), mode="keep_local"))
    with pytest.raises(TargetUnavailable, match="embedded"):
        PglogicalTarget(dsns={"n1": "dbname=x", "n2": "dbname=y"}).start(
            Setup(leaders=("n1", "n2"), links=(), mode="keep_local", offsets_ms={"n1": 5}))


CHILD = """
import json, sys, time
from replcheck.checks.conform.target import Setup
from replcheck.checks.conform.targets.pglogical import PglogicalTarget
t = PglogicalTarget()
t.start(Setup(leaders=("n1", "n2"), links=(("n1", "n2"),), mode="apply_remote"))
print(json.dumps({"folder": t.folder, "pids": [n.proc.pid for n in t._nodes.values()]}), flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_a_dying_run_leaves_no_server_behind(sig):
    """Ctrl-C: the target's atexit cleanup stops the servers (they run in
    their own session, so the SIGINT itself does not reach them); SIGKILL:
    the watchdog process does."""
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             preexec_fn=sigint_default)
    try:
        info = json.loads(child.stdout.readline())
        assert os.path.isdir(info["folder"]) and all(_alive(p) for p in info["pids"])
        child.send_signal(sig)
        assert child.wait(timeout=30) != 0
    finally:
        if child.poll() is None:
            child.kill()
    end = time.monotonic() + 20
    while time.monotonic() < end and (os.path.exists(info["folder"]) or any(_alive(p) for p in info["pids"])):
        time.sleep(0.05)
    assert not os.path.exists(info["folder"])
    assert not any(_alive(p) for p in info["pids"])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
