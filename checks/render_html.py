"""HTML rendering: one self-contained page to step through a counterexample.

Everything is inline (CSS, JavaScript, SVG); the page fetches nothing.
The verdicts and the anomaly explained come first; then each
counterexample is a viewer: step controls, a sequence diagram (a row per
step: the lanes' slice as SVG, one vertical lane per leader, a commit a dot
on its leader's lane, a replication delivery an arrow from sender to
receiver, crossed when the write loses; beside it the step's full label,
wrapped; the lost write red, the culprits amber), and every leader's
values, held writes, clock, version vector and applied writes at the
current step.  The search statistics and engine notes are last, collapsed.
Laid out for a 1280 x 720 screen: the controls and the diagram above the
fold, the arrow keys working from the start.  Pure: returns a string.
"""

from __future__ import annotations

import base64
import hashlib
import json

from replcheck.checks.escape import html_text as escape   # html.escape, control characters shown visibly
from replcheck.checks.escape import terminal
from replcheck.checks.explain import Counterexample, Explained
from replcheck.checks.render_markdown import MESSAGE_KINDS, ROLE_LABEL, _outcome, anchor_id
from replcheck.checks.render_text import also_text, stats_line, system_line
from replcheck.checks.verdict import HOLDS, INCOMPLETE, Report

LANE = 110        # px between leader lanes in the diagram
MAX_LANES = 16    # model.spec.MAX_LEADERS: one CSS rule per lane count (the policy allows no style attribute)

CSS = """
*{box-sizing:border-box}
body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc;
overflow-wrap:anywhere}
main{max-width:1200px;margin:0 auto;padding:6px 20px 40px}
h1{font-size:1.25em;margin:0}h2{font-size:1.1em;margin:0 0 .3em}
.sys,.stats{color:#475569;font-size:.85em;margin:.1em 0}.desc{font-style:italic;font-size:.9em;margin:.1em 0}
.verdicts{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;margin:.3em 0;padding:0;font-size:.95em}
.v-holds{color:#15803d}.v-violated{color:#b91c1c;font-weight:700}.v-incomplete{color:#a16207}
.explain{border-left:6px solid #dc2626;background:#fef2f2;padding:4px 12px;margin:4px 0;border-radius:4px}
.explain p{margin:.1em 0}.mini{color:#475569;font-size:.85em}
.viewer{background:#fff;border:1px solid #cbd5e1;border-radius:6px;padding:6px 14px;margin:6px 0}
.viewer:focus{outline:none}.viewer:focus-visible{outline:2px solid #2563eb}
.controls{display:flex;gap:10px;align-items:center;margin:4px 0;flex-wrap:wrap}
.controls button{font:inherit;padding:3px 12px;border:1px solid #94a3b8;border-radius:4px;background:#f1f5f9;cursor:pointer}
.controls button:disabled{opacity:.4;cursor:default}.controls input{flex:1;min-width:160px}
.pos{font-variant-numeric:tabular-nums}.hint{color:#64748b;font-size:.85em}
.event-text{min-height:1.4em;font-weight:500;margin:0 0 4px}
.diagram{max-height:calc(100vh - 140px);overflow:auto;border:1px solid #e2e8f0;border-radius:4px}
.seq{position:relative}
.heads{display:flex;position:sticky;top:0;z-index:1;background:#fff;border-bottom:1px solid #e2e8f0}
.head{flex:none;width:""" + str(LANE) + """px;padding:3px 4px;text-align:center;font-weight:600;font-size:.9em}
.head span{display:inline-block;background:#e0e7ff;border:1px solid #6366f1;border-radius:4px;padding:0 6px;max-width:100%}
.ev{position:relative;min-height:28px;padding:3px 10px 3px 0;display:flex;align-items:center;cursor:pointer}
.ev>svg{position:absolute;left:0;top:0;height:100%;overflow:visible}
.ev .label{flex:1;min-width:0}
.ev.role-lost{background:#fee2e2}.ev.role-culprit{background:#fef3c7}
.ev.current{background:#dbeafe;box-shadow:inset 0 0 0 2px #2563eb}.ev.current .label{font-weight:700}
.ev.role-lost.current{background:#fecaca}.ev.role-culprit.current{background:#fde68a}
.ev.future{opacity:.35}
svg .lane{stroke:#94a3b8;stroke-width:2}svg .msg{stroke:#334155;stroke-width:1.8}svg .dot,svg .tip{fill:#334155}
svg .cross{stroke:#dc2626;stroke-width:2.4;fill:none}svg .fault{fill:#7c3aed}
.role-lost svg .dot{fill:#dc2626}.role-culprit svg .dot{fill:#d97706}
.current svg .msg{stroke:#2563eb;stroke-width:3}.current svg .dot,.current svg .tip{fill:#2563eb}
.states-box{overflow-x:auto}.states{width:100%}
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #cbd5e1;padding:1px 8px;text-align:left;vertical-align:top}
th{background:#e2e8f0}
.states td.changed{background:#dbeafe}.states tr.crashed th::after{content:" (crashed)";color:#b91c1c}.flight{color:#475569;font-size:.9em;margin:.2em 0}
.tag{display:inline-block;font-size:.75em;padding:0 6px;border-radius:8px;margin-left:6px;vertical-align:middle}
.tag-lost{background:#fecaca}.tag-culprit{background:#fde68a}
.verdict-line{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 24px}
details.engine{color:#475569;font-size:.85em}details.engine summary{cursor:pointer}
details.engine[open]{flex-basis:100%}details.engine .stats{white-space:pre-wrap}
""" + "".join(f".lanes-{n} .ev{{padding-left:{n * LANE + 12}px}}.lanes-{n}{{min-width:{n * LANE + 280}px}}"
              for n in range(1, MAX_LANES + 1)) + "\n"

JS = r"""
(function(){
  var viewers = Array.prototype.slice.call(document.querySelectorAll('.viewer')), active = viewers[0];
  function show(v, i){
    var data = v._frames, n = data.frames.length - 1;
    i = Math.max(0, Math.min(n, i)); v._step = i;
    var f = data.frames[i], cur = null;
    v.querySelectorAll('.ev').forEach(function(g){
      var s = +g.getAttribute('data-step');
      g.classList.toggle('current', s === i); g.classList.toggle('future', s > i);
      if (s === i) cur = g;
    });
    v.querySelector('.slider').value = i;
    v.querySelector('.pos').textContent = 'step ' + i + ' of ' + n;
    v.querySelector('.prev').disabled = i === 0; v.querySelector('.next').disabled = i === n;
    var et = v.querySelector('.event-text');
    et.textContent = i === 0 ? 'Initial state: nothing committed yet.' : i + '. ' + f.text;
    var prev = i > 0 ? data.frames[i - 1] : null;
    f.leaders.forEach(function(l, li){
      var row = v.querySelector('tr[data-leader="' + CSS.escape(l.name) + '"]');
      ['values','held','clock','vv','applied'].forEach(function(k){
        var td = row.querySelector('td[data-field="' + k + '"]');
        row.classList.toggle('crashed', !l.up);
        if (k === 'values') {
          td.querySelectorAll('span[data-key]').forEach(function(sp){ sp.textContent = l.values[sp.getAttribute('data-key')]; });
        } else { td.textContent = l[k]; }
        td.classList.toggle('changed', !!prev && JSON.stringify(prev.leaders[li][k]) !== JSON.stringify(l[k]));
      });
    });
    v.querySelector('.flight').textContent = f.in_flight.length ? 'In flight: ' + f.in_flight.join('; ') : 'In flight: nothing';
    if (v === viewers[0]) fit();   // the step's sentence above may have changed height
    if (cur) {   // keep the current step in view inside the diagram's box, never scrolling the page
      var box = v.querySelector('.diagram'), b = box.getBoundingClientRect(), r = cur.getBoundingClientRect();
      var top = b.top + v.querySelector('.heads').offsetHeight;
      if (r.top < top || r.bottom - r.top > b.bottom - top) box.scrollTop -= top - r.top;
      else if (r.bottom > b.bottom) box.scrollTop += r.bottom - b.bottom;
    }
  }
  // The first diagram ends above the fold: its box scrolls (with the current step kept in view) rather than
  // push the rest of the trace below the screen's edge.
  function fit(){
    var box = viewers[0].querySelector('.diagram');
    box.style.maxHeight = Math.max(200, window.innerHeight - (box.getBoundingClientRect().top + window.scrollY) - 10) + 'px';
  }
  viewers.forEach(function(v){
    v._frames = JSON.parse(v.querySelector('script.frames').textContent);
    v.querySelector('.prev').addEventListener('click', function(){ show(v, v._step - 1); });
    v.querySelector('.next').addEventListener('click', function(){ show(v, v._step + 1); });
    v.querySelector('.slider').addEventListener('input', function(e){ show(v, +e.target.value); });
    v.querySelectorAll('.ev').forEach(function(g){ g.addEventListener('click', function(){ show(v, +g.getAttribute('data-step')); }); });
    v.addEventListener('pointerdown', function(){ active = v; });
    v.addEventListener('focusin', function(){ active = v; });
    show(v, 0);
  });
  if (viewers.length) window.addEventListener('resize', fit);
  // The arrow keys work from the start, without a click: on the page, they step the viewer last used (the first
  // at first); the slider keeps its own arrow keys (it moves and reports itself).
  document.addEventListener('keydown', function(e){
    if (!active || e.altKey || e.ctrlKey || e.metaKey || e.target.closest && e.target.closest('input,textarea,select')) return;
    var v = e.target.closest && e.target.closest('.viewer') || active;
    var to = {ArrowRight: v._step + 1, ArrowLeft: v._step - 1, Home: 0, End: v._frames.frames.length - 1}[e.key];
    if (to === undefined) return;
    show(v, to); e.preventDefault();
  });
})();
"""


def _label(cx: Counterexample, f) -> str:
    """A step's label in the diagram, in full (the row wraps it)."""
    ev = f.step.event
    if ev.kind not in MESSAGE_KINDS and ev.kind != "commit":
        return f"{f.index}. {f.step.text}"
    value = cx.facts.write(ev.op)   # "v", (delete), +1, add "x", ...
    ts = cx.facts.show_ts(ev.ts)
    role = f"[{ROLE_LABEL[f.role]}] " if f.role else ""
    if ev.kind == "commit":
        text = f"{f.index}. {role}{ev.op} commits {value} (ts {ts})"
    elif ev.kind == "lose":
        text = f"{f.index}. {ev.op} {value} (ts {ts}) lost in transit"
    else:
        verb = _outcome(ev)   # as the Markdown's diagram says it: "overwrites concurrent alice", "loses to bob"
        if ev.kind == "duplicate":
            verb += " (copy stays)"
        text = f"{f.index}. {ev.op} {value} (ts {ts}) {verb}"
    return text


def _at(x: int, shape: str) -> str:
    """``shape`` (a path around 0,0) drawn at lane ``x``, halfway down the row
    (a nested SVG: a path's coordinates cannot be percentages)."""
    return f'<svg x="{x}" y="50%" overflow="visible">{shape}</svg>'


def _strip(cx: Counterexample, f, lanes: dict[str, int], width: int) -> str:
    """One step's slice of the lanes: the leaders' lines, and what the step
    draws on them; as tall as its row, however its label wraps."""
    ev = f.step.event
    out = [f'<svg class="strip" width="{width}" aria-hidden="true">']
    out += [f'<line class="lane" x1="{x}" y1="0" x2="{x}" y2="100%"/>' for x in lanes.values()]
    at = lanes[ev.leader]
    if ev.kind == "commit":
        out.append(f'<circle class="dot" cx="{at}" cy="50%" r="6"/>')
    elif ev.kind not in MESSAGE_KINDS:   # a fault or repair: a diamond on the leader (both leaders of a cut pair)
        for x in [at] + ([lanes[ev.src]] if ev.src else []):
            out.append(_at(x, '<path class="fault" d="M0,-8 L8,0 L0,8 L-8,0 z"/>'))
    else:
        src = lanes[ev.src]
        d = 1 if at > src else -1
        dash = ' stroke-dasharray="5,4"' if ev.outcome in ("duplicate", "dropped") or ev.kind == "lose" else ""
        out.append(f'<line class="msg" x1="{src}" y1="50%" x2="{at - 8 * d}" y2="50%"{dash}/>')
        if ev.outcome in ("discarded", "dropped"):
            out.append(_at(at, '<path class="cross" d="M-6,-6 L6,6 M-6,6 L6,-6"/>'))
        else:
            out.append(_at(at, f'<path class="tip" d="M0,0 L{-10 * d},-5 L{-10 * d},5 z"/>'))
    out.append("</svg>")
    return "".join(out)


def sequence(cx: Counterexample) -> str:
    """The counterexample as a sequence diagram: a row of lane heads, then
    one ``<div class="ev">`` per step (``data-step`` = its number) for the
    viewer to highlight: the lanes' slice (SVG, as tall as the row) and the
    step's full label, which wraps (HTML) instead of being cut."""
    system = cx.facts
    n = min(system.n, MAX_LANES)
    lanes = {name: LANE // 2 + i * LANE for i, name in enumerate(system.leaders)}
    width = LANE * system.n
    out = [f'<div class="seq lanes-{n}">', '<div class="heads">']
    out += [f'<div class="head" data-leader="{escape(name)}"><span>{escape(name)}</span></div>'
            for name in system.leaders]
    out.append("</div>")
    for f in cx.steps:
        ev = f.step.event
        role = f" role-{f.role}" if f.role else ""
        out.append(f'<div class="ev{role}" data-step="{f.index}" data-kind="{ev.kind}" data-op="{escape(ev.op)}">'
                   f'{_strip(cx, f, lanes, width)}<span class="label">{escape(_label(cx, f))}</span></div>')
    out.append("</div>")
    return "\n".join(out)


def _visible(data):
    """Every string of ``data`` (keys too) with control characters shown as
    escapes (:func:`checks.escape.terminal`), as the page's static HTML shows
    them: the script matches ``data-leader`` / ``data-key`` attributes
    against these names."""
    if isinstance(data, str):
        return terminal(data)
    if isinstance(data, dict):
        return {_visible(k): _visible(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_visible(v) for v in data]
    return data


def frames_json(cx: Counterexample) -> dict:
    """What the viewer's script shows at each step (index 0 = initial)."""
    def leader(v):
        return {"name": v.name, "values": dict(v.values),
                "held": "; ".join(f"{k}: {', '.join(ids) or '-'}" for k, ids in v.held),
                "clock": v.clock, "vv": " ".join(f"{l}:{c}" for l, c in v.version_vector),
                "applied": ", ".join(v.applied) or "-", "up": v.up}
    return _visible({"invariant": cx.invariant, "frames": [
        {"index": f.index, "text": f.step.text if f.step else "", "role": f.role,
         "leaders": [leader(v) for v in f.leaders],
         "in_flight": [f"{s} -> {d}: {', '.join(ids)}" for s, d, ids in f.in_flight]}
        for f in cx.frames]})


def _script_json(data) -> str:
    """JSON safe inside a <script> element: no value can close or open one."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def explanation(cx: Counterexample) -> str:
    """The anomaly explained: the instance, the general meaning, minimisation."""
    parts = [f'<div class="explain"><p><strong>What went wrong.</strong> {escape(cx.message.rstrip("."))}.</p>',
             f"<p><strong>{escape(cx.anomaly)}</strong> means {escape(cx.meaning)}.</p>"]
    if cx.minimized is not None:
        parts.append(f'<p class="mini">{escape(cx.minimized.note())}.</p>')
    parts.append("</div>")
    return "".join(parts)


def viewer(cx: Counterexample, anchor: str, explain: bool = True) -> str:
    """One counterexample: explanation (unless the page already shows it
    above), the step controls, the diagram (:func:`sequence`), the state
    table."""
    system = cx.facts
    n = len(cx.steps)
    rows = []
    first = cx.frames[0]
    for v in first.leaders:
        spans = "<br>".join(f'{escape(k) + ": " if system.keys and len(system.keys) > 1 else ""}'
                            f'<span data-key="{escape(k)}">{escape(val)}</span>' for k, val in v.values)
        rows.append(f'<tr data-leader="{escape(v.name)}"><th>{escape(v.name)}</th><td data-field="values">{spans}</td>'
                    '<td data-field="held"></td><td data-field="clock"></td><td data-field="vv"></td>'
                    '<td data-field="applied"></td></tr>')
    tags = "".join(f'<span class="tag tag-{role}">{escape(op)}: {ROLE_LABEL[role]}</span>'
                   for op, role in cx.roles.items())
    return "\n".join([
        f'<section class="viewer" id="{anchor}" tabindex="0" data-invariant="{escape(cx.invariant)}">',
        f"<h2>{escape(cx.invariant)} violated: {escape(cx.anomaly)}{tags}</h2>",
        explanation(cx) if explain else "",
        f'<div class="controls"><button type="button" class="prev">&#9664; previous</button>'
        f'<input type="range" class="slider" min="0" max="{n}" value="0" aria-label="step">'
        f'<button type="button" class="next">next &#9654;</button><span class="pos"></span>'
        '<span class="hint">arrow keys step; click a step to jump</span></div>',
        '<p class="event-text" aria-live="polite"></p>',
        f'<div class="diagram">{sequence(cx)}</div>',
        '<div class="states-box"><table class="states"><thead><tr><th>leader</th><th>shows</th><th>writes held</th>'
        '<th>clock</th><th>version vector</th><th>applied</th></tr></thead><tbody>',
        *rows,
        "</tbody></table></div>",
        '<p class="flight"></p>',
        f'<script type="application/json" class="frames">{_script_json(frames_json(cx))}</script>',
        "</section>"])


def _verdicts(report: Report, links: dict[str, str]) -> str:
    """One line: each invariant and its verdict (VIOLATED linking to its viewer)."""
    items = ['<ul class="verdicts">']
    for r in report.results:
        if r.verdict == HOLDS:
            what = ""
        elif r.verdict == INCOMPLETE:
            what = f" (search cut by {escape(r.bound or '')})"
        else:
            what = f' <a href="#{links[r.invariant]}">{escape(r.anomaly or "")}</a>' if r.invariant in links \
                else f" {escape(r.anomaly or '')}"
            also = also_text(r).strip()   # every anomaly kind found, as the text report says (issue 13)
            what += f" {escape(also)}" if also else ""
        shown = "VIOLATED" if r.verdict not in (HOLDS, INCOMPLETE) else r.verdict
        items.append(f'<li>{escape(r.invariant)} <span class="v-{r.verdict}">{shown}</span>{what}</li>')
    items.append("</ul>")
    return "".join(items)


def report_section(ex: Explained, invariants=None, prefix: str = "") -> str:
    report = ex.report
    s = report.spec
    cxs = ex.only(invariants)
    links = {cx.invariant: anchor_id(prefix, cx.invariant) if prefix else anchor_id(cx.invariant) for cx in cxs}
    out = [f"<h1>{escape(s.name)}</h1>"]
    if s.description:
        out.append(f'<p class="desc">{escape(s.description)}</p>')
    out.append(f'<p class="sys"><code>{escape(s.source)}</code> &middot; {escape(system_line(report))}</p>')
    # The verdicts and the anomaly first: what a student should take away, then the evidence;
    # the engine's notes last, collapsed.
    out.append(f'<div class="verdict-line">{_verdicts(report, links)}<details class="engine"><summary>search'
               f' statistics and engine notes</summary><p class="stats">{escape(stats_line(report))}</p></details></div>')
    out += [explanation(cx) for cx in cxs[:1]]
    out += [viewer(cx, links[cx.invariant], explain=i > 0) for i, cx in enumerate(cxs)]
    return "\n".join(out)


def csp_hash(source: str) -> str:
    """A CSP hash source for an inline ``<script>`` or ``<style>`` element
    whose text is ``source`` (CSP Level 3, "hash-source": base64 of the
    SHA-256 of the UTF-8 text)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


# The page's Content-Security-Policy (docs/rendering.md "HTML"): nothing is
# fetched (default-src 'none': no image, font, frame, connection or remote
# script), the only script that runs is the viewer's own block and the only
# style the page's own <style>, each allowed by its hash, so markup that
# escaped into the page could neither run nor load anything.  The JSON data
# blocks (<script type="application/json">) are never executed, so the policy
# need not allow them.  base-uri and form-action close what default-src
# does not cover.
CSP = (f"default-src 'none'; script-src {csp_hash(JS)}; style-src {csp_hash(CSS)}; base-uri 'none';"
       " form-action 'none'")


def page(title: str, body: str) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No network: everything below is inline, and the policy forbids fetches.
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>",
        body, f"</main><script>{JS}</script></body></html>"])


def render(ex: Explained, invariants=None) -> str:
    """One explained report (:func:`checks.explain.explained`) as a
    self-contained HTML page; only the counterexamples of ``invariants``
    when given."""
    return page(f"{ex.report.spec.name} - replcheck", report_section(ex, invariants))


def render_many(explained) -> str:
    """Several explained reports on one page (anchors prefixed by spec name)."""
    if len(explained) == 1:
        return render(explained[0])
    body = "\n<hr>\n".join(report_section(ex, prefix=ex.report.spec.name) for ex in explained)
    return page("replcheck report", body)
