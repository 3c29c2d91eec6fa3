"""replcheck conform without servers: the schedules, the runner, the
verdicts and the command, against a simulated pglogical (tests/checks/conform/sim.py)
that states pglogical's apply rules independently of the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from replcheck import load
from replcheck.checks.cli import main
from replcheck.checks.conform import run as conform_run
from replcheck.checks.conform.render import render
from replcheck.checks.conform.run import AGREE, DISAGREE, INCONCLUSIVE, applicable, conform, exit_code
from replcheck.checks.conform.schedules import canonical, enumerate_schedules, macro_steps
from replcheck.checks.conform.target import Committed, Setup
from replcheck.model import state as st
from replcheck.model.errors import SpecError
from replcheck.model.system import System
from tests.checks.conform.sim import SimPglogical

ROOT = Path(__file__).resolve().parents[3]
CONFORMANCE = sorted((ROOT / "specs" / "conformance" / "pglogical").glob("*.toml"))
PRESET_3 = str(ROOT / "specs" / "resolvers" / "presets" / "pglogical-last-update-wins.toml")


def _started(spec, target):
    system = System(spec)
    target.start(Setup(system.leaders, tuple((system.leaders[a], system.leaders[b]) for a, b in system.edges),
                       applicable(spec, "pglogical"),
                       {n: o for n, o in zip(system.leaders, system.offsets) if o}, system.keys))
    return target


def _run(path, target=None, **kw):
    spec = load(str(path))
    target = target or SimPglogical()
    return conform(spec, "pglogical", target_obj=_started(spec, target), **kw)


# ------------------------------------------------------------------ schedules
def test_the_seed_on_three_nodes_has_40_runs_all_executable_in_4_classes():
    e = enumerate_schedules(System(load(PRESET_3)))
    assert (e.model_runs, e.executable_runs, len(e.schedules), e.cut) == (40, 40, 4, None)


def test_a_run_that_delivers_part_of_a_queue_is_not_executable():
    # create and alice both queue on n1 -> n2: a model run delivering create alone while alice is
    # already queued is not executable (enabling a subscription streams both).
    system = System(load(str(CONFORMANCE[0].parent / "update-update-last-update-wins.toml")))
    e = enumerate_schedules(system)
    assert e.executable_runs < e.model_runs
    for sched in e.schedules:
        for step, before, after in zip(sched.steps, sched.states, sched.states[1:]):
            if step.kind == "deliver":
                j = system.edges.index((system.leaders.index(step.src), system.leaders.index(step.leader)))
                assert step.count == len(st.link(before, j)) and not st.link(after, j)


def test_every_executable_run_is_represented_by_a_listed_schedule():
    """Completeness of the dedupe: walk every executable run by brute force."""
    for path in (PRESET_3, str(CONFORMANCE[0].parent / "update-delete-keep-local.toml")):
        system = System(load(path))
        listed = {canonical(system, s.steps) for s in enumerate_schedules(system).schedules}
        runs = 0

        def walk(state, steps):
            nonlocal runs
            options = macro_steps(system, state)
            if not options:
                if not system.successors(state):
                    runs += 1
                    assert canonical(system, steps) in listed
                return
            for step, nxt in options:
                walk(nxt, steps + [step])

        walk(system.initial_state(), [])
        assert runs == enumerate_schedules(system).executable_runs


def test_swapping_independent_steps_keeps_the_class_and_dependent_ones_do_not():
    system = System(load(PRESET_3))
    sched = enumerate_schedules(system).schedules[0]
    steps = list(sched.steps)
    # the last two deliveries go to different leaders from different senders: independent
    pairs = [(i, i + 1) for i in range(len(steps) - 1)
             if steps[i].kind == steps[i + 1].kind == "deliver" and steps[i].leader != steps[i + 1].leader
             and steps[i].src != steps[i + 1].leader and steps[i + 1].src != steps[i].leader]
    assert pairs
    i, j = pairs[0]
    swapped = steps[:i] + [steps[j], steps[i]] + steps[j + 1:]
    assert canonical(system, swapped) == canonical(system, steps)
    commit_then_flush = [k for k in range(len(steps) - 1) if steps[k].kind == "commit"
                         and steps[k + 1].kind == "deliver" and steps[k + 1].src == steps[k].leader]
    for k in commit_then_flush:
        swapped = steps[:k] + [steps[k + 1], steps[k]] + steps[k + 2:]
        assert canonical(system, swapped) != canonical(system, steps)


def test_runs_samples_reproducibly():
    system = System(load(PRESET_3))
    a = enumerate_schedules(system, runs=3, seed=7)
    b = enumerate_schedules(system, runs=3, seed=7)
    assert [[s.text for s in x.steps] for x in a.schedules] == [[s.text for s in x.steps] for x in b.schedules]
    assert 1 <= len(a.schedules) <= 3


def test_a_cut_list_says_which_bound():
    e = enumerate_schedules(System(load(PRESET_3)), limit=2)
    assert len(e.schedules) == 2 and e.cut == "max-schedules (2)"


# --------------------------------------------------------------------- runner
@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.stem)
def test_every_conformance_spec_agrees_with_the_simulated_pglogical(path):
    c = _run(path)
    assert c.outcomes and c.count(AGREE) == len(c.outcomes), render(c, "text")
    assert exit_code(c) == 0


def test_the_three_node_divergence_is_what_the_simulation_does_too():
    c = _run(PRESET_3)
    ends = {tuple(sorted(o.observations[-1].observed["ap-south"].items())) for o in c.outcomes}
    assert (("doc1.title", "Budget 2026 (EU)"),) in ends    # the UPDATE that reached ap-south first was skipped
    assert exit_code(c) == 0


@pytest.mark.parametrize("bug,path", [
    ("update-of-missing-row-applies", PRESET_3),
    ("update-of-missing-row-applies", str(ROOT / "specs/conformance/pglogical/delete-update-apply-remote.toml")),
    ("keep-local-applies", str(ROOT / "specs/conformance/pglogical/update-update-keep-local.toml")),
])
def test_a_seeded_product_bug_is_a_disagreement(bug, path):
    c = _run(path, SimPglogical(bug=bug))
    assert c.count(DISAGREE) >= 1 and exit_code(c) == 1
    bad = next(o for o in c.outcomes if o.verdict == DISAGREE)
    first = bad.observations[bad.first_difference]
    assert first.model != first.observed
    text = render(c, "text")
    assert "DISAGREE" in text and "<- differs" in text
    if bug == "keep-local-applies":
        assert "conflict log:" in text and "Resolution: apply_remote" in text


class _Reversed(SimPglogical):
    """Commit timestamps that run backwards: the model's order is not reproduced."""

    def commit(self, leader, op):
        done = super().commit(leader, op)
        return Committed(done.rows, done.error, None if done.commit_ts_ms is None else -done.commit_ts_ms)


def test_timestamps_in_the_other_order_make_a_schedule_inconclusive_not_a_verdict():
    c = _run(ROOT / "specs/conformance/pglogical/update-update-last-update-wins.toml", _Reversed())
    assert c.count(INCONCLUSIVE) == len(c.outcomes) and exit_code(c) == 3
    assert "other order" in c.outcomes[0].reason


def test_modes_without_timestamps_do_not_need_the_timing():
    c = _run(ROOT / "specs/conformance/pglogical/update-update-apply-remote.toml", _Reversed())
    assert c.count(AGREE) == len(c.outcomes)


class _Interrupting(SimPglogical):
    def deliver(self, src, dst):
        raise KeyboardInterrupt


def test_ctrl_c_returns_a_partial_honest_result():
    c = _run(PRESET_3, _Interrupting())
    assert c.interrupted and c.cut == "interrupted" and exit_code(c) == 3


def test_the_client_reply_is_compared_too():
    class _NoDuplicateKey(SimPglogical):
        def commit(self, leader, op):
            if op.kind == "insert":
                self.rows[leader].pop(op.key, None)
            return super().commit(leader, op)
    c = _run(ROOT / "specs/conformance/pglogical/insert-insert-keep-local.toml", _NoDuplicateKey())
    bad = [o for o in c.outcomes if o.verdict == DISAGREE]
    assert bad
    assert any(ob.model_refused is True and ob.observed_refused is False for o in bad for ob in o.observations)


# -------------------------------------------------------------------- renders
def test_json_and_markdown_carry_the_verdicts():
    c = _run(PRESET_3, SimPglogical(bug="update-of-missing-row-applies"))
    d = json.loads(render(c, "json"))
    assert d["disagree"] == c.count(DISAGREE) and d["schedules"] == 4 and d["model_runs"] == 40
    assert {o["verdict"] for o in d["outcomes"]} == {"agree", "disagree"}
    md = render(c, "markdown")
    assert "| # | verdict |" in md and "## Schedule" in md


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("sets,key", [
    (["system.resolver=lww"], "system.resolver"),
    (["system.topology=ring"], "system.topology"),
    (["system.links=unordered"], "system.links"),
    (["faults.crashes=1"], "faults.crashes"),
])
def test_what_the_target_cannot_execute_is_one_line_naming_the_key(sets, key):
    args = ["conform", PRESET_3, "--target", "pglogical"] + [x for s in sets for x in ("--set", s)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert key in r.output and len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output


def test_a_malformed_dsn_is_bad_input():
    r = CliRunner().invoke(main, ["conform", PRESET_3, "--target", "pglogical", "--dsn", "nowhere"])
    assert r.exit_code == 2 and "LEADER=DSN" in r.output


def test_an_unavailable_target_exits_3_with_one_line(monkeypatch):
    monkeypatch.setitem(conform_run.TARGETS, "pglogical",
                        ("replcheck.checks.conform.targets.no_such_module", "X"))
    r = CliRunner().invoke(main, ["conform", PRESET_3, "--target", "pglogical"])
    assert r.exit_code == 3 and "replcheck[conform]" in r.output and "Traceback" not in r.output


def test_the_command_runs_end_to_end_on_the_simulated_target(monkeypatch):
    import sys
    import types
    mod = types.ModuleType("replcheck_test_sim_target")
    mod.SimPglogical = SimPglogical
    monkeypatch.setitem(sys.modules, "replcheck_test_sim_target", mod)
    monkeypatch.setitem(conform_run.TARGETS, "pglogical",
                        ("replcheck_test_sim_target", "SimPglogical"))
    r = CliRunner().invoke(main, ["conform", PRESET_3, "--target", "pglogical", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["agree"] == 4


def test_the_observed_table_is_validated():
    from replcheck.checks.conform.observed import observed
    spec = load(PRESET_3)
    assert observed(spec) is None
    bad = load(PRESET_3, ['observed.target="mysql"'])
    with pytest.raises(SpecError, match="observed"):
        observed(bad)


def test_target_ops_follow_sql():
    system = System(load(str(ROOT / "specs/conformance/pglogical/update-delete-keep-local.toml")))
    kinds = [conform_run.target_op(system, i).kind for i in range(system.nops)]
    assert kinds == ["insert", "update", "delete"]
    assert conform_run.target_op(System(load(PRESET_3)), 0).kind == "upsert"


def test_applicable_names_the_mode():
    assert applicable(load(PRESET_3), "pglogical") == "last_update_wins"
    with pytest.raises(SpecError, match="--target"):
        applicable(load(PRESET_3), "mysql")


# ------------------------------------------------------ explain --observed
@pytest.fixture
def sim_target(monkeypatch):
    import sys
    import types
    mod = types.ModuleType("replcheck_test_sim_target")
    mod.SimPglogical = SimPglogical
    monkeypatch.setitem(sys.modules, "replcheck_test_sim_target", mod)
    monkeypatch.setitem(conform_run.TARGETS, "pglogical", ("replcheck_test_sim_target", "SimPglogical"))


def test_explain_observed_adds_what_the_product_did(sim_target):
    path = str(ROOT / "specs/conformance/pglogical/update-skew-last-update-wins.toml")
    r = CliRunner().invoke(main, ["explain", path, "--invariant", "convergence", "--observed", "pglogical"])
    assert r.exit_code == 0, r.output   # explain: the artefact is written (README "Exit codes")
    assert "## Observed on simulated pglogical" in r.output
    assert "The product does exactly what the model says at every step" in r.output
    assert "| step | event | model n1 | observed n1 |" in r.output
    h = CliRunner().invoke(main, ["explain", path, "--invariant", "convergence", "--observed", "pglogical",
                                  "--format", "html"])
    assert h.exit_code == 0 and '<section class="observed">' in h.output and h.output.index("observed") < \
        h.output.index("</main>")


def test_a_trace_that_splits_a_queue_is_not_run_and_says_why():
    from replcheck.checks.conform.observe import schedule_of_trace
    from replcheck.checks.trace import build_trace
    spec = load(str(ROOT / "specs/conformance/pglogical/update-update-last-update-wins.toml"))
    system = System(spec)
    # create, alice (both queued on n1 -> n2), deliver create only, then bob
    s = system.initial_state()
    path = []
    for want in ("commit create", "commit alice", "deliver n1 -> n2", "commit bob", "deliver n1 -> n2",
                 "deliver n2 -> n1"):
        a = next(a for a, _ in system.successors(s) if system.action_name(a).startswith(want))
        path.append(a)
        s = system.step(s, a)
    trace, _ = build_trace(system, path)
    why = schedule_of_trace(spec, trace)
    assert isinstance(why, str) and "part of what is queued on n1 -> n2" in why


def test_explain_observed_refuses_what_the_target_cannot_run():
    r = CliRunner().invoke(main, ["explain", str(ROOT / "specs/seed/alice-bob-lww.toml"), "--observed", "pglogical"])
    assert r.exit_code == 2 and "system.resolver" in r.output
