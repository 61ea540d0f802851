"""The model of one note: plain, immutable data built from the file alone.

A `Document` knows nothing of the config or of other notes, so it can be cached and compared; the analysis
combines Documents with the config. Every line number is 1-based and counts the file's own lines (front
matter and a BOM included).

What a note holds many of (headings, tasks, cells, rows; and in the analysis overdue items, reviews,
completions) are NamedTuples: as immutable as frozen dataclasses, and built and pickled several times
faster, which a cold run of 10,000 notes feels. The cache's format changes whenever one of them does.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mdtracker.regions import Cookie, Region


@dataclass(frozen=True)
class Problem:
    """Something `lint` reports: `path:line: code message`."""

    path: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


class Heading(NamedTuple):
    line: int
    level: int
    text: str  # as written, without a trailing cookie (sync rewrites those)
    parent: int | None  # index of the enclosing heading in Document.headings


class Task(NamedTuple):
    """A checkbox list item."""

    line: int
    symbol: str
    text: str  # the task's first line after `[c] `, Markdown as written, without a trailing cookie
    depth: int  # 0 for a top-level item, 1 for a child of an item, ...
    heading: int | None  # index of the nearest heading above
    group: str | None  # the bold label (`**Fundamentals**`) the item's list follows, if any
    due: dt.date | None = None
    scheduled: dt.date | None = None
    start: dt.date | None = None
    created: dt.date | None = None
    done: dt.date | None = None
    cancelled: dt.date | None = None
    tags: tuple[str, ...] = ()
    parent: int | None = None  # index of the enclosing task in Document.tasks, if the item is nested in one
    label: int | None = None  # index in Document.labels of the bold-led line whose list holds the task
    fields: tuple[tuple[str, str], ...] = ()  # Dataview inline fields on the line: [difficulty:: 3]


class Cell(NamedTuple):
    """A table cell and the values it holds."""

    text: str
    percent: float | None = None
    fraction: tuple[float, float] | None = None
    date: dt.date | None = None
    status: str | None = None  # from a mark: done / in_progress / todo
    placeholder: bool = False


class Row(NamedTuple):
    line: int
    cells: tuple[Cell, ...]
    placeholder: bool = False  # a template row (`| — | — |`) that holds no entry: every cell a placeholder


@dataclass(frozen=True)
class Table:
    line: int
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    heading: int | None
    generated: bool = False  # inside a managed region: read for its values, never counted as items

    def column(self, *words: str) -> int | None:
        """Index of the first header cell holding one of `words` (case-insensitive), or None."""
        return _column(self.header, words)


@functools.lru_cache(maxsize=4096)  # the same headers recur in note after note
def _column(header: tuple[str, ...], words: tuple[str, ...]) -> int | None:
    return next((n for n, h in enumerate(header) if any(w in h.casefold() for w in words)), None)


@dataclass(frozen=True)
class Field:
    line: int
    key: str
    value: str
    heading: int | None = None


@dataclass(frozen=True)
class TopicScore:
    line: int
    topic: str
    value: float  # 0..1
    heading: int | None
    label: int | None = None  # index in Document.labels of the bold-led line whose list holds it
    parent: int | None = None  # the first line of the list item its item is nested in
    many: bool = False  # one of several topics its line names (read only in a check's breakdown)
    table: bool = False  # a row of a table with a Score column
    rule: str = ""  # the rule that read it (`report --explain`)


@dataclass(frozen=True)
class Listed:
    """A list item that lists knowledge gaps: under a heading or label that names gaps, or led by one
    (`Critical gaps: A (30%), B`); `text` is what it lists."""

    line: int
    text: str
    heading: int | None
    label: int | None
    remaining: bool = False  # a re-assessment's list of the gaps that remain: it replaces the lists before it
    led: bool = False  # led by a gaps label (`Critical gaps: A, B`): a topic between each two commas


@dataclass(frozen=True)
class Label:
    """A one-line paragraph that starts in bold: `**Fundamentals**`, `**Day 3** ✅ **COMPLETED (2025-11-06)**:`,
    `**End of Week 5** (Target: Dec 1):`. Groups the list right after it, and dates what follows it."""

    line: int
    text: str
    heading: int | None


@dataclass(frozen=True)
class Score:
    line: int
    value: float  # 0..1
    text: str
    heading: int | None
    label: int | None = None  # index in Document.labels of the bold-led line whose list holds it
    parent: int | None = None  # the first line of the list item its item is nested in
    rule: str = ""  # the rule that read it (`report --explain`)


@dataclass(frozen=True)
class Document:
    path: str  # relative to the vault, with `/`
    digest: str = ""  # of the bytes it was parsed from
    front_matter: dict[str, Any] = field(default_factory=dict)
    headings: tuple[Heading, ...] = ()
    tasks: tuple[Task, ...] = ()
    tables: tuple[Table, ...] = ()
    labels: tuple[Label, ...] = ()
    fields: tuple[Field, ...] = ()
    scores: tuple[Score, ...] = ()
    topic_scores: tuple[TopicScore, ...] = ()
    problems: tuple[Problem, ...] = ()
    regions: tuple[Region, ...] = ()
    cookies: tuple[Cookie, ...] = ()
    marker_error: bool = False  # markers are malformed: the note must not be rewritten
    breaks: tuple[int, ...] = ()  # the lines of thematic breaks (`---`): a day's entry ends at one
    listed: tuple[Listed, ...] = ()  # list items that list knowledge gaps
    repairs: tuple[int, ...] = ()  # where mojibake stands outside code (offsets in the text): what is repaired

    @property
    def managed(self) -> bool:
        """Whether sync has anything to rewrite in this note."""
        return bool(self.regions or self.cookies)

    def heading_indices(self, index: int | None) -> set[int]:
        """The index of the heading at `index` and of every heading enclosing it."""
        chain = set()
        while index is not None:
            chain.add(index)
            index = self.headings[index].parent
        return chain

    def heading_chain(self, index: int | None) -> list[Heading]:
        """The heading at `index` and every heading enclosing it, innermost first."""
        chain = []
        while index is not None:
            heading = self.headings[index]
            chain.append(heading)
            index = heading.parent
        return chain
