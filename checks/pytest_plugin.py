"""pytest plugin: a team asserts its design's verdicts in its own test suite.

Registered as the ``pytest11`` entry point ``replcheck`` (pyproject.toml),
so installing replcheck is enough; ``-p no:replcheck`` switches it off.
docs/api.md "pytest" is the user's guide; in short:

* **What it collects.**  Nothing unless asked: a ``.toml`` file pytest
  visits becomes a test file only when it matches a pattern of the ini
  option ``replcheck_specs`` or of ``--replcheck-specs`` (fnmatch; a
  pattern with a ``/`` is matched against the path relative to the
  rootdir, one without against the file name), or when it is named on
  the command line — and only when it has an ``[expect]`` table, so a
  matched ``pyproject.toml`` is never a test.  replcheck's own suite sets
  no pattern, so its specs are never collected twice.
* **Items.**  One per ``[expect]`` entry, named after the invariant:
  ``design/cart.toml::no-lost-writes``.  The spec is checked once per
  file (its ``[check]`` invariants, its ``[bounds]``), and each item
  judges its entry with :func:`checks.expectations.judge`, the function
  ``replcheck check --expect`` uses.
* **Outcomes.**  Met: pass.  Missed: fail, with the ``--expect`` line
  (``no-lost-writes: expected holds, got violated:lost-update``) and the
  text report of that invariant with its counterexample.  ``incomplete``
  where a verdict is expected fails as *not settled* (a bound of the spec
  cut the search).  A spec with ``requires = ["python"]`` skips unless
  ``--replcheck-allow-python`` (or ini ``replcheck_allow_python = true``)
  allows its merge function to run.  A spec the loader refuses is a
  collection error of one line (file, key, fix).  Ctrl-C during a search
  stops the session, as it does pytest's own tests.
* **The fixture** ``replcheck_expect(path, overrides=())`` does the same
  for any spec — a bundled one (``specs/seed/alice-bob-lww.toml``) or a
  variant (``--set`` strings) — from a test function, and returns the
  :class:`~checks.verdict.Report`.

This module imports only the standard library and pytest at load time:
pytest loads it in every project where replcheck is installed.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import tomllib
from pathlib import Path

import pytest

ALLOW_PYTHON_HINT = "needs --replcheck-allow-python (requires = [\"python\"]: it runs a Python merge function)"
NOT_SETTLED_HINT = ("a bound cut the search before it decided: raise the spec's [bounds] (max_states, max_depth,"
                    " max_seconds) or expect \"incomplete\"")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("replcheck", "replcheck specs (docs/api.md, \"pytest\")")
    group.addoption("--replcheck-specs", action="append", default=[], metavar="PATTERN",
                    help="Collect .toml files matching PATTERN (with an [expect] table) as replcheck specs;"
                         " repeatable, added to the ini option replcheck_specs.")
    group.addoption("--replcheck-allow-python", action="store_true", default=None,
                    help="Run the merge functions of specs with requires = [\"python\"] (else they skip).")
    parser.addini("replcheck_specs", type="args", default=[],
                  help="Patterns of spec files to collect (fnmatch; with a '/' matched against the path relative"
                       " to the rootdir, else against the file name), e.g. design/*.toml")
    parser.addini("replcheck_allow_python", type="bool", default=False,
                  help="Run the merge functions of specs with requires = [\"python\"] (else they skip).")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "replcheck: a replcheck spec's [expect] entry (collected by the plugin)")


def allow_python(config) -> bool:
    """Whether specs that run a Python merge function may run it."""
    flag = config.getoption("replcheck_allow_python")
    return bool(config.getini("replcheck_allow_python") if flag is None else flag)


def _patterns(config) -> list[str]:
    return [*config.getini("replcheck_specs"), *config.getoption("replcheck_specs")]


def matches(path: Path, rootdir: Path, patterns) -> bool:
    """Does ``path`` match one of ``patterns``?  A pattern with a ``/`` is
    matched against the path relative to ``rootdir`` (``*`` crosses
    folders, as in :mod:`fnmatch`), one without against the file name."""
    try:
        rel = path.relative_to(rootdir).as_posix()
    except ValueError:
        rel = path.as_posix()
    return any(fnmatch.fnmatch(rel if "/" in p else path.name, p.removeprefix("./")) for p in patterns)


def has_expect(path: Path) -> bool:
    """A spec for the plugin: TOML with an ``[expect]`` table.  A file that
    cannot be read as TOML counts, so that the loader's one-line error
    reaches the user (they matched it)."""
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return True
    return "expect" in data


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".toml":
        return None
    session = parent.session
    named = session.isinitpath(file_path)
    if not named and not matches(file_path, Path(str(parent.config.rootpath)), _patterns(parent.config)):
        return None
    if not has_expect(file_path):
        return None
    return SpecFile.from_parent(parent, path=file_path)


def expect_lines(path: Path) -> dict[str, int]:
    """The 0-based line of each entry of the ``[expect]`` table (where a
    report points; 0 when a line cannot be told)."""
    import re
    out: dict[str, int] = {}
    inside = False
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        text = line.strip()
        if text.startswith("["):
            inside = re.fullmatch(r"\[\s*expect\s*\](\s*#.*)?", text) is not None
        elif inside and (m := re.match(r"""(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""", text)):
            out.setdefault(next(g for g in m.groups() if g is not None), i)
    return out


def _source(path: Path, config) -> str:
    """The spec's name in messages: relative to where pytest was started."""
    try:
        return os.path.relpath(path, config.invocation_params.dir)
    except ValueError:   # another drive
        return str(path)


class SpecFile(pytest.File):
    """A spec file: one :class:`ExpectationItem` per ``[expect]`` entry;
    the check runs once, when the first of them runs."""

    def collect(self):
        from replcheck.checks.verdict import load
        from replcheck.model.errors import ReplcheckError
        try:
            self.spec = load(_source(self.path, self.config))
        except ReplcheckError as e:
            raise self.CollectError(f"replcheck: {e}") from None
        if not self.spec.expect:
            raise self.CollectError(f"replcheck: {self.spec.source}: expect: no [expect] table; add the verdicts"
                                    " this spec must give")
        self._report = None
        skip = "python" in self.spec.requires and not allow_python(self.config)
        lines = expect_lines(self.path)
        for inv, exp in self.spec.expect:
            item = ExpectationItem.from_parent(self, name=inv)
            item.lineno = lines.get(inv, 0)
            item.add_marker("replcheck")
            if skip:   # reported at the spec, not inside this module
                item.add_marker(pytest.mark.skip(reason=ALLOW_PYTHON_HINT))
            yield item

    def report(self):
        """The spec's report (checked on first use; a refusal, such as a
        merge function the rules forbid, is raised again without rerunning)."""
        from replcheck.model.errors import ReplcheckError
        if isinstance(self._report, ReplcheckError):
            raise self._report
        if self._report is None:
            try:
                self._report = run_check(self.spec, allow_python(self.config))
            except ReplcheckError as e:
                self._report = e
                raise
        return self._report


def run_check(spec, allow: bool):
    """Check ``spec`` as ``check --expect`` does; skip one that needs
    Python unless ``allow``; a run stopped by Ctrl-C stops the session."""
    import dataclasses
    from replcheck.checks.verdict import check
    if "python" in spec.requires:
        if not allow:
            pytest.skip(ALLOW_PYTHON_HINT)
        spec = dataclasses.replace(spec, allow_python=True)
        from replcheck.model.resolvers.custom_merge import what_runs
        for line in what_runs(spec):
            print(f"replcheck: --replcheck-allow-python: running {line}", file=sys.stderr)
    report = check(spec)
    if report.cut == "interrupted":
        raise KeyboardInterrupt
    return report


def failure_text(report, missed) -> str:
    """What a failed expectation shows: a headline (``MISMATCH`` or ``not
    settled``), the ``--expect`` lines, and the text report of those
    invariants (their counterexamples; engine notes left out)."""
    import dataclasses
    from replcheck.checks import render_text
    from replcheck.checks.escape import terminal_lines
    source = report.spec.source
    settled = [j for j in missed if not j.unsettled]
    lines = []
    if settled:
        lines.append(f"MISMATCH {source}")
        lines += [f"  {j.line}" for j in settled]
    unsettled = [j for j in missed if j.unsettled]
    if unsettled:
        lines.append(f"not settled {source}")
        lines += [f"  {j.line}" for j in unsettled]
        lines.append(f"  ({NOT_SETTLED_HINT})")
    shown = {j.invariant for j in missed}
    results = tuple(r for r in report.results if r.invariant in shown)
    text = terminal_lines(lines)
    if results:
        text += "\n\n" + render_text.render(dataclasses.replace(report, results=results, reductions=()))
    return text


def _missed(report, invariants=None):
    from replcheck.checks.expectations import MET, judge
    return [j for j in judge(report) if j.status != MET and (invariants is None or j.invariant in invariants)]


class ExpectationItem(pytest.Item):
    """One ``[expect]`` entry of a spec: passes when the check gives that
    verdict (docs/spec-format.md)."""

    def runtest(self):
        report = self.parent.report()
        missed = _missed(report, {self.name})
        if missed:
            pytest.fail(failure_text(report, missed), pytrace=False)

    def repr_failure(self, excinfo, style=None):
        from replcheck.model.errors import ReplcheckError
        if isinstance(excinfo.value, ReplcheckError):   # e.g. a merge function refused: one line
            return f"replcheck: {excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        exp = dict(self.parent.spec.expect)[self.name]
        from replcheck.checks.expectations import expected_text
        return self.path, self.lineno, f"{self.parent.spec.source}::{self.name} expects {expected_text(exp)}"


@pytest.fixture
def replcheck_expect(request):
    """``replcheck_expect(path, overrides=())``: load the spec at ``path``
    (a bundled ``specs/...`` path too; ``overrides`` as ``--set``), check
    it, and fail the test unless every ``[expect]`` entry is met, with the
    same text as a collected spec; returns the report."""

    def expect(path, overrides=()):
        from replcheck.checks.verdict import load
        from replcheck.model.errors import ReplcheckError
        try:
            spec = load(path, overrides)
            if not spec.expect:
                pytest.fail(f"replcheck: {spec.source}: expect: no [expect] table; add the verdicts this spec must"
                            " give", pytrace=False)
            report = run_check(spec, allow_python(request.config))
        except ReplcheckError as e:
            pytest.fail(f"replcheck: {e}", pytrace=False)
        missed = _missed(report)
        if missed:
            pytest.fail(failure_text(report, missed), pytrace=False)
        return report

    return expect
