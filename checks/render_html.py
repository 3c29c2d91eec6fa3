"""HTML rendering: one self-contained page to step through a counterexample.

Everything is inline (CSS, JavaScript, SVG); the page fetches nothing.
Each counterexample is a viewer: the anomaly explained at the top, a
sequence diagram as SVG (one vertical lane per leader; a commit is a dot on
its leader's lane, a replication delivery an arrow from sender to receiver,
crossed when the write loses; the lost write red, the culprits amber), and
a step slider with previous/next buttons that highlight the current event
and show every leader's values, held writes, clock, version vector and
applied writes at that step.  Pure: returns a string.
"""

from __future__ import annotations

import base64
import hashlib
import json

from replcheck.checks.escape import html_text as escape   # html.escape, control characters shown visibly
from replcheck.checks.escape import terminal
from replcheck.checks.explain import Counterexample, counterexamples
from replcheck.checks.render_markdown import MESSAGE_KINDS, ROLE_LABEL, anchor_id
from replcheck.checks.render_text import stats_line, system_line
from replcheck.checks.trace import event_write
from replcheck.checks.verdict import HOLDS, INCOMPLETE, Report

LANE = 300        # px between leader lanes
ROW = 44          # px per step
TOP = 64          # px above the first step
LABEL_MAX = 46    # characters of an event label in the SVG (full text in a tooltip)

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
main{max-width:1200px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.4em 0 .4em}
.sys,.stats{color:#475569;font-size:.9em}.desc{font-style:italic}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #cbd5e1;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#e2e8f0}.v-holds{color:#15803d}.v-violated{color:#b91c1c;font-weight:600}.v-incomplete{color:#a16207}
.explain{border-left:6px solid #dc2626;background:#fef2f2;padding:10px 14px;margin:10px 0;border-radius:4px}
.explain p{margin:.3em 0}.mini{color:#475569;font-size:.9em}
.viewer{background:#fff;border:1px solid #cbd5e1;border-radius:6px;padding:12px 16px;margin:14px 0}
.controls{display:flex;gap:10px;align-items:center;margin:8px 0;flex-wrap:wrap}
.controls button{font:inherit;padding:4px 12px;border:1px solid #94a3b8;border-radius:4px;background:#f1f5f9;cursor:pointer}
.controls button:disabled{opacity:.4;cursor:default}.controls input{flex:1;min-width:160px}
.event-text{min-height:1.5em;font-weight:500}.diagram{overflow-x:auto}
svg text{font:12px system-ui,sans-serif;fill:#1f2937}svg .lane{stroke:#94a3b8;stroke-width:2}
svg .head rect{fill:#e0e7ff;stroke:#6366f1}svg .head text{font-weight:600;font-size:13px}
svg .ev line{stroke:#334155;stroke-width:1.6}svg .ev circle{fill:#334155}
svg .ev.role-lost .box{fill:#fecaca}svg .ev.role-culprit .box{fill:#fde68a}svg .box{fill:transparent}
svg .ev .cross{stroke:#dc2626;stroke-width:2.4}svg .ev .fault{fill:#7c3aed}svg .ev.future{opacity:.22}
svg .ev.current .box{stroke:#2563eb;stroke-width:2.5}svg .ev.current text{font-weight:700}
svg .ev.current line{stroke:#2563eb;stroke-width:3}svg .ev.current circle{fill:#2563eb}svg .ev{cursor:pointer}
.states td.changed{background:#dbeafe}.states tr.crashed th::after{content:" (crashed)";color:#b91c1c}.flight{color:#475569;font-size:.9em}
.tag{display:inline-block;font-size:.75em;padding:0 6px;border-radius:8px;margin-left:6px}
.tag-lost{background:#fecaca}.tag-culprit{background:#fde68a}
"""

JS = r"""
(function(){
  function show(v, i){
    var data = v._frames, n = data.frames.length - 1;
    i = Math.max(0, Math.min(n, i)); v._step = i;
    var f = data.frames[i];
    v.querySelectorAll('.ev').forEach(function(g){
      var s = +g.getAttribute('data-step');
      g.classList.toggle('current', s === i); g.classList.toggle('future', s > i);
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
  }
  document.querySelectorAll('.viewer').forEach(function(v){
    v._frames = JSON.parse(v.querySelector('script.frames').textContent);
    v.querySelector('.prev').addEventListener('click', function(){ show(v, v._step - 1); });
    v.querySelector('.next').addEventListener('click', function(){ show(v, v._step + 1); });
    v.querySelector('.slider').addEventListener('input', function(e){ show(v, +e.target.value); });
    v.querySelectorAll('.ev').forEach(function(g){ g.addEventListener('click', function(){ show(v, +g.getAttribute('data-step')); }); });
    v.addEventListener('keydown', function(e){
      if (e.key === 'ArrowRight') { show(v, v._step + 1); e.preventDefault(); }
      if (e.key === 'ArrowLeft') { show(v, v._step - 1); e.preventDefault(); }
    });
    show(v, 0);
  });
})();
"""


def _short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[:LABEL_MAX - 1] + "\u2026"


def _svg_label(cx: Counterexample, f) -> str:
    ev = f.step.event
    if ev.kind not in MESSAGE_KINDS and ev.kind != "commit":
        return f"{f.index}. {f.step.text}"
    value = event_write(cx.system, ev)   # "v", (delete), +1, add "x", ...
    ts = cx.system.show_ts(ev.ts)
    role = f"[{ROLE_LABEL[f.role]}] " if f.role else ""
    if ev.kind == "commit":
        text = f"{f.index}. {role}{ev.op} commits {value} (ts {ts})"
    elif ev.kind == "lose":
        text = f"{f.index}. {ev.op} {value} (ts {ts}) lost in transit"
    else:
        verb = {"discarded": "loses", "dropped": "dropped", "duplicate": "already held", "sibling": "sibling",
                "overwrote": "overwrites", "overwrote-later": "overwrites LATER", "skipped": "skipped (no row)", "superseded": "supersedes",
                "applied": "applied"}.get(ev.outcome, ev.outcome)
        if ev.kind == "duplicate":
            verb += " (copy stays)"
        text = f"{f.index}. {ev.op} {value} (ts {ts}) {verb}"
    return text


def sequence_svg(cx: Counterexample) -> str:
    """The counterexample as an SVG sequence diagram, one ``<g class="ev">``
    per step (``data-step`` = its number) for the viewer to highlight."""
    system = cx.system
    n = len(cx.steps)
    x = {name: 40 + LANE // 2 + i * LANE for i, name in enumerate(system.leaders)}
    width = 80 + LANE * system.n + 120
    height = TOP + ROW * (n + 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="seq" width="{width}" height="{height}"'
           f' viewBox="0 0 {width} {height}" role="img" aria-label="sequence diagram">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" markerHeight="10"'
           ' markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334155"/></marker></defs>']
    for name, lx in x.items():
        out.append(f'<g class="head" data-leader="{escape(name)}"><rect x="{lx - 70}" y="8" width="140" height="30"'
                   f' rx="5"/><text x="{lx}" y="28" text-anchor="middle">{escape(name)}</text></g>')
        out.append(f'<line class="lane" x1="{lx}" y1="38" x2="{lx}" y2="{height - 8}"/>')
    for f in cx.steps:
        ev = f.step.event
        y = TOP + ROW * (f.index - 1) + ROW // 2
        role = f" role-{f.role}" if f.role else ""
        label = escape(_short(_svg_label(cx, f)))
        out.append(f'<g class="ev{role}" data-step="{f.index}" data-kind="{ev.kind}" data-op="{escape(ev.op)}">'
                   f'<title>{escape(f"{f.index}. {f.step.text}")}</title>')
        at = x[ev.leader]
        if ev.kind not in MESSAGE_KINDS and ev.kind != "commit":
            # A fault or repair: a diamond on the leader (both leaders of a cut pair).
            lanes = [at] + ([x[ev.src]] if ev.src else [])
            lo = min(lanes)
            out.append(f'<rect class="box" x="{lo - 12}" y="{y - 15}" width="{max(lanes) - lo + 24 + 7 * len(label)}"'
                       ' height="30" rx="5"/>')
            for lx in lanes:
                out.append(f'<path class="fault" d="M{lx},{y - 8} L{lx + 8},{y} L{lx},{y + 8} L{lx - 8},{y} z"/>')
            out.append(f'<text x="{max(lanes) + 12}" y="{y + 4}">{label}</text>')
        elif ev.kind == "commit":
            w = 24 + int(6.8 * len(_short(_svg_label(cx, f))))
            out.append(f'<rect class="box" x="{at - 12}" y="{y - 15}" width="{w}" height="30" rx="5"/>')
            out.append(f'<circle cx="{at}" cy="{y}" r="6"/><text x="{at + 12}" y="{y + 4}">{label}</text>')
        else:
            src = x[ev.src]
            lo, hi = min(src, at), max(src, at)
            out.append(f'<rect class="box" x="{lo}" y="{y - 22}" width="{hi - lo}" height="30" rx="5"/>')
            end = at - 8 if at > src else at + 8
            dash = ' stroke-dasharray="5,4"' if ev.outcome in ("duplicate", "dropped") or ev.kind == "lose" else ""
            marker = "" if ev.outcome in ("discarded", "dropped") else ' marker-end="url(#arrow)"'
            out.append(f'<line x1="{src}" y1="{y}" x2="{end}" y2="{y}"{dash}{marker}/>')
            if ev.outcome in ("discarded", "dropped"):
                out.append(f'<path class="cross" d="M{at - 6},{y - 6} L{at + 6},{y + 6} M{at - 6},{y + 6}'
                           f' L{at + 6},{y - 6}"/>')
            out.append(f'<text x="{(src + at) // 2}" y="{y - 6}" text-anchor="middle">{label}</text>')
        out.append("</g>")
    out.append("</svg>")
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
    above), SVG diagram, controls, state table."""
    system = cx.system
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
        f'<button type="button" class="next">next &#9654;</button><span class="pos"></span></div>',
        '<p class="event-text"></p>',
        f'<div class="diagram">{sequence_svg(cx)}</div>',
        '<table class="states"><thead><tr><th>leader</th><th>shows</th><th>writes held</th><th>clock</th>'
        '<th>version vector</th><th>applied</th></tr></thead><tbody>',
        *rows,
        "</tbody></table>",
        '<p class="flight"></p>',
        f'<script type="application/json" class="frames">{_script_json(frames_json(cx))}</script>',
        "</section>"])


def _verdicts(report: Report, links: dict[str, str]) -> str:
    rows = ['<table class="verdicts"><tr><th>invariant</th><th>verdict</th><th>anomaly / bound</th></tr>']
    for r in report.results:
        if r.verdict == HOLDS:
            what = ""
        elif r.verdict == INCOMPLETE:
            what = f"search cut by {escape(r.bound or '')}"
        else:
            what = f'<a href="#{links[r.invariant]}">{escape(r.anomaly or "")}</a>' if r.invariant in links \
                else escape(r.anomaly or "")
        rows.append(f'<tr><td>{escape(r.invariant)}</td><td class="v-{r.verdict}">{r.verdict}</td><td>{what}</td></tr>')
    rows.append("</table>")
    return "".join(rows)


def report_section(report: Report, minimise: bool = True, invariants=None, prefix: str = "") -> str:
    s = report.spec
    cxs = [cx for cx in counterexamples(report, minimise) if invariants is None or cx.invariant in invariants]
    links = {cx.invariant: anchor_id(prefix, cx.invariant) if prefix else anchor_id(cx.invariant) for cx in cxs}
    out = [f"<h1>{escape(s.name)}</h1>"]
    if s.description:
        out.append(f'<p class="desc">{escape(s.description)}</p>')
    out.append(f'<p class="sys"><code>{escape(s.source)}</code> &middot; {escape(system_line(report))}</p>')
    # The anomaly first: what a student should take away, then the evidence.
    out += [explanation(cx) for cx in cxs[:1]]
    out.append(_verdicts(report, links))
    out.append(f'<p class="stats">{escape(stats_line(report))}</p>')
    if cxs:
        out.append('<p class="stats">Use the buttons, the slider or the arrow keys to step through the trace;'
                   ' click an event to jump to it.</p>')
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


def render(report: Report, minimise: bool = True, invariants=None) -> str:
    """One report as a self-contained HTML page."""
    return page(f"{report.spec.name} - replcheck", report_section(report, minimise, invariants))


def render_many(reports, minimise: bool = True) -> str:
    """Several reports on one page (anchors prefixed by spec name)."""
    if len(reports) == 1:
        return render(reports[0], minimise)
    body = "\n<hr>\n".join(report_section(r, minimise, prefix=r.spec.name) for r in reports)
    return page("replcheck report", body)
