"""Export a spec as a Promela model for SPIN (``replcheck export promela``).

The model has the semantics of :mod:`model.system` for the core subset:

* register keys; FIFO links; ``all-to-all``, ``ring`` and ``star``
  topologies with their forwarding rules (:mod:`model.topology`) and
  ``origin`` (a leader drops a write it originated) or ``visited`` loop
  prevention (``none`` only where forwarding cannot loop: all-to-all, star);
* ``lww`` over ``lamport``, ``wall`` or ``hlc`` with any tie-break, or
  ``mv-register``;
* per-leader program order, ``after`` dependencies (applied at the op's own
  leader), timestamps stamped at commit, receiving that raises the clock
  without ticking it, the wall clock's commit index when ``time_ms`` is
  absent;
* ``convergence`` and ``no-lost-writes`` (ghost happens-before as bitmasks)
  as assertions judged at quiescent states only.

Shape of the model.  One process per leader holds that leader's state in
local variables; each link is a channel that only its source sends on and
only its destination receives from (declared ``xs``/``xr``), and every
message carries the write's metadata (timestamp, happens-before mask), so
SPIN's partial-order reduction applies as it would to a hand-written model.
A commit and a delivery (receive, resolve, forward) are each one ``d_step``:
one atomic event, as in replcheck.

Quiescence.  A leader's loop has a ``timeout`` branch, which SPIN enables
only when no other statement of the system is executable: no commit is
enabled and every channel is empty (a non-empty channel always has an
executable receive).  That is exactly replcheck's quiescent state, and it is
stable: nothing can happen afterwards.  Each leader then publishes its
visible state into global variables and ends; a monitor waits for all of
them and asserts the invariants.  Every process ends, so SPIN reports no
invalid end states.

Only what can change a verdict is kept: clocks are dropped under
``mv-register`` (it reads version vectors only), the happens-before mask
under ``lww`` unless ``no-lost-writes`` is checked, hop counts (fixed by the
link on a ring and a star).  SPIN's state counts therefore differ from
replcheck's; verdicts do not (``tests/checks/test_promela.py``).

Under ``mv-register`` a leader keeps, per key, ``seen[k]``: the union of the
happens-before masks of every write to ``k`` it has applied.  A write ``w``
not held is superseded by a held sibling exactly when ``w`` is in
``seen[k]`` (replacement only happens within a key, and happens-before is
transitive), which is the test :mod:`model.resolvers.mv_register` makes
against the write table.
"""

from __future__ import annotations

from replcheck.model.errors import SpecError
from replcheck.model.resolvers import RESOLVERS, entry
from replcheck.model.spec import Spec
from replcheck.model.system import System

SUPPORTED_INVARIANTS = ("convergence", "no-lost-writes")
# Declared by the catalogue (ResolverInfo.promela, model/resolvers/__init__.py).
SUPPORTED_RESOLVERS = tuple(n for n, r in RESOLVERS.items() if r.promela is not None)
SUPPORTED_TOPOLOGIES = ("all-to-all", "ring", "star")
MAX_OPS = 30          # writes are bits of a 32-bit Promela int
HLC_NEVER = -2147483647

_SUBSET = ("export promela covers register keys, fifo links, all-to-all/ring/star, lww (lamport/wall/hlc) or"
           " mv-register, no faults, invariants convergence and no-lost-writes")


def check_exportable(spec: Spec, invariants=None) -> tuple[str, ...]:
    """Raise :class:`SpecError` naming the first feature outside the subset;
    return the invariants to encode."""
    src = spec.source

    def bad(key, what):
        raise SpecError(src, key, f"{what}; {_SUBSET}")

    if spec.faults.any:
        bad("faults", "faults are not exported")
    if not spec.commits_in_time_order():
        # docs/model.md "Real time": only the time-order case is encoded (g_rt below).
        bad("workload.time_ms", "real time with after, latency_ms, ops without time_ms or a leader's ops out of"
                                " time order is not exported (only: timed ops commit in time_ms order)")
    if spec.links != "fifo":
        bad("system.links", f"'{spec.links}' links are not exported (only fifo)")
    if any(k != "fifo" for _, _, k in spec.link_kinds):
        bad("system.link_kinds", "per-link kinds other than fifo are not exported")
    if spec.topology not in SUPPORTED_TOPOLOGIES:
        bad("system.topology", f"'{spec.topology}' is not exported (only {', '.join(SUPPORTED_TOPOLOGIES)})")
    if spec.topology == "ring" and spec.loop_prevention == "none":
        bad("system.loop_prevention", "a ring without loop prevention forwards forever and is not exported"
                                      " (use origin or visited)")
    if entry(spec.resolver).promela is None:
        bad("system.resolver", f"'{spec.resolver}' is not exported (only {', '.join(SUPPORTED_RESOLVERS)})")
    if len(spec.workload) > MAX_OPS:
        bad("workload", f"{len(spec.workload)} operations; at most {MAX_OPS} are exported")
    # Every key must be the system resolver's register: a [keys] table that
    # gives a key another type (a counter, a set, escrow, a users table, a
    # register under another resolver) would be exported as something else.
    for k in spec.keys:
        if k.entry != spec.resolver:
            bad(f"keys.{k.name}", f"'{k.entry}' keys are not exported (only {spec.resolver} registers)")
        if k.home is not None or k.delete_rule is not None:
            bad(f"keys.{k.name}", "per-key homes and delete rules are not exported")
    if spec.homes or spec.delete_rule is not None:
        bad("system.homes" if spec.homes else "system.delete_rule", "homes and delete rules are not exported")
    for i, op in enumerate(spec.workload):
        if op.kind not in ("set", "delete") or op.check:
            bad(f"workload[{i}]", f"'{op.check or op.kind}' ops are not exported (only set and delete)")
    names = tuple(invariants) if invariants else spec.invariants
    for n in names:
        if n not in SUPPORTED_INVARIANTS:
            key = "--invariant" if invariants else "check.invariants"
            bad(key, f"invariant '{n}' is not exported (pass --invariant convergence or --invariant no-lost-writes)")
    return tuple(dict.fromkeys(names))


def export_promela(spec: Spec, invariants=None) -> str:
    """The Promela model of ``spec`` (a string), asserting ``invariants``
    (default: the spec's) at quiescent states.

    Raises :class:`SpecError` for a spec outside the exported subset.
    """
    names = check_exportable(spec, invariants)
    return _Writer(spec, System(spec), names).text()


def link_capacity(system: System) -> list[int]:
    """Per link, how many writes can ever cross it: a bound on its queue.

    Follows each write from its origin through the forwarding rules (origin
    drop, visited sets); on the exported topologies a write crosses a link
    at most once, so the count bounds what is in flight at any moment.
    """
    count = [0] * len(system.edges)
    for op in system.ops:
        todo = [(j, 1 << op.leader) for j in system.origin_links[op.leader]]
        seen = set()
        while todo:
            j, vis = todo.pop()
            if (j, vis) in seen:
                continue
            seen.add((j, vis))
            count[j] += 1
            src, dst = system.edges[j]
            if system.loop_mode == "origin" and dst == op.leader:
                continue
            vis |= 1 << dst
            for t in system.forward_links[(dst, src)]:
                if system.loop_mode != "visited" or not (vis >> system.edges[t][1]) & 1:
                    todo.append((t, vis))
    return count


def _cond(table, default="0") -> str:
    """A Promela conditional expression over ``w``: ``table[w]``."""
    expr = default
    for w in range(len(table) - 1, -1, -1):
        expr = f"((w) == {w} -> {table[w]} : {expr})"
    return expr


class _Writer:
    def __init__(self, spec: Spec, system: System, invariants):
        self.spec = spec
        self.sys = system
        self.invariants = invariants
        self.lww = entry(spec.resolver).promela == "largest-stamp"
        self.nlw = "no-lost-writes" in invariants
        self.clock = spec.clock if self.lww else None
        self.hlc = self.clock == "hlc"
        ops = system.ops
        # The wall clock's (and hlc's physical) time is the commit index for
        # an op without time_ms: a global counter, only when needed.
        self.commit_index = self.clock in ("wall", "hlc") and any(op.time_ms is None for op in ops)
        self.has_after = any(op.after_mask for op in ops)
        self.track_past = not self.lww or self.nlw   # mv-register needs version vectors; nlw the ghost hb
        self.visited = spec.loop_prevention == "visited"
        self.uses_pt = self.clock in ("wall", "hlc")
        self.nkeys = len(system.keys)
        self.lines: list[str] = []

    # ------------------------------------------------------------- helpers
    def emit(self, line: str = "", indent: int = 0):
        self.lines.append("    " * indent + line)

    def chan(self, j: int) -> str:
        s, d = self.sys.edges[j]
        return f"q_{s}_{d}"

    def fields(self, w, hb, t1, t2, vis) -> str:
        parts = [w]
        if self.track_past:
            parts.append(hb)
        if self.lww:
            parts.append(t1)
            if self.hlc:
                parts.append(t2)
        if self.visited:
            parts.append(vis)
        return ", ".join(parts)

    def tie_rank(self) -> list[int]:
        """LWW's tie-break as a rank per op (equal rank = no tie-break)."""
        ops = self.sys.ops
        tb = self.spec.tie_break
        if tb == "leader":
            names = sorted({op.leader_name for op in ops})
            return [names.index(op.leader_name) for op in ops]
        if tb == "value":
            vals = sorted({(op.value or "").encode() for op in ops})
            return [vals.index((op.value or "").encode()) for op in ops]
        return [0 for _ in ops]

    def greater(self, t1, t2, w, r1, r2, r) -> str:
        """LWW: (t, tie[w]) > (held t, tie[held])."""
        if self.hlc:
            return (f"({t1} > {r1} || ({t1} == {r1} && ({t2} > {r2} || ({t2} == {r2}"
                    f" && TIE({w}) > TIE({r})))))")
        return f"({t1} > {r1} || ({t1} == {r1} && TIE({w}) > TIE({r})))"

    # -------------------------------------------------------------- model
    def text(self) -> str:
        s, sys_ = self.spec, self.sys
        ops = sys_.ops
        self.emit(f"/* Generated by replcheck export promela from {s.source} ({s.name}).")
        self.emit(f"   {sys_.n} leaders ({', '.join(s.leaders)}) | {s.topology} | "
                  + (f"lww over {s.clock} (tie-break: {s.tie_break})" if self.lww else s.resolver)
                  + f" | loop prevention {s.loop_prevention} | fifo links")
        self.emit(f"   invariants at quiescent states: {', '.join(self.invariants)}")
        self.emit("   ops: " + "; ".join(f"{op.index}={op.id}@{op.leader_name} {op.key_name}"
                                          f"{'=' + repr(op.value) if op.value is not None else ' delete'}"
                                          for op in ops))
        self.emit("   Check: spin -a model.pml && gcc -O2 -DSAFETY -o pan pan.c && ./pan -m100000 */")
        self.emit()
        self.emit(f"#define NOPS {sys_.nops}")
        self.emit(f"#define NLEADERS {sys_.n}")
        self.emit(f"#define NKEYS {self.nkeys}")
        self.emit(f"#define KEY(w) {_cond([op.key for op in ops])}")
        self.emit(f"#define OPLEADER(w) {_cond([op.leader for op in ops])}")
        self.emit(f"#define VBIT(w) {_cond([1 << op.value_id for op in ops])}")
        if self.lww:
            self.emit(f"#define TIE(w) {_cond(self.tie_rank())}")
        self.emit()
        ts_type = "short" if self.clock == "lamport" and sys_.nops < 32000 else "int"
        ftypes = ["byte"] + (["int"] if self.track_past else []) + ([ts_type] if self.lww else []) \
            + (["int"] if self.hlc else []) + (["short" if sys_.n <= 15 else "int"] if self.visited else [])
        capacity = link_capacity(sys_)
        for j in range(len(sys_.edges)):
            a, b = sys_.edges[j]
            self.emit(f"chan {self.chan(j)} = [{max(1, capacity[j])}] of {{ {', '.join(ftypes)} }};"
                      f"   /* {s.leaders[a]} -> {s.leaders[b]} */")
        self.emit()
        self.emit("/* Published by each leader once the system is quiescent. */")
        self.emit("int g_vis[NLEADERS * NKEYS];    /* visible values (bit per value id; 0 = absent) */")
        if self.nlw:
            self.emit("int g_held[NLEADERS * NKEYS];   /* writes held (bit per op) */")
            self.emit("int g_committed;                /* writes committed */")
            self.emit("int g_sup[NKEYS];               /* writes to the key that a committed write to it saw */")
        self.emit("byte g_done;")
        if self.commit_index:
            self.emit("int g_commits;                  /* commit index: real time of an op without time_ms */")
        if self.spec.timed:
            self.emit("int g_rt;                       /* real time: ops committed (they commit in time_ms order) */")
        self.emit()
        for l in range(sys_.n):
            self.leader(l)
        self.monitor()
        return "\n".join(self.lines) + "\n"

    def leader(self, l: int):
        s, sys_ = self.spec, self.sys
        ops = sys_.ops
        mine = sys_.leader_ops[l]
        ins = [j for j, (_, d) in enumerate(sys_.edges) if d == l]
        outs = [j for j, (a, _) in enumerate(sys_.edges) if a == l]
        self.emit(f"active proctype L{l}() {{   /* {s.leaders[l]} */")
        for j in ins:
            self.emit(f"xr {self.chan(j)};", 1)
        for j in outs:
            self.emit(f"xs {self.chan(j)};", 1)
        self.emit("byte pc = 0;                  /* next own op, in program order */", 1)
        if self.has_after:
            self.emit("int applied = 0;              /* writes applied here */", 1)
        if self.track_past:
            self.emit("int past = 0;                 /* causal past: happens-before of the next commit */", 1)
        if self.lww:
            if self.clock == "lamport":
                self.emit("int clk = 0;", 1)
            elif self.hlc:
                self.emit(f"int clk = {HLC_NEVER}; int clc = 0;   /* hlc (l, c) */", 1)
            self.emit("byte r[NKEYS];                /* held write + 1 per key (0 = none) */", 1)
            self.emit("int rt[NKEYS];                /* its timestamp */", 1)
            if self.hlc:
                self.emit("int rc[NKEYS];                /* its hlc counter */", 1)
        else:
            self.emit("int r[NKEYS];                 /* held writes per key (siblings) */", 1)
            self.emit("int seen[NKEYS];              /* union of the hb masks of applied writes per key */", 1)
        if self.nlw:
            self.emit("int hbo[%d];                  /* ghost: hb of own writes */" % max(1, len(mine)), 1)
        self.emit("byte mw;" + (" int mhb;" if self.track_past else "") + (" int mt;" if self.lww else "")
                  + (" int mc;" if self.hlc else "") + (" int mvis;" if self.visited else ""), 1)
        if self.uses_pt:
            self.emit("int pt;                       /* physical time of a commit (reset after) */", 1)
        self.emit("int v;", 1)
        self.emit("do", 1)
        for pos, i in enumerate(mine):
            self.commit(l, pos, ops[i], outs)
        for j in ins:
            self.deliver(l, j)
        self.emit(":: timeout ->   /* quiescent: nothing enabled, every channel empty */", 1)
        self.publish(l, mine, ins)
        self.emit("break", 2)
        self.emit("od", 1)
        self.emit("}")
        self.emit()

    def commit(self, l, pos, op, outs):
        i = op.index
        guard = f"pc == {pos}"
        if op.after_mask:
            guard += f" && (applied & {op.after_mask}) == {op.after_mask}"
        earlier = sum(1 << o.index for o in self.sys.ops if o.time_ms is not None and op.time_ms is not None
                      and o.time_ms < op.time_ms)
        if earlier:
            guard += f" && (g_rt & {earlier}) == {earlier}"
        self.emit(f":: d_step {{ {guard} ->   /* commit {op.id} */", 1)
        b = 2
        if self.spec.timed:
            self.emit(f"g_rt = g_rt | {1 << op.index};", b)
        if self.lww:
            if self.clock in ("wall", "hlc"):
                real = str(op.time_ms) if op.time_ms is not None else "(g_commits + 1)"
                self.emit(f"pt = {real} + {self.sys.offsets[l]};", b)
            if self.clock == "lamport":
                self.emit("clk = clk + 1;", b)
                t1, t2 = "clk", "0"
            elif self.clock == "wall":
                t1, t2 = "pt", "0"
            else:
                self.emit("if :: pt > clk -> clk = pt; clc = 0 :: else -> clc = clc + 1 fi;", b)
                t1, t2 = "clk", "clc"
        else:
            t1, t2 = "0", "0"
        if self.commit_index:
            self.emit("g_commits = g_commits + 1;", b)
        if self.nlw:
            self.emit(f"hbo[{pos}] = past;", b)
        k = op.key
        if self.lww:
            self.lww_apply(str(i), str(k), t1, t2, b)
        else:
            self.emit(f"seen[{k}] = seen[{k}] | past;", b)
            self.emit(f"r[{k}] = (r[{k}] & ~past) | {1 << i};", b)
        if self.has_after:
            self.emit(f"applied = applied | {1 << i};", b)
        hb = "past"
        for j in outs:
            self.emit(f"{self.chan(j)} ! {self.fields(str(i), hb, t1, t2, str(1 << l))};", b)
        if self.track_past:
            self.emit(f"past = past | {1 << i};", b)
        self.emit(f"pc = {pos + 1}" + ("; pt = 0" if self.uses_pt else ""), b)
        self.emit("}", 1)

    def lww_apply(self, w, k, t1, t2, b):
        cond = self.greater(t1, t2, w, f"rt[{k}]", f"rc[{k}]" if self.hlc else "0", f"(r[{k}] - 1)")
        self.emit(f"if :: r[{k}] == 0 || {cond} ->", b)
        self.emit(f"r[{k}] = {w} + 1; rt[{k}] = {t1}" + (f"; rc[{k}] = {t2}" if self.hlc else ""), b + 1)
        self.emit("   :: else -> skip", b)
        self.emit("fi;", b)

    def deliver(self, l, j):
        sys_ = self.sys
        src, _ = sys_.edges[j]
        self.emit(f":: d_step {{ {self.chan(j)} ? {self.fields('mw', 'mhb', 'mt', 'mc', 'mvis')} ->"
                  f"   /* deliver {self.spec.leaders[src]} -> {self.spec.leaders[l]} */", 1)
        b = 2
        if sys_.loop_mode == "origin":
            self.emit(f"if :: OPLEADER(mw) == {l} -> skip   /* origin: drop a write it originated */", b)
            self.emit("   :: else ->", b)
            b += 1
        if self.lww:
            self.lww_apply("mw", "KEY(mw)", "mt", "mc", b)
            if self.clock == "lamport":
                self.emit("if :: clk < mt -> clk = mt :: else -> skip fi;   /* receive: no tick */", b)
            elif self.hlc:
                self.emit("if :: mt > clk || (mt == clk && mc > clc) -> clk = mt; clc = mc"
                          " :: else -> skip fi;   /* receive: no tick */", b)
        else:
            self.emit("if :: (r[KEY(mw)] & (1 << mw)) || (seen[KEY(mw)] & (1 << mw)) -> skip"
                      "   /* held, or a held sibling saw it */", b)
            self.emit("   :: else -> r[KEY(mw)] = (r[KEY(mw)] & ~mhb) | (1 << mw)", b)
            self.emit("fi;", b)
            self.emit("seen[KEY(mw)] = seen[KEY(mw)] | mhb;", b)
        if self.has_after:
            self.emit("applied = applied | (1 << mw);", b)
        if self.track_past:
            self.emit("past = past | (1 << mw) | mhb;", b)
        targets = sys_.forward_links[(l, src)]
        if targets:
            if self.visited:
                self.emit(f"mvis = mvis | {1 << l};", b)
            for t in targets:
                to = sys_.edges[t][1]
                send = f"{self.chan(t)} ! {self.fields('mw', 'mhb', 'mt', 'mc', 'mvis')}"
                if self.visited:
                    self.emit(f"if :: (mvis & {1 << to}) == 0 -> {send} :: else -> skip fi;", b)
                else:
                    self.emit(f"{send};", b)
        if self.visited and targets:
            self.emit("mvis = 0;", b)
        if sys_.loop_mode == "origin":
            self.emit("skip", b)
            self.emit("fi;", b - 1)
        # Reset message variables so that they do not split states.
        self.emit("mw = 0" + ("; mhb = 0" if self.track_past else "") + ("; mt = 0" if self.lww else "")
                  + ("; mc = 0" if self.hlc else "") + ("; mvis = 0" if self.visited else ""), 2)
        self.emit("}", 1)

    def publish(self, l, mine, ins):
        sys_ = self.sys
        ops = sys_.ops
        self.emit("d_step {   /* publish the quiescent state */", 2)
        b = 3
        for k in range(self.nkeys):
            idx = l * self.nkeys + k
            writers = [op for op in ops if op.key == k]
            self.emit("v = 0;", b)
            for op in writers:
                held = f"r[{k}] == {op.index + 1}" if self.lww else f"(r[{k}] & {1 << op.index})"
                self.emit(f"if :: {held} -> v = v | {1 << op.value_id} :: else -> skip fi;", b)
            self.emit(f"g_vis[{idx}] = (v == 1 -> 0 : v);   /* a lone tombstone reads as absent */", b)
            if self.nlw:
                held = f"(r[{k}] == 0 -> 0 : 1 << (r[{k}] - 1))" if self.lww else f"r[{k}]"
                self.emit(f"g_held[{idx}] = {held};", b)
        if self.nlw:
            for pos, i in enumerate(mine):
                k = ops[i].key
                self.emit(f"if :: pc > {pos} -> g_committed = g_committed | {1 << i};"
                          f" g_sup[{k}] = g_sup[{k}] | hbo[{pos}] :: else -> skip fi;", b)
        self.emit("g_done = g_done + 1", b)
        self.emit("};", 2)

    def monitor(self):
        """Assert the invariants once every leader has published.  With two
        invariants the monitor checks one or the other (a nondeterministic
        choice), so ``pan -c0 -e`` finds the violations of each."""
        sys_ = self.sys
        K = self.nkeys
        asserts = []
        if "convergence" in self.invariants:
            conds = [f"g_vis[{k}] == g_vis[{l * K + k}]" for k in range(K) for l in range(1, sys_.n)]
            asserts.append(f"assert({' && '.join(conds)})   /* convergence */")
        if self.nlw:
            conds = [f"(g_committed & {sys_.key_mask[k]} & ~g_sup[{k}] & ~g_held[{l * K + k}]) == 0"
                     for k in range(K) for l in range(sys_.n)]
            asserts.append(f"assert({' && '.join(conds)})   /* no-lost-writes */")
        self.emit("active proctype monitor() {")
        self.emit("g_done == NLEADERS ->", 1)
        if len(asserts) == 1:
            self.emit(asserts[0], 1)
        else:
            self.emit("if", 1)
            for a in asserts:
                self.emit(f":: {a}", 1)
            self.emit("fi", 1)
        self.emit("}")
