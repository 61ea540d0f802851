"""Markdown → `Document`, from markdown-it-py's block tokens and their line maps.

The parser runs with the core `inline` rule disabled: block structure (headings, lists, tables, code, quotes)
is all the model needs, and each inline token still carries its raw text, which the one-line recognizers
read. This is the step every run pays for, so it does nothing else.
"""

from __future__ import annotations

import bisect
import re
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from mdtracker import mojibake, recognize
from mdtracker.model import Cell, Document, Field, Heading, Problem, Row, Score, Table, Task


def markdown_parser() -> MarkdownIt:
    """The one parser configuration mdtracker uses (CommonMark + GFM tables + front matter, block level)."""
    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin).disable("inline")


_MD = markdown_parser()
_NEWLINE = re.compile(r"\r\n|\r|\n")
_YAML = frontmatter.YAMLHandler()


def parse(text: str, path: str) -> Document:
    """Build the Document of one note from its text (already decoded, BOM removed)."""
    return _Walk(path, _MD.parse(text)).run(text)


@dataclass
class _Item:
    """An open list item while walking: is it a task, and has its first block been seen."""

    task: int | None = None
    started: bool = False


@dataclass
class _Walk:
    path: str
    tokens: list[Token]
    headings: list[Heading] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    front_matter: dict[str, Any] = field(default_factory=dict)
    items: list[_Item] = field(default_factory=list)
    lists: int = 0
    group: str | None = None
    group_lists: int = -1  # list nesting at which the current bold label's list closes

    def run(self, text: str) -> Document:
        tokens, i = self.tokens, 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if kind == "front_matter":
                self._front_matter(tok)
            elif kind == "heading_open":
                self._heading(tok, tokens[i + 1])
                i += 2
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self.lists += 1
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists -= 1
                if self.lists == self.group_lists:
                    self.group, self.group_lists = None, -1
            elif kind == "list_item_open":
                self.items.append(_Item())
            elif kind == "list_item_close":
                self.items.pop()
            elif kind == "paragraph_open":
                self._paragraph(tok, tokens[i + 1], tokens[i + 3] if i + 3 < len(tokens) else None)
                i += 2
            elif kind == "table_open":
                i = self._table(i)
                continue
            if self.items and kind not in ("list_item_open", "bullet_list_open", "ordered_list_open"):
                self.items[-1].started = True
            i += 1
        self._mojibake(text)
        return Document(
            path=self.path,
            front_matter=self.front_matter,
            headings=tuple(self.headings),
            tasks=tuple(self.tasks),
            tables=tuple(self.tables),
            fields=tuple(self.fields),
            scores=tuple(self.scores),
            problems=tuple(sorted(self.problems, key=lambda p: (p.line, p.code))),
        )

    # --- blocks -----------------------------------------------------------------------------------------

    def _front_matter(self, tok: Token) -> None:
        try:
            data = _YAML.load(tok.content)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = 1 + (mark.line + 1 if mark is not None else 0)
            self._problem(line, "front-matter", f"front matter is not valid YAML: {getattr(err, 'problem', err)}")
            return
        if isinstance(data, dict):
            self.front_matter = {str(k): v for k, v in data.items()}

    def _heading(self, tok: Token, inline: Token) -> None:
        level = int(tok.tag[1])
        parent = self._heading_index()
        while parent is not None and self.headings[parent].level >= level:
            parent = self.headings[parent].parent
        line = tok.map[0] + 1 if tok.map else 0
        self.headings.append(Heading(line, level, inline.content, parent))
        self._score(line, inline.content)
        self.group, self.group_lists = None, -1

    def _heading_index(self) -> int | None:
        return len(self.headings) - 1 if self.headings else None

    def _paragraph(self, tok: Token, inline: Token, after: Token | None) -> None:
        start = tok.map[0] + 1 if tok.map else 0
        lines = inline.content.split("\n")
        first_block = bool(self.items) and not self.items[-1].started
        is_task = first_block and self._task(start, lines[0])
        label = recognize.bold_label(inline.content) if len(lines) == 1 else None
        if label and after is not None and after.type in ("bullet_list_open", "ordered_list_open"):
            self.group, self.group_lists = label, self.lists
        for n, line in enumerate(lines):
            if n or not is_task:
                kv = recognize.line_field(line)
                if kv:
                    self.fields.append(Field(start + n, *kv))
            self._score(start + n, line)

    def _task(self, line: int, text: str) -> bool:
        found = recognize.task_symbol(text)
        if found is None:
            return False
        symbol, rest = found
        dates: dict[str, dt.date] = {}
        tail = recognize.fields_tail_start(rest)
        for f in recognize.date_fields(rest):
            day = f.date
            if day is None:
                self._problem(line, "bad-date", f"{f.field} date {f.text!r} is not a real date")
                continue
            dates.setdefault(f.field, day)
            if f.start < tail:
                self._problem(
                    line, "field-not-at-end",
                    f"{f.field} date {f.text} is followed by text; Obsidian Tasks reads dates only at the end of the line",
                )
        parent = next((it.task for it in reversed(self.items[:-1]) if it.task is not None), None)
        self.items[-1].task = len(self.tasks)
        self.tasks.append(Task(
            line=line, symbol=symbol, text=rest.strip(), depth=len(self.items) - 1,
            heading=self._heading_index(), group=self.group, tags=recognize.tags(rest), parent=parent,
            **dates,
        ))
        return True

    def _table(self, i: int) -> int:
        """Read the table starting at token i; return the index after it."""
        tokens = self.tokens
        line = tokens[i].map[0] + 1 if tokens[i].map else 0
        header: list[str] = []
        rows: list[Row] = []
        cells: list[Cell] = []
        row_line, in_head = 0, False
        while tokens[i].type != "table_close":
            tok = tokens[i]
            if tok.type == "thead_open":
                in_head = True
            elif tok.type == "thead_close":
                in_head = False
            elif tok.type == "tr_open":
                row_line, cells = (tok.map[0] + 1 if tok.map else 0), []
            elif tok.type == "inline":
                if in_head:
                    header.append(tok.content)
                else:
                    cells.append(_cell(tok.content))
                    self._score(row_line, tok.content)
            elif tok.type == "tr_close" and not in_head:
                rows.append(Row(row_line, tuple(cells)))
            i += 1
        self.tables.append(Table(line, tuple(header), tuple(rows), self._heading_index()))
        return i + 1

    # --- in-line facts ----------------------------------------------------------------------------------

    def _score(self, line: int, text: str) -> None:
        value = recognize.score(text)
        if value is not None:
            self.scores.append(Score(line, value, text.strip(), self._heading_index()))

    def _mojibake(self, text: str) -> None:
        repairs = mojibake.find(text)
        if not repairs:
            return
        starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        by_line: dict[int, list[mojibake.Repair]] = {}
        for r in repairs:
            by_line.setdefault(bisect.bisect_right(starts, r.offset), []).append(r)
        for line, found in by_line.items():
            first = found[0]
            more = f" (and {len(found) - 1} more on this line)" if len(found) > 1 else ""
            self._problem(
                line, "mojibake",
                f"{first.old!r} is UTF-8 read as {first.codec}; lint --fix makes it {first.new!r}{more}",
            )

    def _problem(self, line: int, code: str, message: str) -> None:
        self.problems.append(Problem(self.path, line, code, message))


def _cell(text: str) -> Cell:
    stripped = text.strip()
    return Cell(
        text=stripped,
        percent=recognize.percent(stripped),
        fraction=recognize.fraction(stripped),
        date=recognize.first_date(stripped),
        status=recognize.status_mark(stripped),
        placeholder=recognize.is_placeholder(stripped),
    )
