"""The interview tracker (seed 004): practised scenarios, STAR stories, applications and their follow-ups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mdtracker.model import Document

STAR = ("situation", "task", "action", "result")
# Application statuses after which there is nothing to follow up.
FINAL = frozenset({"rejected", "declined", "withdrawn", "closed", "accepted", "offer accepted", "hired", "ghosted"})


@dataclass(frozen=True)
class Scenarios:
    """A table with a status column of marks (⬜ / ✅ / 🟡 …): how many rows are practised."""

    path: str
    line: int
    title: str
    done: int
    in_progress: int
    total: int


@dataclass(frozen=True)
class Story:
    path: str
    line: int
    title: str
    filled: tuple[str, ...]  # which of Situation, Task, Action, Result have text

    @property
    def complete(self) -> bool:
        return len(self.filled) == len(STAR)


@dataclass(frozen=True)
class Application:
    path: str
    line: int
    company: str
    role: str
    status: str
    next_step: str
    date: dt.date | None

    @property
    def final(self) -> bool:
        return self.status.casefold() in FINAL


def _cell(row_cells: tuple, index: int | None) -> str:
    return row_cells[index].text if index is not None and index < len(row_cells) else ""


def scenarios(doc: Document) -> list[Scenarios]:
    """Tables of practised scenarios: a Status column of marks (⬜ / 🟡 / ✅), in a table whose first column
    or nearest heading names scenarios (not a domain table, a table of scores, a plan's weeks)."""
    found = []
    for table in doc.tables:
        col = table.column("status")
        if col is None or table.generated or table.column("company") is not None:
            continue
        heading = doc.headings[table.heading].text if table.heading is not None else ""
        if not any("scenario" in text.casefold() for text in (table.header[0] if table.header else "", heading)):
            continue
        marks = [r.cells[col].status for r in table.rows if col < len(r.cells) and not r.placeholder]
        if not marks or not all(marks):
            continue
        title = doc.headings[table.heading].text if table.heading is not None else doc.path
        found.append(Scenarios(doc.path, table.line, title, marks.count("done"), marks.count("in_progress"), len(marks)))
    return found


def stories(doc: Document) -> list[Story]:
    """Headings whose section holds STAR fields (`**Situation**: …`)."""
    by_heading: dict[int, dict[str, str]] = {}
    for f in doc.fields:
        key = f.key.casefold()
        if key in STAR and f.heading is not None:
            by_heading.setdefault(f.heading, {})[key] = f.value.strip()
    return [  # (a lone `**Result**:` in a day's log is no story: at least two of its four fields are)
        Story(doc.path, doc.headings[h].line, doc.headings[h].text,
              tuple(k.capitalize() for k in STAR if values.get(k)))
        for h, values in sorted(by_heading.items()) if len(values) >= 2
    ]


def applications(doc: Document) -> list[Application]:
    found = []
    for table in doc.tables:
        company, status = table.column("company"), table.column("status")
        if company is None or status is None or table.generated:
            continue
        role, step, when = table.column("role"), table.column("next"), table.column("date")
        for row in table.rows:
            name = _cell(row.cells, company)
            if row.placeholder or not name or name.startswith("["):
                continue
            date = row.cells[when].date if when is not None and when < len(row.cells) else None
            found.append(Application(doc.path, row.line, name, _cell(row.cells, role), _cell(row.cells, status),
                                     _cell(row.cells, step), date))
    return found
