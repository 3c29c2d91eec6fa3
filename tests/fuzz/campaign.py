"""The cases of the fuzzing campaign (docs/reliability.md): which command,
which mutated input, which options — one :class:`~tests.fuzz.oracle.Case`
per ``(seed, index)``, reproducibly.

:func:`build_case` is a pure function of the corpus, the seed, the index
and the enabled commands, so a failing case is re-made (and re-run) from
its id alone: ``python bench/fuzz.py --seed S --only I``.  Three quarters
of the cases are *mutated* inputs through one command with conservative
bounds (``--max-seconds 10 --max-states 200000``, or the same values
written into the spec's ``[bounds]`` for commands without bound options);
the rest are *targeted* probes:

``o-input``   ``-o`` naming the command's input (spec, trace, query, merge
              file, answer, the answer's drill) — must exit 2, input unchanged
``o-alias``   the same input under another spelling: ``./x``, ``d/../x``, a
              symlink, a hard link, a spec inside a checked folder
``o-bundled`` a bundled input (``specs/...`` resolved to the installed copy)
              and ``-o`` its absolute path
``o-missing`` ``-o`` into a folder that does not exist — exit 2, one line
``o-dir``     ``-o`` naming a folder — exit 2, one line
``o-symlink`` ``-o`` a symlink to another file, or a dangling one —
              recorded (docs/reliability.md says what happens)
``unbounded`` no bounds at all, under the subprocess timeout; a timeout is
              re-run with bounds: a hang only when the bounds do not stop it
"""

from __future__ import annotations

import dataclasses
import random
import tomllib
from pathlib import Path

from tests.fuzz import mutate as mu
from tests.fuzz.oracle import ROOT, Case, execute

BOUNDS = {"max_states": 200000, "max_seconds": 10}
# --max-seconds bounds one run (docs/engine.md "Bounds"); commands that make
# several runs (check over two specs or --resolver all, matrix, drill solve)
# are bounded as a whole only by --total-seconds (checks/budget.py), so the
# harness passes it too: without it, 36 resolvers x 10 s outlived the 40 s
# timeout and read as hangs (docs/reliability.md, the 10,000-run campaign).
TOTAL_BOUND = ["--total-seconds", "20"]
CLI_BOUNDS = ["--max-seconds", "10", "--max-states", "200000"] + TOTAL_BOUND
TIMEOUT = 40.0

#: Traces for replay: specs whose check finds a violation (their JSON report is the trace file).
TRACE_SPECS = ["seed/alice-bob-lww", "seed/skew-wall", "seed/alice-bob-lww-ring", "seed/ring-no-loop-prevention",
               "resolvers/dynamo-cart-union", "resolvers/keep-local", "faults/partition-forever",
               "faults/clock-jump", "drills/inventory", "resolvers/counter-lww-rmw", "faults/duplicating-link"]

HOSTILE_FILE_NAMES = ["sp<x-inj>ec.toml", "a\x1b[31mx-inj.toml", "x-inj%%.toml", "=x-inj.toml", "a b;x-inj.toml",
                      "\u00e9\u202ex-inj.toml", "a\nx-inj-nl.toml", "a|x-inj|.toml", "a`x-inj`.toml",
                      "a\"x-inj'.toml"]


@dataclasses.dataclass
class Doc:
    rel: str          # path under the repository, e.g. specs/seed/alice-bob-lww.toml
    raw: bytes
    tree: object


@dataclasses.dataclass
class Corpus:
    specs: list
    drills: list
    answers: list
    queries: list
    merges: list
    traces: list      # Doc of the trace JSON; .rel is the spec it came from

    def pool(self, name):
        return getattr(self, name)


def _load(paths) -> list[Doc]:
    docs = []
    for p in sorted(paths):
        raw = p.read_bytes()
        docs.append(Doc(str(p.relative_to(ROOT)), raw, tomllib.loads(raw.decode())))
    return docs


def load_corpus(workdir: Path, trace_specs=TRACE_SPECS) -> Corpus:
    """Every bundled spec, drill, answer, query and merge file, and a trace
    (``check --format json``) of each of ``trace_specs``, made in
    ``workdir``."""
    import json
    specs = [p for p in (ROOT / "specs").rglob("*.toml") if "answers" not in p.parts]
    traces = []
    workdir.mkdir(parents=True, exist_ok=True)
    for name in trace_specs:
        spec = ROOT / "specs" / f"{name}.toml"
        rc, out, err, _, _ = execute(["check", str(spec), "--format", "json"], workdir, 120)
        if rc == 1:
            traces.append(Doc(str(spec.relative_to(ROOT)), out, json.loads(out)))
    return Corpus(_load(specs), _load((ROOT / "specs" / "drills").glob("*.toml")),
                  _load((ROOT / "specs" / "drills" / "answers").glob("*.toml")),
                  _load((ROOT / "queries" / "iconfluence").rglob("*.toml")),
                  _load((ROOT / "queries" / "merges").glob("*.toml")), traces)


# ----------------------------------------------------------------- inputs
def force_bounds(tree) -> None:
    """Conservative bounds written into a spec tree (when it has room)."""
    if isinstance(tree, dict):
        b = tree.setdefault("bounds", {})
        if isinstance(b, dict):
            b.update(BOUNDS)


@dataclasses.dataclass
class Input:
    data: bytes            # what the run reads
    bounded: bytes         # the same mutation with conservative bounds (== data when it was written bounded)
    mutations: list
    origin: str


def mutated(rng: random.Random, doc: Doc, donors, kind="toml", p_mutate=1.0, bounds=False,
            p_bounds=0.9, byte_share=0.22) -> Input:
    """``doc`` mutated (with probability ``p_mutate``): the bytes to run,
    their bounded twin, and what was done."""
    dumps = mu.dumps_toml if kind == "toml" else mu.dumps_json
    if rng.random() >= p_mutate:
        t = mu.mutate_tree(rng, doc.tree, n=0)[0]
        if bounds:
            force_bounds(t)
        data = dumps(t) if bounds else doc.raw
        return Input(data, dumps(t) if bounds else doc.raw, ["(unmutated)"], doc.rel)
    if rng.random() < byte_share:
        data, done = mu.mutate_bytes(rng, doc.raw)
        return Input(data, data, done, doc.rel)
    family = mu.SEMANTIC if kind == "toml" and rng.random() < 0.4 else None
    t, done = mu.mutate_tree(rng, doc.tree, donors=[d.tree for d in donors], only=family)
    if rng.random() < 0.08:         # byte damage on top of a tree mutation
        data, more = mu.mutate_bytes(rng, dumps(t), 1)
        return Input(data, data, done + more, doc.rel)
    raw = dumps(t)
    if bounds:
        force_bounds(t)
        bounded = dumps(t)
        if rng.random() < p_bounds:
            return Input(bounded, bounded, done, doc.rel)
        return Input(raw, bounded, done + ["(spec bounds not forced)"], doc.rel)
    return Input(raw, raw, done, doc.rel)


def _file_name(rng, default):
    return rng.choice(HOSTILE_FILE_NAMES) if rng.random() < 0.06 else default


def _pick(rng, docs, prefer=()):
    good = [d for d in docs if any(p in d.rel for p in prefer)]
    return rng.choice(good if good and rng.random() < 0.7 else docs)


VIOLATION = {
    "check": r"\bVIOLATED\b|\"verdict\": \"violated\"|(?i:violated)|\"#meta\"",
    "replay": r"violation reproduced|\"outcome\": \"reproduced\"",
    "explain": r"(?i)violated",
    "matrix": r"(?i)violated",
    "conform": r"\b[1-9]\d* disagree|\"disagree\": [1-9]|model and .* disagree",
    "smt skew": r"POSSIBLE",
    "smt laws": r"COUNTEREXAMPLE",
    "smt iconfluence": r"NOT i-confluent",
    "drill check": r"(?m)\bFAIL\b|^\s*VACUOUS\b",   # a vacuous pass is a failure too (docs/drills)
    "drill solve": r"(?i)\bfail\b|vacuous",
    "export promela": "",
    "topology": "",
    "list": "",
    "drill list": "",
}

INVARIANTS = mu.CATALOGUE["invariant"]
RESOLVERS = mu.CATALOGUE["resolver"]
TOPOLOGIES = mu.CATALOGUE["topology"]


def _maybe(rng, p, *args):
    return list(args) if rng.random() < p else []


# ---------------------------------------------------------------- builders
# Each builder returns a Case for a "mutated" run; probes are derived from it.
def b_check(rng, c: Corpus, cid):
    doc = _pick(rng, c.specs)
    inp = mutated(rng, doc, c.specs)
    name = _file_name(rng, "spec.toml")
    fmt = rng.choices(["text", "json", "markdown", "html", "itf"], [35, 25, 15, 15, 10])[0]
    argv = ["check", name, "--format", fmt]
    files = {name: inp.data}
    inputs = [name]
    violation = VIOLATION["check"]
    if rng.random() < 0.05:                 # two specs at once
        other = rng.choice(c.specs)
        files["other.toml"] = other.raw
        argv.insert(2, "other.toml")
        inputs.append("other.toml")
    if rng.random() < 0.05:
        argv += ["--expect"]
        violation = r"MISMATCH"
        fmt = "text"
    argv += _maybe(rng, 0.15, "--invariant", mu.fuzz_name(rng, INVARIANTS))
    argv += _maybe(rng, 0.2, "--set", mu.fuzz_set(rng, doc.tree))
    argv += _maybe(rng, 0.05, "--resolver", rng.choice(["all", mu.fuzz_name(rng, RESOLVERS)]))
    r = rng.random()
    if r < 0.05:
        argv += ["--engine", "dfs"]
    elif r < 0.10:
        argv += ["--engine", "smt"]
    elif r < 0.15:
        argv += ["--simulate", "--runs", str(rng.choice([1, 20, 200]))] + _maybe(rng, 0.4, "--workers", "2")
    for flag in ("--fingerprint", "--no-por", "--stop-early", "--no-symmetry", "--no-dead-variables"):
        argv += _maybe(rng, 0.03, flag)
    if fmt in ("markdown", "html", "itf"):
        argv += _maybe(rng, 0.15, rng.choice(["--minimize", "--no-minimize"]))
    return Case(cid, "check", argv + CLI_BOUNDS, files, inputs, ["--set", "--invariant", "--resolver"], fmt,
                mutations=inp.mutations, origin=inp.origin, violation=violation,
                rerun_bounded=None)


def trace_mutation(rng, tree) -> tuple[object, list[str]]:
    """A trace (check --format json) changed where replay reads it: steps
    dropped, repeated, swapped or cut; an event's kind, op, leader or source
    set to another value of the same trace; the invariant renamed; the file
    reduced to a bare trace or to many reports."""
    import copy
    t = copy.deepcopy(tree)
    results = t.get("results", []) if isinstance(t, dict) else []
    withtrace = [r for r in results if isinstance(r, dict) and isinstance(r.get("trace"), dict)]
    if not withtrace:
        return t, []
    r = rng.choice(withtrace)
    steps = r["trace"].setdefault("steps", [])
    events = [s["event"] for s in steps if isinstance(s, dict) and isinstance(s.get("event"), dict)]
    what = rng.choice(["drop", "dup", "swap", "cut", "field", "field", "invariant", "bare", "reports", "empty",
                       "event-only"])
    if what == "drop" and steps:
        del steps[rng.randrange(len(steps))]
    elif what == "dup" and steps:
        i = rng.randrange(len(steps))
        steps.insert(i, copy.deepcopy(steps[i]))
    elif what == "swap" and len(steps) > 1:
        i = rng.randrange(len(steps) - 1)
        steps[i], steps[i + 1] = steps[i + 1], steps[i]
    elif what == "cut":
        del steps[rng.randrange(len(steps) + 1):]
    elif what == "field" and events:
        ev = rng.choice(events)
        field = rng.choice(["kind", "op", "leader", "src", "key", "value", "ts", "outcome"])
        pool = [e.get(field) for e in events if e.get(field) is not None] + [
            rng.choice(["commit", "deliver", "crash", "recover", "partition", "heal", "failover", "clock-jump"]),
            None, mu.payload(rng), 0, [], {}]
        ev[field] = rng.choice(pool)
    elif what == "invariant":
        r["invariant"] = mu.fuzz_name(rng, mu.CATALOGUE["invariant"])
    elif what == "bare":
        return r["trace"], ["bare trace {steps: ...}"]
    elif what == "reports":
        return {"reports": [t, copy.deepcopy(t)]}, ["two reports"]
    elif what == "empty":
        r["trace"]["steps"] = []
    elif what == "event-only":
        r["trace"]["steps"] = [s.get("event", s) if isinstance(s, dict) else s for s in steps]
    return t, [f"trace {what}"]


def b_replay(rng, c: Corpus, cid):
    tr = rng.choice(c.traces)
    spec_doc = next((d for d in c.specs if d.rel == tr.rel), c.specs[0])
    which = rng.random()
    if which < 0.3:             # the trace changed where replay reads it
        t, done = trace_mutation(rng, tr.tree)
        data = mu.dumps_json(t)
        trace = Input(data, data, done, tr.rel)
        spec = Input(spec_doc.raw, spec_doc.raw, [], spec_doc.rel)
    elif which < 0.55:          # the trace mutated, the spec as it was
        trace = mutated(rng, tr, c.traces, kind="json")
        spec = Input(spec_doc.raw, spec_doc.raw, [], spec_doc.rel)
    elif which < 0.85:          # the spec mutated, the trace as it was
        trace = Input(tr.raw, tr.raw, [], tr.rel)
        spec = mutated(rng, spec_doc, c.specs)
    else:                       # a trace against another spec (both maybe mutated)
        trace = mutated(rng, tr, c.traces, kind="json", p_mutate=0.5)
        spec = mutated(rng, rng.choice(c.specs), c.specs, p_mutate=0.5)
    fmt = rng.choice(["text", "json"])
    sname = _file_name(rng, "spec.toml")
    argv = ["replay", sname, "trace.json", "--format", fmt]
    if any("bare" in m for m in trace.mutations):
        argv += ["--invariant", rng.choice(INVARIANTS)]
    else:
        argv += _maybe(rng, 0.2, "--invariant", mu.fuzz_name(rng, INVARIANTS))
    argv += _maybe(rng, 0.1, "--set", mu.fuzz_set(rng, spec_doc.tree))
    return Case(cid, "replay", argv, {sname: spec.data, "trace.json": trace.data}, [sname, "trace.json"],
                ["--set", "--invariant"], fmt, mutations=[f"spec: {m}" for m in spec.mutations]
                + [f"trace: {m}" for m in trace.mutations], origin=f"{spec.origin} + trace of {tr.rel}",
                violation=VIOLATION["replay"])


def _spec_command(command, formats, extra):
    def build(rng, c: Corpus, cid):
        doc = _pick(rng, c.specs)
        inp = mutated(rng, doc, c.specs, bounds=True)
        name = _file_name(rng, "spec.toml")
        fmt = rng.choice(formats)
        argv = command.split() + [name] + (["--format", fmt] if len(formats) > 1 or fmt != "text" else [])
        argv += extra(rng, doc)
        case = Case(cid, command, argv, {name: inp.data}, [name], ["--set", "--invariant", "--resolver",
                                                                   "--topology"], fmt,
                    mutations=inp.mutations, origin=inp.origin, violation=VIOLATION[command])
        if inp.bounded != inp.data:
            case.files["bounded.toml"] = inp.bounded
            case.rerun_bounded = [("bounded.toml" if a == name else a) for a in argv]
            case.bounded = False
        return case
    return build


b_explain = _spec_command("explain", ["markdown", "html"], lambda rng, d: (
    _maybe(rng, 0.4, "--invariant", mu.fuzz_name(rng, INVARIANTS)) + _maybe(rng, 0.2, "--no-minimize")
    + _maybe(rng, 0.1, "--set", mu.fuzz_set(rng, d.tree))))
b_matrix = _spec_command("matrix", ["text", "markdown", "csv", "json"], lambda rng, d: (
    (["--resolver", rng.choice([",".join(rng.sample(RESOLVERS, rng.randint(1, 3))), mu.fuzz_name(rng, RESOLVERS)])]
     if rng.random() < 0.9 else [])
    + _maybe(rng, 0.3, "--topology", mu.fuzz_name(rng, TOPOLOGIES))
    + _maybe(rng, 0.2, "--invariant", mu.fuzz_name(rng, INVARIANTS)) + TOTAL_BOUND))
b_topology = _spec_command("topology", ["text", "json"], lambda rng, d: (
    _maybe(rng, 0.25, "--set", mu.fuzz_set(rng, d.tree))))
b_export = _spec_command("export promela", ["text"], lambda rng, d: (
    _maybe(rng, 0.2, "--invariant", mu.fuzz_name(rng, ["convergence", "no-lost-writes"]))
    + _maybe(rng, 0.15, "--set", mu.fuzz_set(rng, d.tree))))


def b_skew(rng, c: Corpus, cid):
    doc = _pick(rng, c.specs, prefer=("skew", "alice-bob-lww", "clock-jump", "lww"))
    inp = mutated(rng, doc, c.specs, bounds=True)
    name = _file_name(rng, "spec.toml")
    argv = ["smt", "skew", name]
    argv += _maybe(rng, 0.3, "--least-skew")
    argv += _maybe(rng, 0.2, "--max-skew", rng.choice(["0", "0.5", "1e9", "35", "1e-9", "100000000000"]))
    argv += _maybe(rng, 0.15, "--commit-ms", rng.choice(["0", "1e9", "0.001", "5"]))
    argv += _maybe(rng, 0.15, "--replication-ms", rng.choice(["0", "1e9", "0.001", "60"]))
    argv += _maybe(rng, 0.1, "--free-times")
    argv += _maybe(rng, 0.15, "--set", mu.fuzz_set(rng, doc.tree))
    return Case(cid, "smt skew", argv, {name: inp.data}, [name], ["--set"], "text", mutations=inp.mutations,
                origin=inp.origin, violation=VIOLATION["smt skew"])


def b_laws(rng, c: Corpus, cid):
    if rng.random() < 0.45:
        name = mu.fuzz_name(rng, RESOLVERS).replace("\x00", "")
        if name.endswith(".toml") or name.startswith("-"):
            name = "x" + name + "x"
        argv = ["smt", "laws", name] + _maybe(rng, 0.3, "--tie-break", rng.choice(mu.CATALOGUE["tie_break"]))
        return Case(cid, "smt laws", argv, {}, [], [name, "resolver", "RESOLVER"], "text",
                    mutations=[f"resolver name {name!r}"], origin="(command line)", violation=VIOLATION["smt laws"])
    doc = rng.choice(c.merges)
    inp = mutated(rng, doc, c.merges + c.queries)
    fname = _file_name(rng, "merge.toml")
    if not fname.endswith(".toml"):
        fname += ".toml"
    return Case(cid, "smt laws", ["smt", "laws", fname], {fname: inp.data}, [fname], [], "text",
                mutations=inp.mutations, origin=inp.origin, violation=VIOLATION["smt laws"])


def b_iconfluence(rng, c: Corpus, cid):
    doc = rng.choice(c.queries)
    inp = mutated(rng, doc, c.queries + c.merges)
    name = _file_name(rng, "query.toml")
    argv = ["smt", "iconfluence", name, "--timeout", "10"]
    case = Case(cid, "smt iconfluence", argv, {name: inp.data}, [name], [], "text", mutations=inp.mutations,
                origin=inp.origin, violation=VIOLATION["smt iconfluence"])
    return case


def _drill_folder(rng, c: Corpus, mutate_some=True, bounds=True):
    """Copies of the bundled drills in drills/, some mutated: (files, mutations, origin)."""
    files, done, origin = {}, [], []
    chosen = rng.sample(range(len(c.drills)), rng.choice([1, 1, 2])) if mutate_some else []
    for i, d in enumerate(c.drills):
        name = Path(d.rel).name
        if i in chosen:
            inp = mutated(rng, d, c.drills + c.specs, bounds=bounds)
            files[f"drills/{name}"] = inp.data
            done += [f"{name}: {m}" for m in inp.mutations]
            origin.append(d.rel)
        else:
            t = mu.mutate_tree(rng, d.tree, n=0)[0]
            if bounds:
                force_bounds(t)
            files[f"drills/{name}"] = mu.dumps_toml(t)
    return files, done, ", ".join(origin) or "specs/drills"


def b_drill_list(rng, c: Corpus, cid):
    files, done, origin = _drill_folder(rng, c)
    return Case(cid, "drill list", ["drill", "list", "--drills", "drills"], files, list(files), ["drills"], "text",
                mutations=done, origin=origin)


def b_drill_check(rng, c: Corpus, cid):
    ans = rng.choice(c.answers)
    mutate_answer = rng.random() < 0.8
    inp = mutated(rng, ans, c.answers) if mutate_answer else Input(ans.raw, ans.raw, [], ans.rel)
    drill_name = ans.tree.get("drill", "inventory")
    drill = next((d for d in c.drills if Path(d.rel).stem == drill_name), c.drills[0])
    dinp = mutated(rng, drill, c.drills + c.specs, bounds=True, p_mutate=0.15 if mutate_answer else 1.0)
    files = {"answer.toml": inp.data, f"{drill_name}.toml": dinp.data}
    argv = ["drill", "check", "answer.toml"] + _maybe(rng, 0.05, "--allow-python")
    if rng.random() < 0.1:
        argv += ["--drills", "."]
    return Case(cid, "drill check", argv, files, list(files), [], "text",
                mutations=[f"answer: {m}" for m in inp.mutations] + [f"drill: {m}" for m in dinp.mutations],
                origin=f"{ans.rel} + {drill.rel}", violation=VIOLATION["drill check"])


def b_drill_solve(rng, c: Corpus, cid):
    if rng.random() < 0.25:
        name = mu.fuzz_name(rng, [Path(d.rel).stem for d in c.drills]).replace("\x00", "")
        if name.startswith("-"):        # an option to click, not a name
            name = "x" + name
        files, done, origin = {}, [f"drill name {name!r}"], "(command line)"
        argv = ["drill", "solve", name]
    else:
        files, done, origin = _drill_folder(rng, c)
        pick = [Path(p).stem for p in files if any(Path(p).name in o for o in origin.split(", "))]
        name = rng.choice(pick or [Path(d.rel).stem for d in c.drills])
        argv = ["drill", "solve", name, "--drills", "drills"]
    if rng.random() < 0.85:
        argv += ["--resolver", rng.choice([",".join(rng.sample(RESOLVERS, rng.randint(1, 3))),
                                           mu.fuzz_name(rng, RESOLVERS)])]
    argv += _maybe(rng, 0.3, "--topology", mu.fuzz_name(rng, TOPOLOGIES))
    argv += _maybe(rng, 0.3, "--routing", mu.fuzz_name(rng, mu.CATALOGUE["routing"]))
    argv += TOTAL_BOUND
    return Case(cid, "drill solve", argv, files, list(files), [name, "drill", "drills", "--resolver", "--topology",
                                                                "--routing"], "text",
                mutations=done, origin=origin, violation=VIOLATION["drill solve"])


#: Share of conform cases on the pglogical target (each valid one starts PostgreSQL servers, ~6 s);
#: the CI sample sets it to 0 (build_case(..., pglogical=False)).
PGLOGICAL_SHARE = 0.25


def b_conform(rng, c: Corpus, cid, pglogical=True):
    pg = rng.random() < (PGLOGICAL_SHARE if pglogical else 0.0)
    target = "pglogical" if pg else "pycrdt"
    doc = _pick(rng, c.specs, prefer=(f"conformance/{target}",))
    inp = mutated(rng, doc, c.specs, bounds=True)
    name = _file_name(rng, "spec.toml")
    fmt = rng.choice(["text", "json", "markdown"])
    argv = ["conform", name, "--target", target, "--max-schedules", "4", "--format", fmt]
    argv += _maybe(rng, 0.2, "--runs", rng.choice(["1", "3"]), "--seed", "1")
    argv += _maybe(rng, 0.15, "--set", mu.fuzz_set(rng, doc.tree))
    if rng.random() < 0.05:
        argv += ["--dsn", rng.choice(["n1=host=/nonexistent dbname=x", "x-inj", "=", "n1="])]
    case = Case(cid, "conform", argv, {name: inp.data}, [name], ["--set", "--dsn", "--target"], fmt,
                mutations=inp.mutations, origin=inp.origin, violation=VIOLATION["conform"], timeout=90.0)
    return case


def b_list(rng, c: Corpus, cid):
    what = mu.fuzz_name(rng, ["resolvers", "topologies", "invariants", "clocks", "loop-prevention", "tie-breaks"])
    what = what.replace("\x00", "") or "resolvers"
    if what.startswith("-"):
        what = "x" + what
    return Case(cid, "list", ["list", what], {}, [], [what], "text", mutations=[f"list {what!r}"],
                origin="(command line)")


COMMANDS = {
    # name: (builder, weight, has -o, input roles for -o probes)
    "check": (b_check, 20, True),
    "replay": (b_replay, 10, True),
    "explain": (b_explain, 8, True),
    "matrix": (b_matrix, 6, True),
    "topology": (b_topology, 7, True),
    "conform": (b_conform, 5, True),
    "smt skew": (b_skew, 6, True),
    "smt laws": (b_laws, 6, True),
    "smt iconfluence": (b_iconfluence, 7, True),
    "drill list": (b_drill_list, 3, False),
    "drill check": (b_drill_check, 8, True),
    "drill solve": (b_drill_solve, 4, True),
    "export promela": (b_export, 6, True),
    "list": (b_list, 1, False),
}

PROBES = [("o-input", 30), ("o-alias", 15), ("o-bundled", 6), ("o-missing", 12), ("o-dir", 5), ("o-symlink", 10),
          ("unbounded", 22), ("big", 22), ("sigint", 10), ("python", 8)]
#: Probes only some commands can take; the others get an "unbounded" probe instead.
PROBE_COMMANDS = {"sigint": {"check", "explain", "matrix", "smt skew", "topology", "drill solve", "conform"},
                  "python": {"check", "drill check"}}
#: Commands whose first input is a spec (the "big" probe swaps it for a large valid spec).
SPEC_COMMANDS = {"check", "replay", "explain", "matrix", "topology", "conform", "smt skew", "export promela"}
TARGETED_SHARE = 0.25


def schedule(commands) -> list[str]:
    """A deterministic order of commands whose counts follow the weights
    (smooth weighted round robin), so any prefix is balanced."""
    weights = {k: COMMANDS[k][1] for k in commands}
    current = {k: 0 for k in commands}
    total = sum(weights.values())
    out = []
    for _ in range(total):
        for k in commands:
            current[k] += weights[k]
        best = max(commands, key=lambda k: current[k])
        current[best] -= total
        out.append(best)
    return out


def build_case(corpus: Corpus, seed: int, index: int, commands=None, probe: str | None = None,
               pglogical: bool = True, plain: bool = False) -> Case:
    """The case ``index`` of the campaign ``seed`` (deterministic): the
    command comes from the weighted schedule of ``commands``; ``probe``
    forces a targeted probe (``"mutated"``: none); ``pglogical=False``
    keeps conform on pycrdt (no PostgreSQL servers); ``plain=True`` runs
    the bundled input unmutated, without fuzzed options (for a probe that
    must reach the command's work)."""
    commands = list(commands or COMMANDS)
    order = schedule(commands)
    command = order[index % len(order)]
    rng = random.Random(f"replcheck-fuzz/{seed}/{index}")
    cid = f"s{seed}-{index:05d}-{command.replace(' ', '-')}" + (f"-{probe}" if probe else "")
    build = COMMANDS[command][0]
    case = build(rng, corpus, cid, pglogical) if build is b_conform else build(rng, corpus, cid)
    case.argv = [a.replace("\x00", "") for a in case.argv]
    if plain:
        _unmutate(case, corpus)
    targeted = rng.random() < TARGETED_SHARE
    if probe is None and COMMANDS[command][2] and targeted:
        probe = rng.choices([p for p, _ in PROBES], [w for _, w in PROBES])[0]
    if probe not in (None, "mutated"):
        case = _probe(rng, case, probe, corpus)
    elif case.fmt == "text" and rng.random() < 0.3:
        # on a terminal: click strips colour codes only when it writes to a pipe
        case.tty = True
        if command in ("check", "matrix", "drill solve", "conform"):
            case.argv.append("--no-progress")
        case.mutations = case.mutations + ["(stdout and stderr on a terminal)"]
    elif rng.random() < 0.08 and COMMANDS[command][2]:
        ext = {"json": "json", "itf": "json", "markdown": "md", "html": "html", "csv": "csv"}.get(case.fmt, "txt")
        case.output = f"out/report.{ext}"
        case.files["out/.keep"] = b""
        case.argv += ["-o", case.output]
    return case


def big_spec(rng: random.Random, bounds=True, command="check", target="") -> dict:
    """A large valid spec: up to 16 leaders, up to 120 ops over a few keys,
    any resolver/topology/clock, sometimes faults — the search must stop at
    the bounds (10 s, 200,000 states) however large the state space."""
    n = rng.choice([4, 8, 12, 16])
    leaders = [f"n{i}" for i in range(n)]
    m = rng.choice([6, 12, 30, 60])
    keys = [f"k{i}" for i in range(rng.choice([1, 2, 3]))]
    resolver = rng.choice(mu.CATALOGUE["resolver"][:8] + ["pn-counter", "or-set", "escrow", "cassandra"])
    kind = {"pn-counter": "incr", "or-set": "add", "escrow": "decr", "g-counter": "incr"}.get(resolver, "set")
    work = []
    for i in range(m):
        op = {"id": f"w{i}", "leader": rng.choice(leaders), "key": rng.choice(keys), kind: 1 if kind in (
            "incr", "decr") else f"v{i}"}
        if rng.random() < 0.2:
            op["time_ms"] = rng.randrange(0, 200)
        work.append(op)
    system = {"leaders": leaders, "resolver": resolver, "topology": rng.choice(["all-to-all", "ring", "star"]),
              "clock": rng.choice(["wall", "lamport", "hlc"]), "links": rng.choice(["fifo", "fifo", "unordered",
                                                                                     "duplicating", "lossy"])}
    if system["topology"] == "star":
        system["hub"] = leaders[0]
    spec = {"name": f"big-{n}x{m}", "system": system, "workload": work}
    if resolver == "escrow":
        spec["keys"] = {k: {"type": "escrow", "initial": m} for k in keys}
    if rng.random() < 0.3:
        spec["faults"] = {"crashes": 1, "recoveries": True} if rng.random() < 0.5 else {"partitions": 1,
                                                                                       "heals": True}
    if rng.random() < 0.5:
        spec["check"] = {"invariants": rng.sample(["convergence", "no-lost-writes", "strong-convergence",
                                                   "causal-order", "replication-terminates"], 2)}
    if command == "smt skew":
        system.update(resolver="lww", clock="wall")
    elif command == "export promela":
        system.update(resolver=rng.choice(["lww", "mv-register"]), links="fifo")
        spec.pop("faults", None)
        for op in work:
            op.pop("time_ms", None)
            if kind != "set":
                op.pop(kind)
                op["set"] = "v"
    elif command == "conform":
        system.update(resolver="yjs-map" if target == "pycrdt" else rng.choice(
            ["pglogical-last-update-wins", "pglogical-keep-local"]), links="fifo")
        spec.pop("faults", None)
        spec.pop("keys", None)
        for op in work:
            if kind != "set":
                op.pop(kind)
                op["set"] = "v"
    if bounds:
        spec["bounds"] = dict(BOUNDS)
    return spec


FUZZED_OPTIONS = ("--set", "--invariant", "--resolver", "--topology", "--routing", "--dsn")


def _plain_options(case: Case, resolver: str | None = None) -> None:
    """Drop the fuzzed option values (a probe tests one thing); matrix keeps
    one resolver row (the whole catalogue multiplies the bound by 35)."""
    argv, skip = [], False
    for a in case.argv:
        if skip:
            skip = False
            continue
        if a in FUZZED_OPTIONS:
            skip = True
            continue
        argv.append(a)
    if resolver and case.command in ("matrix", "drill solve"):
        argv += ["--resolver", resolver]
    case.argv = argv


def _big(rng, case: Case) -> Case:
    spec = next((i for i in case.inputs if i.endswith(".toml") and i in case.files), None)
    if spec is None:
        return case
    target = case.argv[case.argv.index("--target") + 1] if "--target" in case.argv else ""
    t = big_spec(rng, command=case.command, target=target)
    _plain_options(case, resolver=t["system"]["resolver"])
    case.files[spec] = mu.dumps_toml(t)
    case.files.pop("bounded.toml", None)
    case.rerun_bounded = None
    case.bounded = True
    case.mutations = [f"big spec: {t['name']}, {t['system']['resolver']}, {t['system']['topology']}, "
                      f"{t['system']['clock']}, {t['system']['links']} links, faults {t.get('faults')}"]
    case.origin = "(generated)"
    return case


PY_MODULE = b'''"""A hostile merge module for the python probe (tests/fuzz/campaign.py)."""
import pathlib
pathlib.Path("imported.marker").write_text("the module ran")


def raise_exit(local, remote):
    raise SystemExit(1)


def raise_exit0(local, remote):
    raise SystemExit(0)


def interrupt(local, remote):
    raise KeyboardInterrupt


def not_a_string(local, remote):
    return 42


def recurse(local, remote):
    return recurse(local, remote)


def hard_exit(local, remote):
    import os
    os._exit(0)


def boom(local, remote):
    raise ValueError("boom \x1b[31mred")


def fine(local, remote):
    return max(x for x in (local, remote) if x is not None) if local or remote else None
'''
PY_FUNCTIONS = ["raise_exit", "raise_exit0", "interrupt", "not_a_string", "recurse", "hard_exit", "boom", "fine",
                "missing_function"]


def _python(rng, case: Case) -> Case:
    """A spec (or answer) naming a merge function of a module in the run's
    folder that writes a marker file when imported; with or without
    --allow-python."""
    fn = rng.choice(PY_FUNCTIONS)
    case.files["fz_merge.py"] = PY_MODULE
    case.marker = "imported.marker"
    target = next((i for i in case.inputs if i.endswith(".toml") and i in case.files), None)
    if case.command == "check":
        _plain_options(case)
        t = {"name": "python-merge", "requires": ["python"] if rng.random() < 0.9 else [],
             "system": {"leaders": ["a", "b"], "merge": f"fz_merge:{fn}"}, "check": {"invariants": ["convergence"]},
             "workload": [{"id": "x", "leader": "a", "key": "k", "set": "A"},
                          {"id": "y", "leader": "b", "key": "k", "set": "B"}]}
        case.files[target] = mu.dumps_toml(t)
        case.argv = [a for a in case.argv if a != "--expect"]
    elif target == "answer.toml":
        import tomllib
        try:
            ans = tomllib.loads(case.files[target].decode())
        except (ValueError, UnicodeDecodeError, RecursionError):
            ans = {}
        ans = ans if isinstance(ans, dict) else {}
        ans = {**{k: v for k, v in ans.items() if k != "resolver"}, "merge": f"fz_merge:{fn}"}
        case.files[target] = mu.dumps_toml(ans)
    allow = rng.random() < 0.5
    case.argv = [a for a in case.argv if a != "--allow-python"] + (["--allow-python"] if allow else [])
    case.mutations = [f"python merge fz_merge:{fn}" + (" with --allow-python" if allow else " without the flag")]
    case.origin = "(generated)"
    return case


def _sigint(rng, case: Case) -> Case:
    """Ctrl-C (SIGINT to the process group) 1-3 s into a long run."""
    if case.command in SPEC_COMMANDS:
        case = _big(rng, case)
        if case.command == "matrix":       # several rows: Ctrl-C must stop the whole matrix, not one row
            i = case.argv.index("--resolver")
            case.argv[i + 1] += ",lww,max,first-writer-wins"
    elif case.command == "drill solve":   # the bundled drill, the whole catalogue
        case.argv = ["drill", "solve", rng.choice(["user-auth", "issue-tracker", "inventory"])]
        case.files, case.inputs = {}, []
    case.interrupt_after = rng.choice([1.0, 1.5, 2.0, 3.0])
    case.mutations = case.mutations + [f"Ctrl-C after {case.interrupt_after} s"]
    return case


def _unmutate(case: Case, corpus: Corpus) -> None:
    """The bundled originals back in place of the mutated inputs."""
    by_rel = {d.rel: d for pool in (corpus.specs, corpus.drills, corpus.answers, corpus.queries, corpus.merges)
              for d in pool}
    origins = [o.strip() for o in case.origin.replace(" + ", ", ").split(",")]
    for rel, o in zip([i for i in case.inputs if i in case.files], origins):
        doc = by_rel.get(o)
        if doc is not None and rel.endswith(".toml"):
            t = mu.mutate_tree(random.Random(0), doc.tree, n=0)[0]
            if case.command not in ("check", "smt laws", "smt iconfluence", "drill check") or rel.startswith("drills/"):
                force_bounds(t)
            case.files[rel] = mu.dumps_toml(t)
    if case.command == "smt laws" and not case.files:
        case.argv[2] = "lww"
    _plain_options(case)
    case.files.pop("bounded.toml", None)
    case.rerun_bounded, case.bounded = None, True
    case.mutations = ["(unmutated)"]


def _probe(rng, case: Case, probe: str, corpus: Corpus) -> Case:
    if probe in PROBE_COMMANDS and case.command not in PROBE_COMMANDS[probe]:
        probe = "unbounded"
    case.probe = probe
    if probe == "python":
        return _python(rng, case)
    if probe == "sigint":
        return _sigint(rng, case)
    files_in = [i for i in case.inputs if i in case.files]
    if probe == "big":
        if case.command not in SPEC_COMMANDS:
            probe = case.probe = "unbounded"
        else:
            return _big(rng, case)
    if probe == "unbounded":
        return _unbounded(case)
    if probe in ("o-input", "o-alias") and not files_in:
        probe = case.probe = "o-missing"
    if probe == "o-bundled":
        return _bundled(rng, case, corpus)
    if probe == "o-input":
        case.output = rng.choice(files_in)
    elif probe == "o-alias":
        target = rng.choice(files_in)
        style = rng.choice(["dot", "updir", "symlink", "hardlink", "folder"])
        if style == "folder" and case.command == "check":
            # check a folder holding the spec, -o the spec inside it
            data = case.files.pop(target)
            case.files["dir/spec.toml"] = data
            case.inputs = ["dir/spec.toml" if i == target else i for i in case.inputs]
            case.argv = ["dir" if a == target else a for a in case.argv]
            case.output = "dir/spec.toml"
        elif style == "dot" or style == "folder":
            case.output = "./" + target
        elif style == "updir":
            case.files["sub/.keep"] = b""
            case.output = "sub/../" + target
        elif style == "symlink":
            case.symlinks["link-to-input"] = target
            case.output = "link-to-input"
        else:
            case.hardlinks["hard-link-to-input"] = target
            case.output = "hard-link-to-input"
        case.mutations = case.mutations + [f"-o alias ({style}) of {target}"]
    elif probe == "o-missing":
        case.output = rng.choice(["missing/out.txt", "missing/deeper/out.md", "missing/"])
    elif probe == "o-dir":
        case.files["outdir/.keep"] = b""
        case.output = rng.choice(["outdir", "outdir/", "."])
    elif probe == "o-symlink":
        case.files["other.txt"] = b"another file, not an input\n"
        kind = rng.choice(["to-other", "dangling", "dangling-dir", "to-abs-outside"])
        target = {"to-other": "other.txt", "dangling": "not-there.txt", "dangling-dir": "no-dir/x.txt",
                  "to-abs-outside": "/nonexistent-replcheck-fuzz/x.txt"}[kind]
        case.symlinks["out-link.txt"] = target
        case.output = "out-link.txt"
        case.mutations = case.mutations + [f"-o symlink ({kind}) -> {target}"]
    case.argv = case.argv + ["-o", case.output]
    return case


def _unbounded(case: Case) -> Case:
    """The same run without bounds; a timeout is re-run with them."""
    bounded = list(case.argv)
    if case.command == "check":
        case.argv = [a for i, a in enumerate(case.argv) if a not in CLI_BOUNDS[::2]
                     and not (i and case.argv[i - 1] in CLI_BOUNDS[::2])]
    elif case.command == "smt iconfluence":
        i = case.argv.index("--timeout")
        case.argv = case.argv[:i] + case.argv[i + 2:]
    else:
        if TOTAL_BOUND[0] in case.argv:        # matrix, drill solve: the whole-command bound goes too
            i = case.argv.index(TOTAL_BOUND[0])
            case.argv = case.argv[:i] + case.argv[i + 2:]
        # spec-based: the spec as mutated, without the forced [bounds]
        for rel, data in list(case.files.items()):
            if rel.endswith(".toml") and rel != "bounded.toml":
                try:
                    t = tomllib.loads(data.decode())
                except (ValueError, UnicodeDecodeError, RecursionError):
                    continue
                if isinstance(t, dict) and isinstance(t.get("bounds"), dict) and t["bounds"] == {
                        **t["bounds"], **BOUNDS}:
                    case.files.setdefault("bounded.toml", data)
                    bounded = [("bounded.toml" if a == rel else a) for a in bounded]
                    for k in BOUNDS:
                        t["bounds"].pop(k, None)
                    if not t["bounds"]:
                        del t["bounds"]
                    case.files[rel] = mu.dumps_toml(t)
                break
    case.bounded = False
    case.rerun_bounded = bounded if bounded != case.argv else None
    return case


def _bundled(rng, case: Case, corpus: Corpus) -> Case:
    """Input named by its bundled path (resolved to the installed copy), -o
    its absolute path."""
    if case.command in ("smt iconfluence",):
        doc = rng.choice(corpus.queries)
    elif case.command == "smt laws":
        doc = rng.choice(corpus.merges)
    elif case.command in ("drill check", "drill solve"):
        case.probe = "o-input"
        target = next((i for i in case.inputs if i in case.files), None)
        if target is None:
            case.probe = "o-missing"
            case.output = "missing/out.txt"
        else:
            case.output = target
        case.argv = case.argv + ["-o", case.output]
        return case
    else:
        doc = rng.choice(corpus.specs)
    original = [i for i in case.inputs if i in case.files][:1]
    if original:
        pos = case.argv.index(original[0])
        case.files.pop(original[0], None)
        case.inputs = [i for i in case.inputs if i != original[0]]
        case.argv[pos] = doc.rel
    else:           # smt laws by resolver name: a merge file instead
        case.argv[2] = doc.rel
    case.output = str(ROOT / doc.rel)
    case.guard = [str(ROOT / doc.rel)]
    case.names = case.names + [doc.rel]
    case.mutations = [f"bundled {doc.rel}, -o its absolute path"]
    case.rerun_bounded = None
    case.argv = case.argv + ["-o", case.output]
    return case
