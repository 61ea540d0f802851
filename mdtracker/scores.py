"""Scores (seeds 000 and 001): the dated series of knowledge-check scores, per-topic scores, and knowledge
gaps (topics whose latest score is below `[scores] gap_threshold`).

A score takes the date written on its own line, else the date of the day entry it stands in: the nearest
`Day N` heading or bold label above it, or, when that entry has no date, the next entry of the same day
that has one (`**Day 3 Results Summary** (2025-10-30)`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mdtracker import dates
from mdtracker.model import Document


@dataclass(frozen=True)
class ScorePoint:
    path: str
    line: int
    value: float
    text: str
    date: dt.date | None
    section: str | None


@dataclass(frozen=True)
class TopicResult:
    path: str
    line: int
    topic: str
    value: float
    date: dt.date | None


def _entry_dates(doc: Document) -> list[tuple[int, dt.date | None]]:
    """(line, date) for every heading and label, in order. A `Day N` entry without a date borrows it from
    the next entry of the same day, else counts from the plan's `start` (front matter: Day 1 is the start,
    `Week W Day D` is start + 7(W−1) + D−1); other headings end the day entry above them (date None)."""
    start = dates.as_date(doc.front_matter.get("start"))
    entries: list[tuple[int, tuple[int | None, int] | None, dt.date | None]] = []
    for line, text, is_heading in sorted([(h.line, h.text, True) for h in doc.headings]
                                         + [(x.line, x.text, False) for x in doc.labels]):
        day = dates.plan_day(text, at_start=True)
        if day is None and not is_heading:
            continue
        found = dates.iso_dates(text)
        entries.append((line, day, found[-1] if found else None))
    dated = []
    for i, (line, day, date) in enumerate(entries):
        if date is None and day is not None:
            for later in entries[i + 1:]:
                if later[1] != day:
                    break
                if later[2] is not None:
                    date = later[2]
                    break
            if date is None and start is not None:
                date = dates.from_plan_start(start, *day)
        dated.append((line, date))
    return dated


def _date_at(entries: list[tuple[int, dt.date | None]], line: int, text: str) -> dt.date | None:
    own = dates.iso_dates(text)
    if own:
        return own[0]
    above = [date for entry_line, date in entries if entry_line <= line]
    return above[-1] if above else None


def series(doc: Document) -> tuple[list[ScorePoint], list[TopicResult]]:
    if not doc.scores and not doc.topic_scores:
        return [], []
    entries = _entry_dates(doc)
    points = [
        ScorePoint(doc.path, s.line, s.value, s.text, _date_at(entries, s.line, s.text),
                   doc.headings[s.heading].text if s.heading is not None else None)
        for s in doc.scores
    ]
    topics = [TopicResult(doc.path, t.line, t.topic, t.value, _date_at(entries, t.line, t.topic))
              for t in doc.topic_scores]
    return points, topics


def gaps(results: list[TopicResult], threshold: float) -> list[TopicResult]:
    """Topics whose latest result (by date, then place) is below the threshold, weakest first."""
    latest: dict[str, TopicResult] = {}
    for r in sorted(results, key=lambda r: (r.date or dt.date.min, r.path, r.line)):
        latest[r.topic.casefold()] = r
    return sorted((r for r in latest.values() if r.value < threshold), key=lambda r: (r.value, r.topic))
