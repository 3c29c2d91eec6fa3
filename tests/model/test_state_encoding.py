"""model/state.py is the one module that spells the state encoding (issue 13).

Two things are pinned here: the accessors agree with the encoding on real
reachable states (plain, faults with failovers, timed with latency), and no
module but model/state.py indexes a state (or a write entry) by
position (a regex over the source; what it matches that is not a state is
whitelisted below with the reason).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replcheck.model import System, load_spec
from replcheck.model import clocks
from replcheck.model import state as st
from tests.conftest import SPECS, reachable

ROOT = Path(__file__).resolve().parents[2]


def _reachable(system, limit=3000):
    return reachable(system, limit)


CASES = [
    "seed/alice-bob-lww.toml",
    "seed/ring-no-loop-prevention.toml",
    "faults/home-leader-failover.toml",
    "faults/crash-recover.toml",
    "regressions/real-time-latency-skew.toml",
    "regressions/drill-escrow-rights.toml",
]


@pytest.mark.parametrize("name", CASES)
def test_accessors_agree_with_the_encoding(name):
    system = System(load_spec(SPECS / name))
    states = _reachable(system)
    assert len(states) > 1
    for s in states:
        assert isinstance(s, tuple) and len(s) == (6 if system.timed else 5)
        leaders, links, writes, loop, faults = s[:5]
        assert st.leaders(s) is leaders and st.links(s) is links and st.writes(s) is writes
        assert st.loop(s) == loop and st.faults(s) is faults
        assert st.is_looped(s) == bool(loop)
        assert st.looped_write(s) == (loop - 1 if loop else None)
        assert st.is_timed(s) == system.timed
        if system.timed:
            assert st.now(s) == s[5]
            assert system.real_time(s) == (None if s[5] == clocks.REAL_NEVER else st.now(s))
        else:
            assert st.now(s) is None and system.real_time(s) is None
        assert st.in_flight(s) == any(links)
        for j, q in enumerate(links):
            assert st.link(s, j) is q
        for l in range(system.n):
            applied, past, clock, regs = leaders[l]
            assert st.leader(s, l) is leaders[l]
            assert (st.applied(s, l), st.past(s, l), st.clock(s, l), st.regs(s, l)) == (applied, past, clock, regs)
            assert len(regs) == len(system.keys)
            for k in range(len(system.keys)):
                assert st.content(s, l, k) == regs[k]
        for w in range(system.nops):
            m = writes[w]
            assert st.write(s, w) is m and st.is_committed(s, w) == (m is not None)
            if m is not None:
                assert st.ts(m) == m[0] and st.hb(m) == m[1]
                assert st.data(m) == (m[2] if len(m) > 2 else None)
        if faults:
            assert st.crashed(s) == faults[0] and st.cut(s) == faults[1] and st.homes(s) == faults[5]
            assert system.live(s) == tuple(l for l in range(system.n) if not (st.crashed(s) >> l) & 1)
        else:
            assert st.crashed(s) == 0 and st.cut(s) == 0 and st.homes(s) == ()


def test_the_cases_cover_faults_failovers_time_and_loops():
    systems = {n: System(load_spec(SPECS / n)) for n in CASES}
    assert any(s.timed for s in systems.values())
    reach = {n: _reachable(s) for n, s in systems.items()}
    assert any(st.faults(x) for xs in reach.values() for x in xs)
    assert any(st.homes(x) for x in reach["faults/home-leader-failover.toml"])
    assert any(st.is_looped(x) for x in reach["seed/ring-no-loop-prevention.toml"])
    assert any(st.is_timed(x) and st.now(x) != clocks.REAL_NEVER
               for x in reach["regressions/real-time-latency-skew.toml"])


# --------------------------------------------------- no positional indexing
# Patterns that index a state by position: ``state[2]``, ``state[:5]``,
# ``s[0][l]``, ``s2[2][w]``, ``x[0][l][3]`` (a leader's field through any
# name), and a bare ``s[2]`` (tests name states ``s``).
PATTERNS = [
    re.compile(r"\bstate\[-?\d*:?\d*\]"),
    re.compile(r"\b(?:s\d?|nxt|t|after|before)\[\d\]\["),
    re.compile(r"\w\[0\]\[\w+\]\[\d\]"),
    re.compile(r"\bs\d?\[\d\]"),
    # a write entry's fields (ts, hb, data, origin) by position: ``writes[w][0]``,
    # ``meta[2]``, ``entry[1]`` -- use ``state.TS/HB/DATA/ORIGIN`` or ``st.ts(...)``
    re.compile(r"\bwrites\[\w+\]\[\d\]"),
    re.compile(r"\b(?:meta|entry)\[\d\]"),
]

# The encoding's owners.
OWNERS = {"model/state.py"}

# Matches that are not states (path, substring of the line, why).
NOT_STATES = [
    ("model/search.py", "s[0]", "(action, next_state) pairs of successors(), not states"),
    ("checks/smt/laws.py", "s[", "z3 expressions of a data type's symbolic state, not replcheck states"),
    ("tests/reference.py", "state[", "the independent reference model's own state (meta, leaders), not System's"),
    ("tests/model/test_state_encoding.py", "", "this file spells the patterns and checks the accessors against them"),
]

# Modules where positional state indexing is still allowed, pinned so that
# it can only shrink (none left).
PENDING: dict = {}


def _hits():
    out = {}
    for base in ("model", "checks", "tests", "bench", "replcheck"):
        for path in sorted((ROOT / base).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in OWNERS or "/.venv/" in rel:
                continue
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if not any(p.search(code) for p in PATTERNS):
                    continue
                if any(rel == f and sub in code for f, sub, _ in NOT_STATES):
                    continue
                out.setdefault(rel, []).append(f"{i}: {line.strip()}")
    return out


def test_no_positional_state_indexing_outside_the_state_module():
    hits = _hits()
    pending = {f: h for f, h in hits.items() if f in PENDING}
    for f, h in pending.items():
        assert len(h) <= PENDING[f], (f, h)
    rest = {f: h for f, h in hits.items() if f not in PENDING}
    assert not rest, "positional state indexing outside model/state.py (use its accessors):\n" + "\n".join(
        f"{f}:{x}" for f, h in rest.items() for x in h)


def test_the_scan_sees_what_it_should():
    """The patterns catch each form they are meant for (a self-test)."""
    for text in ("state[3]", "x = state[:5]", "s[0][l]", "s2[2][w]", "nxt[0][at]", "st_[0][l][3][k]", "s[2]",
                     "writes[w][1]", "meta[2]", "entry[0]"):
        assert any(p.search(text) for p in PATTERNS), text
    for text in ('res["steps"][0]', "writes[w][HB]", "meta[DATA][0]", "succ[0][0]", "v.values[0][1]"):
        assert not any(p.search(text) for p in PATTERNS), text


if __name__ == "__main__":   # the census: python -m tests.test_state_encoding
    for f, h in sorted(_hits().items()):
        print(f"{len(h):3d}  {f}")
