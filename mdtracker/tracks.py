"""Study tracks (seed 003's study-tracker app, done in Markdown): one note per curriculum.

The note's front matter declares it: `track` (its name), `group` (the app's SWE / ML switch), `start`,
`acceleration_days` (days already skipped), and optionally `review_intervals`. Its `Day N: Topic` headings
are the curriculum. Today's day is `today − start + 1 + acceleration_days`; past the last day there is "No
topic for day X", as the app says. A day's difficulty (1–5) and notes are recorded when it is done, as
Dataview fields on its task (`[difficulty:: 3] [notes:: …]`) or as `Difficulty:: 3` lines under the day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from mdtracker import dates
from mdtracker.counts import Counts, count
from mdtracker.config import Config
from mdtracker.model import Document, Problem
from mdtracker.reviews import is_review_record

_DAY = re.compile(r"^Day\s+(\d+)\s*(?:[:.\-–—]\s*(.*))?$", re.IGNORECASE)


@dataclass(frozen=True)
class TrackDay:
    day: int
    topic: str
    line: int
    counts: Counts
    completed: dt.date | None  # the last ✅ date of its tasks, once all are done
    difficulty: int | None
    notes: str | None


@dataclass(frozen=True)
class Track:
    path: str
    name: str
    group: str
    start: dt.date
    acceleration_days: int
    days: tuple[TrackDay, ...]
    today: int  # the day number today falls on

    def on(self, today: dt.date) -> Track:
        """The track as it stands on `today`: today − start + 1 + acceleration_days."""
        return replace(self, today=(today - self.start).days + 1 + self.acceleration_days)

    @property
    def counts(self) -> Counts:
        total = Counts()
        for day in self.days:
            total += day.counts
        return total

    @property
    def progress(self) -> float | None:
        return self.counts.progress

    @property
    def today_topic(self) -> str:
        for day in self.days:
            if day.day == self.today:
                return day.topic
        return f"No topic for day {self.today}"

    @property
    def today_day(self) -> TrackDay | None:
        return next((d for d in self.days if d.day == self.today), None)


def track(doc: Document, config: Config) -> tuple[Track | None, list[Problem]]:
    meta = doc.front_matter
    if "track" not in meta:
        return None, []
    start = dates.as_date(meta.get("start"))
    if start is None:
        return None, [Problem(doc.path, 1, "bad-date", f"track start {meta.get('start')!r} is not a date YYYY-MM-DD")]
    accel = meta.get("acceleration_days", 0)
    if not isinstance(accel, int) or isinstance(accel, bool):
        return None, [Problem(doc.path, 1, "config", f"acceleration_days must be a whole number, got {accel!r}")]
    days = []
    for n, heading in enumerate(doc.headings):
        m = _DAY.match(heading.text.replace("**", "").strip())
        if m is None:
            continue
        tasks = [t for t in doc.tasks if n in doc.heading_indices(t.heading) and not is_review_record(doc, t)]
        statuses = [config.status(t.symbol) for t in tasks]
        counts = count(s for s in statuses if s is not None)
        finished = bool(tasks) and all(s is not None and s.type in ("done", "cancelled") for s in statuses)
        done_dates = [t.done for t in tasks if t.done]
        fields = {k.lower(): v for t in tasks for k, v in t.fields}
        fields.update({f.key.lower(): f.value for f in doc.fields if f.heading is not None and n in doc.heading_indices(f.heading)})
        difficulty = fields.get("difficulty", "").strip()
        days.append(TrackDay(
            day=int(m.group(1)), topic=(m.group(2) or "").strip() or f"Day {m.group(1)}", line=heading.line,
            counts=counts, completed=max(done_dates) if finished and done_dates else None,
            difficulty=int(difficulty) if difficulty.isdigit() and 1 <= int(difficulty) <= 5 else None,
            notes=fields.get("notes") or None,
        ))
    return Track(doc.path, str(meta["track"]), str(meta.get("group", "")), start, accel, tuple(days), 0), []
