"""The ``replcheck`` console script: the CLI, and Ctrl-C / SIGTERM while it
is still starting (importing takes a second) — one line, exit 3, never a
traceback (issue 14; once a command runs, :mod:`checks.signals` and
:class:`checks.cli._Guarded` take over)."""

import signal
import sys


def _raise(signum, frame):
    raise KeyboardInterrupt


def main():
    try:
        signal.signal(signal.SIGTERM, _raise)
        from replcheck.checks.cli import main as cli
    except KeyboardInterrupt:
        sys.stderr.write("replcheck: interrupted (Ctrl-C or SIGTERM) while starting; nothing was run\n")
        sys.exit(3)
    try:
        cli()
    finally:
        # The command is over (its output written, its exit code chosen): a Ctrl-C now would only
        # kill the interpreter while it shuts down (exit -2 instead of the verdict's code).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


if __name__ == "__main__":  # pragma: no cover
    main()
