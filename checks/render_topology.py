"""``replcheck topology``: the propagation analysis of a spec's graph, as
text or JSON (see :mod:`model.propagation`)."""

from __future__ import annotations

import json

from replcheck.checks.escape import terminal
from replcheck.model.propagation import LOOP_MODES, Analysis, analyse, messages_per_write
from replcheck.model.spec import Spec
from replcheck.model.system import System


def analyse_spec(spec: Spec) -> tuple[System, Analysis]:
    system = System(spec)
    topo = system.topology
    names = system.leaders
    lat = {}
    for s, d in topo.edges:
        ms = spec.link_latency(names[s], names[d])
        if ms is None:
            lat = None
            break
        lat[(s, d)] = ms
    fifo = all(k == "fifo" for k in system.link_kind)
    return system, analyse(topo, lat or None, fifo)


def _costs(system) -> list[dict]:
    """Per loop-prevention mode, what one write costs from each leader
    (model/propagation.py ``messages_per_write``): the spec's own mode
    first, marked ``this spec``."""
    topo, names = system.topology, system.leaders
    own = system.spec.loop_prevention
    out = []
    for mode in sorted(LOOP_MODES, key=lambda m: m != own):
        per = [messages_per_write(topo, o, mode) for o in range(topo.n)]
        out.append({"loop_prevention": mode, "this_spec": mode == own,
                    "from": {names[o]: {"sent": c.sent, "useful": c.useful, "redundant": c.redundant,
                                        "loops": c.loops} for o, c in enumerate(per)}})
    return out


def to_json(spec: Spec) -> dict:
    system, a = analyse_spec(spec)
    n = system.leaders
    return {
        "spec": spec.source,
        "topology": spec.topology,
        "leaders": list(n),
        "links": [f"{n[s]} -> {n[d]}" for s, d in system.edges],
        "paths": [{"from": n[x], "to": n[y], "path": [n[i] for i in p] if p else None,
                   "hops": len(p) - 1 if p else None} for (x, y), p in sorted(a.paths.items())],
        "unreachable": [{"from": n[x], "to": n[y]} for x, y in a.unreachable],
        "single_points_of_failure": {"leaders": [n[x] for x in a.spof_leaders],
                                     "links": [f"{n[s]} -> {n[d]}" for s, d in a.spof_links]},
        "worst_latency_ms": None if a.worst_latency is None else {
            "ms": a.worst_latency[0], "from": n[a.worst_latency[1]], "to": n[a.worst_latency[2]],
            "path": [n[i] for i in a.worst_latency[3]]},
        "messages_per_write": _costs(system),
        "causal_order_by_construction": a.causal_by_construction,
        "causal_order_reason": a.causal_reason,
    }


def to_text(spec: Spec) -> str:
    """The analysis for a terminal: each line through
    :func:`checks.escape.terminal` (leader names come from the spec)."""
    d = to_json(spec)
    out = [f"{spec.source}: {spec.topology} over {len(d['leaders'])} leaders ({', '.join(d['leaders'])})", ""]
    out.append("replication paths (hops):")
    for p in d["paths"]:
        route = " -> ".join(p["path"]) if p["path"] else "never (no path)"
        out.append(f"  {p['from']:>10} => {p['to']:<10} {p['hops'] if p['hops'] is not None else '-':>2}  {route}")
    spof = d["single_points_of_failure"]
    out.append("")
    out.append("single points of failure (one crash stops some leader's writes reaching another live leader):")
    out.append(f"  leaders: {', '.join(spof['leaders']) or 'none'}")
    out.append(f"  links:   {', '.join(spof['links']) or 'none'}")
    if d["worst_latency_ms"]:
        w = d["worst_latency_ms"]
        out.append(f"worst-case propagation: {w['ms']} ms, {w['from']} => {w['to']} via {' -> '.join(w['path'])}")
    else:
        out.append("worst-case propagation: give system.latency_ms to compute it")
    out.append("messages per write, no faults (sent = useful + redundant: duplicates and copies dropped at the origin):")
    for c in d["messages_per_write"]:
        per = c["from"].values()
        sent = sorted({x["sent"] for x in per})
        red = sorted({x["redundant"] for x in per})
        span = (lambda v: str(v[0]) if len(v) == 1 else f"{v[0]}-{v[-1]}")
        loops = any(x["loops"] for x in per)
        plus = "+" if loops else ""   # a looping write's count is a lower bound (cut by the model or the cap)
        out.append(f"  {c['loop_prevention']:<8} {span(sent)}{plus} sent, {span(red)}{plus} redundant per write"
                   + (" - copies circle or multiply without end (a replication loop; the model cuts them)" if loops else "")
                   + ("   <- this spec" if c["this_spec"] else ""))
    verdict = "preserved" if d["causal_order_by_construction"] else "NOT guaranteed"
    out.append(f"causal order by construction: {verdict} ({d['causal_order_reason']})")
    return "\n".join(terminal(line) for line in out)


def render(spec: Spec, fmt: str) -> str:
    return json.dumps(to_json(spec), indent=2) if fmt == "json" else to_text(spec)
