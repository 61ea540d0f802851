"""Day entries and the date of a line (docs/recognizers.md, "Day entries" and "Dates").

A *day entry* is a heading or a bold-led label whose text begins (after emphasis, emoji and an optional
`Week N`) with `Day N` or `Day N-M`, or with a weekday: `**Day 3 (Day 17, Thursday 2025-11-13)** ✅`,
`### Week 4 Day 7 (Mon, Nov 24)`, `## **Monday** *[[Journal/2022-09-19|2022-09-19]]*`. A line belongs to the
nearest day entry above it until the next day entry, any heading, or a thematic break (`---`); the labels
between (`**Session 1: Theory Refresh**:`) do not end it.

A day entry's date: a full date it writes (of a range, `(2025-11-20 to 2025-11-21)`, the last: the day it
was done); else `Nov 22`, `Sat, Nov 22` or `22 Nov`, in the year of the nearest full date the note writes
above it (else below), which is said as a notice; else the date of a day entry of the same run whose days
overlap its own (`Day 2 - Speed Practice` takes it from `**Day 2 Results Summary** (2025-10-29)`), looking
below first, then above, as far as a day entry that does not overlap or a heading; else, with a `start` in
the front matter, the start plus the day's number; else none.

A line's date: a full date written on the line itself; else the date of the dated label whose list holds it
(`**Follow-up Session (2025-11-17, 30 min)**:`); else that of its day entry.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import NamedTuple

from mdtracker import dates
from mdtracker.model import Document

_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_ENTRY = re.compile(r"[\W_]*(?:week\s+(\d+)\s*,?\s*)?(?:day\s+(\d+)(?:\s*[-–]\s*(\d+))?\b|(" + _WEEKDAYS + r")\b)",
                    re.IGNORECASE)
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*(?:to|–|-|—|until)\s*(\d{4}-\d{2}-\d{2})")
_DAY_MONTH = re.compile(r"\b(\d{1,2})\s+(" + "|".join(sorted(dates.MONTHS, key=len, reverse=True)) + r")\b\.?",
                        re.IGNORECASE)


class Placed(NamedTuple):
    """A date the note writes without its year, and where the year came from (a notice says so)."""

    line: int
    written: str
    date: dt.date
    year_from: int


@dataclass(frozen=True)
class Entry:
    line: int
    end: int  # the first line that is no longer part of it
    days: tuple[int, int] | None  # `Day 6-7` → (6, 7); a weekday lane: None
    date: dt.date | None
    heading: bool
    week: int | None = None  # `Week 3 Day 2` → 3


_MILESTONE = re.compile(r"\bTarget:", re.IGNORECASE)
_DONE_ON = re.compile(r"\b(?:COMPLETED?|DONE)\b[^()\n]{0,20}\(([^)]*)\)", re.IGNORECASE)
_TARGET = re.compile(r"\b(?:target|due|deadline|by)\s*:?[^)\n]*", re.IGNORECASE)


def written_date(text: str, line: int, known: list[tuple[int, dt.date]]) -> tuple[dt.date | None, Placed | None]:
    """The date a heading or label writes: the one it says it was done on (`✅ **COMPLETED (2025-11-06)**`),
    else a full date (of a range, the last), else a month and day placed in the year of the nearest full
    date above (else below). A target (`(Target: Nov 16)`) is no date of the entry's."""
    text = _TARGET.sub("", text)
    if (done := _DONE_ON.search(text)) is not None and (on := dates.iso_dates(done.group(1))):
        return on[-1], None
    if (span := _RANGE.search(text)) is not None and (last := dates.iso_dates(span.group(2))):
        return last[0], None
    full = dates.iso_dates(text)
    if full:
        return full[0], None
    md = dates.month_day(text)
    if md is None and (m := _DAY_MONTH.search(text)) is not None:
        md = (dates.MONTHS[m.group(2).lower()], int(m.group(1)), m.group(0))
    if md is None or not known:
        return None, None
    at = bisect.bisect_right(known, (line, dt.date.max))
    source = known[at - 1] if at else known[0]
    placed = dates.place(md[0], md[1], source[1])
    return placed, (Placed(line, md[2], placed, source[0]) if placed else None)


def full_dates(doc: Document) -> list[tuple[int, dt.date]]:
    """Full dates the note writes, with their lines (tasks' dates, labels, headings, fields, cells)."""
    found = []
    for t in doc.tasks:
        found += [(t.line, d) for d in (t.due, t.scheduled, t.start, t.created, t.done, t.cancelled) if d]
        found += [(t.line, d) for d in dates.iso_dates(t.text)]
    for line, text in [(x.line, x.text) for x in doc.labels] + [(h.line, h.text) for h in doc.headings] + [
            (f.line, f"{f.key} {f.value}") for f in doc.fields]:
        found += [(line, d) for d in dates.iso_dates(text)]
    for table in doc.tables:
        found += [(row.line, c.date) for row in table.rows for c in row.cells if c.date]
    return sorted(found)


class Calendar:
    """The day entries of one note, and the date of any of its lines."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.placed: list[Placed] = []
        self._known: list[tuple[int, dt.date]] | None = None
        self.entries = self._entries()
        self._starts = [e.line for e in self.entries]
        self._label_dates: dict[int, dt.date | None] = {}

    @property
    def known(self) -> list[tuple[int, dt.date]]:
        if self._known is None:
            self._known = full_dates(self.doc)
        return self._known

    def _entries(self) -> list[Entry]:
        doc = self.doc
        marks = sorted([(h.line, h.text, True) for h in doc.headings] + [(x.line, x.text, False) for x in doc.labels])
        # a day entry ends at a heading, a thematic break, or a milestone (`(Target: Nov 16)`: its items are not
        # a day's log)
        ends = sorted({h.line for h in doc.headings} | set(doc.breaks)
                      | {x.line for x in doc.labels if _MILESTONE.search(x.text)})
        found: list[tuple[int, tuple[int, int] | None, str, bool, int | None]] = []
        for line, text, is_heading in marks:
            m = _ENTRY.match(text.replace("**", "").replace("__", ""))
            if m is None:
                continue
            days = (int(m.group(2)), int(m.group(3) or m.group(2))) if m.group(2) else None
            found.append((line, days, text, is_heading, int(m.group(1)) if m.group(1) else None))
        entries = []
        starts = [line for line, *_ in found]
        for n, (line, days, text, is_heading, week) in enumerate(found):
            after = ends[bisect.bisect_right(ends, line):]
            end = min([after[0]] if after else [10**9])
            if n + 1 < len(found):
                end = min(end, starts[n + 1])
            date, placed = written_date(text, line, self.known) if any(c.isdigit() for c in text) else (None, None)
            if placed is not None:
                self.placed.append(placed)
            entries.append(Entry(line, end, days, date, is_heading, week))
        return self._borrow(entries)

    def _borrow(self, entries: list[Entry]) -> list[Entry]:
        """An entry without a date takes that of an overlapping entry of the same run (below, then above),
        or counts from the plan's start."""
        doc = self.doc
        headings = sorted(h.line for h in doc.headings)
        start = dates.as_date(doc.front_matter.get("start"))
        out = []
        for n, entry in enumerate(entries):
            date = entry.date
            if date is None and entry.days is not None:
                date = self._overlap(entries, n, range(n + 1, len(entries)), headings) or \
                    self._overlap(entries, n, range(n - 1, -1, -1), headings)
                if date is None and start is not None:
                    date = dates.from_plan_start(start, entry.week, entry.days[0])
            out.append(entry if date is entry.date else dataclasses.replace(entry, date=date))
        return out

    @staticmethod
    def _overlap(entries: list[Entry], n: int, order: range, headings: list[int]) -> dt.date | None:
        me = entries[n]
        assert me.days is not None
        for k in order:
            other = entries[k]
            low, high = sorted((me.line, other.line))
            between = bisect.bisect_right(headings, low)
            if between < len(headings) and headings[between] <= high:
                return None  # a heading between: another part of the plan
            if other.days is None or other.days[1] < me.days[0] or other.days[0] > me.days[1]:
                return None
            if other.date is not None:
                return other.date
        return None

    def entry_of(self, line: int) -> Entry | None:
        """The day entry the line stands in, if any."""
        at = bisect.bisect_right(self._starts, line) - 1
        if at < 0:
            return None
        entry = self.entries[at]
        return entry if line < entry.end else None

    def label_date(self, label: int | None) -> dt.date | None:
        """The date a label writes (it dates its own list)."""
        if label is None:
            return None
        if label not in self._label_dates:
            x = self.doc.labels[label]
            self._label_dates[label] = written_date(x.text, x.line, self.known)[0] if any(
                c.isdigit() for c in x.text) else None
        return self._label_dates[label]

    def date_of(self, line: int, text: str = "", label: int | None = None) -> dt.date | None:
        """The date of a line: written on it, else its dated label's, else its day entry's."""
        return self.dated(line, text, label)[0]

    def dated(self, line: int, text: str = "", label: int | None = None) -> tuple[dt.date | None, str]:
        """The date of a line, and where it came from (`report --explain`)."""
        own = dates.iso_dates(text) if text else []
        if own:
            return (own[-1] if _RANGE.search(text) else own[0]), "dated on its line"
        if (by_label := self.label_date(label)) is not None:
            return by_label, f"dated by its label (line {self.doc.labels[label].line})" if label is not None else ""
        entry = self.entry_of(line)
        if entry is not None and entry.date is not None:
            return entry.date, f"dated by its day entry (line {entry.line})"
        return None, "no date: no day entry above it gives one"
