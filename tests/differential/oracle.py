"""The differential oracle: every way replcheck can answer one question must
give the same answer (docs/trust.md).

For one spec, :func:`compare` runs the engines and modes that claim to
decide the same thing and returns what they disagree on:

``reduced-vs-plain``
    the default engine (every sound reduction on) against the plain BFS
    (``--no-por --no-dead-variables --no-symmetry``): the same verdict per
    invariant, the same vacuity of a ``holds``, the same set of anomaly
    kinds, the same shortest length where both claim a shortest
    counterexample.
``judged-reachable``
    every quiescent state the reduced engine judges (with symmetry: every
    image of every representative) is a quiescent state some plain run
    reaches, and none that is reached is missed.  A judged state no run
    reaches is how a reduction invents a violation; a missed one is how it
    invents a ``holds``.
``bfs-vs-dfs``
    the depth-first engine's verdicts equal BFS's.
``workers``
    ``--simulate`` with one process and with two, same seed: same verdicts,
    anomalies, counterexample paths and messages.
``smt``
    where the symbolic engine covers the spec: it never contradicts BFS.
``replay``
    every counterexample printed as JSON replays through ``replcheck
    replay`` and is confirmed (exit 1).
``render``
    every report renders in every output format (text, JSON, Markdown,
    HTML, ITF) without an exception: a verdict nobody can read is no
    answer.
``spin``
    where the Promela export covers the spec and SPIN is installed: SPIN's
    violated set equals replcheck's.

A verdict that a bound cut (``incomplete``) is compared with nothing: the
oracle only compares what both sides established.  A spec the parser
rejects is not compared at all (:class:`Outcome` counts it as a draft).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from replcheck.checks.explain import explained
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import HOLDS, INCOMPLETE, VIOLATED, Options, check
from replcheck.model.errors import SpecError
from replcheck.model import state as st
from replcheck.model.search import QUIESCENT, Property, bfs
from replcheck.model.spec import Bounds, parse_spec
from replcheck.model.system import System

PLAIN = Options(por=False, dead_variables=False, symmetry=False)
ALL_MODES = ("reduced-vs-plain", "judged-reachable", "bfs-vs-dfs", "workers", "smt", "replay", "render", "spin")
LIGHT_MODES = ("reduced-vs-plain", "judged-reachable", "bfs-vs-dfs", "smt", "replay", "render")


@dataclass(frozen=True)
class Disagreement:
    """Two answers to one question that differ."""

    comparison: str
    invariant: str | None
    detail: str

    def __str__(self) -> str:
        where = f" [{self.invariant}]" if self.invariant else ""
        return f"{self.comparison}{where}: {self.detail}"


@dataclass
class Outcome:
    """What the oracle did with one spec: comparisons made (by kind),
    comparisons skipped (by reason), what the specs compared had (``tags``:
    e.g. crashes under partial-order reduction) and every disagreement."""

    valid: bool = True
    made: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    tags: Counter = field(default_factory=Counter)
    disagreements: list = field(default_factory=list)

    def disagree(self, comparison, invariant, detail):
        self.disagreements.append(Disagreement(comparison, invariant, detail))


def parse(data: dict):
    """The spec of a generated dict, or ``None`` if the parser rejects it."""
    try:
        spec = parse_spec(data, "<generated>", INVARIANTS)
        System(spec)            # compile-time checks (homes, failover, links)
        return spec
    except SpecError:
        return None


def anomalies(result) -> frozenset:
    """The anomaly kinds a result reports (the full set where the checker
    reports one, else the shown trace's kind)."""
    kinds = getattr(result, "anomalies", None) or ((result.anomaly,) if result.anomaly else ())
    return frozenset(kinds)


def _by_name(report):
    return {r.invariant: r for r in report.results}


def _compare_verdicts(out: Outcome, name: str, a, b, *, sets=True, lengths=True, vacuity=True):
    """Compare two reports invariant by invariant where both are decided."""
    ra, rb = _by_name(a), _by_name(b)
    for inv, x in ra.items():
        y = rb.get(inv)
        if y is None:
            out.disagree(name, inv, "judged by one side only")
            continue
        if INCOMPLETE in (x.verdict, y.verdict):
            # Only a violation is established by an incomplete search.
            if VIOLATED in (x.verdict, y.verdict) and HOLDS in (x.verdict, y.verdict):
                out.disagree(name, inv, f"{x.verdict} vs {y.verdict}")
            out.skipped[f"{name}: a bound cut one side"] += 1
            continue
        out.made[name] += 1
        if x.verdict != y.verdict:
            out.disagree(name, inv, f"{x.verdict} vs {y.verdict}")
            continue
        if x.verdict == HOLDS and vacuity and bool(x.vacuous) != bool(y.vacuous):
            out.disagree(name, inv, f"vacuous {x.vacuous!r} vs {y.vacuous!r}")
        if x.verdict != VIOLATED:
            continue
        complete = getattr(x, "anomalies_complete", True) and getattr(y, "anomalies_complete", True)
        if sets and complete and a.complete and b.complete and anomalies(x) != anomalies(y):
            out.disagree(name, inv, f"anomaly kinds {sorted(anomalies(x))} vs {sorted(anomalies(y))}")
        shortest = getattr(x, "shortest", True) and getattr(y, "shortest", True)
        if lengths and shortest and x.trace is not None and y.trace is not None and len(x.trace) != len(y.trace):
            out.disagree(name, inv, f"shortest counterexample has {len(x.trace)} vs {len(y.trace)} steps")


def quiescent_states(system, properties_hook=None, bounds: Bounds = Bounds(max_states=200_000, max_seconds=60)):
    """Every quiescent state a BFS of ``system`` judges (loop-cut states,
    which nothing judges, left out), and whether the search was complete."""
    seen: set = set()

    def collect(state):
        if not st.is_looped(state):
            seen.add(state)

    props = [Property("q", QUIESCENT, collect)]
    if properties_hook is not None:
        props = properties_hook(system, props)
    r = bfs(system, props, bounds)
    return seen, r.complete


def _reduced_system(spec, ghost: bool, stamps: bool = True):
    """The system and quiescent hook the default engine searches with
    (checks/planner.py): ghost happens-before dropped (when no resolver
    reads it) or kept (the two-phase search's second phase), timestamps
    kept or dropped (when nothing reads them)."""
    from replcheck.checks import planner
    reductions, _ = planner.choose(System(spec), ghost, True, Options(), stamps=stamps)
    from replcheck.model.reduced import build
    return build(spec, reductions), planner.for_images


def compare_judged(out: Outcome, spec):
    """``judged-reachable``: the reduced engine judges exactly the
    quiescent states that plain runs reach (same ghost setting), with the
    ghost dropped where nothing needs it and with it kept."""
    probe = System(spec)
    ghosts = (True,) if probe.ghost_needed_by_types() else (False, True)
    # timestamps as the default engine runs (dropped wherever nothing reads them)
    stamps = (True,) if probe.stamps_needed() else (False,)
    for ghost, stamp in [(g, s) for g in ghosts for s in stamps]:
        reduced, hook = _reduced_system(spec, ghost, stamp)
        judged, ok1 = quiescent_states(reduced, hook)
        if not (reduced.por or reduced.symmetry or reduced.relay):
            out.skipped["judged-reachable: no reduction applies"] += 1
            return
        plain = System(spec, ghost=ghost, stamps=stamp)
        reached, ok2 = quiescent_states(plain)
        if not (ok1 and ok2):
            out.skipped["judged-reachable: a bound cut one side"] += 1
            continue
        out.made["judged-reachable"] += 1
        if reduced.crash_por:
            out.tags["judged-reachable under crashes"] += 1
        if reduced.relay:
            out.tags["judged-reachable under relay turns"] += 1
        extra, missed = judged - reached, reached - judged
        label = ("ghost kept" if ghost else "ghost dropped") + ("" if stamp else ", timestamps dropped")
        if not stamp:
            out.tags["judged-reachable with timestamps dropped"] += 1
        if extra:
            out.disagree("judged-reachable", None, f"{label}: {len(extra)} judged quiescent state(s) no plain"
                                                   " run reaches")
        if missed:
            out.disagree("judged-reachable", None, f"{label}: {len(missed)} reachable quiescent state(s) never"
                                                   " judged")


def compare_smt(out: Outcome, spec, default):
    from replcheck.checks.smt.bmc import EngineDisagreement
    try:
        sym = check(spec, engine="smt")
    except SpecError:
        out.skipped["smt: spec not covered"] += 1
        return
    except EngineDisagreement as e:
        out.disagree("smt", None, f"its run does not replay: {e}")
        return
    _compare_verdicts(out, "smt", default, sym, sets=False, lengths=False, vacuity=False)   # smt: vacuity unknown


def compare_workers(out: Outcome, spec):
    one = check(spec, options=Options(simulate=60, seed=7, workers=1))
    two = check(spec, options=Options(simulate=60, seed=7, workers=2))
    out.made["workers"] += 1
    a = [(r.invariant, r.verdict, r.anomaly, r.path, r.message) for r in one.results]
    b = [(r.invariant, r.verdict, r.anomaly, r.path, r.message) for r in two.results]
    if a != b:
        out.disagree("workers", None, f"--workers 1 gives {a}, --workers 2 gives {b}")


def compare_replay(out: Outcome, data: dict, spec, default, work: Path):
    """Every counterexample of the default engine, saved as JSON, replays
    through the real ``replcheck replay`` command and is confirmed."""
    from click.testing import CliRunner

    from replcheck.checks.cli import main
    from replcheck.checks.render_json import render
    violated = [r for r in default.results if r.verdict == VIOLATED and r.trace is not None]
    if not violated:
        return
    spec_file = work / "spec.toml"
    spec_file.write_text(tomli_w.dumps(data), encoding="utf-8")
    trace_file = work / "report.json"
    trace_file.write_text(render([default]), encoding="utf-8")
    for r in violated:
        run = CliRunner().invoke(main, ["replay", str(spec_file), str(trace_file), "--invariant", r.invariant])
        out.made["replay"] += 1
        if run.exit_code != 1:
            tail = (run.output or repr(run.exception)).strip().splitlines()[-1:] or [""]
            out.disagree("replay", r.invariant, f"replay exit {run.exit_code} (expected 1): {tail[0]}")


def compare_render(out: Outcome, default):
    from replcheck.checks import render_html, render_itf, render_json, render_markdown, render_text
    for fmt, fn in (("text", lambda: render_text.render(default)), ("json", lambda: render_json.render([default])),
                    ("markdown", lambda: render_markdown.render_many([explained(default, True)])),
                    ("html", lambda: render_html.render_many([explained(default, True)])),
                    ("itf", lambda: render_itf.render([explained(default, True)]))):
        out.made["render"] += 1
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            out.disagree("render", None, f"{fmt}: {type(e).__name__}: {e}")


def compare_spin(out: Outcome, spec, default, work: Path):
    from replcheck.checks.export_promela import check_exportable, export_promela
    if not (shutil.which("spin") and (shutil.which("gcc") or shutil.which("cc"))):
        out.skipped["spin: not installed"] += 1
        return
    from replcheck.checks.export_promela import SUPPORTED_INVARIANTS
    wanted = [n for n in spec.invariants if n in SUPPORTED_INVARIANTS]
    try:
        if not wanted:
            raise SpecError(spec.source, "check.invariants", "no exported invariant")
        names = check_exportable(spec, wanted)
    except SpecError:
        out.skipped["spin: spec not exported"] += 1
        return
    verdicts = _by_name(default)
    for inv in names:
        if verdicts[inv].verdict == INCOMPLETE:
            continue
        d = work / f"spin-{inv}"
        d.mkdir()
        (d / "model.pml").write_text(export_promela(spec, [inv]), encoding="utf-8")
        try:
            subprocess.run(["spin", "-a", "model.pml"], cwd=d, check=True, capture_output=True, timeout=60)
            subprocess.run(["gcc", "-O1", "-DSAFETY", "-DNOREDUCE", "-o", "pan", "pan.c"], cwd=d, check=True,
                           capture_output=True, timeout=120)
            run = subprocess.run(["./pan", "-m100000"], cwd=d, capture_output=True, text=True, timeout=120)
        except (subprocess.SubprocessError, OSError) as e:
            out.skipped[f"spin: {type(e).__name__}"] += 1
            continue
        violated = "assertion violated" in run.stdout or "errors: 0" not in run.stdout
        out.made["spin"] += 1
        if violated != (verdicts[inv].verdict == VIOLATED):
            out.disagree("spin", inv, f"SPIN {'violated' if violated else 'holds'} vs replcheck"
                                      f" {verdicts[inv].verdict}")


def compare(data: dict, modes=LIGHT_MODES) -> Outcome:
    """Run every comparison in ``modes`` on one generated spec dict."""
    out = Outcome()
    spec = parse(data)
    if spec is None:
        out.valid = False
        return out
    try:
        default = check(spec)
    except Exception as e:  # noqa: BLE001 - a crash is the oracle's finding, not its failure
        out.disagree("crash", None, f"check: {type(e).__name__}: {e}")
        return out
    if spec.faults.crashes and any(n.startswith("por: ") for n in default.reductions):
        out.tags["specs with crashes under por"] += 1
    steps = {
        "reduced-vs-plain": lambda: _compare_verdicts(out, "reduced-vs-plain", default, check(spec, options=PLAIN)),
        "judged-reachable": lambda: compare_judged(out, spec),
        "bfs-vs-dfs": lambda: _compare_verdicts(out, "bfs-vs-dfs", default, check(spec, engine="dfs"),
                                                sets=False, lengths=False),
        "workers": lambda: compare_workers(out, spec),
        "smt": lambda: compare_smt(out, spec, default),
        "replay": lambda: compare_replay(out, data, spec, default, work),
        "render": lambda: compare_render(out, default),
        "spin": lambda: compare_spin(out, spec, default, work),
    }
    with tempfile.TemporaryDirectory(prefix="replcheck-oracle-") as tmp:
        work = Path(tmp)
        for mode in modes:
            try:
                steps[mode]()
            except Exception as e:  # noqa: BLE001
                out.disagree("crash", None, f"{mode}: {type(e).__name__}: {e}")
    return out


def summary(outcomes) -> dict:
    """Totals over many specs, for the command and the docs."""
    made, skipped, kinds, tags = Counter(), Counter(), Counter(), Counter()
    valid = 0
    for o in outcomes:
        valid += o.valid
        made.update(o.made)
        skipped.update(o.skipped)
        tags.update(o.tags)
        kinds.update(d.comparison for d in o.disagreements)
    return {"drafts": len(outcomes), "specs": valid, "comparisons": sum(made.values()), "by_kind": dict(made),
            "skipped": dict(skipped), "tags": dict(tags), "disagreements": sum(kinds.values()),
            "disagreements_by_kind": dict(kinds)}


def dump(summary_: dict) -> str:
    return json.dumps(summary_, indent=2, sort_keys=True)
