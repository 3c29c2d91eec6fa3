"""Markdown rendering: Mermaid sequence diagrams, state tables, verdicts."""

from __future__ import annotations

import re

from replcheck.checks.explain import explained
from replcheck.checks import render_markdown
from replcheck.checks.explain import counterexamples
from replcheck.checks.verdict import check, load

from conftest import SPECS


def _seed_md():
    report = check(load(SPECS / "seed" / "alice-bob-lww.toml"))
    return report, render_markdown.render(explained(report))


def _mermaid_block(md: str) -> str:
    blocks = re.findall(r"```mermaid\n(.*?)```", md, re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_markdown_has_one_participant_per_leader_and_an_arrow_per_delivery():
    report, md = _seed_md()
    block = _mermaid_block(md)
    assert block.startswith("sequenceDiagram")
    assert re.findall(r"participant (L\d) as (\S+)", block) == [("L0", "us-east"), ("L1", "eu-west"),
                                                               ("L2", "ap-south")]
    trace = report.results[1].trace
    deliveries = [s for s in trace.steps if s.event.kind == "deliver"]
    arrows = re.findall(r"^\s+(L\d)(-x|->>|-->>|--x)(L\d): (\d+)\.", block, re.M)
    assert len(arrows) == len(deliveries) == 4
    for (src, _, dst, idx), step in zip(arrows, deliveries):
        assert int(idx) == step.index
        assert report.facts.leaders[int(src[1])] == step.event.src
        assert report.facts.leaders[int(dst[1])] == step.event.leader


def test_markdown_marks_the_lost_write_and_the_culprit():
    _, md = _seed_md()
    block = _mermaid_block(md)
    # Real time: alice (0 ms) commits first, then bob (10 ms).
    lost = re.search(r"rect rgba\(220, 38, 38, 0.18\)\n\s+Note over (L\d): 1\. alice: .*LOST WRITE\n\s+end", block)
    culprit = re.search(r"rect rgba\(234, 179, 8, 0.25\)\n\s+Note over (L\d): 2\. bob: .*culprit\n\s+end", block)
    assert lost and lost.group(1) == "L1"          # alice committed at eu-west
    assert culprit and culprit.group(1) == "L0"    # bob at us-east
    # The losing deliveries are crossed arrows.
    assert re.search(r"L1-xL0: 5\. alice: .* loses to bob", block)


def test_markdown_state_table_has_every_leader_after_every_step():
    report, md = _seed_md()
    rows = [line for line in md.splitlines() if re.match(r"\| \d+ \|", line)]
    trace = report.results[1].trace
    assert len(rows) == len(trace) + 1            # the initial state too
    assert rows[0] == "| 0 | initial state | - | - | - |"
    for row, step in zip(rows[1:], trace.steps):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert cells[0] == str(step.index)
        assert [c.replace("\\|", "|") for c in cells[2:]] == [v.values[0][1] for v in step.leaders]


def test_markdown_explains_the_anomaly_and_summarises_verdicts():
    _, md = _seed_md()
    assert "| convergence | holds | | |" in md
    assert "| no-lost-writes | **VIOLATED** | [lost-update](#no-lost-writes) | 6 |" in md
    assert '<a id="no-lost-writes"></a>' in md
    assert "**What went wrong.** alice's acknowledged write" in md
    assert "**lost-update** means two leaders accepted concurrent writes" in md
    assert "_minimised: no event can be dropped" in md


def test_mermaid_text_escapes_syntax_characters():
    assert render_markdown.mermaid_text("a;b#c<d>") == "a#59;b#35;c#60;d#62;"


def test_markdown_renders_fault_events_as_notes():
    report = check(load(SPECS / "faults" / "async-replication-loss.toml"))
    crashes = 0
    for cx in counterexamples(report):
        block = render_markdown.mermaid(cx)
        for f in cx.steps:
            if f.step.event.kind == "crash":
                crashes += 1
                at = report.facts.leaders.index(f.step.event.leader)
                assert re.search(rf"Note over L{at}: {f.index}\. crash ", block)
    assert crashes
