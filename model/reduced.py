"""The reduced model: a wrapper over the plain :class:`model.system.System`
with the reductions the planner chose (docs/reductions.md,
docs/architecture.md "Reductions as wrapper models").

:func:`build` is the one constructor: ``build(spec, Reductions(...))`` is the
plain model when nothing but the ghost is chosen (``System(spec, ghost=...)``),
else ``Reduced(System(spec, ghost=...), reductions)``.  The plain model knows no
reduction; the wrapper offers the same model protocol (``initial_state``,
``successors``, ``step``, ``images``, ``expansions``, ``run_length``,
``run_length_is_constant``, ``rebuilt_alike``, ``fault_base``) over reduced
states, and reads everything else — the compiled spec, the primitive
commit and delivery steps — from the model it wraps.  It is composed of
one layer per reduction, each in its own module with its soundness
argument next to its code:

* :mod:`model.por` — done-leader elimination, also under crash-only faults
  (:class:`~model.por.DoneLeaderElimination`, :func:`model.por.applicable`);
* :mod:`model.dead_content` — dead busy-leader content, a layer of the
  settle step (:class:`~model.dead_content.DeadContent`,
  :func:`model.dead_content.applicable`);
* :mod:`model.relay` — relay turns, where the topology forwards
  and done-leader elimination is off (:class:`~model.relay.Relayed`, a
  wrapper of its own, never combined with the layers above);
* :mod:`model.symmetry` — orbit representatives over interchangeable
  leaders (:class:`~model.symmetry.Symmetry`, :func:`model.symmetry.applicable`);
  this module judges every image of a quiescent representative
  (:meth:`Reduced.images`) and maps a path through representatives back to
  real runs (:meth:`Reduced.expansions`).

Ghost removal is not a wrapper: dropping ghost happens-before changes what
every commit stamps, so it is a compile-time variant of the plain model
(``System(spec, ghost=False)``), decided by the planner when no resolver
and no checked invariant reads it (docs/reductions.md "Dead variables").
"""

from __future__ import annotations

from itertools import combinations

from replcheck.model import faults as fl
from replcheck.model import state as st
from replcheck.model.dead_content import DeadContent
from replcheck.model.por import DoneLeaderElimination
from replcheck.model.reductions import Reductions
from replcheck.model.relay import Relayed
from replcheck.model.symmetry import MAX_GROUP, Symmetry, full_for  # noqa: F401  (MAX_GROUP re-exported)
from replcheck.model.system import System, adopt


def build(spec, reductions: Reductions):
    """The model of ``spec`` under ``reductions``: the plain model when no
    reduction but the ghost's is chosen, else the reduced wrapper over it.
    Dead content and symmetry are layers of done-leader elimination."""
    base = System(spec, ghost=reductions.ghost, stamps=reductions.stamps)
    if reductions.relay:
        if reductions.por or reductions.dead_content or reductions.symmetry:
            raise ValueError("relay turns are the reduction of forwarding topologies: never with por")
        return Relayed(base)
    if not reductions.por:
        if reductions.dead_content or reductions.symmetry:
            raise ValueError("dead content and symmetry are layers of por: build them with por=True")
        return base
    return Reduced(base, reductions)


class Reduced(DoneLeaderElimination, DeadContent):
    """A plain model wrapped with done-leader elimination and, as chosen,
    dead content and symmetry.  Immutable once built: its reductions are
    fixed here (docs/architecture.md)."""

    por = True
    crash_por = False

    def __init__(self, base: System, reductions: Reductions):
        adopt(self, base)   # the plain model's compiled spec and primitive steps, copied once
        d = self.__dict__
        d["reductions"] = reductions
        d["ghost"] = base.ghost
        d["dead_content"] = reductions.dead_content
        fs = base.fault_spec
        # Under crash-only faults (docs/reductions.md, "Crash-only faults"; model/por.py):
        # without recoveries a reduced run first chooses the leaders that will crash in
        # it (``_doom``: a DOOM step, then those crashes are progress, so ``fault_base``
        # is out of reach); with recoveries a crash and its recovery happen only at
        # quiescent states.
        d["crash_por"] = base.general
        d["_doom"] = base.general and not fs.recoveries
        d["absorb"] = reductions.absorb
        if reductions.absorb and base.general:
            raise ValueError("absorbed deliveries need a spec without faults (model.por.absorbable)")
        # An ABSORB code is tagged above the fault codes; without faults nothing is a fault.
        d["fault_base"] = float("inf") if d["_doom"] or reductions.absorb else base.fault_base
        d["_link_at"] = {e: j for j, e in enumerate(base.edges)}
        d["_in_senders"] = tuple(tuple((j, base.edges[j][0]) for j in base.in_links[l]) for l in range(base.n))
        if d["_doom"]:
            most = min(fs.crashes, len(base.crashable))
            d["_doom_sets"] = tuple(sum(1 << l for l in c) for r in range(most + 1)
                                    for c in combinations(base.crashable, r))
        d["_own_mask"] = tuple(sum(1 << i for i in base.leader_ops[l]) for l in range(base.n))
        d["_empty_regs"] = tuple(t.initial() for t in base.types)
        d["_reads_local"] = any(t.reads_local for t in base.types)   # rebuilt_alike
        d["_last_op"] = tuple(ops_l[-1] if ops_l else -1 for ops_l in base.leader_ops)
        d["symmetry"] = (Symmetry(self, full=full_for(reductions), dead_regs=reductions.dead_content)
                         if reductions.symmetry else None)
        # the engines' hottest call, bound once (model/por.py)
        d["successors"] = self._successors_crash if base.general else self._successors_por

    def __setattr__(self, name, value):
        raise AttributeError(f"a reduced model is fixed at construction (Reduced.{name}); build another with"
                             " model.reduced.build(spec, Reductions(...))")

    def __getstate__(self):
        """Only what was built here travels (pickled for --cluster); what was
        read from the plain model is read again on the other side."""
        return (self.base, self.reductions)

    def __setstate__(self, state):
        base, reductions = state
        Reduced.__init__(self, base, reductions)

    @property
    def symmetry_full(self) -> bool:
        """Whether symmetry renames whole leader states (:func:`model.symmetry.full_for`)."""
        return full_for(self.reductions)

    # ------------------------------------------------------- the model protocol
    def initial_state(self):
        s = self.base.initial_state()
        if self._doom:
            # the first step chooses who crashes (docs/reductions.md, "Crash-only faults")
            return self.base.with_faults(s, st.faults(s) + (fl.UNDOOMED,))
        return s

    def _plain_initial(self):
        """The plain model's initial state (without the undecided crash choice)."""
        return self.base.initial_state()

    def successors(self, state) -> list:
        """``[(action, next_state), ...]`` of the reduced model (plain action
        codes); replaced at construction by the layer's own method."""
        return self._reduced_successors(state)

    # The reduced state after an action: the plain model's definition, over this
    # model's successors.
    step = System.step

    def images(self, state):
        """The quiescent states a quiescent ``state`` stands for: itself, or
        with symmetry on every image of the representative under the group
        (rebuilt like any quiescent reduced state)."""
        sym = self.symmetry
        if sym is None:
            yield state
            return
        # Not under dead content (never with a renaming-safe type today: mv-register
        # stamps read content): Symmetry.permute leaves dead contents unrenamed
        # (Symmetry.dead_regs), so a rebuilt state's contents must not go through it.
        if not (sym.full and self._renaming_safe) or self.dead_content:
            for t in sym.orbit(self._unmaterialize(state)):
                yield self._materialize(t)
            return
        # Whole-state symmetry over renaming-safe types (mv-register: content
        # names writes, never leaders) renames leader states entirely, and
        # rebuilding done leaders commutes with a renaming (the rebuilt state
        # is where the plain system goes, and its dynamics are symmetric:
        # docs/reductions.md "Symmetry").  Not with dead content: there the
        # group is a symmetry of the reduced dynamics only, and a rebuilt
        # leader's content may name leaders (an lww tie-break).  So
        # the representative is rebuilt once and its images renamed — not
        # each image rebuilt (issue 18 item 3; tests/model/test_reductions.py checks
        # both ways give the same set on every symmetric spec).
        yield from sym.orbit(self._materialize(self._unmaterialize(state)))

    def expansions(self, path):
        """Candidate primitive paths behind a path found with reductions on.

        Without symmetry there is one, :meth:`expand_path`.  With it, the
        path runs through orbit representatives: it is first mapped to a
        real run of the reduced system (at each step the action whose
        successor has the recorded representative), then one candidate per
        renaming of that run in the group, identity first — the caller
        keeps the first whose final state shows the violation (the
        quiescent check judged every image of the representative)."""
        sym = self.symmetry
        if sym is None:
            yield self.expand_path(path)
            return
        real = []
        canon = cur = self.initial_state()
        for a in path:
            target_pre = self._unmaterialize(self._settle_por(self._primitive(canon, a)))
            for b, t in self._reduced_successors(cur, canonical=False):
                t_pre = self._unmaterialize(t)
                if sym.canonical(t_pre) == target_pre:
                    real.append(b)
                    cur = t_pre
                    break
            else:  # pragma: no cover - would be a bug in the symmetry group
                raise RuntimeError("internal error: no real step matches a symmetry-reduced step")
            canon = target_pre
        for p in sym.group():
            yield self.expand_path([sym.permute_action(a, p) for a in real])
