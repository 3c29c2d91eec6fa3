"""Issue 17, "Delivery cost": `replcheck topology` reports the messages one
write costs under each loop-prevention mode; the count follows the model's
forwarding rule exactly, so it equals the deliveries of any run of the
model with that single write."""

import tomllib

import pytest
from click.testing import CliRunner

from replcheck.checks.cli import main
from replcheck.model import parse_spec
from replcheck.model import topology as t
from replcheck.model.propagation import messages_per_write
from replcheck.model.system import System
from tests.conftest import SPECS

LEADERS = ["a", "b", "c", "d"]


def _spec(topology: str, mode: str, extra: str = "") -> str:
    return f"""name = "cost"
[system]
leaders = {LEADERS!r}
topology = "{topology}"
loop_prevention = "{mode}"
{extra}
[[workload]]
leader = "a"
key = "k"
set = "v"
""".replace("'", '"')


def _deliveries_of_one_run(system) -> int:
    """Deliveries (and drops at the origin) in one complete run: always take
    the first enabled action."""
    s = system.initial_state()
    n = 0
    while True:
        succ = system.successors(s)
        if not succ:
            return n
        a, s = succ[0]
        n += a >= system.nops


CASES = [("ring", "origin", ""), ("ring", "visited", ""), ("ring", "none", ""),
         ("star", "origin", 'hub = "b"'), ("star", "visited", 'hub = "a"'),
         ("custom", "origin", 'edges = ["a -> b", "b -> c", "c -> a", "a -> c", "c -> d", "d -> a"]'),
         ("custom", "visited", 'edges = ["a -> b", "b -> c", "c -> a", "a -> c", "c -> d", "d -> a"]')]


@pytest.mark.parametrize("topology,mode,extra", CASES)
def test_messages_per_write_equals_the_models_deliveries(topology, mode, extra):
    spec = parse_spec(tomllib.loads(_spec(topology, mode, extra)), "cost.toml")
    system = System(spec)
    cost = messages_per_write(system.topology, 0, mode)
    assert cost.sent == _deliveries_of_one_run(system), (topology, mode, cost)
    assert cost.useful == len(LEADERS) - 1 and cost.sent == cost.useful + cost.redundant


def test_hand_counts_on_a_ring_of_three():
    """A ring a -> b -> c -> a: origin sends 3 copies (the last is dropped
    back at a), visited 2, none circles (cut after as many hops as links)."""
    r = t.ring(3)
    o, v = messages_per_write(r, 0, "origin"), messages_per_write(r, 0, "visited")
    assert (o.sent, o.useful, o.redundant) == (3, 2, 1)
    assert (v.sent, v.useful, v.redundant) == (2, 2, 0)
    none = messages_per_write(r, 0, "none")
    assert none.loops and none.sent == 3


def test_topology_prints_the_cost_per_mode_and_marks_the_specs():
    out = CliRunner().invoke(main, ["topology", str(SPECS / "seed" / "alice-bob-lww-ring.toml")]).output
    assert "  origin   3 sent, 1 redundant per write   <- this spec" in out
    assert "  visited  2 sent, 0 redundant per write" in out
    assert "copies circle or multiply without end" in out


# ------------------------------------------------ the counterexample's own run
def test_a_counterexample_counts_its_deliveries_and_the_redundant_ones():
    """alice-bob-lww-ring (3-leader ring, origin loop prevention): the
    shortest lost-update run has 8 steps, two commits and six deliveries,
    the last two copies coming back to their origin and dropped there —
    counted by hand from the trace (docs/model.md "Delivery cost")."""
    import json
    r = CliRunner().invoke(main, ["check", str(SPECS / "seed" / "alice-bob-lww-ring.toml"), "--format", "json"])
    results = {x["invariant"]: x for x in json.loads(r.output)["results"]}
    trace = results["no-lost-writes"]["trace"]
    assert len(trace["steps"]) == 8
    assert trace["messages"] == {"delivered": 6, "redundant": 2, "lost": 0}
    text = CliRunner().invoke(main, ["check", str(SPECS / "seed" / "alice-bob-lww-ring.toml"), "-v"]).output
    assert "    messages on this run: 6 delivered, 2 redundant (changed nothing at the receiver)" in text
    plain = CliRunner().invoke(main, ["check", str(SPECS / "seed" / "alice-bob-lww-ring.toml")]).output
    assert "messages on this run" not in plain        # -v only: the default text stays as it was


def test_all_to_all_has_no_redundant_delivery_on_the_seed_counterexample():
    import json
    r = CliRunner().invoke(main, ["check", str(SPECS / "seed" / "alice-bob-lww.toml"), "--format", "json"])
    results = {x["invariant"]: x for x in json.loads(r.output)["results"]}
    assert results["no-lost-writes"]["trace"]["messages"] == {"delivered": 4, "redundant": 0, "lost": 0}
