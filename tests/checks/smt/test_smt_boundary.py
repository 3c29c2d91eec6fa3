"""z3 stays behind one package boundary: checks/smt/ (STYLE.md, CrossHair's lesson)."""

import re

from tests.conftest import ROOT

IMPORT = re.compile(r"^\s*(import z3|from z3\b)", re.M)


def test_no_module_outside_checks_smt_imports_z3():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0].startswith(".") or rel.parts[0] in ("build", "dist") or rel.parts[:2] == ("checks", "smt"):
            continue
        if IMPORT.search(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(str(rel))
    assert offenders == []


def test_the_explicit_engine_does_not_load_z3():
    import subprocess
    import sys
    code = ("import sys; from replcheck.checks.verdict import check, load; "
            "check(load('specs/seed/alice-bob-lww.toml')); print('z3' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
