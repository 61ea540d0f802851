"""Task counts of a set of tasks and the progress they make (SPEC §5)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from mdtracker.config import Status


@dataclass(frozen=True)
class Counts:
    """Task counts of a set of tasks, and the credit they earn."""

    total: int = 0
    todo: int = 0
    in_progress: int = 0
    done: int = 0
    cancelled: int = 0
    non_task: int = 0
    credit: float = 0.0

    @property
    def progress(self) -> float | None:
        """(done + Σ credit of in_progress) / (all − cancelled − non_task); None when nothing counts."""
        counted = self.total - self.cancelled - self.non_task
        return self.credit / counted if counted else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f) + getattr(other, f) for f in _COUNT_FIELDS))


_COUNT_FIELDS = ("total", "todo", "in_progress", "done", "cancelled", "non_task", "credit")


def count(statuses: Iterable[Status]) -> Counts:
    statuses = list(statuses)
    kinds = [status.type for status in statuses]
    credit = 0.0
    for status in statuses:  # added in order, as ever: the same float every time
        credit += status.credit
    return Counts(len(kinds), kinds.count("todo"), kinds.count("in_progress"), kinds.count("done"),
                  kinds.count("cancelled"), kinds.count("non_task"), credit)


def percent(value: float | None, digits: int = 0) -> str:
    """A fraction as people read it: 0.3125 → `31%`, halves rounded up (0.125 → `13%`); None → `—`."""
    if value is None:
        return "—"
    scaled = value * 100 * 10**digits
    return f"{math.floor(scaled + 0.5) / 10**digits:.{digits}f}%"
