"""replcheck: model-check multi-leader (active-active) replication designs.

The public face (docs/api.md)::

    >>> import replcheck
    >>> report = replcheck.check(replcheck.load("specs/seed/alice-bob-lww.toml"))
    >>> report.verdicts["no-lost-writes"]
    <Verdict.VIOLATED: 'violated'>

``load`` reads and validates a spec file (``overrides`` as ``--set``);
``check`` explores it and returns a :class:`Report` of frozen results, one
:class:`Result` per invariant; :class:`Options` chooses reductions,
simulation and bounds behaviour; every bad input raises a
:class:`ReplcheckError` (:class:`SpecError` names the file, key and fix).
Everything else lives in the sub-packages ``replcheck.model`` (the model:
specs, transition system, engines) and ``replcheck.checks`` (invariants,
verdicts, rendering, the command line).
"""

from __future__ import annotations

from pathlib import Path as _Path

# In a source checkout the sub-packages are the repository's top-level
# folders model/, checks/, specs/ and queries/ (pyproject.toml maps them into
# this package for an installed wheel): look for them next to this folder.
_root = _Path(__file__).resolve().parent.parent
if (_root / "model" / "__init__.py").is_file() and not (_Path(__file__).parent / "model").exists():
    __path__.append(str(_root))  # noqa: F821 - the package's own search path

__all__ = ["load", "check", "Options", "Report", "Result", "Verdict", "ReplcheckError", "SpecError", "TraceError"]

_HOMES = {"load": "replcheck.checks.verdict", "check": "replcheck.checks.verdict",
          "Options": "replcheck.checks.verdict", "Report": "replcheck.checks.verdict",
          "Result": "replcheck.checks.verdict", "Verdict": "replcheck.checks.verdict",
          "ReplcheckError": "replcheck.model.errors", "SpecError": "replcheck.model.errors",
          "TraceError": "replcheck.model.errors"}


def __getattr__(name: str):
    """The public names, imported on first use (PEP 562): the console
    script imports ``replcheck.checks.entry`` through this package, and a
    Ctrl-C while the engine's modules load must reach the entry's handler
    (checks/entry.py), not interrupt this file."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'replcheck' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *__all__])
