"""Merge functions for python-exit.toml (docs/reliability.md, "Root causes
found"): a merge that raises SystemExit ends the whole run with its code —
exit 0 and nothing printed, or exit 1 ("violation") with no violation.

    replcheck check tests/fuzz/repro/python-exit.toml --allow-python              # exit 0, no output
    replcheck check tests/fuzz/repro/python-exit.toml --allow-python \
        --set 'system.merge="tests.fuzz.repro.python_exit:exit_one"'                # exit 1, no output
"""


def exit_zero(local, remote):
    raise SystemExit(0)


def exit_one(local, remote):
    raise SystemExit(1)


def hard_exit(local, remote):
    """os._exit(0): the interpreter ended at once, exit 0 and nothing printed
    (the 10,000-run campaign, cases s1-06826/07372/07781)."""
    import os
    os._exit(0)


def recurse(local, remote):
    """RecursionError: one line serially, but under --simulate --workers 2 the
    worker's SpecError did not unpickle and the pool died (exit 4, s1-07699)."""
    return recurse(local, remote)
