"""Plain-text rendering of the z3 answers (skew, laws, I-confluence).

Analysis lives in the sibling modules; this one only formats their frozen
results, in the lecture-slide voice of ``checks/render_text.py``.
"""

from __future__ import annotations

from replcheck.checks import escape as esc
from replcheck.checks.smt.skew import SkewReport, Witness, fmt


def _timeline(w: Witness) -> list[str]:
    out = [f"      offsets: " + ", ".join(f"{l} {'+' if o >= 0 else ''}{fmt(o)} ms" for l, o in w.offsets)
           + f"  (skew {fmt(max(abs(o) for _, o in w.offsets))} ms; clocks differ by up to {fmt(w.pairwise)} ms)"]
    for e in w.events:
        what = (f"{e.op} commits at {e.leader} (ts {fmt(e.ts)})" if e.kind == "commit"
                else f"{e.op}'s write (ts {fmt(e.ts)}) applied at {e.leader}")
        clocks = " | ".join(f"{l} {fmt(c)}" for l, c in e.clocks)
        mark = "   <- lost write" if e.kind == "commit" and e.op == w.victim else (
            "   <- winner" if e.kind == "commit" and e.op == w.winner else "")
        out.append(f"      t={fmt(e.time):>7} ms  {what:<52} clocks: {clocks}{mark}")
    return out


def skew(r: SkewReport, freed: SkewReport | None = None, verbose: bool = False) -> str:
    """The skew analysis as people ask it (issue 16): can a write be lost,
    and from which clock skew on is a *causally later* write lost — the
    least skew first, with one witness timeline.  ``freed`` is the same
    analysis with the ops' real times free, asked when the spec's own
    ``time_ms`` leave no causally later write to lose; ``verbose`` shows
    every witness's timeline, not only the least skew's."""
    t = r.timing
    bound = "unbounded" if t.max_skew is None else f"<= {fmt(t.max_skew)} ms"
    out = [f"{r.source}: {r.name}",
           f"  lww over wall clocks; commit {fmt(t.commit_ms)} ms, replication >= {fmt(t.replication_ms)} ms per link;"
           f" |offset| {bound}" + ("; real times free" if t.free_times else "")]
    out += [f"  note: {n}" for n in r.notes]
    out.append("")
    undecided = dict(getattr(r, "undecided", ()))
    shown_least = r.least is not None and r.least.witness is not None
    for label, w in (("lost-update", r.lost_update), ("causally-later-write-lost", r.causally_later)):
        if label in undecided:
            out.append(f"  {label:<26} NOT DECIDED: {_why(undecided[label])}")
        elif w is None:
            out.append(f"  {label:<26} impossible within these bounds")
        else:
            out.append(f"  {label:<26} POSSIBLE: {w.message}")
            # one timeline by default: the least skew's when there is one, else the causal witness's
            if verbose or (label == "causally-later-write-lost" and not shown_least):
                out += _timeline(w)
    out += _least(r, undecided)
    if freed is not None:
        out.append("")
        out.append("  with the ops' real times free (the spec's time_ms leave no causally later write):")
        out += ["  " + line for line in _least(freed, dict(getattr(freed, "undecided", ())))[1:]]
    return esc.terminal_lines(out)


def _least(r: SkewReport, undecided: dict) -> list[str]:
    """The least-skew answer and its witness (empty when not asked)."""
    out = []
    if "least-skew" in undecided:
        out.append("")
        out.append(f"  least skew for a causally later write to be lost: NOT DECIDED: {_why(undecided['least-skew'])}")
    if r.least is not None:
        out.append("")
        le = r.least
        if le.skew is None:
            out.append("  least skew for a causally later write to be lost: none — no skew within the bounds allows it")
        else:
            pair = fmt(2 * le.skew)
            if le.attained:
                out.append(f"  least skew for a causally later write to be lost: {fmt(le.skew)} ms"
                           f" (clocks {pair} ms apart); attained: at exactly this skew the tie-break decides")
            else:
                out.append(f"  least skew for a causally later write to be lost: any skew above {fmt(le.skew)} ms"
                           f" (clocks more than {pair} ms apart); at exactly {fmt(le.skew)} ms the tie-break saves it")
            if le.witness is not None:
                out.append(f"    witness: {le.witness.message}")
                out += _timeline(le.witness)
    return out


def _why(reason: str) -> str:
    """Why z3 gave no answer, for an incomplete result (exit 3)."""
    if reason == "timeout":
        return "incomplete, z3 ran out of time (--timeout); raise it"
    if reason == "interrupted":
        return "incomplete, interrupted (Ctrl-C or SIGTERM)"
    return f"incomplete, z3 could not decide ({reason})"


def laws(r) -> str:
    """The laws, then the one convergence claim: "proved: converges" only
    when the merge is a join *and* the encoding is the resolver's whole
    semantics; otherwise what the laws leave out is listed and convergence
    is "not proved"."""
    partial = bool(r.left_out)
    head = f"{r.resolver}: {r.states}" + (" (value merge only)" if partial else "")
    out = [head] + ([f"  ({r.source})"] if r.source else []) + [""]
    for law in r.laws:
        if getattr(law, "undecided", None):
            out.append(f"  {law.law:<14} NOT DECIDED: {_why(law.undecided)}")
        elif law.proved:
            out.append(f"  {law.law:<14} " + ("holds for the value merge" if partial else "proved"))
        else:
            out.append(f"  {law.law:<14} COUNTEREXAMPLE")
            out.append("      " + "  ".join(f"{n} = {s}" for n, s in law.states))
            out.append(f"      {law.left[0]} = {law.left[1]}")
            out.append(f"      {law.right[0]} = {law.right[1]}")
    out.append("")
    if partial:
        out.append(f"  left out: {r.resolver}'s rules beyond merging two values (model/resolvers/), not encoded:")
        out += [f"    - {x}" for x in r.left_out]
    if r.converges:
        out.append("  proved: converges under any delivery order, grouping and re-delivery")
    elif getattr(r, "incomplete", False) and not getattr(r, "refuted", True):
        out.append("  convergence not decided: a law was not decided (incomplete)")
    elif not r.proved:
        out.append("  not a join: replicas can disagree depending on delivery order or repetition")
    else:
        out.append(f"  convergence NOT proved: the laws cover only the value merge; the rules left out can make"
                   f" leaders diverge (replcheck check SPEC --set system.resolver={r.resolver} judges them)")
    return esc.terminal_lines(out)


def iconfluence(v) -> str:
    """The verdict; for a counterexample the ancestor, each branch's
    operations with the state after each, the merge-time effects that
    applied, and the merged state that breaks the invariant.  A query that
    states ``expect`` gets a last line saying whether the verdict is the
    expected one."""
    q = v.query
    out = [f"{q.source}: {q.name}"]
    if q.description:
        out.append(f"  {q.description}")
    out.append(f"  invariant: {q.invariant_text}")
    out.append("")
    if v.incomplete:
        out.append(f"  INCOMPLETE  (nothing proved or refuted within {v.bounds})")
        out.append(f"  {v.note}")
        return esc.terminal_lines(out + _expected(q, None))
    if v.confluent:
        out.append(f"  i-confluent  (proved for {v.bounds})")
        out.append("  no coordination is needed to keep the invariant within these bounds")
        return esc.terminal_lines(out + _expected(q, "i-confluent"))
    out.append(f"  NOT i-confluent  (counterexample within {v.bounds})")
    out.append(f"    ancestor   {v.ancestor}")
    for name, steps in (("A", v.branch_a), ("B", v.branch_b)):
        if not steps:
            out.append(f"    branch {name}   (no operation)")
        for i, s in enumerate(steps):
            args = ", ".join(f"{p}={x}" for p, x in s.params)
            head = f"branch {name}" if i == 0 else "        "
            out.append(f"    {head}   {s.op}({args}) -> {s.state}")
    for i, e in enumerate(getattr(v, "merge_effects", ())):
        out.append(f"    {'at merge' if i == 0 else '        '}   {e}")
    out.append(f"    merge at {v.merged_at} {v.merged}   <- violates {q.invariant_text}")
    if not v.minimal:
        out.append(f"  {v.note}")
    return esc.terminal_lines(out + _expected(q, "not i-confluent"))


def _expected(q, verdict) -> list[str]:
    """The query's ``expect``, compared with the verdict (nothing when the
    query states none)."""
    expect = getattr(q, "expect", "")
    if not expect:
        return []
    if verdict is None:
        return [f"  expected: {expect} (not decided)"]
    if verdict == expect:
        return [f"  expected: {expect} (as the query states)"]
    return [f"  UNEXPECTED: the query expects {expect}"]
