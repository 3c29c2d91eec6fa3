"""The engines run without Python's cyclic garbage collector.

A search allocates millions of tuples (states, successor lists) and keeps
most of them in its visited set.  CPython's cyclic collector is triggered
by allocation counts, and each of its full collections walks every tracked
container the process holds — the whole visited set — again and again as
it grows.  Measured on this machine (``bench/specs/B1.toml`` under
``apply-remote``, 669,667 states): 16.5 s of CPU with the collector, 11.4 s
without it (−31%), with the same peak memory (390 vs 398 MB).

Search structures hold no reference cycles (states are nested tuples of
atoms, parent links are flat arrays), so pausing the collector frees
nothing late that reference counting would not free at once; a cycle made
elsewhere during the search (an exception's traceback, say) is collected
when the pause ends.  Memory stays bounded: the engines' ``max_memory``
watch (:mod:`model.memory`) reads the resident size, whatever holds it.
Python's own documentation on the collector: https://docs.python.org/3/library/gc.html
"""

from __future__ import annotations

import functools
import gc


def paused(engine):
    """Decorate an engine: the cyclic collector is off while it runs and
    restored to its former state after (a nested engine changes nothing)."""
    @functools.wraps(engine)
    def run(*args, **kwargs):
        was = gc.isenabled()
        gc.disable()
        try:
            return engine(*args, **kwargs)
        finally:
            if was:
                gc.enable()
    return run
