"""Plain-text rendering of a report: verdicts, anomaly, shortest trace, stats."""

from __future__ import annotations

from replcheck.checks.anomalies import meaning
from replcheck.checks.escape import terminal
from replcheck.checks.trace import messages
from replcheck.checks.verdict import HOLDS, INCOMPLETE, Report


LOSSES = ("lost-update", "causally-later-write-lost", "resurrected-delete", "unreplicated-write-lost")


def system_line(report: Report, quote=str) -> str:
    """``3 leaders (us-east, eu-west, ap-south) | all-to-all | lww over ... |
    fifo links``; ``quote`` is applied to each name from the spec (leaders,
    the hub, keys), e.g. :func:`checks.escape.md_text` for Markdown, so
    the line's own separators stay as they are."""
    s = report.spec
    topo = s.topology + (f" (hub {quote(s.hub)})" if s.hub else "")
    if s.topology != "all-to-all":
        topo += f", {s.loop_prevention} loop prevention"
    resolver = resolvers_text(report, quote)
    offs = ", ".join(f"{quote(l)} {o:+d} ms" for l, o in s.offsets if o)
    if offs and s.clock in ("wall", "hlc") and report.facts.reads_clock:
        resolver += f"; clock offsets {offs}"
    leaders = ", ".join(quote(l) for l in s.leaders)
    return f"{len(s.leaders)} leaders ({leaders}) | {topo} | {resolver} | {s.links} links"


def _entry_text(spec, e) -> str:
    """One key type (:class:`checks.facts.KeyType`) as the header names it; the clock and tie-break only
    when the type reads timestamps (an LWW rank), since only then do they
    decide anything (docs/resolvers.md)."""
    if not e.uses_clock:
        return e.name
    tie = e.tie_break_text if e.fixed_tie_break else spec.tie_break
    return f"{e.name} over {spec.clock} clocks (tie-break: {tie})"


def resolvers_text(report: Report, quote=str) -> str:
    """What decides each key's value, as it runs: one type for all keys
    (``lww over wall clocks (tie-break: leader)``, ``pn-counter``), else per
    key (``likes: pn-counter; title: lww over ...``).  Read from the
    System's compiled per-key types (``report.facts.key_types``), not from
    the spec's resolver, which is only the default for keys without their
    own type."""
    groups: dict[str, list[str]] = {}
    for key, e in zip(report.facts.keys, report.facts.key_types):
        groups.setdefault(_entry_text(report.spec, e), []).append(key)
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{', '.join(quote(k) for k in keys)}: {text}" for text, keys in groups.items())


def also_text(r) -> str:
    """The other anomaly kinds violating states showed (docs/engine.md,
    "Anomaly kinds"): `` (also: x)``; marked "at least" when the search was
    cut or not exhaustive."""
    others = [k for k in getattr(r, "anomalies", ()) if k != r.anomaly]
    if getattr(r, "anomalies_complete", False):
        return f" (also: {', '.join(others)})" if others else ""
    if others:
        return f" (also, at least: {', '.join(others)})"
    return " (other kinds not known: the search was not exhaustive)"


def counterexample_text(r) -> str:
    """"shortest counterexample" only when the engine proved it
    (``Result.shortest``, docs/reductions.md), else "a counterexample"."""
    return "shortest counterexample" if getattr(r, "shortest", False) else "a counterexample"


def stats_line(report: Report) -> str:
    st = report.stats
    if report.engine == "simulation":
        return (f"simulated runs: {st.transitions:,} steps, {st.quiescent:,} runs reached quiescence,"
                f" in {st.seconds:.2f} s - not exhaustive ({report.cut})")
    if report.engine == "smt":   # a symbolic run counts no states (docs/z3.md): say what it did search
        how = "complete: the depth covers every run" if report.complete else f"cut at {report.cut}"
        return f"symbolic (z3): unrolled to depth {st.depth}, in {st.seconds:.2f} s - {how}"
    if report.complete:
        how = "exhaustive"
    elif report.cut:
        how = f"cut by {report.cut}"
    else:
        how = _stopped(report)
    line = (f"explored {st.states:,} states, {st.transitions:,} transitions, depth {st.depth},"
            f" {st.quiescent:,} quiescent, in {st.seconds:.2f} s ({st.states_per_second:,.0f} states/s) - {how}")
    notes = engine_notes(report)
    if notes:
        line += "\n  " + "; ".join(notes)
    return line


def engine_notes(report: Report) -> list[str]:
    """What the engine did to get there: the reductions that ran or why
    they did not (docs/reductions.md), fingerprinting's collision bound."""
    notes = list(report.reductions)
    if any(r.startswith("64-bit") for r in notes):
        from replcheck.model.search import collision_probability
        notes = [f"64-bit fingerprints (collision probability <= {collision_probability(report.stats.states):.1e})"
                 if r.startswith("64-bit") else r for r in notes]
    return notes


def _leaders_line(step) -> str:
    parts = []
    for v in step.leaders:
        if len(v.values) == 1:
            parts.append(f"{v.name}: {v.values[0][1]}")
        else:
            parts.append(f"{v.name}: " + ", ".join(f"{k}={x}" for k, x in v.values))
    return " | ".join(parts)


def _plain(verdict_text: str) -> str:
    return verdict_text


def verdict_lines(report: Report, style=_plain) -> list[str]:
    """One line per invariant: its verdict, and the anomaly or the bound
    (the summary a reader sees first; ``-q`` prints only these).
    ``style(text)`` decorates the verdict word (colour on a terminal)."""
    width = max((len(r.invariant) for r in report.results), default=0)
    out = []
    for r in report.results:
        name = terminal(f"{r.invariant:<{width}}")
        if r.verdict == HOLDS:
            vacuous = getattr(r, "vacuous", None)   # docs/model.md "Vacuity"
            out.append(f"  {name}  {style('holds')}" + (terminal(f" (vacuous: {vacuous})") if vacuous else ""))
        elif r.verdict == INCOMPLETE:
            out.append(f"  {name}  {style('incomplete')}"
                       + terminal(f" (search cut by {r.bound}; no violation found so far)"))
        else:
            out.append(f"  {name}  {style('VIOLATED')}  " + terminal(f"{r.anomaly}{also_text(r)}"))
    return out


def summary_line(report: Report) -> str:
    """The search in plain words: how many states, how long, and whether
    that was every reachable state (``-v`` adds the engine's figures and
    notes: :func:`stats_line`)."""
    st = report.stats
    not_run = [n for n in report.reductions if n.startswith("not checked:")]
    if not_run:   # a run stopped before it started says so, not "explored 0 states"
        return not_run[0]
    if report.engine in ("simulation", "smt"):
        return stats_line(report).split("\n")[0]
    if report.complete:
        how = "exhaustive: no run within the bounds was left out"
    elif report.cut:
        how = f"not every state: the search was cut by {report.cut}"
    else:
        how = _stopped(report)
        how = how if how.startswith("exhaustive") else "not every state: " + how
    return f"explored {st.states:,} states in {st.seconds:.2f} s - {how}"


def _stopped(report: Report) -> str:
    """Why a search that no bound cut ended before every state: every
    invariant violated (``--stop-early``), or, by default, every violated
    invariant had shown every anomaly kind it can show (docs/engine.md,
    "Stopping when every kind is found") while the others were searched
    to the end."""
    violated = [r.invariant for r in report.results if r.verdict not in (HOLDS, INCOMPLETE)]
    if violated and all(r.anomalies_complete for r in report.results if r.verdict not in (HOLDS, INCOMPLETE)):
        held = [r.invariant for r in report.results if r.verdict == HOLDS]
        kinds = "stopped once it had found every anomaly kind " + ("they" if len(violated) > 1 else "it") + " can show"
        if held:
            return f"exhaustive for {', '.join(held)}; the search for {', '.join(violated)} {kinds}"
        return f"the search for {', '.join(violated)} {kinds}"
    return "it stopped once every invariant was violated"


def messages_text(m) -> str:
    """One line: the delivery cost of a counterexample's run (``-v``)."""
    lost = f", {m.lost} lost by the link" if m.lost else ""
    return (f"messages on this run: {m.delivered} delivered, {m.redundant} redundant"
            f" (changed nothing at the receiver){lost}")


def render(report: Report, verbosity: int = 1, style=_plain) -> str:
    """The report for a terminal: the header, one verdict line per
    invariant, then each violation's message and counterexample, then the
    search in plain words.  ``verbosity`` 0 (``-q``): the verdict lines
    only; 2 (``-v``): the engine's figures and notes too.  Every text from
    the spec (names, values, the file name, messages quoting them) goes
    through :func:`checks.escape.terminal`, so no control character
    reaches the terminal; ``style`` decorates the verdict words."""
    s = report.spec
    out = [terminal(f"{s.source}: {s.name}")]
    if verbosity <= 0:
        return "\n".join(out + verdict_lines(report, style))
    if s.description:
        out.append(f"  {terminal(s.description)}")
    out.append(f"  {terminal(system_line(report))}")
    out.append("")
    out += verdict_lines(report, style)
    for r in report.results:
        if r.verdict not in (HOLDS, INCOMPLETE):
            out.append("")
            out.append(f"  {terminal(r.invariant)} {style('VIOLATED')}: {terminal(r.message)}")
            out.append(f"    ({r.anomaly}: {meaning(r.anomaly)})")
            assert r.trace is not None
            n = len(r.trace)
            out.append(f"    {counterexample_text(r)}, {n} step{'s' if n != 1 else ''}:")
            for step in r.trace.steps:
                mark = ""
                if step.event.kind == "commit" and step.event.op in r.culprits:
                    victim = r.anomaly in LOSSES and step.event.op == r.culprits[0]
                    mark = "   <- lost write" if victim else "   <- culprit"
                out.append(f"    {step.index:>3}. {terminal(step.text)}{mark}")
                out.append(f"         {terminal(_leaders_line(step))}")
            if verbosity >= 2:
                out.append(f"    {messages_text(messages(r.trace))}")
    out.append("")
    if verbosity >= 2:
        out.append(f"  {stats_line(report).split(chr(10))[0]}")
        out += [f"    - {terminal(n)}" for n in engine_notes(report)]
    else:
        out.append(f"  {summary_line(report)}" + ("  (-v: the engine's figures and reductions)"
                                                   if report.reductions else ""))
    return "\n".join(out)
