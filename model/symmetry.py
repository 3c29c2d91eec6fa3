"""Symmetry reduction over interchangeable leaders (docs/reductions.md).

Two leaders are *interchangeable* when renaming one into the other maps
every run to a run: same number of operations, same ``time_ms`` at each
position, same clock offset, and the renaming maps the workload's ``after``
dependencies onto themselves (:func:`after_classes`).  In the reduced system of partial-order
reduction with dead busy-leader content (:mod:`model.system`), a state
holds per leader only its clock (or ``None`` once done), per link the
writes in flight, and per op its timestamp; nothing in those dynamics reads
a leader's name, a key or a value.  So for every permutation ``p`` of the
leaders that maps each leader into its class, ``s -> t`` implies
``p(s) -> p(t)``: the group acts on the transition system (Emerson &
Sistla, "Symmetry and model checking", FMSD 1996; Ip & Dill, "Better
verification through symmetry", FMSD 1996).

Under crash-only faults (docs/reductions.md, "Crash-only faults") the reduced state
also names leaders in its fault component — the crashed leaders and the
leaders chosen to crash in the run, kept whole as their applied set, causal
past and clock — so leaders are interchangeable only if both may crash or
neither may, and a renaming renames those masks and the kept leaders'
applied sets too.

The engine stores one canonical member per orbit (:func:`canonical`, exact:
equal orbits give equal representatives).  The invariants are *not*
assumed symmetric — the LWW tie-break names leaders — so at a quiescent
representative every image under the group is judged (:func:`orbit`):
every reachable quiescent state is the image of a representative, so no
quiescent state escapes the check.

A permutation is a tuple ``p`` with ``p[old] = new``.
"""

from __future__ import annotations

import marshal
from itertools import permutations, product

from replcheck.model import faults as fl
from replcheck.model import state as st
from replcheck.model.reductions import Reductions

# Symmetry groups larger than this are not used: each quiescent
# representative is judged once per image (7! = 5040).
MAX_GROUP = 5040

# Entries of Symmetry.canonical's memo before it is emptied (~600 bytes of
# state each when the memo alone keeps it: ~120 MB at most).
MEMO = 200_000


def _none(l):
    return ()


class Symmetry:
    """The symmetry group of one system's reduced dynamics."""

    def __init__(self, system, full: bool = False, dead_regs: bool = False):
        self.system = system
        # full: leader states are kept whole (applied set, causal past,
        # contents), so ops must also match key and kind position by position.
        self.full = full
        n = system.n
        sig = [(len(system.leader_ops[l]), tuple(system.ops[i].time_ms for i in system.leader_ops[l]),
                system.offsets[l], system.jump_ms[l],
                tuple((system.ops[i].key, system.ops[i].kind) for i in system.leader_ops[l]) if full else (),
                # what a key's type knows per leader (a counter's op kinds and amounts,
                # escrow's rights): leaders that differ there are not interchangeable
                tuple(getattr(t, "leader_signature", _none)(l) for t in system.types),
                # under crashes: a leader that may crash is not one that may not
                l in system.crashable if system.general else None)
               for l in range(n)]
        classes: dict = {}
        for l in range(n):
            classes.setdefault(sig[l], []).append(l)
        self.pos = [0] * system.nops
        for l in range(n):
            for p, w in enumerate(system.leader_ops[l]):
                self.pos[w] = p
        shaped = tuple(tuple(c) for c in classes.values())
        # 'after' waits name ops: keep only the renamings that map the
        # dependency graph onto itself (docs/reductions.md, "Symmetry").
        self.classes = after_classes(system, shaped, self.pos)
        self.split_by_after = len(self.classes) != len(shaped)
        self.cls = [0] * n
        for c, members in enumerate(self.classes):
            for l in members:
                self.cls[l] = c
        self.link_of = {e: j for j, e in enumerate(system.edges)}
        self._owner = tuple(op.leader for op in system.ops)   # the leader that issued each op
        # per leader, what _canonical reads of the system: its class, its ops, its in- and out-links
        self._shape = tuple((self.cls[l], tuple(system.leader_ops[l]), tuple(system.in_links[l]),
                             tuple(system.out_links[l])) for l in range(n))
        self._opmaps: dict = {}
        self._byte_tables: dict = {}
        self._memo: dict = {}
        self._identity = tuple(range(n))
        # Crash-only faults (docs/reductions.md, "Crash-only faults"): the fault component
        # names leaders.  Under dead content every busy leader's contents are the
        # empty initial ones, never renamed: they name no write (a counter's
        # slots, escrow's rights matrix; renaming them as write indices raised
        # IndexError on escrow, tests/checks/test_trust_reductions.py).
        self.faults = system.general
        self.dead_regs = dead_regs

    @property
    def order(self) -> int:
        """The number of permutations in the group."""
        out = 1
        for c in self.classes:
            for k in range(2, len(c) + 1):
                out *= k
        return out

    def group(self):
        """Every permutation of the group, the identity first."""
        n = self.system.n
        per_class = [list(permutations(c)) for c in self.classes]
        for choice in product(*per_class):
            p = [0] * n
            for c, image in zip(self.classes, choice):
                for old, new in zip(c, image):
                    p[old] = new
            yield tuple(p)

    def _maps(self, p):
        """Per permutation, cached: op ``w`` -> its image, link ``j`` -> its
        image, and the inverses of the leader and op maps."""
        m = self._opmaps.get(p)
        if m is None:
            s = self.system
            om = tuple(s.leader_ops[p[s.ops[w].origin]][self.pos[w]] for w in range(s.nops))
            lm = tuple(self.link_of[(p[a], p[b])] for a, b in s.edges)
            inv_p = [0] * s.n
            for old, new in enumerate(p):
                inv_p[new] = old
            inv_om = [0] * s.nops
            for old, new in enumerate(om):
                inv_om[new] = old
            m = (om, lm, tuple(inv_p), tuple(inv_om))
            self._opmaps[p] = m
        return m

    def opmap(self, p) -> tuple:
        """Op index ``w`` -> the op at the same position of leader ``p[leader(w)]``."""
        return self._maps(p)[0]

    def permute(self, state, p):
        """The state with every leader ``l`` renamed ``p[l]``."""
        leaders, links, writes = st.leaders(state), st.links(state), st.writes(state)
        om, lm, inv_p, inv_om = self._maps(p)
        new_links = [()] * len(links)
        get = om.__getitem__
        for j, q in enumerate(links):
            if q:
                new_links[lm[j]] = tuple(map(get, q))
        new_leaders = tuple(map(leaders.__getitem__, inv_p))
        new_writes = tuple(map(writes.__getitem__, inv_om))
        faults = st.faults(state) if self.faults else ()
        kept = 0
        if faults:
            # (crashed, cut, jumped, used, cuts, homes[, chosen to crash]): rename the leader masks
            crashed = self._leader_bits(faults[0], p)
            extra = faults[fl.DOOMED:]
            if extra and extra[0] != fl.UNDOOMED:
                kept = self._leader_bits(extra[0], p)
                extra = (kept,)
            faults = (crashed,) + faults[1:fl.DOOMED] + extra
        if self.full or kept:
            bits = self._bits
            renamed = []
            for l, x in enumerate(new_leaders):
                if x is None or not (self.full or (kept >> l) & 1):
                    renamed.append(x)
                    continue
                applied, past, clock, regs = x
                renamed.append((bits(applied, om), bits(past, om), clock,
                                regs if self.dead_regs else tuple(tuple(sorted(map(get, c))) for c in regs)))
            new_leaders = tuple(renamed)
        if self.full:
            # a write entry is (ts, hb, ...) (model/state.py): rename hb's bits
            new_writes = tuple(None if x is None else (x[st.TS], self._bits(x[st.HB], om)) + x[st.DATA:]
                               for x in new_writes)
        out = st.with_core(state, new_leaders, tuple(new_links), new_writes)
        return self.system.with_faults(out, faults) if faults else out

    @staticmethod
    def _leader_bits(mask: int, p) -> int:
        """A bitmask over leaders, renamed."""
        out = 0
        for old, new in enumerate(p):
            if (mask >> old) & 1:
                out |= 1 << new
        return out

    def _bits(self, mask: int, om) -> int:
        """A bitmask over ops, renamed: one table lookup per byte of the
        mask (each permutation's 256-entry tables built once; this was a
        bit-by-bit loop, the hottest line of a whole-state symmetric search)."""
        tables = self._byte_tables.get(om)
        if tables is None:
            tables = self._byte_tables[om] = _byte_tables(om)
        out = 0
        for table in tables:
            if not mask:
                break
            out |= table[mask & 255]
            mask >>= 8
        return out

    def permute_action(self, action: int, p) -> int:
        s = self.system
        if action < s.nops:
            return self.opmap(p)[action]
        kind = fl.kind_of(action)
        if kind in (fl.CRASH, fl.RECOVER):
            return fl.code(kind, p[action & fl.PAYLOAD])
        if kind == fl.DOOM:
            return fl.code(kind, self._leader_bits(action & fl.PAYLOAD, p))
        if kind == fl.ABSORB:
            i, counts = fl.absorbed(action)
            moved = [0] * fl.ABSORB_LEADERS
            for l, c in enumerate(counts[:s.n]):
                moved[p[l]] = c
            return fl.absorb_code(self.opmap(p)[i], moved)
        return s.nops + self._maps(p)[1][action - s.nops]

    def canonical(self, state):
        """The orbit's representative (:meth:`_canonical`), memoised.

        Canonicalising is most of a symmetric search's time (B5: ~60 %) and
        a search asks for the same states again and again: on B5's first
        60,000 states, 38 % of the 274,043 calls were for a state already
        returned as a representative, and a representative is its own
        (``_canonical`` is idempotent: its leaders are already in signature
        order and the tie-break minimum is taken over the same candidates;
        tests/model/test_symmetry_memo.py checks it on every reachable state of
        several specs).  The memo is a pure cache of a pure function, keyed
        by the whole state; it holds at most ``MEMO`` entries and is emptied
        when full, so it bounds its own memory."""
        memo = self._memo
        r = memo.get(state)
        if r is None:
            r = self._canonical(state)
            if len(memo) >= MEMO:
                memo.clear()
            memo[state] = r
            memo[r] = r
        return r

    def __getstate__(self):
        """Pickled (a Ray partition gets the system) without the memo: a cache,
        rebuilt where it is used."""
        d = dict(self.__dict__)
        d["_memo"] = {}
        return d

    def _labels(self, writes) -> list:
        """A renaming-invariant label per write: its position in its leader's
        ops and its timestamp; with whole-state symmetry (which renames
        happens-before) also the positions of the writes it causally follows,
        each marked own-leader or not — a renaming keeps both — so leaders whose
        writes differ in their causal pasts rank apart even where the stamps
        are all alike (dropped timestamps, docs/reductions.md "Dead
        timestamps")."""
        pos, TS = self.pos, st.TS
        if not self.full:
            return [() if x is None else (pos[w], x[TS]) for w, x in enumerate(writes)]
        owner, HB = self._owner, st.HB
        lab = []
        for w, x in enumerate(writes):
            if x is None:
                lab.append(())
                continue
            hb = x[HB]
            seen = []
            v = 0
            while hb:
                if hb & 1:
                    seen.append((pos[v], owner[v] == owner[w]))
                hb >>= 1
                v += 1
            seen.sort()
            lab.append((pos[w], x[TS], tuple(seen)))
        return lab

    def _canonical(self, state):
        """The orbit's representative: leaders sorted by a renaming-invariant
        signature within their class; among leaders whose signatures tie,
        the permutation giving the smallest encoding."""
        leaders, links, writes = st.leaders(state), st.links(state), st.writes(state)
        n = len(leaders)
        nops = len(writes)
        lab = self._labels(writes)
        label = lab.__getitem__
        qs = [tuple(map(label, q)) if q else () for q in links]
        queue = qs.__getitem__
        sigs = []
        full = self.full
        dead_regs = self.dead_regs
        crashed = kept = 0
        if self.faults:
            faults = st.faults(state)
            crashed = faults[0]
            extra = faults[fl.DOOMED:]
            kept = extra[0] if extra else 0    # UNDOOMED (-1): every leader alike
        CLOCK = st.CLOCK
        for l, (c, ops_l, ins, outs) in enumerate(self._shape):
            x = leaders[l]
            mark = ((kept >> l) & 1) * 2 + ((crashed >> l) & 1) if kept or crashed else 0
            if x is None:
                head = (0, mark)
            elif full or mark:
                a, pa, clock, regs = x   # a leader (model/state.py)
                applied = tuple(sorted(lab[w] for w in range(nops) if (a >> w) & 1))
                past = tuple(sorted(lab[w] for w in range(nops) if (pa >> w) & 1))
                head = (1, mark, clock, applied, past,
                        () if dead_regs else tuple(tuple(sorted(map(label, k))) for k in regs))
            else:
                head = (1, mark, x[CLOCK])
            iq, oq = tuple(map(queue, ins)), tuple(map(queue, outs))   # a tuple of empty queues is sorted
            sigs.append((c, head, tuple(map(label, ops_l)), tuple(sorted(iq)) if any(iq) else iq,
                         tuple(sorted(oq)) if any(oq) else oq))
        p = [0] * n
        ties = []
        for c in self.classes:
            ranked = sorted(c, key=sigs.__getitem__)
            for new, old in zip(c, ranked):
                p[old] = new
            start = 0
            for i in range(1, len(ranked) + 1):
                if i == len(ranked) or sigs[ranked[i]] != sigs[ranked[start]]:
                    if i - start > 1:
                        ties.append((tuple(ranked[start:i]), tuple(c[start:i])))
                    start = i
        if not ties:
            p = tuple(p)
            return state if p == self._identity else self.permute(state, p)
        best = None
        best_key = None
        for choice in product(*[permutations(slots) for _, slots in ties]):
            q = list(p)
            for (olds, _), image in zip(ties, choice):
                for old, new in zip(olds, image):
                    q[old] = new
            t = self.permute(state, tuple(q))
            key = marshal.dumps(t, 2)
            if best_key is None or key < best_key:
                best, best_key = t, key
        return best

    def orbit(self, state):
        """The distinct images of ``state`` under the group."""
        seen = set()
        for p in self.group():
            t = self.permute(state, p)
            if t not in seen:
                seen.add(t)
                yield t


def _bits_slow(mask: int, om) -> int:
    """A bitmask over ops renamed bit by bit (the reference for the tables)."""
    out = 0
    w = 0
    while mask:
        if mask & 1:
            out |= 1 << om[w]
        mask >>= 1
        w += 1
    return out


def _byte_tables(om) -> tuple:
    """For op map ``om``: per byte ``b`` of a mask, the renamed bits of each
    byte value (bit ``8b + i`` goes to bit ``om[8b + i]``)."""
    out = []
    for b in range(0, len(om), 8):
        chunk = om[b:b + 8]
        out.append(tuple(_bits_slow(v, chunk) for v in range(256)) if len(chunk) == 8
                   else tuple(_bits_slow(v & ((1 << len(chunk)) - 1), chunk) for v in range(256)))
    return tuple(out)


def after_edges(system) -> frozenset:
    """The workload's dependency graph: ``(w, d)`` for every op ``w`` that
    waits on ``after = [d]`` (docs/model.md, "Leaders, operations, events")."""
    return frozenset((w, d) for w, op in enumerate(system.ops) for d in range(system.nops)
                     if (op.after_mask >> d) & 1)


def preserves_after(system, pos, p, edges=None) -> bool:
    """Does the leader renaming ``p`` map the ``after`` relation onto itself?
    Op ``w`` of leader ``l`` at position ``i`` becomes the op at position
    ``i`` of leader ``p[l]``; a renaming that sends a wait to a pair that
    does not wait would reach states no run reaches (the bug of
    specs/regressions/after-mv-symmetry.toml)."""
    edges = after_edges(system) if edges is None else edges
    om = [system.leader_ops[p[system.ops[w].origin]][pos[w]] for w in range(system.nops)]
    return {(om[w], om[d]) for w, d in edges} == edges


def after_classes(system, classes, pos) -> tuple:
    """Split the workload-shape classes so that every permutation inside the
    new classes preserves ``after``.  Two leaders of a class stay together
    when swapping them preserves it; the swaps that preserve a relation form
    an equivalence (the permutations preserving it are a group, and
    ``(a c) = (a b)(b c)(a b)``), and the transpositions inside its classes
    generate exactly the product of their symmetric groups — so the result
    is still a group of the shape :class:`Symmetry` canonicalises over."""
    edges = after_edges(system)
    if not edges:
        return classes
    out = []
    for c in classes:
        rest = list(c)
        while rest:
            first = rest.pop(0)
            group = [first]
            for l in list(rest):
                p = list(range(system.n))
                p[first], p[l] = l, first
                if preserves_after(system, pos, tuple(p), edges):
                    group.append(l)
                    rest.remove(l)
            out.append(tuple(group))
    return tuple(out)


def full_for(r) -> bool:
    """Whether symmetry under the reductions ``r`` must rename the op
    bitmasks in leader states and write metadata (applied sets, causal
    pasts, contents): unless dead content reduced busy leaders to their
    clocks and no ghost is kept."""
    return not r.dead_content or r.ghost


def applicable(system, proposed: Reductions | None = None) -> tuple[bool, str]:
    """Whether leaders can be treated as interchangeable
    (:mod:`model.symmetry`): with ``por``, all-to-all, no loop metadata
    in messages; over the reduced dynamics of ``dead_content`` (a busy
    leader is its clock), or over whole leader states when every key's
    type is renaming-safe (its content and metadata name writes, never
    leaders: mv-register); and at least two leaders with the same
    workload shape (ops count, ``time_ms`` per position, clock offset;
    for whole states also key and kind per position).  Returns ``(ok,
    reason)``."""
    r = proposed or system.reductions
    if not r.por:
        return False, "needs por (done-leader elimination)"
    if system.timed:
        return False, "time_ms: the state's real-time component is not carried by model/symmetry.py"
    if system.spec.topology != "all-to-all" or system.loop_mode == "visited":
        return False, "only all-to-all links without 'visited' loop metadata are renaming-invariant here"
    if not r.dead_content and not all(t.renaming_safe for t in system.types):
        return False, ("a key's data type may read leader names (e.g. an lww tie-break) in busy leaders' state;"
                       " only dead busy-leader content or renaming-safe types (mv-register) can be permuted")
    sym = Symmetry(system, full=full_for(r))
    if sym.order == 1:
        if sym.split_by_after:
            return False, ("no renaming of leaders with the same workload shape maps the 'after' dependencies"
                           " onto themselves")
        return False, "no two leaders have the same workload shape (ops, time_ms, clock offset)"
    if sym.order > MAX_GROUP:
        return False, f"the symmetry group has {sym.order:,} permutations (more than {MAX_GROUP:,})"
    classes = ", ".join("{" + ", ".join(system.leaders[l] for l in c) + "}" for c in sym.classes if len(c) > 1)
    kept = "; only renamings that preserve 'after'" if sym.split_by_after else ""
    return True, (f"symmetry over interchangeable leaders {classes} ({sym.order} permutations{kept}; every image"
                  " of a quiescent representative is judged)")