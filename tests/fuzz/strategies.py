"""Hypothesis strategies over the mutation functions of
:mod:`tests.fuzz.mutate`: a bundled input (spec, drill, answer, query,
merge file) mutated at the TOML level or at the byte level.

Hypothesis drives a :class:`random.Random` (``st.randoms``), so an example
is reproducible from Hypothesis's own seed (``derandomize=True`` in CI)
and the mutation code stays plain functions of a ``Random``.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz import mutate as mu
from tests.fuzz.campaign import Doc, mutated
from tests.fuzz.oracle import ROOT

FOLDERS = {
    "spec": lambda: [p for p in (ROOT / "specs").rglob("*.toml") if "answers" not in p.parts],
    "drill": lambda: (ROOT / "specs" / "drills").glob("*.toml"),
    "answer": lambda: (ROOT / "specs" / "drills" / "answers").glob("*.toml"),
    "query": lambda: (ROOT / "queries" / "iconfluence").rglob("*.toml"),   # foreign-keys/ too
    "merge": lambda: (ROOT / "queries" / "merges").glob("*.toml"),
}


@lru_cache(maxsize=None)
def docs(kind: str) -> tuple[Doc, ...]:
    """The bundled files of one kind, parsed."""
    out = []
    for p in sorted(FOLDERS[kind]()):
        raw = Path(p).read_bytes()
        out.append(Doc(str(Path(p).relative_to(ROOT)), raw, tomllib.loads(raw.decode())))
    return tuple(out)


@st.composite
def mutated_files(draw, kind: str = "spec", byte_share: float = 0.22):
    """``(bytes, mutations, origin)``: one bundled file of ``kind``,
    mutated."""
    pool = docs(kind)
    doc = draw(st.sampled_from(pool))
    rng = draw(st.randoms(use_true_random=False))
    inp = mutated(rng, doc, pool, byte_share=byte_share)
    return inp.data, inp.mutations, inp.origin


@st.composite
def tree_mutations(draw, kind: str = "spec"):
    """``(tree, mutations)``: a bundled document mutated at the tree level
    (not serialised)."""
    doc = draw(st.sampled_from(docs(kind)))
    rng = draw(st.randoms(use_true_random=False))
    return mu.mutate_tree(rng, doc.tree, donors=[d.tree for d in docs(kind)])
