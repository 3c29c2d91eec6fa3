"""replcheck matrix: which resolver keeps which promise, per topology."""

from __future__ import annotations

import csv
import io
import json

import pytest

from replcheck.checks import matrix
from replcheck.checks.verdict import check, load
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import RESOLVERS

from conftest import SPECS

SEED = SPECS / "seed" / "alice-bob-lww.toml"
# Catalogue entries another issue adds; included when they exist.
OPTIONAL = [r for r in ("keep-local", "couchdb", "cassandra") if r in RESOLVERS]


@pytest.fixture(scope="module")
def seed_matrix():
    return matrix.run(SEED, ["lww", "mv-register", *OPTIONAL], ["all-to-all", "ring", "star"])


def test_matrix_pins_the_lecture_table(seed_matrix):
    m = seed_matrix
    for t in ("all-to-all", "ring", "star"):
        assert matrix.cell_text(m.result(t, "lww", "convergence")) == "holds"
        assert matrix.cell_text(m.result(t, "lww", "no-lost-writes")) == "VIOLATED lost-update"
        assert matrix.cell_text(m.result(t, "mv-register", "convergence")) == "holds"
        assert matrix.cell_text(m.result(t, "mv-register", "no-lost-writes")) == "holds"


def test_matrix_pins_the_catalogue_rows_a_lecturer_expects(seed_matrix):
    # keep-local diverges and loses Bob's or Alice's edit; CouchDB keeps the
    # loser as a _conflicts sibling (nothing lost); Cassandra is cell LWW.
    expected = {
        "keep-local": ("VIOLATED divergence", "VIOLATED lost-update"),
        "couchdb": ("holds", "holds"),
        "cassandra": ("holds", "VIOLATED lost-update"),
    }
    assert OPTIONAL == list(expected), "the catalogue has these three resolvers now"
    for r, (conv, lost) in expected.items():
        assert matrix.cell_text(seed_matrix.result("all-to-all", r, "convergence")) == conv
        assert matrix.cell_text(seed_matrix.result("all-to-all", r, "no-lost-writes")) == lost


def test_matrix_cells_agree_with_checking_each_combination(seed_matrix):
    # Every cell, including resolvers added later, is what `check --set` says.
    for (t, r), rep in seed_matrix.reports.items():
        if isinstance(rep, matrix.NotApplicable):
            continue
        overrides = [f"system.resolver={r}", f"system.topology={t}"] + (["system.hub=us-east"] if t == "star" else [])
        direct = check(load(SEED, overrides))
        assert [(x.invariant, x.verdict, x.anomaly) for x in rep.results] == \
               [(x.invariant, x.verdict, x.anomaly) for x in direct.results]


def test_matrix_text_is_one_table_resolvers_by_topology_and_invariant(seed_matrix):
    """Issue 16: one table, a row per resolver, a column per (topology,
    invariant) under a spanning topology header."""
    text = matrix.render_text(seed_matrix)
    lines = text.splitlines()
    assert lines[2].split() == ["all-to-all", "ring", "star", "(hub", "us-east)"]
    assert lines[3].split() == ["resolver"] + ["convergence", "no-lost-writes"] * 3
    lww = next(line for line in lines if line.startswith("  lww "))
    assert lww.split() == ["lww"] + ["holds", "VIOLATED", "lost-update"] * 3
    assert next(line for line in lines if line.startswith("  mv-register ")).split() == ["mv-register"] + ["holds"] * 6
    assert text.count("topology:") == 0


def test_matrix_markdown_links_each_violation_to_its_counterexample(seed_matrix):
    md = matrix.render_markdown(seed_matrix, matrix.counterexamples(seed_matrix))
    assert "| lww | holds | [**violated**: lost-update](#ring-lww-no-lost-writes) |" in md
    assert "| mv-register | holds | holds |" in md
    for t in ("all-to-all", "ring", "star"):
        assert f'<a id="{t}-lww-no-lost-writes"></a>' in md
    assert md.count("```mermaid") == sum(1 for rep in seed_matrix.checked()
                                         for r in rep.results if r.verdict == "violated")


def test_matrix_csv_and_json(seed_matrix):
    rows = list(csv.DictReader(io.StringIO(matrix.render_csv(seed_matrix))))
    assert len(rows) == 3 * len(seed_matrix.resolvers) * 2
    ring_lww = [r for r in rows if (r["topology"], r["resolver"], r["invariant"]) == ("ring", "lww", "no-lost-writes")]
    assert ring_lww[0]["verdict"] == "violated" and ring_lww[0]["anomaly"] == "lost-update"
    assert ring_lww[0]["steps"] == "8"
    data = json.loads(matrix.render_json(seed_matrix))
    assert data["resolvers"][:2] == ["lww", "mv-register"]
    assert {c["hub"] for c in data["cells"] if c["topology"] == "star"} == {"us-east"}


def test_star_hub_is_the_specs_own_else_the_first_leader():
    from replcheck.model.spec import parse_spec
    work = [{"leader": "a", "key": "k", "set": "x"}]
    spec = parse_spec({"system": {"leaders": ["b", "a"], "topology": "ring"}, "workload": work})
    assert spec.with_topology("star").hub == "b"
    assert matrix.combination(spec, "lww", "star").hub == "b"
    spec = parse_spec({"system": {"leaders": ["b", "a"], "topology": "star", "hub": "a"}, "workload": work})
    assert spec.with_topology("star").hub == "a"
    assert matrix.combination(spec, "lww", "ring").hub is None


def test_matrix_defaults_to_every_resolver_and_the_specs_topology():
    m = matrix.run(SPECS / "seed" / "alice-bob-mv-register.toml")
    assert m.resolvers == tuple(RESOLVERS) and m.topologies == ("all-to-all",)
    assert m.result("all-to-all", "lww", "no-lost-writes").verdict == "violated"
    # Resolvers that cannot take the seed's register writes are marked, with the reason, not run.
    text = matrix.render_text(m)
    for (t, r), rep in m.reports.items():
        if isinstance(rep, matrix.NotApplicable):
            assert any(line.startswith("  [") and f" {r}" in line and line.endswith(rep.reason)
                       for line in text.splitlines()), (r, rep.reason)


def test_a_combination_the_workload_does_not_fit_is_not_applicable(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text((SPECS / "seed" / "alice-bob-lww.toml").read_text())
    m = matrix.run(spec, ["lww"], ["all-to-all"])
    assert not any(isinstance(x, matrix.NotApplicable) for x in m.reports.values())
    with pytest.raises(SpecError, match="no combination can run this spec"):
        original = matrix.combination

        def refuse(path, resolver, topology):
            raise SpecError(str(path), "workload[0].set", "does not fit")
        matrix.combination = refuse
        try:
            matrix.run(spec, ["lww"], ["all-to-all"])
        finally:
            matrix.combination = original


def test_matrix_rejects_unknown_names():
    with pytest.raises(SpecError, match="--resolver: unknown 'lvw'; did you mean 'lww'"):
        matrix.run(SEED, ["lvw"])
    with pytest.raises(SpecError, match="custom needs the spec's own system.edges"):
        matrix.run(SEED, ["lww"], ["custom"])


def test_matrix_text_numbers_each_na_reason_once():
    m = matrix.run(SPECS / "seed" / "alice-bob-lww.toml", ["lww", "pn-counter"], ["all-to-all", "ring"])
    text = matrix.render_text(m)
    assert text.count("n/a [1]") == 4 and text.count("[1] pn-counter:") == 1
