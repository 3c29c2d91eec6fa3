"""Issue 17, item 3: failover for every register resolver.

A key with a home (``[keys."k"] home`` or ``system.homes``) fails over
under lww (any clock), mv-register and the register presets: routed writes
commit at the home; after a failover the next leader of
``faults.failover_order`` commits them; a write the old home accepted but
had not replicated meets the new home's, and the key's resolver decides.
Every verdict below is known by hand (docs/model.md "Failover of home
leaders").
"""

import pytest
from click.testing import CliRunner

from replcheck.checks import outcomes as oc
from replcheck.checks.cli import main
from replcheck.checks.verdict import check, load
from replcheck.model import System
from replcheck.model.errors import SpecError
from tests.conftest import SPECS

ORDER = ["us-east", "eu-west", "ap-south"]


def _spec(resolver="lww", clock=None, failovers=1, key_type=None, work=None, **system):
    """Bob's phone (us-east) and laptop (ap-south) write one key homed at
    us-east; the home may fail over to eu-west."""
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    sysd = {"leaders": list(ORDER), "resolver": resolver, **system}
    if clock:
        sysd["clock"] = clock
    keyd = {"home": "us-east"}
    if key_type:
        keyd["resolver" if key_type == "yjs-map" else "type"] = key_type
    data = {"system": sysd, "keys": {"doc": keyd},
            "workload": work or [{"id": "phone", "leader": "us-east", "key": "doc", "set": "Bob"},
                                 {"id": "laptop", "leader": "ap-south", "key": "doc", "set": "Robert"}]}
    if failovers:
        data["faults"] = {"failovers": failovers, "failover_order": list(ORDER)}
    return parse_spec(data, "<test>", INVARIANTS)


def _results(spec):
    return {r.invariant: r for r in check(spec).results}


# ------------------------------------------------------------------ lww, every clock
@pytest.mark.parametrize("clock,lost,winner", [
    # wall, untimed: timestamps are commit indices, the laptop's (2) beats the phone's (1)
    ("wall", "phone", "laptop"),
    # hlc: (1, 0) at us-east, (2, 0) at eu-west: the later commit wins, as wall
    ("hlc", "phone", "laptop"),
    # lamport: both stamped 1 (the new home had not seen the phone's edit); the
    # leader tie-break compares the committing leaders: us-east > eu-west
    ("lamport", "laptop", "phone"),
])
def test_lww_failover_loses_the_write_its_clock_ranks_lower(clock, lost, winner):
    r = _results(_spec("lww", clock))
    assert r["convergence"].verdict == "holds"
    nlw = r["no-lost-writes"]
    assert (nlw.verdict, nlw.anomaly) == ("violated", "lost-update")
    assert nlw.message.startswith(f"{lost}'s acknowledged write")
    assert f"{winner}'s write" in nlw.message
    texts = [s.text for s in nlw.trace.steps]
    assert any(t.startswith("failover us-east -> eu-west") for t in texts)
    assert any(t.startswith("laptop commits") and "at eu-west" in t for t in texts)


@pytest.mark.parametrize("clock", ["wall", "lamport", "hlc"])
def test_lww_with_a_home_and_no_failover_loses_nothing(clock):
    r = _results(_spec("lww", clock, failovers=0))
    assert (r["convergence"].verdict, r["no-lost-writes"].verdict) == ("holds", "holds")


def test_the_leader_tie_break_names_the_leader_that_committed_not_the_static_home():
    """Both writes are statically homed at us-east; after the failover the
    laptop's is committed (stamped) at eu-west.  With the static home both
    would rank alike and op order would let the laptop win; the product
    compares the two stamping leaders, and us-east sorts last."""
    system = System(_spec("lww", "lamport"))
    assert system.types[0].ctx.moves
    r = _results(_spec("lww", "lamport"))
    assert "laptop's acknowledged write \"Robert\" (eu-west, ts 1)" in r["no-lost-writes"].message


# ---------------------------------------------------------------- mv-register
def test_mv_register_failover_keeps_both_edits_as_siblings():
    spec = _spec("mv-register")
    r = _results(spec)
    assert (r["convergence"].verdict, r["no-lost-writes"].verdict) == ("holds", "holds")
    o = oc.outcomes(System(spec))
    shown = sorted({dict(kv)["doc"] for e in o.endings for _, kv in e.values})
    assert o.complete and '{"Bob", "Robert"}' in shown


def test_the_failover_specs_show_the_lost_write_and_the_siblings():
    lww = _results(load(SPECS / "faults" / "failover-lww.toml"))["no-lost-writes"]
    assert lww.message.startswith("phone's acknowledged write \"Bob\" (us-east, ts 0) is lost everywhere")
    spec = load(SPECS / "faults" / "failover-mv-register.toml")
    endings = oc.outcomes(System(spec)).endings
    both = [e for e in endings if all(dict(kv)["user:bob.name"] == '{"Bob", "Robert"}' for _, kv in e.values)]
    assert both
    lam = _results(load(SPECS / "faults" / "failover-lww-lamport.toml"))["no-lost-writes"]
    assert lam.message.startswith("laptop's acknowledged write \"Robert\" (eu-west, ts 1) is lost everywhere")


# ---------------------------------------------------------------- presets
LWW_PRESETS = ["cassandra", "riak-lww", "dynamodb-global-tables", "bucardo-latest", "pgd"]
SIBLING_PRESETS = ["riak", "couchdb"]


@pytest.mark.parametrize("resolver", LWW_PRESETS)
def test_lww_presets_lose_one_write_after_a_failover_and_converge(resolver):
    r = _results(_spec(resolver))
    assert r["convergence"].verdict == "holds"
    assert (r["no-lost-writes"].verdict, r["no-lost-writes"].anomaly) == ("violated", "lost-update")


@pytest.mark.parametrize("resolver", SIBLING_PRESETS)
def test_sibling_presets_keep_both_writes_after_a_failover(resolver):
    r = _results(_spec(resolver))
    assert (r["convergence"].verdict, r["no-lost-writes"].verdict) == ("holds", "holds")


def test_cosmosdb_breaks_a_same_second_tie_by_the_committing_region_and_converges():
    """_ts is in seconds: both writes tie; "the system" picks by region id —
    of the region that committed each write.  With the static home both
    writes had one region id, the tie stayed a tie and the leaders diverged."""
    r = _results(_spec("cosmosdb-lww"))
    assert r["convergence"].verdict == "holds"
    assert r["no-lost-writes"].verdict == "violated"


def test_every_register_preset_but_yjs_accepts_a_failover():
    from replcheck.model.resolvers import RESOLVERS
    for name, info in RESOLVERS.items():
        if info.family != "register" or name == "yjs-map":
            continue
        work = None
        if name == "goldengate-usedelta":
            work = [{"id": "phone", "leader": "us-east", "key": "doc", "set": "1"},
                    {"id": "laptop", "leader": "ap-south", "key": "doc", "set": "2"}]
        System(_spec(name, work=work))   # no SpecError


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize("key_type,work,named", [
    ("or-set", [{"id": "a", "leader": "us-east", "key": "doc", "add": "x"}], "or-set, a set"),
    ("g-counter", [{"id": "a", "leader": "us-east", "key": "doc", "incr": 1}], "g-counter, a counter"),
    ("yjs-map", None, "yjs-map, a register"),
])
def test_failover_of_a_key_that_cannot_fail_over_is_one_line_naming_the_key_and_fix(key_type, work, named):
    with pytest.raises(SpecError) as e:
        System(_spec("lww", key_type=key_type, work=work))
    msg = str(e.value)
    assert e.value.key == "faults.failovers" and "\n" not in msg
    assert f"key 'doc' ({named})" in msg and "give 'doc' no home or drop faults.failovers" in msg


def test_the_cli_refuses_it_with_exit_2_and_no_traceback(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[system]\nleaders = ["a", "b"]\n[keys."cart"]\ntype = "or-set"\nhome = "a"\n'
                 '[[workload]]\nid = "x"\nleader = "b"\nkey = "cart"\nadd = "ham"\n[faults]\nfailovers = 1\n')
    r = CliRunner().invoke(main, ["check", str(p)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    line = r.output.strip()
    assert "\n" not in line and str(p) in line and "faults.failovers" in line and "key 'cart'" in line


def test_failover_without_any_home_names_both_ways_to_give_one():
    with pytest.raises(SpecError) as e:
        from replcheck.checks.invariants import INVARIANTS
        from replcheck.model import parse_spec
        System(parse_spec({"system": {"leaders": ["a", "b"]},
                           "workload": [{"id": "x", "leader": "a", "key": "k", "set": "v"}],
                           "faults": {"failovers": 1}}, "<test>", INVARIANTS))
    assert "[keys.\"k\"] home" in str(e.value) and "system.homes" in str(e.value)


def test_system_homes_under_another_resolver_is_refused_with_the_per_key_fix():
    """system.homes homes keys only under home-leader: under lww the key
    has no home, and a failover says how to give it one."""
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    data = {"system": {"leaders": list(ORDER), "resolver": "lww", "homes": {"doc": "us-east"}},
            "workload": [{"id": "phone", "leader": "us-east", "key": "doc", "set": "Bob"}],
            "faults": {"failovers": 1}}
    with pytest.raises(SpecError) as e:
        System(parse_spec(data, "<test>", INVARIANTS))
    assert "under resolver = \"lww\" system.homes routes nothing" in str(e.value)
    assert "[keys.\"doc\"] home" in str(e.value) and e.value.key == "system.homes"
    data["system"]["resolver"] = "home-leader"
    System(parse_spec(data, "<test>", INVARIANTS))   # routed by system.homes: fails over
