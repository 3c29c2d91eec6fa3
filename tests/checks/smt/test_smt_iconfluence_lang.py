"""The I-confluence query language of issue 17 item 8 (docs/z3.md §3).

Each construct has a query whose verdict is known by hand both ways — one
I-confluent, one not — and the reason is written next to it.  The last
section holds the seeded bug (the merge-time cascade dropped must flip the
cascading delete's verdict) and the bad inputs, each one line naming the
file and the key (exit 2).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.smt import iconfluence
from replcheck.checks.smt.iconfluence import check, load_query
from replcheck.model.errors import ReplcheckError
from tests.conftest import ROOT

FK = ROOT / "queries" / "iconfluence" / "foreign-keys"


def _run(tmp_path, text, name="q.toml"):
    p = tmp_path / name
    p.write_text(text)
    v = check(load_query(p), timeout_ms=60_000)
    assert not v.incomplete, v.note
    return v


# ------------------------------------------------ per-row predicates: forall / exists
ITEMS = '''
invariant = "forall i in items: i.qty >= 0"
max_ops = 2
[tables.items]
columns = ["id", "qty"]
rows = 2
merge = {{ qty = "{merge}" }}
[[ops]]
name = "{name}"
params = ["item", "n"]
guard = "n >= 1"
update = {{ table = "items", where = "items.id == item", set = {{ qty = "items.qty {sign} n" }} }}
'''


def test_forall_over_rows_restocks_are_i_confluent(tmp_path):
    # every row's qty only grows, and the counter merge adds the growths: qty stays >= 0
    assert _run(tmp_path, ITEMS.format(merge="local + remote - ancestor", name="restock", sign="+")).confluent


def test_forall_over_rows_sales_are_not(tmp_path):
    # ancestor qty 1; each branch sells 1 of that row (0 each, valid); the counter merge gives -1
    v = _run(tmp_path, ITEMS.format(merge="local + remote - ancestor", name="sell", sign="-"))
    assert not v.confluent
    assert "qty=-1" in v.merged and v.branch_a and v.branch_b


def test_exists_in_the_guard_and_the_invariant_foreign_key_inserts_are_i_confluent():
    assert check(load_query(FK / "insert.toml")).confluent


# ------------------------------------------------ delete
FK_DELETES_ONLY = '''
invariant = ["forall o in orders: exists c in customers: c.id == o.customer"{unique}]
max_ops = 2
[tables.customers]
columns = ["key", "id"]     # key: the row's own identity; id: what orders reference
unique = ["id"]
rows = 2
[tables.orders]
columns = ["id", "customer"]
rows = 2
[[ops]]
name = "delete_order"
params = ["o"]
delete = {{ table = "orders", where = "orders.id == o" }}
[[ops]]
name = "delete_customer"
params = ["k"]
delete = {{ table = "customers", where = "customers.key == k" }}   # refused locally if it orphans an order
'''


def test_deletes_alone_keep_a_foreign_key_to_a_unique_column(tmp_path):
    # an order present after the merge is present on both branches, so its customer is too; with unique
    # ids that is one ancestor row, which neither branch deleted
    assert _run(tmp_path, FK_DELETES_ONLY.format(unique=', "unique(customers)"')).confluent


def test_deletes_break_a_foreign_key_to_a_non_unique_column(tmp_path):
    # two customer rows with one id: each branch deletes a different one (the other still backs the
    # order locally); the merge deletes both
    v = _run(tmp_path, FK_DELETES_ONLY.format(unique=""))
    assert not v.confluent
    assert [s.op for s in v.branch_a] == ["delete_customer"] == [s.op for s in v.branch_b]
    assert "customers=[]" in v.merged


def test_delete_racing_an_insert_is_not_i_confluent():
    v = check(load_query(FK / "delete.toml"))
    assert not v.confluent
    steps = {s.op: dict(s.params) for s in v.branch_a + v.branch_b}
    assert steps["add_order"]["customer"] == steps["delete_customer"]["c"]
    assert "customers=[]" in v.merged


# ------------------------------------------------ update (and the default column merge)
PRICES = '''
invariant = "forall p in prices: p.amount >= 0"
max_ops = 2
[tables.prices]
columns = ["id", "amount"]
rows = 1
{merge}
[[ops]]
name = "reprice"
params = ["n"]
guard = "n >= 0"
update = {{ table = "prices", where = "true", set = {{ amount = "{value}" }} }}
'''


def test_update_setting_a_valid_value_is_i_confluent_under_the_default_merge(tmp_path):
    # the default merge keeps one branch's update: a value some branch validated
    assert _run(tmp_path, PRICES.format(merge="", value="n")).confluent


def test_update_under_a_counter_merge_is_not(tmp_path):
    # amount = amount - n under a delta merge: 1 -> 0 on each branch, merged 1 + (0-1) + (0-1) = -1
    text = PRICES.format(merge='merge = { amount = "local + remote - ancestor" }', value="prices.amount - n")
    text = text.replace('guard = "n >= 0"', 'guard = "n >= 1"')
    v = _run(tmp_path, text)
    assert not v.confluent and "amount=-1" in v.merged


RANGE = '''
invariant = "forall r in ranges: r.lo <= r.hi"
max_ops = 1
[tables.ranges]
columns = ["lo", "hi"]
rows = 1
[[ops]]
name = "set_lo"
params = ["n"]
guard = "{lo}"
update = {{ table = "ranges", where = "true", set = {{ lo = "n" }} }}
[[ops]]
name = "set_hi"
params = ["n"]
guard = "{hi}"
update = {{ table = "ranges", where = "true", set = {{ hi = "n" }} }}
'''


def test_columns_merge_separately_widening_a_range_is_i_confluent(tmp_path):
    # lo only goes down, hi only goes up: whichever update of each column wins, lo <= hi
    text = RANGE.format(lo="forall r in ranges: n <= r.lo", hi="forall r in ranges: n >= r.hi")
    assert _run(tmp_path, text).confluent


def test_columns_merge_separately_moving_both_ends_is_not(tmp_path):
    # lo 0, hi 10: A sets lo = 8 (valid), B sets hi = 2 (valid); the merge takes each column's update: 8 > 2
    v = _run(tmp_path, RANGE.format(lo="true", hi="true"))
    assert not v.confluent
    assert {s.op for s in v.branch_a + v.branch_b} == {"set_lo", "set_hi"}


ONE_ROW = '''
invariant = "{inv}"
max_ops = 1
[tables.items]
columns = ["v"]
rows = 2
[[ops]]
name = "bump"
update = {{ table = "items", where = "true", set = {{ v = "items.v + 3" }} }}
[[ops]]
name = "drop"
params = ["x"]
delete = {{ table = "items", where = "items.v == x" }}
'''


def test_a_row_updated_on_one_branch_and_deleted_on_the_other_is_deleted(tmp_path):
    # the merged row is bumped (checked by A) or gone: delete wins, never a re-created or half-merged row
    assert _run(tmp_path, ONE_ROW.format(inv="forall i in items: i.v <= 5")).confluent


def test_rows_deleted_on_either_branch_are_gone_from_the_merge(tmp_path):
    # two rows: each branch deletes a different one (one remains locally); the merge has none
    v = _run(tmp_path, ONE_ROW.format(inv="count(items) >= 1"))
    assert not v.confluent and "items=[]" in v.merged
    assert [s.op for s in v.branch_a] == ["drop"] == [s.op for s in v.branch_b]


# ------------------------------------------------ insert: several rows per operation
PAIRS = '''
invariant = "unique(users)"
max_ops = 2
[tables.users]
columns = ["leader", "seq"]
unique = ["leader", "seq"]
rows = 1
[[ops]]
name = "signup_two"
params = ["seq"]
insert = [{{ table = "users", leader = "{leader}", seq = "2 * seq" }},
          {{ table = "users", leader = "{leader}", seq = "2 * seq + 1" }}]
'''


def test_two_inserts_per_operation_in_leader_namespaces_are_i_confluent(tmp_path):
    assert _run(tmp_path, PAIRS.format(leader="replica")).confluent


def test_two_inserts_per_operation_in_one_namespace_are_not(tmp_path):
    v = _run(tmp_path, PAIRS.format(leader="0"))
    assert not v.confluent and v.merged.count("(leader=0,") >= 2


# ------------------------------------------------ subset
GRANTS = '''
invariant = "subset(held, allowed)"
max_ops = 2
[vars.held]
type = "set"
merge = "union(local, remote)"
[vars.allowed]
type = "set"
merge = "intersection(local, remote)"
[[ops]]
name = "grant"
params = ["x"]
guard = "contains(allowed, x)"
effect = { held = "add(held, x)" }
'''
REVOKE = '''
[[ops]]
name = "revoke"
params = ["x"]
guard = "not contains(held, x)"
effect = { allowed = "remove(allowed, x)" }
'''


def test_subset_grants_within_a_fixed_allowance_are_i_confluent(tmp_path):
    assert _run(tmp_path, GRANTS).confluent


def test_subset_grants_racing_a_revoke_are_not(tmp_path):
    # A grants x (allowed at A); B revokes x (not held at B); merged: x held but not allowed
    v = _run(tmp_path, GRANTS + REVOKE)
    assert not v.confluent
    assert {s.op for s in v.branch_a + v.branch_b} == {"grant", "revoke"}


# ------------------------------------------------ {} (the empty set)
SEATS = '''
invariant = "seats != {{}}"
max_ops = 2
[vars.seats]
type = "set"
merge = "{merge}"
[[ops]]
name = "release"
params = ["x"]
guard = "contains(seats, x) and size(seats) >= 2"
effect = {{ seats = "remove(seats, x)" }}
[[ops]]
name = "reset"
guard = "false"
effect = {{ seats = "{{}}" }}
'''


def test_empty_set_literal_union_of_non_empty_sets_is_non_empty(tmp_path):
    assert _run(tmp_path, SEATS.format(merge="union(local, remote)")).confluent


def test_empty_set_literal_intersection_can_empty_it(tmp_path):
    # {0, 1}: A releases 0, B releases 1; the intersection is {}
    v = _run(tmp_path, SEATS.format(merge="intersection(local, remote)"))
    assert not v.confluent and "seats={}" in v.merged


def test_empty_set_literal_as_an_effect(tmp_path):
    text = SEATS.format(merge="union(local, remote)").replace('guard = "false"\n', "")
    text = text.replace('invariant = "seats != {}"', 'invariant = "subset(seats, add(add({}, 0), 1))"')
    assert _run(tmp_path, text).confluent           # releases and resets stay inside {0, 1}
    v = _run(tmp_path, text.replace('"union(local, remote)"', '"add(union(local, remote), 2)"'), "q2.toml")
    assert not v.confluent and "2" in v.merged.split("seats=")[1]


# ------------------------------------------------ let: [let] and inline
def test_let_block_rewrites_escrow_with_the_same_verdict(tmp_path):
    text = (ROOT / "queries" / "iconfluence" / "escrow-stock.toml").read_text()
    text = text.replace("p_aa + p_ba - p_ab - d_a", "rights_a").replace("p_bb + p_ab - p_ba - d_b", "rights_b")
    text = text.replace("max_ops = 2\n", 'max_ops = 2\n\n[let]\nrights_a = "p_aa + p_ba - p_ab - d_a"\n'
                                         'rights_b = "p_bb + p_ab - p_ba - d_b"\nstock = "rights_a + rights_b"\n')
    text = text.replace('"p_aa + p_bb - d_a - d_b >= 0"', '"stock >= 0"')
    assert "rights_a >= n" in text and "stock >= 0" in text
    assert _run(tmp_path, text).confluent
    # the same lets, selling on the global stock instead of the local rights: not
    bad = text.replace('guard = "n >= 1 and rights_a >= n"\neffect = { d_a', 'guard = "n >= 1 and stock >= n"\neffect = { d_a')
    bad = bad.replace('    "rights_a >= 0",\n', "")
    assert bad != text
    assert not _run(tmp_path, bad, "bad.toml").confluent


def test_inline_let(tmp_path):
    text = (ROOT / "queries" / "iconfluence" / "stock-decrement.toml").read_text()
    v = _run(tmp_path, text.replace('invariant = "stock >= 0"', 'invariant = "let s = stock in s >= 0"'))
    assert not v.confluent and "stock=-1" in v.merged
    text = (ROOT / "queries" / "iconfluence" / "stock-increment.toml").read_text()
    assert _run(tmp_path, text.replace('guard = "n >= 1"', 'guard = "let m = n - 1 in m >= 0"'), "i.toml").confluent


# ------------------------------------------------ multiplication by a constant
STOCK = '''
invariant = "stock >= 0"
max_ops = 2
[vars.stock]
merge = "local + remote - ancestor"
[[ops]]
name = "{name}"
params = ["n"]
guard = "{guard}"
effect = {{ stock = "{effect}" }}
'''


def test_multiplication_restocking_pairs_is_i_confluent(tmp_path):
    assert _run(tmp_path, STOCK.format(name="restock", guard="n >= 1", effect="stock + 2 * n")).confluent


def test_multiplication_selling_pairs_is_not(tmp_path):
    # ancestor 2; each branch sells one pair (0 each); the counter merge gives -2
    v = _run(tmp_path, STOCK.format(name="sell", guard="n >= 1 and stock >= n * 2", effect="stock - 2 * n"))
    assert not v.confluent and "stock=-2" in v.merged


# ------------------------------------------------ merge-time effects
def test_cascading_delete_at_merge_is_i_confluent():
    assert check(load_query(FK / "cascading-delete.toml")).confluent


def test_cascading_delete_without_at_merge_is_not(tmp_path):
    text = (FK / "cascading-delete.toml").read_text()
    assert ", at_merge = true" in text
    v = _run(tmp_path, text.replace(", at_merge = true", ""))
    assert not v.confluent and v.merge_effects == ()


def test_seeded_bug_dropping_the_merge_time_cascade_flips_the_verdict(monkeypatch):
    """The encoding's merge-time step is what proves the cascade: replace
    it by 'nothing happens at merge' and the bundled query is refuted."""
    monkeypatch.setattr(iconfluence, "_merge_time", lambda q, merged, order: (merged, []))
    v = check(load_query(FK / "cascading-delete.toml"))
    assert not v.confluent
    assert {s.op for s in v.branch_a + v.branch_b} == {"add_order", "delete_customer"}


SET_NULL = '''
invariant = "forall o in orders: o.customer == 0 or (exists c in customers: c.id == o.customer)"
max_ops = 2
[tables.customers]
columns = ["id"]
[tables.orders]
columns = ["id", "customer"]
[[ops]]
name = "add_order"
params = ["id", "customer"]
insert = {{ table = "orders", id = "id", customer = "customer" }}
[[ops]]
name = "delete_customer"
params = ["c"]
guard = "c != 0"
delete = {{ table = "customers", where = "customers.id == c" }}
update = {{ table = "orders", where = "orders.customer == c", set = {{ customer = "0" }}{at_merge} }}
'''


def test_merge_time_update_on_delete_set_null_is_i_confluent(tmp_path):
    assert _run(tmp_path, SET_NULL.format(at_merge=", at_merge = true")).confluent


def test_update_without_merge_time_set_null_is_not(tmp_path):
    assert not _run(tmp_path, SET_NULL.format(at_merge="")).confluent


def test_counterexample_shows_the_merge_time_effects_that_applied(tmp_path):
    # the cascade applies, yet deleting customers concurrently empties the table
    text = (FK / "cascading-delete.toml").read_text().replace('expect = "i-confluent"', 'expect = "not i-confluent"')
    text = text.replace('invariant = "forall o in orders: exists c in customers: c.id == o.customer"',
                        'invariant = ["forall o in orders: exists c in customers: c.id == o.customer",'
                        ' "count(customers) >= 1"]')
    p = tmp_path / "q.toml"
    p.write_text(text)
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(p)])
    assert res.exit_code == 1, res.output
    out = res.output
    assert "at merge" in out and "delete from orders where orders.customer == c" in out
    assert "delete_customer(c=" in out and "expected: not i-confluent (as the query states)" in out
    assert out.index("branch B") < out.index("at merge") < out.index("merge at")


# ------------------------------------------------ bad input: one line, exit 2, naming file and key
BASE = '''
invariant = "forall o in orders: o.qty >= 0"
[vars.stock]
merge = "max(local, remote)"
[tables.orders]
columns = ["id", "qty"]
[[ops]]
name = "op"
params = ["n"]
delete = { table = "orders", where = "orders.id == n" }
'''


@pytest.mark.parametrize("old,new,key,words", [
    ('table = "orders", where', 'table = "ordrs", where', "ops[0].delete.table", "did you mean 'orders'"),
    (', where = "orders.id == n"', "", "ops[0].delete.where", "where ="),
    ('delete = {', 'delete = { at_merge = 1,', "ops[0].delete.at_merge", "true or false"),
    ('delete = {', 'delete = { wher = "true",', "ops[0].delete.wher", "did you mean 'where'"),
    ('delete = { table = "orders", where = "orders.id == n" }',
     'insert = { table = "orders", id = "n", qty = "0", at_merge = true }', "ops[0].insert.at_merge",
     "only a delete or an update"),
    ('delete = { table = "orders", where = "orders.id == n" }',
     'update = { table = "orders", where = "true", set = { qtx = "1" } }', "ops[0].update.set.qtx", "did you mean 'qty'"),
    ('delete = { table = "orders", where = "orders.id == n" }',
     'update = { table = "orders", where = "true" }', "ops[0].update.set", "column ="),
    ('delete = { table = "orders", where = "orders.id == n" }', 'delete = [1]', "ops[0].delete", "list of tables"),
    ('where = "orders.id == n"', 'where = "orders.id * n == 1"', "ops.op.delete.where", "constant on one side"),
    ('where = "orders.id == n"', 'where = "count(orders) == 1"', "ops.op.delete.where", "the row"),
    ('where = "orders.id == n"', 'where = "orders.idd == n"', "ops.op.delete.where", "did you mean 'id'"),
    ('"forall o in orders: o.qty >= 0"', '"forall o in stock: true"', "invariant", "needs a table"),
    ('"forall o in orders: o.qty >= 0"', '"stock.qty >= 0"', "invariant", "reads a column of a row"),
    ('"forall o in orders: o.qty >= 0"', '"forall a in orders: forall b in orders: forall c in orders: '
     'forall d in orders: true"', "invariant", "at most 3"),
    ('"forall o in orders: o.qty >= 0"', '"forall o in orders: o.qty"', "invariant", "'forall' needs a bool"),
    ('"forall o in orders: o.qty >= 0"', '"{1} == {}"', "invariant", "only the empty set"),
    ('"forall o in orders: o.qty >= 0"', '"stock = 1"', "invariant", "write =="),
    ('"forall o in orders: o.qty >= 0"', '"let stock = 1 in stock >= 0"', "invariant", "already names"),
    ('"forall o in orders: o.qty >= 0"', '"size(add({}, 1)) >= 0"', "invariant", "universe of {} is not known"),
    ('"forall o in orders: o.qty >= 0"', '"forall o in orders: exists o in orders: true"', "invariant",
     "already names"),
    ('[vars.stock]', '[let]\nstock = "1"\n[vars.stock]', "let.stock", "already names state"),
    ('[vars.stock]', 'let = "x"\n[vars.stock]', "let", "must be a table"),
    ('[vars.stock]', '[let]\nif = "1"\n[vars.stock]', "let.if", "keyword"),
    ('[vars.stock]', '[let]\nn = "1"\n[vars.stock]', "ops[0].params", "already names a [let]"),
    ('[vars.stock]', 'expect = "confluent"\n[vars.stock]', "expect", "did you mean 'i-confluent'"),
    ('columns = ["id", "qty"]', 'columns = ["id", "qty"]\nmerge = { qt = "local" }', "tables.orders.merge.qt",
     "did you mean 'qty'"),
    ('columns = ["id", "qty"]', 'columns = ["id", "qty"]\nmerge = "local"', "tables.orders.merge", "column ="),
    ('columns = ["id", "qty"]', 'columns = ["id", "qty"]\nmerge = { qty = "nope" }', "tables.orders.merge.qty",
     "unknown name 'nope'"),
    ('invariant = "forall o in orders: o.qty >= 0"', 'invariant = [1]', "invariant", "list of them"),
])
def test_bad_input_is_one_line_naming_the_file_and_key(tmp_path, old, new, key, words):
    assert old in BASE
    p = tmp_path / "bad.toml"
    p.write_text(BASE.replace(old, new, 1))
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(p)])
    assert res.exit_code == 2, res.output
    assert res.output.count("\n") == 1 and "Traceback" not in res.output
    assert str(p) in res.output and f": {key}:" in res.output and words in res.output, res.output


def test_a_set_effect_of_the_wrong_universe_is_a_one_line_error(tmp_path):
    p = tmp_path / "q.toml"
    p.write_text('invariant = "size(a) >= 0"\n[vars.a]\ntype = "set"\nuniverse = 4\nmerge = "union(local, remote)"\n'
                 '[vars.b]\ntype = "set"\nuniverse = 8\nmerge = "union(local, remote)"\n'
                 '[[ops]]\nname = "x"\neffect = { a = "b" }\n')
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(p)])
    assert res.exit_code == 2 and "ops.x.effect.a" in res.output and "over 4 elements" in res.output, res.output
    assert res.output.count("\n") == 1


# ------------------------------------------------ mutated new queries: only ReplcheckError
def test_mutated_foreign_key_queries_raise_only_one_line_errors(tmp_path):
    """The fuzz campaign mutates the top-level bundled queries; the same
    mutations of the new ones (in-process, fixed seeds) either run or
    raise a ReplcheckError — never another exception."""
    import random
    import tomllib

    from tests.fuzz.campaign import Doc, mutated

    docs = [Doc(str(p.relative_to(ROOT)), p.read_bytes(), tomllib.loads(p.read_text())) for p in sorted(FK.glob("*.toml"))]
    ran = 0
    for seed in range(40):
        rng = random.Random(seed)
        inp = mutated(rng, rng.choice(docs), docs)
        p = tmp_path / f"m{seed}.toml"
        p.write_bytes(inp.data)
        try:
            q = load_query(p)
            check(q, timeout_ms=1500)
            ran += 1
        except ReplcheckError as e:
            assert "\n" not in str(e), (inp.mutations, str(e))
    assert ran >= 1


def test_an_undecided_query_is_exit_3_never_a_verdict(tmp_path):
    text = (FK / "cascading-delete.toml").read_text().replace("max_ops = 2", "max_ops = 4").replace("rows = 2", "rows = 4")
    p = tmp_path / "big.toml"
    p.write_text(text)
    res = CliRunner().invoke(main, ["smt", "iconfluence", str(p), "--timeout", "0.2"])
    assert res.exit_code == 3, res.output
    assert "INCOMPLETE" in res.output and "expected: i-confluent (not decided)" in res.output
    assert "i-confluent  (proved" not in res.output and "NOT i-confluent" not in res.output
