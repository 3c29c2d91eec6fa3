"""`replcheck smt laws`: the proved / counterexample split of every merge."""

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.smt.laws import check_laws, encoding_for, load_custom, relaxed
from tests.conftest import ROOT

MERGES = ROOT / "queries" / "merges"

PROVED = ["max", "min", "union", "g-counter", "pn-counter", "or-set", "2p-set", "lww-element-set", "escrow",
          "mv-register", "first-writer-wins", "cassandra", "pgd", "riak", "riak-lww", "dynamodb-global-tables",
          "couchdb", "goldengate-usemax", "goldengate-usemin"]


@pytest.mark.parametrize("name", PROVED)
def test_crdt_and_join_merges_are_proved(name):
    r = check_laws(encoding_for(name))
    assert r.proved, [l for l in r.laws if not l.proved]


@pytest.mark.parametrize("tie", ["leader", "value"])
def test_lww_with_a_total_tie_break_is_proved(tie):
    assert check_laws(encoding_for("lww", tie)).proved


def _failed(r):
    return {l.law: l for l in r.laws if not l.proved}


@pytest.mark.parametrize("name,law", [("keep-local", "commutativity"), ("apply-remote", "commutativity"),
                                      ("cockroachdb", "commutativity"),
                                      ("pglogical-last-update-wins", "commutativity"),
                                      ("pglogical-first-update-wins", "commutativity"),
                                      ("sqlserver-p2p", "commutativity")])
def test_one_sided_merges_are_not_commutative(name, law):
    r = check_laws(encoding_for(name))
    assert set(_failed(r)) == {law}


def test_lww_incoming_loses_fails_commutativity_on_equal_timestamps():
    bad = _failed(check_laws(encoding_for("lww", "incoming-loses")))
    assert set(bad) == {"commutativity"}
    c = bad["commutativity"]
    a, b = dict(c.states)["a"], dict(c.states)["b"]
    # the two states tie on ts and come from different leaders
    assert a.split(",")[0] == b.split(",")[0] and c.left[1] != c.right[1]
    assert c.left[1] == a and c.right[1] == b     # each side keeps what it held


def test_sum_is_commutative_and_associative_but_not_idempotent():
    bad = _failed(check_laws(encoding_for("sum")))
    assert set(bad) == {"idempotence"}
    c = bad["idempotence"]
    a = int(dict(c.states)["a"])
    assert int(c.left[1]) == 2 * a != a and int(c.right[1]) == a


def test_mv_register_needs_antichain_states():
    # Without the well-formedness (no sibling dominated by another), merging
    # a state with itself would drop the dominated sibling: the condition is
    # what makes idempotence hold, not an accident.
    assert "idempotence" in _failed(check_laws(relaxed(encoding_for("mv-register"))))
    # and lww with a leader tie-break needs "one leader never reuses a timestamp"
    assert "commutativity" in _failed(check_laws(relaxed(encoding_for("lww", "leader"))))


def test_custom_merges_from_toml():
    assert set(_failed(check_laws(load_custom(MERGES / "sum.toml")))) == {"idempotence"}
    assert check_laws(load_custom(MERGES / "larger.toml")).proved
    bad = _failed(check_laws(load_custom(MERGES / "prefer-local-when-close.toml")))
    assert "commutativity" in bad
    c = bad["commutativity"]
    a, b = int(dict(c.states)["a"]), int(dict(c.states)["b"])
    assert a >= 0 and b >= 0 and abs(a - b) <= 10 and a != b


def test_custom_merge_errors_name_file_and_key(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('merge = "max(local, remote"\n')
    res = CliRunner().invoke(main, ["smt", "laws", str(p)])
    assert res.exit_code == 2 and f"{p}: merge: expected ')'" in res.output
    p.write_text('merge = "__import__(local)"\n')
    res = CliRunner().invoke(main, ["smt", "laws", str(p)])
    assert res.exit_code == 2 and "unknown function '__import__'" in res.output
    p.write_text('merge = "local and remote"\n')
    assert CliRunner().invoke(main, ["smt", "laws", str(p)]).exit_code == 2


def test_cli_exit_codes_and_counterexample_text():
    ok = CliRunner().invoke(main, ["smt", "laws", "or-set"])
    assert ok.exit_code == 0 and ok.output.count("proved") >= 3
    bad = CliRunner().invoke(main, ["smt", "laws", "keep-local"])
    assert bad.exit_code == 1 and "merge(a, b) =" in bad.output and "merge(b, a) =" in bad.output
    unknown = CliRunner().invoke(main, ["smt", "laws", "lvw"])
    assert unknown.exit_code == 2 and "did you mean 'lww'" in unknown.output


def test_every_catalogue_resolver_has_a_law_encoding():
    from replcheck.model.resolvers import RESOLVERS
    from replcheck.checks.smt.laws import NAMES
    assert sorted(set(RESOLVERS) - set(NAMES)) == []
