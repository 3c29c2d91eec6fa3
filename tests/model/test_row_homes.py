"""Per-row homes on a table (``[keys."users"] home_by``; docs/model.md "Per-row
homes") and the check that every ``system.homes`` prefix homes something."""

import copy
import json
import tomllib

import jsonschema
import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import check, load
from replcheck.model.errors import SpecError
from replcheck.model.routing import ROW_BASES, longest_home, row_key
from replcheck.model.spec import parse_spec
from replcheck.model.system import System
from tests.conftest import ROOT, SPECS
from tests.differential import oracle

BY_USER = SPECS / "homes" / "users-home-by-user.toml"
BY_EMAIL = SPECS / "homes" / "users-home-by-email.toml"
SCHEMA = json.loads((ROOT / "checks" / "schema" / "spec.schema.json").read_text())


def data_of(path) -> dict:
    d = tomllib.loads(path.read_text())
    d.pop("expect", None)
    return d


def parse(data):
    return parse_spec(data, "<test>", INVARIANTS)


def committers(spec) -> dict[str, str]:
    """Where each op commits when no fault moves anything."""
    system = System(spec)
    return {op.id: system.leaders[op.origin] for op in system.ops}


def results(spec):
    return {r.invariant: r for r in check(spec).results}


# ------------------------------------------------------------ pure functions
def test_row_keys_name_a_row_by_each_basis():
    assert row_key("users", "user", "alice", "a@x") == "users/alice"
    assert row_key("users", "email", "alice", "a@x") == "users/a@x"
    assert row_key("users", "key", "alice", "a@x") == "users"
    assert set(ROW_BASES) == {"user", "email", "key"}


def test_longest_prefix_wins():
    rules = (("", "us-east"), ("users/", "eu-west"), ("users/alice", "ap-south"))
    assert longest_home(rules, "users/alice@x") == "ap-south"
    assert longest_home(rules, "users/bob") == "eu-west"
    assert longest_home(rules, "doc") == "us-east"
    assert longest_home((("users/", "eu-west"),), "doc") is None


def test_the_bases_are_the_drills():
    from replcheck.checks import drill
    assert set(ROW_BASES) == set(drill.HOME_BASES)


# ------------------------------------------------------------ routing
def test_each_row_commits_at_its_users_home():
    assert committers(load(BY_USER)) == {"alice": "eu-west", "carol": "us-east", "bob": "ap-south"}


def test_each_row_commits_at_its_emails_home():
    # Both registrations of alice@example.com are decided at eu-west, whoever issued them.
    assert committers(load(BY_EMAIL)) == {"alice": "eu-west", "carol": "eu-west", "bob": "ap-south"}


def test_home_by_key_homes_the_whole_table_by_its_name():
    d = data_of(BY_USER)
    d["keys"]["users"]["home_by"] = "key"
    d["system"]["homes"] = {"users": "ap-south"}
    assert set(committers(parse(d)).values()) == {"ap-south"}


def test_a_row_no_prefix_matches_is_homed_at_the_first_leader_as_a_key_is():
    d = data_of(BY_USER)
    d["system"]["homes"] = {"users/alice": "eu-west"}
    assert committers(parse(d)) == {"alice": "eu-west", "carol": "us-east", "bob": "us-east"}


def test_without_home_by_a_table_commits_where_it_is_issued():
    d = data_of(BY_USER)
    del d["keys"]["users"]["home_by"]
    del d["system"]["homes"]
    assert committers(parse(d)) == {"alice": "us-east", "carol": "ap-south", "bob": "ap-south"}


def test_a_routed_table_turns_partial_order_reduction_off():
    system = System(load(BY_USER))
    assert system.routing.routed == (True,)
    assert not system.resolver.commutes


# ------------------------------------------------------------ verdicts
def test_rows_homed_by_user_let_two_homes_accept_one_email():
    r = results(load(BY_USER))
    assert (r["email-unique"].verdict, r["email-unique"].anomaly) == ("violated", "duplicate-email")
    assert set(r["email-unique"].culprits) == {"alice", "carol"}
    assert "eu-west and us-east" in r["email-unique"].message
    assert r["no-lost-writes"].verdict == r["convergence"].verdict == "holds"


def test_rows_homed_by_email_decide_each_email_at_one_leader():
    r = results(load(BY_EMAIL))
    assert all(x.verdict == "holds" and x.vacuous is None for x in r.values())


def test_unique_is_checked_across_the_whole_table_not_per_home():
    # Two users who share a home: their home sees both rows, so the second is refused.
    d = data_of(BY_USER)
    d["system"]["homes"] = {"users/alice": "eu-west", "users/carol": "eu-west", "users/bob": "ap-south"}
    assert results(parse(d))["email-unique"].verdict == "holds"


def test_routing_across_a_partition_waits_for_the_home():
    # A cut between the issuer and the row's home holds the registration (unacknowledged), never
    # commits it elsewhere: with the pair cut for good, carol's row never commits.
    d = data_of(BY_EMAIL)
    d["faults"] = {"partitions": 1, "heals": False}
    d["check"] = {"invariants": ["email-unique"]}
    r = results(parse(d))["email-unique"]
    assert r.verdict == "holds" and r.vacuous is None


@pytest.mark.parametrize("path", [BY_USER, BY_EMAIL], ids=lambda p: p.stem)
def test_reduced_and_plain_engines_agree(path):
    out = oracle.compare(data_of(path), oracle.LIGHT_MODES)
    assert out.valid and not out.disagreements, [str(x) for x in out.disagreements]
    assert out.made["reduced-vs-plain"] and out.made["render"]


@pytest.mark.parametrize("path", [BY_USER, BY_EMAIL], ids=lambda p: p.stem)
def test_the_symbolic_engine_and_the_promela_export_refuse(path):
    with pytest.raises(SpecError, match="home-leader routing"):
        check(load(path), engine="smt")
    from replcheck.checks.export_promela import export_promela
    with pytest.raises(SpecError):
        export_promela(load(path))


# ------------------------------------------------------------ bad input
def _error(tmp_path, data) -> str:
    import tomli_w
    p = tmp_path / "bad.toml"
    p.write_text(tomli_w.dumps(data))
    r = CliRunner().invoke(main, ["check", str(p)])
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"replcheck: {p}: "), r.output
    return lines[0]


def test_an_unknown_home_prefix_is_an_error_with_a_did_you_mean(tmp_path):
    d = tomllib.loads((SPECS / "resolvers" / "home-leader.toml").read_text())
    d["system"]["homes"] = {"doc2.": "eu-west"}
    line = _error(tmp_path, d)
    assert "system.homes.doc2.: matches no key or row the workload writes; did you mean 'doc1.'?" in line
    assert "(keys: doc1.title)" in line and "remove the entry" in line


def test_a_prefix_naming_a_row_by_another_basis_says_which_home_by(tmp_path):
    d = data_of(BY_EMAIL)
    d["system"]["homes"]["users/carol"] = "us-east"
    line = _error(tmp_path, d)
    assert "system.homes.users/carol:" in line
    assert 'names a row of \'users\' by user; set [keys."users"] home_by = "user"' in line


def test_row_prefixes_on_a_table_without_home_by_say_how_to_home_rows(tmp_path):
    d = data_of(BY_USER)
    del d["keys"]["users"]["home_by"]
    line = _error(tmp_path, d)
    assert 'home_by = "user"' in line


def test_home_by_needs_a_prefix_matching_one_of_its_rows(tmp_path):
    d = data_of(BY_USER)
    d["system"]["homes"] = {}
    line = _error(tmp_path, d)
    assert "keys.users.home_by: no system.homes prefix matches a row of 'users' by user" in line
    assert '"users/alice" = "<leader>"' in line


@pytest.mark.parametrize("change,key,fragment", [
    (lambda d: d["keys"]["users"].update(home_by="usr"), "keys.users.home_by", "did you mean 'user'?"),
    (lambda d: d["keys"]["users"].update(home="eu-west"), "keys.users.home", "not both"),
    (lambda d: d.update(faults={"failovers": 1}), "faults.failovers", "per-row homes"),
    (lambda d: (d["keys"]["users"].update(type="pn-counter"), [o.pop("insert") and o.update(incr=1)
                                                              for o in d["workload"]]),
     "keys.users.home_by", 'only a table (type = "users") has rows'),
])
def test_bad_row_homes_name_the_key_and_the_fix(tmp_path, change, key, fragment):
    d = copy.deepcopy(data_of(BY_USER))
    change(d)
    line = _error(tmp_path, d)
    assert f": {key}: " in line and fragment in line, line


# ------------------------------------------------------------ the schema
def test_the_schema_knows_home_by_and_refuses_what_the_loader_refuses():
    validator = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
    key = SCHEMA["definitions"]["keyTable"]["properties"]["home_by"]
    assert key["enum"] == list(ROW_BASES)
    good = data_of(BY_USER)
    assert not list(validator.iter_errors(good))
    for bad in ({"type": "users", "home_by": "user", "home": "eu-west"},
                {"type": "pn-counter", "home_by": "user"},
                {"type": "users", "home_by": "usr"}):
        d = copy.deepcopy(good)
        d["keys"]["users"] = bad
        assert list(validator.iter_errors(d)), bad
