"""Drills: a scenario, a student's answer (topology, resolver, routing, a
defense), and the verdict on that answer — pass, or the counterexample that
refutes it — with what the answer costs in commit latency.

A *drill* is a spec under ``specs/drills/`` with a ``[drill]`` table:

``title``, ``question``
    what the student is asked;
``homes``
    the home leaders a routed answer may use, per basis: ``user``,
    ``email`` or ``key``, each a table of key prefix -> leader
    (``homes = { key = { "item:" = "us-east" } }``);
``layouts``
    (optional) table layouts the answer may pick: ``by-id`` (the scenario
    as written: a ``users`` table keyed by generated ids) and ``by-email``
    (one register row per email, ``users/<email>``, written by INSERTs:
    the resolver then decides between two registrations).

The drill's ``[check] invariants`` are the invariants every answer must
keep; its ``[expect]`` pins the verdicts of the scenario as written, so
``replcheck check --expect specs/`` covers it.

An *answer* is a TOML file of data only (it never runs code; a custom merge
needs ``--allow-python``)::

    drill = "inventory"
    topology = "all-to-all"        # all-to-all | ring | star (hub = "...", default the drill's or the first leader)
    resolver = "escrow"            # replcheck list resolvers
    routing = "none"               # none | home-leader
    # home_by = "key"              # with home-leader: user | email | key (the drill's [drill.homes])
    # homes = { "item:" = "eu-west" }   # or name the homes yourself: key prefix -> leader
    # layout = "by-email"          # drills with [drill] layouts
    defense = "rights per region; a sale needs local rights"

How an answer becomes a spec (pure: :func:`compose`): the topology (and
hub) replace the drill's; every key the workload writes takes the
resolver — a register resolver becomes the key's ``resolver``, a counter or
set type its ``type``, keeping every other setting the new type takes
(``initial``, ``home``, ``delete_rule``; ``rights`` for escrow:
:func:`model.variants.retype`) — except a ``users``
table, whose rows never conflict (no resolver runs); with ``routing =
"home-leader"`` every key matching a home prefix gets ``home = <leader>``
(its writes commit there, whatever the type).  A combination whose spec
the model cannot run (a set type given register writes, routing by email
where no key is addressed by email) is *not applicable*, with the
validation's reason.

Cost (:func:`cost`): from ``system.latency_ms`` (one way, between
regions) and ``system.commit_ms`` (a local commit), the commit latency a
client in each region sees: a local commit costs ``commit_ms``; a write
routed to a home elsewhere pays the round trip, ``there + commit_ms +
back``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from replcheck import bundled

from replcheck.checks import escape as esc
from replcheck.checks.budget import TOTAL, Budget
from replcheck.checks.anomalies import meaning
from replcheck.checks.invariants import INVARIANTS
from replcheck.checks.trace import build_trace
from replcheck.checks.verdict import HOLDS, INCOMPLETE, VIOLATED, Report, check
from replcheck.model.errors import SpecError, did_you_mean
from replcheck.model import variants
from replcheck.model.resolvers import CUSTOM_MERGE, RESOLVERS
from replcheck.model.resolvers.base import is_rejected
from replcheck.model import state as st
from replcheck.model.search import EVERY
from replcheck.model.spec import Spec, load_spec, read_toml
from replcheck.model.system import System

DRILLS_DIR = bundled.root("specs") / "drills"   # the bundled drills, source tree or installed wheel
TOPOLOGIES = ("all-to-all", "ring", "star")
# The answer format's routing modes: "home-leader" routes every write to its
# key's home (conflict avoidance, the catalogue entry of the same name).
ROUTED = "home-leader"
ROUTINGS = ("none", ROUTED)
HOME_BASES = ("user", "email", "key")
LAYOUTS = ("by-id", "by-email")
ANSWER_KEYS = ("drill", "topology", "hub", "resolver", "routing", "home_by", "homes", "layout", "merge", "faults",
               "defense")
_DRILL_KEYS = ("title", "question", "homes", "layouts")


# ------------------------------------------------------------------ drills
@dataclass(frozen=True)
class Drill:
    """A drill scenario: its validated spec and what an answer may choose."""

    name: str
    path: Path
    title: str
    question: str
    spec: Spec = field(repr=False, compare=False)
    invariants: tuple[str, ...]
    leaders: tuple[str, ...]
    homes: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]   # basis -> ((prefix, leader), ...)
    layouts: tuple[str, ...]

    def homes_for(self, basis: str):
        return dict(self.homes).get(basis)


def _read_toml(path: Path, what: str) -> dict:
    """An answer file's data (answers are not specs: the spec loader reads drills)."""
    path = bundled.locate(path)
    if not path.is_file():
        raise SpecError(str(path), "", f"no such {what} file")
    try:
        return read_toml(path)
    except OSError as e:
        raise SpecError(str(path), "", f"cannot read this {what} file ({e.strerror or e}); check its"
                                       " permissions") from None


def _rules(source, key, raw, leaders) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise SpecError(source, key, 'must be a table of key prefix = leader, e.g. { "item:" = "us-east" }')
    for prefix, l in raw.items():
        if l not in leaders:
            raise SpecError(source, f"{key}.{prefix}", f"unknown leader '{l}'{did_you_mean(l, leaders)}"
                                                        f" (leaders: {', '.join(leaders)})")
    return tuple(raw.items())


def load_drill(path, overrides=()) -> Drill:
    """Read a drill scenario (a spec with a ``[drill]`` table); ``overrides``
    are ``--set KEY=VALUE`` edits of its spec (e.g. ``system.latency_ms=100``)."""
    p = Path(path)
    source = str(p)
    if not bundled.locate(p).is_file():
        raise SpecError(str(bundled.locate(p)), "", "no such drill file")
    spec = load_spec(p, list(overrides), invariant_names=INVARIANTS)   # the scenario itself must be a valid spec
    d = variants.extra_table(spec, "drill")
    if not isinstance(d, dict):
        raise SpecError(source, "drill", "missing [drill] table; add title, question and homes")
    for k in d:
        if k not in _DRILL_KEYS:
            raise SpecError(source, f"drill.{k}", f"unknown key{did_you_mean(k, _DRILL_KEYS)}"
                                                   f" (allowed: {', '.join(_DRILL_KEYS)})")
    for k in ("title", "question"):
        if not isinstance(d.get(k), str) or not d[k].strip():
            raise SpecError(source, f"drill.{k}", "missing; say in a sentence what the student is asked")
    raw_homes = d.get("homes", {})
    if not isinstance(raw_homes, dict):
        raise SpecError(source, "drill.homes", "must be a table basis = { prefix = leader }, basis user/email/key")
    homes = []
    for basis, rules in raw_homes.items():
        if basis not in HOME_BASES:
            raise SpecError(source, f"drill.homes.{basis}", f"unknown basis{did_you_mean(basis, HOME_BASES)}"
                                                             " (user, email or key)")
        homes.append((basis, _rules(source, f"drill.homes.{basis}", rules, spec.leaders)))
    layouts = d.get("layouts", [])
    if not isinstance(layouts, list) or any(x not in LAYOUTS for x in layouts):
        raise SpecError(source, "drill.layouts", "must be a list of by-id / by-email")
    return Drill(p.stem, p, d["title"], " ".join(d["question"].split()), spec, spec.invariants, spec.leaders,
                 tuple(homes), tuple(layouts))


def list_drills(folder=None) -> list[Drill]:
    """Every drill in ``folder`` (default: the bundled ``specs/drills``)."""
    folder = Path(folder) if folder else DRILLS_DIR
    return [load_drill(p) for p in sorted(folder.glob("*.toml"))]


MAX_NAME = 100   # a drill name is a file stem; longer ones are refused, and echoed cut short


def _shown(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:60] + "...")


def _bad_drill_name(name) -> str | None:
    """Why ``name`` cannot name a drill file, or ``None``."""
    if not isinstance(name, str) or not name.strip():
        return "a drill name must be a non-empty string"
    if len(name) > MAX_NAME:
        return f"drill name {_shown(name)} is {len(name)} characters long; at most {MAX_NAME}"
    if any(c in name for c in "/\\\0") or name.startswith("."):
        return f"drill name {_shown(name)} is not a file name; give a drill's name, e.g. inventory"
    return None


def find_drill(name: str, folder=None, near=None, source=None, overrides=()) -> Drill:
    """The drill called ``name``: looked up next to an answer (``near``:
    the answer's folder and its parent), in ``folder``, then in the
    bundled drills.  ``source`` is the file that named the drill (an
    answer): an unknown name is that file's error, not its folder's."""
    where = str(source or near or folder or DRILLS_DIR)
    bad = _bad_drill_name(name)
    if bad:
        raise SpecError(where, "drill", f"{bad} (replcheck drill list)")
    places = []
    if near is not None:
        places += [Path(near), Path(near).parent]
    if folder:
        places.append(Path(folder))
    places.append(DRILLS_DIR)
    for place in places:
        p = place / f"{name}.toml"
        if p.is_file():
            return load_drill(p, overrides)
    known = sorted({p.stem for place in places if place.is_dir() for p in place.glob("*.toml")})
    raise SpecError(where, "drill", f"unknown drill '{name}'{did_you_mean(name, known)} (replcheck drill list)")


# ----------------------------------------------------------------- answers
@dataclass(frozen=True)
class Answer:
    """A student's answer to a drill (data only)."""

    drill: str
    topology: str
    resolver: str
    routing: str = "none"
    home_by: str | None = None
    homes: tuple[tuple[str, str], ...] | None = None
    layout: str | None = None
    hub: str | None = None
    merge: str | None = None
    defense: str = ""
    source: str = "<answer>"
    faults: tuple[tuple[str, object], ...] | None = None   # [faults] over the drill's own (docs/drills/README.md)

    @property
    def label(self) -> str:
        parts = [self.topology + (f" (hub {self.hub})" if self.hub else ""), self.merge or self.resolver]
        if self.layout:
            parts.append(f"rows {self.layout}")
        if self.routing == ROUTED:
            parts.append("home-leader by " + (self.home_by or "the answer's homes"))
        else:
            parts.append("no routing")
        if self.faults:
            parts.append("faults " + faults_label(self.faults))
        return " | ".join(parts)


def parse_budgets(values, source: str = "--faults") -> tuple:
    """``--faults`` values (repeatable or comma-separated) as fault budgets:
    ``none`` (the drill's own faults), or ``key=value`` pairs joined by
    ``+`` — ``crashes=1``, ``partitions=1+heals=1`` — values read as TOML
    (``true``, ``["us-east"]``); the keys are checked against each answer
    like an answer's ``[faults]``."""
    import tomllib
    out = []
    for v in values:
        if v.strip() == "none":
            out.append(None)
            continue
        pairs = []
        for part in v.split("+"):
            key, eq, raw = part.partition("=")
            key = key.strip()
            if not eq or not key:
                raise SpecError(source, "--faults", f"'{v}' is not a budget; write none, crashes=1 or"
                                                    " partitions=1+heals=1")
            try:
                value = tomllib.loads(f"x = {raw.strip()}")["x"]
            except tomllib.TOMLDecodeError:
                value = raw.strip()
            pairs.append((key, _frozen(value)))
        out.append(tuple(pairs))
    return tuple(dict.fromkeys(out))


def faults_label(faults) -> str:
    """``crashes=1, partitions=1`` (``none`` for no extra faults)."""
    return ", ".join(f"{k}={v}" for k, v in faults) if faults else "none"


def _frozen(v):
    """A TOML value as a hashable one (answers are frozen and compared)."""
    if isinstance(v, dict):
        return tuple((k, _frozen(x)) for k, x in v.items())
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    return v


def _thawed(v):
    if isinstance(v, tuple) and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in v) and v:
        return {k: _thawed(x) for k, x in v}
    if isinstance(v, tuple):
        return [_thawed(x) for x in v]
    return v


def load_answer(path) -> Answer:
    """Read and validate an answer file (one-line errors naming the key)."""
    source = str(path)
    data = _read_toml(Path(path), "answer")
    return parse_answer(data, source)


def parse_answer(data: dict, source: str = "<answer>") -> Answer:
    for k in data:
        if k not in ANSWER_KEYS:
            raise SpecError(source, k, f"unknown key{did_you_mean(k, ANSWER_KEYS)} (allowed: {', '.join(ANSWER_KEYS)})")

    def text(key, required=True):
        v = data.get(key)
        if v is None and not required:
            return None
        if not isinstance(v, str) or not v.strip():
            raise SpecError(source, key, f"missing or not a string; {_HINTS[key]}")
        return v

    def choice(key, options, default=None):
        v = data.get(key, default)
        if v is None:
            return None
        if v not in options:
            raise SpecError(source, key, f"unknown '{v}'{did_you_mean(str(v), options)} ({', '.join(options)})")
        return v

    drill = text("drill")
    bad = _bad_drill_name(drill)
    if bad:
        raise SpecError(source, "drill", f"{bad}; {_HINTS['drill']}")
    topology = choice("topology", TOPOLOGIES)
    if topology is None:
        raise SpecError(source, "topology", f"missing; {_HINTS['topology']}")
    merge = text("merge", required=False)
    resolver = data.get("resolver")
    if merge is None:
        resolver = choice("resolver", tuple(RESOLVERS))
        if resolver is None:
            raise SpecError(source, "resolver", f"missing; {_HINTS['resolver']}")
    elif resolver is not None:
        raise SpecError(source, "merge", "give either resolver or merge, not both; a merge function is the resolver")
    routing = choice("routing", ROUTINGS, "none")
    home_by = choice("home_by", HOME_BASES)
    homes = None
    if "homes" in data:
        if not isinstance(data["homes"], dict) or not all(isinstance(v, str) for v in data["homes"].values()):
            raise SpecError(source, "homes", 'must be a table of key prefix = leader, e.g. { "item:" = "us-east" }')
        homes = tuple(data["homes"].items())
    if routing == ROUTED and home_by is None and homes is None:
        raise SpecError(source, "home_by", "routing = \"home-leader\" needs home_by = \"user\", \"email\" or \"key\""
                                           " (or homes = { prefix = leader })")
    if routing == "none" and (home_by or homes):
        raise SpecError(source, "routing", "home_by / homes route writes to a home; set routing = \"home-leader\"")
    hub = text("hub", required=False)
    if hub and topology != "star":
        raise SpecError(source, "hub", f"only a star has a hub, not '{topology}'; remove the key")
    layout = choice("layout", LAYOUTS)
    faults = None
    if "faults" in data:
        if not isinstance(data["faults"], dict):
            raise SpecError(source, "faults", "must be a table, e.g. [faults] crashes = 1 (keys as in a spec's [faults])")
        faults = tuple((k, _frozen(v)) for k, v in data["faults"].items())
    defense = text("defense")
    return Answer(drill, topology, resolver or CUSTOM_MERGE.name, routing, home_by, homes, layout, hub, merge,
                  " ".join(defense.split()), source, faults)


_HINTS = {
    "drill": "name the drill, e.g. drill = \"inventory\" (replcheck drill list)",
    "topology": "pick all-to-all, ring or star",
    "resolver": "pick one, e.g. resolver = \"mv-register\" (replcheck list resolvers)",
    "defense": "say in a sentence why your design keeps the drill's invariants",
    "hub": "name the star's hub, e.g. hub = \"us-east\"",
    "merge": "name a function, e.g. merge = \"examples.merges:concat_titles\"",
}


# ----------------------------------------------------- answer -> spec (pure)
NotApplicable = variants.NotApplicable   # this combination cannot run the drill's workload (the reason says why)


def _longest(rules, key):
    best = None
    for prefix, leader in rules:
        if key.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, leader)
    return best[1] if best else None


def _changes(drill: Drill, answer: Answer) -> dict:
    """What ``answer`` changes in the drill's spec (:func:`model.variants.derive`),
    after the checks that concern the answer itself (see the module notes)."""
    src = answer.source
    if answer.layout and answer.layout not in drill.layouts:
        raise SpecError(src, "layout", f"drill {drill.name} has no table layouts to choose; remove the key"
                        if not drill.layouts else f"drill {drill.name} offers layouts {', '.join(drill.layouts)}")
    by_email = answer.layout == "by-email"
    hub = None
    if answer.topology == "star":
        hub = answer.hub or drill.spec.hub or drill.leaders[0]
        if hub not in drill.leaders:
            raise SpecError(src, "hub", f"unknown leader '{hub}'{did_you_mean(hub, drill.leaders)}"
                                        f" (leaders: {', '.join(drill.leaders)})")
    homes = None
    if answer.routing == ROUTED:
        rules = answer.homes if answer.homes is not None else drill.homes_for(answer.home_by)
        if rules is None:
            offered = ", ".join(b for b, _ in drill.homes) or "none"
            raise NotApplicable(src, "home_by", f"drill {drill.name} defines no homes by {answer.home_by}"
                                                f" (it offers: {offered}); name them with homes = {{ prefix = leader }}")
        homes = {}
        for k in variants.written_keys(drill.spec, rows_by_email=by_email):
            home = _longest(rules, k)
            if home is not None:
                if home not in drill.leaders:
                    raise SpecError(src, f"homes.{k}", f"unknown leader '{home}' (leaders: {', '.join(drill.leaders)})")
                homes[k] = home
        if not homes:
            raise NotApplicable(src, "home_by", f"no key of this workload has a home by {answer.home_by or 'your homes'}"
                                                " (a home belongs to a key: routing by email needs rows keyed by email)")
    return dict(invariants=drill.invariants, drop_expect=True, rows_by_email=by_email, topology=answer.topology,
                hub=hub, resolver=answer.resolver, retype_keys="written", merge=_merge_ref(answer), homes=homes,
                presets="drop")


def _merge_ref(answer: Answer) -> str | None:
    """The answer's ``merge``, a ``file.py:function`` path made absolute
    from the answer's folder (the composed spec lives beside the drill)."""
    ref = answer.merge
    if not ref or ".py:" not in ref:
        return ref
    file, _, fn = ref.rpartition(":")
    path = Path(file)
    if not path.is_absolute():
        path = Path(answer.source).parent / path
    return f"{path.resolve()}:{fn}"


def compose(drill: Drill, answer: Answer) -> dict:
    """The composed spec's source mapping (what a spec file for this answer
    would hold), to validate or write out independently; raises
    :class:`NotApplicable` when the combination cannot run."""
    return variants.source_data(drill.spec.variant(**_changes(drill, answer)))


def answer_spec(drill: Drill, answer: Answer, allow_python: bool = False) -> Spec:
    """The validated spec of ``drill`` under ``answer`` (pure; see the module
    notes); :class:`NotApplicable` when the model cannot run the combination."""
    changes = _changes(drill, answer)
    if answer.merge and not allow_python:
        raise SpecError(answer.source, "merge", "names a Python merge function, which runs code; pass"
                                                " --allow-python to run it")
    try:
        spec = drill.spec.variant(**changes)
    except NotApplicable as e:   # the answer's choice cannot run the drill: the answer is what is wrong
        raise NotApplicable(answer.source, e.key, f"{e.message} (drill {drill.name} under this answer)") from None
    if answer.faults:
        spec = _with_faults(spec, answer)
    if allow_python:
        from dataclasses import replace
        spec = replace(spec, allow_python=True)
    return spec


def _with_faults(spec: Spec, answer: Answer) -> Spec:
    """``spec`` with the answer's ``[faults]`` keys over the drill's own,
    validated as a spec's ``[faults]`` is — an error names the *answer*
    file and the key (``faults.crashable[0]: unknown leader ...``)."""
    from replcheck.model.spec import parse_spec
    data = variants.source_data(spec)
    data["faults"] = {**data.get("faults", {}), **{k: _thawed(v) for k, v in answer.faults}}
    try:
        return parse_spec(data, answer.source, invariant_names=INVARIANTS)
    except SpecError as e:
        if e.key.startswith("faults"):
            raise
        raise NotApplicable(answer.source, e.key, e.message) from None


# -------------------------------------------------------------------- cost
@dataclass(frozen=True)
class OpCost:
    op: str
    issued_at: str
    committed_at: str
    ms: int | None          # None: no latency for that pair in the spec
    how: str


def _latency(spec: Spec, a: str, b: str) -> int | None:
    ms = spec.link_latency(a, b)
    return ms if ms is not None else spec.link_latency(b, a)


def cost(spec: Spec, system: System) -> tuple[OpCost, ...]:
    """Per op, the commit latency its client sees: ``commit_ms`` for a local
    commit; ``there + commit_ms + back`` for a write routed to a home
    elsewhere (a synchronous round trip, DDIA ch. 5)."""
    out = []
    for op in system.ops:
        issuer, home = op.leader_name, system.leaders[op.origin]
        if issuer == home:
            out.append(OpCost(op.id, issuer, home, spec.commit_ms, f"local commit {spec.commit_ms} ms"))
            continue
        there, back = _latency(spec, issuer, home), _latency(spec, home, issuer)
        if there is None or back is None:
            out.append(OpCost(op.id, issuer, home, None, f"routed to {home} (no latency_ms for {issuer} <-> {home})"))
        else:
            out.append(OpCost(op.id, issuer, home, there + spec.commit_ms + back,
                              f"routed to {home}: {there} + {spec.commit_ms} + {back} ms"))
    return tuple(out)


def region_costs(costs) -> list[tuple[str, int | None, str]]:
    """``(region, worst ms, why)`` per region that issues ops, in order."""
    out: dict[str, tuple[int | None, str]] = {}
    for c in costs:
        cur = out.get(c.issued_at)
        if cur is None or (c.ms is None or (cur[0] is not None and c.ms > cur[0])):
            out[c.issued_at] = (c.ms, c.how)
    return [(r, ms, how) for r, (ms, how) in out.items()]


def rejections(system: System, limit: int = 200_000) -> dict[str, str]:
    """Ops a local check refuses: ``"always"`` (in every run) or
    ``"sometimes"``, explored over every reachable state (``{}`` when the
    workload has no check or the space exceeds ``limit``)."""
    if not any(getattr(t, "checks", None) or t.family == "table" or hasattr(t, "rights0") for t in system.types):
        return {}
    seen = {system.initial_state()}
    todo = list(seen)
    rejected = accepted = 0
    while todo:
        s = todo.pop()
        for i, meta in enumerate(st.writes(s)):
            if meta is not None:
                if is_rejected(meta):
                    rejected |= 1 << i
                else:
                    accepted |= 1 << i
        for _, t in system.successors(s):
            if t not in seen:
                if len(seen) >= limit:
                    return {}
                seen.add(t)
                todo.append(t)
    out = {}
    for op in system.ops:
        if (rejected >> op.index) & 1:
            out[op.id] = "sometimes" if (accepted >> op.index) & 1 else "always"
    return out


# ------------------------------------------------------------------- check
@dataclass(frozen=True)
class Outcome:
    """The verdict on one answer."""

    drill: Drill
    answer: Answer
    report: Report
    costs: tuple[OpCost, ...]
    rejected: dict
    finish: dict          # invariant -> final visible values after the violation, if replication runs on
    reasons: dict = field(default_factory=dict)   # rejected op -> why its local check refuses it

    @property
    def passed(self) -> bool:
        """Every required invariant holds, and none only vacuously (a drill
        answer never passes because nothing it guards happened:
        docs/model.md "Vacuity")."""
        return all(r.verdict == HOLDS and not r.vacuous for r in self.report.results)

    @property
    def vacuous(self) -> bool:
        """Every invariant holds, but some only vacuously."""
        return not self.passed and all(r.verdict == HOLDS for r in self.report.results)

    @property
    def incomplete(self) -> bool:
        return any(r.verdict == INCOMPLETE for r in self.report.results)


def _finish(system: System, path) -> str:
    """Run replication to the end after ``path`` (deliveries first, in link
    order; then the remaining commits) and show what every leader ends with."""
    _, state = build_trace(system, path)
    for _ in range(10_000):
        succ = system.successors(state)
        if not succ:
            break
        deliveries = [t for a, t in succ if a >= system.nops]
        state = deliveries[0] if deliveries else succ[0][1]
    parts = []
    for l, name in enumerate(system.leaders):
        vals = [system.show_visible(system.visible(state, l, k)) for k in range(len(system.keys))]
        parts.append(f"{name}: {vals[0]}" if len(vals) == 1 else
                     f"{name}: " + ", ".join(f"{key}={v}" for key, v in zip(system.keys, vals)))
    return " | ".join(parts)


def check_answer(drill: Drill, answer: Answer, allow_python: bool = False, explore_rejections: bool = True,
                 report: Report | None = None) -> Outcome:
    """Run ``drill`` under ``answer``: a verdict per required invariant,
    the cost, the ops a local check refuses, and — for an every-state
    violation — what the leaders end with if replication runs on.
    ``report``: the check of the answer's spec, made elsewhere (``--cluster``)."""
    spec = answer_spec(drill, answer, allow_python)
    report = check(spec) if report is None else report
    system = System(spec)   # the plain model the report's traces were replayed on
    finish = {}
    for r in report.results:
        if r.verdict == VIOLATED and INVARIANTS[r.invariant].scope == EVERY:
            finish[r.invariant] = _finish(system, r.path)
    rej = rejections(system) if explore_rejections else {}
    return Outcome(drill, answer, report, cost(spec, system), rej, finish,
                   {op: _reject_reason(system, op) for op in rej})


def _reject_reason(system: System, op: str) -> str:
    """Why the local check of ``op`` refuses it, in words for a trace."""
    i = system.op_index[op]
    why = getattr(system.types[system.ops[i].key], "reject_reason", None)
    return (why(i) if why else None) or "a local check refuses it"


def render_check(o: Outcome) -> str:
    a, d = o.answer, o.drill
    out = [f"drill {d.name}: {d.title}", f"  {d.question}", "",
           f"answer {a.source}", f"  {a.label}", f"  defense: {a.defense}", ""]
    width = max(len(r.invariant) for r in o.report.results)
    for r in o.report.results:
        if r.verdict == HOLDS and r.vacuous:
            out.append(f"  VACUOUS  {r.invariant:<{width}}  holds only because nothing it guards happened:"
                       f" {r.vacuous}")
            continue
        if r.verdict == HOLDS:
            out.append(f"  PASS  {r.invariant}")
            continue
        if r.verdict == INCOMPLETE:
            out.append(f"  ????  {r.invariant:<{width}}  not settled: the search was cut by {r.bound}")
            continue
        out.append(f"  FAIL  {r.invariant:<{width}}  {r.anomaly}")
        out.append(f"        {r.message}")
        out.append(f"        ({r.anomaly}: {meaning(r.anomaly)})")
        n = len(r.trace)
        out.append(f"        how it happens, {n} step{'s' if n != 1 else ''}:")
        for step in r.trace.steps:
            out.append(f"          {step.index}. {step.text}")
        if r.invariant in o.finish:
            out.append(f"        if replication then runs to the end: {o.finish[r.invariant]}")
    out.append("")
    spec = o.report.spec
    lat = ", ".join(f"{a_} -> {b}: {ms} ms" if a_ != "*" else f"{ms} ms between regions"
                    for a_, b, ms in spec.latency_ms) or "no latency_ms in the drill"
    out.append(f"  cost: commit latency a client sees ({lat}; local commit {spec.commit_ms} ms)")
    for region, ms, how in region_costs(o.costs):
        out.append(f"    {region:<10} {'?' if ms is None else str(ms) + ' ms':>7}  ({how})")
    for op, when in o.rejected.items():
        reason = o.reasons.get(op, "a local check refuses it")
        out.append(f"    {op} is rejected in {'every run' if when == 'always' else 'some runs'}: {reason}")
    out.append("")
    failed = [r.invariant for r in o.report.results if r.verdict == VIOLATED]
    if o.passed:
        out.append(f"  PASS: every required invariant holds ({', '.join(d.invariants)})")
    elif o.vacuous:
        empty = [r.invariant for r in o.report.results if r.vacuous]
        out.append(f"  VACUOUS: no PASS: {', '.join(empty)} hold{'s' if len(empty) == 1 else ''} only because"
                   " nothing they guard ever happened (every guarded op was rejected or never committed)")
    elif failed:
        out.append(f"  FAIL: {len(failed)} of {len(o.report.results)} required invariants violated"
                   f" ({', '.join(failed)})")
    else:
        out.append("  NOT SETTLED: a search bound cut the check before a verdict")
    return esc.terminal_lines(out)


def answer_files(folder) -> list[Path]:
    """The answer files of a folder to grade: its ``*.toml``, sorted by name (not its sub-folders)."""
    return sorted(p for p in Path(folder).glob("*.toml") if p.is_file())


def status(o: Outcome) -> str:
    """``pass``, ``vacuous``, ``fail`` or ``incomplete`` (as ``drill check --format json`` says)."""
    return ("pass" if o.passed else "vacuous" if o.vacuous
            else "fail" if any(r.verdict == VIOLATED for r in o.report.results) else "incomplete")


STATUS_WORDS = {"pass": "PASS", "fail": "FAIL", "vacuous": "VACUOUS", "incomplete": "NOT SETTLED"}


def render_grades(folder, outcomes) -> str:
    """``drill check FOLDER``: one line per answer after their reports, and the counts."""
    counts = {k: sum(1 for o in outcomes if status(o) == k) for k in STATUS_WORDS}
    width = max(len(Path(o.answer.source).name) for o in outcomes)
    out = [f"graded {len(outcomes)} answer{'s' if len(outcomes) != 1 else ''} in {folder}: "
           + ", ".join(f"{n} {STATUS_WORDS[k]}" for k, n in counts.items())]
    for o in outcomes:
        failed = [r.invariant for r in o.report.results if r.verdict == VIOLATED]
        out.append(f"  {STATUS_WORDS[status(o)]:<11}  {Path(o.answer.source).name:<{width}}  drill {o.drill.name}"
                   + (f"  ({', '.join(failed)})" if failed else ""))
    return esc.terminal_lines(out)


def render_list(drills) -> str:
    out = []
    for d in drills:
        extra = f"; layouts {', '.join(d.layouts)}" if d.layouts else ""
        homes = ", ".join(b for b, _ in d.homes) or "none"
        out.append(f"{d.name}: {d.title}")
        out.append(f"  {d.question}")
        out.append(f"  requires {', '.join(d.invariants)}; homes by {homes}{extra}  ({d.path})")
        out.append("")
    return esc.terminal_lines(out).rstrip()


# ------------------------------------------------------------------- solve
@dataclass(frozen=True)
class Cell:
    """One combination of the answer space: its answer and what happened."""

    answer: Answer
    verdict: str               # pass | fail | vacuous | n/a | incomplete | interrupted (Ctrl-C, SIGTERM)
    failed: tuple[str, ...] = ()
    reason: str = ""
    worst_ms: int | None = None


def answer_space(drill: Drill, topologies=None, resolvers=None, routings=None, faults=None):
    """Every answer the catalogue allows for ``drill``: fault budget x layout
    x routing x topology x resolver (routing: ``none`` plus ``home-leader``
    by each basis the drill defines homes for; ``faults``: the budgets to
    sweep, each a ``[faults]`` table as pairs, ``None`` for the drill's own)."""
    topologies = tuple(topologies or TOPOLOGIES)
    resolvers = tuple(resolvers or RESOLVERS)
    routes = [("none", None)] + [(ROUTED, b) for b, _ in drill.homes]
    if routings:
        routes = [r for r in routes if (r[0] if r[1] is None else f"{r[0]}:{r[1]}") in routings or r[0] in routings]
    for budget in (faults or (None,)):
        for layout in (drill.layouts or (None,)):
            for routing, basis in routes:
                for t in topologies:
                    for r in resolvers:
                        yield Answer(drill.name, t, r, routing, basis, None, layout, defense="(solve)",
                                     source=f"solve {drill.name}", faults=budget or None)


NOT_STARTED = "not checked: --total-seconds ran out first"

#: The width drill solve's tables wrap at (the resolver lists and n/a reasons).
WIDTH = 120


def solve(drill: Drill, topologies=None, resolvers=None, routings=None, progress=None,
          budget: Budget = Budget(), faults=None, mapper=None) -> list[Cell]:
    """Check ``drill`` under every answer of :func:`answer_space`;
    ``budget`` (``--total-seconds``) bounds them all together: each
    answer's time is clamped to what is left, and the answers not started
    once it is spent are ``incomplete`` (:data:`NOT_STARTED`).
    ``mapper`` (``--cluster``, replcheck.cluster.sweep): checks the
    answers' distinct specs elsewhere first — ``mapper([(spec, None), ...],
    budget, on_done)`` returns a Report or why none was made, in order."""
    for name, given, known in (("--topology", topologies, TOPOLOGIES), ("--resolver", resolvers, RESOLVERS)):
        for x in given or ():
            if x not in known:
                raise SpecError(str(drill.path), name, f"unknown '{x}'{did_you_mean(x, known)}")
    space = list(answer_space(drill, topologies, resolvers, routings, faults))
    cells = []
    memo: dict[Spec, Cell] = {}
    stopped = False
    checked = None
    if mapper is not None:
        checked, first = {}, []
        for ans in space:
            try:
                spec = answer_spec(drill, ans)
            except NotApplicable:
                continue
            if spec not in checked:
                checked[spec] = None
                first.append(ans)
        specs = list(checked)

        def on_done(i):
            if progress and i + 1 < len(specs):
                progress(i, len(specs), first[i + 1])
        for spec, rep in zip(specs, mapper([(s, None) for s in specs], budget, on_done)):
            checked[spec] = rep
    for n, ans in enumerate(space):
        if stopped:   # Ctrl-C / SIGTERM: the answers not reached are reported, not checked
            cells.append(Cell(ans, INTERRUPTED, reason="not checked: the run was interrupted"))
            continue
        if budget.spent:
            cells.append(Cell(ans, "incomplete", reason=NOT_STARTED))
            continue
        if progress:
            progress(n, len(space), ans)
        try:
            cell, stopped = _solve_one(drill, ans, memo, budget, checked)
        except KeyboardInterrupt:
            cell, stopped = Cell(ans, INTERRUPTED, reason="not checked: the run was interrupted"), True
        cells.append(cell)
    if progress and not stopped:
        progress(len(space), len(space), None)
    return cells


INTERRUPTED = "interrupted"


def _solve_one(drill: Drill, ans: Answer, memo: dict, budget: Budget = Budget(), checked=None) -> tuple[Cell, bool]:
    """The cell of one answer, and whether the run was stopped during it
    (``checked``: the reports a ``mapper`` made, by spec)."""
    try:
        spec = answer_spec(drill, ans)
    except NotApplicable as e:
        return Cell(ans, "n/a", reason=f"{e.key}: {e.message}"), False
    key = spec   # equal validated specs check alike
    if key in memo:   # the answer does not change the spec (e.g. no key takes the resolver)
        c = memo[key]
        return Cell(ans, c.verdict, c.failed, c.reason, c.worst_ms), False
    rep = check(budget.bound(spec)) if checked is None else checked[spec]
    if rep == TOTAL:
        return Cell(ans, "incomplete", reason=NOT_STARTED), False
    if isinstance(rep, str):
        return Cell(ans, INTERRUPTED, reason="not checked: the run was interrupted"), True
    stopped = rep.cut == "interrupted"
    failed = tuple(r.invariant for r in rep.results if r.verdict == VIOLATED)
    verdict = "fail" if failed else (INTERRUPTED if stopped else "incomplete") \
        if any(r.verdict == INCOMPLETE for r in rep.results) \
        else "vacuous" if any(r.vacuous for r in rep.results) else "pass"
    if verdict == "vacuous":
        failed = tuple(r.invariant for r in rep.results if r.vacuous)
    costs = [c.ms for c in cost(spec, System(spec))]
    worst = None if any(c is None for c in costs) else max(costs, default=0)
    cell = Cell(ans, verdict, failed, "", worst)
    if not stopped and not (verdict == "incomplete" and budget.deadline is not None):   # a clamped run is not the answer's
        memo[key] = cell
    return cell, stopped


def cell_text(c: Cell) -> str:
    if c.verdict == "pass":
        return f"PASS {c.worst_ms} ms" if c.worst_ms is not None else "PASS"
    if c.verdict == "fail":
        return "fail: " + ",".join(c.failed)
    if c.verdict == "vacuous":
        return "vacuous: " + ",".join(c.failed)
    return c.verdict


def render_solve(drill: Drill, cells: list[Cell]) -> str:
    """One table per layout x routing: a row per distinct outcome across
    topologies, naming every resolver that gives it; a passing cell shows
    the worst commit latency a client sees."""
    out = [f"drill {drill.name}: {drill.title}", f"  requires {', '.join(drill.invariants)}",
           "  PASS cells show the worst commit latency any client sees", ""]
    blocks: dict = {}
    for c in cells:
        a = c.answer
        blocks.setdefault((a.faults, a.layout, a.routing, a.home_by), []).append(c)
    swept = len({k[0] for k in blocks}) > 1
    for (fl, layout, routing, basis), group in blocks.items():
        title = ((f"faults {faults_label(fl)}, " if swept or fl else "") + ("rows " + layout + ", " if layout else "")
                 + (f"home-leader by {basis}" if basis else "no routing"))
        topologies = list(dict.fromkeys(c.answer.topology for c in group))
        rows: dict[str, dict[str, Cell]] = {}
        for c in group:
            rows.setdefault(c.answer.resolver, {})[c.answer.topology] = c
        same: dict[tuple, list[str]] = {}
        na: dict[str, list[str]] = {}
        for r, by_t in rows.items():
            if all(c.verdict == "n/a" for c in by_t.values()):
                na.setdefault(next(iter(by_t.values())).reason, []).append(r)
                continue
            same.setdefault(tuple(cell_text(by_t[t]) if t in by_t else "" for t in topologies), []).append(r)
        out.append(f"{title}:")
        table = [[*topologies, "resolvers"]] + [[*cells_, ", ".join(rs)] for cells_, rs in
                                                sorted(same.items(), key=lambda kv: [not x.startswith("PASS")
                                                                                     for x in kv[0]])]
        if len(table) > 1:
            widths = [max(len(row[i]) for row in table) for i in range(len(topologies))]
            for row in table:   # the resolvers column wraps under itself (issue 16: no 600-character rows)
                lead = "  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)) + "  "
                if WIDTH - len(lead) < 40:   # wide cells: the resolvers go under the row, indented
                    out.append(lead.rstrip())
                    out += textwrap.wrap(row[-1], WIDTH, initial_indent="      ", subsequent_indent="      ",
                                         break_on_hyphens=False)
                    continue
                lines = textwrap.wrap(row[-1], WIDTH - len(lead), break_on_hyphens=False) or [""]
                out.append(lead + lines[0])
                out += [" " * len(lead) + more for more in lines[1:]]
        for why, rs in na.items():
            out += textwrap.wrap(f"n/a {', '.join(rs)}: {why}", WIDTH, initial_indent="  ", subsequent_indent="      ",
                                 break_on_hyphens=False)
        out.append("")
    passing = [c for c in cells if c.verdict == "pass"]
    checked = [c for c in cells if c.verdict != "n/a"]
    stopped = sum(1 for c in cells if c.verdict == INTERRUPTED)
    late = sum(1 for c in cells if c.reason == NOT_STARTED)
    out.append(f"{len(passing)} of {len(checked)} applicable answers pass ({len(cells) - len(checked)} n/a)"
               + (f"; {stopped} not finished: the run was interrupted (Ctrl-C or SIGTERM)" if stopped else "")
               + (f"; {late} not started: --total-seconds ran out (incomplete)" if late else ""))
    return esc.terminal_lines(out)
