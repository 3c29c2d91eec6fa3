"""pycrdt (Yjs / yrs) as a conformance target: one ``pycrdt.Doc`` per
leader, in this process.

Each node is a ``Doc`` holding one root ``Map`` (``"kv"``) whose keys are
the model keys.  Each Doc gets a fixed client id, ``1 +`` the rank of its
leader's name in sorted order (the name sorting last has the highest id),
so runs are reproducible: Yjs breaks ties between concurrent sets of one
key by client id (the higher wins), and a random id would make the winner
change from run to run.  The catalogue entry ``yjs-map``
(``model/resolvers/yjs.py``) assumes the same ids.

Statements (:class:`~checks.conform.target.TargetOp`), each one
transaction:

``upsert``
    ``map[key] = value`` (a Y.Map set always creates a new item, even for
    an equal value), rows 1;
``insert``
    refused — rows 0, ``error`` set, nothing sent — when the map shows the
    key (the model's local ``UNIQUE`` check of ``insert``); else a set;
``update``
    rows 0 and nothing changed when the map does not show the key (SQL's
    ``UPDATE`` of a missing row); else a set;
``delete``
    ``del map[key]`` when the map shows the key (rows 1); else rows 0 and
    no change (Yjs then emits no update).

Messages are exact per commit: every acknowledged statement (all but a
refused insert) puts **one** entry on each out-link of its leader
(``Setup.links`` with that leader as source): the transaction's update
(Yjs's incremental update, taken from the Doc's transaction observer), or
``None`` when the transaction changed nothing — so entry *n* of a link is
the model's message *n* on it, a no-op delete included.  Received updates
are not forwarded: this is the model's all-to-all topology (each leader
sends its own writes to every peer); ring, star and custom graphs forward
and are not executable here.

:meth:`YjsTarget.deliver` applies the link's pending entries in order
(all, as the Target protocol says; ``count`` takes only the first ones, for
a model run that delivers one message at a time; ``label`` one statement's
update, for a model run over an unordered link).  An update whose dependency has not
arrived (the item it was set over) is kept **pending** by yrs, invisible,
and integrated when it arrives; a delete of an item not yet there
likewise.  (JavaScript Yjs also holds an update whose client's earlier
updates are missing; yrs integrates it behind a gap: see
``model/resolvers/yjs.py``.)  :meth:`YjsTarget.log` reports what the node's
state vector shows of that (Yjs keeps no conflict log).  Clock offsets do
not apply: Yjs reads no clock.
"""

from __future__ import annotations

from replcheck.checks.conform.target import Committed, Setup, TargetOp, TargetUnavailable

MAP = "kv"


def _varuint(buf: bytes, i: int) -> tuple[int, int]:
    """A lib0 variable-length unsigned int at ``buf[i]``: ``(value, next i)``."""
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7


def state_vector(sv: bytes) -> dict[int, int]:
    """A Yjs v1 state vector (``Doc.get_state()``) as ``{client: next clock}``."""
    count, i = _varuint(sv, 0)
    out = {}
    for _ in range(count):
        client, i = _varuint(sv, i)
        clock, i = _varuint(sv, i)
        out[client] = clock
    return out


def delete_targets(update: bytes) -> list[tuple[int, int]] | None:
    """The ``(client, clock)`` items a *delete-only* v1 update deletes (no
    structs: the first varuint is 0), or ``None`` for an update with
    structs (not parsed here)."""
    nstructs, i = _varuint(update, 0)
    if nstructs:
        return None
    out = []
    nclients, i = _varuint(update, i)
    for _ in range(nclients):
        client, i = _varuint(update, i)
        nranges, i = _varuint(update, i)
        for _ in range(nranges):
            clock, i = _varuint(update, i)
            length, i = _varuint(update, i)
            out.extend((client, c) for c in range(clock, clock + length))
    return out


class _Sent:
    """One update on a link, with what is known of it: the struct it
    creates (``(client, clock)``, a set) or the items it deletes."""

    __slots__ = ("label", "sender", "update", "struct", "deletes")

    def __init__(self, label, sender, update, struct, deletes):
        self.label, self.sender, self.update, self.struct, self.deletes = label, sender, update, struct, deletes


class YjsTarget:
    """The Target protocol over pycrdt; see the module docstring."""

    def __init__(self, map_name: str = MAP):
        self.map_name = map_name
        self.name = "pycrdt (Yjs/yrs)"
        self._pycrdt = None
        self.setup: Setup | None = None
        self.docs: dict = {}
        self.maps: dict = {}
        self.client: dict[str, int] = {}
        self.queues: dict[tuple[str, str], list] = {}
        self._received: dict[str, list] = {}   # every update applied at a node, for log()
        self._pending: dict[str, set] = {}     # labels of received updates its state vector does not cover
        self._log: dict[str, list] = {}
        self._capture: list | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self, setup: Setup) -> None:
        try:
            import pycrdt
        except ImportError as e:   # pragma: no cover - pycrdt is in the test and conform extras
            raise TargetUnavailable(f"pycrdt is not installed ({e}); pip install 'replcheck[conform]'") from None
        if setup.mode:
            raise ValueError(f"pycrdt has no conflict setting, got mode {setup.mode!r}")
        self._pycrdt = pycrdt
        self.name = f"pycrdt {getattr(pycrdt, '__version__', '?')} (Yjs/yrs)"
        self.setup = setup
        names = sorted(setup.leaders)
        self.client = {l: names.index(l) + 1 for l in setup.leaders}
        self.reset()

    def reset(self) -> None:
        pycrdt = self._pycrdt
        self.docs, self.maps = {}, {}
        for l in self.setup.leaders:
            doc = pycrdt.Doc(client_id=self.client[l])
            self.maps[l] = doc.get(self.map_name, type=pycrdt.Map)
            doc.observe(self._observe)
            self.docs[l] = doc
        self.queues = {tuple(e): [] for e in self.setup.links}
        self._received = {l: [] for l in self.setup.leaders}
        self._pending = {l: set() for l in self.setup.leaders}
        self._log = {l: [] for l in self.setup.leaders}

    def stop(self) -> None:
        self.docs, self.maps, self.queues = {}, {}, {}

    def _observe(self, event) -> None:
        if self._capture is not None:    # only the update of our own commit, not of a remote apply
            self._capture.append(event.update)

    # -------------------------------------------------------------- commits
    def commit(self, leader: str, op: TargetOp) -> Committed:
        m = self.maps[leader]
        doc = self.docs[leader]
        shows = op.key in m
        if op.kind == "insert" and shows:
            return Committed(0, f"duplicate key: the map already has {op.key!r} (insert refused)")
        if op.kind not in ("insert", "update", "upsert", "delete"):
            raise ValueError(f"unknown statement kind {op.kind!r}")
        before = state_vector(doc.get_state()).get(self.client[leader], 0)
        self._capture = []
        try:
            with doc.transaction():
                if op.kind == "delete":
                    if shows:
                        del m[op.key]
                elif op.kind != "update" or shows:
                    m[op.key] = op.value
        finally:
            captured, self._capture = self._capture, None
        rows = 0 if (op.kind in ("update", "delete") and not shows) else 1
        if not captured:
            update = None          # the transaction changed nothing: Yjs emits no update
        elif len(captured) == 1:
            update = captured[0]
        else:   # pragma: no cover - one transaction gives one event
            update = self._pycrdt.merge_updates(*captured)
        after = state_vector(doc.get_state()).get(self.client[leader], 0)
        struct = (self.client[leader], before) if after > before else None
        deletes = delete_targets(update) if update is not None and struct is None else None
        for (s, d), q in self.queues.items():
            if s == leader:
                q.append(_Sent(op.label, leader, update, struct, deletes))
        return Committed(rows)

    # ------------------------------------------------------------ delivery
    def deliver(self, src: str, dst: str, count: int | None = None, label: str | None = None) -> None:
        """Apply what ``src`` has pending for ``dst``: all of it (the Target
        protocol), the first ``count`` entries, or only the entry of the
        statement ``label`` (a model run on an unordered link delivers any
        queued message)."""
        q = self.queues[(src, dst)]
        if label is not None:
            at = next((i for i, s in enumerate(q) if s.label == label), None)
            if at is None:
                raise ValueError(f"{src} -> {dst} has no pending update of {label}")
            take, self.queues[(src, dst)] = [q[at]], q[:at] + q[at + 1:]
        else:
            n = len(q) if count is None else count
            if n > len(q):
                raise ValueError(f"{src} -> {dst} has {len(q)} pending updates, not {n}")
            take, self.queues[(src, dst)] = q[:n], q[n:]
        doc = self.docs[dst]
        for sent in take:
            if sent.update is not None:
                doc.apply_update(sent.update)
                self._received[dst].append(sent)
        self._note_pending(dst)

    def _covered(self, leader: str, sent: _Sent, sv: dict) -> bool | None:
        if sent.struct is not None:
            client, clock = sent.struct
            return sv.get(client, 0) > clock
        if sent.deletes is not None:
            return all(sv.get(c, 0) > k for c, k in sent.deletes)
        return None

    def _note_pending(self, leader: str) -> None:
        sv = state_vector(self.docs[leader].get_state())
        now = set()
        for sent in self._received[leader]:
            ok = self._covered(leader, sent, sv)
            if ok is False:
                now.add(sent.label)
        was = self._pending[leader]
        for label in sorted(now - was):
            self._log[leader].append(f"pending: {label}'s update is not in the state vector (waits for the item it"
                                     " depends on)")
        for label in sorted(was - now):
            self._log[leader].append(f"integrated: {label}'s update is in the state vector now")
        self._pending[leader] = now

    # ------------------------------------------------------------- reading
    def read(self, leader: str) -> dict:
        return {k: v for k, v in self.maps[leader].items()}

    def pending(self, leader: str) -> tuple[str, ...]:
        """Labels of the updates ``leader`` received that its state vector
        does not cover yet (see :meth:`log`)."""
        return tuple(sorted(self._pending[leader]))

    def log(self, leader: str) -> list[str]:
        """Yjs keeps no conflict log; the lines say when a received update
        is not covered by the node's state vector (``Doc.get_state()``) and
        when it becomes covered.  Not covered means held pending (its origin
        item, or the item a delete names, has not arrived), with one
        exception yrs adds: an item whose origin is there but whose client
        has an earlier item missing is integrated (it shows) behind a gap
        the state vector does not cover."""
        out, self._log[leader] = self._log[leader], []
        return out
