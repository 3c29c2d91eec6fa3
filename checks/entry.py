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
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
