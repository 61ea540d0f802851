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
    ("Score: **86.5% (B+/A-)**", 0.865), ("quiz score 78/100", 0.78), ("📊 **Knowledge Check: 98.5% (A+)**", None),
    ("Scored 3 goals", None),
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
