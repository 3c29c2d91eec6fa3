"""Render a :class:`~checks.conform.run.Conformance` (text, JSON,
Markdown); reads the frozen result only.  docs/conformance.md "Output"."""

from __future__ import annotations

import json

from replcheck.checks import escape as esc
from replcheck.checks.conform.run import AGREE, DISAGREE, INCONCLUSIVE, Conformance, Outcome


def _rows(rows: dict) -> str:
    if not rows:
        return "(no rows)"
    parts = []
    for k in sorted(rows):
        v = rows[k]
        shown = "{" + ", ".join(f'"{x}"' for x in v) + "}" if isinstance(v, tuple) else f'"{v}"'
        parts.append(f"{k} = {shown}")
    return ", ".join(parts)


def _summary(c: Conformance) -> list[str]:
    e = c.enumeration
    runs = "more than can be counted here" if e.model_runs is None else f"{e.model_runs:,}"
    execu = "?" if e.executable_runs is None else f"{e.executable_runs:,}"
    lines = [f"model: {runs} complete runs; {execu} deliver a link's whole queue at every delivery (executable"
             f" on {c.target}); {len(e.schedules)} schedules up to reordering independent steps"
             + (f" (cut: {e.cut})" if e.cut else "")]
    done = len(c.outcomes)
    lines.append(f"executed {done} schedules in {c.seconds:.1f} s: {c.count(AGREE)} agree, {c.count(DISAGREE)}"
                 f" disagree, {c.count(INCONCLUSIVE)} inconclusive"
                 + (" (interrupted: the rest were not run)" if c.interrupted else ""))
    return lines


def _step_line(o: Outcome) -> str:
    return "; ".join(s.text for s in o.schedule.steps)


def _difference(o: Outcome, indent: str) -> list[str]:
    i = o.first_difference
    obs = o.observations[i]
    out = [f"{indent}first difference after step {i}: {obs.step.text}"]
    if obs.model_refused != obs.observed_refused:
        said = {True: "refused (0 rows / duplicate key)", False: "committed", None: "-"}
        out.append(f"{indent}  client told: model {said[obs.model_refused]}, observed {said[obs.observed_refused]}")
    width = max(len(n) for n in obs.model) if obs.model else 4
    out.append(f"{indent}  {'node':<{width}}  {'model':<34}  observed")
    for n in obs.model:
        mark = "" if obs.model[n] == obs.observed.get(n) else "   <- differs"
        out.append(f"{indent}  {n:<{width}}  {_rows(obs.model[n]):<34}  {_rows(obs.observed.get(n, {}))}{mark}")
    end = o.observations[-1]
    if i != len(o.observations) - 1:
        out.append(f"{indent}  at the end: model " + "; ".join(f"{n}: {_rows(r)}" for n, r in end.model.items()))
        out.append(f"{indent}              observed " + "; ".join(f"{n}: {_rows(r)}" for n, r in end.observed.items()))
    logs = [line for ob in o.observations for line in ob.log]
    if logs:
        out.append(f"{indent}  conflict log:")
        out += [f"{indent}    {line}" for line in logs]
    return out


def text(c: Conformance) -> str:
    """For a terminal: every line through :func:`checks.escape.terminal`
    (names and values come from the spec, conflict-log lines from the
    product)."""
    head = [f"{c.source}: {c.spec_name}",
            f"  conform on {c.product}" + (f" (conflict_resolution = {c.mode})" if c.mode else "")]
    lines = head + [f"  {x}" for x in _summary(c)] + [""]
    for n, o in enumerate(c.outcomes, 1):
        tag = {AGREE: "agree", DISAGREE: "DISAGREE", INCONCLUSIVE: "inconclusive"}[o.verdict]
        lines.append(f"  schedule {n:<3} {tag:<12} {_step_line(o)}")
        if o.verdict == DISAGREE:
            lines += _difference(o, "      ")
        elif o.verdict == INCONCLUSIVE:
            lines.append(f"      not compared: {o.reason}")
        else:
            end = o.observations[-1]
            lines.append("      ends with " + "; ".join(f"{n_}: {_rows(r)}" for n_, r in end.observed.items()))
    return "\n".join(esc.terminal(x) for x in lines) + "\n"


def as_dict(c: Conformance) -> dict:
    e = c.enumeration
    return {
        "spec": c.source, "name": c.spec_name, "target": c.target, "product": c.product, "mode": c.mode,
        "model_runs": e.model_runs, "executable_runs": e.executable_runs, "schedules": len(e.schedules),
        "cut": c.cut, "seconds": round(c.seconds, 3),
        "agree": c.count(AGREE), "disagree": c.count(DISAGREE), "inconclusive": c.count(INCONCLUSIVE),
        "outcomes": [{
            "verdict": o.verdict, "first_difference": o.first_difference, "reason": o.reason,
            "seconds": round(o.seconds, 3),
            "steps": [{
                "step": ob.step.text, "kind": ob.step.kind, "model": ob.model, "observed": ob.observed,
                "model_refused": ob.model_refused, "observed_refused": ob.observed_refused, "log": list(ob.log),
            } for ob in o.observations],
        } for o in c.outcomes],
    }


def as_json(c: Conformance) -> str:
    return json.dumps(as_dict(c), indent=2, default=list) + "\n"


def _md(s: str) -> str:
    """A Markdown table cell or inline text (:func:`checks.escape.md_cell`)."""
    return esc.md_cell(s)


def markdown(c: Conformance) -> str:
    lines = [f"# Conformance: {_md(c.spec_name)} on {_md(c.product)}", ""]
    lines += [f"- {esc.md_text(x, line_start=True)}" for x in _summary(c)] + [""]
    lines += ["| # | verdict | schedule | ends with (observed) |", "|---|---|---|---|"]
    for n, o in enumerate(c.outcomes, 1):
        end = o.observations[-1]
        ends = "; ".join(f"{k}: {_rows(r)}" for k, r in end.observed.items())
        lines.append(f"| {n} | {o.verdict} | {_md(_step_line(o))} | {_md(ends)} |")
    for n, o in enumerate(c.outcomes, 1):
        if o.verdict == DISAGREE:
            lines += ["", f"## Schedule {n}: the model and {_md(c.product)} disagree", ""]
            lines += esc.md_fence(_difference(o, ""))
    return "\n".join(lines) + "\n"


def render(c: Conformance, fmt: str) -> str:
    return {"text": text, "json": as_json, "markdown": markdown}[fmt](c)
