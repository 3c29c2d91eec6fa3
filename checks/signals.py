"""Ctrl-C and SIGTERM: one way to stop (issue 14).

Every command stops the same way on the first Ctrl-C (SIGINT) or SIGTERM:
the engine that is running ends with the cut ``interrupted``, the command
prints what was finished — the rest reported ``incomplete (interrupted)`` —
and exits 3 (README, "Exit codes").  :func:`installed` arranges it for the
duration of a command:

* SIGTERM raises :class:`KeyboardInterrupt`, as SIGINT does, so every
  ``except KeyboardInterrupt`` that turns a search into a partial result
  serves both;
* a signal that arrives while the main thread is inside C code that does
  not return to Python — a z3 ``check`` — would wait for that call to end:
  Python runs its handlers between bytecodes only.  So the signal is also
  written to a wake-up socket (:func:`signal.set_wakeup_fd`) that a small
  watcher thread reads; it calls every registered *interrupter*
  (:func:`interruptible`; z3's ``Context.interrupt``), the call returns,
  and the main thread goes on.  Inside z3 work (:func:`deferred`) the
  handlers only *record* the stop — a :class:`KeyboardInterrupt` raised at
  an arbitrary bytecode would surface inside z3's ``__del__`` methods as
  "Exception ignored ... Traceback" — and the code turns it into a
  :class:`KeyboardInterrupt` where it can (:func:`checkpoint`).  z3's own
  Ctrl-C handling (``ctrl_c``, which swallows the signal and lets the
  process go on) is switched off while this is installed.
"""

from __future__ import annotations

import signal
import socket
import threading
from contextlib import contextmanager

_interrupters: list = []
_active: list = []
_requested = [False]


def _record(signum, frame):
    _requested[0] = True


def _raise(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


_STOPPING = {int(signal.SIGINT), int(signal.SIGTERM)}


def _watch(sock) -> None:
    try:
        while True:
            try:
                data = sock.recv(64)
            except OSError:
                return
            if not data:
                return
            if _STOPPING.isdisjoint(data):
                continue
            _interrupt()
    finally:
        sock.close()


def _interrupt() -> None:
    for stop in list(_interrupters):
        try:
            stop()
        except Exception:  # noqa: BLE001 - a stale context: nothing left to stop
            pass


def active() -> bool:
    """Is :func:`installed` in force (the CLI is running a command)?"""
    return bool(_active)


@contextmanager
def installed():
    """For the body: SIGTERM stops as SIGINT does, and signals reach the
    interrupters of C calls.  A no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread() or _active:
        yield
        return
    prev_term = signal.getsignal(signal.SIGTERM)
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    try:
        prev_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except (ValueError, OSError):
        reader.close()
        writer.close()
        yield
        return
    signal.signal(signal.SIGTERM, _raise)
    threading.Thread(target=_watch, args=(reader,), name="replcheck-signals", daemon=True).start()
    _active.append(True)
    try:
        yield
    finally:
        _active.pop()
        signal.signal(signal.SIGTERM, prev_term)
        signal.set_wakeup_fd(prev_fd)
        try:
            writer.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        writer.close()   # the watcher reads the end of the stream, closes its side and ends


@contextmanager
def interruptible(stop):
    """Call ``stop()`` (from another thread) if a signal arrives during the
    body — for C calls that Python's handlers cannot reach."""
    _interrupters.append(stop)
    try:
        yield
    finally:
        _interrupters.remove(stop)


@contextmanager
def deferred():
    """For the body (z3 work): Ctrl-C and SIGTERM are recorded, not raised;
    :func:`checkpoint` raises them.  A stop still pending when the body ends
    normally is raised then.  A no-op unless :func:`installed` is in force."""
    if not _active or threading.current_thread() is not threading.main_thread():
        yield
        return
    prev = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s, h in prev.items():
        if h is not signal.SIG_IGN:
            signal.signal(s, _record)
    try:
        yield
    finally:
        for s, h in prev.items():
            signal.signal(s, h)
    checkpoint()


def requested() -> bool:
    """Has a stop been recorded and not yet raised?"""
    return _requested[0]


def checkpoint() -> None:
    """Raise :class:`KeyboardInterrupt` if a stop was recorded (once)."""
    if _requested[0]:
        _requested[0] = False
        raise KeyboardInterrupt
