"""Assert verdicts from a test function with the plugin's replcheck_expect
fixture: a spec bundled with replcheck, and a variant of it (--set)."""


def test_the_seed_loses_alices_write(replcheck_expect):
    # Bundled with replcheck: found from any directory.  Fails unless every
    # entry of its [expect] table is met, as `replcheck check --expect` judges.
    report = replcheck_expect("specs/seed/alice-bob-lww.toml")
    lost = next(r for r in report.results if r.invariant == "no-lost-writes")
    assert lost.anomaly == "lost-update" and lost.shortest
    assert [s.event.op for s in lost.trace.steps][:2] == ["alice", "bob"]


def test_siblings_keep_both_edits(replcheck_expect):
    # A variant: the seed under a multi-value register, expected to keep both edits.
    replcheck_expect("specs/seed/alice-bob-lww.toml",
                     ["system.resolver=mv-register", "expect.no-lost-writes=holds"])
