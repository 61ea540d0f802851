"""The parser's rules, each on its own: a State, the tokens of one block, and what the rule adds."""

from __future__ import annotations

import datetime as dt

from mdtracker.parse import code, front_matter, headings, lists, markers, markdown_parser, tables
from mdtracker.parse.state import Item, State


def _state(text: str) -> State:
    return State("n.md", markdown_parser().parse(text), text)


def test_headings_nest_and_a_cookie_counts_until_the_next_heading_of_its_level():
    state = _state("# A [/]\n## B\n# C\n")
    tokens = state.tokens
    for i in (0, 3, 6):
        headings.heading(state, tokens[i], tokens[i + 1])
    headings.close_cookies(state, 0)
    assert [(h.text, h.parent) for h in state.headings] == [("A", None), ("B", 0), ("C", None)]
    assert [(c.line, c.written) for c in state.cookies] == [(1, "[/]")]


def test_a_task_takes_its_dates_and_its_parent():
    state = _state("")
    state.items = [Item(task=None), Item()]
    assert lists.task(state, 3, "[x] read the paper ✅ 2025-11-20 #ml")
    state.items.append(Item())
    assert lists.task(state, 4, "[ ] notes 📅 2025-02-30")
    first, second = state.tasks
    assert (first.symbol, first.text, first.done, first.tags) == ("x", "read the paper ✅ 2025-11-20 #ml",
                                                                   dt.date(2025, 11, 20), ("#ml",))
    assert second.parent == 0 and second.due is None
    assert [(p.line, p.code) for p in state.problems] == [(4, "bad-date")]
    assert not lists.task(state, 5, "[x](https://example.com) a link")


def test_a_table_reads_its_cells_values():
    state = _state("| Topic | Score | Status |\n|---|---|---|\n| Optimizers | 80% | ✅ |\n| — | — | — |\n")
    assert tables.table(state, 0) == len(state.tokens)
    [table] = state.tables
    assert table.header == ("Topic", "Score", "Status")
    assert [(r.line, r.placeholder) for r in table.rows] == [(3, False), (4, True)]
    assert tables.cell("80%").percent == 0.8 and tables.cell("✅").status == "done"


def test_markers_are_found_where_the_parser_sees_them():
    line = "Syntax: `<!-- mdtracker:begin progress -->`, done: <!-- mdtracker:begin progress -->x<!-- mdtracker:end progress -->"
    state = _state(line + "\n")
    markers.inline_markers(state, 1, line)
    real = line.index("done: ") + len("done: ")  # not the quoted one, in the code span before it
    assert [(m.kind, m.column) for m in state.markers] == [("begin", real), ("end", line.index("<!-- mdtracker:end"))]


def test_a_fence_left_open_that_hides_a_marker_is_a_problem():
    text = "```\n<!-- mdtracker:begin progress -->\n"
    state = _state(text)
    code.code(state, state.tokens[0])
    assert state.marker_problem and state.problems[0].line == 1


def test_front_matter_aliases_are_counted_as_written_out():
    shared = ["x"] * 10
    # the dict, its two keys, the list of ten (11 values), and ten times that list in another (1 + 110)
    assert front_matter.expanded_size({"a": shared, "b": [shared] * 10}) == 1 + 2 + 11 + 111
    nested: list = ["lol"] * 9
    for _ in range(8):
        nested = [nested] * 9
    assert front_matter.expanded_size({"top": nested}) > front_matter.MAX_VALUES
