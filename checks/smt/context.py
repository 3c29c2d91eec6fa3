"""A private z3 context for each question.

z3's Python API builds every term in a module-global *main context* unless
told otherwise.  That context's internal state — hash-consed terms, the ids
of declared constants, cached simplifications — depends on every term the
process created before, and it changes which model the solver returns for
the same query.  So a counterexample (and, before the labels were fixed by
satisfiability alone, the anomaly label of ``check --engine smt``) depended
on which specs ran earlier in the process: ``check --expect --engine smt
DIR`` gave other answers than checking each file alone.

:func:`fresh` runs one question in a new :class:`z3.Context` installed as
the main context for its duration (every term built inside, including
Python literals z3 converts implicitly, lives there), then puts the
previous one back.  The same question then gets the same answer in any
process.  Terms must not leak out of the block: results are decoded into
plain Python values inside it.
"""

from __future__ import annotations

from contextlib import contextmanager

import z3
import z3.z3 as _z3


@contextmanager
def fresh():
    """Run the body with a new z3 main context (restored afterwards).

    Under the CLI (:mod:`checks.signals` installed) Ctrl-C and SIGTERM
    interrupt a running ``check`` through ``Context.interrupt`` and then
    raise :class:`KeyboardInterrupt` as soon as it returns; z3's own Ctrl-C
    handler, which would swallow the signal and let the command go on, is
    off (issue 14)."""
    from replcheck.checks import signals
    if signals.active():
        z3.set_param("ctrl_c", False)
    saved = _z3._main_ctx
    ctx = _z3._main_ctx = z3.Context()
    try:
        with signals.deferred(), signals.interruptible(ctx.interrupt):
            yield
    except z3.Z3Exception:
        signals.checkpoint()   # "canceled": the stop interrupted a z3 call; raise it as the stop
        raise
    finally:
        _z3._main_ctx = saved


def check(solver):
    """``solver.check()``; a stop (Ctrl-C, SIGTERM) recorded meanwhile is
    raised as :class:`KeyboardInterrupt` here (checks/signals.py)."""
    from replcheck.checks import signals
    try:
        r = solver.check()
    except z3.Z3Exception:
        signals.checkpoint()
        raise
    signals.checkpoint()
    return r


def remaining_ms(deadline: float | None) -> int | None:
    """What is left until ``deadline`` (a :func:`time.monotonic` value) in
    whole milliseconds, at least 1 — z3's ``timeout`` for the next call — or
    ``None`` without a deadline."""
    import time
    if deadline is None:
        return None
    return max(1, int((deadline - time.monotonic()) * 1000))
