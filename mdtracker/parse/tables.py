"""GFM tables: the header, and each row's cells with the values they hold (a percentage, a fraction, a date,
a status mark, or nothing at all: a placeholder such as `—`)."""

from __future__ import annotations

import functools

from mdtracker import recognize, regions
from mdtracker.model import Cell, Row, Score, Table, TopicScore
from mdtracker.parse import facts, markers
from mdtracker.parse.state import State


def table(state: State, i: int) -> int:
    """Read the table starting at token i; return the index after it. markdown-it writes a row as `tr_open`,
    then `th_open`/`td_open`, `inline`, `th_close`/`td_close` for each cell, then `tr_close`; the first row
    is the header."""
    tokens = state.tokens
    where = tokens[i].map
    line = where[0] + 1 if where else 0
    header: tuple[str, ...] | None = None
    rows: list[Row] = []
    while (kind := tokens[i].type) != "table_close":
        if kind != "tr_open":  # thead and tbody open and close
            i += 1
            continue
        row_map = tokens[i].map
        row_line = row_map[0] + 1 if row_map else 0
        texts = []
        i += 1
        while tokens[i].type != "tr_close":
            texts.append(tokens[i + 1].content)
            i += 3
        i += 1
        for content in texts:
            if header is not None and facts.may_score(content):
                facts.score(state, row_line, content)
        if any(regions.MARKER_HINT in content for content in texts):
            _cell_markers(state, row_line, texts)
        if header is None:
            header = tuple(texts)
        else:
            cells = tuple(map(cell, texts))
            rows.append(Row(row_line, cells, placeholder_row(cells)))
    table = Table(line, header or (), tuple(rows), state.heading)
    state.tables.append(table)
    _overall(state, table)
    return i + 1


def _overall(state: State, table: Table) -> None:
    """A table with a Score column is a table of topic scores: its rows are topics' results, its `Overall`
    or `Total` row the whole check's."""
    col = table.column("score")
    if col is None:
        return
    for row in table.rows:
        if col >= len(row.cells) or row.placeholder:
            continue
        cell = row.cells[col]
        value = cell.percent if cell.percent is not None else (
            cell.fraction[0] / cell.fraction[1] if cell.fraction else None)
        if value is None or not 0 <= value <= 1:
            continue
        name = recognize.strip_emphasis(row.cells[0].text)
        if name.casefold() in ("overall", "total"):
            state.scores.append(Score(row.line, value, " | ".join(c.text for c in row.cells), state.heading,
                                      rule="the Overall row of a table with a Score column"))
        elif name and col > 0:  # a table of topic scores: each row is a topic's result
            state.topic_scores.append(TopicScore(row.line, name, value, state.heading, table=True,
                                                 rule="a row of a table with a Score column"))


def _cell_markers(state: State, line: int, texts: list[str]) -> None:
    """The markers in a row's cells, each found in the row's line after the cells before it (an earlier cell
    may quote the same marker)."""
    source, pos = state.source_line(line), 0
    for content in texts:
        at = source.find(content, pos) if content else pos
        if at < 0:
            if regions.MARKER_HINT in content:
                state.marker_problem_at(line, "a table cell holding a marker could not be found in its line")
            continue
        if regions.MARKER_HINT in content:
            markers.inline_markers(state, line, content, at)
        pos = at + len(content)


def placeholder_row(cells: tuple[Cell, ...]) -> bool:
    """A template row that holds no entry: its first cell (the entry's name) is empty, a dash or a slot
    (`[Topic]`), and no other cell holds a value of its own (a number, a date, a mark): `| — | — | — |`, or
    `| | | Applied / Phone / Onsite | | |`, whose list of choices is no value."""
    if not cells or not cells[0].placeholder:
        return False
    return all(c.placeholder or (c.percent is None and c.fraction is None and c.date is None and c.status is None
                                 and not any(ch.isdigit() for ch in c.text)) for c in cells[1:])


@functools.lru_cache(maxsize=8192)  # `✅`, `85%`, `—` recur in table after table; a Cell is immutable
def cell(text: str) -> Cell:
    """A table cell with the values it holds; cheap character tests spare most cells every pattern."""
    stripped = text.strip()
    ascii_only = stripped.isascii()
    return Cell(
        text=stripped,
        percent=recognize.percent(stripped) if "%" in stripped else None,
        fraction=recognize.fraction(stripped) if "/" in stripped else None,
        date=recognize.first_date(stripped) if len(stripped) >= 10 and "-" in stripped else None,
        status=recognize.status_mark(stripped) if not ascii_only or ":" in stripped or "[" in stripped else None,
        placeholder=(not stripped or stripped[0] in "-—–_.…?[tTnN") and recognize.is_placeholder(stripped),
    )
