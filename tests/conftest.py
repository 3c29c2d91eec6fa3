"""Shared helpers: build specs in code, run checks, find the repo's specs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from replcheck.checks.verdict import check
from replcheck.model import parse_spec

# CI (CI=true, as .ci/run sets): derandomized property tests, so the suite's
# time and outcome are stable run to run; locally the usual random search.
settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def make_spec(leaders=("us-east", "eu-west", "ap-south"), workload=(), invariants=None, expect=None, **system):
    """A spec from Python values: ``workload`` is a list of op dicts."""
    data = {"system": {"leaders": list(leaders), **system}, "workload": [dict(o) for o in workload]}
    if invariants is not None:
        data["check"] = {"invariants": list(invariants)}
    if expect:
        data["expect"] = dict(expect)
    from replcheck.checks.invariants import INVARIANTS
    return parse_spec(data, "<test>", INVARIANTS)


def verdicts(spec, **kw):
    report = check(spec, **kw)
    return {r.invariant: (r.verdict, r.anomaly) for r in report.results}


def one_write_each(n=3, **system):
    leaders = tuple(f"l{i}" for i in range(n))
    return make_spec(leaders, [{"leader": l, "key": "k", "set": l} for l in leaders], **system)


@pytest.fixture
def seed_path():
    return SPECS / "seed" / "alice-bob-lww.toml"


def force(model, **flags):
    """The model ``model`` with some reductions forced (``ghost``, ``por``,
    ``dead_content``, ``absorb``: bools; ``symmetry``: a hand-made
    :class:`model.symmetry.Symmetry`, or ``None``), whatever the planner
    would choose: a new model, as reductions are fixed at construction
    (model/reduced.py).  Only tests do this: to reproduce a forced, possibly
    unsound configuration (a seeded bug) or to use a hand-made Symmetry."""
    from replcheck.model.reduced import Reduced
    from replcheck.model.reductions import Reductions
    from replcheck.model.system import System

    base = getattr(model, "base", model)
    r = model.reductions
    ghost = flags.get("ghost", r.ghost)
    if ghost != base.ghost:
        base = System(base.spec, ghost=ghost)
    por = flags.get("por", r.por)
    dead = flags.get("dead_content", r.dead_content)
    absorb = flags.get("absorb", r.absorb)
    if not por:
        return base
    reduced = Reduced(base, Reductions(ghost=ghost, stamps=base.stamps, por=True, dead_content=dead, absorb=absorb))
    sym = flags.get("symmetry", getattr(model, "symmetry", None))
    if sym is not None:
        sym.dead_regs = dead     # as the planner builds it (model/reduced.py)
    reduced.__dict__["symmetry"] = sym
    return reduced


def reachable(system, limit=None) -> set:
    """Every reachable state of a small system (plain depth-first walk, no
    reductions), or the first ``limit`` found."""
    start = system.initial_state()
    seen = {start}
    todo = [start]
    while todo and (limit is None or len(seen) < limit):
        s = todo.pop()
        for _, t in system.successors(s):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


# ------------------------------------------------ a real browser (tests/checks/test_browser.py, tests/checks/test_injection.py)
CHROMIUM = os.environ.get("REPLCHECK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by playwright (never a downloaded browser)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM}: .ci/run installs Debian's chromium (apt-get install -y chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def sigint_default():
    """``preexec_fn`` for a child a test will Ctrl-C: SIGINT back to its
    default action.  A shell runs background jobs (``cmd &``, ``nohup``) with
    SIGINT ignored, an ignored signal survives exec, and Python then never
    installs its KeyboardInterrupt handler: the child would ignore the
    test's Ctrl-C and run on (seen when CI was started in the background)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
