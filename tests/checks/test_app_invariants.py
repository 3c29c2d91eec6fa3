"""Application data and local checks (issue 4): the users table's local
UNIQUE check, sell/restock on every stock representation, and the
invariants email-unique, stock-non-negative and causal-order."""

import pytest

from replcheck.checks.trace import build_trace
from replcheck.checks.verdict import check
from replcheck.model import state as st
from replcheck.model.errors import SpecError
from replcheck.model.system import System
from tests.conftest import SPECS, verdicts

L3 = ("us-east", "eu-west", "ap-south")


def _spec(ops, keys, invariants, leaders=L3, **system):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    data = {"system": {"leaders": list(leaders), **system}, "workload": ops, "keys": keys,
            "check": {"invariants": invariants}}
    return parse_spec(data, "<test>", INVARIANTS)


ALICE = [{"id": "alice-us", "leader": "us-east", "key": "users", "insert": "alice@example.com"},
         {"id": "alice-eu", "leader": "eu-west", "key": "users", "insert": "alice@example.com"}]
USERS = {"users": {"type": "users"}}


# ------------------------------------------------------------- users table
def test_two_leaders_accept_one_email_and_their_rows_meet_as_a_duplicate():
    r = check(_spec(ALICE, USERS, ["email-unique", "no-lost-writes"])).results
    assert (r[0].verdict, r[0].anomaly) == ("violated", "duplicate-email")
    assert "us-east and eu-west both accepted a registration for alice@example.com" in r[0].message
    assert len(r[0].trace) == 3 and r[0].culprits == ("alice-us", "alice-eu")
    assert r[1].verdict == "holds"   # rows keyed by generated ids never conflict: nothing is lost


def test_a_registration_after_seeing_the_email_is_rejected_not_acknowledged():
    ops = [ALICE[0], {**ALICE[1], "after": ["alice-us"]}]
    rep = check(_spec(ops, USERS, ["email-unique", "no-lost-writes", "convergence"]))
    assert [r.verdict for r in rep.results] == ["holds", "holds", "holds"]
    system = System(rep.spec)
    trace, state = build_trace(system, (0, system.nops + system.edges.index((0, 1)), 1))
    assert "alice-eu tries" in trace.steps[-1].text and "REJECTED" in trace.steps[-1].text
    assert "already shows a user with email alice@example.com" in trace.steps[-1].text
    assert st.data(st.write(state, 1)) == -1   # the write table's REJECTED marker


def test_one_home_for_the_users_table_keeps_emails_unique():
    keys = {"users": {"type": "users", "home": "us-east"}}
    assert verdicts(_spec(ALICE, keys, ["email-unique", "no-lost-writes"])) == {
        "email-unique": ("holds", None), "no-lost-writes": ("holds", None)}


@pytest.mark.parametrize("resolver,expected", [
    ("lww", {"email-unique": ("holds", None), "no-lost-writes": ("violated", "lost-update")}),
    ("mv-register", {"email-unique": ("violated", "duplicate-email"), "no-lost-writes": ("holds", None)}),
])
def test_rows_keyed_by_email_let_the_resolver_decide(resolver, expected):
    ops = [{"id": "alice-us", "leader": "us-east", "key": "users/alice@example.com", "insert": "alice-us"},
           {"id": "alice-eu", "leader": "eu-west", "key": "users/alice@example.com", "insert": "alice-eu"}]
    assert verdicts(_spec(ops, {}, ["email-unique", "no-lost-writes"], resolver=resolver)) == expected


def test_insert_and_set_together_is_a_one_line_error():
    with pytest.raises(SpecError, match="give exactly one of"):
        _spec([{**ALICE[0], "set": "x"}], USERS, ["email-unique"])


# -------------------------------------------------------------------- stock
def _stock(keyspec, ops=None, **system):
    ops = ops or [{"id": "sale-us", "leader": "us-east", "key": "stock", "sell": 1},
                  {"id": "sale-eu", "leader": "eu-west", "key": "stock", "sell": 1}]
    return _spec(ops, {"stock": keyspec}, ["stock-non-negative", "no-lost-writes"], **system)


def test_pn_counter_sells_the_last_unit_twice_and_ends_at_minus_one():
    rep = check(_stock({"type": "pn-counter", "initial": 1}))
    r = rep.results[0]
    assert (r.verdict, r.anomaly) == ("violated", "oversell")
    assert r.message == "us-east and eu-west both sold the last unit of stock: 2 sales acknowledged for 1 item"
    from replcheck.checks.drill import _finish
    assert _finish(System(rep.spec), r.path) == "us-east: -1 | eu-west: -1 | ap-south: -1"


def test_lww_register_shows_zero_after_two_sales_and_that_is_still_an_oversell():
    assert verdicts(_stock({"type": "register", "resolver": "lww", "initial": 1})) == {
        "stock-non-negative": ("violated", "oversell"), "no-lost-writes": ("violated", "lost-update")}


@pytest.mark.parametrize("keyspec", [{"type": "escrow", "initial": 1},
                                     {"type": "register", "resolver": "lww", "initial": 1, "home": "us-east"},
                                     {"type": "pn-counter", "initial": 1, "home": "eu-west"}])
def test_escrow_and_a_home_leader_never_oversell(keyspec):
    assert verdicts(_stock(keyspec)) == {"stock-non-negative": ("holds", None), "no-lost-writes": ("holds", None)}


def test_a_restock_lets_a_later_sale_through():
    ops = [{"id": "restock", "leader": "us-east", "key": "stock", "restock": 1},
           {"id": "sale", "leader": "eu-west", "key": "stock", "sell": 1, "after": ["restock"]}]
    rep = check(_stock({"type": "pn-counter", "initial": 0}, ops, topology="ring"))
    assert [r.verdict for r in rep.results] == ["holds", "holds"]


def test_a_sale_applied_before_its_restock_shows_negative_stock_without_an_oversell():
    ops = [{"id": "restock", "leader": "us-east", "key": "stock", "restock": 1},
           {"id": "sale", "leader": "eu-west", "key": "stock", "sell": 1, "after": ["restock"]}]
    r = check(_stock({"type": "pn-counter", "initial": 0}, ops)).results[0]
    assert (r.verdict, r.anomaly) == ("violated", "negative-stock")
    assert r.message.startswith("ap-south shows stock = -1")


def test_a_sale_beyond_the_visible_stock_is_rejected():
    ops = [{"id": "big", "leader": "us-east", "key": "stock", "sell": 2}]
    rep = check(_stock({"type": "register", "resolver": "lww", "initial": 1}, ops))
    system = System(rep.spec)
    trace, state = build_trace(system, (0,))
    assert "REJECTED, the stock its leader shows is too low" in trace.steps[0].text
    assert [r.verdict for r in rep.results] == ["holds", "holds"]


# ------------------------------------------------------------- causal order
@pytest.mark.parametrize("topology,verdict", [("all-to-all", "violated"), ("ring", "holds"), ("star", "holds")])
def test_ddia_insert_then_update_across_three_leaders(topology, verdict):
    from replcheck.checks.verdict import load
    r = check(load(SPECS / "app" / f"ddia-insert-update-{topology}.toml")).results[0]
    assert r.invariant == "causal-order" and r.verdict == verdict
    if verdict == "violated":
        assert r.anomaly == "causality-violation" and r.culprits == ("update", "insert")
        assert r.message.startswith("ap-south applied update's row:1 = \"x = 2\" (from us-east) before insert's")


def test_two_leaders_all_to_all_cannot_break_causal_order():
    ops = [{"id": "insert", "leader": "eu-west", "key": "row", "insert": "x"},
           {"id": "update", "leader": "us-east", "key": "row", "set": "y", "after": ["insert"]}]
    assert verdicts(_spec(ops, {}, ["causal-order"], leaders=("us-east", "eu-west"))) == {
        "causal-order": ("holds", None)}
