"""Plain-text rendering of a report: verdicts, anomaly, shortest trace, stats."""

from __future__ import annotations

from checks.anomalies import meaning
from checks.verdict import HOLDS, INCOMPLETE, Report


LOSSES = ("lost-update", "causally-later-write-lost", "resurrected-delete", "unreplicated-write-lost")


def system_line(report: Report) -> str:
    s = report.spec
    topo = s.topology + (f" (hub {s.hub})" if s.hub else "")
    if s.topology != "all-to-all":
        topo += f", {s.loop_prevention} loop prevention"
    resolver = s.resolver
    if s.resolver == "lww":
        resolver += f" over {s.clock} clocks (tie-break: {s.tie_break})"
    offs = ", ".join(f"{l} {o:+d} ms" for l, o in s.offsets if o)
    if offs and s.clock in ("wall", "hlc"):
        resolver += f"; clock offsets {offs}"
    return f"{len(s.leaders)} leaders ({', '.join(s.leaders)}) | {topo} | {resolver} | {s.links} links"


def stats_line(report: Report) -> str:
    st = report.stats
    if report.engine == "simulation":
        return (f"simulated runs: {st.transitions:,} steps, {st.quiescent:,} runs reached quiescence,"
                f" in {st.seconds:.2f} s - not exhaustive ({report.cut})")
    if report.complete:
        how = "exhaustive"
    elif report.cut:
        how = f"cut by {report.cut}"
    else:
        how = "stopped once every invariant was violated"
    line = (f"explored {st.states:,} states, {st.transitions:,} transitions, depth {st.depth},"
            f" {st.quiescent:,} quiescent, in {st.seconds:.2f} s ({st.states_per_second:,.0f} states/s) - {how}")
    notes = list(report.reductions)
    if any(r.startswith("64-bit") for r in notes):
        from model.search import collision_probability
        notes = [f"64-bit fingerprints (collision probability <= {collision_probability(st.states):.1e})"
                 if r.startswith("64-bit") else r for r in notes]
    if notes:
        line += "\n  " + "; ".join(notes)
    return line


def _leaders_line(step) -> str:
    parts = []
    for v in step.leaders:
        if len(v.values) == 1:
            parts.append(f"{v.name}: {v.values[0][1]}")
        else:
            parts.append(f"{v.name}: " + ", ".join(f"{k}={x}" for k, x in v.values))
    return " | ".join(parts)


def render(report: Report) -> str:
    s = report.spec
    out = [f"{s.source}: {s.name}"]
    if s.description:
        out.append(f"  {s.description}")
    out.append(f"  {system_line(report)}")
    out.append("")
    width = max(len(r.invariant) for r in report.results)
    for r in report.results:
        if r.verdict == HOLDS:
            out.append(f"  {r.invariant:<{width}}  holds")
        elif r.verdict == INCOMPLETE:
            out.append(f"  {r.invariant:<{width}}  incomplete (search cut by {r.bound}; no violation found so far)")
        else:
            out.append(f"  {r.invariant:<{width}}  VIOLATED  {r.anomaly}")
            out.append(f"    {r.message}")
            out.append(f"    ({r.anomaly}: {meaning(r.anomaly)})")
            assert r.trace is not None
            n = len(r.trace)
            out.append(f"    shortest counterexample, {n} step{'s' if n != 1 else ''}:")
            for step in r.trace.steps:
                mark = ""
                if step.event.kind == "commit" and step.event.op in r.culprits:
                    victim = r.anomaly in LOSSES and step.event.op == r.culprits[0]
                    mark = "   <- lost write" if victim else "   <- culprit"
                out.append(f"    {step.index:>3}. {step.text}{mark}")
                out.append(f"         {_leaders_line(step)}")
    out.append("")
    out.append(f"  {stats_line(report)}")
    return "\n".join(out)

