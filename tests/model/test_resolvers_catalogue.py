"""Hand-checked merges of the catalogue's resolvers and key types, the
escrow guarantee, routing, manual resolution and the Python merge gate."""

from dataclasses import replace

import pytest

from replcheck.checks.invariants import INVARIANTS, losses
from replcheck.checks.verdict import check, load
from replcheck.model import System, bfs, parse_spec
from replcheck.model import state as st
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import PRESETS, RESOLVERS
from replcheck.model.resolvers.base import REJECTED, View, is_rejected
from replcheck.model.resolvers.register import ROW_UPDATE
from tests.conftest import SPECS, make_spec, verdicts

TWO = ("us-east", "eu-west")


def _sys(workload, leaders=TWO, keys=None, **system):
    if not keys:
        return System(make_spec(leaders, workload, **system))
    data = {"system": {"leaders": list(leaders), **system}, "workload": [dict(o) for o in workload], "keys": keys}
    return System(parse_spec(data, "<test>", INVARIANTS))


def _w(ts, hb=0, data=None):
    return (ts,) + ((hb,) if data is None else (hb, data))


# ------------------------------------------------------------- registers
def test_keep_local_keeps_the_held_row_on_a_conflict_and_apply_remote_takes_the_incoming():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "set": "B"}]
    writes = (((1,), 0), ((2,), 0))
    kl = _sys(ops, resolver="keep-local").types[0]
    ar = _sys(ops, resolver="apply-remote").types[0]
    assert kl.apply((0,), 1, writes, False) == (0,)
    assert kl.apply((1,), 0, writes, False) == (1,)
    assert ar.apply((0,), 1, writes, False) == (1,)
    assert ar.apply((1,), 0, writes, False) == (0,)
    # same origin: not a conflict, the later write of that origin is applied
    ops2 = ops + [{"leader": "us-east", "key": "k", "set": "C"}]
    kl2 = _sys(ops2, resolver="keep-local").types[0]
    assert kl2.apply((0,), 2, writes + (((3,), 1),), False) == (2,)


def test_first_writer_wins_keeps_the_smaller_timestamp_in_either_order():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "set": "B"}]
    t = _sys(ops, resolver="first-writer-wins").types[0]
    writes = (((5,), 0), ((3,), 0))
    assert t.apply((0,), 1, writes, False) == (1,)
    assert t.apply((1,), 0, writes, False) == (1,)


def test_max_and_min_compare_numbers_numerically_and_a_delete_never_wins():
    ops = [{"leader": "us-east", "key": "k", "set": "9"}, {"leader": "eu-west", "key": "k", "set": "10"},
           {"leader": "eu-west", "key": "k", "delete": True}]
    writes = (((1,), 0), ((2,), 0), ((3,), 0))
    mx = _sys(ops, resolver="max").types[0]
    mn = _sys(ops, resolver="min").types[0]
    assert mx.apply((0,), 1, writes, False) == (1,)      # 10 > 9, not "10" < "9"
    assert mn.apply((0,), 1, writes, False) == (0,)
    assert mx.apply((0,), 2, writes, False) == (0,)
    assert mn.apply((0,), 2, writes, False) == (0,)


def test_cassandra_breaks_equal_timestamps_tombstone_first_then_larger_value():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "set": "B"},
           {"leader": "eu-west", "key": "k", "delete": True}]
    t = _sys(ops, resolver="cassandra").types[0]
    writes = (((5,), 0), ((5,), 0), ((5,), 0))
    assert t.apply((0,), 1, writes, False) == (1,) and t.apply((1,), 0, writes, False) == (1,)
    assert t.apply((1,), 2, writes, False) == (2,) and t.apply((2,), 1, writes, False) == (2,)


def test_cosmos_delete_beats_a_concurrent_newer_replace_but_not_a_later_one():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "delete": True}]
    t = _sys(ops, resolver="cosmosdb-lww").types[0]
    concurrent = (((9000,), 0), ((1000,), 0))
    assert t.apply((0,), 1, concurrent, False) == (1,)
    assert t.apply((1,), 0, concurrent, False) == (1,)
    after = (((9000,), 0b10), ((1000,), 0))           # the replace saw the delete
    assert t.apply((1,), 0, after, False) == (0,)


def test_cosmos_timestamps_are_seconds_so_writes_in_one_second_tie():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "set": "B"}]
    t = _sys(ops, resolver="cosmosdb-lww").types[0]
    writes = (((1200,), 0), ((1900,), 0))               # same second: region tie-break, us-east sorts last
    assert t.apply((0,), 1, writes, False) == (0,)


def test_pglogical_last_update_wins_applies_the_remote_row_on_equal_timestamps():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "set": "B"}]
    t = _sys(ops, resolver="pglogical-last-update-wins").types[0]
    writes = (((5,), 0, (1, ROW_UPDATE)), ((5,), 0, (2, ROW_UPDATE)))   # both UPDATEs (SQL rows)
    assert t.apply((0,), 1, writes, False) == (1,)
    assert t.apply((1,), 0, writes, False) == (0,)      # not a total order: each side takes the other


def test_pgd_equal_commit_timestamps_higher_node_id_wins():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "set": "B"}]
    t = _sys(ops, resolver="pgd").types[0]
    writes = (((5,), 0), ((5,), 0))
    assert t.apply((0,), 1, writes, False) == (0,) and t.apply((1,), 0, writes, False) == (0,)


def test_sqlserver_p2p_highest_originator_wins_even_against_a_newer_row():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "set": "B"}]
    t = _sys(ops, resolver="sqlserver-p2p").types[0]
    writes = (((1,), 0, (1, 0)), ((99,), 0, (2, 0)))    # (value id, base + 1): both based on nothing
    assert t.apply((0,), 1, writes, False) == (0,)      # us-east sorts last: the higher originator id
    assert t.apply((1,), 0, writes, False) == (0,)
    based = (((1,), 0, (1, 0)), ((99,), 1, (2, 1)))     # eu-west's row was based on us-east's: no conflict
    assert t.apply((0,), 1, based, False) == (1,)


def test_goldengate_usemax_ignores_an_equal_incoming_value():
    ops = [{"leader": "us-east", "key": "k", "set": "7"}, {"leader": "eu-west", "key": "k", "set": "7"}]
    t = _sys(ops, resolver="goldengate-usemax").types[0]
    writes = (((1,), 0, (1, 0)), ((2,), 0, (1, 0)))
    assert t.apply((0,), 1, writes, False) == (0,) and t.apply((1,), 0, writes, False) == (1,)


def test_couchdb_shows_the_same_winner_everywhere_and_prefers_a_live_leaf():
    ops = [{"leader": "us-east", "key": "k", "set": "A"}, {"leader": "eu-west", "key": "k", "delete": True}]
    s = _sys(ops, resolver="couchdb")
    t = s.types[0]
    writes = (((1,), 0), ((2,), 0))
    both = t.apply(t.apply((), 0, writes, False), 1, writes, False)
    assert both == (0, 1)
    v = t.visible(both, writes)
    assert v.text.startswith('"A" (+1 conflict')


# ---------------------------------------------------------------- CRDTs
def test_pn_counter_counts_each_delta_once_whatever_the_order_and_duplicates():
    ops = [{"leader": "us-east", "key": "c", "incr": 2}, {"leader": "eu-west", "key": "c", "decr": 1},
           {"leader": "us-east", "key": "c", "incr": 5}]
    s = _sys(ops, keys={"c": {"type": "pn-counter", "initial": 10}})
    t = s.types[0]
    writes = (((1,), 0, 2), ((1,), 0, 1), ((2,), 1, 7))          # data: the origin's total after the op
    a = t.apply(t.apply(t.initial(), 0, writes, False), 1, writes, False)
    b = t.apply(t.apply(t.initial(), 1, writes, False), 0, writes, False)
    assert a == b and t.visible(a, writes) == View((11,), "11")
    assert t.apply(a, 0, writes, False) == a                      # a duplicate counts once
    assert t.visible(t.apply(a, 2, writes, False), writes).data == (16,)


def test_or_set_keeps_a_concurrent_add_and_removes_what_was_observed():
    ops = [{"leader": "us-east", "key": "s", "add": "ham"}, {"leader": "eu-west", "key": "s", "remove": "ham"},
           {"leader": "eu-west", "key": "s", "remove": "eggs"}]
    t = _sys(ops, keys={"s": {"type": "or-set", "initial": ["eggs"]}}).types[0]
    writes = (((1,), 0), ((1,), 0), ((2,), 0))          # the remove of ham saw no add of ham
    c = t.apply(t.apply(t.initial(), 1, writes, False), 0, writes, False)
    assert t.visible(c, writes).data == ("eggs", "ham")
    c = t.apply(c, 2, writes, False)
    assert t.visible(c, writes).data == ("ham",)
    seen = (((1,), 0), ((1,), 0b001), ((2,), 0))        # now the remove saw the add
    assert t.visible(t.apply(t.apply(t.initial(), 0, seen, False), 1, seen, False), seen).data == ("eggs",)


def test_lww_element_set_and_2p_set_on_a_remove_followed_by_a_re_add():
    ops = [{"leader": "us-east", "key": "s", "remove": "x"}, {"leader": "us-east", "key": "s", "add": "x"}]
    writes = (((1,), 0), ((2,), 1))
    lw = _sys(ops, keys={"s": {"type": "lww-element-set", "initial": ["x"]}}).types[0]
    tp = _sys(ops, keys={"s": {"type": "2p-set", "initial": ["x"]}}).types[0]
    for t, shown in ((lw, ("x",)), (tp, ())):
        c = t.apply(t.apply(t.initial(), 0, writes, True), 1, writes, True)
        assert t.visible(c, writes).data == shown


def test_union_cart_brings_a_removed_item_back():
    ops = [{"leader": "eu-west", "key": "cart", "remove": "eggs"}, {"leader": "us-east", "key": "cart", "add": "ham"}]
    t = _sys(ops, keys={"cart": {"type": "union", "initial": ["milk", "eggs"]}}).types[0]
    e0 = t.stamp(_Op(0, "remove"), (1,), 0, (), ())
    assert e0 == ((1,), 0, 0b001)                        # {milk}
    e1 = t.stamp(_Op(1, "add"), (1,), 0, (), ())
    assert e1 == ((1,), 0, 0b111)                        # {milk, eggs, ham}
    writes = (e0, e1)
    c = t.apply(t.apply((), 0, writes, False), 1, writes, False)
    assert c == (0, 1) and t.visible(c, writes).data == ("eggs", "ham", "milk")


class _Op:
    def __init__(self, index, kind):
        self.index, self.kind = index, kind


# ---------------------------------------------------------------- escrow
def _escrow_system():
    return System(load(SPECS / "resolvers" / "escrow-stock.toml"))


def test_escrow_rejects_a_sale_its_leader_has_no_rights_for_and_never_goes_negative():
    system = _escrow_system()
    seen, todo, rejected = {system.initial_state()}, [system.initial_state()], 0
    k = system.keys.index("stock")
    while todo:
        s = todo.pop()
        for l in range(system.n):
            assert system.visible(s, l, k).data[0] >= 0
            assert system.types[k].rights(st.content(s, l, k), l) >= 0
        rejected = max(rejected, sum(1 for m in st.writes(s) if is_rejected(m)))
        for _, t in system.successors(s):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    assert rejected >= 1                                  # some interleaving refuses a sale
    assert len(seen) == 419


def test_a_rejected_sale_is_shown_in_the_trace_and_not_replicated():
    system = _escrow_system()
    s = system.initial_state()
    eu = system.op_index
    s = system.step(s, eu["sale-eu-1"])
    ev = system.describe(s, eu["sale-eu-2"])
    assert ev.outcome == "rejected"
    s2 = system.step(s, eu["sale-eu-2"])
    assert st.data(st.write(s2, eu["sale-eu-2"])) == REJECTED and st.links(s2) == st.links(s) and st.leaders(s2) == st.leaders(s)


# ------------------------------------------------------------- routing, resolve
def test_home_leader_commits_a_remote_clients_write_at_the_home():
    system = System(load(SPECS / "resolvers" / "home-leader.toml"))
    bob = system.op_index["bob"]
    assert system.ops[bob].leader_name == "us-east" and system.leaders[system.ops[bob].origin] == "eu-west"
    # Real time: alice (0 ms) commits before bob (10 ms); bob's write then
    # commits at the home, eu-west, replacing alice's there, and us-east
    # (where bob's client is) holds nothing until the home replicates.
    s = system.step(system.step(system.initial_state(), system.op_index["alice"]), bob)
    assert system.visible(s, system.leaders.index("eu-west"), 0) == (system.ops[bob].value_id,)
    assert system.visible(s, system.leaders.index("us-east"), 0) == ()
    assert system.routing.home(0, s) == system.leaders.index("eu-west")


def test_a_resolution_racing_a_new_write_leaves_that_write_as_a_sibling():
    system = System(load(SPECS / "resolvers" / "manual-resolve-race.toml"))
    r = bfs(system, [])
    assert r.complete
    ids = system.op_index
    # Walk to a quiescent state where carol resolved {alice, bob} and dave was concurrent.
    seen, todo, found = set(), [system.initial_state()], False
    while todo and not found:
        s = todo.pop()
        nxt = system.successors(s)
        if not nxt:
            held = {system.ops[w].id for w in st.content(s, 0, 0)}
            if held == {"carol", "dave"}:
                found = True
        for _, t in nxt:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    assert found
    assert not system.happens_before(s, ids["dave"], ids["carol"])


# ------------------------------------------------------------- python merge
def test_a_python_merge_needs_the_flag_and_finds_the_divergence_with_it():
    path = SPECS / "resolvers" / "custom-merge-concat.toml"
    spec = load(path)
    with pytest.raises(SpecError, match="system.merge: .*--allow-python"):
        check(spec)
    report = check(replace(spec, allow_python=True))
    assert [(r.invariant, r.verdict, r.anomaly) for r in report.results] == [("convergence", "violated", "divergence")]
    assert "Budget 2026 (EU) | Budget 2026 (US)" in report.results[0].message


def test_no_lost_writes_refuses_to_judge_a_python_merge():
    spec = replace(load(SPECS / "resolvers" / "custom-merge-concat.toml"), allow_python=True)
    with pytest.raises(SpecError, match="check.invariants: no-lost-writes cannot judge"):
        check(spec, invariants=["no-lost-writes"])


def test_a_commutative_python_merge_converges():
    spec = load(SPECS / "resolvers" / "custom-merge-concat.toml", ["system.merge=examples.merges:sorted_union_titles"])
    assert check(replace(spec, allow_python=True)).results[0].verdict == "holds"


# ------------------------------------------------------------- catalogue
def test_the_catalogue_has_every_name_the_issue_asks_for():
    names = ["lww", "first-writer-wins", "keep-local", "apply-remote", "max", "min", "mv-register", "union",
             "g-counter", "pn-counter", "or-set", "lww-element-set", "2p-set", "escrow", "home-leader",
             "cassandra", "couchdb", "riak", "riak-lww", "dynamodb-global-tables", "cosmosdb-lww", "pgd",
             "pglogical-apply-remote", "pglogical-keep-local", "pglogical-last-update-wins",
             "pglogical-first-update-wins", "bucardo-latest", "sqlserver-p2p", "goldengate-usemax",
             "goldengate-usemin", "goldengate-overwrite", "goldengate-ignore", "goldengate-discard",
             "goldengate-usedelta", "yjs-map"]
    assert list(RESOLVERS) == names or set(RESOLVERS) == set(names)
    assert len(PRESETS) == 19
    for r in RESOLVERS.values():
        assert r.summary and r.source and r.keeps and r.loses


def test_every_resolver_has_a_pinned_spec():
    text = "\n".join(p.read_text() for p in SPECS.rglob("*.toml"))
    for name in RESOLVERS:
        assert f'"{name}"' in text, name


# ------------------------------------------------------------------- CLI
def test_cli_python_merge_gate_and_expect_skip(tmp_path):
    from click.testing import CliRunner

    from replcheck.checks.cli import main
    path = str(SPECS / "resolvers" / "custom-merge-concat.toml")
    r = CliRunner().invoke(main, ["check", path])
    assert r.exit_code == 2
    assert "system.merge" in r.output and "--allow-python" in r.output and len(r.output.strip().splitlines()) == 1
    r = CliRunner().invoke(main, ["check", path, "--allow-python"])
    assert r.exit_code == 1 and "VIOLATED  divergence" in r.output
    r = CliRunner().invoke(main, ["check", "--expect", path])
    assert r.exit_code == 0 and "skipped  " in r.output and "needs --allow-python" in r.output
    r = CliRunner().invoke(main, ["check", "--expect", "--allow-python", path])
    assert r.exit_code == 0 and r.stdout.startswith("ok ")   # stderr may name the function that runs


def test_cli_lists_every_resolver_with_meaning_and_source():
    from click.testing import CliRunner

    from replcheck.checks.cli import main
    out = CliRunner().invoke(main, ["list", "resolvers"]).output
    for name, info in RESOLVERS.items():
        line = next(x for x in out.splitlines() if x.split()[0] == name)
        assert info.summary in line and info.source in line


def test_list_resolvers_shows_each_entrys_family_and_coverage():
    """Issue 13: `list resolvers` has coverage columns, read from the
    catalogue (ResolverInfo.engines), never a second table."""
    from click.testing import CliRunner

    from replcheck.checks.cli import main
    from replcheck.model.resolvers import RESOLVERS
    out = CliRunner().invoke(main, ["list", "resolvers"]).output.splitlines()
    assert out[0].split()[:4] == ["resolver", "family", "covered", "by"]
    rows = {line.split()[0]: line for line in out[1:]}
    assert set(rows) == set(RESOLVERS)
    for name, r in RESOLVERS.items():
        words = rows[name].split()
        assert words[1] == r.family
        assert "explicit" in words and ("spin" in words) == bool(r.promela) and ("skew" in words) == r.skew
        assert any(w.startswith("conform:") for w in words) == bool(r.conform)
        if r.conform:
            assert f"conform:{r.conform[0]}" in words
