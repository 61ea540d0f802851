"""GFM tables: the header, and each row's cells with the values they hold (a percentage, a fraction, a date,
a status mark, or nothing at all: a placeholder such as `—`)."""

from __future__ import annotations

import functools

from mdtracker import recognize, regions
from mdtracker.model import Cell, Row, Table
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
            if header is not None and ("core" in content or "CORE" in content):
                facts.score(state, row_line, content)
        if any(regions.MARKER_HINT in content for content in texts):
            _cell_markers(state, row_line, texts)
        if header is None:
            header = tuple(texts)
        else:
            cells = tuple(map(cell, texts))
            rows.append(Row(row_line, cells, all(c.placeholder for c in cells)))
    state.tables.append(Table(line, header or (), tuple(rows), state.heading))
    return i + 1


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
