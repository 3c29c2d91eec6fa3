"""Custom merge: a Python function ``merge(local, remote) -> value``.

Meaning: a spec names ``merge = "package.module:function"`` (for every
register key in ``[system]``, or for one key in ``[keys."k"]``).  When a
leader receives a write that has not seen everything the leader's value is
made of (a conflict by ghost happens-before), it calls
``function(local, remote)`` with the two values (``str``, or ``None`` for
absent/deleted) and keeps the result (``str`` or ``None``).  A write that
has seen everything the leader holds simply replaces it, as does a local
commit.  Whether the function converges is what the checker finds out: a
merge that is not commutative (``local + " | " + remote``) diverges.

Running code from a spec is opt-in: :func:`model.resolvers.compile.compile_types`
refuses unless the spec was loaded with ``allow_python`` (the CLI flag
``--allow-python``), and a spec that names a merge must declare
``requires = ["python"]``.

Module resolution: the module is imported with the *current working
directory* first on ``sys.path`` (as ``python -m`` does), then the usual
path; run ``replcheck`` from the repository root to use
``examples/merges.py`` as ``examples.merges``.

Metadata: the set of writes merged into the held value (ghost), to tell a
conflict from a plain update.  Values produced by the function are interned
on first sight, so states stay small ints.

no-lost-writes cannot judge a custom merge (what the function keeps is up
to it); checking it is an error — check ``convergence``.

Source: docs/model.md §4 (custom merge functions); Cosmos DB merge stored
procedures; CouchDB/PouchDB application-level conflict resolution.
"""

from __future__ import annotations

import importlib
import os
import sys

from replcheck.model.errors import SpecError
from replcheck.model.resolvers.base import DataType, View

SUMMARY = "custom merge: a Python function merge(local, remote) -> value, run on conflicts (needs --allow-python)"
SOURCE = "docs/model.md §4; Cosmos DB merge procedures; CouchDB application merges"


def load_function(ref: str, source: str, key: str):
    """Import ``package.module:function`` (cwd first on the path)."""
    mod_name, _, fn_name = ref.partition(":")
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(mod_name)
    except ImportError as e:
        raise SpecError(source, key, f"cannot import '{mod_name}' ({e}); run replcheck from the folder that"
                                     f" holds {mod_name.split('.')[0]}/ (modules resolve against the current"
                                     " directory)") from None
    finally:
        if added:
            sys.path.remove(cwd)
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise SpecError(source, key, f"'{mod_name}' has no function '{fn_name}'; name a function"
                                     " merge(local, remote)")
    return fn


class CustomMerge(DataType):
    needs_python = True
    holds_writes = False

    def __init__(self, ctx, fn, ref, key):
        super().__init__(ctx)
        self.fn = fn
        self.ref = ref
        self.where = key
        self.table: list = []
        self.index: dict = {}

    def intern(self, value) -> int:
        i = self.index.get(value)
        if i is None:
            i = len(self.table)
            self.table.append(value)
            self.index[value] = i
        return i

    def _val(self, w):
        return self.ctx.values[self.ctx.static_vid[w]]

    def apply(self, content, w, writes, local):
        bit = 1 << w
        if not content:
            return (self.intern(self._val(w)), bit)
        vid, mask = content
        if mask & bit:
            return content
        m, x = mask, 0
        while m:   # already superseded by a write merged here that had seen it
            if m & 1 and (writes[x][1] >> w) & 1:
                return content
            m >>= 1
            x += 1
        if local or not (mask & ~writes[w][1]):
            return (self.intern(self._val(w)), mask | bit)
        local_v, remote_v = self.table[vid], self._val(w)
        try:
            out = self.fn(local_v, remote_v)
        except Exception as e:  # the user's code: report, never a traceback
            raise SpecError(self.ctx.spec.source, self.where,
                            f"the merge function {self.ref} raised {type(e).__name__}: {e}"
                            f" on ({local_v!r}, {remote_v!r}); fix the function") from None
        if out is not None and not isinstance(out, str):
            raise SpecError(self.ctx.spec.source, self.where,
                            f"the merge function {self.ref} returned {out!r}; return a str (or None for deleted)")
        return (self.intern(out), mask | bit)

    def visible(self, content, writes):
        if not content or self.table[content[0]] is None:
            return View((), "-")
        v = self.table[content[0]]
        return View((v,), f'"{v}"')

    def outcome(self, before, after, w, writes):
        if before == after:
            return "duplicate"
        if before and after[0] != self.intern(self._val(w)):
            return "merged"
        return "applied"

    def check_judgeable(self, source, invariant):
        if invariant == "no-lost-writes":
            raise SpecError(source, "check.invariants", f"no-lost-writes cannot judge key '{self.ctx.key_name}',"
                                                        f" merged by the Python function {self.ref} (what it keeps"
                                                        " is up to the function); check convergence only")

    def losses(self, system, state, k, live, reached):  # pragma: no cover - guarded by check_judgeable
        return []


def build(ctx):
    ks = ctx.keyspec
    if ks is not None and ks.merge:
        ref, key = ks.merge, f"keys.{ctx.key_name}.merge"
    else:
        ref, key = ctx.spec.merge, "system.merge"
    return CustomMerge(ctx, load_function(ref, ctx.spec.source, key), ref, key)
