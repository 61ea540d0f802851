"""The study workflow of the user's documents (SPEC §8), each on a fixture in that layout, in our words."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from conftest import copy_seed, report_json, run
from mdtracker import dates

PLAN = """# Interview Prep: 12-Week Plan

## Phase 1: Foundations

### Week 1: Warm-up

**Day 1 - Linear models** ✅ **COMPLETED (2025-11-03)**:
- [x] Linear regression from scratch
- [x] Logistic regression from scratch

**Knowledge Check** (15 min):
- Score: **82% (B)**
- Gradients: 90%
- Loss functions: 55%

**Day 2 - Speed run**:
- [x] Logistic regression again
- Score: 78/100

**Day 2 Results Summary** (2025-11-04):
- Faster by four times

## Key Milestones

**End of Week 4** (✅ ACHIEVED):
- ✅ Fundamentals refreshed

**End of Week 5** (Target: Dec 1):
- [ ] RAG project finished
- [x] Retrieval evaluated
- [/] README written

**End of Week 6** (Target: Dec 8):
- [ ] Five medium problems timed

**End of Week 7** (Target: Dec 15):
- [ ] Network from scratch

**Week 10+** (Jan 2026+):
- [ ] Interviewing
"""


@pytest.fixture
def plan(tmp_path):
    (tmp_path / "plan.md").write_text(PLAN)
    return tmp_path


def test_unchecked_items_under_passed_milestones_are_overdue(plan, capsys):
    data = report_json(plan, "--today", "2025-12-10", capsys=capsys)
    late = [(o["kind"], o["text"], o["due"], o["days_overdue"]) for o in data["overdue"]]
    assert late == [
        ("milestone", "RAG project finished", "2025-12-01", 9),
        ("milestone", "README written", "2025-12-01", 9),
        ("milestone", "Five medium problems timed", "2025-12-08", 2),
    ]
    targets = {m["written"]: (m["target"], m["year_from_line"]) for m in data["milestones"]}
    assert targets == {"Dec 1": ("2025-12-01", 20), "Dec 8": ("2025-12-08", 20), "Dec 15": ("2025-12-15", 20)}


def test_report_says_which_year_was_inferred(plan, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert run(["report", "--today", "2025-12-10", str(plan)]) == 0
    out, err = capsys.readouterr()
    assert "plan.md:28: milestone target 'Dec 1' read as 2025-12-01 (year taken from the date on line 20)\n" in err
    assert "read as" not in out  # (on stderr: the summary on stdout stays one thing, for a pipe)


def test_a_yearless_target_in_a_note_without_full_dates_is_a_bad_date(tmp_path, capsys):
    (tmp_path / "p.md").write_text("**End of Week 5** (Target: Dec 1):\n- [ ] project\n")
    data = report_json(tmp_path, "--today", "2025-12-10", capsys=capsys)
    assert data["overdue"] == [] and data["milestones"] == []
    assert [(p["line"], p["code"], p["message"]) for p in data["problems"]] == [
        (1, "bad-date", "cannot place target 'Dec 1': the note writes no full date to take its year from")]


def test_scores_take_the_date_of_their_day_entry_and_gaps_are_low_topics(plan, capsys):
    data = report_json(plan, "--today", "2025-12-10", capsys=capsys)
    assert [(s["line"], s["value"], s["date"]) for s in data["scores"]] == [
        (12, 0.82, "2025-11-03"), (18, 0.78, "2025-11-04")]
    assert [(g["topic"], g["value"]) for g in data["gaps"]] == [("Loss functions", 0.55)]


def test_completed_entries_date_their_tasks_in_history(plan, capsys):
    data = report_json(plan, "--today", "2025-12-10", capsys=capsys)
    assert [(h["date"], h["text"]) for h in data["history"] if h["date"] == "2025-11-03"] == [
        ("2025-11-03", "Logistic regression from scratch"), ("2025-11-03", "Linear regression from scratch")]


WEEKS_2_3 = {  # seed 001, after lint --fix: each check of Weeks 2-3 (tests/truth: the line → the date of its day)
    359: "2025-11-04", 395: "2025-11-05", 440: "2025-11-06", 502: "2025-11-07", 555: "2025-11-08",
    613: "2025-11-09", 646: "2025-11-10", 720: "2025-11-11", 774: "2025-11-12", 813: "2025-11-13",
    823: "2025-11-14", 841: "2025-11-15", 852: "2025-11-16", 864: "2025-11-16", 899: "2025-11-17",
    910: "2025-11-17",
}  # (827, 884 and 915 say a check's score again in the day's summary: one check, not two)


def test_seed_001_score_series(tmp_path, capsys):
    copy_seed("001", tmp_path, "plan.md")
    run(["lint", "--fix", str(tmp_path)])
    data = report_json(tmp_path, "--today", "2025-11-22", capsys=capsys)
    series = {s["line"]: s["date"] for s in data["scores"] if 315 <= s["line"] <= 938}
    assert series == WEEKS_2_3
    assert len(WEEKS_2_3) >= 12


def test_seed_001_milestones_with_the_years_of_its_own_dates(tmp_path, capsys):
    copy_seed("001", tmp_path, "plan.md")
    run(["lint", "--fix", str(tmp_path)])
    data = report_json(tmp_path, "--today", "2025-12-10", capsys=capsys)
    late = {o["due"] for o in data["overdue"] if o["kind"] == "milestone"}
    assert late == {"2025-12-01", "2025-12-08"}
    assert sum(o["kind"] == "milestone" for o in data["overdue"]) == 5 + 3


TRACKS = {
    "ml-algorithms.md": ("ML Algorithms", "ML", "2025-11-01", 0, [
        ("Neural network fundamentals", "2025-11-01", ["2025-11-02"]),
        ("Convolutional networks", "2025-11-03", []),
        ("Recurrent networks", None, []),
    ]),
    "ml-system-design.md": ("ML System Design", "ML", "2025-11-03", 5, [
        ("Recommendation architecture", "2025-11-03", ["2025-11-05", "2025-11-06"]),
    ]),
    "coding.md": ("Coding Patterns", "SWE", "2025-10-20", 0, [("Two pointers", "2025-10-20", [])]),
}


def _track_note(name, group, start, accel, days):
    lines = ["---", f"track: {name}", f"group: {group}", f"start: {start}", f"acceleration_days: {accel}", "---",
             "", f"# {name}", ""]
    for n, (topic, done, reviews) in enumerate(days, 1):
        lines.append(f"## Day {n}: {topic}")
        lines.append(f"- [x] {topic} ✅ {done} [difficulty:: {n + 1}]" if done else f"- [ ] {topic}")
        lines += [f"  - [x] review ✅ {r}" for r in reviews]
        lines.append("")
    return "\n".join(lines)


def test_seed_003_workflow_as_track_notes(tmp_path, capsys):
    for file, spec in TRACKS.items():
        (tmp_path / file).write_text(_track_note(*spec))
    data = report_json(tmp_path, "--today", "2025-11-06", capsys=capsys)
    today = {t["name"]: (t["group"], t["today"], t["today_topic"]) for t in data["tracks"]}
    # by hand: today − start + 1 + acceleration_days
    assert today == {
        "ML Algorithms": ("ML", 6, "No topic for day 6"),          # 5 + 1 + 0
        "ML System Design": ("ML", 9, "No topic for day 9"),       # 3 + 1 + 5
        "Coding Patterns": ("SWE", 18, "No topic for day 18"),     # 17 + 1 + 0
    }
    due = [(r["path"], r["review"], r["due"], r["days_overdue"]) for r in data["reviews"]["due"]]
    # by hand, intervals 1/3/7/14 from the done date; the next review is the first one not recorded:
    # coding Day 1 done 10-20, no reviews: review 1 due 10-21 (16 days late);
    # ML Algorithms Day 1 done 11-01, review 1 recorded: review 2 due 11-01 + 3 = 11-04; Day 2 done 11-03:
    # review 1 due 11-04; ML System Design Day 1 done 11-03, reviews 1-2 recorded: review 3 due 11-10.
    assert due == [
        ("coding.md", 1, "2025-10-21", 16),
        ("ml-algorithms.md", 2, "2025-11-04", 2),
        ("ml-algorithms.md", 1, "2025-11-04", 2),
    ]
    upcoming = [(r["path"], r["review"], r["due"]) for r in data["reviews"]["upcoming"]]
    assert upcoming == [("ml-system-design.md", 3, "2025-11-10")]
    days = data["tracks"][1]["days"]  # ML Algorithms, sorted by path
    assert [(d["day"], d["completed"], d["difficulty"]) for d in days] == [
        (1, "2025-11-01", 2), (2, "2025-11-03", 3), (3, None, None)]


def test_a_track_day_on_the_calendar(tmp_path, capsys):
    (tmp_path / "t.md").write_text(_track_note("T", "ML", "2025-11-01", 0, [("A", None, []), ("B", None, [])]))
    data = report_json(tmp_path, "--today", "2025-11-02", capsys=capsys)
    assert (data["tracks"][0]["today"], data["tracks"][0]["today_topic"]) == (2, "B")


def test_interview_tracker(tmp_path, capsys):
    (tmp_path / "i.md").write_text(
        "## Scenarios\n| Scenario | Status |\n|---|---|\n| Search | ✅ |\n| Fraud | ⬜ |\n| Feeds | 🟡 |\n\n"
        "### Launch story\n**Situation**: a\n**Task**: b\n**Action**: c\n**Result**: d\n\n"
        "### Half story\n**Situation**: a\n**Task**: \n**Action**: \n**Result**: \n\n"
        "| Company | Role | Status | Next Step | Date |\n|---|---|---|---|---|\n"
        "| Acme | MLE | Onsite | Thank-you note | 2025-11-18 |\n| Beta | MLE | Rejected | — | 2025-11-01 |\n"
        "| Gamma | MLE | Phone | Prepare | 2025-11-30 |\n| | | Applied / Phone / Onsite | | |\n"
    )
    data = report_json(tmp_path, "--today", "2025-11-22", capsys=capsys)
    interviews = data["interviews"]
    assert [(s["title"], s["done"], s["in_progress"], s["total"]) for s in interviews["scenarios"]] == [
        ("Scenarios", 1, 1, 3)]
    assert [(s["title"], s["complete"]) for s in interviews["stories"]] == [
        ("Launch story", True), ("Half story", False)]
    assert [(a["company"], a["status"]) for a in interviews["applications"]] == [
        ("Acme", "Onsite"), ("Beta", "Rejected"), ("Gamma", "Phone")]
    assert [(o["kind"], o["text"], o["days_overdue"]) for o in data["overdue"]] == [
        ("followup", "Acme: Thank-you note", 4)]


@pytest.mark.parametrize("written,near,expected", [
    ("Dec 1", dt.date(2025, 11, 10), dt.date(2025, 12, 1)),
    ("Jan 5", dt.date(2025, 12, 20), dt.date(2026, 1, 5)),     # the nearest, across the new year
    ("December 30", dt.date(2026, 1, 3), dt.date(2025, 12, 30)),
    ("Feb 29", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    ("Feb 29", dt.date(2025, 6, 1), dt.date(2024, 2, 29)),     # only leap years have it
])
def test_dates_without_a_year(written, near, expected):
    month, day, _ = dates.month_day(written)
    assert dates.place(month, day, near) == expected


def test_an_impossible_yearless_date_cannot_be_placed():
    assert dates.place(2, 30, dt.date(2025, 1, 1)) is None


@pytest.mark.parametrize("text,expected", [
    ("Day 1", dt.date(2025, 11, 3)), ("Day 15", dt.date(2025, 11, 17)), ("Week 3 Day 2", dt.date(2025, 11, 18)),
    ("week 1, day 7", dt.date(2025, 11, 9)),
])
def test_plan_relative_dates(text, expected):
    week, day = dates.plan_day(text)
    assert dates.from_plan_start(dt.date(2025, 11, 3), week, day) == expected


def test_day_entries_without_dates_count_from_the_plans_start(tmp_path, capsys):
    (tmp_path / "p.md").write_text(
        "---\nstart: 2025-11-03\n---\n\n**Day 1**:\n- Score: 70%\n\n**Week 2 Day 3**:\n- Score: 80%\n\n"
        "**Day 15** (2025-11-20):\n- Score: 90%\n")
    data = report_json(tmp_path, *["--today", "2025-11-22"], capsys=capsys)
    assert [(s["value"], s["date"]) for s in data["scores"]] == [
        (0.7, "2025-11-03"), (0.8, "2025-11-12"), (0.9, "2025-11-20")]  # a date written wins


def test_day_entries_must_begin_with_the_day():
    assert dates.plan_day("**Day 3 (Day 17)** ✅", at_start=True) == (None, 3)
    assert dates.plan_day("**Rationale**: from Week 2 (Day 6-8 plan)", at_start=True) is None


def test_impossible_iso_dates_are_no_dates():
    assert dates.iso_dates("2025-02-30 and 2025-03-01") == [dt.date(2025, 3, 1)]


def test_the_readme_example_is_what_sync_writes(tmp_path, capsys):
    from conftest import ROOT
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- example: vault/dashboard.md -->")
    opening = readme.index("````markdown\n", start) + len("````markdown\n")
    block = readme[opening: readme.index("\n````\n", opening) + 1]
    shutil.copytree(ROOT / "vault", tmp_path / "vault")
    assert run(["sync", "--today", "2025-11-22", str(tmp_path / "vault")]) == 0
    assert (tmp_path / "vault" / "dashboard.md").read_text() == block


def test_gaps_match_topics_as_comparing_each_with_all_would():
    """`scores.gaps` looks topics up by word, subset and acronym: the same gaps as comparing each result with
    every topic kept (the rule of `same_topic`), on random names made of few words."""
    import random

    from mdtracker import scores

    def slow(results, listed, threshold):
        ordered = sorted(results, key=lambda r: (r.date or dt.date.min, r.path, r.line))
        latest = []
        for r in ordered:
            at = next((n for n, k in enumerate(latest) if scores.same_topic(k.topic, r.topic)), None)
            if at is None:
                latest.append(r)
            else:
                latest[at] = r
        found = [scores.Gap(r.path, r.line, r.topic, r.value, r.date, "low-latest") for r in latest if r.value < threshold]
        for gap in listed:
            scored = next((r for r in latest if scores.same_topic(r.topic, gap.topic)), None)
            if scored is not None and (scored.date or dt.date.min) >= (gap.date or dt.date.min):
                continue
            if any(scores.same_topic(g.topic, gap.topic) for g in found):
                continue
            found.append(gap)
        return sorted(found, key=lambda g: (g.value if g.value is not None else -1.0, g.topic))

    rng = random.Random(3)
    words = "FSDP ZeRO LLM systems sync stream attention the of kernel (Q1-3) a and memory KV cache".split()

    def name(most: int) -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(0, most)))

    def day() -> dt.date | None:
        return dt.date(2025, 1, 1 + rng.randint(0, 20)) if rng.random() < 0.8 else None

    for _ in range(300):
        results = [scores.TopicResult(f"n{i}.md", i, name(4 if rng.random() < 0.9 else 11), rng.random(), day())
                   for i in range(rng.randint(1, 40))]
        listed = [scores.Gap(f"l{i}.md", i, name(3), None, day(), "listed") for i in range(rng.randint(0, 10))]
        assert scores.gaps(results, listed, 0.5) == slow(results, listed, 0.5)
