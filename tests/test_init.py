"""`mdtracker init`: the user's own four notes, as they have them, to summaries in one command (issue 20)."""

from __future__ import annotations

import difflib
import json
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import copy_seed, run, shared
from mdtracker import mojibake
from mdtracker.files import split_lines

TODAY = ["--today", "2025-12-10"]
MARKER = re.compile(r"<!-- mdtracker:(?:begin|end) [^>]*-->")


@pytest.fixture
def seeds(tmp_path):
    vault = tmp_path / "notes"
    vault.mkdir()
    for prefix, name in (("000", "tracker.md"), ("001", "plan.md"), ("002", "pillars.md"), ("004", "interviews.md")):
        copy_seed(prefix, vault, name)
    return vault


def _snapshot(vault):
    return {p.relative_to(vault).as_posix(): p.read_bytes() for p in sorted(vault.rglob("*")) if p.is_file()}


def test_init_proposes_and_writes_nothing_without_write(seeds, capsys):
    before = _snapshot(seeds)
    assert run(["init", *TODAY, str(seeds)]) == 0
    out = capsys.readouterr().out
    assert _snapshot(seeds) == before
    assert "--- /dev/null\n+++ b/mdtracker.toml" in out and "+++ b/dashboard.md" in out
    assert "+**Overall Interview Readiness**: <!-- mdtracker:begin readiness-pct -->0%" in out
    # note by note, what each insertion will show
    assert "tracker.md:\n  mojibake repaired: 49 run(s)" in out
    assert re.search(r"line \d+: cookie on heading 'Pillar 1: Mathematical Foundations' → \[0/37\]", out)
    assert "[S] (used 2×, first at pillars.md:217) read as 'in_progress'" in out
    assert "Nothing written: run `mdtracker init --write`" in out


def test_the_four_seeds_to_summaries_in_one_command(seeds, capsys):
    assert run(["init", "--write", *TODAY, str(seeds)]) == 0
    capsys.readouterr()
    assert run(["sync", *TODAY, str(seeds)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n"  # init wrote what sync writes
    assert run(["check", *TODAY, str(seeds)]) == 0, capsys.readouterr().out
    assert run(["lint", *TODAY, str(seeds)]) == 0, capsys.readouterr().out  # no mojibake, no unknown status left

    tracker = (seeds / "tracker.md").read_text()
    assert "**Overall Interview Readiness**: <!-- mdtracker:begin readiness-pct -->0%<!--" in tracker
    assert "**Last Updated**: <!-- mdtracker:begin last-updated -->2025-12-10<!--" in tracker
    assert "<!-- mdtracker:begin quick-stats -->" in tracker
    assert "| A. ML Fundamentals (20%) | 0 | 8 | 🔴 Not Started |" in tracker  # weights and totals kept

    plan = (seeds / "plan.md").read_text()
    assert re.search(r"^## Phase 1: Foundations Refresh \(Weeks 1-4\) \[\d+/\d+\]$", plan, re.M)  # per phase
    assert "<!-- mdtracker:begin scores -->" in plan and "xychart-beta" in plan

    pillars = (seeds / "pillars.md").read_text()
    assert "(0 of 408 tasks done, 2 in progress)" in pillars  # [S] counted as started, [N] left out
    assert re.search(r"^### Pillar 1: Mathematical Foundations \[0/37\]$", pillars, re.M)

    interviews = (seeds / "interviews.md").read_text()
    assert "**Progress**: 0% " in interviews and "<!-- mdtracker:begin scenarios -->" in interviews
    assert "<!-- mdtracker:begin stories -->" in interviews and "<!-- mdtracker:begin applications -->" in interviews

    dashboard = (seeds / "dashboard.md").read_text()
    report = json.loads(_out(capsys, ["report", "--json", *TODAY, str(seeds)]))
    milestones = [o for o in report["overdue"] if o["kind"] == "milestone"]
    assert milestones and all(f"**{o['days_overdue']} days late**: {o['text']}" in dashboard for o in milestones)
    assert "<!-- mdtracker:begin readiness -->" in dashboard and "| A. ML Fundamentals | 20 | 0/8 |" in dashboard

    capsys.readouterr()
    assert run(["init", *TODAY, str(seeds)]) == 0  # twice: nothing the second time
    assert "Nothing to propose" in capsys.readouterr().out


def _out(capsys, argv):
    capsys.readouterr()
    assert run(argv) == 0
    return capsys.readouterr().out


def _only_insertions(old: str, new: str) -> None:
    """Every line of `old` is in `new`, in order; a changed line only gained a cookie at its end or had a field's
    value replaced by an inline region; every added line is blank, a marker, or inside a region."""
    a, b = split_lines(old), split_lines(new)
    inside = set()
    depth = False
    for n, line in enumerate(b):
        if "<!-- mdtracker:begin" in line and "<!-- mdtracker:end" not in line:
            depth = True
        if depth:
            inside.add(n)
        if "<!-- mdtracker:end" in line and "<!-- mdtracker:begin" not in line:
            depth = False
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        assert op != "delete", a[i1:i2]
        if op == "insert":
            assert all(n in inside or not b[n].strip() for n in range(j1, j2)), b[j1:j2]
        elif op == "replace":
            kept = [line.rstrip("\r\n") for line in a[i1:i2] if line.strip()]
            news = [b[n].rstrip("\r\n") for n in range(j1, j2) if n not in inside and b[n].strip()]
            if not news:  # a table init wrapped in a region (the Quick Stats): the region's text now
                assert all(line.startswith("|") for line in kept), kept
                continue
            if len(kept) != len(news) and any(n in inside for n in range(j1, j2)):
                kept = [line for line in kept if not line.startswith("|")]  # rows now in a region's text
            assert len(kept) == len(news), (kept, news)
            for was, now in zip(kept, news):
                head = now.split("<!-- mdtracker:begin")[0]
                cookie = now.startswith(was.rstrip()) and re.fullmatch(r" \[\d+(?:/\d+|%)\]", now[len(was.rstrip()):])
                field = MARKER.search(now) and head.strip() and was.startswith(head) and now.endswith("-->")
                assert cookie or field, (was, now)


def test_init_changes_no_byte_it_does_not_propose(seeds, capsys):
    repaired = {}
    for p in seeds.glob("*.md"):
        text = p.read_text()
        repaired[p.name] = mojibake.apply(text, mojibake.find(text))
    assert run(["init", "--write", *TODAY, str(seeds)]) == 0
    for name, old in repaired.items():
        _only_insertions(old, (seeds / name).read_text())


def test_init_on_other_peoples_notes_damages_nothing(tmp_path, capsys):
    corpus = shared("corpus")
    for p in corpus.glob("*.md"):
        if p.name != "INDEX.md":
            shutil.copyfile(p, tmp_path / p.name)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.md")}
    assert run(["init", "--write", *TODAY, str(tmp_path)]) == 0
    for name, raw in before.items():
        new = (tmp_path / name).read_bytes()
        assert new.count(b"\r\n") >= raw.count(b"\r\n")  # line endings kept
        old = raw.decode("utf-8-sig")
        _only_insertions(mojibake.apply(old, mojibake.find(old)), new.decode("utf-8-sig"))
    capsys.readouterr()
    assert run(["check", *TODAY, str(tmp_path)]) == 0, capsys.readouterr().out
    assert run(["init", *TODAY, str(tmp_path)]) == 0
    assert "Nothing to propose" in capsys.readouterr().out


def test_an_existing_config_gets_only_the_statuses_it_lacks(tmp_path, capsys):
    (tmp_path / "mdtracker.toml").write_text('# mine\n[statuses]\n"?" = "todo"\n')
    (tmp_path / "n.md").write_text("# N\n- [S] started\n- [ ] b\n")
    assert run(["init", "--write", *TODAY, str(tmp_path)]) == 0
    config = (tmp_path / "mdtracker.toml").read_text()
    assert config.startswith('# mine\n[statuses]\n# [S] is used 1 time (first at n.md:2)')
    assert config.endswith('"S" = { type = "in_progress", credit = 0.5 }\n"?" = "todo"\n')
    assert "dashboard.md" in _snapshot(tmp_path)


def test_a_git_repository_gets_the_pre_commit_hook(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / "n.md").write_text("- [ ] a\n")
    assert run(["init", "--write", *TODAY, str(tmp_path)]) == 0
    hook = (tmp_path / ".pre-commit-config.yaml").read_text()
    assert "entry: mdtracker check" in hook and "always_run: true" in hook


def test_a_note_with_broken_markers_is_left_alone(tmp_path, capsys):
    text = "# Plan\n<!-- mdtracker:begin progress -->\n## A\n" + "- [ ] x\n" * 6
    (tmp_path / "plan.md").write_text(text)
    assert run(["init", "--write", *TODAY, str(tmp_path)]) == 2
    assert (tmp_path / "plan.md").read_text() == text
    assert "plan.md:2" in capsys.readouterr().err


_line = st.one_of(
    st.sampled_from(["", "intro text", "---", "**Last Updated**: [Date]", "**Overall Readiness**: [ ]%",
                     "**Target Interview Date**: [date]", "| Domain | Topics Covered | Total Topics | Status |\n"
                     "|---|---|---|---|\n| A. Basics (50%) | 0 | 4 | x |\n| B. More (50%) | 0 | 2 | x |"]),
    st.builds(lambda level, text: "#" * level + " " + text, st.integers(1, 4), st.sampled_from(["Week 1", "Phase A", "Ünïcode 📊"])),
    st.builds(lambda indent, mark, text: "  " * indent + f"- [{mark}] {text}", st.integers(0, 2),
              st.sampled_from([" ", "x", "S", "/"]), st.sampled_from(["task", "Score: 80%", "**bold:**"])),
)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line, min_size=1, max_size=30), crlf=st.booleans())
def test_init_then_sync_is_fresh_and_init_is_idempotent(tmp_path_factory, lines, crlf):
    vault = tmp_path_factory.mktemp("v")
    text = "\n".join(lines) + "\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    (vault / "n.md").write_bytes(text.encode())
    assert run(["init", "--write", *TODAY, str(vault)]) in (0, 2)
    new = (vault / "n.md").read_bytes().decode()
    _only_insertions(text, new)
    assert run(["check", *TODAY, str(vault)]) == 0
    after = _snapshot(vault)
    assert run(["init", "--write", *TODAY, str(vault)]) in (0, 2)
    assert _snapshot(vault) == after


def test_a_read_only_note_is_reported_and_the_rest_written(tmp_path, capsys):
    import os
    import stat
    (tmp_path / "a.md").write_text("# A\n## S\n" + "- [ ] x\n" * 6)
    (tmp_path / "b.md").write_text("# B\n## S\n" + "- [ ] y\n" * 6)
    os.chmod(tmp_path / "a.md", stat.S_IRUSR | stat.S_IRGRP)
    before = (tmp_path / "a.md").read_bytes()
    assert run(["init", "--write", *TODAY, str(tmp_path)]) == 2
    assert (tmp_path / "a.md").read_bytes() == before
    assert "a.md" in capsys.readouterr().err and "[0/6]" in (tmp_path / "b.md").read_text()
