"""Issue 16, "Docs that cannot drift": every `replcheck` command shown in
README.md and docs/**/*.md is run, and what the docs claim about it is
compared with what it does.

What is checked, per command line in a fenced ``sh`` or ``text`` block:

* it runs: no traceback, no internal error (exit 4), and — unless the docs
  show it failing on purpose (``# exit 2``) — no bad-input exit 2;
* ``# exit N`` in its comment: exactly that exit code;
* verdict words in its comment (``VIOLATED``, ``holds``, ``PASS``,
  ``FAIL``, ``proved``, ``counterexample``, an anomaly name, ...): each
  appears in the output;
* a transcript (a ``text`` block whose line starts ``$ replcheck``): every
  line shown under the command appears in the real output, in order
  (other lines may come between; a ``...`` line skips), after normalising
  what changes from run to run (seconds, states per second).

Commands that cannot run here are skipped by rule, each with the reason
(:data:`SKIP`): placeholders (``SPEC``, ``[...]``), shell pipelines and
quoting the test does not interpret, PostgreSQL targets (tests/conform
runs those with servers), and docs/reliability.md, whose code blocks are
the campaign's reproducers *as found* (before the fixes; each says so).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)

#: Why a command is not run (matched against the file and the command line).
SKIP = [
    (lambda f, c: f.name == "reliability.md", "the fuzz campaign's reproducers as found, before the fixes"),
    (lambda f, c: "--target pglogical" in c, "needs PostgreSQL servers (tests/checks/conform/test_pglogical_target.py)"),
    (lambda f, c: re.search(r"\bSPEC\b|\bFILE\b|\[-|\.\.\.|[A-Z]+\.toml|\bDRILL\b|\bNAME\b", c) is not None,
     "a synopsis with placeholders"),
    (lambda f, c: re.search(r"[|;`]|\$\(|\$'|&&|>\s|\\$", c) is not None, "shell syntax the test does not interpret"),
]

#: Words of a comment that claim something about the output, and how the output must show it.
CLAIMS = ["VIOLATED", "holds", "PASS", "FAIL", "proved", "incomplete", "not I-confluent",
          "lost-update", "causally-later-write-lost", "resurrected-delete", "divergence", "oversell"]

TIMES = [(re.compile(r"\bin \d+\.\d+ s\b"), "in T s"), (re.compile(r"\([\d,.]+ states/s\)"), "(R states/s)"),
         (re.compile(r"\d+(\.\d+)? s\)"), "T s)")]


def _normal(line: str) -> str:
    line = line.rstrip()
    for pat, rep in TIMES:
        line = pat.sub(rep, line)
    return line


def commands():
    """``(file, line number, lang, command, comment, shown output lines)``."""
    out = []
    for f in DOCS:
        text = f.read_text()
        for m in FENCE.finditer(text):
            lang, body = m.group(1), m.group(2)
            start = text.count("\n", 0, m.start()) + 2
            lines = body.splitlines()
            for i, raw in enumerate(lines):
                line = raw.strip()
                transcript = line.startswith("$ replcheck ")
                if transcript:
                    line = line[2:]
                if not line.startswith("replcheck "):
                    continue
                if lang not in ("sh", "text", ""):
                    continue
                cmd, _, comment = line.partition("  #")
                if not comment and " # " in line:
                    cmd, _, comment = line.partition(" # ")
                shown = []
                if transcript:
                    for nxt in lines[i + 1:]:
                        if nxt.startswith("$ "):
                            break
                        shown.append(nxt)
                out.append((f, start + i, lang, cmd.strip(), comment.strip(), shown))
    return out


CASES = commands()


def _skip_reason(f: Path, cmd: str) -> str | None:
    return next((why for rule, why in SKIP if rule(f, cmd)), None)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder where the docs' relative paths resolve (specs/, queries/,
    tests/, bench/ linked from the repository) and -o files land."""
    d = tmp_path_factory.mktemp("docs")
    for name in ("specs", "queries", "tests", "bench", "examples"):
        if (ROOT / name).exists():
            (d / name).symlink_to(ROOT / name)
    return d


def _replcheck() -> list[str]:
    script = Path(sys.executable).parent / "replcheck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "replcheck.checks.entry"]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0].relative_to(ROOT)}:{c[1]}" for c in CASES])
def test_a_documented_command_does_what_its_docs_say(case, workdir):
    f, lineno, lang, cmd, comment, shown = case
    why = _skip_reason(f, cmd)
    if why:
        pytest.skip(why)
    argv = shlex.split(cmd)[1:]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(_replcheck() + argv, cwd=workdir, capture_output=True, text=True, timeout=600, env=env)
    out = proc.stdout + proc.stderr
    where = f"{f.relative_to(ROOT)}:{lineno}: {cmd}"
    assert "Traceback" not in out and proc.returncode != 4, f"{where}\n{out[-2000:]}"
    stated = re.search(r"\bexit (\d)\b", comment)
    if stated:
        assert proc.returncode == int(stated.group(1)), f"{where}: exit {proc.returncode}\n{out[-1500:]}"
    else:
        assert proc.returncode in (0, 1, 3), f"{where}: exit {proc.returncode}\n{out[-1500:]}"
    for word in CLAIMS:
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", comment):
            assert word.lower() in out.lower(), f"{where}: the comment says {word!r}; the output does not\n{out[-1500:]}"
    if shown:
        real = [_normal(x) for x in out.splitlines()]
        pos = 0
        for want in (_normal(x) for x in shown):
            if not want.strip() or want.strip() == "...":
                continue
            try:
                pos = real.index(want, pos) + 1
            except ValueError:
                raise AssertionError(f"{where}: the docs show\n  {want!r}\nwhich the output does not have (in order)."
                                     f"\nThe output:\n" + "\n".join(real)) from None


def test_the_docs_show_commands_and_most_of_them_run():
    """The collector finds the docs' commands, and the skip rules leave most
    of them checked (a rule that skipped everything would prove nothing)."""
    ran = [c for c in CASES if not _skip_reason(c[0], c[3])]
    assert len(CASES) >= 40 and len(ran) >= 30, (len(CASES), len(ran))
