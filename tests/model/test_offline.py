"""Issue 17, item 1: offline periods (``[faults] offline``).

A leader (a mobile device) is offline while its clients issue the listed
ops: its links are held (nothing reaches it or leaves it) until every op
of the period is done; its own writes commit locally; a write routed to a
home elsewhere cannot be made (a refusal, judged by ``offline-available``).
Every verdict below is known by hand (docs/model.md "Offline periods").
"""

import pytest
from click.testing import CliRunner

from replcheck.checks import drill as D
from replcheck.checks import outcomes as oc
from replcheck.checks.cli import main
from replcheck.checks.verdict import check, load
from replcheck.model import por
from replcheck.model import System
from replcheck.model import state as st
from replcheck.model.errors import SpecError
from tests.conftest import SPECS

EDITS = [{"id": "phone-edit", "leader": "phone", "key": "note", "set": "bread"},
         {"id": "laptop-edit", "leader": "laptop", "key": "note", "set": "coffee"}]
INVS = ["no-lost-writes", "convergence", "offline-available"]


def _data(resolver="lww", offline=({"leader": "phone", "ops": ["phone-edit"]},), home=None, work=EDITS):
    data = {"system": {"leaders": ["cloud", "phone", "laptop"], "topology": "star", "hub": "cloud",
                       "resolver": resolver},
            "workload": [dict(o) for o in work], "check": {"invariants": INVS}}
    if offline is not None:
        data["faults"] = {"offline": [dict(x) for x in offline]}
    if home:
        data["keys"] = {"note": {"home": home}}
    return data


def _spec(*a, **k):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    return parse_spec(_data(*a, **k), "<test>", INVARIANTS)


def _verdicts(spec):
    return {r.invariant: (r.verdict, r.anomaly) for r in check(spec).results}


def _reachable(system):
    seen = {system.initial_state()}
    todo = list(seen)
    while todo:
        s = todo.pop()
        for _, t in system.successors(s):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


# ------------------------------------------------------------------ semantics
def test_an_offline_edit_commits_locally_and_lww_loses_it():
    v = _verdicts(_spec("lww"))
    assert v == {"no-lost-writes": ("violated", "lost-update"), "convergence": ("holds", None),
                 "offline-available": ("holds", None)}


def test_mv_register_keeps_the_offline_edit_as_a_sibling():
    spec = _spec("mv-register")
    assert all(v == "holds" for v, _ in _verdicts(spec).values())
    shown = {dict(kv)["note"] for e in oc.outcomes(System(spec)).endings for _, kv in e.values}
    assert '{"bread", "coffee"}' in shown


def test_the_offline_leaders_links_are_held_until_its_period_is_done():
    """No run delivers the laptop's edit to the phone, or the phone's edit
    to the cloud, before the phone's edit is done."""
    system = System(_spec("lww"))
    phone, laptop_edit, phone_edit = 1, system.op_index["laptop-edit"], system.op_index["phone-edit"]
    cloud = 0
    for s in _reachable(system):
        if st.write(s, phone_edit) is None:
            assert not (st.applied(s, phone) >> laptop_edit) & 1
            assert not (st.applied(s, cloud) >> phone_edit) & 1


def test_without_the_offline_period_the_laptops_edit_can_reach_the_phone_first():
    """The control: the same workload online has runs where the phone's
    edit follows the laptop's (and supersedes it)."""
    system = System(_spec("lww", offline=None))
    laptop_edit, phone_edit = system.op_index["laptop-edit"], system.op_index["phone-edit"]
    assert any(st.write(s, phone_edit) is None and (st.applied(s, 1) >> laptop_edit) & 1
               for s in _reachable(system))


def test_a_routed_edit_made_offline_cannot_be_made_and_the_verdict_says_so():
    r = {x.invariant: x for x in check(_spec("lww", home="cloud")).results}
    assert (r["no-lost-writes"].verdict, r["convergence"].verdict) == ("holds", "holds")
    off = r["offline-available"]
    assert (off.verdict, off.anomaly) == ("violated", "unavailable-offline")
    assert off.message.startswith("phone-edit's write \"bread\" cannot be made: phone is offline")
    assert len(off.trace.steps) == 1
    assert off.trace.steps[0].text.startswith("phone-edit tries note = \"bread\" at phone: CANNOT BE MADE")


def test_a_write_routed_to_an_offline_home_waits_until_it_reconnects():
    """Homed at the phone: the laptop's edit waits for the phone to come
    back (it commits in no run before the phone's offline edit is done),
    and the phone's own edit commits locally."""
    system = System(_spec("lww", home="phone"))
    laptop_edit, phone_edit = system.op_index["laptop-edit"], system.op_index["phone-edit"]
    states = _reachable(system)
    assert all(st.write(s, phone_edit) is not None for s in states if st.write(s, laptop_edit) is not None)
    assert all(v == "holds" for v, _ in _verdicts(_spec("lww", home="phone")).values())


def test_offline_available_without_an_offline_period_is_vacuous():
    r = {x.invariant: x for x in check(_spec("lww", offline=None)).results}
    assert r["offline-available"].verdict == "holds"
    assert r["offline-available"].vacuous.startswith("no op is issued offline")


def test_an_offline_period_covers_an_interval_of_the_session():
    """The phone writes once online, then twice offline: it is offline only
    once its first write is done, and back once both offline ones are."""
    work = [{"id": "p0", "leader": "phone", "key": "note", "set": "a"},
            {"id": "p1", "leader": "phone", "key": "note", "set": "b"},
            {"id": "p2", "leader": "phone", "key": "note", "set": "c"},
            {"id": "l1", "leader": "laptop", "key": "note", "set": "d"}]
    system = System(_spec("mv-register", offline=({"leader": "phone", "ops": ["p1", "p2"]},), work=work))
    init = system.initial_state()
    assert system.offline_leaders(st.writes(init)) == 0
    after_p0 = system.step(init, system.op_index["p0"])
    assert system.offline_leaders(st.writes(after_p0)) == 1 << 1
    s = system.step(system.step(after_p0, system.op_index["p1"]), system.op_index["p2"])
    assert system.offline_leaders(st.writes(s)) == 0


# ------------------------------------------------------------------ specs, drill
def test_the_offline_specs_and_the_notes_drill():
    lww = {r.invariant: r for r in check(load(SPECS / "faults" / "offline-edit-lww.toml")).results}
    assert lww["no-lost-writes"].message.startswith("phone-edit's acknowledged write")
    routed = {r.invariant: r for r in check(load(SPECS / "faults" / "offline-routed-edit.toml")).results}
    assert routed["offline-available"].anomaly == "unavailable-offline"


def test_routing_the_offline_edit_to_the_cloud_fails_the_notes_drill_showing_the_write():
    a = D.load_answer(SPECS / "drills" / "answers" / "notes-home-cloud.toml")
    o = D.check_answer(D.find_drill("notes"), a)
    assert not o.passed
    text = D.render_check(o)
    assert "FAIL  offline-available  unavailable-offline" in text
    assert "phone-edit tries note:groceries.body = \"milk, eggs, bread\" at phone: CANNOT BE MADE" in text


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("offline,key,words", [
    ("phone", "faults.offline", "must be a list"),
    ([{"leader": "fone", "ops": ["phone-edit"]}], "faults.offline[0].leader", "did you mean 'phone'"),
    ([{"leader": "phone"}], "faults.offline[0]", "needs leader and ops"),
    ([{"leader": "phone", "ops": ["phone-edt"]}], "faults.offline[0].ops", "did you mean 'phone-edit'"),
    ([{"leader": "phone", "ops": ["laptop-edit"]}], "faults.offline[0].ops", "issued at laptop, not phone"),
    ([{"leader": "phone", "ops": []}], "faults.offline[0].ops", "is empty"),
    ([{"leader": "phone", "ops": ["phone-edit"]}, {"leader": "phone", "ops": ["phone-edit"]}],
     "faults.offline[1].leader", "already has an offline period"),
    ([{"leader": "phone", "ops": ["phone-edit"], "when": 3}], "faults.offline[0].when", "unknown key"),
])
def test_bad_offline_periods_are_one_line_errors_naming_the_key(offline, key, words):
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    data = _data()
    data["faults"] = {"offline": offline}
    with pytest.raises(SpecError) as e:
        parse_spec(data, "s.toml", INVARIANTS)
    assert e.value.key == key and words in str(e.value) and "\n" not in str(e.value)


def test_an_offline_period_must_be_one_interval_and_wait_for_no_other_leader():
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    work = [{"id": "p1", "leader": "phone", "key": "note", "set": "a"},
            {"id": "p2", "leader": "phone", "key": "note", "set": "b"},
            {"id": "p3", "leader": "phone", "key": "note", "set": "c"},
            {"id": "l1", "leader": "laptop", "key": "note", "set": "d"}]
    with pytest.raises(SpecError, match="'p2' comes between its ops"):
        parse_spec(_data(offline=({"leader": "phone", "ops": ["p1", "p3"]},), work=work), "s.toml", INVARIANTS)
    work[1]["after"] = ["l1"]
    with pytest.raises(SpecError, match="waits for 'l1' from laptop"):
        parse_spec(_data(offline=({"leader": "phone", "ops": ["p2"]},), work=work), "s.toml", INVARIANTS)


def test_the_cli_names_the_file_and_key_without_a_traceback(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[system]\nleaders = ["cloud", "phone"]\n[[workload]]\nid = "e"\nleader = "phone"\nkey = "k"\n'
                 'set = "v"\n[faults]\noffline = [{ leader = "phone", ops = ["x"] }]\n')
    r = CliRunner().invoke(main, ["check", str(p)])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.strip().startswith(f"replcheck: {p}: faults.offline[0].ops: unknown op 'x'")


def test_a_timed_routed_offline_edit_is_refused_at_its_own_time_not_after_a_forward():
    """With time_ms and latency the refusal happens when the phone's client
    issues the edit (0 ms); no forward to the cloud is made, so it is not
    due a latency later (60 ms): the laptop's local edit of another key at
    30 ms cannot come first."""
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    data = _data("lww", home="cloud")
    data["system"]["latency_ms"] = 60
    data["workload"][0]["time_ms"] = 0
    data["workload"][1].update(time_ms=30, key="todo")
    system = System(parse_spec(data, "<test>", INVARIANTS))
    first = [a for a, _ in system.successors(system.initial_state())]
    assert first == [system.op_index["phone-edit"]]
    assert _verdicts(parse_spec(data, "<test>", INVARIANTS))["offline-available"] == ("violated", "unavailable-offline")


def test_partial_order_reduction_is_never_applied_with_an_offline_period():
    """An all-to-all mv-register spec is the reduction's home ground; an
    offline period must keep it off, whatever faults por comes to allow."""
    data = _data("mv-register")
    data["system"] = {"leaders": ["cloud", "phone", "laptop"], "resolver": "mv-register"}
    from replcheck.checks.invariants import INVARIANTS
    from replcheck.model import parse_spec
    ok, why = por.applicable(System(parse_spec(data, "<test>", INVARIANTS)))
    assert not ok and "offline period" in why
