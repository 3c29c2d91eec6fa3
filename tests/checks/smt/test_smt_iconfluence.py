"""`replcheck smt iconfluence`: the pinned verdicts of the bundled queries."""

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.smt.iconfluence import check, load_query
from tests.conftest import ROOT

Q = ROOT / "queries" / "iconfluence"


def _state(text):
    """'stock=-1' -> {'stock': -1} (int variables only)."""
    return {k: int(v) for k, v in (p.split("=") for p in text.split())}


def test_stock_with_decrement_is_not_i_confluent():
    v = check(load_query(Q / "stock-decrement.toml"))
    assert not v.confluent
    anc, a, b, m = _state(v.ancestor)["stock"], v.branch_a, v.branch_b, _state(v.merged)["stock"]
    # each branch sells and stays valid locally; the counter merge adds both deltas
    assert a and b and all(s.op == "sell" for s in a + b)
    sa, sb = _state(a[-1].state)["stock"], _state(b[-1].state)["stock"]
    assert anc >= 0 and sa >= 0 and sb >= 0
    assert m == sa + sb - anc < 0
    assert len(a) + len(b) == 2          # the shortest: one sale each from stock 1
    assert anc == 1 and m == -1


def test_stock_with_increment_only_is_i_confluent():
    v = check(load_query(Q / "stock-increment.toml"))
    assert v.confluent and "up to 3 operations per branch" in v.bounds


def test_user_chosen_email_is_not_unique_after_merge():
    v = check(load_query(Q / "email-unique.toml"))
    assert not v.confluent
    ea = dict(v.branch_a[-1].params)["email"]
    eb = dict(v.branch_b[-1].params)["email"]
    assert ea == eb and v.merged.count(f"email={ea})") == 2


def test_leader_prefixed_ids_are_i_confluent():
    assert check(load_query(Q / "leader-prefixed-ids.toml")).confluent


def test_escrow_counter_is_i_confluent():
    assert check(load_query(Q / "escrow-stock.toml")).confluent


def test_escrow_without_its_rights_guard_is_not(tmp_path):
    # The proof depends on the local-rights guard: selling on the global
    # view of stock alone breaks the invariant on merge.
    text = (Q / "escrow-stock.toml").read_text()
    text = text.replace('guard = "n >= 1 and p_aa + p_ba - p_ab - d_a >= n"\neffect = { d_a = "d_a + n" }',
                        'guard = "n >= 1 and p_aa + p_bb - d_a - d_b >= n"\neffect = { d_a = "d_a + n" }')
    text = text.replace('    "p_aa + p_ba - p_ab - d_a >= 0",\n', "")
    p = tmp_path / "escrow-global.toml"
    p.write_text(text)
    assert not check(load_query(p)).confluent


def test_ids_from_one_shared_namespace_collide(tmp_path):
    text = (Q / "leader-prefixed-ids.toml").read_text().replace('leader = "replica"', 'leader = "0"')
    p = tmp_path / "shared-ids.toml"
    p.write_text(text)
    assert not check(load_query(p)).confluent


def test_sets_merge_by_expression(tmp_path):
    p = tmp_path / "seats.toml"
    p.write_text('''invariant = "size(seats) <= 2"
[vars.seats]
type = "set"
universe = 4
merge = "union(local, remote)"
[[ops]]
name = "book"
params = ["x"]
guard = "not contains(seats, x)"
effect = { seats = "add(seats, x)" }
''')
    v = check(load_query(p))
    assert not v.confluent and v.merged.count(",") >= 2     # three seats booked after merge


@pytest.mark.parametrize("body,key", [
    ('invariant = "x >= 0"\n[[ops]]\nname = "a"\neffect = { x = "x + 1" }\n', "invariant: unknown name 'x'"),
    ('invariant = "x >= 0"\n[vars.x]\nmerge = "max(local, remote)"\n[[ops]]\nname = "a"\nguard = "x"\n'
     'effect = { x = "x + 1" }\n', "guard"),
    ('invariant = "x >= 0"\n[vars.x]\nmerge = "max(local, remote)"\nbogus = 1\n', "vars.x.bogus"),
])
def test_bad_queries_are_one_line_errors_naming_the_key(tmp_path, body, key):
    p = tmp_path / "q.toml"
    p.write_text(body)
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(p)])
    assert res.exit_code == 2 and key in res.output and res.output.count("\n") == 1


def test_cli_prints_ancestor_branches_and_merge():
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(Q / "stock-decrement.toml")])
    assert res.exit_code == 1
    for word in ("ancestor", "branch A", "branch B", "merge at"):
        assert word in res.output
    assert CliRunner().invoke(main, ["smt", "iconfluence", str(Q / "escrow-stock.toml")]).exit_code == 0


# ------------------------------------------------ every bundled query states its verdict (expect)
BUNDLED = sorted(Q.rglob("*.toml"))


def test_the_bundled_queries_include_the_foreign_key_ones():
    names = {p.relative_to(Q).as_posix() for p in BUNDLED}
    assert {"foreign-keys/insert.toml", "foreign-keys/delete.toml", "foreign-keys/cascading-delete.toml"} <= names


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.relative_to(Q).as_posix())
def test_each_bundled_query_gets_the_verdict_it_states(path):
    q = load_query(path)
    assert q.expect, f"{path.name}: state the expected verdict (expect = ...)"
    v = check(q)
    assert not v.incomplete, v.note
    assert ("i-confluent" if v.confluent else "not i-confluent") == q.expect


def test_the_cli_says_whether_the_verdict_is_the_stated_one(tmp_path):
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(Q / "foreign-keys" / "delete.toml")])
    assert res.exit_code == 1 and "expected: not i-confluent (as the query states)" in res.output
    text = (Q / "stock-increment.toml").read_text().replace('expect = "i-confluent"', 'expect = "not i-confluent"')
    p = tmp_path / "wrong-expect.toml"
    p.write_text(text)
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(p)])
    assert res.exit_code == 0 and "UNEXPECTED: the query expects not i-confluent" in res.output
