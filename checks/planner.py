"""The run planner: the one place that decides how a spec is searched.

Given a spec, the invariants asked for, the engine and the options, the
planner (stateright's ``CheckerBuilder`` in spirit) decides which reductions
are sound (docs/reductions.md), builds the systems with those reductions
fixed at construction (:class:`model.reductions.Reductions`), builds the
properties once — with the replication-loop guard, vacuity watching and,
under symmetry, judging every image — and picks the engine and the phases.
Every mode (serial, swarm, two-phase, smt) gets its properties from here,
so they cannot disagree about what they judge.  The planner never runs a
search: :func:`checks.verdict.check` runs the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from replcheck.checks import vacuity
from replcheck.checks.invariants import INVARIANTS
from replcheck.model import search
from replcheck.model import state as st
from replcheck.model.reductions import Reductions
from replcheck.model.resolvers.local_checks import check_of
from replcheck.model.spec import Spec
from replcheck.model import dead_content, por, relay, symmetry
from replcheck.model.reduced import build
from replcheck.model.system import System


@dataclass(frozen=True)
class Search:
    """One search of a plan: the engine, the system it explores (its
    reductions fixed), the properties it judges and its stats-line notes.
    ``stop_when``: property names whose violation ends it (``--stop-early``),
    ``None`` for the engine's default."""

    engine: str
    system: System
    properties: tuple
    notes: tuple[str, ...] = ()
    stop_when: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Plan:
    """How one check runs: its searches, in order (two for the two-phase
    search; each decides the properties it holds), the plain system traces
    are rebuilt on, the vacuity watch, and whether the engine is exhaustive."""

    names: tuple[str, ...]
    searches: tuple[Search, ...]
    plain: System
    watched: vacuity.Watch
    exhaustive: bool
    notes: tuple[str, ...]


def _unless_looped(check):
    looped = st.is_looped

    def judged(state):
        return None if looped(state) else check(state)
    return judged


def _unless_looped_labels(labels):
    if labels is None:
        return None
    looped = st.is_looped

    def judged(state):
        return () if looped(state) else labels(state)
    return judged


def properties(system: System, names) -> list:
    """The search properties for the invariants ``names`` on ``system``:
    the ONE place they are built, for every engine, phase and swarm worker.

    Where a write can loop (writes forwarded without ``visited`` metadata
    over a graph where some walk passes the hop cap: System.loops_possible),
    a state where a looping write was cut looks quiescent but is not:
    replication never ends there, so quiescent invariants are not judged at
    it, and ``replication-terminates`` is added as a guard (its violation turns
    every other ``holds`` into ``incomplete: replication-loop``;
    docs/model.md, "Detecting a replication loop")."""
    props = [INVARIANTS[n].property(system) for n in names]
    if system.loops_possible:   # the guard when not asked for
        props = [replace(p, check=_unless_looped(p.check), labels=_unless_looped_labels(p.labels))
                 if p.scope == search.QUIESCENT else p for p in props]
        if "replication-terminates" not in names:
            props.append(INVARIANTS["replication-terminates"].property(system))
    return props


def _images_once(system: System):
    """``system.images`` computed once per state for every property that
    judges it (issue 18 item 3: with k invariants each orbit was rebuilt k
    times, and rebuilding — materializing done leaders under each renaming —
    is most of a symmetric search's time).  One entry: the engines judge
    every property at a state before moving on; a different state simply
    recomputes.  The memo holds the state itself, so its ``id`` is never
    reused while cached."""
    last: list = [None, ()]

    def images(state):
        if last[0] is not state:
            last[1] = tuple(system.images(state))
            last[0] = state
        return last[1]
    return images


def _judge_images(images, check):
    """A quiescent check that judges every state a reduced state stands for."""
    def judged(state):
        for image in images(state):
            d = check(image)
            if d is not None:
                return d
        return None
    return judged


def _label_images(images, labels):
    """Every label shown by any state a reduced quiescent state stands for."""
    if labels is None:
        return None

    def judged(state):
        out: set = set()
        for image in images(state):
            out.update(labels(image))
        return tuple(sorted(out))
    return judged


def choose(probe: System, ghost: bool, quiescent_only: bool, options,
           relay_ok: bool | None = None, stamps: bool = True) -> tuple[Reductions, tuple[str, ...]]:
    """The reductions that are sound for ``probe``'s spec with the ghost
    kept or dropped (docs/reductions.md), as allowed by ``options``, and the
    notes that say why each is on or off.  ``probe`` is any system of the
    spec: each reduction's ``applicable`` (model/por.py, model/dead_content.py,
    model/symmetry.py, model/relay.py) is asked about the proposed reductions.
    ``relay_ok``: whether the properties allow relay turns
    (default: ``quiescent_only``; it also allows the replication-loop guard).
    ``stamps``: write timestamps kept or dropped (decided by :func:`plan`)."""
    base = Reductions(ghost=ghost, stamps=stamps)
    if not options.por:
        return base, ()
    ok, why = por.applicable(probe)
    if not ok and (quiescent_only if relay_ok is None else relay_ok):
        rok, rwhy = relay.applicable(probe)
        if rok:
            return replace(base, relay=True), ("por off: " + why, "relay: " + rwhy)
    if not (ok and quiescent_only):
        return base, ("por off: " + (why if not ok else "an invariant is checked at every state"),)
    r = replace(base, por=True)
    notes = ("por: " + why,)
    ok, why = por.absorbable(probe)
    if ok:
        r = replace(r, absorb=True)
        notes += (why,)
    ok, why = dead_content.applicable(probe, r)
    if ok and options.dead_variables:
        r = replace(r, dead_content=True)
        notes += (why,)
    ok, why = symmetry.applicable(probe, r)
    if ok and options.symmetry:
        r = replace(r, symmetry=True)
        notes += (why,)
    elif options.symmetry and probe.spec.topology == "all-to-all":
        notes += ("symmetry off: " + why,)
    return r, notes


def reduced(spec: Spec, names, ghost: bool, options,
            probe: System | None = None, stamps: bool = True) -> tuple[System, list, tuple[str, ...]]:
    """A system with every reduction sound for ``names`` (ghost as given),
    its properties and the notes.  Wrap the properties with
    :func:`for_images` once everything else (vacuity) has wrapped them.
    ``probe``: a plain system of ``spec`` already built, if any."""
    probe = probe or System(spec)
    # The replication-loop guard is an every-state property: with it nothing
    # can be reduced by por (which judges quiescent states only).  An
    # every-state invariant whose violations all show at a quiescent state
    # reachable from them (Invariant.quiescence_suffices) is judged there.
    moved = at_quiescence(probe, names)
    late = all(INVARIANTS[n].scope == search.QUIESCENT or n in moved for n in names)
    quiescent_only = late and not _needs_guard(probe, names)
    # Relay turns also keep the loop guard's verdict: the loop flag is
    # never cleared and every run reaches quiescence (docs/reductions.md "Relay turns").
    relay_ok = all(INVARIANTS[n].scope == search.QUIESCENT or n in moved or n == "replication-terminates"
                   for n in names)
    r, notes = choose(probe, ghost, quiescent_only, options, relay_ok, stamps)
    system = build(spec, r)
    props = properties(system, names)
    if (system.por or system.relay) and moved:
        props = [replace(p, scope=search.QUIESCENT) if p.name in moved else p for p in props]
        notes += (f"{', '.join(moved)} judged at quiescent states only: every violation it can show at a state"
                  " is still shown by a quiescent state reachable from it (no checked stock can rise);"
                  " its trace is not proved shortest",)
    return system, props, notes


def at_quiescence(system: System, names) -> tuple[str, ...]:
    """The every-state invariants of ``names`` that may be judged at
    quiescent states only on ``system``'s spec
    (``Invariant.quiescence_suffices``; docs/reductions.md "Every-state
    invariants judged at quiescence")."""
    return tuple(n for n in names if INVARIANTS[n].scope == search.EVERY
                 and INVARIANTS[n].quiescence_suffices is not None and INVARIANTS[n].quiescence_suffices(system))


def _first_image(system: System):
    """The first image of a representative (the identity's), alone."""
    def first(state):
        return next(iter(system.images(state)))
    return first


def _alike_or(system: System, first, judged, one):
    """``judged`` (every image), except at a representative whose images all
    have identical leader states (:meth:`System.rebuilt_alike`), where
    ``one`` — the check or labels of an invariant that cannot fail on alike
    leaders — judges the first image only: it holds on all or on none."""
    if judged is None:
        return None
    alike = system.rebuilt_alike

    def check(state):
        return one(first(state)) if alike(state) else judged(state)
    return check


def _on_first(first, judge):
    """``judge`` on the first image (the identity's) of a representative."""
    if judge is None:
        return None

    def judged(state):
        return judge(first(state))
    return judged


def for_images(system: System, props) -> list:
    """Under symmetry a quiescent representative stands for its orbit:
    every image is judged (the invariants are not assumed symmetric) —
    but an invariant that holds wherever the leaders are alike
    (``Invariant.holds_when_leaders_alike``: convergence) judges one image
    of a representative whose images all have identical leaders, when no op
    can be rejected (so the vacuity watch, which reads the judged state's
    write table, sees the same as over the whole orbit: a renaming maps
    accepted writes to accepted writes).  An invariant whose verdict and
    kinds are the same at every image (``Invariant.same_on_every_image``:
    convergence and no-lost-writes over mv-register with distinct values)
    judges the first image of every representative, under the same
    condition."""
    if system.symmetry is None:
        return list(props)
    images = _images_once(system)
    first = _first_image(system)
    rejectable = any(check_of(system.spec, i) for i in range(system.nops))   # "" when none
    out = []
    for p in props:
        check, labels = _judge_images(images, p.check), _label_images(images, p.labels)
        inv = INVARIANTS.get(p.name)
        if inv is not None and inv.same_on_every_image is not None and not rejectable \
                and inv.same_on_every_image(system):
            # the same verdict and kinds at every image: the identity's alone
            check = _on_first(first, p.check)
            labels = _on_first(first, p.labels)
        elif inv is not None and inv.holds_when_leaders_alike and not rejectable:
            check = _alike_or(system, first, check, p.check)
            labels = _alike_or(system, first, labels, p.labels)
        out.append(replace(p, check=check, labels=labels))
    return out


def _needs_guard(system: System, names) -> bool:
    """Whether :func:`properties` adds the replication-loop guard: writes
    are forwarded without ``visited`` metadata and it was not asked for."""
    return system.loops_possible and "replication-terminates" not in names


def _stop(props, options):
    return tuple(p.name for p in props) if options.stop_early else None


def plan(spec: Spec, names, engine: str, options) -> Plan:
    """The plan for checking ``names`` on ``spec`` with ``engine`` and
    ``options`` (:class:`checks.verdict.Options`)."""
    names = tuple(names)
    simulate = options.simulate is not None
    exhaustive = engine in ("bfs", "dfs") and not simulate
    base = System(spec)
    ghost_needed = base.ghost_needed_by_types()
    ghost_names = tuple(n for n in names if INVARIANTS[n].needs_ghost(base))
    guard = _needs_guard(base, names)
    ghost = not (exhaustive and options.dead_variables and not ghost_needed and not ghost_names)
    notes: tuple[str, ...] = () if ghost else ("ghost happens-before dropped (no resolver or invariant reads it)",)
    fp = ("64-bit fingerprints",) if options.fingerprint and engine == "bfs" and not simulate else ()
    if engine != "bfs" or simulate:
        system = System(spec, ghost=ghost)
        props, watched = vacuity.watch(system, properties(system, names), exhaustive)
        kind = ("swarm" if options.workers > 1 else "simulate") if simulate else engine
        one = Search(kind, system, tuple(props), notes, _stop(props, options))
        return Plan(names, (one,), system if ghost else System(spec), watched, exhaustive, notes)
    # Write timestamps nothing reads (docs/reductions.md "Dead timestamps"):
    # dropped by the breadth-first search, which replays its counterexamples
    # on the plain model (stamps back in every message and trace).
    stamps = not (options.dead_variables and not base.stamps_needed())
    if not stamps:
        notes += ("timestamps dropped (a wall clock, and no key type reads them)",)
    system, props, red_notes = reduced(spec, names, ghost, options, base, stamps)
    n_props = len(names) + (1 if guard else 0)
    phased = (system.por and options.dead_variables and ghost_names and len(ghost_names) < n_props
              and not ghost_needed)
    if not phased:
        props, watched = vacuity.watch(system, props, True)
        props = for_images(system, props)
        one = Search("bfs", system, tuple(props), notes + red_notes + fp, _stop(props, options))
        plain = system if not (system.por or system.relay or not system.ghost or not system.stamps) else System(spec)
        return Plan(names, (one,), plain, watched, True, notes + red_notes + fp)
    # Two phases (docs/reductions.md): the invariants that do not read the
    # ghost first, on a ghost-free system with every reduction; then the
    # ghost-reading ones on the ghost-kept reduced system, to the end.  One
    # vacuity watch over both (guarded ops are op indices, the same in both).
    rest = tuple(n for n in names if n not in ghost_names)
    first, first_props, first_notes = reduced(spec, rest, False, options, base, stamps)
    ghost_props = [p for p in props if p.name in ghost_names]
    watched_props, watched = vacuity.watch(system, list(first_props) + ghost_props, True)
    first_props = for_images(first, watched_props[:len(first_props)])
    ghost_props = for_images(system, watched_props[len(first_props):])
    one = Search("bfs", first, tuple(first_props), first_notes + fp, _stop(first_props, options))
    two = Search("dfs", system, tuple(ghost_props), red_notes, _stop(ghost_props, options))
    both = first_notes + fp + tuple("with the ghost: " + r for r in red_notes)
    return Plan(names, (one, two), System(spec), watched, True, both)
