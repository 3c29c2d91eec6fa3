"""Spec variants (model/variants.py) against the spec loader's own
``--set`` path: a variant is exactly the spec a file with that setting gives."""

from __future__ import annotations

import dataclasses

import pytest

from replcheck.checks.verdict import load
from replcheck.model import variants
from replcheck.model.errors import SpecError
from replcheck.model.spec import parse_spec
from conftest import SPECS

BUNDLED = sorted(p for p in SPECS.rglob("*.toml") if "answers" not in p.parts)
RESOLVERS = ("lww", "mv-register", "pn-counter", "cassandra")
TOPOLOGIES = ("ring", "star", "all-to-all")


def _same(a, b):
    assert a == b
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]


def _set(path, *items):
    """``load(path, --set items)``, or the SpecError it raises."""
    try:
        return load(path, list(items))
    except SpecError as e:
        return e


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(SPECS)))
def test_with_resolver_is_what_set_gives(path):
    base = load(path)
    for r in RESOLVERS:
        want = _set(path, f"system.resolver={r}")
        if isinstance(want, SpecError):
            with pytest.raises(variants.NotApplicable) as e:
                base.with_resolver(r)
            assert (e.value.key, e.value.message) == (want.key, want.message), r
        else:
            _same(base.with_resolver(r), want)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(SPECS)))
def test_with_topology_is_what_set_gives(path):
    base = load(path)
    for t in TOPOLOGIES:
        items = [f"system.topology={t}"]
        if t == "star":
            items.append(f"system.hub={base.hub or base.leaders[0]}")
        want = _set(path, *items)
        if isinstance(want, SpecError) or base.edges:
            continue   # --set cannot remove a key (hub, edges): compared where it need not
        if t != "star" and base.hub:
            continue
        _same(base.with_topology(t), want)


def test_a_variant_keeps_bounds_and_never_changes_its_base():
    path = SPECS / "seed" / "alice-bob-lww.toml"
    base = load(path).with_bounds(max_states=77)
    v = base.with_resolver("mv-register").with_topology("ring")
    assert (v.resolver, v.topology, v.bounds.max_states) == ("mv-register", "ring", 77)
    assert (base.resolver, base.topology) == ("lww", "all-to-all") and base == load(path).with_bounds(max_states=77)
    _same(v.with_bounds(max_states=load(path).bounds.max_states),
          load(path, ["system.resolver=mv-register", "system.topology=ring"]))


def test_preset_clock_conflict_is_its_own_error_and_retry_drops_the_specs_clock():
    path = SPECS / "seed" / "skew-hlc.toml"
    base = load(path)
    with pytest.raises(variants.PresetConflict) as e:
        base.with_resolver("cassandra")
    assert e.value.key in ("system.clock", "system.tie_break")
    v = base.with_resolver("cassandra", presets="retry")
    assert v.resolver == "cassandra"


def test_not_applicable_carries_the_validators_one_line_reason():
    base = load(SPECS / "seed" / "alice-bob-lww.toml")
    with pytest.raises(variants.NotApplicable) as e:
        base.with_keys("pn-counter")
    assert isinstance(e.value, SpecError) and e.value.key.startswith("workload[") and "\n" not in str(e.value)


def test_retype_and_homes():
    data = {"system": {"leaders": ["a", "b"]}, "keys": {"n": {"type": "escrow", "initial": 2, "rights": {"a": 2}},
                                                        "users": {"type": "users"}},
            "workload": [{"leader": "a", "key": "n", "decr": 1}, {"leader": "b", "key": "users", "insert": "x@y"}]}
    base = parse_spec(data)
    assert variants.resolver_keys(base) == ("n",)
    v = base.with_resolver("pn-counter", retype=True)
    assert {k.name: k.entry for k in v.keys} == {"n": "pn-counter", "users": "users"}
    assert base.with_resolver("escrow", retype=True).keys[0].rights == (("a", 2),)
    h = base.with_homes({"n": "b"})
    assert [k.home for k in h.keys if k.name == "n"] == ["b"]
    assert data["keys"]["n"] == {"type": "escrow", "initial": 2, "rights": {"a": 2}}   # the caller's dict untouched


def test_a_spec_not_made_by_the_loader_has_no_variants():
    base = load(SPECS / "seed" / "alice-bob-lww.toml")
    with pytest.raises(SpecError, match="not made by the spec loader"):
        dataclasses.replace(base, _data=None).with_resolver("lww")
