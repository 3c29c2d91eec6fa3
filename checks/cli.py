"""The ``replcheck`` command line: thin adapters over the library.

Exit codes (every command): 0 all invariants hold (or all expectations
met), 1 a violation was found (or an expectation was not met), 2 bad input,
3 incomplete (a bound cut the search before any violation).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import os
import sys
import time
from pathlib import Path

import click

from replcheck.bundled import locate
from replcheck.checks.atomic import replacing
from replcheck.checks.budget import TOTAL, Budget
from replcheck.checks import escape as esc
from replcheck.checks import matrix as matrix_mod
from replcheck.checks import render_html, render_itf, render_json, render_markdown, render_png, render_svg, render_text
from replcheck.checks.explain import explained
from replcheck.checks.expectations import compare as _compare_expectations   # one judge: also the pytest plugin's
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.trace import build_trace, path_from_json
from replcheck.checks.verdict import (ENGINES, HOLDS, INCOMPLETE, VIOLATED, Options, Report, Verdict, check, load,
                                       not_run)
from replcheck.model.clocks import CLOCKS
from replcheck.model.errors import ReplcheckError
from replcheck.model.resolvers import RESOLVERS
from replcheck.model.resolvers.lww import TIE_BREAKS
from replcheck.model import state as st
from replcheck.model.search import QUIESCENT, is_quiescent
from replcheck.model.spec import MAX_NESTING, input_error, nesting_depth
from replcheck.model.system import System
from replcheck.model.topology import LOOP_PREVENTION, TOPOLOGIES

EXIT_OK, EXIT_VIOLATED, EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class BadInput(click.ClickException):
    """A domain error shown as one line on stderr, exit 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file=None):
        # One line, nothing a terminal acts on: user values' control characters as escapes ('a\nb').
        from replcheck.model.errors import one_line
        click.echo(f"replcheck: {one_line(self.message)}", err=True)


class InternalError(BadInput):
    """A bug in replcheck, not in the input: one line on stderr, exit 4 —
    never 1, which means "violation" (README, "Exit codes")."""

    exit_code = EXIT_INTERNAL


class Interrupted(BadInput):
    """Ctrl-C or SIGTERM before anything could be reported: one line, exit 3
    (a stopped run is incomplete, README "Exit codes")."""

    exit_code = EXIT_INCOMPLETE

    def __init__(self, message="interrupted (Ctrl-C or SIGTERM) before a result could be shown; nothing was"
                               " reported"):
        super().__init__(message)


class _Guarded(click.Group):
    """The one error policy of every command: a :class:`ReplcheckError` is
    bad input (exit 2, one line naming file, key and fix); input nested
    too deeply for the parsers is bad input too; running out of memory is
    an incomplete run (exit 3); anything else is an internal error (exit 4,
    one line; ``REPLCHECK_DEBUG=1`` shows the traceback).  No traceback
    reaches a user by default."""

    def invoke(self, ctx):
        from replcheck.checks import signals
        try:
            with signals.installed():   # SIGTERM stops as Ctrl-C does; both reach z3 (checks/signals.py)
                return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            # A stop outside any engine (which would have returned a partial result): nothing
            # finished to show — exit 3, never click's "Aborted!" (exit 1 means "violation").
            raise Interrupted() from None
        except ReplcheckError as e:
            err = BadInput(str(e))
            err.exit_code = getattr(e, "exit_code", EXIT_BAD_INPUT)   # TargetUnavailable: 3
            raise err from None
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
        self.announced: set = set()

    def __call__(self, stats):
        if not self.enabled:
            return
        new = [v for v in getattr(stats, "violated", ()) if v not in self.announced]
        if new:   # a long run says so as soon as it knows; the search goes on for the other invariants
            self.announced.update(new)
            click.echo(f"\r  {', '.join(new)} VIOLATED after {stats.states:,} states ({stats.seconds:.1f} s); the"
                       " search goes on for the other invariants" + " " * 10, err=True)
        self.shown = True
        click.echo(f"\r  {stats.states:>12,} states  {stats.states_per_second:>9,.0f}/s  depth {stats.depth:>3}"
                   f"  frontier {stats.frontier:>10,}", err=True, nl=False)

    def done(self):
        if self.shown:
            click.echo("", err=True)
            self.shown = False
        self.announced = set()


# ------------------------------------------------- one exit policy (issue 13)
def exit_for(verdicts) -> int:
    """The one exit policy of every command, over :mod:`checks.verdict`
    values: any ``violated`` → 1, else any ``incomplete`` → 3, else 0.
    Commands whose outcome is not a list of invariant results (replay, smt,
    drill) map it onto a verdict first (:func:`_finish`)."""
    seen = set(verdicts)
    return EXIT_VIOLATED if VIOLATED in seen else EXIT_INCOMPLETE if INCOMPLETE in seen else EXIT_OK


def _finish(*verdicts) -> None:
    """Exit with :func:`exit_for` of ``verdicts`` (each a verdict or an
    iterable of them)."""
    flat = [v for x in verdicts for v in ((x,) if isinstance(x, str) else x)]
    sys.exit(exit_for(flat))


# ------------------------------------------- one option vocabulary (issue 13)
class _Aliased(click.Option):
    """An option whose first spelling is the documented one; ``aliases`` are
    older spellings, still accepted (no script breaks) but hidden from
    ``--help`` and deprecated (README, "Commands")."""

    def __init__(self, param_decls, aliases=(), **attrs):
        super().__init__(param_decls, **attrs)
        self.aliases = tuple(aliases)

    def get_help_record(self, ctx):
        shown = self.opts
        self.opts = [o for o in shown if o not in self.aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def _split_names(ctx, param, value) -> tuple[str, ...]:
    """Repeatable and comma-separated alike: ``--x a --x b,c`` → (a, b, c)."""
    return tuple(dict.fromkeys(n.strip() for v in value or () for n in v.split(",") if n.strip()))


def names_option(name: str, dest: str, help: str, aliases=(), metavar="NAME"):
    """``--invariant``, ``--resolver``, ``--topology``, ``--routing``: the
    same shape on every command — repeatable, each also a comma list;
    empty tuple when not given (the command's default)."""
    return click.option(name, *aliases, dest, cls=_Aliased, aliases=aliases, multiple=True, metavar=metavar,
                        callback=_split_names, help=help + " Repeatable, or a comma-separated list.")


def set_option(help="Override a spec key, e.g. --set system.resolver=mv-register (repeatable)."):
    return click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=help)


def output_option(what="the output", inputs=()):
    """``-o FILE``, checked before the command runs (:func:`guard_output`):
    its folder must exist and be writable, and it must not be one of the
    command's input files — ``inputs`` names the parameters that hold them
    (or is a function of the parameters giving the paths)."""
    def deco(f):
        @functools.wraps(f)
        def command(*args, **kwargs):
            if kwargs.get("output"):
                paths = inputs(kwargs) if callable(inputs) else [kwargs.get(n) for n in inputs]
                guard_output(kwargs["output"], *paths)
            return f(*args, **kwargs)

        return click.option("-o", "--output", type=click.Path(), metavar="FILE",
                            help=f"Write {what} to FILE (default: stdout).")(command)
    return deco


def guard_output(output, *inputs) -> None:
    """Refuse ``-o output`` before any work (exit 2, one line): a folder that
    does not exist or cannot be written, a folder given as the file, a
    read-only file, or one of ``inputs`` (paths, tuples of paths or folders
    of specs) — a run must never overwrite what it reads."""
    out = Path(output)
    if str(output).endswith(("/", os.sep)) and not out.is_dir():
        raise BadInput(f"{output}: -o: names a folder (it ends in '/'), and no such folder exists; give a file"
                       " path, e.g. out.txt")
    if out.is_symlink():
        out = out.resolve()   # the file written is the link's target (write_output)
    folder = out.parent
    if not folder.is_dir():
        raise BadInput(f"{output}: -o: the folder '{folder}' does not exist; create it first or choose another"
                       " output path")
    if out.is_dir():
        raise BadInput(f"{output}: -o: is a folder; give a file path, e.g. {out / 'out.txt'}")
    if not os.access(folder, os.W_OK | os.X_OK) or out.exists() and not os.access(out, os.W_OK):
        raise BadInput(f"{output}: -o: cannot write here (permission denied); choose another output path")
    if not out.exists():
        return   # a file that does not exist yet is no input
    for given in inputs:
        for name in (given if isinstance(given, (tuple, list)) else (given,)):
            if not name:
                continue
            p = locate(name)
            candidates = sorted(p.rglob("*.toml")) if p.is_dir() else [p]
            for c in candidates:
                try:
                    same = os.path.samefile(out, c)
                except OSError:
                    same = False
                if same:
                    shown = name if c == p else c
                    raise BadInput(f"{output}: -o: would overwrite the input {shown}; choose another output path")


def write_output(output, text: str) -> None:
    """Write ``text`` to ``output`` atomically (:func:`checks.atomic.replacing`:
    a temporary file in the same folder, then :func:`os.replace`), so an
    interrupted or failed write never leaves a truncated file (the old one,
    if any, stays).  A failure (disk full, permissions) is one line, exit 2."""
    try:
        with replacing(output) as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
    except OSError as e:
        raise BadInput(f"{output}: cannot write the output ({e.strerror or e}); free some space or choose another"
                       " output path") from None


def format_option(choices, default="text", help=None):
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True,
                        help=help)


def minimize_option(default, help="Drop trace events the violation does not need."):
    return click.option("--minimize/--no-minimize", "minimize", default=default, show_default=default is not None,
                        help=help)


def progress_option():
    return click.option("--progress/--no-progress", default=None,
                        help="Show progress on stderr (default: on a terminal).")


def allow_python_help(who: str = "a spec") -> str:
    return (f"Let {who} run the merge function it names (merge = \"module:function\", or \"file.py:function\""
            f" read from {who}'s folder); off by default. Only a plain function of two values defined with def at"
            " the top level of your own module: never the standard library (os:popen is refused), nor a name the"
            " file does not define (checked before it is imported). Importing runs the module's top-level code; a"
            " line on stderr names what runs first.")


@dataclasses.dataclass(frozen=True)
class Search:
    """How ``check`` searches, built once from its options
    (:func:`search_options`): the engine, the bounds and the library's
    :class:`Options`."""

    engine: str = "bfs"
    options: Options = Options()
    max_states: int | None = None
    max_depth: int | None = None
    max_seconds: float | None = None
    max_memory: int | None = None

    def bound(self, spec):
        return spec.with_bounds(max_states=self.max_states, max_depth=self.max_depth, max_seconds=self.max_seconds,
                                max_memory=self.max_memory)


class Size(click.ParamType):
    """A memory size: ``4G``, ``512M``, ``1.5G`` or bytes (model/memory.py)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from replcheck.model.memory import parse_size
        try:
            return parse_size(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


def total_seconds_option(per: str):
    """``--total-seconds``: the whole command's time (checks/budget.py);
    ``--max-seconds`` / ``[bounds]`` stay per run."""
    return click.option("--total-seconds", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
                        help=f"Bound the whole command (every {per} together; --max-seconds bounds each run):"
                             " runs not started by then are incomplete (total_seconds), exit 3.")


def _say_total(n_not_run: int, seconds, what: str) -> None:
    """One stderr line when ``--total-seconds`` kept runs from starting."""
    if n_not_run:
        click.echo(f"replcheck: --total-seconds {seconds:g} ran out: {n_not_run} {what} not started are incomplete"
                   " (total_seconds)", err=True)


def cluster_option(workers: bool = False):
    """``--cluster local|ADDRESS`` (replcheck.cluster, the optional extra
    ``replcheck[cluster]``); with ``workers``, also ``--workers N``: the
    CPUs of a local cluster (``check`` has its own ``--workers``)."""
    def deco(f):
        f = click.option("--cluster", metavar="local|ADDRESS",
                         help="Run the independent runs (and a single exhaustive search) on Ray: local starts a"
                              " runtime on this machine, HOST:PORT joins `ray start --head` (docs/scale-out.md);"
                              " needs pip install 'replcheck[cluster]'.")(f)
        if workers:
            f = click.option("--workers", type=click.IntRange(min=1), metavar="N",
                             help="CPUs of --cluster local (default: every core).")(f)
        return f
    return deco


def _cluster_of(address, workers):
    """The :class:`replcheck.cluster.Cluster` of ``--cluster`` (``None``: this process)."""
    if address is None:
        if workers is not None and workers > 1:
            raise BadInput("--workers: only with --cluster local; add --cluster local or drop --workers")
        return None
    from replcheck import cluster
    return cluster.parse(address, workers)


def search_options(f):
    """Add check's search options and hand the command one :class:`Search`
    (``search=``) instead of fourteen parameters; refuses combinations
    that cannot run."""

    @functools.wraps(f)
    def command(*args, max_states, max_depth, max_seconds, max_memory, engine, depth, por, dead_variables, symmetry,
                stop_early, fingerprint, simulate, runs, seed, workers, **kwargs):
        if fingerprint and engine != "bfs":
            raise BadInput(f"--fingerprint: only the bfs engine keeps a visited set of fingerprints, not {engine};"
                           " drop --fingerprint or use --engine bfs")
        if simulate and engine != "bfs":
            raise BadInput(f"--simulate: random runs replace the exhaustive engines; drop --engine {engine}")
        if workers > 1 and not simulate and kwargs.get("cluster") is None:
            raise BadInput("--workers: only --simulate runs in parallel; add --simulate or drop --workers")
        opts = Options(por=por, dead_variables=dead_variables, symmetry=symmetry, fingerprint=fingerprint,
                       simulate=runs if simulate else None, seed=seed, workers=workers, stop_early=stop_early)
        search = Search(engine, opts, max_states, depth or max_depth, max_seconds, max_memory)
        return f(*args, search=search, **kwargs)

    for deco in reversed([
        click.option("--max-states", type=click.IntRange(min=1), help="Stop after this many distinct states."),
        click.option("--max-depth", type=click.IntRange(min=1), help="Do not expand states deeper than this."),
        click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True),
                     help="Stop after this long (every engine; z3 gets what is left of it)."),
        click.option("--max-memory", type=Size(), metavar="SIZE",
                     help="Stop when the process holds this much memory, e.g. 4G or 512M (default: 75% of the"
                          " memory available at the start): incomplete (max_memory), exit 3."),
        click.option("--engine", type=click.Choice(ENGINES), default="bfs", show_default=True,
                     help="bfs gives shortest counterexamples; dfs is a cross-check; smt is the symbolic engine"
                          " (docs/z3.md)."),
        click.option("--depth", type=click.IntRange(min=1), metavar="K",
                     help="Unrolling depth of --engine smt (default: the execution bound, which covers every run);"
                          " with bfs/dfs the same as --max-depth."),
        click.option("--por/--no-por", default=True, show_default=True,
                     help="Partial-order reduction where it is sound (docs/reductions.md); never changes a verdict."),
        click.option("--dead-variables/--no-dead-variables", default=True, show_default=True,
                     help="Drop what can no longer influence a step or a verdict: ghost happens-before when nothing"
                          " reads it; with --por, a busy leader's content and messages that cannot move its clock."),
        click.option("--symmetry/--no-symmetry", default=True, show_default=True,
                     help="Store one state per orbit of interchangeable leaders (all-to-all, same workload shape;"
                          " docs/reductions.md); never changes a verdict."),
        click.option("--stop-early", is_flag=True,
                     help="Stop once every invariant has a counterexample: faster, but the anomaly kinds are 'at"
                          " least' and a reduced search's trace is not proved shortest."),
        click.option("--fingerprint", is_flag=True,
                     help="Keep 64-bit state fingerprints instead of states in the visited set (less memory; a hash"
                          " collision can hide states with the probability printed in the stats)."),
        click.option("--simulate", "simulate", is_flag=True,
                     help="Random runs instead of exhaustive search, for specs too large to exhaust: reports a"
                          " violation with its trace, else incomplete, never holds."),
        click.option("--runs", type=click.IntRange(min=1), default=1000, show_default=True,
                     help="Runs for --simulate."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Random seed for --simulate (reproducible)."),
        click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Processes for --simulate (a parallel swarm; use 2 on a 2-core machine); with --cluster"
                          " local, the cluster's CPUs."),
    ]):
        command = deco(command)
    return command


@click.group(cls=_Guarded, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="replcheck")
def main():
    """Check designs for multi-leader (active-active) replication.

    Exit codes: 0 all hold, 1 a violation found, 2 bad input, 3 incomplete,
    4 internal error (a bug in replcheck; REPLCHECK_DEBUG=1 shows it).
    """


@main.command("check")
@click.argument("specs", nargs=-1, required=True, type=click.Path())
@names_option("--invariant", "invariants", "Check only this invariant (default: the spec's [check] list).")
@set_option()
@format_option(["text", "json", "markdown", "html", "itf", "svg", "png"],
               help="markdown: Mermaid sequence diagrams; html: a self-contained trace viewer;"
                    " itf: the Apalache/Quint trace format; svg: 16:9 slides (a long trace: one file per page with"
                    " -o, NAME-1.svg, NAME-2.svg, ...); png: the same through chromium (needs -o).")
@minimize_option(None, help="Drop trace events the violation does not need (default: on for markdown, html, svg"
                            " and png).")
@click.option("--expect", "expect_mode", is_flag=True,
              help="Compare every verdict with the spec's [expect] table; exit 0 only if all match.")
@names_option("--resolver", "resolvers",
              "Check each spec under this resolver, or under every resolver of the catalogue (all): one report,"
              " with its traces, per resolver; n/a lines say why a resolver cannot run (docs/z3.md).",
              metavar="NAME|all")
@click.option("--allow-python", is_flag=True, help=allow_python_help())
@total_seconds_option("spec and resolver")
@click.option("--show-outcomes", is_flag=True,
              help="Also list the distinct ways a run can end (each leader's values), with one shortest run reaching"
                   " each and the ops local checks rejected in it (text and json).")
@click.option("-q", "--quiet", is_flag=True, help="Text: the verdict lines only.")
@click.option("-v", "--verbose", is_flag=True, help="Text: also the engine's figures (transitions, depth, states/s)"
                                                   " and which reductions ran.")
@progress_option()
@cluster_option()
@output_option("the report", inputs=("specs",))
@search_options
def check_cmd(specs, invariants, overrides, fmt, minimize, expect_mode, resolvers, allow_python, total_seconds,
              show_outcomes, quiet, verbose, progress, cluster, output, search):
    """Explore every interleaving of SPECS (files or folders) and report a
    verdict per invariant, with the shortest counterexample when one fails.

    \b
    Example:
      replcheck check specs/seed/alice-bob-lww.toml
      replcheck check specs/seed/alice-bob-lww.toml --set system.resolver=mv-register
      replcheck check --expect specs/
      replcheck check specs/seed/alice-bob-lww.toml --format html -o trace.html
    """
    minimise = _minimise_flag(fmt, minimize)
    if (quiet or verbose) and (fmt != "text" or expect_mode):
        raise BadInput(f"{'-q' if quiet else '-v'}: applies to the text report, not --format {fmt}"
                       + (" or --expect" if expect_mode else "") + "; drop it")
    if quiet and verbose:
        raise BadInput("-q and -v: choose one (verdicts only, or the engine's figures too)")
    if show_outcomes and (fmt not in ("text", "json") or expect_mode):
        raise BadInput(f"--show-outcomes: lists outcomes in the text or json report, not --format {fmt}"
                       + (" or --expect" if expect_mode else "") + "; drop it")
    if expect_mode and fmt != "text":
        raise BadInput(f"--expect: writes the expectations report as text, not --format {fmt};"
                       " drop --format (or drop --expect to render the reports)")
    _slides_first(fmt, output)
    bar = _Progress(sys.stderr.isatty() if progress is None else progress)
    on = _cluster_of(cluster, search.options.workers if cluster and search.options.workers > 1 else None)
    try:
        reports, skipped = _check_all(specs, invariants, overrides, resolvers, allow_python, expect_mode, search, bar,
                                      Budget.start(total_seconds), on)
    finally:
        bar.done()
    stopped = any(rep.cut in ("interrupted", TOTAL) for rep in reports)
    if any(rep.cut == "interrupted" for rep in reports):
        click.echo("replcheck: interrupted (Ctrl-C or SIGTERM): what finished is shown; the rest is incomplete"
                   " (interrupted)", err=True)
    _say_total(sum(1 for rep in reports if rep.cut == TOTAL), total_seconds, "runs")
    if expect_mode:
        own = {str(p): load(p, overrides).resolver for p in _spec_files(specs)} if resolvers else None
        text, ok = _compare_expectations(reports, skipped, own)
        _emit(text, output, "the expectations report")
        compared = [rep for rep in reports if not own or rep.spec.resolver == own.get(rep.spec.source)]
        # nothing compared (every run under another resolver): not a pass — incomplete, exit 3
        _finish(HOLDS if ok else VIOLATED, [INCOMPLETE] if stopped or (own and not compared) else [])
    try:
        ends = _outcomes(reports) if show_outcomes else None
        if fmt in SLIDES or fmt in RICH:
            # counterexamples built (replayed, minimised) before rendering; renderers only read them
            exs = [explained(r, minimise) for r in reports]
        if fmt in SLIDES:
            slides = render_svg.pages(exs)
        elif fmt == "json":
            text = render_json.render(reports, ends)
        elif fmt in RICH:
            text = RICH[fmt](exs)
        else:
            style = _verdict_style(output)
            level = 0 if quiet else 2 if verbose else 1
            text = "\n\n".join([render_text.render(r, level, style)
                                + (("\n" + esc.terminal_lines(["", *ends[k][1]])) if ends else "")
                                for k, r in enumerate(reports)]
                               + ([esc.terminal_lines(skipped)] if skipped else []))
    except KeyboardInterrupt:
        # Stopped while rendering: the verdicts are known, the report is not written.
        click.echo(f"replcheck: interrupted while rendering --format {fmt}; the report was not written;"
                   " the verdicts:", err=True)
        click.echo("\n".join(_verdict_lines(reports)))
        _finish(INCOMPLETE, (r.verdict for rep in reports for r in rep.results))
    counts = collections.Counter(r.verdict for rep in reports for r in rep.results)
    summary = ", ".join(f"{counts[v]} {v}" for v in (VIOLATED, INCOMPLETE, HOLDS) if counts[v])
    if fmt in SLIDES:
        _emit_slides(slides, fmt, output, specs)
    else:
        _emit(text, output, f"the report ({fmt}; {summary or 'no verdicts'})")
    _finish(r.verdict for rep in reports for r in rep.results)


def _outcomes(reports) -> list:
    """``--show-outcomes``: per report, ``(json, text lines)`` of the
    distinct quiescent outcomes (checks/outcomes.py), each explored within
    the spec's own bounds."""
    from replcheck.checks import outcomes as oc
    from replcheck.model.system import System
    out = []
    for rep in reports:
        system = System(rep.spec)
        b = rep.spec.bounds
        o = oc.outcomes(system, b.max_states, b.max_seconds)
        out.append((oc.to_json(system, o), oc.render_text(system, o)))
    return out


_COLOURS = {"VIOLATED": dict(fg="red", bold=True), "holds": dict(fg="green"), "incomplete": dict(fg="yellow")}


def _verdict_style(output):
    """Colour for the verdict words: only on a terminal (stdout, not ``-o``),
    never when ``NO_COLOR`` is set (https://no-color.org) or ``TERM=dumb``."""
    if output or not sys.stdout.isatty() or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return lambda word: word
    return lambda word: click.style(word, **_COLOURS.get(word, {}))


def _verdict_lines(reports) -> list[str]:
    """One line per spec and invariant: the verdict (a fallback when the
    full report cannot be rendered)."""
    out = []
    for rep in reports:
        for r in rep.results:
            detail = f" {r.anomaly}" if r.verdict == VIOLATED else f" ({r.bound})" if r.verdict == INCOMPLETE else ""
            out.append(f"{rep.spec.source}: {r.invariant} {r.verdict}{detail}")
    return out


_ANNOUNCED: set = set()


def announce_python(spec) -> None:
    """``--allow-python``: say on stderr what will run, before it runs
    (each function once; model/resolvers/custom_merge.py checks the rules
    and refuses, exit 2, before anything is imported)."""
    from replcheck.model.resolvers.custom_merge import what_runs
    for line in what_runs(spec):
        if line not in _ANNOUNCED:
            _ANNOUNCED.add(line)
            click.echo(f"replcheck: --allow-python: running {line}; importing it runs that file's top-level code",
                       err=True)


def _check_all(specs, invariants, overrides, resolvers, allow_python, expect_mode, search, bar, budget=Budget(),
               cluster=None):
    """Every spec of ``specs`` (under each of ``resolvers`` when given),
    checked: ``(reports, skipped lines)``.  Once the run is stopped (Ctrl-C,
    SIGTERM), the specs not reached get a report of ``incomplete
    (interrupted)`` results (:func:`checks.verdict.not_run`); once
    ``budget`` (``--total-seconds``) is spent, ``incomplete
    (total_seconds)`` ones, and each run's time is clamped to what is left."""
    skipped: list[str] = []
    runs_of = [(p, load(p, overrides)) for p in _spec_files(specs)]
    if resolvers:   # one run per resolver (checks/smt/per_resolver.py)
        from replcheck.checks.smt.per_resolver import variants
        each = [(p, r, v) for p, _ in runs_of for which in resolvers
                for r, v in variants(p, overrides, which, search.engine)]
        skipped += [f"n/a  {r}: {v}" for _, r, v in each if isinstance(v, str)]
        runs_of = [(p, v) for p, _, v in each if not isinstance(v, str)]
        if not runs_of:
            raise BadInput(f"--resolver {','.join(resolvers)}: no resolver can run this spec ("
                           + "; ".join(f"{r}: {v}" for _, r, v in each) + ")")
    reports = []
    stopped = False
    for path, spec in runs_of:
        spec = search.bound(spec)
        if expect_mode and not spec.expect:
            raise BadInput(f"{path}: expect: no [expect] table; add the verdicts this spec must give")
        if "python" in spec.requires:
            if allow_python:
                spec = dataclasses.replace(spec, allow_python=True)
                announce_python(spec)
            elif expect_mode:
                skipped.append(f"skipped  {spec.source}: needs --allow-python (requires = [\"python\"])")
                continue
        if not stopped and budget.spent:
            reports.append(not_run(spec, invariants or None, search.engine, why=TOTAL))
            continue
        if not stopped:
            spec = budget.bound(spec)
            if cluster is not None:   # checked below, on the cluster (replcheck.cluster.sweep)
                reports.append(spec)
                continue
            try:
                rep = check(spec, invariants or None, engine=search.engine, progress=bar, options=search.options)
            except KeyboardInterrupt:   # stopped outside the search (planning, replaying a trace)
                rep = None
            stopped = rep is None or rep.cut == "interrupted"
            bar.done()
            if rep is not None:
                reports.append(rep)
                continue
        reports.append(not_run(spec, invariants or None, search.engine))
    if cluster is not None:
        from replcheck.cluster import sweep
        todo = [i for i, r in enumerate(reports) if not isinstance(r, Report)]
        done = sweep.check_specs(cluster, [reports[i] for i in todo], invariants or None, search.engine,
                                 search.options, budget, bar)
        for i, rep in zip(todo, done):
            reports[i] = rep
    return reports, skipped


# The renderings of issue 7; each takes (reports, minimise) and returns a string.
RICH = {"markdown": render_markdown.render_many, "html": render_html.render_many, "itf": render_itf.render}
# Slides (docs/rendering.md "SVG and PNG"): pages (checks/render_svg.py), one file each with -o.
SLIDES = ("svg", "png")


def _slides_first(fmt: str, output) -> None:
    """--format png, before any work: refused without -o (a PNG is binary,
    not for a terminal or a pipe) and without chromium (one line, exit 2)."""
    if fmt == "png":
        if not output:
            raise BadInput("--format png: needs -o FILE.png (a PNG is not written to the terminal); or use --format"
                           " svg, which can be")
        render_png.chromium()


def _emit_slides(pages, fmt: str, output, inputs) -> None:
    """Slides out: without -o, every SVG page stacked in one document on
    stdout; with -o FILE, FILE itself for one page, else FILE-1, FILE-2,
    ... beside it (checked as -o is), named on stderr."""
    if not output:
        click.echo(render_svg.stacked(pages), nl=False)
        return
    paths = render_svg.page_paths(output, len(pages))
    if len(paths) > 1:
        for path in paths:
            guard_output(path, inputs)
    if fmt == "png":
        render_png.write(pages, paths)
    else:
        for page, path in zip(pages, paths):
            write_output(path, page.svg)
    if len(paths) > 1:
        click.echo(f"replcheck: {len(paths)} pages: wrote {esc.terminal(', '.join(paths))}", err=True)


def _minimise_flag(fmt: str, minimize) -> bool:
    """--minimize is on by default for the renderings people look at; text
    and JSON stay the engine's shortest trace (JSON is what replay reads)."""
    if minimize is None:
        return fmt in ("markdown", "html", "svg", "png")
    if minimize and fmt in ("text", "json"):
        raise BadInput(f"--minimize: applies to --format markdown, html, itf, svg or png, not {fmt};"
                       " drop --minimize or pick one of those formats")
    return minimize


def _emit(text: str, output, what: str = "the output") -> None:
    """``text`` on stdout, or written to ``output`` — then one line on
    stderr says what was written where (README "Exit codes": the exit code
    is still the verdict's, so a script can tell the two apart)."""
    if output:
        write_output(output, text + "\n")
        click.echo(f"replcheck: wrote {what} to {esc.terminal(output)}", err=True)
    else:
        click.echo(text)


@main.command("list")
@click.argument("what", type=click.Choice(["resolvers", "topologies", "invariants", "clocks", "loop-prevention",
                                           "tie-breaks"]))
def list_cmd(what):
    """Print what exists, each with its one-line meaning."""
    if what == "resolvers":
        # Coverage columns (issue 13): the family, then which engines and questions cover the entry —
        # every entry has the explicit engine; smt, laws, promela (SPIN), skew and a conform target vary.
        def covered(r):
            names = {"promela": "spin", "conform": f"conform:{r.conform[0]}" if r.conform else ""}
            return " ".join(names.get(e, e) for e in r.engines())
        cover = {r.name: covered(r) for r in RESOLVERS.values()}
        fam = max(len(r.family) for r in RESOLVERS.values())
        cw = max(len(c) for c in cover.values())
        click.echo(f"{'resolver':<28}  {'family':<{fam}}  {'covered by':<{cw}}  meaning [source]")
        rows = [(r.name, f"{r.family:<{fam}}  {cover[r.name]:<{cw}}  {r.summary} [{r.source}]")
                for r in RESOLVERS.values()]
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
    width = max(len(n) for n, _ in rows) if what != "resolvers" else 28
    for name, meaning in rows:
        click.echo(f"{name:<{width}}  {meaning}")


@main.command("topology")
@click.argument("spec", type=click.Path())
@set_option()
@format_option(["text", "json"])
@output_option("the analysis", inputs=("spec",))
def topology_cmd(spec, overrides, fmt, output):
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
    _emit(render_topology.render(load(spec, overrides), fmt), output)


@main.command("explain")
@click.argument("spec", type=click.Path())
@names_option("--invariant", "invariants", "The invariant to explain (default: the first violated one).")
@set_option()
@format_option(["markdown", "html", "svg", "png"], default="markdown",
               help="svg: 16:9 slides (a long trace: one file per page with -o, NAME-1.svg, ...); png: the same"
                    " through chromium (needs -o).")
@minimize_option(True)
@click.option("--observed", type=click.Choice(["pglogical", "pycrdt"]), metavar="TARGET",
              help="Also run the counterexample on the real product and show what it did (docs/conformance.md).")
@output_option(inputs=("spec",))
def explain_cmd(spec, invariants, overrides, fmt, minimize, observed, output):
    """The lecture artefact for one invariant of SPEC: what went wrong, the
    counterexample as a sequence diagram, every leader's state at each step;
    with --observed, what the real product did with the same schedule.

    \b
    Example:
      replcheck explain specs/seed/alice-bob-lww.toml --invariant no-lost-writes --format html -o lww.html
      replcheck explain specs/conformance/pglogical/update-skew-last-update-wins.toml --observed pglogical
    """
    _slides_first(fmt, output)
    if observed and fmt in SLIDES:
        raise BadInput(f"--observed: shown in --format markdown or html, not {fmt}")
    spec_obj = load(spec, overrides)
    if observed:
        from replcheck.checks.conform.run import applicable
        applicable(spec_obj, observed)      # bad input before any work
    report = check(spec_obj, list(invariants) or None)
    chosen = list(invariants) or [r.invariant for r in report.results if r.verdict == VIOLATED][:1]
    chosen = chosen or None  # nothing violated: the page shows every verdict
    ex = explained(report, minimize)
    if fmt in SLIDES:
        _emit_slides(render_svg.pages([ex], invariants=chosen), fmt, output, (spec,))
        _finish(r.verdict for r in report.results if chosen is None or r.invariant in chosen)
    render = render_markdown.render if fmt == "markdown" else render_html.render
    text = render(ex, invariants=chosen)
    if observed:
        from replcheck.checks.conform import observe
        for cx in ex.only(chosen):
            product, outcome = observe.observe(spec_obj, cx.result.trace, observed)
            if fmt == "markdown":
                text = text.rstrip("\n") + "\n\n" + observe.markdown_section(product, outcome)
            else:
                section = observe.html_section(product, outcome)
                text = text.replace("</main>", section + "</main>", 1)
    _emit(text, output, f"the lecture artefact ({fmt})")
    # The artefact is the product: written is success (exit 0), whatever verdict it shows; a shown
    # verdict a bound left unsettled is still exit 3 (README "Exit codes", explain).
    shown = [r for r in report.results if chosen is None or r.invariant in chosen]
    _finish(INCOMPLETE if any(r.verdict == INCOMPLETE for r in shown) else HOLDS)


@main.command("matrix")
@click.argument("spec", type=click.Path())
@names_option("--resolver", "resolvers", "A resolver row (default: every resolver).", aliases=("--resolvers",))
@names_option("--topology", "topologies", "A topology table (default: the spec's).", aliases=("--topologies",))
@names_option("--invariant", "invariants", "An invariant column (default: the spec's).", aliases=("--invariants",))
@format_option(["text", "markdown", "csv", "json"])
@minimize_option(True, help="Minimise the counterexamples linked from the Markdown tables.")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Bound each combination's run (default: the spec's [bounds] max_seconds).")
@total_seconds_option("combination")
@set_option()
@progress_option()
@cluster_option(workers=True)
@output_option(inputs=("spec",))
def matrix_cmd(spec, resolvers, topologies, invariants, fmt, minimize, max_seconds, total_seconds, overrides, progress,
               cluster, workers, output):
    """Check SPEC under every resolver x topology combination and print the
    verdicts: resolvers as rows, invariants as columns, one table per
    topology (a star's hub: the spec's, else its first leader).

    \b
    Example:
      replcheck matrix specs/seed/alice-bob-lww.toml --resolver lww,mv-register --topology all-to-all,ring,star
    """
    show = sys.stderr.isatty() if progress is None else progress

    def tick(done, total, topology, resolver):
        if not show:
            return
        if topology is None:
            click.echo(f"\r  {done}/{total} combinations checked{' ' * 30}", err=True)
        else:
            click.echo(f"\r  [{done + 1}/{total}] {topology} / {resolver} ...{' ' * 10}", err=True, nl=False)

    on = _cluster_of(cluster, workers)
    mapper = None
    if on is not None:
        from replcheck.cluster import sweep
        mapper = sweep.mapper(on)
    m = matrix_mod.run(spec, resolvers or None, topologies or None, invariants or None, tick,
                       Budget.start(total_seconds), max_seconds, overrides, mapper)
    if m.interrupted:
        click.echo("replcheck: interrupted (Ctrl-C or SIGTERM): the combinations not finished are"
                   " incomplete (interrupted)", err=True)
    _say_total(m.not_started, total_seconds, "combinations")
    cxs = matrix_mod.counterexamples(m, minimize) if fmt == "markdown" else {}
    _emit(matrix_mod.RENDERERS[fmt](m, cxs), output)
    _finish(m.verdicts, [INCOMPLETE] if m.interrupted else [])


@main.command("conform")
@click.argument("spec", type=click.Path())
@click.option("--target", type=click.Choice(["pglogical", "pycrdt"]), required=True,
              help="The real product: PostgreSQL 15 + pglogical (servers started here, or --dsn), or pycrdt (Yjs).")
@click.option("--runs", type=click.IntRange(min=1), metavar="N",
              help="Run N random executable schedules (seeded) instead of all of them.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed for --runs (reproducible).")
@click.option("--max-schedules", "limit", type=click.IntRange(min=1), default=200, show_default=True,
              help="Run at most this many schedules; more is reported as a cut (exit 3).")
@click.option("--dsn", "dsns", multiple=True, metavar="LEADER=DSN",
              help="Use a PostgreSQL node you already run for LEADER (repeat for every leader; docs/conformance.md).")
@click.option("--max-seconds", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Bound the whole run, enumeration and execution (default: the spec's [bounds] max_seconds);"
                   " schedules not run by then are a cut (exit 3).")
@set_option()
@format_option(["text", "json", "markdown"])
@progress_option()
@output_option("the report", inputs=("spec",))
def conform_cmd(spec, target, runs, seed, limit, dsns, max_seconds, overrides, fmt, progress, output):
    """Run SPEC's schedules on a real product and compare every step with
    the model: each node's rows against the model's leader, and what the
    client was told.  Exit 0 every schedule agrees, 1 a disagreement, 2 bad
    input, 3 the target is unavailable or something was not compared.

    \b
    Example:
      replcheck conform specs/conformance/pglogical/seed-last-update-wins.toml --target pglogical
      replcheck conform specs/seed/alice-bob-lww.toml --target pglogical \\
          --set system.resolver=pglogical-last-update-wins --set system.topology=all-to-all
    """
    from replcheck.checks.conform import render as conform_render
    from replcheck.checks.conform.run import conform, exit_code
    spec_obj = load(spec, overrides)
    if max_seconds is not None:
        spec_obj = spec_obj.with_bounds(max_seconds=max_seconds)
    given = {}
    for d in dsns:
        leader, sep, dsn = d.partition("=")
        if not sep or not dsn or leader not in spec_obj.leaders:
            raise BadInput(f"--dsn {d}: expected LEADER=DSN with LEADER one of {', '.join(spec_obj.leaders)},"
                           " e.g. --dsn us-east=postgresql://user@host:5432/db")
        given[leader] = dsn
    if given and set(given) != set(spec_obj.leaders):
        missing = ", ".join(x for x in spec_obj.leaders if x not in given)
        raise BadInput(f"--dsn: give one for every leader (missing: {missing})")
    if target != "pglogical" and given:
        raise BadInput(f"--dsn: only the pglogical target connects to servers; drop --dsn for {target}")
    show = sys.stderr.isatty() if progress is None else progress

    def tick(i, n, outcome):
        if show:
            click.echo(f"  schedule {i + 1}/{n}: {outcome.verdict} ({outcome.seconds:.1f} s)", err=True)

    result = conform(spec_obj, target, runs=runs, seed=seed, limit=limit, dsns=given or None, on_outcome=tick)
    _emit(conform_render.render(result, fmt), output)
    _finish({0: HOLDS, 1: VIOLATED, 3: INCOMPLETE}[exit_code(result)])


@main.command("replay")
@click.argument("spec", type=click.Path())
@click.argument("trace_file", metavar="TRACE.json", type=click.Path())
@names_option("--invariant", "invariants", "Replay the trace of this invariant (default: every trace in the file).")
@set_option(help="The overrides the trace was made with (repeatable).")
@format_option(["text", "json"])
@output_option("the outcome", inputs=("spec", "trace_file"))
def replay_cmd(spec, trace_file, invariants, overrides, fmt, output):
    """Re-execute a saved trace (from check --format json) against SPEC and
    confirm its violation.  Exit 1 when the violation reproduces, 0 when the
    trace runs but the invariant now holds, 2 when it does not fit — or when
    it cannot be judged: a quiescent-state invariant (convergence,
    no-lost-writes, ...) needs a trace that ends quiescent, not mid-way nor
    at a write cut in a replication loop.  Every-state invariants are
    judged at each state of the trace.
    """
    s = load(spec, overrides)
    todo = _traces_to_replay(trace_file, invariants)
    system = System(s)
    outcomes = []
    for r in todo:
        name = r.get("invariant")
        if name not in INVARIANTS:
            raise BadInput(f"{trace_file}: results.invariant: unknown '{name}' (replcheck list invariants)")
        path = path_from_json(system, r["trace"].get("steps", []), trace_file)
        outcome = _replay_one(system, name, path)
        if outcome["outcome"] == "not-judged":   # nothing was judged: refuse, never "holds" (exit 0)
            raise BadInput(f"{trace_file}: {outcome['why']}")
        outcomes.append(outcome)
    if fmt == "json":
        _emit(json.dumps({"replayed": [{**o, "text": "\n".join(o["text"])} for o in outcomes]}, indent=2), output)
    else:
        _emit(esc.terminal_lines(line for o in outcomes for line in o["text"]), output)
    # reproduced: the violation is there (1); otherwise the trace ran and nothing is violated at its end (0)
    _finish(VIOLATED if o["outcome"] == "reproduced" else HOLDS for o in outcomes)


def _traces_to_replay(trace_file, invariants) -> list[dict]:
    """The results of ``trace_file`` (check --format json, one report or
    many, or a bare trace) that carry a trace, for ``invariants`` if given."""
    try:
        data = json.loads(Path(trace_file).read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, RecursionError) as e:
        raise BadInput(str(input_error(trace_file, e))) from None
    except ValueError as e:
        if "integer string conversion" in str(e):
            raise BadInput(str(input_error(trace_file, e))) from None
        raise BadInput(f"{trace_file}: cannot read a JSON trace ({e}); pass the output of"
                       " replcheck check --format json") from None
    except (OSError, ValueError) as e:
        raise BadInput(f"{trace_file}: cannot read a JSON trace ({e}); pass the output of"
                       " replcheck check --format json") from None
    if nesting_depth(data) > MAX_NESTING:
        raise BadInput(f"{trace_file}: nested more than {MAX_NESTING} levels deep; pass the output of"
                       " replcheck check --format json")
    results = data.get("results") if isinstance(data, dict) else None
    if results is None and isinstance(data, dict) and isinstance(data.get("reports"), list):
        results = [r for rep in data["reports"] if isinstance(rep, dict)
                   for r in (rep.get("results") if isinstance(rep.get("results"), list) else [])]
    if results is None and isinstance(data, dict) and "steps" in data:
        if len(invariants) != 1:
            raise BadInput(f"{trace_file}: a bare trace; name its one invariant with --invariant")
        results = [{"invariant": invariants[0], "trace": data}]
    if not isinstance(results, list):
        raise BadInput(f"{trace_file}: results: missing; pass the output of replcheck check --format json")
    for i, r in enumerate(results):
        if not isinstance(r, dict) or not isinstance(r.get("invariant"), str) or not (
                r.get("trace") is None or isinstance(r.get("trace"), dict)
                and isinstance(r["trace"].get("steps", []), list)):
            raise BadInput(f"{trace_file}: results[{i}]: not a result with an invariant name and a trace"
                           " {\"steps\": [...]}; pass the output of replcheck check --format json")
    todo = [r for r in results if r.get("trace") and (not invariants or r.get("invariant") in invariants)]
    if not todo:
        raise BadInput(f"{trace_file}: no trace{' for ' + ','.join(invariants) if invariants else ''} in this file;"
                       " only violated invariants carry one")
    return todo


def _replay_one(system, name, path) -> dict:
    """Replay ``path`` and judge invariant ``name``: an every-state
    invariant at each state of the run (a safety violation may sit
    mid-trace), a quiescent-state one at its end.  A dict with ``outcome``
    (reproduced, holds, not-judged — then ``why``, one line) and its
    ``text``."""
    trace, state = build_trace(system, path)
    inv = INVARIANTS[name]
    out = {"invariant": name, "steps": len(path), "anomaly": None, "message": None}
    n = len(path)
    if st.is_looped(state) and inv.scope == QUIESCENT:
        # As the engine does (checks/verdict.py _unless_looped): a loop-cut state looks quiescent
        # but replication never ends there, so only quiescent-scope invariants are not judged;
        # every-state ones are, replication-terminates above all (its violation is this state).
        return {**out, "outcome": "not-judged",
                "why": f"{name}: the trace ({n} steps) ends where a write was cut after circling the topology (a"
                       f" replication loop), which is not a quiescent state, and {name} is judged only at quiescent"
                       " states; replay it with --invariant replication-terminates",
                "text": (f"{name}: not judged",)}
    if inv.scope == QUIESCENT and not is_quiescent(system, system.successors(state)):
        return {**out, "outcome": "not-judged",
                "why": f"{name}: the trace ({n} steps) does not end in a quiescent state (replication has not"
                       f" finished), and {name} is judged only at quiescent states; replay a whole trace written"
                       " by replcheck check --format json",
                "text": (f"{name}: not judged",)}
    judge = inv.build(system)
    if inv.scope == QUIESCENT:
        at, v = n, judge(state)
    else:   # every state: the first that breaks it
        s = system.initial_state()
        at, v = 0, judge(s)
        for i, a in enumerate(path, 1):
            if v is not None:
                break
            s = system.step(s, a)
            at, v = i, judge(s)
    if v is None:
        where = "at the end" if inv.scope == QUIESCENT else "at every state"
        return {**out, "outcome": "holds",
                "text": (f"{name}: replayed {n} steps; the invariant HOLDS {where} (not reproduced)",)}
    step = "" if at == n else f" at step {at} of {n}"
    return {**out, "outcome": "reproduced", "anomaly": v.anomaly, "message": v.message,
            "text": (f"{name}: replayed {n} steps; violation reproduced{step}: {v.anomaly}", f"  {v.message}")}


# ---------------------------------------------------------------- z3 (issue 6)
@main.group("smt")
def smt_group():
    """Ask Z3 what enumeration cannot: clock skew, merge laws, I-confluence
    (docs/z3.md).  Exit 0: no loss possible / proved / i-confluent; 1: a
    counterexample; 2: bad input; 3: incomplete (laws: convergence not
    proved; iconfluence: z3 timed out)."""


def timeout_option(what: str, default: float | None = 60, default_text: str | None = None):
    """``--timeout SECONDS`` (also ``--max-seconds``, check's spelling) on
    every ``smt`` question: the time z3 gets for ``what``, shared by every
    solver call (each gets what is left)."""
    return click.option("--timeout", "--max-seconds", "timeout_s", cls=_Aliased, aliases=("--max-seconds",),
                        type=click.FloatRange(min=0, min_open=True), default=default,
                        show_default=default_text or True,
                        metavar="SECONDS", help=f"Time for z3 on {what} (also spelled --max-seconds, as in check).")


#: smt skew's time when neither --timeout nor the spec's [bounds] says less (seconds).
SKEW_TIMEOUT = 60.0


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


@smt_group.command("skew")
@click.argument("spec", type=click.Path())
@click.option("--max-skew", type=click.FloatRange(min=0), metavar="MS",
              help="Bound on every leader's |clock offset| in ms (default: unbounded).")
@click.option("--commit-ms", type=click.FloatRange(min=0), default=5, show_default=True,
              help="Time from a write's timestamp to its shipping.")
@click.option("--replication-ms", type=click.FloatRange(min=0), default=60, show_default=True,
              help="Least delay of one replication link (longer delays are allowed).")
@click.option("--least-skew/--no-least-skew", "--minimize", "least_skew", cls=_Aliased, aliases=("--minimize",),
              default=True, show_default=True,
              help="Find the least skew at which a causally later write is lost (when the spec's time_ms leave"
                   " none, it is asked again with the times free).")
@click.option("--free-times", is_flag=True, help="Ignore the spec's time_ms: commits at any real time.")
@click.option("-v", "--verbose", is_flag=True, help="Show every witness's timeline, not only the least skew's.")
@format_option(["text", "json"])
@timeout_option("the whole analysis; a question not answered by then is NOT DECIDED (exit 3)", None,
                "the spec's [bounds] max_seconds, at most 60")
@set_option()
@output_option("the analysis", inputs=("spec",))
def smt_skew_cmd(spec, max_skew, commit_ms, replication_ms, least_skew, free_times, verbose, fmt, timeout_s,
                 overrides, output):
    """Under which clock offsets and commit times does LWW over wall clocks
    lose a write of SPEC, and from which skew on is a causally later write
    lost?  Prints the least skew with one witness timeline (every clock).

    \b
    Example:
      replcheck smt skew specs/seed/alice-bob-lww.toml
      replcheck smt skew specs/seed/skew-wall.toml --max-skew 50
    """
    from fractions import Fraction

    from replcheck.checks.smt import render as smt_render
    from replcheck.checks.smt import skew

    def frac(x):
        return None if x is None else Fraction(str(x))

    timing = skew.Timing(frac(commit_ms), frac(replication_ms), frac(max_skew), free_times)
    spec_obj = load(spec, overrides)
    if timeout_s is None:   # the spec's [bounds] max_seconds, at most a minute (docs/z3.md "Time")
        timeout_s = min(SKEW_TIMEOUT, spec_obj.bounds.max_seconds or SKEW_TIMEOUT)
    begun = time.monotonic()
    report = skew.analyse(spec_obj, timing, least_skew, timeout_ms=_ms(timeout_s))
    freed = None
    pinned = any(o.time_ms is not None for o in spec_obj.workload)
    if least_skew and not free_times and pinned and report.least is not None and report.least.skew is None:
        left = timeout_s - (time.monotonic() - begun)   # the same time budget: what is left of it
        freed = skew.analyse(spec_obj, dataclasses.replace(timing, free_times=True), True, timeout_ms=_ms(max(left, 0.001)))
    if fmt == "json":
        from replcheck.checks import render_answers_json as aj
        _emit(aj.dumps(aj.skew(report, freed)), output, "the analysis (json)")
    else:
        _emit(smt_render.skew(report, freed, verbose), output)
    incomplete = report.incomplete or (freed is not None and freed.incomplete)
    _finish(VIOLATED if report.lost_update or report.causally_later else INCOMPLETE if incomplete else HOLDS)


@smt_group.command("laws")
@click.argument("resolver", metavar="RESOLVER|MERGE.toml")
@click.option("--tie-break", type=click.Choice(sorted(TIE_BREAKS)), default="leader", show_default=True,
              help="For lww: the rule on equal timestamps.")
@timeout_option("the three laws together; a law not decided by then is NOT DECIDED (exit 3)")
@format_option(["text", "json"])
@output_option("the proof", inputs=lambda kw: [kw["resolver"]] if kw["resolver"].endswith(".toml") else [])
def smt_laws_cmd(resolver, tie_break, timeout_s, fmt, output):
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

    if resolver.endswith(".toml"):
        report = laws.check_laws(laws.load_custom(resolver), _ms(timeout_s))
    else:
        report = laws.report_for(resolver, tie_break, _ms(timeout_s))
    if fmt == "json":
        from replcheck.checks import render_answers_json as aj
        _emit(aj.dumps(aj.laws(report)), output, "the proof (json)")
    else:
        _emit(smt_render.laws(report), output)
    # incomplete: the laws hold for the value merge, but convergence is not proved; or a law was not decided
    _finish(HOLDS if report.converges else VIOLATED if report.refuted else INCOMPLETE)


@smt_group.command("iconfluence")
@click.argument("query", metavar="QUERY.toml", type=click.Path())
@timeout_option("the whole question (solving, then shrinking the counterexample); past it: exit 3 (incomplete),"
                " or an unshrunk counterexample")
@format_option(["text", "json"])
@output_option("the verdict", inputs=("query",))
def smt_iconfluence_cmd(query, timeout_s, fmt, output):
    """Is QUERY's set of operations I-confluent for its invariant (Bailis et
    al., VLDB 2015)?  Prints ancestor / branch A / branch B / merge when not.
    Exit 3 when z3 cannot decide within --timeout.

    \b
    Example:
      replcheck smt iconfluence queries/iconfluence/stock-decrement.toml
    """
    from replcheck.checks.smt import iconfluence
    from replcheck.checks.smt import render as smt_render

    verdict = iconfluence.check(iconfluence.load_query(query), timeout_ms=_ms(timeout_s))
    if fmt == "json":
        from replcheck.checks import render_answers_json as aj
        _emit(aj.dumps(aj.iconfluence(verdict)), output, "the verdict (json)")
    else:
        _emit(smt_render.iconfluence(verdict), output)
    _finish(INCOMPLETE if verdict.incomplete else HOLDS if verdict.confluent else VIOLATED)


@main.group("export")
def export_group():
    """Export a spec for another tool."""


@export_group.command("promela")
@click.argument("spec", type=click.Path())
@names_option("--invariant", "invariants", "Assert only this invariant (convergence or no-lost-writes).")
@set_option()
@output_option("the model", inputs=("spec",))
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
    text = export_promela(load(spec, overrides), invariants or None)
    if output:
        write_output(output, text)
    else:
        click.echo(text, nl=False)


# ------------------------------------------------------------ drills (issue 4)
@main.group("drill")
def drill_group():
    """Drills: a scenario, a student's answer (topology, resolver, routing,
    defense), and PASS/FAIL per required invariant with the counterexample
    and the answer's commit-latency cost (docs/drills/)."""


def drills_option(help="A folder of drills (default: the bundled)."):
    return click.option("--drills", "folder", type=click.Path(file_okay=False), help=help)


@drill_group.command("list")
@drills_option()
@format_option(["text", "json"])
@output_option("the list")
def drill_list_cmd(folder, fmt, output):
    """Show every drill: what it asks and the invariants an answer must keep."""
    from replcheck.checks import drill as drill_mod
    drills = drill_mod.list_drills(folder)
    if fmt == "json":
        from replcheck.checks import render_answers_json as aj
        _emit(aj.dumps(aj.drill_list(drills)), output, "the list (json)")
    else:
        _emit(drill_mod.render_list(drills), output, "the list")


@drill_group.command("check")
@click.argument("answer", metavar="ANSWER.toml|FOLDER", type=click.Path())
@drills_option("Where to find the drill (default: next to the answer, then the bundled drills).")
@click.option("--allow-python", is_flag=True, help=allow_python_help("an answer"))
@set_option(help="Override a key of the drill's spec, e.g. --set system.latency_ms=100 (repeatable).")
@format_option(["text", "json"])
@cluster_option(workers=True)
@output_option("the verdict", inputs=("answer",))
def drill_check_cmd(answer, folder, allow_python, overrides, fmt, cluster, workers, output):
    """Run the drill under ANSWER and print PASS/FAIL per required invariant,
    the counterexample for each failure and the answer's cost.  Given a
    FOLDER, grade every answer file in it (*.toml, by name; each names its
    drill) and end with one line per answer.  Exit 0 when every invariant
    holds (every answer passes), 1 when one fails, 2 on bad input, 3
    incomplete.

    \b
    Example:
      replcheck drill check specs/drills/answers/inventory-escrow.toml
      replcheck drill check specs/drills/answers/
    """
    from replcheck.checks import drill as drill_mod
    if Path(answer).is_dir():
        return _grade_folder(answer, folder, allow_python, overrides, fmt, _cluster_of(cluster, workers), output)
    on = _cluster_of(cluster, workers)
    ans = drill_mod.load_answer(answer)
    d = drill_mod.find_drill(ans.drill, folder, near=Path(answer).parent, source=answer, overrides=overrides)
    if output:
        guard_output(output, d.path, folder)   # the drill the answer names, and --drills, are inputs too
    if allow_python and ans.merge:
        try:
            announce_python(drill_mod.answer_spec(d, ans, True))
        except drill_mod.NotApplicable:
            pass   # check_answer says why, as without the flag
    report = None
    if on is not None:
        report = _answer_reports(on, [(d, ans)], allow_python)[0]
    outcome = drill_mod.check_answer(d, ans, allow_python, report=report)
    if fmt == "json":
        from replcheck.checks import render_answers_json as aj
        _emit(aj.dumps(aj.drill_check(outcome)), output, "the verdict (json)")
    else:
        _emit(drill_mod.render_check(outcome), output)
    _finish(_answer_verdict(outcome))


def _answer_verdict(outcome) -> Verdict:
    """An answer's outcome as a verdict: a FAIL without a violated invariant
    (e.g. a vacuous pass) is still a failure: violated."""
    return HOLDS if outcome.passed else INCOMPLETE if outcome.incomplete and not any(
        r.verdict == VIOLATED for r in outcome.report.results) else VIOLATED


def _answer_reports(on, pairs, allow_python) -> list:
    """The check reports of ``(drill, answer)`` pairs made on the cluster
    ``on`` (replcheck.cluster.sweep), one Ray task per distinct spec, in
    order; a run stopped (Ctrl-C, SIGTERM) has its ``not_run`` report."""
    from replcheck.checks import drill as drill_mod
    from replcheck.cluster import sweep
    specs = [drill_mod.answer_spec(d, a, allow_python) for d, a in pairs]
    distinct = list(dict.fromkeys(specs))
    got = sweep.check_many(on, [(s, None, "bfs", None) for s in distinct])
    by_spec = {s: (rep if isinstance(rep, Report) else not_run(s, None, "bfs", why=rep))
               for s, rep in zip(distinct, got)}
    return [by_spec[s] for s in specs]


def _grade_folder(path, folder, allow_python, overrides, fmt, on, output):
    """``drill check FOLDER``: every answer file loaded and its drill found
    first (a bad one is bad input, named, before anything runs), then each
    checked (on the cluster ``on`` when given) and reported in name order."""
    from replcheck.checks import drill as drill_mod
    files = drill_mod.answer_files(path)
    if not files:
        raise BadInput(f"{path}: no answer files (*.toml) in this folder; give a folder of drill answers")
    pairs = []
    for f in files:
        ans = drill_mod.load_answer(f)
        d = drill_mod.find_drill(ans.drill, folder, near=f.parent, source=str(f), overrides=overrides)
        if output:
            guard_output(output, d.path, folder)
        if allow_python and ans.merge:
            try:
                announce_python(drill_mod.answer_spec(d, ans, True))
            except drill_mod.NotApplicable:
                pass
        pairs.append((d, ans))
    for d, ans in pairs:   # a combination the model cannot run is bad input, as for one answer
        drill_mod.answer_spec(d, ans, allow_python)
    reports = _answer_reports(on, pairs, allow_python) if on is not None else [None] * len(pairs)
    outcomes, stopped = [], False
    for (d, ans), rep in zip(pairs, reports):
        if stopped and (rep is None or rep.cut == "interrupted"):   # Ctrl-C / SIGTERM: the rest is not checked
            rep = not_run(drill_mod.answer_spec(d, ans, allow_python))
        o = drill_mod.check_answer(d, ans, allow_python, report=rep,
                                   explore_rejections=not (rep is not None and rep.cut == "interrupted"))
        stopped = stopped or o.report.cut == "interrupted"
        outcomes.append(o)
    if fmt == "json":
        from replcheck.checks import render_answers_json as aj
        _emit(aj.dumps(aj.drill_grade(path, outcomes)), output, "the grades (json)")
    else:
        _emit("\n\n".join([drill_mod.render_check(o) for o in outcomes]
                           + [drill_mod.render_grades(path, outcomes)]), output, "the grades")
    _finish([_answer_verdict(o) for o in outcomes])


@drill_group.command("solve")
@click.argument("name", metavar="DRILL")
@drills_option()
@names_option("--topology", "topologies", "A topology to try (default: all-to-all,ring,star).",
              aliases=("--topologies",))
@names_option("--resolver", "resolvers", "A resolver to try (default: the whole catalogue).",
              aliases=("--resolvers",))
@names_option("--routing", "routings", "none, home-leader or home-leader:<basis> (default: all).", metavar="R")
@click.option("--faults", "fault_budgets", multiple=True, metavar="BUDGET",
              help="A fault budget to sweep (repeatable): none, or key=value pairs joined by +, e.g. crashes=1 or"
                   " partitions=1+heals=1; each answer is checked under each (default: the drill's own faults).")
@total_seconds_option("answer")
@set_option(help="Override a key of the drill's spec, e.g. --set system.latency_ms=100 (repeatable).")
@format_option(["text", "json"])
@progress_option()
@cluster_option(workers=True)
@output_option("the table")
def drill_solve_cmd(name, folder, topologies, resolvers, routings, fault_budgets, total_seconds, overrides, fmt,
                    progress, cluster, workers, output):
    """Try every topology x resolver x routing (x layout) of the catalogue on
    DRILL and print which pass: the instructor's answer space.  Combinations
    the workload cannot run are n/a, with the reason.  Exit 0 when some
    answer passes, 1 when none does.

    \b
    Example:
      replcheck drill solve inventory
      replcheck drill solve user-auth --resolver lww,mv-register
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

    d = drill_mod.find_drill(name, folder, overrides=overrides)
    if output:
        guard_output(output, d.path, folder)   # --drills is an input too
    budgets = drill_mod.parse_budgets(fault_budgets, str(d.path)) if fault_budgets else None
    on = _cluster_of(cluster, workers)
    mapper = None
    if on is not None:
        from replcheck.cluster import sweep
        mapper = sweep.mapper(on)
    cells = drill_mod.solve(d, topologies or None, resolvers or None, routings or None, tick,
                            Budget.start(total_seconds), budgets, mapper)
    _say_total(sum(1 for c in cells if c.reason == drill_mod.NOT_STARTED), total_seconds, "answers")
    if fmt == "json":
        from replcheck.checks import render_answers_json as aj
        _emit(aj.dumps(aj.drill_solve(d, cells)), output, "the table (json)")
    else:
        _emit(drill_mod.render_solve(d, cells), output)
    _finish(_solve_verdict(cells))


def _solve_verdict(cells) -> Verdict:
    """A solve's outcome: holds when some answer passes; violated when none
    does and some answer fails (or passes only vacuously); incomplete when
    every answer was cut by a bound or cannot run (n/a) — nothing shown wrong."""
    kinds = {c.verdict for c in cells}
    if "interrupted" in kinds:   # stopped (Ctrl-C, SIGTERM): the table is partial, whatever it shows
        return INCOMPLETE
    if "pass" in kinds:
        return HOLDS
    if kinds & {"fail", "vacuous"}:
        return VIOLATED
    return INCOMPLETE


if __name__ == "__main__":  # pragma: no cover
    main()
