"""stock-non-negative judged at quiescent states under partial-order
reduction, and the stock check an escrow already implies (issue 18 item 1;
docs/reductions.md "Every-state invariants judged at quiescence" and
"A `sell` on escrow").  Each claim is checked against the plain engine, and
each guard has a seeded bug that the comparison catches."""

from __future__ import annotations

import pytest

from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import Options, check
from replcheck.model import System, parse_spec
from replcheck.model import state as st
from replcheck.model.resolvers.base import is_rejected
from replcheck.model.resolvers.counters import Counter
from replcheck.model.resolvers.local_checks import shown_number
from tests.conftest import reachable

PLAIN = Options(por=False)


def _spec(kind, initial, ops, leaders=("a", "b"), invariants=("stock-non-negative",), faults=None, rights=None):
    key = {"type": kind, "initial": initial}
    if rights:
        key["rights"] = rights
    data = {"system": {"leaders": list(leaders)}, "keys": {"stock": key},
            "workload": [{"id": f"{l}{i}", "leader": l, "key": "stock", op: n} for i, (l, op, n) in enumerate(ops)],
            "check": {"invariants": list(invariants)}}
    if faults:
        data["faults"] = faults
    return parse_spec(data, "<test>", INVARIANTS)


CASES = {
    # every sale checked against the stock its leader shows: two sell the last item
    "pn-counter-oversell": _spec("pn-counter", 1, [("a", "sell", 1), ("b", "sell", 1)]),
    "pn-counter-3x1": _spec("pn-counter", 2, [("a", "sell", 1), ("b", "sell", 1), ("c", "sell", 1)],
                            leaders=("a", "b", "c"), invariants=("stock-non-negative", "convergence")),
    "pn-counter-decr": _spec("pn-counter", 1, [("a", "decr", 1), ("b", "sell", 1), ("b", "sell", 1)]),
    "pn-counter-crash": _spec("pn-counter", 1, [("a", "sell", 1), ("b", "sell", 1), ("c", "sell", 1)],
                              leaders=("a", "b", "c"), faults={"crashes": 1}),
    "escrow-sells": _spec("escrow", 3, [("a", "sell", 1), ("a", "sell", 1), ("b", "sell", 1), ("b", "sell", 1)],
                          invariants=("stock-non-negative", "convergence", "no-lost-writes")),
    "escrow-uneven-crash": _spec("escrow", 3, [("a", "sell", 2), ("b", "sell", 1), ("c", "sell", 1)],
                                 leaders=("a", "b", "c"), faults={"crashes": 1}),
}


def _moved(spec) -> bool:
    rep = check(spec, options=Options())
    return any("stock-non-negative judged at quiescent states only" in n for n in rep.reductions)


@pytest.mark.parametrize("name", CASES)
def test_judging_stock_at_quiescence_keeps_every_verdict_and_kind(name):
    spec = CASES[name]
    reduced, plain = check(spec), check(spec, options=PLAIN)
    assert _moved(spec), reduced.reductions
    assert reduced.complete and plain.complete
    for a, b in zip(reduced.results, plain.results):
        assert (a.invariant, a.verdict, a.anomalies, a.anomalies_complete, a.vacuous) == \
               (b.invariant, b.verdict, b.anomalies, b.anomalies_complete, b.vacuous), name
        if a.invariant == "stock-non-negative" and a.verdict == "violated":
            assert not a.shortest                      # found at the end of a run: not proved shortest
            assert len(a.trace) >= len(b.trace)        # the plain BFS's is the shortest
            # the trace shown is real and stops at its first violating state
            system = System(spec)
            judge = INVARIANTS["stock-non-negative"].build(system)
            s = system.initial_state()
            for i, act in enumerate(a.path):
                assert judge(s) is None, (name, i)
                s = dict(system.successors(s))[act]
            assert judge(s) is not None


def test_the_oversell_case_shows_both_kinds():
    rep = check(CASES["pn-counter-oversell"])
    (r,) = rep.results
    assert r.verdict == "violated" and r.anomalies == ("negative-stock", "oversell") and r.anomalies_complete


@pytest.mark.parametrize("spec, why", [
    (_spec("pn-counter", 1, [("a", "sell", 1), ("b", "restock", 1)]), "a restock can raise the stock"),
    (_spec("escrow", 2, [("a", "sell", 1), ("b", "restock", 1)]), "a restock can raise the stock"),
])
def test_a_stock_that_can_rise_keeps_por_off(spec, why):
    rep = check(spec)
    assert not _moved(spec), why
    assert any("por off" in n for n in rep.reductions)


def test_seeded_bug_claiming_a_restocked_counter_never_rises_is_caught(monkeypatch):
    """A restock delivered after two sales: a leader shows -1 between them,
    0 at quiescence.  Claiming the counter's stock never rises moves the
    invariant to quiescent states and loses the violation; the comparison
    with the plain engine (the test above, the oracle) sees the difference."""
    spec = _spec("pn-counter", 1, [("a", "sell", 1), ("b", "sell", 1), ("c", "restock", 1)],
                 leaders=("a", "b", "c"))
    plain = check(spec, options=PLAIN)
    assert plain.results[0].verdict == "violated" and "negative-stock" in plain.results[0].anomalies
    assert check(spec).results[0].verdict == "violated"
    monkeypatch.setattr(Counter, "shown_never_rises", lambda self: True)
    wrong = check(spec)
    assert _moved(spec)
    assert wrong.results[0].verdict != plain.results[0].verdict


# ---------------------------------------------------- the implied stock check
def _implied_claim_broken(system):
    """A reachable state and a sale whose stock check would refuse what the
    type's own commit rule accepts, or None (the claim of
    Escrow.implies_stock_check, checked with the check evaluated)."""
    for s in reachable(system):
        writes = st.writes(s)
        for op in system.ops:
            if writes[op.index] is not None or op.kind != "decr":
                continue
            t = system.types[op.key]
            inner = getattr(t, "inner", t)
            content = st.content(s, op.origin, op.key)
            accepted = not is_rejected(inner.stamp(op, (0,), 0, content, writes))
            if accepted and shown_number(inner, content, writes) < op.amount:
                return s, op.id
    return None


@pytest.mark.parametrize("spec", [
    CASES["escrow-sells"], CASES["escrow-uneven-crash"],
    _spec("escrow", 4, [("a", "sell", 2), ("a", "sell", 1), ("b", "sell", 1), ("c", "sell", 2)],
          leaders=("a", "b", "c"), rights={"a": 3, "b": 1, "c": 0}),
], ids=["sells", "uneven-crash", "given-rights"])
def test_escrow_sells_need_no_stock_check(spec):
    system = System(spec)
    t = system.types[0]
    assert t.inner.implies_stock_check() and t.implied
    assert not t.stamp_reads_content(system.ops[0])
    assert _implied_claim_broken(system) is None


def test_escrow_with_a_restock_keeps_its_stock_check():
    system = System(_spec("escrow", 2, [("a", "sell", 1), ("b", "restock", 1)]))
    assert not system.types[0].implied and system.types[0].stamp_reads_content(system.ops[0])


def test_seeded_bug_the_claim_check_sees_a_check_the_type_does_not_imply():
    """A PN-counter accepts every decrement: its stock check does refuse
    some, and the structural check above finds one."""
    assert _implied_claim_broken(System(CASES["pn-counter-oversell"])) is not None
