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
