from __future__ import annotations

import datetime as dt

import pytest

from mdtracker import recognize as r


@pytest.mark.parametrize("text,expected", [
    ("[ ] todo", (" ", "todo")), ("[x]", ("x", "")), ("[S] started", ("S", "started")),
    ("[x](url)", None), ("[]", None), ("[xx] two", None), ("[x]text", None), ("text [x]", None),
])
def test_task_symbol(text, expected):
    assert r.task_symbol(text) == expected


@pytest.mark.parametrize("line,expected", [
    ("a 📅 2025-11-20", [("due", dt.date(2025, 11, 20))]),
    ("a 📅️2025-11-20", [("due", dt.date(2025, 11, 20))]),  # variation selector, no space
    ("⏳ 2025-01-02 🛫 2025-01-01 ➕ 2024-12-30", [
        ("scheduled", dt.date(2025, 1, 2)), ("start", dt.date(2025, 1, 1)), ("created", dt.date(2024, 12, 30))]),
    ("✅ 2025-11-18 ❌ 2025-11-19", [("done", dt.date(2025, 11, 18)), ("cancelled", dt.date(2025, 11, 19))]),
    ("[due:: 2025-11-20] (completion:: 2025-11-18)", [
        ("due", dt.date(2025, 11, 20)), ("done", dt.date(2025, 11, 18))]),
    ("[due:: 2025-11-20)", []),  # brackets must match
    ("📅 2025-02-30", [("due", None)]),  # captured, but no real date
    ("✅ **COMPLETED**", []),
])
def test_date_fields(line, expected):
    assert [(f.field, f.date) for f in r.date_fields(line)] == expected


@pytest.mark.parametrize("line,tail", [
    ("write report 📅 2025-11-20", "write report"),
    ("write report 📅 2025-11-20 #work ^abc", "write report"),
    ("write 📅 2025-11-20 report", "write 📅 2025-11-20 report"),
    ("a [due:: 2025-11-20] 🔼", "a"),
])
def test_fields_tail_start(line, tail):
    assert line[: r.fields_tail_start(line)].rstrip() == tail


@pytest.mark.parametrize("text,pct,frac,mark", [
    ("85%", 0.85, None, None), ("48.8%", 0.488, None, None), ("7/10", None, (7, 10), None),
    ("✅ done", None, None, "done"), ("⬜", None, None, "todo"), ("🟡 In Progress", None, None, "in_progress"),
    (":white_check_mark:", None, None, "done"), ("2025-11-03", None, None, None), ("n/0", None, None, None),
])
def test_cell_values(text, pct, frac, mark):
    assert (r.percent(text), r.fraction(text), r.status_mark(text)) == (pct, frac, mark)


@pytest.mark.parametrize("text,expected", [
    ("A. ML Fundamentals (20%)", ("A. ML Fundamentals", 20.0)),
    ("**Deep Learning (25%)**", ("Deep Learning", 25.0)),
    ("Deep Learning", None), ("(20%)", None),
])
def test_weighted_name(text, expected):
    assert r.weighted_name(text) == expected


@pytest.mark.parametrize("line,expected", [
    ("Score: **86.5% (B+/A-)**", 0.865), ("quiz score 78/100", 0.78), ("📊 **Knowledge Check: 98.5% (A+)**", 0.985),
    ("Knowledge check (30 min): 95.1% (A)", 0.951), ("96% knowledge check (98.9% on new content)", 0.96),
    ("Scored 3 goals", None), ("Perfect scores (100%): 7 topics", None), ("Knowledge check average: 92%", None),
    ("Knowledge check: 98.6% on new content", None), ("have a score of at least 90/100", None),
    ("Formula: Score = Σ 1/(k + rank_r(d))", None), ("System Design score: 0% → **86%**", 0.86),
])
def test_score(line, expected):
    assert r.score(line) == expected


@pytest.mark.parametrize("text,expected", [
    ("—", True), ("", True), ("[Date]", True), ("-", True), ("Backprop", False), ("0", False),
])
def test_placeholder(text, expected):
    assert r.is_placeholder(text) is expected


@pytest.mark.parametrize("heading,key", [
    ("C. Deep Learning", "c. deep learning"), ("🔥 **Deep Learning (25%)** [2/5]", "deep learning"),
])
def test_section_key(heading, key):
    assert r.section_key(heading) == key


@pytest.mark.parametrize("line,expected", [
    ("- Optimizers: 80% 🟡 (minor detail on adaptive LR)", ([("Optimizers", 0.8)], False)),
    ("- Weak item: FSDP stream sync (50%) - 3rd review", ([("FSDP stream sync", 0.5)], False)),
    ("- LLM Systems: 30% → **89.4%** (+59.4%) ⭐", ([("LLM Systems", 0.894)], False)),
    ("- Feature engineering: 7/10 → 9.5/10", ([("Feature engineering", 0.95)], False)),
    ("- Inertia resolved: 70% → 95% in 1 day! 🎉", ([("Inertia", 0.95)], False)),
    ("- Strengths: Requirements (9/10), architecture (8/10)", ([("Requirements", 0.9), ("architecture", 0.8)], True)),
    ("- Good scores (75%): Chi-square, Durbin-Watson", ([("Chi-square", 0.75), ("Durbin-Watson", 0.75)], True)),
    ("1. 🔥 **Deep Learning (25%)** - Transformers, attention", ([], False)),  # a weight
    ("- **Performance Distribution**: 55% strong (80-100%)", ([], False)),  # a share
    ("- Topics mastered: 6/6 at interview-ready level", ([], False)),  # a count
    ("- Q1-Q7 (Day 3): 99.3% - Excellent", ([], False)),  # a part of a check
    ("- statistical testing (0-30%)", ([], False)),  # a range
    ("- Needs work: Scaling calculations (6.5/10) ❌ → **GAP CLOSED with cheatsheet**", ([], False)),
    ("- Mock interview score: 78/100 (B+)", ([], False)),  # the whole check's score
])
def test_topic_scores(line, expected):
    found, many = r.topic_scores(line)
    assert ([(t, pytest.approx(v)) for t, v in found], many) == ([(t, pytest.approx(v)) for t, v in expected[0]],
                                                                 expected[1])
