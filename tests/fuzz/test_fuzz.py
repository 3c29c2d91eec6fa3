"""Issue 14, the fuzzing campaign in CI: a bounded, fixed sample of the
campaign of ``bench/fuzz.py`` (docs/reliability.md) — mutated specs,
traces, drill answers, queries and merge files through every command, and
the targeted -o and bounds probes — each run as a subprocess with a time
and a memory limit and classified by :mod:`tests.fuzz.oracle`.

The sample is a fixed list of case indices of one campaign seed (cases
depend only on the seed and the index), run once per module on 2 threads
(each run is a subprocess).  What is asserted, and what is only reported:

* **asserted** (a regression fails CI): the classes main already
  guarantees — no traceback, no internal error (exit 4), no hang past the
  bounds, no out-of-memory, and the input files are safe (never changed;
  ``-o`` naming an input under any spelling, or into a missing folder,
  refused with exit 2; no temporary file left behind);
* **asserted since their fix** (:data:`FIXED`): wrong exit codes,
  injections and ``-o`` with a trailing slash, the classes that were open
  when the campaign landed;
* **reported** (``xfail(strict=False)``): Ctrl-C, which depends on timing
  on a loaded machine.  The test lists the runs of its class; it XPASSes
  when none is found (not a failure).

Besides, two in-process Hypothesis tests over the mutation strategies:
the mutations are deterministic and serialise, and the spec reader raises
nothing but a ``ReplcheckError`` (one line, exit 2) on a mutated spec.
"""

from __future__ import annotations

import concurrent.futures as cf
import random
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from replcheck.model.errors import ReplcheckError
from tests.fuzz import campaign, mutate, oracle
from tests.fuzz.strategies import docs, mutated_files, tree_mutations

pytestmark = pytest.mark.slow

SEED = 14
#: Cases per command (indices 0..k-1 of campaign SEED restricted to that command).
SAMPLE = {"check": 12, "replay": 7, "explain": 6, "matrix": 4, "topology": 6, "conform": 4, "smt skew": 10,
          "smt laws": 6, "smt iconfluence": 6, "drill list": 2, "drill check": 6, "drill solve": 3,
          "export promela": 5, "list": 2}
#: One forced probe of each kind (command, probe, index).
PROBES = [("smt skew", "big", 0), ("check", "big", 1), ("check", "sigint", 0), ("smt skew", "sigint", 5), ("check", "python", 0),
          ("check", "python", 1), ("topology", "o-input", 0), ("check", "o-alias", 1), ("check", "o-alias", 2), ("replay", "o-input", 0),
          ("smt iconfluence", "o-input", 0), ("smt laws", "o-input", 3), ("drill check", "o-input", 0),
          ("export promela", "o-missing", 0), ("matrix", "o-missing", 1), ("check", "o-bundled", 0),
          ("explain", "o-bundled", 0), ("check", "o-symlink", 0), ("check", "unbounded", 3),
          ("smt iconfluence", "unbounded", 1), ("explain", "unbounded", 2), ("check", "o-dir", 0)]
#: Cases chosen by what they are (the first index of the campaign that fits).
CHOSEN = [("topology", "o-missing", lambda c: c.output == "missing/"),          # a trailing slash
          ("export promela", "o-missing", lambda c: c.output == "missing/out.txt"),
          ("check", "python", lambda c: "--allow-python" not in c.argv)]
#: Unmutated runs of each command (the bundled input, no fuzzed options): the command's work is reached.
PLAIN = 2
PLAIN_ORIGIN = {"check": "specs/", "replay": "specs/", "explain": "specs/seed/", "matrix": "specs/seed/",
                "topology": "specs/", "conform": "conformance/pycrdt", "smt skew": "seed/skew",
                "export promela": "specs/seed/alice-bob"}
TRACE_SPECS = ["seed/alice-bob-lww", "seed/skew-wall", "faults/partition-forever"]

#: The classes main guarantees, and the open ones (kind, rule predicate, reason).
GUARANTEED = ["traceback", "internal", "hang", "oom"]
INPUT_SAFETY = {"input-changed", "temp-left", "o-input-not-refused", "o-alias-not-refused",
                "o-bundled-not-refused", "o-missing-not-refused", "o-missing-created", "code-without-allow-python"}


def _is_trailing_slash(record) -> bool:
    return any(f["rule"].startswith("o-trailing-slash") for f in record["findings"])


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """Every case of the sample, run: a list of records (case, result, findings)."""
    work = tmp_path_factory.mktemp("fuzz")
    corpus = campaign.load_corpus(work / "corpus", TRACE_SPECS)
    cases = [campaign.build_case(corpus, SEED, i, [cmd], probe="mutated", pglogical=False)
             for cmd, k in SAMPLE.items() for i in range(k)]
    cases += [campaign.build_case(corpus, SEED, i, [cmd], probe=probe, pglogical=False) for cmd, probe, i in PROBES]
    for cmd, probe, fits in CHOSEN:
        cases.append(next(c for i in range(200) for c in [campaign.build_case(
            corpus, SEED, i, [cmd], probe=probe, pglogical=False, plain=True)] if fits(c)))
    for cmd in SAMPLE:
        good = PLAIN_ORIGIN.get(cmd, "")
        plain = (c for i in range(1000, 1400) for c in [campaign.build_case(
            corpus, SEED, i, [cmd], probe="mutated", pglogical=False, plain=True)] if good in c.origin)
        cases += [next(plain) for _ in range(PLAIN)]

    def one(case):
        res = oracle.run(case, work)
        return {"case": case, "result": res, "findings": [f.as_dict() for f in oracle.classify(case, res)],
                "output": case.output}

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(2) as pool:
        records = list(pool.map(one, cases))
    for r in records:
        r["seconds"] = r["result"].seconds
    records.append({"case": None, "findings": [], "elapsed": time.monotonic() - t0})
    return records[:-1]


def _runs(sample, pred) -> list[str]:
    out = []
    for r in sample:
        for f in r["findings"]:
            if pred(f, r):
                out.append(f"{r['case'].id} [{f['kind']}/{f['rule']}] {r['case'].command_line()[:160]}\n"
                           f"    {f['detail'][:240]}")
                break
    return out


# ----------------------------------------------------------- asserted
def _sigint(r) -> bool:
    return r["case"].probe == "sigint"


@pytest.mark.parametrize("kind", GUARANTEED)
def test_no_run_has_a_guaranteed_class_finding(sample, kind):
    bad = _runs(sample, lambda f, r: f["kind"] == kind and not _sigint(r))
    assert not bad, f"{len(bad)} runs with a {kind} (README 'Exit codes'):\n" + "\n".join(bad)


def test_inputs_are_never_written_and_o_onto_an_input_is_refused(sample):
    bad = _runs(sample, lambda f, r: f["kind"] == "unsafe-file" and f["rule"] in INPUT_SAFETY
                and not _is_trailing_slash(r) and not _sigint(r))
    assert not bad, "unsafe file behaviour (docs/spec-format.md 'Errors', -o):\n" + "\n".join(bad)


def test_every_command_and_probe_ran_and_reached_past_validation(sample):
    """The sample is not all bad input: every command has runs that exit 0,
    1 or 3 (the engine ran), and every probe kind ran."""
    ran = {}
    for r in sample:
        ran.setdefault(r["case"].command, set()).add(r["result"].rc)
    assert set(ran) == set(campaign.COMMANDS)
    for command, codes in ran.items():
        assert codes & {0, 1, 3}, f"{command}: every sampled run exited {sorted(codes)}"
    assert {r["case"].probe for r in sample} >= {p for p, _ in campaign.PROBES} | {"mutated"}


def test_the_sample_is_bounded(sample):
    """No run of the sample needed its timeout: each ended on its own (a
    hang is a finding above).  The sample's total time is not asserted — a
    timing assertion fails on a loaded machine and proves nothing about
    replcheck (performance is measured in bench/, README "Standards"); the
    total is printed for the record (about 40 s of subprocess time on an
    idle 2-core machine)."""
    total = sum(r["seconds"] for r in sample)
    print(f"fuzz sample: {len(sample)} runs, {total:.0f} s of subprocess time")
    slow = [r for r in sample if r["result"].timed_out]
    assert not slow, "runs that needed their timeout: " + ", ".join(r["case"].id for r in slow)


# ----------------------------------------------------------- asserted since the fixes
#: Classes that were open when the campaign landed and are fixed since (docs/reliability.md).
FIXED = {
    "wrong-exit": "a line break from the input echoed into the one-line error; -o onto a folder refused by click"
                  " in 3 lines; replay: exit 0 for a trace whose invariant was not judged; --allow-python: a"
                  " merge's SystemExit ended the run with its code",
    "injection": "control characters, raw HTML, Markdown from the input reaching the outputs and stderr unescaped",
    "trailing-slash": "-o: a path ending in '/' that does not exist was written as a file",
}


@pytest.mark.parametrize("cls", list(FIXED))
def test_fixed_class_stays_fixed(sample, cls):
    if cls == "trailing-slash":
        bad = _runs(sample, lambda f, r: f["kind"] == "unsafe-file" and _is_trailing_slash(r))
    else:
        bad = _runs(sample, lambda f, r: f["kind"] == cls and not _sigint(r))
    assert not bad, f"{len(bad)} runs ({FIXED[cls]}):\n" + "\n".join(bad)


# ----------------------------------------------------------- reported
OPEN = {
    "signals": "issue 14 (signals: Ctrl-C must stop every command within seconds, exit 3; timing-dependent on a"
               " loaded machine, so reported, not asserted)",
}


@pytest.mark.parametrize("cls", list(OPEN))
def test_open_class_is_reported(sample, cls, request):
    request.applymarker(pytest.mark.xfail(strict=False, reason=OPEN[cls]))
    bad = _runs(sample, lambda f, r: _sigint(r))
    assert not bad, f"{len(bad)} runs ({OPEN[cls]}):\n" + "\n".join(bad)


# ------------------------------------------------- in-process, Hypothesis
FAST = settings(max_examples=60, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))


def test_mutations_are_deterministic():
    doc = docs("spec")[0]
    for seed in range(20):
        a = campaign.mutated(random.Random(seed), doc, docs("spec"))
        b = campaign.mutated(random.Random(seed), doc, docs("spec"))
        assert a.data == b.data and a.mutations == b.mutations


@FAST
@given(tree_mutations("spec"))
def test_tree_mutations_serialise_to_toml(tm):
    tree, done = tm
    data = mutate.dumps_toml(tree)
    assert isinstance(data, bytes) and done


@settings(max_examples=150, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(mutated_files("spec"))
def test_the_spec_reader_raises_only_bad_input(tmp_path_factory, mf):
    """load() (the reader and validator every spec command uses) turns any
    mutated spec into a Spec or a ReplcheckError — never another exception
    (which the CLI would report as an internal error, exit 4)."""
    from replcheck.checks.verdict import load
    data, done, origin = mf
    p = tmp_path_factory.mktemp("spec") / "spec.toml"
    p.write_bytes(data)
    try:
        load(p)
    except ReplcheckError:
        pass
    except RecursionError:
        pass                  # the CLI's guard turns it into one line, exit 2
