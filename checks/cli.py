"""The ``replcheck`` command line: thin adapters over the library.

Exit codes (every command): 0 all invariants hold (or all expectations
met), 1 a violation was found (or an expectation was not met), 2 bad input,
3 incomplete (a bound cut the search before any violation).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import click

from replcheck.bundled import locate
from replcheck.checks import matrix as matrix_mod
from replcheck.checks import render_html, render_itf, render_json, render_markdown, render_text
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.trace import build_trace, path_from_json
from replcheck.checks.verdict import ENGINES, HOLDS, INCOMPLETE, VIOLATED, Options, check, load, meets
from replcheck.model.clocks import CLOCKS
from replcheck.model.errors import ReplcheckError
from replcheck.model.resolvers import RESOLVERS
from replcheck.model.resolvers.lww import TIE_BREAKS
from replcheck.model.search import QUIESCENT, is_quiescent
from replcheck.model.system import System
from replcheck.model.topology import LOOP_PREVENTION, TOPOLOGIES

EXIT_OK, EXIT_VIOLATED, EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class BadInput(click.ClickException):
    """A domain error shown as one line on stderr, exit 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None):
        click.echo(f"replcheck: {self.message}", err=True)


class InternalError(BadInput):
    """A bug in replcheck, not in the input: one line on stderr, exit 4 —
    never 1, which means "violation" (README, "Exit codes")."""

    exit_code = EXIT_INTERNAL


class _Guarded(click.Group):
    """The one error policy of every command: a :class:`ReplcheckError` is
    bad input (exit 2, one line naming file, key and fix); input nested
    too deeply for the parsers is bad input too; running out of memory is
    an incomplete run (exit 3); anything else is an internal error (exit 4,
    one line; ``REPLCHECK_DEBUG=1`` shows the traceback).  No traceback
    reaches a user by default."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except ReplcheckError as e:
            raise BadInput(str(e)) from None
        except RecursionError:
            raise BadInput("the input is nested too deeply to read (arrays, tables or expressions hundreds"
                           " of levels deep); flatten it") from None
        except MemoryError:
            e = BadInput("out of memory: the search did not finish; lower --max-states or use --fingerprint")
            e.exit_code = EXIT_INCOMPLETE
            raise e from None
        except Exception as e:  # noqa: BLE001 - the last line of defence
            if os.environ.get("REPLCHECK_DEBUG"):
                raise
            raise InternalError(f"internal error: {type(e).__name__}: {e} — this is a bug in replcheck, please"
                                " report it with the command line (REPLCHECK_DEBUG=1 shows the traceback)") from None


def _spec_files(paths) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = locate(p)   # a bundled specs/... folder when the path names nothing here (replcheck/bundled.py)
        if path.is_dir():
            # Drill answers (specs/drills/answers/) are not specs: replcheck drill check reads them.
            # Files are named as the user named the folder, so output reads the same from any directory.
            found = sorted(Path(p) / f.relative_to(path) for f in path.rglob("*.toml")
                           if "answers" not in f.relative_to(path).parts)
            if not found:
                raise BadInput(f"{p}: no .toml specs in this folder; pass a spec file or a folder of specs")
            files.extend(found)
        else:
            files.append(Path(p))
    return files


class _Progress:
    """Progress on stderr for long runs (only when stderr is a terminal or
    --progress is given)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.shown = False

    def __call__(self, stats):
        if not self.enabled:
            return
        self.shown = True
        click.echo(f"\r  {stats.states:>12,} states  {stats.states_per_second:>9,.0f}/s  depth {stats.depth:>3}"
                   f"  frontier {stats.frontier:>10,}", err=True, nl=False)

    def done(self):
        if self.shown:
            click.echo("", err=True)
            self.shown = False


@click.group(cls=_Guarded, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="replcheck")
def main():
    """Check designs for multi-leader (active-active) replication.

    Exit codes: 0 all hold, 1 a violation found, 2 bad input, 3 incomplete,
    4 internal error (a bug in replcheck; REPLCHECK_DEBUG=1 shows it).
    """


@main.command("check")
@click.argument("specs", nargs=-1, required=True, type=click.Path())
@click.option("--invariant", "invariants", multiple=True, metavar="NAME",
              help="Check only this invariant (repeatable); default: the spec's [check] list.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a spec key, e.g. --set system.resolver=mv-register (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html", "itf"]), default="text",
              show_default=True, help="markdown: Mermaid sequence diagrams; html: a self-contained trace viewer;"
              " itf: the Apalache/Quint trace format.")
@click.option("--minimize/--no-minimize", "minimize", default=None,
              help="Drop trace events the violation does not need (default: on for markdown and html).")
@click.option("--max-states", type=click.IntRange(min=1), help="Stop after this many distinct states.")
@click.option("--max-depth", type=click.IntRange(min=1), help="Do not expand states deeper than this.")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), help="Stop after this long.")
@click.option("--engine", type=click.Choice(ENGINES), default="bfs", show_default=True,
              help="bfs gives shortest counterexamples; dfs is a cross-check; smt is the symbolic engine (docs/z3.md).")
@click.option("--depth", type=click.IntRange(min=1), metavar="K",
              help="Unrolling depth of --engine smt (default: the execution bound, which covers every run);"
                   " with bfs/dfs the same as --max-depth.")
@click.option("--expect", "expect_mode", is_flag=True,
              help="Compare every verdict with the spec's [expect] table; exit 0 only if all match.")
@click.option("--resolver", "per_resolver", metavar="NAME|all",
              help="Check each spec under this resolver, or under every resolver of the catalogue (all): one"
                   " report, with its traces, per resolver; n/a lines say why a resolver cannot run (docs/z3.md).")
@click.option("--allow-python", is_flag=True,
              help="Let specs run the Python merge functions they name (merge = \"module:function\"); off by"
                   " default: a spec must not run code unless asked.")
@click.option("--progress/--no-progress", default=None, help="Show progress on stderr (default: on a terminal).")
@click.option("--por/--no-por", default=True, show_default=True,
              help="Partial-order reduction where it is sound (docs/reductions.md); never changes a verdict.")
@click.option("--dead-variables/--no-dead-variables", default=True, show_default=True,
              help="Drop what can no longer influence a step or a verdict: ghost happens-before when nothing"
                   " reads it; with --por, a busy leader's content and messages that cannot move its clock.")
@click.option("--symmetry/--no-symmetry", default=True, show_default=True,
              help="Store one state per orbit of interchangeable leaders (all-to-all, same workload shape;"
                   " docs/reductions.md); never changes a verdict.")
@click.option("--stop-early", is_flag=True,
              help="Stop once every invariant has a counterexample: faster, but the anomaly kinds are 'at least'"
                   " and a reduced search's trace is not proved shortest.")
@click.option("--fingerprint", is_flag=True,
              help="Keep 64-bit state fingerprints instead of states in the visited set (less memory; a hash"
                   " collision can hide states with the probability printed in the stats).")
@click.option("--simulate", "simulate", is_flag=True,
              help="Random runs instead of exhaustive search, for specs too large to exhaust: reports a"
                   " violation with its trace, else incomplete, never holds.")
@click.option("--runs", type=click.IntRange(min=1), default=1000, show_default=True, help="Runs for --simulate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for --simulate (reproducible).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes for --simulate (a parallel swarm; use 2 on a 2-core machine).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE.")
def check_cmd(specs, invariants, overrides, fmt, minimize, max_states, max_depth, max_seconds, engine, depth, expect_mode,
              per_resolver, allow_python, progress, por, dead_variables, symmetry, stop_early, fingerprint, simulate, runs, seed,
              workers, output):
    """Explore every interleaving of SPECS (files or folders) and report a
    verdict per invariant, with the shortest counterexample when one fails.

    \b
    Example:
      replcheck check specs/seed/alice-bob-lww.toml
      replcheck check specs/seed/alice-bob-lww.toml --set system.resolver=mv-register
      replcheck check --expect specs/
      replcheck check specs/seed/alice-bob-lww.toml --format html -o trace.html
    """
    if fingerprint and engine != "bfs":
        raise BadInput(f"--fingerprint: only the bfs engine keeps a visited set of fingerprints, not {engine};"
                       " drop --fingerprint or use --engine bfs")
    if simulate and engine != "bfs":
        raise BadInput(f"--simulate: random runs replace the exhaustive engines; drop --engine {engine}")
    if workers > 1 and not simulate:
        raise BadInput("--workers: only --simulate runs in parallel; add --simulate or drop --workers")
    minimise = _minimise_flag(fmt, minimize)
    show = sys.stderr.isatty() if progress is None else progress
    bar = _Progress(show)
    reports = []
    skipped: list[str] = []
    try:
        runs_of = [(p, load(p, overrides)) for p in _spec_files(specs)]
        if per_resolver:   # one run per resolver (checks/smt/per_resolver.py)
            from replcheck.checks.smt.per_resolver import variants
            each = [(p, r, v) for p, _ in runs_of for r, v in variants(p, overrides, per_resolver, engine)]
            skipped += [f"n/a  {r}: {v}" for _, r, v in each if isinstance(v, str)]
            runs_of = [(p, v) for p, _, v in each if not isinstance(v, str)]
            if not runs_of:
                raise BadInput(f"--resolver {per_resolver}: no resolver can run this spec ("
                               + "; ".join(f"{r}: {v}" for _, r, v in each) + ")")
        for path, spec in runs_of:
            spec = spec.with_bounds(max_states=max_states, max_depth=depth or max_depth, max_seconds=max_seconds)
            if expect_mode and not spec.expect:
                raise BadInput(f"{path}: expect: no [expect] table; add the verdicts this spec must give")
            if "python" in spec.requires:
                if allow_python:
                    spec = dataclasses.replace(spec, allow_python=True)
                elif expect_mode:
                    skipped.append(f"skipped  {spec.source}: needs --allow-python (requires = [\"python\"])")
                    continue
            opts = Options(por=por, dead_variables=dead_variables, symmetry=symmetry, fingerprint=fingerprint,
                           simulate=runs if simulate else None, seed=seed, workers=workers, stop_early=stop_early)
            report = check(spec, invariants or None, engine=engine, progress=bar, options=opts)
            bar.done()
            reports.append(report)
    except ReplcheckError as e:
        bar.done()
        raise BadInput(str(e)) from None
    if expect_mode:
        text, ok = _compare_expectations(reports, skipped)
        _emit(text, output)
        sys.exit(EXIT_OK if ok else EXIT_VIOLATED)
    if fmt == "json":
        _emit(render_json.render(reports), output)
    elif fmt in RICH:
        _emit(RICH[fmt](reports, minimise), output)
    else:
        _emit("\n\n".join([render_text.render(r) for r in reports] + (["\n".join(skipped)] if skipped else [])),
              output)
    verdicts = {r.verdict for rep in reports for r in rep.results}
    sys.exit(EXIT_VIOLATED if VIOLATED in verdicts else EXIT_INCOMPLETE if INCOMPLETE in verdicts else EXIT_OK)


# The renderings of issue 7; each takes (reports, minimise) and returns a string.
RICH = {"markdown": render_markdown.render_many, "html": render_html.render_many, "itf": render_itf.render}


def _minimise_flag(fmt: str, minimize) -> bool:
    """--minimize is on by default for the renderings people look at; text
    and JSON stay the engine's shortest trace (JSON is what replay reads)."""
    if minimize is None:
        return fmt in ("markdown", "html")
    if minimize and fmt in ("text", "json"):
        raise BadInput(f"--minimize: applies to --format markdown, html or itf, not {fmt};"
                       " drop --minimize or pick one of those formats")
    return minimize


def _exit_code(results) -> int:
    verdicts = {r.verdict for r in results}
    return EXIT_VIOLATED if VIOLATED in verdicts else EXIT_INCOMPLETE if INCOMPLETE in verdicts else EXIT_OK


def _compare_expectations(reports, skipped=()) -> tuple[str, bool]:
    lines = []
    all_ok = True
    for rep in reports:
        got = {r.invariant: r for r in rep.results}
        bad = []
        for inv, exp in rep.spec.expect:
            r = got.get(inv)
            if r is None:
                bad.append(f"{inv}: expected {exp.verdict} but it was not checked (add it to [check] invariants)")
                continue
            if not meets(r, exp):   # violated:X: X among the kinds reported (docs/spec-format.md)
                want = exp.verdict + (f":{exp.anomaly}" if exp.anomaly else "")
                kinds = ",".join(r.anomalies or ((r.anomaly,) if r.anomaly else ()))
                have = r.verdict + (f":{kinds}" if kinds else "") + (f" ({r.bound})" if r.bound else "")
                bad.append(f"{inv}: expected {want}, got {have}")
        if bad:
            all_ok = False
            lines.append(f"MISMATCH {rep.spec.source}")
            lines.extend(f"  {b}" for b in bad)
        else:
            summary = ", ".join(f"{r.invariant} {r.verdict}" + (" (vacuous)" if getattr(r, "vacuous", None) else "")
                                for r in rep.results)
            lines.append(f"ok       {rep.spec.source}: {summary}")
    n_bad = sum(1 for line in lines if line.startswith("MISMATCH"))
    lines.extend(skipped)
    lines.append(f"{len(reports)} specs, {len(reports) - n_bad} as expected, {n_bad} mismatched"
                 + (f", {len(skipped)} skipped" if skipped else ""))
    return "\n".join(lines), all_ok


def _emit(text: str, output) -> None:
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)


@main.command("list")
@click.argument("what", type=click.Choice(["resolvers", "topologies", "invariants", "clocks", "loop-prevention",
                                           "tie-breaks"]))
def list_cmd(what):
    """Print what exists, each with its one-line meaning."""
    if what == "resolvers":
        rows = [(r.name, f"{r.summary} [{r.source}]") for r in RESOLVERS.values()]
    elif what == "topologies":
        rows = list(TOPOLOGIES.items())
    elif what == "invariants":
        rows = [(i.name, f"({'quiescent states' if i.scope == QUIESCENT else 'every state'}) {i.summary}")
                for i in INVARIANTS.values()]
    elif what == "clocks":
        rows = list(CLOCKS.items())
    elif what == "loop-prevention":
        rows = list(LOOP_PREVENTION.items())
    else:
        rows = list(TIE_BREAKS.items())
    width = max(len(n) for n, _ in rows)
    for name, meaning in rows:
        click.echo(f"{name:<{width}}  {meaning}")


@main.command("topology")
@click.argument("spec", type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def topology_cmd(spec, overrides, fmt):
    """Analyse SPEC's replication graph: the path and hop count from each
    leader to each other, the leaders and links whose single failure stops
    some leader's writes reaching another live leader, the worst-case
    propagation latency (with system.latency_ms), and whether causal order
    is preserved by construction.

    \b
    Example:
      replcheck topology specs/faults/ring-crash.toml
      replcheck topology specs/seed/alice-bob-lww.toml --set system.topology=star --set system.hub=us-east
    """
    from replcheck.checks import render_topology
    try:
        click.echo(render_topology.render(load(spec, overrides), fmt))
    except ReplcheckError as e:
        raise BadInput(str(e)) from None


@main.command("explain")
@click.argument("spec", type=click.Path())
@click.option("--invariant", metavar="NAME", help="The invariant to explain (default: the first violated one).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown", show_default=True)
@click.option("--minimize/--no-minimize", "minimize", default=True, show_default=True,
              help="Drop trace events the violation does not need.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout).")
def explain_cmd(spec, invariant, overrides, fmt, minimize, output):
    """The lecture artefact for one invariant of SPEC: what went wrong, the
    counterexample as a sequence diagram, every leader's state at each step.

    \b
    Example:
      replcheck explain specs/seed/alice-bob-lww.toml --invariant no-lost-writes --format html -o lww.html
    """
    try:
        report = check(load(spec, overrides), [invariant] if invariant else None)
        chosen = [invariant] if invariant else [r.invariant for r in report.results if r.verdict == VIOLATED][:1]
        chosen = chosen or None  # nothing violated: the page shows every verdict
        render = render_markdown.render if fmt == "markdown" else render_html.render
        text = render(report, minimize, invariants=chosen)
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    _emit(text, output)
    sys.exit(_exit_code([r for r in report.results if chosen is None or r.invariant in chosen]))


def _csv_names(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(x.strip() for x in value.split(",") if x.strip()) or None


@main.command("matrix")
@click.argument("spec", type=click.Path())
@click.option("--resolvers", metavar="A,B,...", help="Comma-separated resolvers (default: every resolver).")
@click.option("--topologies", metavar="X,Y,...", help="Comma-separated topologies (default: the spec's).")
@click.option("--invariants", metavar="I,J,...", help="Comma-separated invariants (default: the spec's).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "csv", "json"]), default="text",
              show_default=True)
@click.option("--minimize/--no-minimize", "minimize", default=True, show_default=True,
              help="Minimise the counterexamples linked from the Markdown tables.")
@click.option("--progress/--no-progress", default=None, help="Show progress on stderr (default: on a terminal).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout).")
def matrix_cmd(spec, resolvers, topologies, invariants, fmt, minimize, progress, output):
    """Check SPEC under every resolver x topology combination and print the
    verdicts: resolvers as rows, invariants as columns, one table per
    topology (a star's hub: the spec's, else its first leader).

    \b
    Example:
      replcheck matrix specs/seed/alice-bob-lww.toml --resolvers lww,mv-register --topologies all-to-all,ring,star
    """
    show = sys.stderr.isatty() if progress is None else progress

    def tick(done, total, topology, resolver):
        if not show:
            return
        if topology is None:
            click.echo(f"\r  {done}/{total} combinations checked{' ' * 30}", err=True)
        else:
            click.echo(f"\r  [{done + 1}/{total}] {topology} / {resolver} ...{' ' * 10}", err=True, nl=False)

    try:
        m = matrix_mod.run(spec, _csv_names(resolvers), _csv_names(topologies), _csv_names(invariants), tick)
        text = matrix_mod.RENDERERS[fmt](m, minimize)
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    _emit(text, output)
    sys.exit(_exit_code([r for rep in m.checked() for r in rep.results]))


@main.command("replay")
@click.argument("spec", type=click.Path())
@click.argument("trace_file", metavar="TRACE.json", type=click.Path())
@click.option("--invariant", help="Replay the trace of this invariant (default: every trace in the file).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="The overrides the trace was made with.")
def replay_cmd(spec, trace_file, invariant, overrides):
    """Re-execute a saved trace (from check --format json) against SPEC and
    confirm its violation.  Exit 1 when the violation reproduces, 0 when the
    trace runs but the invariant now holds at its end, 2 when it does not fit.
    """
    try:
        s = load(spec, overrides)
        try:
            data = json.loads(Path(trace_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BadInput(f"{trace_file}: cannot read a JSON trace ({e}); pass the output of"
                           " replcheck check --format json") from None
        results = data.get("results") if isinstance(data, dict) else None
        if results is None and isinstance(data, dict) and isinstance(data.get("reports"), list):
            results = [r for rep in data["reports"] if isinstance(rep, dict)
                       for r in (rep.get("results") if isinstance(rep.get("results"), list) else [])]
        if results is None and isinstance(data, dict) and "steps" in data:
            if not invariant:
                raise BadInput(f"{trace_file}: a bare trace; name its invariant with --invariant")
            results = [{"invariant": invariant, "trace": data}]
        if not isinstance(results, list):
            raise BadInput(f"{trace_file}: results: missing; pass the output of replcheck check --format json")
        for i, r in enumerate(results):
            if not isinstance(r, dict) or not isinstance(r.get("invariant"), str) or not (
                    r.get("trace") is None or isinstance(r.get("trace"), dict)
                    and isinstance(r["trace"].get("steps", []), list)):
                raise BadInput(f"{trace_file}: results[{i}]: not a result with an invariant name and a trace"
                               " {\"steps\": [...]}; pass the output of replcheck check --format json")
        todo = [r for r in results if r.get("trace") and (not invariant or r.get("invariant") == invariant)]
        if not todo:
            raise BadInput(f"{trace_file}: no trace{' for ' + invariant if invariant else ''} in this file;"
                           " only violated invariants carry one")
        system = System(s)
        reproduced = False
        for r in todo:
            name = r.get("invariant")
            if name not in INVARIANTS:
                raise BadInput(f"{trace_file}: results.invariant: unknown '{name}' (replcheck list invariants)")
            path = path_from_json(system, r["trace"].get("steps", []), trace_file)
            trace, state = build_trace(system, path)
            inv = INVARIANTS[name]
            if state[3] and inv.scope == QUIESCENT:
                # As the engine does (checks/verdict.py _unless_looped): a loop-cut state looks quiescent
                # but replication never ends there, so only quiescent-scope invariants are not judged;
                # every-state ones are, replication-terminates above all (its violation is this state).
                click.echo(f"{name}: replayed {len(path)} steps, but a write was cut there after circling the"
                           " topology (a replication loop): a quiescent-state invariant is not judged there")
                continue
            if inv.scope == QUIESCENT and not is_quiescent(system, system.successors(state)):
                click.echo(f"{name}: replayed {len(path)} steps, but the end state is not quiescent;"
                           " the invariant is only judged at quiescent states")
                continue
            v = inv.build(system)(state)
            if v is None:
                click.echo(f"{name}: replayed {len(path)} steps; the invariant HOLDS at the end (not reproduced)")
            else:
                reproduced = True
                click.echo(f"{name}: replayed {len(path)} steps; violation reproduced: {v.anomaly}")
                click.echo(f"  {v.message}")
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    sys.exit(EXIT_VIOLATED if reproduced else EXIT_OK)


# ---------------------------------------------------------------- z3 (issue 6)
@main.group("smt")
def smt_group():
    """Ask Z3 what enumeration cannot: clock skew, merge laws, I-confluence
    (docs/z3.md).  Exit 0: no loss possible / proved / i-confluent; 1: a
    counterexample; 2: bad input; 3: incomplete (laws: convergence not
    proved; iconfluence: z3 timed out)."""


@smt_group.command("skew")
@click.argument("spec", type=click.Path())
@click.option("--max-skew", type=click.FloatRange(min=0), metavar="MS",
              help="Bound on every leader's |clock offset| in ms (default: unbounded).")
@click.option("--commit-ms", type=click.FloatRange(min=0), default=5, show_default=True,
              help="Time from a write's timestamp to its shipping.")
@click.option("--replication-ms", type=click.FloatRange(min=0), default=60, show_default=True,
              help="Least delay of one replication link (longer delays are allowed).")
@click.option("--minimize", is_flag=True, help="Also find the least skew at which a causally later write is lost.")
@click.option("--free-times", is_flag=True, help="Ignore the spec's time_ms: commits at any real time.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key.")
def smt_skew_cmd(spec, max_skew, commit_ms, replication_ms, minimize, free_times, overrides):
    """Under which clock offsets and commit times does LWW over wall clocks
    lose a write of SPEC?  Prints a witness timeline with every clock.

    \b
    Example:
      replcheck smt skew specs/seed/skew-wall.toml --minimize
    """
    from fractions import Fraction

    from replcheck.checks.smt import render as smt_render
    from replcheck.checks.smt import skew

    def frac(x):
        return None if x is None else Fraction(str(x))

    try:
        timing = skew.Timing(frac(commit_ms), frac(replication_ms), frac(max_skew), free_times)
        report = skew.analyse(load(spec, overrides), timing, minimize)
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    click.echo(smt_render.skew(report))
    sys.exit(EXIT_VIOLATED if report.lost_update or report.causally_later else EXIT_OK)


@smt_group.command("laws")
@click.argument("resolver", metavar="RESOLVER|MERGE.toml")
@click.option("--tie-break", type=click.Choice(sorted(TIE_BREAKS)), default="leader", show_default=True,
              help="For lww: the rule on equal timestamps.")
def smt_laws_cmd(resolver, tie_break):
    """Prove or refute commutativity, associativity and idempotence of a
    resolver's merge (or of a custom merge in a TOML file).

    \b
    Example:
      replcheck smt laws or-set
      replcheck smt laws lww --tie-break incoming-loses
      replcheck smt laws queries/merges/sum.toml
    """
    from replcheck.checks.smt import laws
    from replcheck.checks.smt import render as smt_render

    try:
        if resolver.endswith(".toml"):
            report = laws.check_laws(laws.load_custom(resolver))
        else:
            report = laws.report_for(resolver, tie_break)
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    click.echo(smt_render.laws(report))
    # 3: the laws hold for the value merge, but convergence is not proved
    sys.exit(EXIT_OK if report.converges else EXIT_VIOLATED if not report.proved else EXIT_INCOMPLETE)


@smt_group.command("iconfluence")
@click.argument("query", metavar="QUERY.toml", type=click.Path())
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=60, show_default=True,
              metavar="SECONDS", help="Time for z3 on the whole question (solving, then shrinking the"
                                      " counterexample); past it: exit 3 (incomplete), or an unshrunk counterexample.")
def smt_iconfluence_cmd(query, timeout_s):
    """Is QUERY's set of operations I-confluent for its invariant (Bailis et
    al., VLDB 2015)?  Prints ancestor / branch A / branch B / merge when not.
    Exit 3 when z3 cannot decide within --timeout.

    \b
    Example:
      replcheck smt iconfluence queries/iconfluence/stock-decrement.toml
    """
    from replcheck.checks.smt import iconfluence
    from replcheck.checks.smt import render as smt_render

    try:
        verdict = iconfluence.check(iconfluence.load_query(query), timeout_ms=max(1, round(timeout_s * 1000)))
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    click.echo(smt_render.iconfluence(verdict))
    sys.exit(EXIT_INCOMPLETE if verdict.incomplete else EXIT_OK if verdict.confluent else EXIT_VIOLATED)


@main.group("export")
def export_group():
    """Export a spec for another tool."""


@export_group.command("promela")
@click.argument("spec", type=click.Path())
@click.option("--invariant", "invariants", multiple=True, metavar="NAME",
              help="Assert only this invariant (convergence or no-lost-writes; repeatable).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the model to FILE.")
def export_promela_cmd(spec, invariants, overrides, output):
    """Write SPEC as a Promela model for SPIN, with the same semantics, the
    invariants asserted at quiescent states (core subset: register keys,
    fifo links, all-to-all/ring/star, lww or mv-register, no faults).

    \b
    Example:
      replcheck export promela specs/seed/alice-bob-lww.toml -o model.pml
      spin -a model.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m100000
    """
    from replcheck.checks.export_promela import export_promela
    try:
        text = export_promela(load(spec, overrides), invariants or None)
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# ------------------------------------------------------------ drills (issue 4)
@main.group("drill")
def drill_group():
    """Drills: a scenario, a student's answer (topology, resolver, routing,
    defense), and PASS/FAIL per required invariant with the counterexample
    and the answer's commit-latency cost (docs/drills/)."""


@drill_group.command("list")
@click.option("--drills", "folder", type=click.Path(file_okay=False), help="A folder of drills (default: the bundled).")
def drill_list_cmd(folder):
    """Show every drill: what it asks and the invariants an answer must keep."""
    from replcheck.checks import drill as drill_mod
    try:
        click.echo(drill_mod.render_list(drill_mod.list_drills(folder)))
    except ReplcheckError as e:
        raise BadInput(str(e)) from None


@drill_group.command("check")
@click.argument("answer", metavar="ANSWER.toml", type=click.Path())
@click.option("--drills", "folder", type=click.Path(file_okay=False), help="Where to find the drill (default: next"
              " to the answer, then the bundled drills).")
@click.option("--allow-python", is_flag=True, help="Let an answer's merge = \"module:function\" run (off by default).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the verdict to FILE.")
def drill_check_cmd(answer, folder, allow_python, output):
    """Run the drill under ANSWER and print PASS/FAIL per required invariant,
    the counterexample for each failure and the answer's cost.  Exit 0 when
    every invariant holds, 1 when one fails, 2 on bad input, 3 incomplete.

    \b
    Example:
      replcheck drill check specs/drills/answers/inventory-escrow.toml
    """
    from replcheck.checks import drill as drill_mod
    try:
        ans = drill_mod.load_answer(answer)
        d = drill_mod.find_drill(ans.drill, folder, near=Path(answer).parent)
        outcome = drill_mod.check_answer(d, ans, allow_python)
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    _emit(drill_mod.render_check(outcome), output)
    sys.exit(EXIT_OK if outcome.passed else EXIT_INCOMPLETE if outcome.incomplete and not any(
        r.verdict == VIOLATED for r in outcome.report.results) else EXIT_VIOLATED)


@drill_group.command("solve")
@click.argument("name", metavar="DRILL")
@click.option("--drills", "folder", type=click.Path(file_okay=False), help="A folder of drills (default: the bundled).")
@click.option("--topologies", metavar="X,Y,...", help="Comma-separated topologies (default: all-to-all,ring,star).")
@click.option("--resolvers", metavar="A,B,...", help="Comma-separated resolvers (default: the whole catalogue).")
@click.option("--routing", "routings", metavar="R,...", help="none, home-leader or home-leader:<basis> (default: all).")
@click.option("--progress/--no-progress", default=None, help="Show progress on stderr (default: on a terminal).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the table to FILE.")
def drill_solve_cmd(name, folder, topologies, resolvers, routings, progress, output):
    """Try every topology x resolver x routing (x layout) of the catalogue on
    DRILL and print which pass: the instructor's answer space.  Combinations
    the workload cannot run are n/a, with the reason.  Exit 0 when some
    answer passes, 1 when none does.

    \b
    Example:
      replcheck drill solve inventory
      replcheck drill solve user-auth --resolvers lww,mv-register
    """
    from replcheck.checks import drill as drill_mod
    show = sys.stderr.isatty() if progress is None else progress

    def tick(done, total, ans):
        if not show:
            return
        if ans is None:
            click.echo(f"\r  {total}/{total} answers checked{' ' * 50}", err=True)
        else:
            click.echo(f"\r  [{done + 1}/{total}] {ans.label[:70]:<70}", err=True, nl=False)

    try:
        d = drill_mod.find_drill(name, folder)
        cells = drill_mod.solve(d, _csv_names(topologies), _csv_names(resolvers), _csv_names(routings), tick)
    except ReplcheckError as e:
        raise BadInput(str(e)) from None
    _emit(drill_mod.render_solve(d, cells), output)
    sys.exit(EXIT_OK if any(c.verdict == "pass" for c in cells) else EXIT_VIOLATED)


if __name__ == "__main__":  # pragma: no cover
    main()
