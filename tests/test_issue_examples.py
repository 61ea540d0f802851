"""Each false line issue 19 found on the user's notes, as a small note: the summary now says what is true."""

from __future__ import annotations

import json

import pytest

from conftest import copy_seed, report_json, run

TODAY = ["--today", "2025-12-10"]


def _report(tmp_path, text, capsys):
    (tmp_path / "n.md").write_text(text)
    return report_json(tmp_path, *TODAY, capsys=capsys)


@pytest.mark.parametrize("line, value", [
    ("- System Design: 0% → **86%** (+86%) ⭐", 0.86),
    ("- ⭐ **Gap Q177 (FiD) closed: 0% → 100%**", 1.0),
    ("- LLM Systems: 30% → **89.4%** (+59.4%) ⭐", 0.894),
])
def test_a_transition_is_its_second_value_and_no_gap(tmp_path, capsys, line, value):
    data = _report(tmp_path, f"**Readiness Update** (2025-11-21):\n{line}\n", capsys)
    assert [t["value"] for t in data["topics"]["results"]] == [pytest.approx(value)]
    assert data["gaps"] == []


def test_weights_counts_rates_and_shares_are_no_scores(tmp_path, capsys):
    data = _report(tmp_path, "\n".join([
        "## Study Priority", "1. 🔥 **Deep Learning (25%)** - Transformers, attention",
        "2. 📋 **NLP (12%)** - Embeddings", "",
        "**Results** (2025-11-03):", "- ✅ Self-assessment completed: 0 Know, 14 Unsure (18%), 62 Dunno (82%)",
        "- SPARSE success rate: 57.1%", "- **Performance Distribution**: 55% strong (80-100%), 39% rusty", ""]),
        capsys)
    assert data["topics"]["results"] == [] and data["gaps"] == [] and data["scores"] == []


def test_a_topic_is_one_gap_at_most_with_its_latest_score(tmp_path, capsys):
    data = _report(tmp_path, "\n".join([
        "**Day 1 (2025-11-01)**:", "- ZeRO: 47% - Needs Section 5 study", "- Calibration: 40%", "",
        "**Day 2 (2025-11-02)**:", "- ✅ ZeRO understanding: 47% → 95%+", "- Calibration: 55%", ""]), capsys)
    assert [(g["topic"], g["value"], g["line"]) for g in data["gaps"]] == [("Calibration", 0.55, 7)]


def test_a_day_heading_without_a_year_takes_it_from_the_note(tmp_path, capsys):
    data = _report(tmp_path, "\n".join([
        "**Day 4 (2025-11-21)** ✅ **COMPLETED**:", "- [x] study", "",
        "**Day 5 (Sat, Nov 22 - 30 min)** ✅ **COMPLETED**", "", "**Knowledge Check (15-20 min)**:",
        "- [X] 10 review questions", "- Score: **80.0% (800/1000)** - B/B+", "",
        "**Day 5 Summary**:", "- 📊 Knowledge check: 80% (7 perfect scores)", ""]), capsys)
    assert [(s["line"], s["date"]) for s in data["scores"]] == [(8, "2025-11-22")]  # the summary says it again
    assert {h["line"]: h["date"] for h in data["history"]} == {2: "2025-11-21", 7: "2025-11-22"}
    capsys.readouterr()
    run(["report", *TODAY, str(tmp_path)])
    assert "n.md:4: date 'Nov 22' read as 2025-11-22 (year taken from the date on line 1)" in capsys.readouterr().err


def test_two_scores_of_one_day_get_two_labels_in_the_chart(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("**Day 1 (2025-11-03)**:\n- Score: 70%\n\n**Day 1 Mock (2025-11-03)**:\n- Mock interview score: 80/100\n\n"
                    "<!-- mdtracker:begin scores -->\n<!-- mdtracker:end scores -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert 'x-axis ["11-03", "11-03 (2)"]' in note.read_text()


def test_history_reads_day_headings_and_complete_items(tmp_path, capsys):
    data = _report(tmp_path, "\n".join([
        "### Week 4 Day 7 (Mon, Nov 24) - ✅ **COMPLETED**", "- [x] RAG project kickoff 2025-11-20 notes", "",
        "### Week 5", "", "**Day 1 (Tue, Nov 25) - Hybrid Retrieval** ✅ **COMPLETE**:", "- [X] hybrid retrieval", "",
        "- [x] Deploy ✅ COMPLETE (2025-12-02)", ""]), capsys)
    assert [(h["line"], h["date"]) for h in sorted(data["history"], key=lambda h: h["line"])] == [
        (2, "2025-11-24"), (7, "2025-11-25"), (9, "2025-12-02")]
    (tmp_path / "n.md").write_text((tmp_path / "n.md").read_text() + "\n<!-- mdtracker:begin history days=14 -->\n"
                                   "<!-- mdtracker:end history -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert "Nothing done yet" not in (tmp_path / "n.md").read_text()


def test_domain_and_score_tables_are_no_scenarios(tmp_path, capsys):
    data = _report(tmp_path, "\n".join([
        "## Quick Stats", "| Domain | Topics Covered | Total Topics | Status |", "|---|---|---|---|",
        "| A. ML (20%) | 0 | 8 | 🔴 Not Started |", "",
        "## Assessment Results Summary", "| Category | Score | Status |", "|---|---|---|", "| Statistics | 81.7% | ✅ |", "",
        "### Practiced Scenarios", "| Scenario | Status |", "|---|---|", "| Design a RAG system | ⬜ |", ""]), capsys)
    assert [(s["title"], s["total"]) for s in data["interviews"]["scenarios"]] == [("Practiced Scenarios", 1)]


def test_a_lone_result_line_is_no_story(tmp_path, capsys):
    data = _report(tmp_path, "## Day 3\n\n**Result**: 1541 chunks indexed ✅\n\n## Technical Challenge\n"
                   "**Situation**: a\n**Task**: b\n**Action**:\n**Result**:\n", capsys)
    assert [(s["title"], s["complete"]) for s in data["interviews"]["stories"]] == [("Technical Challenge", False)]


def test_readiness_of_a_note_still_in_mojibake_is_read_repaired_and_said(tmp_path, capsys):
    copy_seed("000", tmp_path, "tracker.md")
    tracker = tmp_path / "tracker.md"
    text = tracker.read_text()
    tracker.write_text(text.replace("**Overall Interview Readiness**: [ ]%",
                                    "**Overall Interview Readiness**: <!-- mdtracker:begin readiness-pct -->"
                                    "<!-- mdtracker:end readiness-pct -->"))
    capsys.readouterr()
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "tracker.md: mojibake" in err and "lint --fix" in err
    assert "readiness-pct -->0%<!--" in tracker.read_text()  # no topic yet: the rows `â€”` are placeholders
    data = report_json(tmp_path, *TODAY, capsys=capsys)
    assert {d["name"]: d["covered"] for d in data["readiness"]["domains"]}["C. Deep Learning"] == 0


def test_cosmetics(tmp_path, capsys, monkeypatch):
    note = tmp_path / "n.md"
    note.write_text("## Projects:\n- [x] a\n- [-] dropped\n\n<!-- mdtracker:begin headings -->\n<!-- mdtracker:end headings -->\n\n"
                    "<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    text = note.read_text()
    assert "- Projects: 100%" in text and "(1 of 1 task done)" in text
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    run(["report", *TODAY, str(tmp_path)])
    assert "2 tasks (1 done, 0 in progress, 0 to do, 1 cancelled)" in " ".join(capsys.readouterr().out.split())


def test_explain_says_where_each_gap_comes_from(tmp_path, capsys):
    (tmp_path / "n.md").write_text("## Knowledge Gaps\n- Kernel trick\n\n**Check (2025-11-02)**:\n- Calibration: 40%\n")
    capsys.readouterr()
    assert run(["report", "--explain", "gaps", *TODAY, str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "n.md:2: gap Kernel trick\n    rule: listed as a gap" in out
    assert "n.md:5: gap Calibration (40%)\n    rule: its latest result is below the threshold (70%)\n" \
           "    line: - Calibration: 40%" in out
    assert json.dumps  # (the JSON report lists the same gaps, with `why`)
