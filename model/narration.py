"""How a :class:`model.system.System` speaks: operations, timestamps,
visible values and actions in the words of a lecture slide, and each
action of a run as an :class:`~model.system.Event` (what happened, where,
with what outcome) for traces (docs/model.md §6, docs/rendering.md).

A mixin of :class:`~model.system.System` (issue 13: text apart from the
transition relation).  It only reads the compiled spec and states; it
never changes one.
"""

from __future__ import annotations

from dataclasses import dataclass

from replcheck.model import clocks
from replcheck.model import faults as fl
from replcheck.model import state as st
from replcheck.model.resolvers.base import REJECTED, View
from replcheck.model.state import DELETED, MSG_MASK


@dataclass(frozen=True)
class Event:
    """What one action did, in domain terms (for traces).

    ``kind`` is ``commit``, ``deliver``, ``drop`` (a delivery discarded
    by loop prevention), ``duplicate`` (a delivery that leaves a copy on the
    link), ``lose`` (the head message is lost and retransmitted last), or a
    fault: ``crash``, ``recover``, ``cut``, ``heal``, ``clock-jump`` (then
    ``leader`` names the leader, or the pair with ``src``).  ``outcome`` says what the resolver did with the
    write at the receiving leader: ``applied``, ``superseded`` (it replaced
    writes it had seen), ``overwrote`` (it replaced a concurrent write),
    ``sibling`` (kept beside concurrent writes), ``discarded`` (it lost),
    ``skipped`` (SQL row semantics: an UPDATE or DELETE found no row),
    ``duplicate`` (already held), ``dropped``, ``rejected`` (a local
    check refused it) or ``offline`` (issued at an offline leader for a
    home out of reach: it could not be made).
    """

    action: int
    kind: str
    op: str
    leader: str           # where the event happens (committer or receiver)
    src: str | None       # sender of a delivery
    key: str
    value: str | None
    ts: tuple
    outcome: str
    beaten_by: tuple[str, ...] = ()   # ops whose writes beat this one
    replaced: tuple[str, ...] = ()    # ops whose writes this one replaced
    forwarded_to: tuple[str, ...] = ()
    loop: bool = False


class Narration:
    """Text and events of a system (mixed into :class:`model.system.System`)."""

    def show_visible(self, vis) -> str:
        if isinstance(vis, View):
            return vis.text
        if not vis:
            return "-"
        parts = ["(deleted)" if v == DELETED else f'"{self.values[v]}"' for v in vis]
        return parts[0] if len(parts) == 1 else "{" + ", ".join(parts) + "}"

    def op_text(self, i: int) -> str:
        """An operation as a lecture would write it: ``title = "A"``,
        ``likes += 1``, ``cart.add("ham")``, ``stock: transfer 1 to eu-west``."""
        op = self.ops[i]
        key, kind = op.key_name, op.kind
        if kind == "set":
            return f'{key} = "{op.value}"'
        if kind == "delete":
            return f"delete {key}"
        if kind == "resolve":
            return f'{key} = "{op.value}" (resolving the siblings it sees)'
        if kind in ("incr", "decr"):
            return f"{key} {'+' if kind == 'incr' else '-'}= {op.amount}"
        if kind in ("add", "remove"):
            return f'{key}.{kind}("{op.value}")'
        return f"{key}: transfer {op.amount} rights to {self.leaders[op.target]}"

    def show_ts(self, ts: tuple) -> str:
        return clocks.show(self.clock, ts)

    def show_clock(self, clock) -> str:
        if self.clock == "hlc":
            return clocks.show("hlc", clock)
        return "-" if self.clock == "wall" else str(clock)

    def _pair_names(self, p: int) -> tuple[str, str]:
        a, b = self.pairs[p]
        return self.leaders[a], self.leaders[b]

    def action_name(self, action: int) -> str:
        kind, x, pos = self.decode(action)
        if kind == "commit":
            op = self.ops[x]
            return f"commit {op.id} at {op.leader_name}"
        if kind in ("deliver", "duplicate", "lose"):
            s_, d = self.edges[x]
            return f"{kind} {self.leaders[s_]} -> {self.leaders[d]}" + (f" (message {pos + 1})" if pos else "")
        if kind in ("cut", "heal"):
            a, b = self._pair_names(x)
            return f"{kind} {a} <-> {b}"
        if kind == "doom":   # a reduced run's first step (never in a trace: expand_path drops it)
            return "choose the leaders that crash: " + (", ".join(self.leaders[l] for l in range(self.n)
                                                                   if (x >> l) & 1) or "none")
        return f"{kind} {self.leaders[x]}"

    def action_for_event(self, state, ev: dict) -> int:
        """The action that replays a trace event (as saved in JSON) from
        ``state``; ``KeyError``/``ValueError`` when it does not fit."""
        kind = ev["kind"]
        li = {name: i for i, name in enumerate(self.leaders)}
        if kind == "commit":
            return self.op_index[ev["op"]]
        if kind in ("crash", "recover", "clock-jump", "failover"):
            code = {"crash": fl.CRASH, "recover": fl.RECOVER, "clock-jump": fl.JUMP, "failover": fl.FAILOVER}[kind]
            return fl.code(code, li[ev["leader"]])
        if kind in ("cut", "heal"):
            a, b = li[ev["leader"]], li[ev["src"]]
            p = self.pairs.index((min(a, b), max(a, b)))
            return fl.code(fl.CUT if kind == "cut" else fl.HEAL, p)
        j = self.edges.index((li[ev["src"]], li[ev["leader"]]))
        if kind == "duplicate":
            return fl.code(fl.DUPLICATE, j)
        if kind == "lose":
            return fl.code(fl.LOSE, j)
        if self.link_kind[j] == "unordered":
            w = self.op_index[ev["op"]]
            for p, m in enumerate(st.link(state, j)):
                if m & MSG_MASK == w:
                    return fl.code(fl.DELIVER_AT, j << 8 | p)
            raise ValueError("no such message")
        return self.nops + j

    def describe(self, state, action: int) -> Event:
        """What ``action`` does in ``state`` (which must enable it)."""
        nxt = self.step(state, action)
        kind, x, pos = self.decode(action)
        loop = bool(st.loop(nxt)) and not st.loop(state)
        if kind not in ("commit", "deliver", "duplicate"):
            if kind in ("cut", "heal"):
                a, b = self._pair_names(x)
            elif kind == "lose":
                b, a = (self.leaders[i] for i in self.edges[x])
            else:
                a, b = self.leaders[x], None
            if kind == "lose":
                w = st.link(state, x)[0] & MSG_MASK
                op = self.ops[w]
                return Event(action, kind, op.id, a, b, op.key_name, op.value, st.ts(st.write(state, w)), "lost")
            return Event(action, kind, "", a, b, "", None, (), kind)
        if kind == "commit":
            op = self.ops[x]
            w, at, src = x, self._committer(state, x), None
            if self.refused_offline(st.write(nxt, x)):   # tried at the offline leader itself
                return Event(action, kind, op.id, self.leaders[op.leader], None, op.key_name, op.value,
                             st.ts(st.write(nxt, x)), "offline")
            forwarded = tuple(self.leaders[self.edges[j][1]] for j in self.origin_links[at]
                              if len(st.link(nxt, j)) > len(st.link(state, j)))
        else:
            src, at = self.edges[x]
            w = st.link(state, x)[pos] & MSG_MASK
            op = self.ops[w]
            forwarded = tuple(self.leaders[self.edges[j][1]] for j in range(len(self.edges))
                              if j != x and len(st.link(nxt, j)) > len(st.link(state, j)))
        ts = st.ts(st.write(nxt, w))
        if kind != "commit" and st.leader(nxt, at) == st.leader(state, at):
            origin = ((st.link(state, x)[pos] >> fl.ORIGIN_SHIFT) & 0xFF) if self._failover_possible else op.origin
            dropped = self.loop_mode == "origin" and origin == at
            return Event(action, "drop" if dropped else kind, op.id, self.leaders[at], self.leaders[src],
                         op.key_name, op.value, ts, "dropped" if dropped else "duplicate",
                         forwarded_to=forwarded, loop=loop)
        before = st.content(state, at, op.key)
        after = st.content(nxt, at, op.key)
        writes = st.writes(nxt)
        hb = writes[w][st.HB]
        custom = None if self.types[op.key].holds_writes else self.types[op.key].outcome(before, after, w, writes)
        if len(writes[w]) > st.DATA and writes[w][st.DATA] == REJECTED:
            outcome, beaten, replaced = "rejected", (), ()
        elif custom is not None:
            outcome, beaten, replaced = custom, (), ()
        elif w in before:
            outcome, beaten, replaced = "duplicate", (), ()
        elif w not in after and getattr(self.types[op.key], "rows", False) and \
                not (after and not self.types[op.key].ctx.is_delete[after[0]]):
            outcome, beaten, replaced = "skipped", (), ()   # SQL rows: no row to update or delete
        elif w not in after:
            outcome, beaten, replaced = "discarded", tuple(self.ops[x].id for x in after), ()
        else:
            gone = tuple(x for x in before if x not in after)
            replaced = tuple(self.ops[x].id for x in gone)
            kept = [x for x in after if x != w]
            beaten = ()
            if kept:
                outcome = "sibling"
            elif not gone:
                outcome = "applied"
            elif all((hb >> x) & 1 for x in gone):
                outcome = "superseded"
            elif any((writes[x][st.HB] >> w) & 1 for x in gone):
                outcome = "overwrote-later"
            else:
                outcome = "overwrote"
        return Event(action, kind, op.id, self.leaders[at], None if src is None else self.leaders[src],
                     op.key_name, op.value, ts, outcome, beaten, replaced, forwarded, loop=loop)
