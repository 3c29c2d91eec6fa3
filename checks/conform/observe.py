"""A lecture counterexample, observed on the real product
(``replcheck explain --observed TARGET``; docs/conformance.md
"Counterexamples observed").

The counterexample shown on a slide is one model run.  When the target can
execute it — every delivery in it takes its link's whole queue — it is run
on real servers exactly as shown, and the artefact says what the product
did at each step beside what the model says.  When it cannot, the artefact
says why, instead of substituting another run.
"""

from __future__ import annotations

from replcheck.checks.conform.run import Outcome, applicable, make_target, run_schedule, TIMESTAMP_MODES
from replcheck.checks.conform.schedules import Schedule, Step
from replcheck.checks.conform.target import Setup
from replcheck.checks.trace import Trace, event_json
from replcheck.model import state as st
from replcheck.model.system import System


def schedule_of_trace(spec, trace: Trace) -> Schedule | str:
    """The trace as a schedule of macro-steps on the plain model, or why a
    target cannot execute it."""
    system = System(spec)
    state = system.initial_state()
    steps, states = [], [state]
    events = [s.event for s in trace.steps]
    i = 0
    while i < len(events):
        ev = events[i]
        action = system.action_for_event(state, event_json(system, ev))
        if ev.kind == "commit":
            state = system.step(state, action)
            at = system.leaders[system.committed_at(state, action)]
            steps.append(Step("commit", at, None, action, 1, (action,), f"commit {ev.op} at {at}"))
        elif ev.kind == "deliver":
            j = action - system.nops
            actions = []
            while i < len(events) and events[i].kind == "deliver" and (events[i].src, events[i].leader) == (ev.src,
                                                                                                          ev.leader):
                state = system.step(state, action)
                actions.append(action)
                i += 1
            i -= 1
            if st.link(state, j):
                return (f"step {i + 1} delivers only part of what is queued on {ev.src} -> {ev.leader}; a"
                        " subscription streams the whole queue, so this run cannot be executed as shown"
                        " (replcheck conform runs the executable ones)")
            n = len(actions)
            steps.append(Step("deliver", ev.leader, ev.src, None, n, tuple(actions),
                              f"deliver {ev.src} -> {ev.leader} ({n} message{'s' if n > 1 else ''})"))
        elif ev.kind in ("cut", "heal"):
            state = system.step(state, action)
            steps.append(Step("fault", "", None, None, 0, (action,), system.action_name(action)))
        else:
            return f"step {i + 1} is a {ev.kind}, which the target cannot execute"
        states.append(state)
        i += 1
    return Schedule(tuple(steps), tuple(states))


def observe(spec, trace: Trace, target: str, target_obj=None) -> tuple[str, Outcome | str]:
    """``(product name, outcome)`` of running ``trace`` on ``target``, or
    ``(target, why not)`` when it cannot be executed.  Raises
    :class:`~checks.conform.target.TargetUnavailable` when the target is
    missing here."""
    mode = applicable(spec, target)
    sched = schedule_of_trace(spec, trace)
    if isinstance(sched, str):
        return target, sched
    system = System(spec)
    tgt = target_obj if target_obj is not None else make_target(target)
    own = target_obj is None
    try:
        if own:
            tgt.start(Setup(system.leaders, tuple((system.leaders[a], system.leaders[b]) for a, b in system.edges),
                            mode, {n: o for n, o in zip(system.leaders, system.offsets) if o}, system.keys))
        return getattr(tgt, "name", target), run_schedule(system, tgt, sched, mode in TIMESTAMP_MODES)
    finally:
        if own:
            tgt.stop()


def _rows(rows: dict) -> str:
    from replcheck.checks.conform.render import _rows as show
    return show(rows)


def markdown_section(product: str, outcome: Outcome | str) -> str:
    """The "Observed on <product>" section of a Markdown artefact (every
    text through :mod:`checks.escape`)."""
    from replcheck.checks.escape import md_cell as cell, md_fence
    out = [f"## Observed on {cell(product)}", ""]
    if isinstance(outcome, str):
        return "\n".join(out + [f"Not run on the product: {cell(outcome)}.", ""])
    verdict = {"agree": "**The product does exactly what the model says at every step.**",
               "disagree": f"**The product differs from the model after step {outcome.first_difference}.**",
               "inconclusive": f"Not compared: {cell(outcome.reason)}."}[outcome.verdict]
    out += [f"This counterexample was executed on real servers (`replcheck conform`). {verdict}", ""]
    nodes = list(outcome.observations[0].model)
    out.append("| step | event | " + " | ".join(f"model {cell(n)} | observed {cell(n)}" for n in nodes) + " |")
    out.append("|---|---|" + "---|---|" * len(nodes))
    for k, ob in enumerate(outcome.observations):
        cells = []
        for n in nodes:
            m, o = _rows(ob.model[n]), _rows(ob.observed.get(n, {}))
            cells += [cell(m), cell(o) if o == m else f"**{cell(o)}**"]
        refused = " (refused)" if ob.observed_refused else ""
        out.append(f"| {k} | {cell(ob.step.text)}{refused} | " + " | ".join(cells) + " |")
    logs = [line for ob in outcome.observations for line in ob.log]
    if logs:
        out += ["", "Conflict log:", ""] + md_fence(logs)
    return "\n".join(out + [""])


def html_section(product: str, outcome: Outcome | str) -> str:
    """The same section for the HTML artefact (every text escaped:
    :func:`checks.escape.html_text`)."""
    from replcheck.checks.escape import html_text as escape
    out = [f'<section class="observed"><h2>Observed on {escape(product)}</h2>']
    if isinstance(outcome, str):
        return "".join(out + [f"<p>Not run on the product: {escape(outcome)}.</p></section>"])
    verdict = {"agree": "The product does exactly what the model says at every step.",
               "disagree": f"The product differs from the model after step {outcome.first_difference}.",
               "inconclusive": f"Not compared: {outcome.reason}."}[outcome.verdict]
    out.append(f"<p>This counterexample was executed on real servers (<code>replcheck conform</code>)."
               f" <strong>{escape(verdict)}</strong></p>")
    nodes = list(outcome.observations[0].model)
    head = "".join(f"<th>model {escape(n)}</th><th>observed {escape(n)}</th>" for n in nodes)
    out.append(f"<table><thead><tr><th>step</th><th>event</th>{head}</tr></thead><tbody>")
    for k, ob in enumerate(outcome.observations):
        cells = ""
        for n in nodes:
            m, o = _rows(ob.model[n]), _rows(ob.observed.get(n, {}))
            cells += f"<td>{escape(m)}</td>" + (f"<td>{escape(o)}</td>" if o == m else f"<td><strong>{escape(o)}</strong></td>")
        out.append(f"<tr><td>{k}</td><td>{escape(ob.step.text)}</td>{cells}</tr>")
    out.append("</tbody></table>")
    logs = [line for ob in outcome.observations for line in ob.log]
    if logs:
        out.append("<p>Conflict log:</p><pre>" + "\n".join(escape(x) for x in logs) + "</pre>")
    return "".join(out + ["</section>"])
