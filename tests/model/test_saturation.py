"""Stopping once every anomaly kind is found (docs/engine.md, "Stopping when
every kind is found").

An invariant may state, from the spec, every anomaly kind it can show
(``Invariant.kinds``); a search stops early once every property is violated
and has shown all of its kinds.  That is sound only if the stated set is a
superset of what a full search shows: checked here on every bundled spec
where a set is stated, against a search that runs to the end; a seeded bug
(a set too narrow) must be caught by the same check.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import Options, check, load
from replcheck.model import search
from replcheck.model.system import System
from tests.conftest import make_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted(p for p in (ROOT / "specs").rglob("*.toml") if "answers" not in p.parts) + \
    [ROOT / "bench" / "specs" / f"B{i}.toml" for i in (1, 2)]


def _stated_and_shown(spec, name, bound=30_000):
    """The kinds ``name`` states for ``spec`` and the kinds a plain search
    that never stops early shows (``None``: nothing stated, or cut)."""
    system = System(spec)
    p = INVARIANTS[name].property(system)
    if p.kinds is None:
        return None, None
    full = search.bfs(system, [replace(p, kinds=None)], search.Bounds(max_states=bound))
    if not full.complete:
        return p.kinds, None
    return p.kinds, frozenset(full.kinds.get(name, ()))


def _loadable(path):
    try:
        return load(path)
    except Exception:   # noqa: BLE001 - drills and query files are not check specs
        return None


def test_stated_kinds_cover_every_kind_a_full_search_shows():
    """Every bundled spec (and B1, B2) where a kind set is stated and a full
    plain search fits in 30,000 states: the search shows no kind outside it."""
    verified = {"convergence": 0, "no-lost-writes": 0}
    for path in SPECS:
        spec = _loadable(path)
        if spec is None:
            continue
        for name in verified:
            try:
                stated, shown = _stated_and_shown(spec, name)
            except Exception:   # noqa: BLE001 - an invariant that cannot judge this spec's types
                continue
            if stated is not None and shown is not None:
                assert shown <= stated, f"{name} on {path.name}: a full search shows {sorted(shown - stated)} too"
                verified[name] += 1
    assert verified["convergence"] >= 50 and verified["no-lost-writes"] >= 1, verified   # not vacuous


def _family():
    """Small specs inside the proof's conditions (lww over Lamport or HLC,
    sets only, no faults but crashes, all-to-all), varied where the proof
    must hold: causal waits (``after``), two keys, real time, one or two
    crashes, a crash with recovery."""
    for clock in ("lamport", "hlc"):
        for n in (2, 3):
            leaders = ("a", "b", "c")[:n]
            base = [{"id": f"{l}{i}", "leader": l, "key": "k", "set": f"{l}{i}"} for l in leaders for i in (1, 2)][:n + 1]
            yield f"{clock}-{n}", make_spec(leaders, base, resolver="lww", clock=clock)
            waits = [dict(o) for o in base]
            waits[-1]["after"] = [base[0]["id"]] if waits[-1]["leader"] != base[0]["leader"] else []
            yield f"{clock}-{n}-after", make_spec(leaders, waits, resolver="lww", clock=clock)
            two = [dict(o, key="j") if i % 2 else o for i, o in enumerate(base)]
            yield f"{clock}-{n}-two-keys", make_spec(leaders, two, resolver="lww", clock=clock)
            timed = [dict(o, time_ms=10 * (len(base) - i)) for i, o in enumerate(base)]
            yield f"{clock}-{n}-time_ms", make_spec(leaders, timed, resolver="lww", clock=clock)
            for label, faults in (("crash", {"crashes": 1}), ("two-crashes", {"crashes": 2}),
                                  ("crash-recovers", {"crashes": 1, "recoveries": True})):
                yield f"{clock}-{n}-{label}", _with_faults(leaders, base, faults, clock=clock)


def _with_faults(leaders, workload, faults, **system):
    from replcheck.model import parse_spec
    data = {"system": {"leaders": list(leaders), "resolver": "lww", **system}, "workload": workload,
            "faults": faults}
    return parse_spec(data, "<test>", INVARIANTS)


@pytest.mark.parametrize("name,spec", list(_family()), ids=lambda x: x if isinstance(x, str) else "")
def test_stated_kinds_cover_a_full_search_on_a_family_of_small_specs(name, spec):
    stated, shown = _stated_and_shown(spec, "no-lost-writes", bound=400_000)
    assert stated == {"lost-update"}, name
    assert shown is not None, f"{name}: the full search did not finish"
    assert shown <= stated


def _forwarding():
    """Rings and stars inside the proof's other conditions: a crash on a
    write's only path leaves it unreplicated, and never causally later."""
    for clock in ("lamport", "hlc"):
        for topology in ("ring", "star"):
            for n in ((3, 4) if clock == "lamport" else (3,)):   # HLC 4 x 1 + crash: over 400,000 states
                leaders = ("a", "b", "c", "d")[:n]
                base = [{"id": f"{l}1", "leader": l, "key": "k", "set": f"{l}1"} for l in leaders]
                system = dict(clock=clock, topology=topology, **({"hub": "b"} if topology == "star" else {}))
                yield f"{clock}-{topology}-{n}", make_spec(leaders, base, resolver="lww", **system)
                yield f"{clock}-{topology}-{n}-crash", _with_faults(leaders, base, {"crashes": 1}, **system)


@pytest.mark.parametrize("name,spec", list(_forwarding()), ids=lambda x: x if isinstance(x, str) else "")
def test_stated_kinds_cover_a_full_search_on_rings_and_stars(name, spec):
    stated, shown = _stated_and_shown(spec, "no-lost-writes", bound=400_000)
    assert stated == {"lost-update", "unreplicated-write-lost"}, name
    assert shown is not None, f"{name}: the full search did not finish"
    assert shown <= stated, name
    if name.endswith("crash") and name.split("-")[1] == "ring":
        assert "unreplicated-write-lost" in shown, name   # the crash cuts the ring


def test_a_write_that_never_arrived_is_not_causally_later():
    """B4's ring, af-south crashed: sa-east-1 (which causally follows
    us-east-1) never reached us-east, which holds us-east-1.  It lost no
    timestamp comparison: unreplicated-write-lost, not causally later (the
    kind this checker reported before)."""
    spec = load(ROOT / "bench" / "specs" / "B4.toml")
    plain = System(spec)
    names = ["us-east-1", "eu-west-1", "ap-south-1"]
    path = [plain.op_index[x] for x in names]
    link = {(plain.leaders[a], plain.leaders[b]): plain.nops + j for j, (a, b) in enumerate(plain.edges)}
    path += [link[("us-east", "eu-west")], link[("eu-west", "ap-south")], link[("eu-west", "ap-south")]]
    path += [link[("ap-south", "sa-east")]] * 3 + [plain.op_index["sa-east-1"]]
    from replcheck.model import faults as fl
    path.append(fl.code(fl.CRASH, plain.leaders.index("af-south")))
    state = plain.initial_state()
    for a in path:
        state = plain.step(state, a)
    assert not plain.successors(state) or plain.successors(state)[0][0] >= plain.fault_base   # quiescent
    labels = INVARIANTS["no-lost-writes"].labels(plain)(state)
    assert "causally-later-write-lost" not in labels and "unreplicated-write-lost" in labels


def _seed_spec(**system):
    return make_spec(("a", "b", "c"), [{"leader": "a", "key": "k", "set": "a1"}, {"leader": "a", "key": "k", "set": "a2"},
                                       {"leader": "b", "key": "k", "set": "b1"}, {"leader": "c", "key": "k", "set": "c1"}],
                     resolver="lww", **system)


def test_lww_over_lamport_states_lost_update_only_and_stops_early_with_complete_kinds():
    spec = _seed_spec(clock="lamport")
    assert INVARIANTS["no-lost-writes"].property(System(spec)).kinds == {"lost-update"}
    early = check(spec)
    nlw = {r.invariant: r for r in early.results}["no-lost-writes"]
    assert nlw.verdict == "violated" and nlw.anomalies == ("lost-update",)
    assert nlw.anomalies_complete and nlw.shortest
    assert {r.invariant: r for r in early.results}["convergence"].verdict == "holds"
    assert not early.complete and early.cut is None
    # the same spec where nothing is stated (the plain engine runs to the end on
    # the ghost too): same verdicts and kinds, more states
    _, shown = _stated_and_shown(spec, "no-lost-writes")
    assert shown == {"lost-update"}


@pytest.mark.parametrize("system", [dict(clock="wall"),
                                    dict(clock="lamport", faults={"crashes": 1, "lose_unsent": True}),
                                    dict(clock="lamport", faults={"partitions": 1})],
                         ids=["wall clocks", "a crash that loses what was unsent", "a partition"])
def test_nothing_is_stated_where_the_proof_does_not_apply(system):
    faults = system.pop("faults", None)
    spec = _seed_spec(**system)
    if faults:
        from replcheck.model import parse_spec
        data = {"system": {"leaders": ["a", "b", "c"], "resolver": "lww", **system},
                "workload": [{"leader": l, "key": "k", "set": l + "1"} for l in "abc"], "faults": faults}
        spec = parse_spec(data, "<test>", INVARIANTS)
    assert INVARIANTS["no-lost-writes"].property(System(spec)).kinds is None
    report = check(spec)
    assert all(r.verdict != "violated" or not r.anomalies_complete or report.complete for r in report.results)


def test_seeded_bug_a_too_narrow_kind_set_is_caught(monkeypatch):
    """Wall clocks with a skew lose a causally later write; claiming
    ``{lost-update}`` there would stop the search before it shows that
    kind.  The coverage check above must flag it."""
    spec = make_spec(("a", "b"), [{"id": "w1", "leader": "a", "key": "k", "set": "x"},
                                  {"id": "w2", "leader": "b", "key": "k", "set": "y", "after": ["w1"]}],
                     resolver="lww", clock="wall", offsets={"b": -5})
    inv = INVARIANTS["no-lost-writes"]
    monkeypatch.setitem(INVARIANTS, "no-lost-writes", replace(inv, kinds=lambda system: frozenset({"lost-update"})))
    stated, shown = _stated_and_shown(spec, "no-lost-writes")
    assert stated == {"lost-update"} and "causally-later-write-lost" in shown
    assert not shown <= stated


def test_stop_early_still_says_at_least():
    nlw = {r.invariant: r for r in check(_seed_spec(clock="lamport"), options=Options(stop_early=True)).results}
    assert nlw["no-lost-writes"].verdict == "violated" and not nlw["no-lost-writes"].anomalies_complete


def test_a_crash_that_drops_unsent_writes_shows_kinds_beyond_lost_update():
    """Why ``lose_unsent`` states nothing: a full search shows every kind."""
    spec = _with_faults(("a", "b", "c"), [{"id": f"{l}{i}", "leader": l, "key": "k", "set": f"{l}{i}"}
                                          for l in "abc" for i in (1, 2)][:4],
                        {"crashes": 1, "lose_unsent": True}, clock="lamport")
    system = System(spec)
    assert INVARIANTS["no-lost-writes"].property(system).kinds is None
    full = search.bfs(system, [INVARIANTS["no-lost-writes"].property(system)], search.Bounds(max_states=50_000))
    assert full.complete
    assert {"lost-update", "unreplicated-write-lost"} <= set(full.kinds["no-lost-writes"])
