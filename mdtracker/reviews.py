"""Spaced reviews (SPEC §5, seed 003): a done task with a done date is a studied topic, due for review at
the configured intervals after that date.

A finished review is recorded in plain Markdown as a child task of the topic whose text starts with
"review", ticked, with its date: `  - [x] review ✅ 2025-11-14`. Reviews are anchored to the day the topic
was done (the 1/3/7/14 convention of study notes): review k falls due at done + intervals[k−1], and a late
review does not move the next one (if that one has passed meanwhile, it is due at once).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from mdtracker.config import Config, Status
from mdtracker.model import Document, Task


class Review(NamedTuple):
    path: str
    line: int
    text: str
    review: int  # 1 for the topic's first review
    due: dt.date
    days_overdue: int  # 0 when due today, negative when upcoming
    studied: dt.date


def is_review_record(doc: Document, task: Task) -> bool:
    """A child task that records a review of the topic it is nested in."""
    return task.parent is not None and task.text.replace("*", "").lstrip().lower().startswith("review")


def intervals_for(doc: Document, config: Config) -> tuple[int, ...]:
    """A note's own `review_intervals` (front matter of a track note), else the config's."""
    own = doc.front_matter.get("review_intervals")
    if isinstance(own, list) and own and all(isinstance(v, int) and v > 0 for v in own):
        return tuple(own)
    return config.intervals


def next_reviews(doc: Document, config: Config, statuses: list[Status]) -> list[Review]:
    """The next pending review of every studied topic of the note (`days_overdue` is set for a day later).
    `statuses`: the status each task counts as (see `analyze.status_of`)."""
    if all(task.done is None for task in doc.tasks):
        return []
    kinds = [s.type for s in statuses]
    found = []
    intervals = intervals_for(doc, config)
    done_reviews: dict[int, int] = {}
    for task, kind in zip(doc.tasks, kinds):
        if kind == "done" and task.parent is not None and is_review_record(doc, task):
            done_reviews[task.parent] = done_reviews.get(task.parent, 0) + 1
    for index, (task, kind) in enumerate(zip(doc.tasks, kinds)):
        if task.done is None or kind != "done" or is_review_record(doc, task):
            continue
        k = done_reviews.get(index, 0) + 1
        if k > len(intervals):
            continue
        due = task.done + dt.timedelta(days=intervals[k - 1])
        found.append(Review(doc.path, task.line, task.text, k, due, 0, task.done))
    return found
