"""Observed deletes (``delete = true`` with ``if_version = "observed"``;
docs/model.md "Observed deletes", model/resolvers/observed_delete.py)."""

import copy
import dataclasses
import json
import tomllib
from itertools import permutations

import jsonschema
import pytest

from replcheck.checks.invariants import INVARIANTS, losses
from replcheck.checks.verdict import check, load
from replcheck.model.errors import SpecError
from replcheck.model.resolvers.base import is_rejected
from replcheck.model.resolvers.config import IF_VERSION
from replcheck.model.resolvers.local_checks import REASONS
from replcheck.model.resolvers.observed_delete import ObservedLWW
from replcheck.model.resolvers.lww import LWW
from replcheck.model.spec import parse_spec
from replcheck.model.system import System
from tests.conftest import ROOT, SPECS
from tests.differential import oracle

DELETES = SPECS / "deletes"
ALL = sorted(DELETES.glob("*.toml"))
SCHEMA = json.loads((ROOT / "checks" / "schema" / "spec.schema.json").read_text())


def data_of(path) -> dict:
    d = tomllib.loads(path.read_text())
    d.pop("expect", None)
    return d


def parse(data):
    return parse_spec(data, "<test>", INVARIANTS)


def spec_of(*ops, **system):
    return parse({"system": {"leaders": ["us-east", "eu-west", "ap-south"], "resolver": "lww", **system},
                  "workload": [dict(o) for o in ops]})


def results(spec):
    return {r.invariant: r for r in check(spec).results}


def lost_everywhere(spec) -> set[str]:
    """The ops that some quiescent state of some run does not reflect."""
    system = System(spec)
    states, complete = oracle.quiescent_states(system)
    assert complete
    return {system.ops[x.write].id for s in states for x in losses(system, s)}


# ------------------------------------------------------------ the apply rule
V, U, D, OLD = 0, 1, 2, 3
FOUR = (dict(id="v", leader="us-east", key="k", set="draft"),
        dict(id="u", leader="eu-west", key="k", set="final"),
        dict(id="d", leader="us-east", key="k", delete=True, if_version="observed"),
        dict(id="old", leader="ap-south", key="k", set="stale"))
# d observed v (stored index + 1); u ranks above v, old below it.
WRITES = (((5,), 0), ((10,), 0), ((20,), 1 << V, (0, V + 1)), ((1,), 0))


def the_type(spec, k=0):
    t = System(spec).types[k]
    return getattr(t, "inner", t)


def test_the_type_is_not_lww_so_no_engine_takes_it_for_plain_lww():
    t = the_type(spec_of(*FOUR))
    assert isinstance(t, ObservedLWW) and not isinstance(t, LWW)
    assert t.commutes and not t.uses_hb
    assert isinstance(the_type(spec_of(*FOUR[:2])), LWW)      # no observed delete: lww's fast path


@pytest.mark.parametrize("held,arriving,after", [
    ((V,), D, (D,)),        # the version read is stored: removed
    ((U,), D, (U,)),        # a version above it is stored: the delete changes nothing
    ((OLD,), D, (D,)),      # the version read has not arrived: the delete is its tombstone
    ((D,), V, (D,)),        # ... and the version, arriving later, stays removed
    ((D,), U, (U,)),        # a write ranked above the version read replaces the tombstone
    ((D,), OLD, (D,)),      # one ranked below it does not
    ((), D, (D,)),
])
def test_an_observed_delete_removes_only_the_version_it_read(held, arriving, after):
    t = the_type(spec_of(*FOUR))
    assert t.apply(held, arriving, WRITES, False) == after
    assert t.apply(held, arriving, WRITES, True) == after     # local or remote: the same rule


def test_every_delivery_order_ends_the_same():
    t = the_type(spec_of(*FOUR))
    for k in range(1, 5):
        for subset in permutations(range(4), k):
            ends = set()
            for order in permutations(subset):
                content = ()
                for w in order:
                    content = t.apply(content, w, WRITES, False)
                ends.add(content)
            assert len(ends) == 1, (subset, ends)


def test_two_deletes_of_one_version_tie_break_by_op_order():
    ops = FOUR[:3] + (dict(id="d2", leader="eu-west", key="k", delete=True, if_version="observed"),)
    writes = WRITES[:3] + (((30,), 1 << V, (0, V + 1)),)
    t = the_type(spec_of(*ops))
    assert t.apply((D,), 3, writes, False) == (3,) and t.apply((3,), D, writes, False) == (3,)


def test_under_incoming_loses_a_version_is_its_timestamp():
    # u stamped the same time as v: a delete carrying v's timestamp removes u too.
    t = the_type(spec_of(*FOUR, tie_break="incoming-loses"))
    writes = (((5,), 0), ((5,), 0)) + WRITES[2:]
    assert t.apply((U,), D, writes, False) == (D,)


def test_the_commit_records_the_version_read_and_refuses_where_none_shows():
    spec = spec_of(*FOUR)
    t = System(spec).types[0]
    d = System(spec).ops[D]
    assert t.stamp(d, (20,), 1, (V,), WRITES) == ((20,), 1, (0, V + 1))
    assert t.stamp(d, (20,), 0, (), WRITES)[2] == -1                       # nothing shown: refused
    tomb = ((0,), 0)   # a plain tombstone held: no value shows, so nothing to observe
    plain = spec_of(FOUR[0], dict(id="t", leader="us-east", key="k", delete=True), FOUR[2])
    tp = System(plain).types[0]
    assert is_rejected(tp.stamp(System(plain).ops[2], (20,), 0, (1,), (WRITES[0], tomb, None)))
    assert tp.reject_reason(2) == REASONS["observed"]


def test_an_initial_value_is_a_version_ranked_below_every_write():
    spec = parse({"system": {"leaders": ["us-east", "eu-west"], "resolver": "lww"},
                  "keys": {"k": {"initial": "draft"}},
                  "workload": [dict(id="d", leader="us-east", key="k", delete=True, if_version="observed"),
                               dict(id="u", leader="eu-west", key="k", set="final")]})
    system = System(spec)
    t = system.types[0]
    entry = t.stamp(system.ops[0], (1,), 0, (), (None, None))
    assert entry == ((1,), 0, (0, 0))                                      # observed: the initial value
    writes = (entry, ((0,), 0))
    assert t.inner.apply((0,), 1, writes, False) == (1,)                   # any write beats it
    r = results(spec)
    assert r["convergence"].verdict == "holds"
    assert system.show_visible(system.visible(system.initial_state(), 0, 0)) == '"draft"'


# ------------------------------------------------------------ the specs
def test_a_tombstone_loses_the_concurrent_update_and_an_observed_delete_keeps_it():
    assert lost_everywhere(load(DELETES / "tombstone-vs-concurrent-update.toml")) == {"edit"}
    assert lost_everywhere(load(DELETES / "observed-vs-concurrent-update.toml")) == {"delete"}
    tomb = results(load(DELETES / "tombstone-vs-concurrent-update.toml"))["no-lost-writes"]
    obs = results(load(DELETES / "observed-vs-concurrent-update.toml"))["no-lost-writes"]
    assert tomb.culprits[:2] == ("edit", "delete") and obs.culprits[:2] == ("delete", "edit")


def test_update_wins_resurrects_a_stale_write_and_an_observed_delete_does_not():
    uw = results(load(DELETES / "update-wins-vs-stale-write.toml"))["convergence"]
    obs = results(load(DELETES / "observed-vs-stale-write.toml"))
    assert (uw.verdict, uw.anomaly) == ("violated", "divergence") and '"Budget 2025"' in uw.message
    assert obs["convergence"].verdict == obs["strong-convergence"].verdict == "holds"
    assert lost_everywhere(load(DELETES / "observed-vs-stale-write.toml")) == {"old"}   # lost to the draft, by lww


def test_a_delete_that_arrives_before_its_version_keeps_it_removed():
    spec = load(DELETES / "observed-delete-before-its-version.toml")
    system = System(spec)
    link = {(system.leaders[a], system.leaders[b]): system.nops + j for j, (a, b) in enumerate(system.edges)}
    s = system.initial_state()
    for action in (0, link["us-east", "eu-west"], 1, link["eu-west", "ap-south"]):
        s = system.step(s, action)
    ap = system.leaders.index("ap-south")
    assert system.held_writes(s, ap, 0) == (1,) and system.visible(s, ap, 0) == ()   # the delete, before create
    s = system.step(s, link["us-east", "ap-south"])                                  # create arrives
    assert system.held_writes(s, ap, 0) == (1,) and system.visible(s, ap, 0) == ()
    assert all(r.verdict == "holds" and r.vacuous is None for r in check(spec).results)


def test_a_delete_where_nothing_shows_is_rejected_not_replicated():
    spec = spec_of(dict(id="d", leader="eu-west", key="k", delete=True, if_version="observed"))
    r = results(spec)
    assert r["convergence"].verdict == "holds" and "each rejected at its leader" in r["convergence"].vacuous


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
@pytest.mark.parametrize("quiescent_only", [False, True], ids=["as-written", "quiescent-only"])
def test_reduced_and_plain_engines_agree(path, quiescent_only):
    data = data_of(path)
    if quiescent_only:   # strong-convergence (every state) turns partial-order reduction off
        data["check"] = {"invariants": ["convergence", "no-lost-writes"]}
    out = oracle.compare(data, oracle.LIGHT_MODES)
    assert out.valid and not out.disagreements, [str(x) for x in out.disagreements]
    observed = "if_version" in path.read_text()
    if quiescent_only and observed:
        assert out.made["judged-reachable"]      # the reduction really ran on an observed-delete key


@pytest.mark.parametrize("path", [p for p in ALL if "if_version" in p.read_text()], ids=lambda p: p.stem)
def test_the_symbolic_engine_and_the_promela_export_refuse(path):
    spec = load(path)
    with pytest.raises(SpecError, match="use --engine bfs") as e:
        check(spec, engine="smt", invariants=("convergence",))
    # named for what is not covered (the observed delete), not for the resolver, which is covered
    assert e.value.key.endswith(".if_version") and "observed deletes" in e.value.message, str(e.value)
    from replcheck.checks.smt.skew import analyse as _skew
    with pytest.raises(SpecError, match="smt skew has no encoding for an observed delete") as e:
        _skew(dataclasses.replace(spec, clock="wall"))     # skew asks about wall clocks
    assert e.value.key.endswith(".if_version")
    from replcheck.checks.export_promela import export_promela
    with pytest.raises(SpecError, match="'observed' ops are not exported"):
        export_promela(spec, ("convergence",))


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("op,system,key,fragment", [
    (dict(delete=True, if_version="obsreved"), {}, "workload[1].if_version", "did you mean 'observed'?"),
    (dict(delete=True, if_version=True), {}, "workload[1].if_version", "must be a quoted string (observed:"),
    (dict(set="B", if_version="observed"), {}, "workload[1].if_version", "only a delete carries"),
    (dict(delete=True, if_version="observed"), {"resolver": "mv-register"}, "workload[1].if_version",
     "modelled on lww keys; 'k' is under mv-register"),
    (dict(delete=True, if_version="observed"), {"delete_rule": "update-wins"}, "workload[1].if_version",
     'system.delete_rule = "update-wins"; remove one of them'),
])
def test_bad_observed_deletes_name_the_op_and_the_fix(op, system, key, fragment):
    data = {"system": {"leaders": ["us-east", "eu-west"], "resolver": "lww", **system},
            "workload": [dict(id="a", leader="us-east", key="k", set="A"),
                         dict(id="b", leader="eu-west", key="k", **op)]}
    with pytest.raises(SpecError) as e:
        parse(data)
    assert e.value.key == key and fragment in e.value.message, str(e.value)


def test_the_schema_knows_if_version_and_refuses_it_on_other_ops():
    validator = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
    assert SCHEMA["definitions"]["op"]["properties"]["if_version"]["enum"] == list(IF_VERSION)
    good = data_of(DELETES / "observed-vs-concurrent-update.toml")
    assert not list(validator.iter_errors(good))
    for change in ({"if_version": "obsreved"}, {"delete": None, "set": "x"}):
        d = copy.deepcopy(good)
        op = d["workload"][2]
        for k, v in change.items():
            op.pop(k) if v is None else op.update({k: v})
        assert list(validator.iter_errors(d)), change
