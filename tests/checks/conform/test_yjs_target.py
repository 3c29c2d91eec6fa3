"""The pycrdt (Yjs/yrs) conformance target, and the ``yjs-map`` catalogue
entry checked against it run by run.

The conformance check here is done by hand: for small specs, *every* run
of the plain engine (each delivery delivers one message, which is one
Yjs update here) is executed on :class:`YjsTarget`, and after every step
each leader's visible value must equal its Doc's map.  It passes for
``yjs-map``; for other register resolvers it finds a schedule where the
product and the model part ways, and a pinned schedule shows why.
``REPLCHECK_CONFORM_BIG=1`` adds specs of one to three million runs.
"""

from __future__ import annotations

import pytest

pytest.importorskip("pycrdt")

from replcheck.checks.conform.target import Setup, TargetOp  # noqa: E402
from replcheck.checks.conform.targets.yjs import YjsTarget, state_vector  # noqa: E402
from replcheck.model import state as st  # noqa: E402
from replcheck.model.resolvers.base import is_rejected  # noqa: E402
from replcheck.model.spec import parse_spec  # noqa: E402
from replcheck.model.system import MSG_MASK, System  # noqa: E402

YJS = "yjs-map"


def all_to_all(leaders):
    return tuple((a, b) for a in leaders for b in leaders if a != b)


@pytest.fixture
def target():
    t = YjsTarget()
    yield t
    t.stop()


def started(t, leaders=("a", "b", "c")):
    t.start(Setup(tuple(leaders), all_to_all(leaders)))
    return t


def up(label, key, value):
    return TargetOp(label, "upsert", key, value)


# ------------------------------------------------------------------ the target
def test_each_doc_gets_a_fixed_client_id_by_sorted_leader_name(target):
    started(target, ("us-east", "eu-west", "ap-south"))
    assert target.client == {"ap-south": 1, "eu-west": 2, "us-east": 3}
    assert {l: d.client_id for l, d in target.docs.items()} == target.client
    assert target.name.startswith("pycrdt ") and "Yjs" in target.name


def test_concurrent_sets_converge_to_the_higher_client_id(target):
    started(target, ("a", "b"))
    target.commit("b", up("wb", "k", "B"))
    target.commit("a", up("wa", "k", "A"))
    target.deliver("a", "b")
    target.deliver("b", "a")
    assert target.read("a") == target.read("b") == {"k": "B"}   # b sorts last: client id 2 > 1


def test_a_set_made_after_seeing_another_wins_whatever_the_ids(target):
    started(target, ("a", "b"))
    target.commit("b", up("wb", "k", "B"))
    target.deliver("b", "a")
    target.commit("a", up("wa", "k", "A"))   # a saw B: its item goes after B's
    target.deliver("a", "b")
    assert target.read("a") == target.read("b") == {"k": "A"}


def test_set_delete_insert_update_statements(target):
    started(target, ("a", "b"))
    assert target.commit("a", TargetOp("u", "update", "k", "x")).rows == 0       # no row: nothing changes
    assert target.commit("a", TargetOp("i", "insert", "k", "1")).rows == 1
    refused = target.commit("a", TargetOp("i2", "insert", "k", "2"))
    assert refused.rows == 0 and "duplicate key" in refused.error
    assert target.commit("a", TargetOp("u2", "update", "k", "3")).rows == 1
    assert target.read("a") == {"k": "3"}
    assert target.commit("a", TargetOp("d", "delete", "k", None)).rows == 1
    assert target.commit("a", TargetOp("d2", "delete", "k", None)).rows == 0    # nothing to delete
    assert target.read("a") == {}
    # One entry per acknowledged statement (the refused insert sends nothing),
    # None where Yjs emitted no update.
    sent = target.queues[("a", "b")]
    assert [s.label for s in sent] == ["u", "i", "u2", "d", "d2"]
    assert [s.update is None for s in sent] == [True, False, False, False, True]
    target.deliver("b", "a")   # an empty link
    target.deliver("a", "b", count=2)
    assert target.read("b") == {"k": "1"} and len(target.queues[("a", "b")]) == 3
    target.deliver("a", "b")
    assert target.read("b") == {}


def test_a_concurrent_delete_hides_only_the_item_it_saw(target):
    started(target, ("a", "b"))
    target.commit("a", up("wa", "k", "A"))
    target.deliver("a", "b")
    target.commit("b", TargetOp("del", "delete", "k", None))   # deletes A's item
    target.commit("a", up("wa2", "k", "A2"))                   # concurrent: set over A's item
    target.deliver("a", "b")
    target.deliver("b", "a")
    assert target.read("a") == target.read("b") == {"k": "A2"}


def test_a_delete_can_win_over_a_concurrent_set_it_never_saw(target):
    # a's A2 is set over its own A; b's B (higher id, same empty base) stays
    # last in YATA order, and b deleted it: the key is gone everywhere.
    started(target, ("a", "b"))
    target.commit("a", up("wa", "k", "A"))
    target.commit("b", up("wb", "k", "B"))
    target.commit("b", TargetOp("del", "delete", "k", None))
    target.commit("a", up("wa2", "k", "A2"))
    target.deliver("a", "b")
    target.deliver("b", "a")
    assert target.read("a") == target.read("b") == {}


def test_an_update_whose_dependency_has_not_arrived_stays_pending(target):
    # A sets k, B receives it and sets k, B's update reaches C before A's.
    started(target)
    target.commit("a", up("wa", "k", "A"))
    target.deliver("a", "b")
    target.commit("b", up("wb", "k", "B"))
    target.deliver("b", "c")
    assert target.read("c") == {}                         # held pending: invisible
    assert target.pending("c") == ("wb",)
    assert state_vector(target.docs["c"].get_state()) == {}
    assert target.log("c") == ["pending: wb's update is not in the state vector (waits for the item it depends on)"]
    target.deliver("a", "c")
    assert target.read("c") == {"k": "B"}                 # both integrated, B set over A
    assert target.pending("c") == () and target.log("c") == ["integrated: wb's update is in the state vector now"]


def test_a_delete_of_an_item_not_yet_there_stays_pending(target):
    started(target)
    target.commit("a", up("wa", "k", "A"))
    target.deliver("a", "b")
    target.commit("b", TargetOp("del", "delete", "k", None))
    target.deliver("b", "c")
    assert target.read("c") == {} and target.pending("c") == ("del",)
    target.deliver("a", "c")
    assert target.read("c") == {} and target.pending("c") == ()   # A arrived and was deleted at once


def test_reset_empties_every_doc_and_link(target):
    started(target)
    target.commit("a", up("wa", "k", "A"))
    target.reset()
    assert all(target.read(l) == {} for l in "abc") and not any(target.queues.values())


def test_yrs_integrates_an_update_whose_own_earlier_update_is_held_back(target):
    """yrs (unlike JavaScript Yjs) integrates an item whose origin is there
    even while an earlier item of the same client is pending: a's second set
    shows at c although a's first one waits for b's item."""
    started(target)
    target.commit("b", up("wb", "k", "B"))
    target.commit("c", up("wc", "k", "C"))
    target.deliver("b", "a")
    target.commit("a", up("wa", "k", "A"))     # over B
    target.deliver("c", "a")
    target.commit("a", up("wa2", "k", "A2"))   # over C (c sorts last)
    target.deliver("a", "c")
    assert target.read("c") == {"k": "A2"}     # wa waits for B; wa2 (over C) shows
    assert target.pending("c") == ("wa", "wa2")   # the state vector covers neither (wa2 sits behind a gap)
    target.deliver("b", "c")
    assert target.read("c") == {"k": "A2"} and target.pending("c") == ()


def test_yjs_map_follows_yrs_where_javascript_yjs_would_hold_the_update():
    """The same schedule on the model: yjs-map shows A2 at c too (JavaScript
    Yjs would show C until B arrives: it waits for a's earlier update)."""
    system = System(spec_of(ABC, [S("b", "B"), S("c", "C"), S("a", "A"), S("a", "A2")]))
    schedule = ["commit w0 at b", "commit w1 at c", "deliver b -> a", "commit w2 at a", "deliver c -> a",
                "commit w3 at a", "deliver a -> c", "deliver a -> c"]
    t = YjsTarget()
    try:
        assert replay(system, t, schedule)["c"] == ({"k": "A2"}, {"k": "A2"})
        assert replay(system, t, schedule + ["deliver b -> c"])["c"] == ({"k": "A2"}, {"k": "A2"})
    finally:
        t.stop()


# -------------------------------------------------- conformance, run by run
def S(leader, value, key="k"):
    return {"leader": leader, "key": key, "set": value}


def D(leader, key="k"):
    return {"leader": leader, "key": key, "delete": True}


def I(leader, value, key="k"):
    return {"leader": leader, "key": key, "insert": value}


def spec_of(leaders, ops, resolver=YJS, **system):
    workload = [dict(o, id=f"w{i}") for i, o in enumerate(ops)]
    return parse_spec({"name": "conform", "system": {"leaders": list(leaders), "resolver": resolver, **system},
                       "workload": workload}, "<conform>", ("convergence",))


def count_runs(system) -> int:
    """How many maximal runs the plain engine has (paths through its state graph)."""
    memo: dict = {}

    def n(state):
        if state not in memo:
            succ = system.successors(state)
            memo[state] = 1 if not succ else sum(n(t) for _, t in succ)
        return memo[state]

    return n(system.initial_state())


def model_view(system, state, l):
    """A leader's keys as ``Target.read`` shows them: absent, the value, or
    the sorted siblings (a tombstone sibling as "(deleted)")."""
    out = {}
    for k, key in enumerate(system.keys):
        vis = system.visible(state, l, k)
        if not vis or vis == (0,):
            continue
        out[key] = system.values[vis[0]] if len(vis) == 1 else \
            tuple(sorted("(deleted)" if v == 0 else system.values[v] for v in vis))
    return out


def statement(system, i):
    op = system.ops[i]
    kind = "insert" if system.spec.workload[i].check == "unique" else {"set": "upsert", "delete": "delete"}[op.kind]
    return TargetOp(op.id, kind, op.key_name, op.value)


def start(system, target):
    L = system.leaders
    target.start(Setup(tuple(L), tuple((L[s], L[d]) for s, d in system.edges)))


def step(system, target, state, a):
    """Do model action ``a`` (enabled in ``state``) on ``target``; return
    the product's answer to a commit (``None`` for a delivery)."""
    L = system.leaders
    kind, x, pos = system.decode(a)
    if kind == "commit":
        op = system.ops[x]
        return target.commit(L[op.origin], statement(system, x))
    assert kind == "deliver", kind
    src, dst = system.edges[x]
    w = st.link(state, x)[pos] & MSG_MASK     # the delivered message's write
    if system.link_kind[x] == "fifo":
        assert target.queues[(L[src], L[dst])][0].label == system.ops[w].id
        target.deliver(L[src], L[dst], count=1)
    else:                                # unordered link: any queued message
        target.deliver(L[src], L[dst], label=system.ops[w].id)
    return None


def conform(system, target):
    """Execute every run of the plain engine on ``target`` and compare, after
    every step, each leader's visible values with its node's map.

    Returns ``(runs, nodes, first disagreement or None)``; a disagreement
    is ``(actions so far, leader, model view, target view)``.  Runs share
    prefixes, and two prefixes that leave the model in the same state and
    hand every node the same sequence of commits and deliveries leave the
    target in the same state too (pycrdt is deterministic given the client
    ids), so every run is compared step by step while each such node is
    executed once: ``nodes`` counts them; ``runs`` is the number of
    maximal runs they cover.  The target follows the depth-first path and
    is reset and replayed up to the branching point when the search backs
    up (the Target protocol has no undo)."""
    L = system.leaders
    start(system, target)
    s0 = system.initial_state()
    path: list = []
    executed = [0]          # how much of ``path`` the target has executed
    seen = {(s0, ((),) * system.n)}

    def dfs(state, hist, states):
        for a, t in system.successors(state):
            kind, x, pos = system.decode(a)
            at = system.ops[x].origin if kind == "commit" else system.edges[x][1]
            ev = ("c", x) if kind == "commit" else ("d", st.link(state, x)[pos] & MSG_MASK)
            h2 = hist[:at] + (hist[at] + (ev,),) + hist[at + 1:]
            if (t, h2) in seen:
                continue
            seen.add((t, h2))
            if executed[0] != len(path):      # back up: replay the path to ``state``
                target.reset()
                for b, before in zip(path, states):
                    step(system, target, before, b)
                executed[0] = len(path)
            c = step(system, target, state, a)
            if c is not None:   # refused exactly when the model rejects the op (insert's UNIQUE check)
                assert (c.error is None) == (not is_rejected(st.write(t, x))), (path + [a], c)
            path.append(a)
            executed[0] += 1
            for l in range(system.n):
                want, got = model_view(system, t, l), target.read(L[l])
                if want != got:
                    return [system.action_name(b) for b in path], L[l], want, got
            bad = dfs(t, h2, states + [t])
            if bad:
                return bad
            path.pop()
        return None

    target.reset()
    bad = dfs(s0, ((),) * system.n, [s0])
    return count_runs(system), len(seen) - 1, bad


def replay(system, target, names):
    """Run the named actions on model and target; return the last step's
    ``{leader: (model view, target view)}``."""
    start(system, target)
    target.reset()
    state = system.initial_state()
    for name in names:
        a, t = next((a, t) for a, t in system.successors(state) if system.action_name(a) == name)
        step(system, target, state, a)
        state = t
    return {l: (model_view(system, state, i), target.read(l)) for i, l in enumerate(system.leaders)}


AB, ABC = ("a", "b"), ("a", "b", "c")
SPECS = {
    # name: (leaders, ops, system keys)
    "2 leaders, 2 concurrent sets": (AB, [S("a", "1"), S("b", "2")], {}),
    "2 leaders, set twice vs set": (AB, [S("a", "1"), S("a", "2"), S("b", "3")], {}),
    "2 leaders, set vs set + delete": (AB, [S("a", "1"), S("b", "2"), D("b")], {}),
    "2 leaders, inserts race": (AB, [I("a", "1"), I("b", "2"), S("a", "3")], {}),
    "3 leaders, three sets": (ABC, [S("a", "1"), S("b", "2"), S("c", "3")], {}),
    "3 leaders, set, delete, set": (ABC, [S("c", "1"), D("b"), S("a", "3")], {}),
    "3 leaders, set, set, delete": (ABC, [S("b", "1"), S("a", "2"), D("c")], {}),
    "3 leaders, unordered links, set twice vs set": (ABC, [S("a", "1"), S("b", "2"), S("a", "3")],
                                                     {"links": "unordered"}),
    "3 leaders, unordered links, two keys": (ABC, [S("b", "1"), S("a", "2", "j"), S("a", "3")],
                                             {"links": "unordered"}),
}
# Larger ones (1 to 20 million runs, 2-25 s each): REPLCHECK_CONFORM_BIG=1.
BIG = {
    "3 leaders, set, set, set, delete": (ABC, [S("a", "1"), S("b", "2"), S("a", "3"), D("c")], {}),
    "3 leaders, set, set, delete, set": (ABC, [S("a", "1"), S("a", "2"), D("b"), S("c", "4")], {}),
    "3 leaders, four sets": (ABC, [S("a", "1"), S("b", "2"), S("c", "3"), S("a", "4")], {}),
    "2 leaders, unordered links, five ops": (AB, [S("a", "1"), D("a"), S("a", "2"), S("b", "3"), D("b")],
                                             {"links": "unordered"}),
    "3 leaders, unordered links, two keys, four ops": (ABC, [S("a", "1"), S("b", "2", "j"), S("c", "3"),
                                                             D("a", "j")], {"links": "unordered"}),
}


def _params():
    import os
    out = [pytest.param(n, SPECS[n], id=n) for n in SPECS]
    big = os.environ.get("REPLCHECK_CONFORM_BIG") == "1"
    out += [pytest.param(n, BIG[n], id=n, marks=() if big else pytest.mark.skip(reason="REPLCHECK_CONFORM_BIG=1"))
            for n in BIG]
    return out


@pytest.mark.parametrize("name, case", _params())
def test_every_model_run_of_yjs_map_matches_pycrdt_step_by_step(name, case):
    leaders, ops, keys = case
    system = System(spec_of(leaders, ops, **keys))
    t = YjsTarget()
    try:
        runs, nodes, bad = conform(system, t)
    finally:
        t.stop()
    assert bad is None, f"{name}: model and pycrdt disagree after {bad[0]} at {bad[1]}: model {bad[2]}, pycrdt {bad[3]}"
    assert runs > 1 and nodes > 1


# Other catalogue resolvers on the same schedules: each disagrees with
# pycrdt.  The search finds a disagreement; the schedule pinned below is
# one (found by it) that shows why.
LAMPORT = {"clock": "lamport"}
OTHERS = [
    # a set twice, b once: lww keeps a's second write (Lamport 2 beats 1); in Yjs b's
    # item is a later sibling of a's first one (b sorts last) and stays last.
    ("lww", LAMPORT, (AB, [S("a", "1"), S("a", "2"), S("b", "3")]),
     ["commit w0 at a", "commit w1 at a", "commit w2 at b", "deliver a -> b", "deliver a -> b"],
     "b", {"k": "2"}, {"k": "3"}),
    # c set "3" after seeing a's "1" (Lamport 2); b's concurrent "2" still wins in Yjs:
    # it is a later sibling of "1", whose subtree holds "3".
    ("lww", LAMPORT, (ABC, [S("a", "1"), S("b", "2"), S("c", "3")]),
     ["commit w0 at a", "commit w1 at b", "deliver a -> b", "deliver a -> c", "commit w2 at c",
      "deliver b -> a", "deliver b -> c"],
     "c", {"k": "3"}, {"k": "2"}),
    # b deletes an absent key: lww keeps a tombstone that beats a's concurrent set
    # (equal Lamport time, b sorts last); Yjs deleted nothing.
    ("lww", LAMPORT, (ABC, [S("c", "1"), D("b"), S("a", "3")]),
     ["commit w2 at a", "commit w1 at b", "deliver a -> b"],
     "b", {}, {"k": "3"}),
    # b's set over a's reaches c first: lww shows it at once; Yjs holds it pending.
    ("lww", LAMPORT, (ABC, [S("a", "1"), S("b", "2")]),
     ["commit w0 at a", "deliver a -> b", "commit w1 at b", "deliver b -> c"],
     "c", {"k": "2"}, {}),
    # mv-register keeps both concurrent values; Y.Map shows one.
    ("mv-register", {}, (AB, [S("a", "1"), S("b", "2")]),
     ["commit w0 at a", "commit w1 at b", "deliver a -> b"],
     "b", {"k": ("1", "2")}, {"k": "2"}),
]


@pytest.mark.parametrize("resolver, keys, case, schedule, leader, model, product", OTHERS,
                         ids=[f"{o[0]}-{i}" for i, o in enumerate(OTHERS)])
def test_other_resolvers_disagree_with_pycrdt(resolver, keys, case, schedule, leader, model, product):
    leaders, ops = case
    system = System(spec_of(leaders, ops, resolver, **keys))
    t = YjsTarget()
    try:
        assert conform(system, t)[2] is not None
        assert replay(system, t, schedule)[leader] == (model, product)
        yjs = System(spec_of(leaders, ops))
        assert replay(yjs, t, schedule)[leader] == (product, product)   # yjs-map says what pycrdt does
    finally:
        t.stop()
