"""The catalogue of conflict resolvers and key data types.

Every key of a spec has one *data type*, named by a catalogue entry: a
register under a resolver (``lww``, ``keep-local``, a product preset, ...;
the default is ``system.resolver``), or a type that is its own merge
(``pn-counter``, ``or-set``, ``union``, ``escrow``, ...; chosen with
``[keys."name"] type = ...``).  A data type is a pure object over the
key's *content* inside a leader's state (small ints and tuples); see
:mod:`model.resolvers.base` for its interface and
:mod:`model.resolvers.compile` for how a System builds them.

Each module states its meaning, the metadata it reads, its tie-break and
its source; docs/resolvers.md has the table of what each keeps and loses.

This module is also the one place that says **what each engine covers**
for an entry (``ResolverInfo.smt``, ``.laws``, ``.promela``, ``.skew``;
the explicit engines run every entry).  The symbolic engine
(``checks/smt/bmc.py``), the merge laws (``checks/smt/laws.py``), clock skew
(``checks/smt/skew.py``) and the Promela export (``checks/export_promela.py``)
read those fields and never compare an entry's name; the reductions read
the flags of the built data type (``uses_hb``, ``stamp_reads_content``,
``renaming_safe``: :mod:`model.resolvers.base`).
tests/model/test_catalogue_single_source.py holds every module to that, and checks
each claim against the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from replcheck.model.resolvers import (counters, couchdb, custom_merge, escrow, first_writer_wins, keep_one_side, lww,
                             lww_element_set, max_min, mv_register, or_set, presets, two_phase_set, union_set,
                             usedelta, users)
from replcheck.model.resolvers.register import Register, ts_rank
from replcheck.model.resolvers import yjs

REGISTER_OPS = ("set", "delete", "resolve", "incr", "decr")
SIBLING_OPS = ("set", "delete", "resolve")
SET_OPS = ("add", "remove")

# How checks/smt/bmc.py encodes a key of the entry (``ResolverInfo.smt``;
# ``None``: the smt engine refuses it with a SpecError naming --engine bfs).
SMT_KINDS = {
    "lww-closed-form": "the largest (timestamp, tie-break, op order) in closed form (an LWW register; a"
                       " configured delete rule makes it a register fold)",
    "register-fold": "a fold of model.resolvers.register.Register's policy over each leader's arrival order",
    "register-fold-value-rule": "a register fold with GoldenGate's own value rule (a delete conflict overwrites,"
                                " an equal value keeps the target row)",
    "siblings": "the undominated writes (a join of version vectors)",
    "counter": "acceptance only: every op reaches every leader and the merge is a join",
    "escrow-rights": "acceptance against each leader's local rights; the merge is a join",
    "table": "acceptance against the rows the leader shows; rows never conflict",
}
REGISTER_SMT_KINDS = ("lww-closed-form", "register-fold", "register-fold-value-rule", "siblings")

# What checks/export_promela.py writes for a register under the entry
# (``ResolverInfo.promela``; ``None``: the export refuses it).
PROMELA_KINDS = {
    "largest-stamp": "lww: (timestamp, tie-break) compared on every apply, lamport/wall/hlc clocks",
    "siblings": "mv-register: a sibling set pruned by ghost happens-before",
}


@dataclass(frozen=True)
class Laws:
    """What ``replcheck smt laws NAME`` checks for an entry: the state merge
    ``shape`` (a key of ``checks/smt/laws.py:SHAPES``) under ``tie_break``
    (``"spec"``: the ``--tie-break`` given; ``""``: none); ``preset_of``
    names the merge a preset composes (the report says "preset of ...").
    Whether the laws prove *convergence* is not declared here: ``smt laws``
    reads the rules the merge leaves out off the built data type."""

    shape: str
    tie_break: str = ""
    preset_of: str = ""


@dataclass(frozen=True)
class ResolverInfo:
    """A catalogue entry: how to build the data type and what it means.

    ``family`` is register, counter or set (which ops a key takes:
    ``ops``); ``clock`` is the clock a preset fixes (``None``: the spec's);
    ``delete_rule`` says whether a delete beats a concurrent update, and
    ``delete_configurable`` whether ``system.delete_rule`` may change it;
    ``converges`` is the entry's claim that every delivery order ends in
    the same state (checked by the property tests); ``keeps``/``loses``/
    ``products`` feed docs/resolvers.md.

    Engine coverage (all of it declared here, nowhere else): ``smt`` is the
    symbolic engine's encoding (a key of :data:`SMT_KINDS`, ``None``: not
    covered); ``laws`` what ``smt laws`` checks (:class:`Laws`, ``None``:
    no merge-law encoding); ``promela`` the export's encoding (a key of
    :data:`PROMELA_KINDS`, ``None``: refused); ``skew`` whether ``smt skew``
    applies (LWW by wall timestamp); ``conform`` the real product
    ``replcheck conform`` runs it on, as ``(target, product setting)``
    (docs/conformance.md; ``None``: no target here).  The explicit engines
    cover every entry.
    """

    name: str
    summary: str
    source: str
    build: Callable  # (KeyContext) -> DataType
    uses_clock: bool
    family: str = "register"
    ops: tuple[str, ...] = REGISTER_OPS
    clock: str | None = None
    fixed_tie_break: bool = False
    tie_break_text: str = ""
    delete_rule: str = "as-write"
    delete_configurable: bool = False
    converges: bool = True
    needs_python: bool = False
    keeps: str = ""
    loses: str = ""
    products: str = ""
    smt: str | None = None
    laws: Laws | None = None
    promela: str | None = None
    skew: bool = False
    rights: bool = False   # the key's initial value is split into per-leader rights (escrow: keys.<k>.rights)
    conform: tuple[str, str] | None = None
    # The register keeps the largest (timestamp, tie-break) and no preset rule
    # decides anything else, so over Lamport/HLC stamps a write it discards is a
    # lost update (checks/invariants.py _lost_write_kinds_possible).
    largest_stamp_only: bool = False

    def conform_mode(self, target: str) -> str | None:
        """The product setting that runs this entry on ``target``, or ``None``."""
        return self.conform[1] if self.conform and self.conform[0] == target else None

    def engines(self) -> tuple[str, ...]:
        """The engines and questions that cover this entry."""
        return (("explicit",) + (("smt",) if self.smt else ()) + (("laws",) if self.laws else ())
                + (("promela",) if self.promela else ()) + (("skew",) if self.skew else ())
                + (("conform",) if self.conform else ()))


def _home_leader(ctx):
    """Home-leader keys: the home serialises every write, so a commit there
    always replaces what it holds and a replica applies the home's stream
    in order (same origin: no conflict); writes from two different homes
    (only after a failover) are compared by lww."""
    return Register(ctx, rank=ts_rank(ctx), detect="origin", delete_rule=ctx.delete_rule)


def _entries():
    R = ResolverInfo
    pg = presets.pglogical.__doc__
    gg = presets.goldengate.__doc__
    wall = dict(clock="wall", fixed_tie_break=True)
    return (
        # ---- registers
        R("lww", lww.SUMMARY, lww.SOURCE, lww.build, True, delete_configurable=True,
          keeps="the write with the largest (timestamp, tie-break)", loses="every concurrent loser; with skewed"
          " wall clocks even a causally later write", products="Cassandra, DynamoDB, Cosmos DB, PGD, Riak (lww)",
          smt="lww-closed-form", laws=Laws("largest-stamp", "spec"), promela="largest-stamp", skew=True,
          largest_stamp_only=True),
        R("first-writer-wins", first_writer_wins.SUMMARY, first_writer_wins.SOURCE, first_writer_wins.build, True,
          delete_configurable=True, keeps="the write with the smallest timestamp", loses="every later write, even"
          " sequential updates", products="put-if-absent; pglogical first_update_wins (conflicts only)",
          smt="register-fold", laws=Laws("smallest-stamp")),
        R("keep-local", keep_one_side.KEEP_LOCAL, keep_one_side.SOURCE, keep_one_side.build_keep_local, False,
          delete_configurable=True, converges=False, keeps="the receiving leader's row on a conflict",
          loses="the incoming write; leaders diverge", products="pglogical keep_local, GoldenGate IGNORE",
          smt="register-fold", laws=Laws("keep-held")),
        R("apply-remote", keep_one_side.APPLY_REMOTE, keep_one_side.SOURCE, keep_one_side.build_apply_remote, False,
          delete_configurable=True, converges=False, keeps="the incoming row on a conflict",
          loses="the local write; leaders diverge", products="pglogical apply_remote (default), GoldenGate OVERWRITE",
          smt="register-fold", laws=Laws("take-incoming")),
        R("max", max_min.MAX, max_min.SOURCE, max_min.build_max, False, delete_rule="update-wins",
          keeps="the largest value", loses="every smaller write, and every delete",
          products="GoldenGate USEMAX, a max-register CRDT",
          smt="register-fold", laws=Laws("larger-value")),
        R("min", max_min.MIN, max_min.SOURCE, max_min.build_min, False, delete_rule="update-wins",
          keeps="the smallest value", loses="every larger write, and every delete", products="GoldenGate USEMIN",
          smt="register-fold", laws=Laws("smaller-value")),
        R("mv-register", mv_register.SUMMARY, mv_register.SOURCE, mv_register.build, False, ops=SIBLING_OPS,
          keeps="every concurrent write, as siblings (resolve merges them)", loses="nothing",
          products="Riak allow_mult, CouchDB _conflicts, Dropbox conflicted copy, Automerge getConflicts",
          smt="siblings", laws=Laws("siblings"), promela="siblings"),
        R("home-leader", "conflict avoidance: every write to a key is committed at the key's home leader"
          " (system.homes); lww if homes ever move", "DDIA ch. 5 'Conflict avoidance'", _home_leader, True,
          delete_configurable=True, keeps="every write, applied in one order at the home", loses="nothing"
          " without failover", products="per-user home regions (DDIA), PGD 6 write leader",
          laws=Laws("largest-stamp", "leader", "lww")),
        # ---- CRDTs and other key types
        R("union", union_set.SUMMARY, union_set.SOURCE, union_set.build, False, family="set", ops=SET_OPS,
          keeps="every element of any concurrent cart", loses="removals (a removed item comes back)",
          products="Dynamo shopping cart",
          laws=Laws("set-union")),
        R("g-counter", counters.G_SUMMARY, counters.SOURCE, counters.build, False, family="counter",
          ops=("incr",), keeps="every increment, once", loses="nothing", products="Riak counters, PGD crdt_gcounter",
          smt="counter", laws=Laws("max-vector")),
        R("pn-counter", counters.PN_SUMMARY, counters.SOURCE, counters.build, False, family="counter",
          ops=("incr", "decr"), keeps="every increment and decrement, once", loses="nothing (but may go below 0)",
          products="Riak counters, PGD crdt_pncounter, Redis CRDT counters",
          smt="counter", laws=Laws("max-vector-pair")),
        R("or-set", or_set.SUMMARY, or_set.SOURCE, or_set.build, False, family="set", ops=SET_OPS,
          delete_rule="update-wins", keeps="every add not observed by a remove", loses="a remove concurrent with an"
          " add of the same element", products="Riak sets, Automerge, Redis CRDT sets",
          laws=Laws("dot-sets")),
        R("lww-element-set", lww_element_set.SUMMARY, lww_element_set.SOURCE, lww_element_set.build, True,
          family="set", ops=SET_OPS, keeps="per element, the later of add/remove", loses="the earlier of a"
          " concurrent add/remove", products="Roshi (SoundCloud)",
          laws=Laws("stamp-vector")),
        R("2p-set", two_phase_set.SUMMARY, two_phase_set.SOURCE, two_phase_set.build, False, family="set",
          ops=SET_OPS, delete_rule="delete-wins", keeps="every add until the element is removed",
          loses="every re-add after a remove", products="textbook (Shapiro et al.)",
          laws=Laws("two-sets")),
        R("escrow", escrow.SUMMARY, escrow.SOURCE, escrow.build, False, family="counter",
          ops=("incr", "decr", "transfer"), keeps="every accepted op; value never below 0",
          loses="nothing; a decrement without local rights is rejected (not acknowledged)",
          products="bounded counters (Antidote), escrow (O'Neil 1986)",
          smt="escrow-rights", laws=Laws("rights-matrix"), rights=True),
        # ---- product presets
        R("cassandra", "Cassandra/ScyllaDB: per-cell LWW by write timestamp; equal timestamps: tombstone wins,"
          " then the larger value", "CASSANDRA-14592; Scylla timestamp conflict resolution", presets.cassandra,
          True, tie_break_text="tombstone, then larger value", keeps="the newest cell",
          loses="older-timestamped writes, incl. ones mis-ordered by skew", products="Cassandra, ScyllaDB",
          smt="register-fold", laws=Laws("largest-stamp", "value", "lww"), **wall),
        R("couchdb", couchdb.SUMMARY, couchdb.SOURCE, couchdb.build, False, ops=SIBLING_OPS,
          delete_rule="update-wins", keeps="all leaves; a deterministic winner shown", loses="nothing (losers in"
          " _conflicts, hidden from default reads)", products="CouchDB, PouchDB",
          smt="siblings", laws=Laws("siblings", "", "mv-register")),
        R("riak", "Riak KV allow_mult=true: siblings with dotted version vectors (an MV-register)",
          "docs.riak.com conflict resolution (siblings, DVV)", mv_register.build, False, ops=SIBLING_OPS,
          keeps="every concurrent write as a sibling", loses="nothing", products="Riak KV allow_mult=true",
          smt="siblings", laws=Laws("siblings", "", "mv-register")),
        R("riak-lww", "Riak KV allow_mult=false / last_write_wins: the object with the latest timestamp wins",
          "docs.riak.com conflict resolution", presets.riak_lww, True, tie_break_text="leader id (undocumented)",
          keeps="the newest object", loses="all siblings but one", products="Riak KV allow_mult=false",
          smt="register-fold", laws=Laws("largest-stamp", "leader", "lww"), **wall),
        R("dynamodb-global-tables", "DynamoDB global tables (2019.11.21): item-level LWW on a hidden timestamp",
          "AWS DynamoDB global tables guide", presets.dynamodb, True, tie_break_text="region id (undocumented)",
          keeps="the newest item", loses="the whole losing item", products="DynamoDB global tables",
          smt="register-fold", laws=Laws("largest-stamp", "leader", "lww"), **wall),
        R("cosmosdb-lww", "Cosmos DB LWW on _ts (seconds): highest wins; a delete beats a concurrent"
          " insert/replace", "Microsoft Learn: Cosmos DB conflict resolution policies", presets.cosmosdb_lww, True,
          tie_break_text="region id ('system determines')", delete_rule="delete-wins", converges=False,
          keeps="the highest _ts, or the delete", loses="the LWW loser; an update concurrent with a delete",
          products="Azure Cosmos DB multi-region writes",
          smt="register-fold", laws=Laws("largest-stamp", "leader", "lww"), **wall),
        R("pgd", "EDB PGD/BDR: origin conflict detection, update_if_newer by commit timestamp; equal: higher node"
          " id wins; delete wins", "enterprisedb.com/docs/pgd conflicts", presets.pgd, True,
          tie_break_text="higher node id", delete_rule="delete-wins", converges=False,
          keeps="the newer row", loses="the older row (its docs: counter + 1 on two nodes loses one)",
          products="EDB Postgres Distributed, BDR",
          smt="register-fold", laws=Laws("largest-stamp", "leader", "lww"), **wall),
        R("pglogical-apply-remote", "pglogical apply_remote: on a conflict (other origin) the incoming row wins",
          "pglogical_conflict.c", presets.pglogical("apply_remote"), False, delete_rule="delete-wins",
          converges=False, keeps="the incoming row", loses="the local row; diverges", products="pglogical 2 (default)",
          smt="register-fold", laws=Laws("take-incoming", "", "apply-remote"),
          conform=("pglogical", "apply_remote"), **wall),
        R("pglogical-keep-local", "pglogical keep_local: on a conflict (other origin) the local row stays",
          "pglogical_conflict.c", presets.pglogical("keep_local"), False, delete_rule="delete-wins",
          converges=False, keeps="the local row", loses="the incoming row; diverges", products="pglogical 2",
          smt="register-fold", laws=Laws("keep-held", "", "keep-local"), conform=("pglogical", "keep_local"), **wall),
        R("pglogical-last-update-wins", "pglogical last_update_wins: later commit timestamp wins; equal"
          " timestamps apply the remote row (may diverge)", "pglogical_conflict.c",
          presets.pglogical("last_update_wins"), True, tie_break_text="none: remote applied", delete_rule="delete-wins",
          converges=False, keeps="the newer row", loses="the older row; on a tie, diverges", products="pglogical 2",
          smt="register-fold", laws=Laws("later-stamp-remote-ties"),
          conform=("pglogical", "last_update_wins"), **wall),
        R("pglogical-first-update-wins", "pglogical first_update_wins: earlier commit timestamp wins; equal"
          " timestamps apply the remote row (may diverge)", "pglogical_conflict.c",
          presets.pglogical("first_update_wins"), True, tie_break_text="none: remote applied",
          delete_rule="delete-wins", converges=False, keeps="the older row", loses="the newer row; on a tie,"
          " diverges", products="pglogical 2",
          smt="register-fold", laws=Laws("earlier-stamp-remote-ties"), conform=("pglogical", "first_update_wins"), **wall),
        R("bucardo-latest", "Bucardo bucardo_latest: the most recently changed database's row wins",
          "bucardo.org conflict handling", presets.bucardo_latest, True, tie_break_text="leader id (undocumented)",
          keeps="the newest row", loses="the older row", products="Bucardo 5",
          smt="register-fold", laws=Laws("largest-stamp", "leader", "lww"), **wall),
        R("sqlserver-p2p", "SQL Server peer-to-peer, continue_onconflict: on a row-version conflict the highest"
          " originator id wins (no convergence guarantee)", "Microsoft Learn: peer-to-peer conflict detection",
          presets.sqlserver_p2p, False, tie_break_text="highest originator id", converges=False,
          keeps="the row from the higher originator id", loses="the lower originator's row, even if newer",
          products="SQL Server peer-to-peer",
          smt="register-fold", laws=Laws("higher-originator"), **wall),
        R("goldengate-usemax", "GoldenGate USEMAX: on a before-image conflict keep the larger value; equal:"
          " incoming ignored", "Oracle GoldenGate CDR", presets.goldengate("usemax"), False,
          tie_break_text="incoming ignored", converges=False, keeps="the larger value", loses="the smaller value",
          products="Oracle GoldenGate",
          smt="register-fold-value-rule", laws=Laws("larger-value", "", "max"), **wall),
        R("goldengate-usemin", "GoldenGate USEMIN: on a before-image conflict keep the smaller value; equal:"
          " incoming ignored", "Oracle GoldenGate CDR", presets.goldengate("usemin"), False,
          tie_break_text="incoming ignored", converges=False, keeps="the smaller value", loses="the larger value",
          products="Oracle GoldenGate",
          smt="register-fold-value-rule", laws=Laws("smaller-value", "", "min"), **wall),
        R("goldengate-overwrite", "GoldenGate OVERWRITE: on a before-image conflict apply the incoming row",
          "Oracle GoldenGate CDR", presets.goldengate("overwrite"), False, converges=False,
          keeps="the incoming row", loses="the target row; diverges", products="Oracle GoldenGate",
          smt="register-fold", laws=Laws("take-incoming", "", "apply-remote"), **wall),
        R("goldengate-ignore", "GoldenGate IGNORE: on a before-image conflict keep the target row",
          "Oracle GoldenGate CDR", presets.goldengate("ignore"), False, converges=False,
          keeps="the target row", loses="the incoming row; diverges", products="Oracle GoldenGate",
          smt="register-fold", laws=Laws("keep-held", "", "keep-local"), **wall),
        R("goldengate-discard", "GoldenGate DISCARD: keep the target row, log the incoming row to a discard file",
          "Oracle GoldenGate CDR", presets.goldengate("discard"), False, converges=False,
          keeps="the target row", loses="the incoming row (only in the discard file); diverges",
          products="Oracle GoldenGate",
          smt="register-fold", laws=Laws("keep-held", "", "keep-local"), **wall),
        R("goldengate-usedelta", usedelta.SUMMARY, usedelta.SOURCE, usedelta.build, False,
          ops=("set", "incr", "decr"), keeps="every delta", loses="nothing on FIFO links; a duplicate counts twice",
          products="Oracle GoldenGate",
          laws=Laws("added-values", "", "sum"), **wall),
        R("yjs-map", yjs.SUMMARY, yjs.SOURCE, yjs.build, False, ops=("set", "delete"),
          keeps="the last item in YATA order: a set that saw the others, else the higher client id's",
          loses="every concurrent set but one; a set can also lose to a concurrent delete it never saw",
          products="Yjs / yrs Y.Map (pycrdt, y-py, Yjs providers)", laws=Laws("two-sets"),
          conform=("pycrdt", "")),
    )


RESOLVERS: dict[str, ResolverInfo] = {r.name: r for r in _entries()}

# A Python merge is not selectable by name: it is what ``merge = "m:f"``
# (system or per key) gives a register key.
CUSTOM_MERGE = ResolverInfo(
    "custom-merge", custom_merge.SUMMARY, custom_merge.SOURCE, custom_merge.build, False, ops=SIBLING_OPS,
    converges=False, needs_python=True, keeps="whatever merge(local, remote) returns",
    loses="up to the function (no-lost-writes cannot judge it)", products="Cosmos DB merge procedures, application merges")


# Application tables (issue 4): key types that are not conflict resolvers (a
# users table's rows never conflict; its UNIQUE column is checked locally).
# Chosen with [keys."users"] type = "users"; not in RESOLVERS, so matrices,
# merge-law queries and drill answers do not offer them as resolvers.
TABLES: dict[str, ResolverInfo] = {
    "users": ResolverInfo(
        "users", users.SUMMARY, users.SOURCE, users.build, False, family="table", ops=("set",),
        keeps="every row (rows keyed by generated ids never conflict)",
        loses="nothing; but two leaders can each accept the same email (duplicate-email)",
        products="a SQL table with a UNIQUE column under multi-leader replication (PGD, pglogical)", smt="table"),
}


# Merges ``smt laws`` knows that are not data types of the explicit engine: a
# naive summing merge and CockroachDB's logical replication (LWW, the held row
# kept on equal timestamps).
LAWS_ONLY: dict[str, Laws] = {
    "sum": Laws("added-values"),
    "cockroachdb": Laws("largest-stamp", "incoming-loses", "lww"),
}


def entry(name: str) -> ResolverInfo:
    """The catalogue entry of a key (``custom-merge`` and tables included)."""
    if name == "custom-merge":
        return CUSTOM_MERGE
    return TABLES[name] if name in TABLES else RESOLVERS[name]

PRESETS = tuple(r.name for r in RESOLVERS.values() if r.name in {
    "cassandra", "couchdb", "riak", "riak-lww", "dynamodb-global-tables", "cosmosdb-lww", "pgd",
    "pglogical-apply-remote", "pglogical-keep-local", "pglogical-last-update-wins", "pglogical-first-update-wins",
    "bucardo-latest", "sqlserver-p2p", "goldengate-usemax", "goldengate-usemin", "goldengate-overwrite",
    "goldengate-ignore", "goldengate-discard", "goldengate-usedelta"})


def _yes(b):
    return "yes" if b else "no"


def docs_row(r: ResolverInfo) -> str:
    """The row of docs/resolvers.md's catalogue table for entry ``r``."""
    delete = r.delete_rule + (" (configurable)" if r.delete_configurable else "")
    return (f"| `{r.name}` | {r.family} | {r.keeps} | {r.loses} | {delete} | {_yes(r.converges)} | {r.products}"
            f" | {r.smt or 'no'} | {_yes(r.laws)} | {_yes(r.promela)} |")


def docs_table() -> str:
    """docs/resolvers.md's catalogue table, generated from the entries
    (tests/model/test_catalogue_single_source.py keeps the file equal to it)."""
    head = ("| resolver | family | keeps | loses | delete rule | converges | products | smt | laws | promela |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    return "\n".join([head] + [docs_row(r) for r in RESOLVERS.values()])
