"""Markdown rendering: a report to paste into slides, GitHub issues and notes.

Each counterexample becomes a Mermaid ``sequenceDiagram`` (one participant
per leader; a commit is a note over its leader; a replication delivery is
an arrow from sender to receiver, crossed when the write loses; the lost
write and the culprit writes boxed in colour), a table of every leader's
state after each step, and the verdict summary.  Pure: returns a string.
"""

from __future__ import annotations

from replcheck.checks import escape as esc
from replcheck.checks.explain import Counterexample, Explained, Frame
from replcheck.checks.render_text import also_text, engine_notes, stats_line, summary_line, system_line
from replcheck.checks.verdict import HOLDS, INCOMPLETE, Report

# Mermaid rect colours: the lost write red, the culprits amber.
ROLE_COLOUR = {"lost": "rgba(220, 38, 38, 0.18)", "culprit": "rgba(234, 179, 8, 0.25)"}
ROLE_LABEL = {"lost": "LOST WRITE", "culprit": "culprit"}

def mermaid_text(text: str) -> str:
    """``text`` made safe for a Mermaid message or note (entity codes;
    :func:`checks.escape.mermaid_text`).

    >>> mermaid_text('a;b#c')
    'a#59;b#35;c'
    """
    return esc.mermaid_text(text)


def cell(text: str) -> str:
    """``text`` made safe for a Markdown table cell (:func:`checks.escape.md_cell`)."""
    return esc.md_cell(text)


def anchor_id(*parts: str) -> str:
    """A stable HTML id / Markdown anchor from names, e.g. ``star-lww-no-lost-writes``."""
    raw = "-".join(parts).lower()
    return "".join(c if c.isalnum() or c == "-" else "-" for c in raw).strip("-")


def _participant(system, name: str) -> str:
    return f"L{system.leaders.index(name)}"


def _what(cx: Counterexample, ev) -> str:
    """The write an event carries, e.g. ``bob: "Budget" (ts 10)``, ``like-us: +1 (ts 1)``."""
    value = cx.facts.write(ev.op)
    key = f"{ev.key} = " if len(cx.facts.keys) > 1 else ""
    return f"{ev.op}: {key}{value} (ts {cx.facts.show_ts(ev.ts)})"


def _outcome(ev) -> str:
    names = " and ".join(ev.replaced)
    return {
        "applied": "applied",
        "superseded": f"supersedes {names}",
        "overwrote": f"overwrites concurrent {names}",
        "overwrote-later": f"overwrites the LATER {names}",
        "sibling": "kept as a sibling",
        "discarded": "loses to " + " and ".join(ev.beaten_by),
        "duplicate": "already held",
        "skipped": "skipped (no row there)",
        "dropped": "dropped (own write)",
    }.get(ev.outcome, ev.outcome)


def delivery_label(cx: Counterexample, ev) -> str:
    """What a delivery (or duplicate) did, in the words every diagram uses
    (Mermaid here, the SVG slides in checks/render_svg.py): the write, its
    outcome at the receiver, a copy left on the link, where it was
    forwarded, a replication loop."""
    label = f"{_what(cx, ev)} {_outcome(ev)}"
    if ev.kind == "duplicate":
        label += " (a copy stays on the link)"
    if ev.forwarded_to:
        label += f", forwarded to {', '.join(ev.forwarded_to)}"
    if ev.loop:
        label += " - REPLICATION LOOP"
    return label


MESSAGE_KINDS = ("deliver", "drop", "duplicate", "lose")


def _fault_note(system, f) -> str:
    """A fault or repair (crash, recover, cut, heal, clock jump) as a note."""
    ev = f.step.event
    over = _participant(system, ev.leader)
    if ev.src:
        over += f",{_participant(system, ev.src)}"
    return f"    Note over {over}: {mermaid_text(f'{f.index}. {f.step.text}')}"


def mermaid(cx: Counterexample) -> str:
    """The counterexample as Mermaid ``sequenceDiagram`` source (no fences)."""
    system = cx.facts
    out = ["sequenceDiagram"]
    for i, name in enumerate(system.leaders):
        out.append(f"    participant L{i} as {esc.mermaid_alias(name)}")
    for f in cx.steps:
        ev = f.step.event
        at = _participant(system, ev.leader)
        if ev.kind == "commit":
            label = f"{f.index}. {_what(cx, ev)} committed"
            if ev.outcome not in ("applied", "merged"):   # a CRDT's own commit merges into its state: nothing to add
                label += f", {_outcome(ev)}"
            if f.role:
                label += f" - {ROLE_LABEL[f.role]}"
                out.append(f"    rect {ROLE_COLOUR[f.role]}")
                out.append(f"    Note over {at}: {mermaid_text(label)}")
                out.append("    end")
            else:
                out.append(f"    Note over {at}: {mermaid_text(label)}")
            continue
        if ev.kind not in MESSAGE_KINDS:
            out.append(_fault_note(system, f))
            continue
        src = _participant(system, ev.src)
        if ev.kind == "lose":
            out.append(f"    {src}--){at}: {mermaid_text(f'{f.index}. {_what(cx, ev)} lost in transit, resent later')}")
            continue
        arrow = {"discarded": "-x", "dropped": "--x", "duplicate": "-->>"}.get(ev.outcome, "->>")
        label = f"{f.index}. {delivery_label(cx, ev)}"
        out.append(f"    {src}{arrow}{at}: {mermaid_text(label)}")
    first, last = "L0", f"L{system.n - 1}"
    out.append(f"    Note over {first},{last}: {mermaid_text(f'{cx.invariant} violated: {cx.anomaly}')}")
    return "\n".join(out)


def _leader_cell(v, clock: bool) -> str:
    if len(v.values) == 1:
        text = v.values[0][1]
    else:
        text = ", ".join(f"{k}={x}" for k, x in v.values)
    if clock and v.clock != "-":
        text += f" (clock {v.clock})"
    if not v.up:
        text = f"(crashed) {text}"
    return cell(text)


def state_table(cx: Counterexample) -> str:
    """Every leader's visible state after each step, one row per step."""
    system = cx.facts
    clock = system.clock != "wall"
    head = "| step | event | " + " | ".join(cell(n) for n in system.leaders) + " |"
    rows = [head, "|---|---|" + "---|" * system.n]
    for f in cx.frames:
        event = "initial state" if f.step is None else cell(f.step.text)
        if f.role:
            event += f" **{ROLE_LABEL[f.role]}**"
        rows.append(f"| {f.index} | {event} | " + " | ".join(_leader_cell(v, clock) for v in f.leaders) + " |")
    return "\n".join(rows)


def counterexample_section(cx: Counterexample, level: int = 2, anchor: str | None = None,
                           title: str | None = None) -> str:
    """One violated invariant: what went wrong, the diagram, the state table."""
    h = "#" * level
    anchor = anchor or anchor_id(cx.invariant)
    n = len(cx.steps)
    out = [f'<a id="{anchor}"></a>', "",
           f"{h} {esc.md_text(title or f'{cx.invariant} violated: {cx.anomaly}')}", "",
           f"**What went wrong.** {esc.md_text(cx.message.rstrip('.'))}.", "",
           f"**{esc.md_text(cx.anomaly)}** means {esc.md_text(cx.meaning)}.", ""]
    if cx.minimized is not None:
        out += [f"_{esc.md_text(cx.minimized.note())}._", ""]
    out += [f"Counterexample, {n} step{'s' if n != 1 else ''}: commits are notes over the leader that"
            " accepted the write; arrows are replication deliveries (a cross: the delivered write lost);"
            " red marks the lost write, amber the culprit.", "",
            "```mermaid", mermaid(cx), "```", "",
            f"{h}# Every leader after each step", "",
            state_table(cx), ""]
    return "\n".join(out)


def verdict_table(report: Report, links: dict[str, str] | None = None) -> str:
    """The verdict per invariant; ``links`` maps invariant -> anchor."""
    links = links or {}
    rows = ["| invariant | verdict | anomaly / bound | steps |", "|---|---|---|---|"]
    for r in report.results:
        if r.verdict == HOLDS:
            rows.append(f"| {cell(r.invariant)} | holds | | |")
        elif r.verdict == INCOMPLETE:
            rows.append(f"| {cell(r.invariant)} | incomplete | search cut by {cell(r.bound or '')} | |")
        else:
            anomaly = cell(r.anomaly or "")
            name = f"[{anomaly}](#{links[r.invariant]})" if r.invariant in links else anomaly
            also = also_text(r).strip()   # every anomaly kind found, as the text report says (issue 13)
            name += f" {cell(also)}" if also else ""
            rows.append(f"| {cell(r.invariant)} | **VIOLATED** | {name} | {len(r.trace) if r.trace else ''} |")
    return "\n".join(rows)


def render(ex: Explained, invariants=None, prefix: str = "") -> str:
    """An explained report (:func:`checks.explain.explained`) as Markdown:
    header, verdict summary, each counterexample.

    ``invariants`` limits the counterexamples shown (``explain``);
    ``prefix`` makes anchors unique when several reports share a page.
    """
    report = ex.report
    s = report.spec
    cxs = ex.only(invariants)
    links = {cx.invariant: anchor_id(prefix, cx.invariant) if prefix else anchor_id(cx.invariant) for cx in cxs}
    out = [f"# {esc.md_text(s.name)}", ""]
    if s.description:
        out += [f"_{esc.md_text(s.description)}_", ""]
    out += [f"{esc.md_code(s.source)} - {system_line(report, esc.md_text)}", "",
            "## Verdicts", "", verdict_table(report, links), "",
            esc.md_text(summary_line(report)), ""]
    for cx in cxs:
        out.append(counterexample_section(cx, 2, links[cx.invariant]))
    notes = engine_notes(report)
    if notes:   # the engine's figures and reductions: for the curious, folded (issue 16)
        out += ["", "<details><summary>How the search ran</summary>", "",
                esc.md_text(stats_line(report).split("\n")[0]), ""]
        out += [f"- {esc.md_text(n)}" for n in notes]
        out += ["", "</details>"]
    return "\n".join(out).rstrip() + "\n"


def render_many(explained) -> str:
    """Several explained reports on one page, anchors prefixed by spec name."""
    if len(explained) == 1:
        return render(explained[0])
    return "\n---\n\n".join(render(ex, prefix=ex.report.spec.name) for ex in explained)
