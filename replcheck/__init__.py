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

from replcheck.checks.verdict import Options, Report, Result, Verdict, check, load  # noqa: E402
from replcheck.model.errors import ReplcheckError, SpecError, TraceError  # noqa: E402

__all__ = ["load", "check", "Options", "Report", "Result", "Verdict", "ReplcheckError", "SpecError", "TraceError"]
