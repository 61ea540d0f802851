from __future__ import annotations

import datetime as dt

import pytest
from markdown_it.utils import read_fixture_file

from conftest import FIXTURES
from mdtracker.parse import parse


@pytest.mark.parametrize(
    "line,title,source,expected", read_fixture_file(FIXTURES / "tasks.md"), ids=lambda v: str(v)[:40]
)
def test_tasks_follow_spec(line, title, source, expected):
    doc = parse(source, "note.md")
    got = [f"{t.line} [{t.symbol}] {t.text}".rstrip() for t in doc.tasks]
    assert got == [e.rstrip() for e in expected.splitlines()]


def test_front_matter_is_read_and_keeps_line_numbers():
    doc = parse("---\ntitle: Plan\nstart: 2025-11-03\n---\n# Plan\n- [ ] one\n", "p.md")
    assert doc.front_matter == {"title": "Plan", "start": dt.date(2025, 11, 3)}
    assert [(h.line, h.text) for h in doc.headings] == [(5, "Plan")]
    assert doc.tasks[0].line == 6


def test_broken_front_matter_is_a_problem_not_a_crash():
    doc = parse("---\ntitle: [unclosed\n---\n- [ ] one\n", "p.md")
    assert [(p.code, p.line) for p in doc.problems] == [("front-matter", 3)]
    assert len(doc.tasks) == 1


def test_crlf_and_lone_cr_count_lines_like_lf():
    for eol in ("\n", "\r\n", "\r"):
        doc = parse(eol.join(["# A", "", "- [ ] one", "- [x] two", ""]), "n.md")
        assert [t.line for t in doc.tasks] == [3, 4]


def test_heading_tree_and_task_depth_and_parent():
    doc = parse("# Plan\n## Week 1\n- [ ] a\n  - [x] b\n## Week 2\n### Day 1\n- [ ] c\n", "n.md")
    a, b, c = doc.tasks
    assert [h.text for h in doc.heading_chain(c.heading)] == ["Day 1", "Week 2", "Plan"]
    assert (a.depth, b.depth, b.parent) == (0, 1, 0)
    assert doc.headings[a.heading].text == "Week 1"


def test_bold_labels_group_the_list_that_follows():
    doc = parse("**Fundamentals**\n- [ ] a\n  - [ ] a1\n\n**Deep Learning**\n- [ ] b\n\nA paragraph ends the list.\n\n- [ ] c\n", "n.md")
    assert [t.group for t in doc.tasks] == ["Fundamentals", "Fundamentals", "Deep Learning", None]


def test_dates_tags_and_date_problems():
    doc = parse(
        "- [ ] a 📅 2025-11-20 #work ⏳ 2025-11-18\n"
        "- [x] b [completion:: 2025-11-18] (due:: 2025-11-10)\n"
        "- [ ] c 📅 2025-02-30\n"
        "- [ ] d 📅 2025-11-20 then more words\n",
        "n.md",
    )
    a, b, c, d = doc.tasks
    assert (a.due, a.scheduled, a.tags) == (dt.date(2025, 11, 20), dt.date(2025, 11, 18), ("#work",))
    assert (b.done, b.due) == (dt.date(2025, 11, 18), dt.date(2025, 11, 10))
    assert c.due is None and d.due == dt.date(2025, 11, 20)
    assert [(p.line, p.code) for p in doc.problems] == [(3, "bad-date"), (4, "field-not-at-end")]


def test_tables_cells_carry_recognized_values():
    doc = parse(
        "## Scores\n\n| Topic | Score | Done | Date |\n|---|---|---|---|\n"
        "| Adam | 85% | ✅ | 2025-11-03 |\n| SVM | 7/10 | ⬜ | — |\n| — | — | — | — |\n",
        "n.md",
    )
    (table,) = doc.tables
    assert table.header == ("Topic", "Score", "Done", "Date")
    adam, svm, empty = table.rows
    assert adam.line == 5 and adam.cells[1].percent == 0.85 and adam.cells[2].status == "done"
    assert adam.cells[3].date == dt.date(2025, 11, 3)
    assert svm.cells[1].fraction == (7, 10) and svm.cells[2].status == "todo"
    assert empty.placeholder and not adam.placeholder
    assert doc.headings[table.heading].text == "Scores"


def test_fields_and_scores_with_their_lines():
    doc = parse(
        "**Timeline**: 2-3 months\n**Target Role:** ML Engineer\nStatus:: active\n\n"
        "- Knowledge check Score: **86.5% (B+/A-)**\n- Quiz score 78/100\n",
        "n.md",
    )
    assert [(f.line, f.key, f.value) for f in doc.fields] == [
        (1, "Timeline", "2-3 months"), (2, "Target Role", "ML Engineer"), (3, "Status", "active")]
    assert [(s.line, s.value) for s in doc.scores] == [(5, 0.865), (6, 0.78)]


@pytest.mark.parametrize("value", ["2025-13-45", "2025-02-30", "!!int twelve", "!!float abc", "!!timestamp soon"])
def test_front_matter_value_yaml_cannot_read_is_a_problem_at_its_line(value):
    # valid YAML syntax, but PyYAML's constructor raises a plain error (a date that is no date): no crash
    doc = parse(f"---\ntitle: Plan\ncreated: {value}\n---\n# Plan\n- [ ] one\n", "p.md")
    assert [(p.code, p.line) for p in doc.problems] == [("front-matter", 3)]
    assert doc.front_matter == {}
    assert [t.text for t in doc.tasks] == ["one"]


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}")])
def test_front_matter_nested_past_any_reader_is_a_problem_not_a_crash(opener, closer):
    # libyaml, which python-frontmatter uses when it can, crashes the process (segfault) at ~30,000 levels
    depth = 50_000
    doc = parse(f"---\nplan: {opener * depth}{closer * depth}\n---\n- [ ] one\n", "p.md")
    assert [(p.code, p.line) for p in doc.problems] == [("front-matter", 2)]
    assert [t.text for t in doc.tasks] == ["one"]


def test_front_matter_with_many_shallow_brackets_is_still_read():
    tags = ", ".join(f"[t{n}]" for n in range(20_000))  # more brackets than libyaml is trusted with
    doc = parse(f"---\ntitle: Plan\ntags: [{tags}]\n---\n- [ ] one\n", "p.md")
    assert doc.problems == ()
    assert doc.front_matter["title"] == "Plan" and len(doc.front_matter["tags"]) == 20_000
