"""A spec's ``[observed]`` table: what ``replcheck conform`` reported on a
real product when the spec was recorded (docs/conformance.md "Recorded
observations").  The tests re-run the spec on the target and compare:
the number of schedules, agreements, disagreements and the set of final
states the product showed.

```toml
[observed]
target = "pglogical"
product = "PostgreSQL 15.18 + pglogical 2.4.2"
recorded = "2026-12-06"
schedules = 3
agree = 3
disagree = 0
ends = ['n1: doc1.title = "B"; n2: doc1.title = "B"']
```
"""

from __future__ import annotations

from dataclasses import dataclass

from replcheck.model import variants
from replcheck.model.errors import SpecError

TARGET_NAMES = ("pglogical", "pycrdt")


@dataclass(frozen=True)
class Observed:
    target: str
    product: str
    recorded: str
    schedules: int
    agree: int
    disagree: int
    ends: tuple[str, ...]


def ends_of(conformance) -> list[str]:
    """The distinct final states the product showed, one line each."""
    from replcheck.checks.conform.render import _rows
    return sorted({"; ".join(f"{n}: {_rows(r)}" for n, r in o.observations[-1].observed.items())
                   for o in conformance.outcomes})


def observed_table(conformance, recorded: str) -> str:
    """The ``[observed]`` table recording ``conformance`` (TOML text)."""
    import json
    from replcheck.checks.conform.run import AGREE, DISAGREE
    c = conformance
    lines = [f"# What `replcheck conform --target {c.target}` observed (docs/conformance.md).", "[observed]",
             f'target = "{c.target}"', f"product = {json.dumps(c.product)}", f'recorded = "{recorded}"',
             f"schedules = {len(c.outcomes)}", f"agree = {c.count(AGREE)}", f"disagree = {c.count(DISAGREE)}",
             "ends = [" + ", ".join(json.dumps(e) for e in ends_of(c)) + "]"]
    return "\n".join(lines) + "\n"


def observed(spec) -> Observed | None:
    """The spec's ``[observed]`` table, validated; ``None`` when absent."""
    raw = variants.extra_table(spec, "observed")
    if raw is None:
        return None
    src = spec.source
    if not isinstance(raw, dict):
        raise SpecError(src, "observed", "must be a table (target, product, recorded, schedules, agree, disagree,"
                                         " ends)")
    allowed = {"target", "product", "recorded", "schedules", "agree", "disagree", "ends"}
    for k in raw:
        if k not in allowed:
            raise SpecError(src, f"observed.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for k in allowed:
        if k not in raw:
            raise SpecError(src, f"observed.{k}", "missing; run python bench/conformance_specs.py --observe to"
                                                  " record it")
    if raw["target"] not in TARGET_NAMES:
        raise SpecError(src, "observed.target", f"must be one of {', '.join(TARGET_NAMES)}")
    for k in ("product", "recorded"):
        if not isinstance(raw[k], str):
            raise SpecError(src, f"observed.{k}", "must be a string")
    for k in ("schedules", "agree", "disagree"):
        v = raw[k]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise SpecError(src, f"observed.{k}", f"must be a non-negative integer, got {v!r}")
    ends = raw["ends"]
    if not isinstance(ends, list) or not all(isinstance(e, str) for e in ends):
        raise SpecError(src, "observed.ends", "must be a list of strings (one per distinct final state)")
    return Observed(raw["target"], raw["product"], raw["recorded"], raw["schedules"], raw["agree"],
                    raw["disagree"], tuple(ends))
