"""The verdict matrix: one spec under every resolver x topology combination.

The slide "which resolver keeps which promise": the spec's workload and
invariants are checked once per combination, and the verdicts are laid out
with resolvers as rows and invariants as columns, one table per topology.

How a combination is made from the spec (documented in docs/rendering.md):

- ``system.resolver`` and ``system.topology`` are replaced, and every key
  with its own ``[keys."k"]`` table is re-typed to the resolver
  (:func:`model.variants.retype`: a register resolver becomes the key's ``resolver``, a
  counter or set type its ``type``; ``initial`` is re-read for the new type;
  ``home`` and ``delete_rule`` are kept, ``rights`` only for ``escrow``) —
  before, only ``system.resolver`` was swapped, so a key that declared its
  own type ran that type in every row.  A ``users`` table is left alone
  (its rows never conflict: no resolver runs there); a row in which no key
  takes the resolver is *not applicable*;
- ``star``: the hub is the spec's own ``system.hub`` when it names one,
  else the first leader in ``system.leaders``;
- ``custom``: needs the spec's own ``system.edges`` (there is no default
  graph); other topologies drop ``hub`` / ``edges`` they do not take;
- everything else (clock, tie-break, offsets, loop prevention, bounds) is
  the spec's, except that a product preset that fixes its own clock or
  tie-break (``cassandra``, ``couchdb``, ...) gets the spec's ``clock`` /
  ``tie_break`` removed rather than contradicted.

The combination is made by :meth:`Spec.variant` (model/variants.py), which
re-validates the spec's own source mapping with the changes: it goes
through the same validation as a spec file.  A
resolver that cannot run the spec's workload at all (a set or counter
resolver given register writes) makes that cell *not applicable*, with the
validation's one-line reason; the matrix fails (exit 2) only when no
combination applies.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from replcheck.checks import escape as esc
from replcheck.checks import render_markdown as md
from replcheck.checks.budget import TOTAL, Budget
from replcheck.checks.explain import explain
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.verdict import HOLDS, INCOMPLETE, VIOLATED, Report, Result, check, load
from replcheck.model.errors import SpecError, did_you_mean
from replcheck.model import variants
from replcheck.model.resolvers import RESOLVERS
from replcheck.model.spec import Spec
from replcheck.model.variants import retype   # noqa: F401  (re-exported: the [keys] re-typing rule)
from replcheck.model.topology import TOPOLOGIES


@dataclass(frozen=True)
class NotApplicable:
    """A combination the spec cannot be run under, and why (one line)."""

    reason: str
    verdict: str = "n/a"


@dataclass(frozen=True)
class NotRun:
    """A combination not checked because the run was stopped (Ctrl-C or
    SIGTERM: ``incomplete (interrupted)``) or the command's time was spent
    (``--total-seconds``: ``incomplete (total_seconds)``)."""

    reason: str = "interrupted"
    verdict: str = INCOMPLETE


@dataclass(frozen=True)
class Matrix:
    """Every combination's report, keyed by ``(topology, resolver)``."""

    base: Spec
    resolvers: tuple[str, ...]
    topologies: tuple[str, ...]
    invariants: tuple[str, ...]
    reports: dict

    def report(self, topology: str, resolver: str) -> Report:
        return self.reports[(topology, resolver)]

    def result(self, topology: str, resolver: str, invariant: str):
        """The verdict of one cell, or the :class:`NotApplicable` of its row
        (a row not run: an ``incomplete (interrupted)`` result)."""
        rep = self.report(topology, resolver)
        if isinstance(rep, NotApplicable):
            return rep
        if isinstance(rep, NotRun):
            return Result(invariant, INCOMPLETE, bound=rep.reason)
        return next(r for r in rep.results if r.invariant == invariant)

    def checked(self) -> list[Report]:
        return [rep for rep in self.reports.values() if isinstance(rep, Report)]

    @property
    def interrupted(self) -> bool:
        """Was the run stopped (Ctrl-C, SIGTERM) before every combination was checked?"""
        return any(rep.reason == "interrupted" if isinstance(rep, NotRun) else rep.cut == "interrupted"
                   for rep in self.reports.values() if not isinstance(rep, NotApplicable))

    @property
    def not_started(self) -> int:
        """Combinations not started because ``--total-seconds`` was spent."""
        return sum(1 for rep in self.reports.values() if isinstance(rep, NotRun) and rep.reason == TOTAL)

    @property
    def verdicts(self) -> list[str]:
        """Every cell's verdict, the rows not run (interrupted) included."""
        return [self.result(t, r, i).verdict for t in self.topologies for r in self.resolvers
                for i in self.invariants if not isinstance(self.report(t, r), NotApplicable)]

    @property
    def worst(self) -> str:
        verdicts = set(self.verdicts)
        return VIOLATED if VIOLATED in verdicts else INCOMPLETE if INCOMPLETE in verdicts else HOLDS


def _names(spec: Spec, key: str, names, known, listing: str) -> tuple[str, ...]:
    for n in names:
        if n not in known:
            raise SpecError(spec.source, key, f"unknown '{n}'{did_you_mean(n, known)} ({listing})")
    if len(set(names)) != len(names):
        raise SpecError(spec.source, key, "a name is listed twice; list each once")
    return tuple(names)


def takes_resolver(kt) -> bool:
    """Does a key with table ``kt`` take a conflict resolver?  (A ``users``
    table does not; :func:`model.variants.takes_resolver`.)"""
    return variants.takes_resolver(kt)


def hub_of(spec: Spec) -> str | None:
    """The hub a star combination of ``spec`` uses (see the module notes)."""
    return spec.hub or spec.leaders[0]


def combination(spec, resolver: str, topology: str) -> Spec:
    """``spec`` (a :class:`Spec`, or the path of one) under ``resolver``
    over ``topology``: a new validated Spec (:meth:`Spec.variant`), or
    :class:`model.variants.NotApplicable` with the validator's reason."""
    if not isinstance(spec, Spec):
        spec = load(spec)
    if topology == "custom" and not spec.edges:
        raise SpecError(spec.source, "--topology", "custom needs the spec's own system.edges; add edges to the spec"
                                                     " or leave custom out")
    if not variants.resolver_keys(spec):
        raise SpecError(spec.source, "keys", "no key of the workload takes a resolver (a users table's rows never"
                                             " conflict), so this row would be the spec as written")
    return spec.variant(resolver=resolver, retype_keys="declared", topology=topology, presets="retry")


def run(path, resolvers=None, topologies=None, invariants=None, progress=None, budget: Budget = Budget(),
        max_seconds: float | None = None, overrides=(), mapper=None) -> Matrix:
    """Check the spec at ``path`` under every combination.

    ``resolvers`` default to the whole catalogue (:data:`RESOLVERS`),
    ``topologies`` to the spec's own, ``invariants`` to the spec's.
    ``progress(done, total, topology, resolver)`` is called before each
    combination.  ``budget`` (``--total-seconds``) bounds the whole matrix:
    each combination's time is clamped to what is left, and those not
    started once it is spent are ``incomplete (total_seconds)``;
    ``max_seconds`` replaces the spec's ``[bounds] max_seconds`` for each;
    ``overrides`` are ``--set KEY=VALUE`` edits of the base spec.
    ``mapper`` (``--cluster``, replcheck.cluster.sweep): runs the
    combinations' checks elsewhere — ``mapper([(spec, invariants), ...],
    budget, on_done)`` returns a Report or the reason none was made
    (``interrupted``, ``total_seconds``) per combination, in order.
    """
    base = load(path, list(overrides))
    resolvers = _names(base, "--resolver", tuple(resolvers or RESOLVERS), RESOLVERS, "replcheck list resolvers")
    topologies = _names(base, "--topology", tuple(topologies or (base.topology,)), TOPOLOGIES,
                        "replcheck list topologies")
    invariants = _names(base, "--invariants", tuple(invariants or base.invariants), INVARIANTS,
                        "replcheck list invariants")
    reports = {}
    total = len(resolvers) * len(topologies)
    stopped = False
    for t in topologies:
        for r in resolvers:
            if stopped:   # Ctrl-C / SIGTERM: the rest is reported as not run, not checked
                reports[(t, r)] = NotRun()
                continue
            if budget.spent:
                reports[(t, r)] = NotRun(TOTAL)
                continue
            if progress:
                progress(len(reports), total, t, r)
            try:
                spec = combination(base, r, t)
            except SpecError as e:
                if e.key.startswith("--"):
                    raise
                reports[(t, r)] = NotApplicable(f"{e.key}: {e.message}")
                continue
            except KeyboardInterrupt:
                reports[(t, r)], stopped = NotRun(), True
                continue
            if mapper is not None:   # checked below, all at once
                reports[(t, r)] = spec.with_bounds(max_seconds=max_seconds)
                continue
            try:
                reports[(t, r)] = rep = check(budget.bound(spec.with_bounds(max_seconds=max_seconds)), invariants)
            except KeyboardInterrupt:   # stopped outside the search (building the system, a replay)
                reports[(t, r)], stopped = NotRun(), True
                continue
            stopped = rep.cut == "interrupted"
    if mapper is not None:
        keys = [k for k, v in reports.items() if not isinstance(v, (NotRun, NotApplicable))]

        def on_done(i):
            if progress:
                progress(i, total, *keys[i])
        got = mapper([(reports[k], invariants) for k in keys], budget, on_done)
        for k, rep in zip(keys, got):
            reports[k] = NotRun(rep) if isinstance(rep, str) else rep
        stopped = any(isinstance(v, NotRun) and v.reason == "interrupted" for v in reports.values())
    if progress and not stopped:
        progress(total, total, None, None)
    if all(isinstance(rep, NotApplicable) for rep in reports.values()):
        first = next(iter(reports.values()))
        raise SpecError(base.source, "--resolver", f"no combination can run this spec ({first.reason});"
                                                    " pick resolvers that take its operations")
    return Matrix(base, resolvers, topologies, invariants, reports)


# ------------------------------------------------------------------ rendering
def cell_text(result) -> str:
    """``holds``, ``holds (vacuous)`` (docs/model.md "Vacuity"), ``VIOLATED
    lost-update`` or ``incomplete (max_states)``."""
    if result.verdict == VIOLATED:
        return f"VIOLATED {result.anomaly}"
    if result.verdict == INCOMPLETE:
        return f"incomplete ({result.bound})"
    if isinstance(result, NotApplicable):
        return "n/a"
    return "holds (vacuous)" if result.vacuous else "holds"


def not_applicable(m: Matrix, topology: str) -> list[str]:
    """``resolver: reason`` for each row of ``topology`` that could not run."""
    return [f"{r}: {m.report(topology, r).reason}" for r in m.resolvers
            if isinstance(m.report(topology, r), NotApplicable)]


def topology_label(m: Matrix, topology: str) -> str:
    if topology == "star":
        return f"star (hub {hub_of(m.base)})"
    return topology


def render_text(m: Matrix) -> str:
    """One table for a terminal (issue 16): a row per resolver, a column per
    (topology, invariant); an n/a cell carries a footnote number whose
    reason is listed once below the table.  Names from the spec go through
    :func:`checks.escape.terminal`."""
    t_ = esc.terminal
    nr, nt = len(m.resolvers), len(m.topologies)
    out = [t_(f"{m.base.source}: {m.base.name}") + f" - {nr} resolver{'s' if nr != 1 else ''} x {nt}"
           f" topolog{'ies' if nt != 1 else 'y'}", ""]
    notes: dict[str, int] = {}

    def cell(t, r, i):
        res = m.result(t, r, i)
        if isinstance(res, NotApplicable):
            n = notes.setdefault(res.reason, len(notes) + 1)
            return f"n/a [{n}]"
        return cell_text(res)

    cols = [(t, i) for t in m.topologies for i in m.invariants]
    heads = [["", *(topology_label(m, t) if k == 0 else "" for t in m.topologies
                    for k, _ in enumerate(m.invariants))],
             ["resolver", *(i for _, i in cols)]]
    rows = [[r, *(cell(t, r, i) for t, i in cols)] for r in m.resolvers]
    table = [[t_(v) for v in row] for row in heads + rows]
    if len(m.topologies) == 1:
        table = table[1:]   # one topology: it is in the title line, no spanning header
        out.insert(1, f"topology: {t_(topology_label(m, m.topologies[0]))}")
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    out += ["  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in table]
    if notes:
        out.append("")
        by_reason: dict[str, list[str]] = {}
        for t in m.topologies:
            for r in m.resolvers:
                rep = m.report(t, r)
                if isinstance(rep, NotApplicable) and r not in by_reason.setdefault(rep.reason, []):
                    by_reason[rep.reason].append(r)
        for reason, n in notes.items():
            out.append(t_(f"  [{n}] {', '.join(by_reason.get(reason, []))}: {reason}"))
    return "\n".join(out).rstrip()


def anchor(topology: str, resolver: str, invariant: str) -> str:
    return md.anchor_id(topology, resolver, invariant)


def counterexamples(m: Matrix, minimise: bool = True) -> dict:
    """Every violated cell's counterexample, ``(topology, resolver,
    invariant) -> Counterexample`` (:func:`checks.explain.explain`), built
    before rendering: :func:`render_markdown` only reads them."""
    out = {}
    for t in m.topologies:
        for r in m.resolvers:
            for i in m.invariants:
                res = m.result(t, r, i)
                if res.verdict == VIOLATED:
                    out[(t, r, i)] = explain(m.report(t, r), res, minimise)
    return out


def render_markdown(m: Matrix, cxs: dict) -> str:
    """Tables with each violation linked to its counterexample below (user
    text through :mod:`checks.escape`); ``cxs``: :func:`counterexamples`."""
    out = [f"# Which resolver keeps which promise: {esc.md_text(m.base.name)}", ""]
    if m.base.description:
        out += [f"_{esc.md_text(m.base.description)}_", ""]
    out += [f"{esc.md_code(m.base.source)}, checked under every resolver (rows) and invariant (columns);"
            " a violation links to its counterexample.", ""]
    sections = []
    for t in m.topologies:
        out += [f"## {esc.md_text(topology_label(m, t))}", "",
                "| resolver | " + " | ".join(esc.md_cell(i) for i in m.invariants) + " |",
                "|---|" + "---|" * len(m.invariants)]
        for r in m.resolvers:
            cells = []
            for i in m.invariants:
                res = m.result(t, r, i)
                if res.verdict == VIOLATED:
                    a = anchor(t, r, i)
                    cells.append(f"[**violated**: {esc.md_cell(res.anomaly)}](#{a})")
                    sections.append(md.counterexample_section(
                        cxs[(t, r, i)], 3, a, title=f"{topology_label(m, t)} / {r}: {i} violated: {res.anomaly}"))
                else:
                    cells.append(md.cell(cell_text(res)))
            out.append(f"| {esc.md_cell(r)} | " + " | ".join(cells) + " |")
        out.append("")
        na = not_applicable(m, t)
        if na:
            out += ["Not applicable (the spec's workload does not fit the resolver):", ""]
            out += [f"- {esc.md_text(x, line_start=True)}" for x in na] + [""]
    if sections:
        out += ["## Counterexamples", ""] + sections
    return "\n".join(out).rstrip() + "\n"


def rows(m: Matrix) -> list[dict]:
    """One flat record per (topology, resolver, invariant)."""
    out = []
    for t in m.topologies:
        for r in m.resolvers:
            for i in m.invariants:
                res = m.result(t, r, i)
                row = {"topology": t, "hub": hub_of(m.base) if t == "star" else None, "resolver": r,
                       "invariant": i, "verdict": res.verdict, "anomaly": None, "bound": None, "steps": None,
                       "vacuous": None, "message": None, "culprits": []}
                if isinstance(res, NotApplicable):
                    row["message"] = res.reason
                elif isinstance(m.report(t, r), NotRun):
                    row.update(bound=res.bound, message="not checked: the run was interrupted"
                               if res.bound == "interrupted" else "not checked: --total-seconds ran out first")
                else:
                    row.update(anomaly=res.anomaly, bound=res.bound, message=res.message, vacuous=res.vacuous,
                               steps=len(res.trace) if res.trace is not None else None, culprits=list(res.culprits))
                out.append(row)
    return out


def render_csv(m: Matrix) -> str:
    """One row per cell.  Every data cell is quoted and passed through
    :func:`checks.escape.csv_cell` (OWASP CSV injection: no cell starts a
    formula); the header is replcheck's own and left bare."""
    buf = io.StringIO()
    fields = ["topology", "resolver", "invariant", "verdict", "anomaly", "bound", "steps", "message"]
    csv.writer(buf, lineterminator="\n").writerow(fields)
    w = csv.DictWriter(buf, fields, extrasaction="ignore", lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows(m):
        w.writerow({k: esc.csv_cell(v) for k, v in row.items()})
    return buf.getvalue().rstrip("\n")


def render_json(m: Matrix) -> str:
    return json.dumps({"spec": m.base.source, "name": m.base.name, "resolvers": list(m.resolvers),
                       "topologies": list(m.topologies), "invariants": list(m.invariants),
                       "cells": rows(m)}, indent=2)


# Each renderer reads the matrix and, for Markdown, the counterexamples built
# beforehand (:func:`counterexamples`; ``{}`` for the other formats).
RENDERERS = {"text": lambda m, cxs: render_text(m), "markdown": render_markdown,
             "csv": lambda m, cxs: render_csv(m), "json": lambda m, cxs: render_json(m)}
