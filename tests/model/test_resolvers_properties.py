"""Property tests of the catalogue: CRDT merges are commutative,
associative and idempotent on random states; keep-local / apply-remote are
not commutative; every entry that claims convergence converges on random
small all-to-all workloads."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import check
from replcheck.model import System, parse_spec
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import RESOLVERS

LEADERS = ("a", "b", "c")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _system(workload, keys=None, **system):
    data = {"system": {"leaders": list(LEADERS), **system}, "workload": workload}
    if keys:
        data["keys"] = keys
    return System(parse_spec(data, "<test>", INVARIANTS))


# --------------------------------------------------------------- merge laws
COUNTER_OPS = [{"leader": l, "key": "c", "incr": 1} for l in LEADERS for _ in range(3)]
SET_OPS = [{"leader": l, "key": "s", kind: e} for l in LEADERS for kind in ("add", "remove") for e in ("x", "y")]


def _laws(t, states, writes):
    a, b, c = states
    m = t.merge
    assert m(a, b, writes) == m(b, a, writes)
    assert m(m(a, b, writes), c, writes) == m(a, m(b, c, writes), writes)
    assert m(a, a, writes) == a


@SETTINGS
@given(st.lists(st.tuples(*[st.integers(0, 3)] * 3), min_size=3, max_size=3))
def test_g_and_pn_counter_merges_are_a_join(states):
    for typ in ("g-counter", "pn-counter"):
        t = _system(COUNTER_OPS, keys={"c": {"type": typ}}).types[0]
        _laws(t, [tuple(s) for s in states], ())


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 2 ** 14 - 1), st.integers(0, 2 ** 14 - 1)), min_size=3, max_size=3),
       st.sampled_from(["or-set", "lww-element-set", "2p-set"]))
def test_set_crdt_merges_are_a_join(states, typ):
    t = _system(SET_OPS, keys={"s": {"type": typ, "initial": ["x"]}}).types[0]
    _laws(t, states, ())


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 7), max_size=8), min_size=3, max_size=3), st.data())
def test_escrow_merge_is_a_join(states, data):
    ops = [{"leader": "a", "key": "e", "decr": 1}, {"leader": "b", "key": "e", "transfer": {"to": "c", "n": 1}}]
    t = _system(ops, keys={"e": {"type": "escrow", "initial": 3}}).types[0]
    size = len(t.initial())
    _laws(t, [tuple((s + [0] * size)[:size]) for s in states], ())


@SETTINGS
@given(st.lists(st.integers(0, 2 ** 6 - 1), min_size=6, max_size=6),
       st.lists(st.integers(0, 2 ** 6 - 1), min_size=3, max_size=3))
def test_mv_register_and_union_merges_are_a_join_on_antichains(hbs, picks):
    # A random happens-before (each write sees only earlier ones, transitively closed).
    hb = []
    for i, h in enumerate(hbs):
        m = h & ((1 << i) - 1)
        for j in range(i):
            if (m >> j) & 1:
                m |= hb[j]
        hb.append(m)
    writes = tuple(((i,), hb[i], 0) for i in range(6))
    ops = [{"leader": LEADERS[i % 3], "key": "k", "set": str(i)} for i in range(6)]
    ops_cart = [{"leader": LEADERS[i % 3], "key": "k", "add": str(i)} for i in range(6)]
    for t in (_system(ops, resolver="mv-register").types[0],
              _system(ops_cart, keys={"k": {"type": "union"}}).types[0]):
        states = [t.merge((), tuple(w for w in range(6) if (p >> w) & 1), writes) for p in picks]
        _laws(t, states, writes)


def test_keep_local_and_apply_remote_are_not_commutative():
    ops = [{"leader": "a", "key": "k", "set": "A"}, {"leader": "b", "key": "k", "set": "B"}]
    writes = (((1,), 0), ((2,), 0))
    for name in ("keep-local", "apply-remote"):
        t = _system(ops, resolver=name).types[0]
        assert t.merge((0,), (1,), writes) != t.merge((1,), (0,), writes)


# ---------------------------------------------------------- convergence claims
REGISTER_CLAIMS = sorted(n for n, r in RESOLVERS.items() if r.converges and r.family == "register"
                         and n not in ("home-leader", "goldengate-usedelta"))


@st.composite
def register_workloads(draw):
    ops = []
    for i in range(draw(st.integers(1, 3))):
        op = {"id": f"w{i}", "leader": draw(st.sampled_from(LEADERS)), "key": "k"}
        if draw(st.integers(0, 4)) == 0:
            op["delete"] = True
        else:
            op["set"] = draw(st.sampled_from(["1", "2", "3"]))
        if draw(st.booleans()):
            op["time_ms"] = draw(st.integers(0, 3))
        ops.append(op)
    return ops


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(register_workloads())
def test_every_register_resolver_that_claims_convergence_converges(ops):
    for name in REGISTER_CLAIMS:
        spec = parse_spec({"system": {"leaders": list(LEADERS), "resolver": name}, "workload": ops}, "<t>",
                          INVARIANTS)
        assert check(spec, invariants=["convergence"]).results[0].verdict == "holds", name


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(LEADERS), st.sampled_from(["add", "remove"]), st.sampled_from("xy")),
                min_size=1, max_size=3),
       st.lists(st.tuples(st.sampled_from(LEADERS), st.sampled_from(["incr", "decr"]), st.integers(1, 2)),
                min_size=1, max_size=3))
def test_every_set_and_counter_type_converges(set_ops, counter_ops):
    for typ in ("or-set", "lww-element-set", "2p-set", "union"):
        ops = [{"leader": l, "key": "s", k: e} for l, k, e in set_ops]
        spec = parse_spec({"system": {"leaders": list(LEADERS)}, "workload": ops,
                           "keys": {"s": {"type": typ, "initial": ["x"]}}}, "<t>", INVARIANTS)
        assert check(spec, invariants=["convergence"]).results[0].verdict == "holds", typ
    for typ in ("pn-counter", "escrow", "g-counter"):
        ops = [{"leader": l, "key": "c", (k if typ != "g-counter" else "incr"): n} for l, k, n in counter_ops]
        spec = parse_spec({"system": {"leaders": list(LEADERS)}, "workload": ops,
                           "keys": {"c": {"type": typ, "initial": 2}}}, "<t>", INVARIANTS)
        assert check(spec).worst == "holds", typ


def test_spec_errors_name_the_key_and_the_fix():
    bad = [
        ({"system": {"leaders": list(LEADERS)}, "workload": [{"leader": "a", "key": "c", "set": "1"}],
          "keys": {"c": {"type": "pn-counter"}}}, "workload[0].set: a pn-counter key"),
        ({"system": {"leaders": list(LEADERS), "resolver": "cassandra", "clock": "lamport"},
          "workload": [{"leader": "a", "key": "k", "set": "1"}]}, "system.clock: cassandra stamps writes with wall"),
        ({"system": {"leaders": list(LEADERS), "resolver": "cosmosdb-lww", "delete_rule": "update-wins"},
          "workload": [{"leader": "a", "key": "k", "set": "1"}]}, "system.delete_rule: cosmosdb-lww fixes"),
        ({"system": {"leaders": list(LEADERS), "merge": "examples.merges:concat_titles"},
          "workload": [{"leader": "a", "key": "k", "set": "1"}]}, "system.merge: runs a Python merge"),
        ({"system": {"leaders": list(LEADERS)}, "workload": [{"leader": "a", "key": "e", "decr": 1}],
          "keys": {"e": {"type": "escrow", "initial": 3, "rights": {"a": 1}}}}, "keys.e.rights: rights add up to 1"),
        ({"system": {"leaders": list(LEADERS)}, "workload": [{"leader": "a", "key": "k", "incr": 1},
                                                            {"leader": "b", "key": "k", "set": "x"}]},
         "workload[1].set: 'k' holds a number"),
    ]
    for data, msg in bad:
        try:
            parse_spec(data, "s.toml", INVARIANTS)
        except SpecError as e:
            assert msg in str(e) and str(e).startswith("s.toml: "), str(e)
        else:
            raise AssertionError(f"accepted: {data}")
