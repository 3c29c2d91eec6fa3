"""Issue 17, "Outcomes": `check --show-outcomes` lists the distinct ways a
run can end (each leader's values, and the ops local checks rejected),
each with one shortest run — known here by hand."""

import json

import jsonschema
from click.testing import CliRunner

from replcheck.checks import outcomes as oc
from replcheck.checks.cli import main
from replcheck.checks.verdict import load
from replcheck.model.system import System
from tests.conftest import ROOT, SPECS

SEED = SPECS / "seed" / "alice-bob-lww.toml"


def test_the_seed_ends_one_way_bob_everywhere_after_six_steps():
    system = System(load(SEED))
    o = oc.outcomes(system)
    assert o.complete and len(o.endings) == 1
    e = o.endings[0]
    assert {name: dict(kv)["doc1.title"] for name, kv in e.values} == {
        "us-east": '"Budget 2026 (US)"', "eu-west": '"Budget 2026 (US)"', "ap-south": '"Budget 2026 (US)"'}
    assert len(e.path) == 6 and e.rejected == ()   # 2 commits, 4 deliveries: the shortest quiescent run


def test_mv_register_ends_with_both_edits_as_siblings_or_bobs_alone():
    """Siblings when the edits were concurrent; Bob's alone when his write
    had seen Alice's (the seed gives no latency, so a delivery may come
    before his commit at 10 ms) and replaced it."""
    system = System(load(SEED, ["system.resolver=\"mv-register\""]))
    o = oc.outcomes(system)
    assert o.complete and len(o.endings) == 2
    shown = sorted(dict(e.values[0][1])["doc1.title"] for e in o.endings)
    assert shown == ['"Budget 2026 (US)"', '{"Budget 2026 (EU)", "Budget 2026 (US)"}']


def test_the_inventory_oversell_is_the_ending_where_no_sale_was_rejected():
    """One unit, two regions selling it under lww: a run ends with one sale
    refused (either one), or with both acknowledged — the oversell."""
    system = System(load(SPECS / "drills" / "inventory.toml"))
    o = oc.outcomes(system)
    assert o.complete
    assert sorted(e.rejected for e in o.endings) == [(), ("sale-eu",), ("sale-us",)]


def test_a_bound_cuts_the_list_and_says_so():
    o = oc.outcomes(System(load(SEED)), max_states=3)
    assert not o.complete and o.cut == "max_states"
    text = "\n".join(oc.render_text(System(load(SEED)), o))
    assert "incomplete: the exploration was cut by max_states" in text


def test_the_cli_text_and_json_and_the_schema():
    r = CliRunner().invoke(main, ["check", str(SEED), "--show-outcomes"])
    assert r.exit_code == 1 and "outcomes: 1 distinct way a run can end (every run explored)" in r.output
    j = CliRunner().invoke(main, ["check", str(SEED), "--show-outcomes", "--format", "json"])
    doc = json.loads(j.output)
    schema = json.loads((ROOT / "checks" / "schema" / "report.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["outcomes"]["endings"][0]["commits"] == ["alice", "bob"]
    bad = CliRunner().invoke(main, ["check", str(SEED), "--show-outcomes", "--format", "markdown"])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
