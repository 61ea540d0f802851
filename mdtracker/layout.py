"""Generated Markdown that formatters leave alone (issue 20): a region whose text differs from what its template
writes only in layout (a table re-aligned by mdformat-gfm or prettier, `*` for `_`, an escape, a list marker) is
fresh; and a table that must be rewritten is written in the layout the region's table already has.

Layout is judged as a formatter sees it: two bodies are the same when CommonMark (with GFM tables) renders them
to the same HTML, whitespace outside code aside. Column widths are display widths as both formatters count them
(`wcwidth`: mdformat-gfm uses it; prettier's own count agrees for emoji, ✅ 🟡 ⬜, and CJK, and differs only for
zero-width characters, which it counts as one column).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Callable

from markdown_it import MarkdownIt
from wcwidth import wcswidth

_MD = MarkdownIt("commonmark").enable("table")  # what mdformat-gfm and prettier parse, as far as a region shows
_PRE = re.compile(r"(<pre[ >].*?</pre>)", re.DOTALL)
_PIPE = re.compile(r"(?<!\\)\|")
_DELIMITER_CELL = re.compile(r"\s*:?-+:?\s*")


# --- the same, as a formatter sees it ------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _shown(text: str, inline: bool) -> str:
    html = _MD.renderInline(text) if inline else _MD.render(text)
    return "".join(part if part.startswith("<pre") else " ".join(part.split()) for part in _PRE.split(html))


def same(old: str, new: str, inline: bool = False) -> bool:
    """Whether `old` shows what `new` shows: equal text, or only a formatter's layout between them."""
    return old == new or _shown(old, inline) == _shown(new, inline)


# --- widths ----------------------------------------------------------------------------------------------


def width(text: str) -> int:
    """Display width as mdformat-gfm counts it (wcwidth; a control character counts as one, not -1)."""
    counted = wcswidth(text)
    return counted if counted >= 0 else sum(max(0, wcswidth(c)) for c in text)


def prettier_width(text: str) -> int:
    """Display width as prettier counts it: wcwidth's, but a zero-width format character (U+200B…) counts as
    one column outside an emoji sequence."""
    extra = sum(1 for i, c in enumerate(text) if unicodedata.category(c) == "Cf" and c != "\u200d"
                and not (c == "\ufe0f" and i > 0))
    return width(text) + extra


WIDTHS: tuple[Callable[[str], int], ...] = (width, prettier_width)


# --- tables ----------------------------------------------------------------------------------------------


def _blocks(lines: list[str], kinds: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the blocks of these kinds are in these lines: (first line, line after the last), 0-based."""
    return [(tok.map[0], tok.map[1]) for tok in _MD.parse("\n".join(lines))
            if tok.type in kinds and tok.map and (tok.level == 0 or tok.type != "table_open")]


def _tables(lines: list[str]) -> list[tuple[int, int]]:
    """Where the top-level GFM tables are in these lines."""
    return _blocks(lines, ("table_open",)) if any("|" in line for line in lines) else []


def cells(line: str) -> list[str] | None:
    """A table row's cells as written (padding kept), when the row has its outer pipes; else None."""
    text = line.strip()
    if len(text) < 2 or not text.startswith("|") or not text.endswith("|") or text.endswith("\\|"):
        return None
    return _PIPE.split(text[1:-1])


def _alignment(cell: str) -> str:
    cell = cell.strip()
    left, right = cell.startswith(":"), cell.endswith(":")
    return "center" if left and right else "left" if left else "right" if right else ""


def style(lines: list[str]) -> Callable[[str], int] | None:
    """The width by which this table's columns are aligned (as mdformat-gfm or prettier align them), or None
    when they are not aligned (compact, or as the user typed them)."""
    found = [cells(line) for line in lines]
    rows = [row for row in found if row is not None]
    if len(rows) < 2 or len(rows) < len(found) or any(len(row) != len(rows[0]) for row in rows):
        return None
    for measure in WIDTHS:
        if all(_aligned_column(column, measure) for column in zip(*rows)):
            return measure
    return None


def _aligned_column(column: tuple[str, ...], measure: Callable[[str], int]) -> bool:
    if not all(len(cell) >= 5 and cell.startswith(" ") and cell.endswith(" ") for cell in column):
        return False
    return len({measure(cell) for cell in column}) == 1


def lay_out(lines: list[str], measure: Callable[[str], int], aligns: list[str]) -> list[str]:
    """The table in these lines aligned as mdformat-gfm and prettier align it: each column as wide as its widest
    cell (at least 3), padded by its alignment, the delimiter row's dashes as wide as the column."""
    rows = [[c.strip() for c in (cells(line) or [])] for n, line in enumerate(lines) if n != 1]
    count = len(rows[0])
    rows = [row[:count] + [""] * (count - len(row)) for row in rows]
    widths = [max(3, *(measure(row[j]) for row in rows)) for j in range(count)]

    def pad(text: str, j: int) -> str:
        spaces = widths[j] - measure(text)
        before = spaces if aligns[j] == "right" else spaces // 2 if aligns[j] == "center" else 0
        return " " * before + text + " " * (spaces - before)

    def delimiter(j: int) -> str:
        a = aligns[j]
        return (":" if a in ("left", "center") else "-") + "-" * (widths[j] - 2) + (":" if a in ("right", "center") else "-")

    out = ["| " + " | ".join(pad(text, j) for j, text in enumerate(row)) + " |" for row in rows]
    return [out[0], "| " + " | ".join(delimiter(j) for j in range(count)) + " |", *out[1:]]


def follow(old: list[str], new: list[str]) -> list[str]:
    """The lines `new` (a region's new body) with each table laid out as the table at the same place in `old`
    (its current body) is: aligned as a formatter aligned it, or as written; the delimiter row the note has
    (its alignment colons, its dashes) kept when the table has as many columns."""
    new_tables = _tables(new)
    old_tables = _tables(old) if new_tables else []
    out = _kept_lines(old, new)
    for (ns, ne), (os_, oe) in reversed(list(zip(new_tables, old_tables))):
        table, before = new[ns:ne], old[os_:oe]
        mine, theirs = cells(table[1]) if len(table) > 1 else None, cells(before[1]) if len(before) > 1 else None
        if mine is None or theirs is None or len(mine) != len(theirs) or any(cells(line) is None for line in table) \
                or not all(_DELIMITER_CELL.fullmatch(c) for c in theirs):
            continue
        if any(len(cells(line) or []) > len(mine) for line in table):
            continue  # cells past the header's: a formatter would drop them; leave the table as written
        measure = style(before)
        if measure is None:
            out[ns + 1:ns + 2] = [before[1].strip()]
        else:
            out[ns:ne] = lay_out(table, measure, [_alignment(c) for c in theirs])
    return out


def _kept_lines(old: list[str], new: list[str]) -> list[str]:
    """`new`, where a line shows what a line of `old` shows, that line of `old`: a rewritten list keeps the items
    a formatter laid out (`_x_` for `*x*`, `*` for `-`), so that it need not lay them out again. Lines of
    tables and code are left to `follow` and as written."""
    spans = _blocks(new, ("table_open", "fence", "code_block", "html_block"))
    fixed = {n for a, b in spans for n in range(a, b)}
    candidates = [line for line in old if line.strip() and not line.lstrip().startswith(("|", "<", "`", "~"))]
    if not candidates:
        return list(new)
    shown: dict[str, str] = {}
    for line in candidates:
        shown.setdefault(_shown(line, False), line)
    out = []
    for n, line in enumerate(new):
        kept = shown.get(_shown(line, False)) if n not in fixed and line.strip() else None
        out.append(kept if kept is not None and _lead(kept) == _lead(line) else line)
    return out if same("\n".join(out), "\n".join(new)) else list(new)  # (a line shows the same in context too)


def _lead(line: str) -> str:
    """A line's indentation and first mark: a kept line must keep them (`*` after `-` items starts a new list)."""
    text = line.lstrip()
    return line[:len(line) - len(text) + 1]
