"""Plans (seed 001): milestones with target dates, and day/week entries marked done with a date.

`**End of Week 5** (Target: Dec 1):` followed by a list is a milestone: its unchecked items are overdue once
the target has passed. A year-less target takes its year from the nearest full date the note writes above it
(else below it); with none, it is a `bad-date` problem, never a guess from the calendar.
`**Day 3** ✅ **COMPLETED (2025-11-06)**:` dates the tasks of its list that carry no ✅ date of their own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from mdtracker import dates
from mdtracker.model import Document, Heading, Label, Problem

_TARGET = re.compile(r"\bTarget:\s*([^)\n]+)", re.IGNORECASE)
_COMPLETED = re.compile(r"\bCOMPLETED\b", re.IGNORECASE)


@dataclass(frozen=True)
class Milestone:
    path: str
    line: int
    text: str
    target: dt.date
    written: str  # the target as the note writes it (`Dec 1`)
    year_from: int | None  # the line whose full date gave the year, when the note wrote none
    tasks: tuple[int, ...]  # indices in the Document's tasks


def _entries(doc: Document) -> list[tuple[int, str, list[int]]]:
    """Every heading and bold-led label with the tasks it holds: (line, text, task indices)."""
    found: list[tuple[int, str, list[int]]] = []
    for n, label in enumerate(doc.labels):
        found.append((label.line, label.text, [i for i, t in enumerate(doc.tasks) if t.label == n]))
    held_by: dict[int, list[int]] = {}
    for i, task in enumerate(doc.tasks):
        for n in doc.heading_indices(task.heading):
            held_by.setdefault(n, []).append(i)
    for n, heading in enumerate(doc.headings):
        found.append((heading.line, heading.text, held_by.get(n, [])))
    return sorted(found)


def _full_dates(doc: Document) -> list[tuple[int, dt.date]]:
    """Full dates the note writes, with their lines (tasks' dates, labels, headings, fields, cells)."""
    found = []
    for t in doc.tasks:
        found += [(t.line, d) for d in (t.due, t.scheduled, t.start, t.created, t.done, t.cancelled) if d]
        found += [(t.line, d) for d in dates.iso_dates(t.text)]
    for line, text in [(x.line, x.text) for x in _texts(doc)] + [
            (f.line, f"{f.key} {f.value}") for f in doc.fields]:
        found += [(line, d) for d in dates.iso_dates(text)]
    for table in doc.tables:
        found += [(row.line, c.date) for row in table.rows for c in row.cells if c.date]
    return sorted(found)


def place_target(written: str, line: int, known: list[tuple[int, dt.date]]) -> tuple[dt.date | None, int | None]:
    """A target date and the line whose date gave its year (None when the target wrote its own year)."""
    full = dates.iso_dates(written)
    if full:
        return full[0], None
    md = dates.month_day(written)
    if md is None:
        return None, None
    above = [(n, d) for n, d in known if n <= line]
    source = above[-1] if above else (known[0] if known else None)
    if source is None:
        return None, None
    return dates.place(md[0], md[1], source[1]), source[0]


def milestones(doc: Document) -> tuple[list[Milestone], list[Problem]]:
    found: list[Milestone] = []
    problems: list[Problem] = []
    if not any("arget" in x.text for x in _texts(doc)):
        return found, problems
    known = _full_dates(doc)
    for line, text, held in _entries(doc):
        m = _TARGET.search(text)
        if m is None or not (dates.iso_dates(m.group(1)) or dates.month_day(m.group(1))):
            continue
        written = m.group(1).strip().rstrip("*:").strip()
        target, source = place_target(written, line, known)
        if target is None:
            problems.append(Problem(doc.path, line, "bad-date",
                                    f"cannot place target {written!r}: the note writes no full date to take its year from"))
            continue
        found.append(Milestone(doc.path, line, _title(text), target, written, source, tuple(held)))
    return found, problems


def completion_dates(doc: Document) -> dict[int, dt.date]:
    """Task index → the date its entry (`✅ **COMPLETED (2025-11-10)**`) says it was done, for tasks with
    no ✅ date of their own."""
    done_on: dict[int, dt.date] = {}
    if not any(_COMPLETED.search(x.text) for x in _texts(doc)):
        return done_on
    for _, text, held in reversed(_entries(doc)):  # the innermost entry speaks first
        if _COMPLETED.search(text) and (found := dates.iso_dates(text)):
            for i in held:
                if doc.tasks[i].done is None:
                    done_on.setdefault(i, found[-1])
    return done_on


def _texts(doc: Document) -> list[Label | Heading]:
    return [*doc.labels, *doc.headings]


def _title(text: str) -> str:
    return text.replace("**", "").strip().rstrip(":").strip()
