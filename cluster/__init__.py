"""Beyond one machine: sweeps and exhaustive search on a Ray cluster (issue 15).

Ray (PyPI ``ray``) is an optional extra, ``pip install 'replcheck[cluster]'``;
nothing here imports it until ``--cluster`` is asked for, and the
single-process engine stays the default.

* :mod:`replcheck.cluster.sweep` runs a command's independent runs (``check``
  over several specs or ``--resolver all``, ``matrix``, ``drill solve``,
  ``drill check``) as Ray tasks and hands them back in the local order;
* :mod:`replcheck.cluster.bfs` is the distributed exhaustive search: a
  hash-partitioned, level-synchronous breadth-first search over Ray actors
  (the PReach design), on the same compiled model and reductions as the
  local engine.
* :mod:`replcheck.cluster.swarm` runs one ``--simulate`` swarm's chunks of
  run numbers as Ray tasks, merged as the local swarm merges them.

Both plug into :func:`checks.verdict.check` through its ``runner`` hook.

``--cluster local`` starts a Ray runtime of its own on this machine
(``ray.init(address="local", num_cpus=N)``, N = ``--workers`` or the machine's cores);
``--cluster HOST:PORT`` (or ``auto``) joins a cluster started with
``ray start --head`` (docs/scale-out.md).
"""

from __future__ import annotations

import copyreg
import os
import sys
from dataclasses import dataclass

from replcheck.model.errors import ReplcheckError
from replcheck.model.resolvers.local_checks import Checked

# A Checked type forwards unknown attributes to the type it wraps, so plain
# unpickling (which looks up __setstate__ before ``inner`` exists) recurses
# without end; rebuild it from its two fields instead.  Registered wherever
# this package is imported: the driver and every Ray worker that runs its code.
copyreg.pickle(Checked, lambda c: (Checked, (c.inner, c.checks)))

EXTRA = "pip install 'replcheck[cluster]'"


class ClusterError(ReplcheckError):
    """``--cluster`` cannot be used: Ray missing, or the address does not answer (exit 2)."""


def require_ray():
    """The ``ray`` module, or a :class:`ClusterError` naming the extra."""
    try:
        import ray
    except ImportError:
        raise ClusterError(f"--cluster: Ray is not installed; install the extra: {EXTRA}") from None
    return ray


@dataclass(frozen=True)
class Cluster:
    """Where to run: ``address`` is ``local`` or a Ray address; ``workers``
    the CPUs a local runtime gets (``None``: every core)."""

    address: str = "local"
    workers: int | None = None

    @property
    def local(self) -> bool:
        return self.address == "local"

    def cpus(self) -> int:
        """The CPUs work is spread over (tasks at once, BFS partitions)."""
        ray = self.start()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def start(self):
        """Start (``local``) or join the Ray runtime once per process; the ``ray`` module."""
        ray = require_ray()
        if ray.is_initialized():
            return ray
        import signal
        quiet = dict(log_to_driver=False, logging_level="ERROR", include_dashboard=False)
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        # ray.init makes SIGTERM exit at once (sys.exit); replcheck's own handlers
        # (checks/signals.py: a stop is a partial, honest result, exit 3) are put back.
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            if self.local:
                # address="local": always a new runtime of our own, never a `ray start` head that
                # happens to run on this machine (which a bare ray.init() would join)
                ray.init(address="local", num_cpus=self.workers or os.cpu_count() or 1, **quiet)
            else:
                _probe(self.address)
                with _stderr_held() as held:
                    ray.init(address=self.address, **quiet)
                held.release()   # joined: what Ray said is shown; a failure's retries are replaced by one line
        except ClusterError:
            raise
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - Ray raises ConnectionError, ValueError, RuntimeError...
            raise ClusterError(_join_error(self.address, e)) from None
        finally:
            for sig, h in handlers.items():
                if h is not None:
                    signal.signal(sig, h)
        return ray


class _stderr_held:
    """Hold what is written to file descriptor 2 (Ray's C++ core logs a
    warning per retry there, which ``logging_level`` does not reach) until
    :meth:`release`; dropped if it is never released."""

    def __enter__(self):
        import tempfile
        sys.stderr.flush()
        self.file = tempfile.TemporaryFile()
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        return False

    def release(self) -> None:
        self.file.seek(0)
        text = self.file.read().decode("utf-8", "replace")
        self.file.close()
        if text:
            sys.stderr.write(text)
            sys.stderr.flush()


def _join_error(address: str, e: BaseException) -> str:
    """The one line for a Ray head that could not be joined.  A head with
    token authentication (Ray's default since 2.5x when a token exists)
    refuses a driver that does not send it, and Ray never sends the token to
    an explicit address by itself: that is said, with the fix."""
    chain, seen = [], e
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(type(x).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(x) for x in chain):
        return (f"--cluster {address}: the Ray head wants its authentication token; set RAY_AUTH_MODE=token"
                " (the token in RAY_AUTH_TOKEN or ~/.ray/auth_token, as on the head)")
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return (f"--cluster {address}: cannot join a Ray cluster there ({first});"
            " start one with `ray start --head` or use --cluster local")


def get(ray, refs):
    """``ray.get`` that a stop (Ctrl-C, SIGTERM) interrupts promptly: it
    waits in short slices, so Python runs its signal handlers between them."""
    single = not isinstance(refs, list)
    pending = [refs] if single else list(refs)
    while pending:
        _, pending = ray.wait(pending, num_returns=len(pending), timeout=0.25)
    return ray.get(refs)


def _probe(address: str, timeout: float = 5.0) -> None:
    """A HOST:PORT that does not accept a connection is bad input now, not
    after Ray's own minutes of retries; ``auto`` and ``ray://`` are left to Ray."""
    import socket
    if address == "auto" or "://" in address:
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ClusterError(f"--cluster {address}: give local, auto or HOST:PORT of a Ray head (ray start --head)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise ClusterError(f"--cluster {address}: no Ray head answers there ({e.strerror or e});"
                           " start one with `ray start --head` or use --cluster local") from None


def parse(address: str | None, workers: int | None = None) -> Cluster | None:
    """The cluster of ``--cluster ADDRESS`` (``None``: run in this process)."""
    if address is None:
        return None
    address = address.strip()
    if not address:
        raise ClusterError("--cluster: give 'local' or the address of a Ray head (HOST:PORT, or auto)")
    require_ray()
    return Cluster(address, workers)
