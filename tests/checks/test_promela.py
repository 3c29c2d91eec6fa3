"""``replcheck export promela``: SPIN's verdict on the exported model agrees
with replcheck's, spec by spec (the seed specs in the exported subset and
generated ones), and what is outside the subset is refused in one line.

Each invariant gets its own model (``--invariant``), so that SPIN's first
assertion violation, or its exhaustive search without one, is that
invariant's verdict.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.checks.export_promela import check_exportable, export_promela
from replcheck.checks.verdict import check, load
from replcheck.model.errors import SpecError
from tests.conftest import SPECS, make_spec

SPIN, GCC = shutil.which("spin"), shutil.which("gcc") or shutil.which("cc")
needs_spin = pytest.mark.skipif(not (SPIN and GCC), reason="spin or a C compiler is not installed"
                                " (Debian: apt install spin gcc)")

INVARIANTS = ("convergence", "no-lost-writes")
REFUSED_SEEDS = {"ring-no-loop-prevention.toml": "system.loop_prevention"}


def spin_violated(text: str, work: Path) -> bool:
    """Run SPIN exhaustively on a model: is an assertion violated?"""
    work.mkdir(exist_ok=True)
    (work / "model.pml").write_text(text, encoding="utf-8")
    subprocess.run([SPIN, "-a", "model.pml"], cwd=work, check=True, capture_output=True)
    subprocess.run([GCC, "-O0", "-w", "-DSAFETY", "-o", "pan", "pan.c"], cwd=work, check=True, capture_output=True)
    out = subprocess.run(["./pan", "-m100000", "-w18"], cwd=work, capture_output=True, text=True, timeout=60).stdout
    assert "invalid end state" not in out.split("Full statespace")[0], out   # every process ends at quiescence
    assert "pan: xs" not in out and "reduction invalid" not in out, out
    assert "max search depth too small" not in out, out
    if "errors: 0" in out:
        return False
    assert "assertion violated" in out, out
    return True


def spin_violations(spec, tmp_path) -> set[str]:
    """The invariants SPIN finds violated, one model (and one pan) each, two at a time."""
    with ThreadPoolExecutor(2) as pool:
        done = {inv: pool.submit(spin_violated, export_promela(spec, [inv]), tmp_path / inv) for inv in INVARIANTS}
        return {inv for inv, f in done.items() if f.result()}


def replcheck_violations(spec) -> set[str]:
    report = check(spec, invariants=INVARIANTS)
    assert report.complete or report.cut is None
    return {r.invariant for r in report.results if r.verdict == "violated"}


def assert_agree(spec, tmp_path):
    assert spin_violations(spec, tmp_path) == replcheck_violations(spec)


SEEDS = sorted(p.name for p in (SPECS / "seed").glob("*.toml"))


@needs_spin
@pytest.mark.parametrize("name", [n for n in SEEDS if n not in REFUSED_SEEDS])
def test_spin_agrees_with_replcheck_on_seed_spec(name, tmp_path):
    assert_agree(load(SPECS / "seed" / name), tmp_path)


def _generated(seed: int):
    """2-3 leaders x 1-2 writes over the whole exported subset."""
    rng = random.Random(seed)
    while True:
        n = rng.choice([2, 3])
        leaders = [f"l{i}" for i in range(n)]
        system = {"topology": rng.choice(["all-to-all", "ring", "star"]),
                  "resolver": rng.choice(["lww", "lww", "mv-register"]),
                  "clock": rng.choice(["lamport", "wall", "hlc"])}
        if system["topology"] == "star":
            system["hub"] = rng.choice(leaders)
        system["loop_prevention"] = rng.choice(["origin", "visited"] if system["topology"] == "ring"
                                               else ["origin", "visited", "none"])
        if system["resolver"] == "lww":
            system["tie_break"] = rng.choice(["leader", "value", "incoming-loses"])
        if rng.random() < 0.4:
            system["offsets"] = {l: rng.randint(-3, 3) for l in leaders}
        ops = []
        for l in leaders:
            for j in range(rng.choice([1, 1, 2])):
                op = {"id": f"{l}-{j}", "leader": l, "key": rng.choice(["k", "k", "k", "j"])}
                if rng.random() < 0.15:
                    op["delete"] = True
                else:
                    op["set"] = rng.choice(["a", "b", l])
                if rng.random() < 0.5:
                    op["time_ms"] = rng.randint(0, 4)
                ops.append(op)
        if len(ops) > 5:
            continue
        if rng.random() < 0.3:
            a, b = rng.sample(ops, 2)
            if a["leader"] != b["leader"]:
                b["after"] = [a["id"]]
        try:
            spec = make_spec(leaders, ops, **system)
            check_exportable(spec)   # e.g. timed ops the export cannot order: draw again
            return spec
        except SpecError:
            continue


@needs_spin
@pytest.mark.parametrize("seed", range(8))
def test_spin_agrees_with_replcheck_on_generated_spec(seed, tmp_path):
    assert_agree(_generated(seed), tmp_path)


@needs_spin
def test_spin_finds_the_divergence_of_incoming_loses(tmp_path):
    # Tied lamport timestamps, and each leader keeps what it holds: they diverge.
    spec = make_spec(("a", "b"), [{"leader": "a", "key": "k", "set": "x"}, {"leader": "b", "key": "k", "set": "y"}],
                     clock="lamport", tie_break="incoming-loses")
    assert spin_violations(spec, tmp_path) == {"convergence", "no-lost-writes"}
    assert replcheck_violations(spec) == {"convergence", "no-lost-writes"}


@needs_spin
def test_spin_keeps_siblings_and_superseded_writes_apart(tmp_path):
    # b overwrites a after seeing it (superseded, not lost); c is concurrent (a sibling).
    spec = make_spec(("l0", "l1", "l2"),
                     [{"id": "a", "leader": "l0", "key": "k", "set": "a"},
                      {"id": "b", "leader": "l1", "key": "k", "set": "b", "after": ["a"]},
                      {"id": "c", "leader": "l2", "key": "k", "delete": True}],
                     topology="ring", resolver="mv-register")
    assert_agree(spec, tmp_path)


def test_export_states_the_subset_and_the_invariants():
    text = export_promela(load(SPECS / "seed" / "alice-bob-lww.toml"))
    assert "lww over wall (tie-break: leader)" in text
    assert text.count("assert(") == 2 and "timeout" in text


@pytest.mark.parametrize("overrides, key", [
    ({"topology": "custom", "edges": ["a -> b", "b -> a"]}, "system.topology"),
    ({"links": "unordered"}, "system.links"),
    ({"topology": "ring", "loop_prevention": "none"}, "system.loop_prevention"),
])
def test_export_refuses_what_it_does_not_cover(overrides, key):
    spec = make_spec(("a", "b"), [{"leader": "a", "key": "k", "set": "x"}], **overrides)
    with pytest.raises(SpecError, match=key) as e:
        export_promela(spec)
    assert "export promela covers" in str(e.value) and "\n" not in str(e.value)


def test_export_refuses_invariants_it_does_not_encode():
    spec = make_spec(("a", "b"), [{"leader": "a", "key": "k", "set": "x"}], invariants=["strong-convergence"])
    with pytest.raises(SpecError, match="check.invariants"):
        export_promela(spec)
    assert "convergence" in export_promela(spec, ["convergence"])


def test_cli_export_promela_writes_the_model(tmp_path):
    out = tmp_path / "m.pml"
    r = CliRunner().invoke(main, ["export", "promela", str(SPECS / "seed" / "alice-bob-mv-register.toml"),
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "active proctype monitor()" in out.read_text()


def test_cli_export_promela_refuses_faults_in_one_line():
    r = CliRunner().invoke(main, ["export", "promela", str(SPECS / "faults" / "ring-crash.toml")])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "ring-crash.toml: faults:" in lines[0] and "export promela covers" in lines[0]


@pytest.mark.parametrize("name", sorted(REFUSED_SEEDS))
def test_seed_outside_the_subset_is_refused(name):
    with pytest.raises(SpecError, match=REFUSED_SEEDS[name]):
        export_promela(load(SPECS / "seed" / name))


@pytest.mark.parametrize("extra", [
    {"keys": {"k": {"type": "pn-counter"}}, "op": {"incr": 1}},
    {"keys": {"k": {"type": "register", "resolver": "keep-local"}}, "op": {"set": "x"}},
    {"keys": {}, "op": {"insert": "x"}},
])
def test_export_refuses_keys_and_ops_outside_the_subset(extra):
    # Regression (the differential oracle, docs/trust.md): a spec whose key
    # was a counter or another resolver's register was exported as an lww
    # register, and SPIN then "found" a violation replcheck rightly did not.
    from replcheck.model import parse_spec
    from replcheck.checks.invariants import INVARIANTS
    data = {"system": {"leaders": ["a", "b"], "resolver": "lww"},
            "workload": [{"leader": "a", "key": "k", **extra["op"]}]}
    if extra["keys"]:
        data["keys"] = extra["keys"]
    with pytest.raises(SpecError):
        check_exportable(parse_spec(data, "<test>", INVARIANTS))
