"""Dead busy-leader content: a layer on done-leader elimination
(docs/reductions.md "Dead busy-leader content").

Soundness.  Under done-leader elimination a leader with pending writes
(busy) is read by nothing but its own next commits until it is done, and
then it is forgotten and rebuilt from the committed writes.  When no op
waits on ``after`` (reads the applied set) and no commit reads the
committing leader's content (``DataType.stamp_reads_content``), a busy
leader's applied set and contents are dead: only its clock (and, with ghost
happens-before kept, its causal past, which a commit stamps) can change
what happens next.  So a busy leader is reduced to ``(0, past, clock,
empty)``, and a message that can move neither its clock nor its causal past
is dropped (both only grow, so such a message stays dead).  At quiescence
every leader is rebuilt from the committed writes (:meth:`_contents` for
leaders kept whole under crash-only faults), so the judged states are the
plain model's; :func:`applicable` states the conditions.
"""

from __future__ import annotations

from replcheck.model.reductions import Reductions
from replcheck.model.state import HB, MSG_MASK, TS


class DeadContent:
    """The dead-content layer of the settle step (mixed into
    :class:`model.reduced.Reduced`)."""

    def _drop_dead(self, leaders, links, writes, new_leaders, new_links, kept: int, crashed: int):
        """Reduce each busy leader of a settling state to what is live
        (module docstring) and drop the messages that can no longer move
        it; ``new_leaders``/``new_links``: the settle step's copies so far
        (``None``: unchanged).  Returns them, updated."""
        # A busy leader is only its clock (and, with ghost happens-before
        # kept, its causal past); a message that would move neither is
        # dead (both only grow, so it stays dead).
        empty = self._empty_regs
        wall, lamport, ghost = self.clock == "wall", self._lamport, self.ghost
        for l in range(self.n):
            x = (new_leaders or leaders)[l]
            if x is None:
                continue
            if ((kept | crashed) >> l) & 1:
                # A leader chosen to crash keeps its applied set (frozen by the
                # crash), causal past and clock; its content is read by nothing
                # before it is judged, and rebuilt then from the applied set.
                if self._doom and x[3] != empty:
                    new_leaders = new_leaders or list(leaders)
                    new_leaders[l] = x[:3] + (empty,)
                continue
            clock = x[2]
            past = x[1] if ghost else 0
            if x[0] or x[1] != past or x[3] != empty:
                new_leaders = new_leaders or list(leaders)
                new_leaders[l] = (0, past, clock, empty)
            for j in self.in_links[l]:
                q = (new_links or links)[j]
                if not q:
                    continue
                if wall and not ghost:
                    p = len(q)
                else:
                    p = 0
                    for m in q:
                        w = m & MSG_MASK
                        if not wall:
                            ts = writes[w][TS]
                            if (ts[0] if lamport else ts) > clock:
                                break
                        if ghost and ((1 << w) | writes[w][HB]) & ~past:
                            break
                        p += 1
                if p:
                    new_links = new_links or list(links)
                    new_links[j] = q[p:]
        return new_leaders, new_links

    def _contents(self, l: int, applied: int, writes) -> tuple:
        """Leader ``l``'s contents once it has applied the writes in
        ``applied`` (its own as local writes): under an order-independent
        merge, whatever the order it received them in."""
        regs = []
        for k, t in enumerate(self.types):
            content = t.initial()
            for i in range(self.nops):
                if (applied >> i) & 1 and self._op_key[i] == k:
                    content = self._apply_k[k](content, i, writes, self.ops[i].origin == l)
            regs.append(content)
        return tuple(regs)


def applicable(system, proposed: Reductions | None = None) -> tuple[bool, str]:
    """Whether a busy leader's applied set and contents (and its causal
    past, when ghost happens-before is off) are dead under ``por``
    (docs/reductions.md): nothing reads them before the leader is done
    (forgotten, then rebuilt at quiescence) when no op waits on
    ``after`` and no commit reads the committing leader's content.  With
    the ghost kept, the causal past stays (a commit stamps it).
    Returns ``(ok, reason)``."""
    if any(op.after_mask for op in system.ops):
        return False, "an op waits on 'after' (reads the applied set)"
    for op in system.ops:
        if system.types[op.key].stamp_reads_content(op):
            return False, f"op {op.id} reads its leader's content at commit"
    if (proposed.ghost if proposed else system.ghost):
        return True, ("dead busy-leader content (a leader with pending writes is only its clock and causal"
                      " past; messages that can move neither are dropped)")
    return True, ("dead busy-leader content (a leader with pending writes is only its clock; messages"
                  " that cannot move its clock are dropped)")
