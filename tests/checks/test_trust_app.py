"""Trust in application verdicts: the matrix runs the resolver it names,
drill answers keep every key setting, CouchDB accepts an insert of a row it
does not show, and a ``holds`` that only held because nothing it guards
happened says so (docs/model.md "Vacuity").

Each test fails on the code before its fix (the reproducers in
``/work/shared/repro/README.md`` and ``specs/regressions/``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replcheck.checks import drill, matrix, vacuity
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.render_json import render as render_json
from replcheck.checks.render_text import render as render_text
from replcheck.checks.verdict import HOLDS, VIOLATED, Options, check, load
from replcheck.model import state as st
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import RESOLVERS
from replcheck.model.resolvers.base import is_accepted
from replcheck.model.resolvers.local_checks import shows_row
from replcheck.model.system import System

ROOT = Path(__file__).resolve().parents[2]
REG = ROOT / "specs" / "regressions"
RES = ROOT / "specs" / "resolvers"
DRILLS = ROOT / "specs" / "drills"


def verdicts(report):
    return [(r.invariant, r.verdict, r.anomaly) for r in report.results]


def spec_from_text(tmp_path, text: str, name: str = "s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load(p)


# ------------------------------------------------- 1. matrix runs the named type
def test_matrix_rows_equal_a_direct_check_of_each_type_on_a_counter_spec(tmp_path):
    """counter-lww-rmw declares its key an lww register: the pn-counter and
    g-counter rows must run those counters (independently written specs),
    not the key's own lww type."""
    m = matrix.run(RES / "counter-lww-rmw.toml", resolvers=["lww", "pn-counter", "g-counter"])
    pn_text = (RES / "counter-pn.toml").read_text()
    direct = {
        "lww": check(load(RES / "counter-lww-rmw.toml")),
        "pn-counter": check(load(RES / "counter-pn.toml")),
        "g-counter": check(spec_from_text(tmp_path, pn_text.replace('type = "pn-counter"', 'type = "g-counter"'))),
    }
    for r, want in direct.items():
        assert verdicts(m.report("all-to-all", r)) == verdicts(want), r
    # The rows really differ: each ran its own type on the key...
    entries = {r: m.report("all-to-all", r).spec.keys[0].entry for r in direct}
    assert entries == {"lww": "lww", "pn-counter": "pn-counter", "g-counter": "g-counter"}
    kinds = {type(System(m.report("all-to-all", r).spec).types[0]).__name__ for r in direct}
    assert len(kinds) >= 2
    # ... and the verdicts show it: lww loses increments, the counters do not.
    assert m.result("all-to-all", "lww", "no-lost-writes").verdict == VIOLATED
    assert m.result("all-to-all", "pn-counter", "no-lost-writes").verdict == HOLDS
    assert m.result("all-to-all", "g-counter", "no-lost-writes").verdict == HOLDS


def test_matrix_lww_row_on_a_declared_pn_counter_loses_increments():
    m = matrix.run(RES / "counter-pn.toml", resolvers=["lww", "pn-counter"])
    assert verdicts(m.report("all-to-all", "lww")) == verdicts(check(load(RES / "counter-lww-rmw.toml")))
    assert m.result("all-to-all", "lww", "no-lost-writes").anomaly == "lost-update"
    assert m.result("all-to-all", "pn-counter", "no-lost-writes").verdict == HOLDS


def test_matrix_regression_spec_rows_match_hand_written_specs(tmp_path):
    path = REG / "matrix-counter-key-type.toml"
    text = path.read_text()
    own = 'type = "g-counter"'
    tables = {"lww": 'type = "register"\nresolver = "lww"', "pn-counter": 'type = "pn-counter"',
              "g-counter": own, "escrow": 'type = "escrow"'}
    m = matrix.run(path, resolvers=[*tables, "mv-register"])
    for r, table in tables.items():
        want = check(spec_from_text(tmp_path, text.replace(own, table), f"{r}.toml"))
        assert verdicts(m.report("all-to-all", r)) == verdicts(want), r
        assert m.report("all-to-all", r).spec.keys[0].entry == r
    # mv-register takes no incr: n/a with the reason, never a silently different run.
    na = m.report("all-to-all", "mv-register")
    assert isinstance(na, matrix.NotApplicable) and "takes set, delete, resolve, not incr" in na.reason
    assert any(line.startswith("  [") and " mv-register" in line and "workload[0].incr" in line
               for line in matrix.render_text(m).splitlines())   # the n/a reason, numbered once under the table


def test_matrix_keeps_key_settings_the_new_type_takes():
    kt = {"type": "escrow", "initial": 3, "rights": {"us-east": 3}, "home": "us-east"}
    assert matrix.retype(kt, RESOLVERS["escrow"]) == {"type": "escrow", "initial": 3, "rights": {"us-east": 3},
                                                     "home": "us-east"}
    assert matrix.retype(kt, RESOLVERS["pn-counter"]) == {"type": "pn-counter", "initial": 3, "home": "us-east"}
    assert matrix.retype({"initial": "2", "delete_rule": "delete-wins"}, RESOLVERS["lww"]) == \
        {"type": "register", "resolver": "lww", "initial": "2", "delete_rule": "delete-wins"}
    assert matrix.retype({"type": "register", "initial": "2"}, RESOLVERS["g-counter"]) == \
        {"type": "g-counter", "initial": 2}


def test_matrix_on_a_spec_whose_only_key_is_a_users_table_is_not_applicable():
    """No resolver runs on a users table: every row would be the spec as
    written, so the matrix refuses instead of printing identical rows."""
    with pytest.raises(SpecError, match="users table"):
        matrix.run(DRILLS / "user-auth.toml", resolvers=["lww", "mv-register"])


# --------------------------------------------- 2. drill answers keep key settings
def test_escrow_answer_keeps_the_drills_rights():
    d = drill.load_drill(REG / "drill-escrow-rights.toml")
    a = drill.parse_answer({"drill": d.name, "topology": "all-to-all", "resolver": "escrow", "defense": "rights"})
    assert drill.compose(d, a)["keys"]["item:42.stock"]["rights"] == {"eu-west": 1}
    o = drill.check_answer(d, a)
    # The unit's rights are eu-west's: its sale is accepted, us-east's refused in every run.
    assert o.rejected == {"sale-us": "always"}
    assert o.passed
    assert "sale-us is rejected in every run" in drill.render_check(o)


def test_pn_counter_answer_drops_rights_it_cannot_take():
    d = drill.load_drill(REG / "drill-escrow-rights.toml")
    a = drill.parse_answer({"drill": d.name, "topology": "all-to-all", "resolver": "pn-counter", "defense": "x"})
    assert drill.compose(d, a)["keys"]["item:42.stock"] == {"type": "pn-counter", "initial": 1}


# ------------------------------------------------------ 3. CouchDB insert
def test_couchdb_insert_of_a_row_its_leader_does_not_show_is_accepted():
    rep = check(load(REG / "couchdb-insert-accepted.toml"))
    assert verdicts(rep) == [("email-unique", VIOLATED, "duplicate-email"), ("no-lost-writes", HOLDS, None),
                             ("convergence", HOLDS, None)]
    assert all(r.vacuous is None for r in rep.results)


def test_couchdb_unique_check_reads_the_winner():
    spec = load(REG / "couchdb-insert-accepted.toml")
    system = System(spec)
    inner = system.types[list(system.keys).index("users/alice@example.com")].inner
    empty = (None,) * system.nops
    op = system.ops[0]
    assert not inner.unique_conflict(op, (), empty)           # no document: the insert is accepted
    assert not shows_row(inner, (), empty)
    writes = list(empty)
    writes[1] = (2, 0)
    assert inner.unique_conflict(op, (1,), tuple(writes))     # a live document: 409, rejected
    assert shows_row(inner, (1,), tuple(writes))


def test_couchdb_shows_an_initial_row_and_refuses_an_insert_over_it():
    """A key with an initial value is a row that exists before any write:
    CouchDB shows it and refuses a create over it, as every register does."""
    m = matrix.run(REG / "vacuous-all-inserts-rejected.toml", resolvers=["lww", "couchdb"])
    for r in ("lww", "couchdb"):
        rep = m.report("all-to-all", r)
        assert [(x.verdict, x.vacuous is not None) for x in rep.results] == [(HOLDS, True)] * 3, r
    system = System(m.report("all-to-all", "couchdb").spec)
    assert str(system.types[0].inner.visible((), (None,) * system.nops)) == '"legacy-alice"'


def test_drill_solve_no_longer_offers_couchdb_as_a_cheap_pass():
    d = drill.find_drill("user-auth")
    cells = drill.solve(d, topologies=["all-to-all"], resolvers=["couchdb"], routings=["none"])
    by_email = [c for c in cells if c.answer.layout == "by-email"]
    assert [(c.verdict, c.failed) for c in by_email] == [("fail", ("email-unique",))]
    assert not any(c.verdict == "pass" for c in cells)


# ---------------------------------------------------------------- 4. vacuity
def test_every_invariant_declares_what_it_guards():
    assert set(vacuity.GUARDS) == set(INVARIANTS)


def test_all_inserts_rejected_reads_vacuous():
    rep = check(load(REG / "vacuous-all-inserts-rejected.toml"))
    assert [r.verdict for r in rep.results] == [HOLDS] * 3
    by = {r.invariant: r.vacuous for r in rep.results}
    assert by["email-unique"].startswith("no insert was accepted in any explored run")
    assert "alice-us, alice-eu" in by["email-unique"] and "rejected" in by["email-unique"]
    assert by["no-lost-writes"].startswith("no write was accepted")
    text = render_text(rep)
    assert "email-unique    holds (vacuous: no insert was accepted" in text
    doc = json.loads(render_json([rep]))
    assert [r["vacuous"] for r in doc["results"]] == [by[r["invariant"]] for r in doc["results"]]


def test_json_with_vacuous_validates_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "checks" / "schema" / "report.schema.json").read_text())
    for path in (REG / "vacuous-all-inserts-rejected.toml", ROOT / "specs" / "seed" / "alice-bob-lww.toml"):
        jsonschema.validate(json.loads(render_json([check(load(path))])), schema)


def test_accepted_inserts_are_not_vacuous():
    # CouchDB after the fix: inserts are accepted, and no-lost-writes / convergence hold for real.
    rep = check(load(REG / "couchdb-insert-accepted.toml"))
    assert [r.vacuous for r in rep.results] == [None, None, None]
    # Routed to one home, the users table keeps emails unique, and inserts do commit there.
    d = drill.find_drill("user-auth")
    a = drill.parse_answer({"drill": "user-auth", "topology": "all-to-all", "resolver": "lww",
                            "routing": "home-leader", "home_by": "key", "defense": "one home"})
    o = drill.check_answer(d, a)
    assert o.passed and all(r.verdict == HOLDS and r.vacuous is None for r in o.report.results)


def test_a_drill_answer_whose_guarded_ops_are_all_rejected_does_not_pass():
    d = drill.load_drill(REG / "vacuous-drill-escrow-no-rights.toml")
    a = drill.parse_answer({"drill": d.name, "topology": "all-to-all", "resolver": "escrow", "defense": "rights"})
    o = drill.check_answer(d, a)
    assert all(r.verdict == HOLDS for r in o.report.results)     # true, but says nothing
    assert not o.passed and o.vacuous
    assert o.rejected == {"sale-us": "always", "sale-eu": "always"}
    out = drill.render_check(o)
    assert "VACUOUS  stock-non-negative" in out and "no sale was accepted" in out
    assert "PASS" not in out.replace("no PASS", "")
    cells = drill.solve(d, topologies=["all-to-all"], resolvers=["escrow"])
    assert [c.verdict for c in cells] == ["vacuous"]
    assert drill.cell_text(cells[0]).startswith("vacuous: stock-non-negative")


def test_vacuity_of_causal_order_needs_a_write_with_a_predecessor(tmp_path):
    single = spec_from_text(tmp_path, """
name = "one-write"
[system]
leaders = ["us-east", "eu-west"]
[[workload]]
id = "w"
leader = "us-east"
key = "k"
set = "v"
[check]
invariants = ["causal-order", "convergence"]
""")
    by = {r.invariant: (r.verdict, r.vacuous) for r in check(single).results}
    assert by["causal-order"][0] == HOLDS and "happens-before predecessor" in by["causal-order"][1]
    assert by["convergence"] == (HOLDS, None)      # the write commits: convergence is exercised
    ring = check(load(ROOT / "specs" / "app" / "ddia-insert-update-ring.toml"))
    assert [(r.invariant, r.verdict, r.vacuous) for r in ring.results] == \
        [("causal-order", HOLDS, None), ("convergence", HOLDS, None)]


@pytest.mark.parametrize("path", [
    "specs/regressions/vacuous-all-inserts-rejected.toml", "specs/regressions/vacuous-drill-escrow-no-rights.toml",
    "specs/regressions/couchdb-insert-accepted.toml", "specs/seed/alice-bob-mv-register.toml",
    "specs/seed/alice-bob-lww-ring.toml", "specs/resolvers/escrow-stock.toml", "specs/drills/notes.toml",
    "specs/app/ddia-insert-update-star.toml",
])
def test_vacuity_is_the_same_with_and_without_reductions(path):
    """The reductions judge the same quiescent states (docs/reductions.md),
    so the vacuity found over them is the same; dfs agrees."""
    spec = load(ROOT / path)
    plain = Options(por=False, dead_variables=False, symmetry=False)
    got = [(r.invariant, r.verdict, r.vacuous) for r in check(spec).results]
    assert got == [(r.invariant, r.verdict, r.vacuous) for r in check(spec, options=plain).results]
    assert got == [(r.invariant, r.verdict, r.vacuous) for r in check(spec, engine="dfs").results]


def test_vacuous_agrees_with_a_plain_exploration_of_accepted_ops():
    """Independent of the search: explore every reachable state of the plain
    system and ask whether a guarded op is ever accepted."""
    for path in ("vacuous-all-inserts-rejected.toml", "couchdb-insert-accepted.toml",
                 "vacuous-drill-escrow-no-rights.toml", "drill-escrow-rights.toml"):
        spec = load(REG / path)
        system = System(spec)
        seen, todo, accepted = {system.initial_state()}, [system.initial_state()], 0
        while todo:
            s = todo.pop()
            for i, meta in enumerate(st.writes(s)):
                if is_accepted(meta):
                    accepted |= 1 << i
            for _, t in system.successors(s):
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        for r in check(spec).results:
            ops = vacuity.guarded_ops(system, vacuity.GUARDS[r.invariant])
            happened = any((accepted >> i) & 1 for i in ops)
            assert (r.vacuous is None) == happened, (path, r.invariant)


def test_simulation_and_incomplete_results_never_claim_vacuity():
    spec = load(REG / "vacuous-all-inserts-rejected.toml")
    rep = check(spec, options=Options(simulate=5, seed=1))
    assert all(r.verdict != HOLDS and r.vacuous is None for r in rep.results)


def test_expect_pins_vacuity_both_ways():
    """[expect] "holds" is a real holds; "holds:vacuous" one where nothing
    guarded happened (docs/spec-format.md); each fails on the other."""
    from replcheck.checks.verdict import check, load, meets
    from replcheck.model.spec import Expectation
    from tests.conftest import SPECS
    report = check(load(SPECS / "regressions" / "vacuous-all-inserts-rejected.toml"))
    r = next(x for x in report.results if x.invariant == "email-unique")
    assert r.vacuous
    assert meets(r, Expectation("holds", "vacuous"))
    assert not meets(r, Expectation("holds"))
    real = next(x for x in check(load(SPECS / "seed" / "alice-bob-lww.toml")).results if x.invariant == "convergence")
    assert real.verdict == "holds" and not real.vacuous
    assert meets(real, Expectation("holds")) and not meets(real, Expectation("holds", "vacuous"))
