"""One semantics per resolver (issue 13, item 4).

Every resolver, preset and key type is declared once, in the catalogue
(``model/resolvers/__init__.py``, ``ResolverInfo``), together with what each
engine covers (``smt``, ``laws``, ``promela``, ``skew``).  These tests hold
the rest of the package to that:

(a) no module outside the catalogue dispatches on an entry's name (a quoted
    catalogue name in code), except the lines whitelisted below, each with
    its reason;
(b) each engine's coverage claim holds: an entry claiming ``smt`` is checked
    by the symbolic engine on a two-leader concurrent-write spec with the
    same verdicts as bfs, one not claiming it is refused with a SpecError;
    likewise for the Promela export and ``smt laws``;
(c) docs/resolvers.md's catalogue table is the catalogue's.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections import Counter
from pathlib import Path

import pytest

import replcheck
from replcheck.model.errors import SpecError
from replcheck.model.resolvers import CUSTOM_MERGE, LAWS_ONLY, RESOLVERS, TABLES, docs_table

ROOT = Path(__file__).resolve().parents[2]
NAMES = set(RESOLVERS) | set(TABLES) | {CUSTOM_MERGE.name} | set(LAWS_ONLY)

# (file, name) -> how many STRING tokens equal to the name that file may hold, and why.
ALLOWED = {
    # The spec format's default resolver (system.resolver defaults to lww): a default value, not dispatch.
    ("model/spec.py", "lww"): 1,
    # Function names of the expression language of merge/query files (max(a, b), union(s, t)), not resolvers.
    ("checks/smt/expr.py", "max"): 3,
    ("checks/smt/expr.py", "min"): 2,
    ("checks/smt/expr.py", "union"): 3,
    # Keys of a custom merge .toml file (min = ..., max = ...: the integer range of its states).
    ("checks/smt/laws.py", "min"): 3,
    ("checks/smt/laws.py", "max"): 3,
    # The drill answer format's routing mode "home-leader" (a word of the answer format, defined once
    # as drill.ROUTED), not a dispatch on a key's resolver.
    ("checks/drill.py", "home-leader"): 1,
}


def _name_strings() -> Counter:
    """``{(file, name): count}`` of STRING tokens that are exactly a
    catalogue name, in model/ and checks/ outside model/resolvers/.  A
    docstring or message is never exactly a name, so only code is counted."""
    hits: Counter = Counter()
    for top in ("model", "checks"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("model/resolvers/"):
                continue
            for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
                if tok.type != tokenize.STRING:
                    continue
                try:
                    value = ast.literal_eval(tok.string)
                except (ValueError, SyntaxError):
                    continue   # f-strings
                if value in NAMES:
                    hits[rel, value] += 1
    return hits


def test_no_dispatch_on_resolver_names_outside_the_catalogue():
    hits = _name_strings()
    extra = {k: n for k, n in hits.items() if n > ALLOWED.get(k, 0)}
    assert not extra, f"quoted catalogue names outside model/resolvers/ (read a ResolverInfo field instead): {extra}"
    stale = {k: n for k, n in ALLOWED.items() if hits.get(k, 0) < n}
    assert not stale, f"whitelist larger than needed (tighten it): {stale}"


def test_z3_is_imported_only_under_checks_smt():
    importers = set()
    for top in ("model", "checks", "replcheck"):
        for path in (ROOT / top).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if any(m == "z3" or m.startswith("z3.") for m in mods):
                    importers.add(path.relative_to(ROOT).as_posix())
    assert importers and all(p.startswith("checks/smt/") for p in importers), importers


# ------------------------------------------------------------ (b) coverage claims
def _spec_text(name: str) -> str:
    """Two leaders, one concurrent write each, under catalogue entry ``name``."""
    info = {**RESOLVERS, **TABLES}[name]
    if info.family == "register":
        head, op = f'[system]\nleaders = ["a", "b"]\nresolver = "{name}"\n', ('set = "1"', 'set = "2"')
    else:
        head = f'[system]\nleaders = ["a", "b"]\n\n[keys."k"]\ntype = "{name}"\n'
        op = {"counter": ("incr = 1", "incr = 1"), "set": ('add = "x"', 'add = "y"'),
              "table": ('insert = "e@x"', 'insert = "e@x"')}[info.family]
    ops = "".join(f'\n[[workload]]\nid = "w{i}"\nleader = "{l}"\nkey = "k"\n{o}\n'
                  for i, (l, o) in enumerate(zip("ab", op)))
    return f'name = "two-writes-{name}"\n{head}{ops}'


ENTRIES = sorted(set(RESOLVERS) | set(TABLES))


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("two-writes")
    for n in ENTRIES:
        (d / f"{n}.toml").write_text(_spec_text(n), encoding="utf-8")
    return d


def _entry(name):
    return {**RESOLVERS, **TABLES}[name]


@pytest.mark.parametrize("name", ENTRIES)
def test_smt_coverage_claim_holds(name, spec_dir):
    spec = replcheck.load(spec_dir / f"{name}.toml")
    if _entry(name).smt is None:
        with pytest.raises(SpecError):
            replcheck.check(spec, engine="smt")
        return
    smt = replcheck.check(spec, engine="smt")
    bfs = replcheck.check(spec, engine="bfs")
    assert smt.complete and smt.verdicts == bfs.verdicts, (name, smt.verdicts, bfs.verdicts)


def test_smt_refuses_python_merges(spec_dir):
    """custom-merge claims no smt coverage: a spec with ``merge`` is refused
    before anything is imported or run."""
    from replcheck.checks.smt import bmc
    spec = replcheck.load(spec_dir / "lww.toml")
    assert CUSTOM_MERGE.smt is None and CUSTOM_MERGE.promela is None
    with pytest.raises(SpecError, match="Python merges"):
        bmc.covered(type("S", (), {"merge": "m:f", "source": spec.source})())


@pytest.mark.parametrize("name", ENTRIES)
def test_promela_coverage_claim_holds(name, spec_dir):
    from replcheck.checks.export_promela import export_promela
    spec = replcheck.load(spec_dir / f"{name}.toml")
    if _entry(name).promela is None:
        with pytest.raises(SpecError):
            export_promela(spec)
        return
    assert "proctype" in export_promela(spec)


@pytest.mark.parametrize("name", sorted(set(RESOLVERS) | set(TABLES) | set(LAWS_ONLY)))
def test_laws_coverage_claim_holds(name):
    """``smt laws NAME`` accepts exactly the names that declare ``laws``
    (building the encoding is cheap; the proofs are tests/checks/smt/test_trust_smt.py's)."""
    from replcheck.checks.smt import laws
    from replcheck.checks.smt.expr import QueryError
    declared = LAWS_ONLY.get(name) or _entry(name).laws
    if declared is None:
        with pytest.raises(QueryError):
            laws.encoding_for(name)
        return
    assert declared.shape in laws.SHAPES
    assert laws.encoding_for(name).name == name


def test_skew_claim_holds(spec_dir):
    """``smt skew`` reads ``system.resolver``: every register entry but the
    ones claiming ``skew`` is refused."""
    from replcheck.checks.smt import skew
    for name in ENTRIES:
        if _entry(name).skew or _entry(name).family != "register":
            continue
        spec = replcheck.load(spec_dir / f"{name}.toml")
        with pytest.raises(SpecError, match="smt skew needs lww"):
            skew._Encoding(spec, skew.Timing())


def test_every_smt_and_promela_kind_is_one_the_engines_know():
    from replcheck.model.resolvers import PROMELA_KINDS, SMT_KINDS
    for r in [*RESOLVERS.values(), *TABLES.values(), CUSTOM_MERGE]:
        assert r.smt is None or r.smt in SMT_KINDS, r.name
        assert r.promela is None or r.promela in PROMELA_KINDS, r.name
        assert r.engines()[0] == "explicit"


# ------------------------------------------------------------ (c) the docs table
def test_docs_table_is_the_catalogue():
    text = (ROOT / "docs" / "resolvers.md").read_text(encoding="utf-8")
    rows = [l for l in text.splitlines() if l.startswith("| `")]
    start = text.index("| resolver | family |")
    table = text[start:].split("\n\n")[0].strip().splitlines()
    listed = [l.split("`")[1] for l in table[2:]]
    assert listed == list(RESOLVERS), "docs/resolvers.md lists other entries than the catalogue"
    assert "\n".join(table) == docs_table(), \
        "docs/resolvers.md's catalogue table differs from model.resolvers.docs_table(); paste it in"
    assert rows
