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

What ``--allow-python`` allows (issue 14): a plain Python function of
two values that the user wrote, nothing else.  :func:`load_function`
refuses, before running anything:

* a reference that is not ``MODULE:FUNCTION``; ``MODULE`` is either a
  ``.py`` file path (relative paths are read from the spec's folder), or a
  dotted module name found with the *current working directory* first on
  ``sys.path`` (as ``python -m`` does; run ``replcheck`` from the
  repository root to use ``examples/merges.py`` as ``examples.merges``);
* a module of the standard library or built into Python (``os:popen``,
  ``subprocess:run``, ``builtins:eval`` ...), or one that is not a ``.py``
  source file;
* a file that does not define ``FUNCTION`` with ``def`` at its top level
  taking exactly two positional parameters — read from the source (its
  syntax tree) *before* the module is imported, so naming a missing
  function never runs the module's code.

Then the CLI prints one line on stderr naming the function and the file
that will run (:func:`what_runs`; importing runs the module's top-level
code, and its packages'), and this imports the module and checks again that the object is a plain function
(``inspect.isfunction``) defined in that module (``__module__``) with two
positional parameters.  Each function is loaded (and announced) once per
process.

Metadata: the set of writes merged into the held value (ghost), to tell a
conflict from a plain update.  Values produced by the function are interned
on first sight, so states stay small ints.

no-lost-writes cannot judge a custom merge (what the function keeps is up
to it); checking it is an error — check ``convergence``.

Source: docs/model.md §4 (custom merge functions); Cosmos DB merge stored
procedures; CouchDB/PouchDB application-level conflict resolution.
"""

from __future__ import annotations

import contextlib
import os
import sys

from replcheck.model.errors import SpecError
from replcheck.model.resolvers.base import DataType, View
from replcheck.model.state import HB

SUMMARY = "custom merge: a Python function merge(local, remote) -> value, run on conflicts (needs --allow-python)"
SOURCE = "docs/model.md §4; Cosmos DB merge procedures; CouchDB application merges"


_LOADED: dict = {}


def _refuse(source, key, why):
    return SpecError(source, key, why)


def _locate(mod_ref: str, source: str, key: str):
    """The source file of ``mod_ref`` and the module name to load it under,
    found without importing anything."""
    from importlib.machinery import PathFinder
    from pathlib import Path
    if mod_ref.endswith(".py"):
        file = Path(mod_ref)
        if not file.is_absolute():
            file = Path(source).parent / file
        if not file.is_file():
            raise _refuse(source, key, f"no Python file '{file}' (a .py path is read from the spec's folder);"
                                       " name your merge file, e.g. merge = \"merges.py:my_merge\"")
        file = file.resolve()
        name = "replcheck_merge_" + "".join(c if c.isalnum() else "_" for c in file.stem)
        return file, f"{name}_{abs(hash(str(file))):x}", False
    parts = mod_ref.split(".")
    if not all(p.isidentifier() for p in parts):
        raise _refuse(source, key, f"'{mod_ref}' is neither a module name nor a .py file; write"
                                   " merge = \"package.module:function\" or \"file.py:function\"")
    if parts[0] in sys.stdlib_module_names or parts[0] in sys.builtin_module_names:
        raise _refuse(source, key, f"'{mod_ref}' is part of Python's standard library; --allow-python runs only a"
                                   " merge function you wrote, in your own module or .py file")
    path = [os.getcwd(), *sys.path]
    spec = None
    for i in range(len(parts)):
        # the bare name with the parent's folders as the path: a dotted name would make importlib
        # look its parent up in sys.modules (a namespace package such as tests/ is not imported)
        spec = PathFinder.find_spec(parts[i], path)
        if spec is None:
            break
        if i < len(parts) - 1:
            path = list(spec.submodule_search_locations or ())
            if not path:
                spec = None
                break
    if spec is None:
        raise _refuse(source, key, f"cannot find module '{mod_ref}'; run replcheck from the folder that holds"
                                   f" {parts[0]}/ (modules resolve against the current directory), or name a .py"
                                   " file relative to the spec")
    origin = spec.origin
    if not origin or not origin.endswith(".py"):
        raise _refuse(source, key, f"'{mod_ref}' is not a Python source file (.py); --allow-python runs only a"
                                   " merge function you wrote")
    return Path(origin), mod_ref, True


def _defined(file, fn_name: str, source: str, key: str, shown: str) -> None:
    """Refuse unless ``file`` defines ``fn_name`` with ``def`` at its top
    level, with exactly two positional parameters (read, not run)."""
    import ast
    try:
        tree = ast.parse(file.read_bytes(), str(file))
    except (OSError, SyntaxError, ValueError) as e:
        raise _refuse(source, key, f"cannot read {file} as Python ({type(e).__name__}); fix the file") from None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn_name]
    if not defs:
        raise _refuse(source, key, f"{shown} has no function '{fn_name}' defined at its top level (def {fn_name}"
                                   "(local, remote): ...); nothing was run")
    a = defs[-1].args
    if len(a.posonlyargs) + len(a.args) != 2 or a.vararg or a.kwarg or a.kwonlyargs:
        raise _refuse(source, key, f"{shown}: {fn_name} must take exactly two positional parameters (local,"
                                   " remote); nothing was run")


def what_runs(spec) -> list[str]:
    """What ``spec``'s merges will run, one line each (``the merge function
    F from FILE (KEY)``), every rule of the module notes checked first and
    nothing imported: the CLI prints these on stderr before the check runs
    them (the model never prints)."""
    refs = []
    if getattr(spec, "merge", None):
        refs.append((spec.merge, "system.merge"))
    refs += [(ks.merge, f"keys.{ks.name}.merge") for ks in getattr(spec, "keys", ()) if getattr(ks, "merge", None)]
    out = []
    for ref, key in refs:
        mod_ref, sep, fn_name = ref.rpartition(":")
        if not sep or not mod_ref or not fn_name.isidentifier():
            raise _refuse(spec.source, key, f"'{ref}' does not name a function; write merge ="
                                            " \"package.module:function\" or \"file.py:function\"")
        file, _, importable = _locate(mod_ref, spec.source, key)
        _defined(file, fn_name, spec.source, key, mod_ref if importable else str(file))
        out.append(f"the merge function {fn_name} from {file} ({key})")
    return list(dict.fromkeys(out))


def load_function(ref: str, source: str, key: str):
    """The merge function ``ref`` names (``module:function`` or
    ``file.py:function``), under the rules of the module notes
    (:func:`what_runs` says beforehand what this will run)."""
    import importlib.util
    import inspect
    mod_ref, sep, fn_name = ref.rpartition(":")
    if not sep or not mod_ref or not fn_name.isidentifier():
        raise _refuse(source, key, f"'{ref}' does not name a function; write merge = \"package.module:function\""
                                   " or \"file.py:function\"")
    file, mod_name, importable = _locate(mod_ref, source, key)
    cached = _LOADED.get((str(file), fn_name))
    if cached is not None:
        return cached
    shown = mod_ref if importable else str(file)
    _defined(file, fn_name, source, key, shown)
    cwd = os.getcwd()
    added = importable and cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        with _no_hard_exit():
            if importable:
                module = importlib.import_module(mod_name)
            else:
                spec = importlib.util.spec_from_file_location(mod_name, file)
                module = importlib.util.module_from_spec(spec)
                sys.modules[mod_name] = module
                spec.loader.exec_module(module)
    except ImportError as e:
        raise _refuse(source, key, f"cannot import '{mod_ref}' ({e}); run replcheck from the folder that"
                                   f" holds {mod_ref.split('.')[0]}/ (modules resolve against the current"
                                   " directory)") from None
    except (Exception, SystemExit) as e:  # noqa: BLE001 - the user's module failed while loading: report
        raise _refuse(source, key, f"importing {shown} raised {type(e).__name__}: {e}; fix the module") from None
    finally:
        if added:
            sys.path.remove(cwd)
    fn = getattr(module, fn_name, None)
    if not (inspect.isfunction(fn) and fn.__module__ == module.__name__):
        raise _refuse(source, key, f"{shown}:{fn_name} is not a plain Python function defined in {shown}; name a"
                                   " function merge(local, remote) written there")
    params = list(inspect.signature(fn).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(params) != 2 or any(p.kind not in positional for p in params):
        raise _refuse(source, key, f"{shown}:{fn_name} must take exactly two positional parameters (local, remote)")
    _LOADED[(str(file), fn_name)] = fn
    return fn


class HardExit(Exception):
    """The user's merge code called ``os._exit``: reported like any other
    failure of the function (one line, exit 2), not a silent end of the run."""


@contextlib.contextmanager
def _no_hard_exit():
    """While the user's code runs, ``os._exit`` raises :class:`HardExit`:
    ``os._exit`` ends the interpreter at once — no output, exit 0 in the
    fuzz campaign's case (docs/reliability.md) — and a merge function has no
    business ending replcheck.  What still ends the process (a signal it
    sends itself, a crash in C code) is beyond any guard in the same process."""
    real = os._exit

    def refused(code=0):
        raise HardExit(f"os._exit({code}) called")
    os._exit = refused
    try:
        yield
    finally:
        os._exit = real


class CustomMerge(DataType):
    needs_python = True
    holds_writes = False
    fails_over = True    # merge(local, remote) decides between writes of two homes as of any two leaders

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
            if m & 1 and (writes[x][HB] >> w) & 1:
                return content
            m >>= 1
            x += 1
        if local or not (mask & ~writes[w][HB]):
            return (self.intern(self._val(w)), mask | bit)
        local_v, remote_v = self.table[vid], self._val(w)
        try:
            with _no_hard_exit():
                out = self.fn(local_v, remote_v)
        except (Exception, SystemExit) as e:  # the user's code (sys.exit included): report, never a traceback
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
