"""Dates as notes write them, placed on the calendar without guessing (research: spaced-repetition §6).

`Dec 1` has no year: it takes the year that puts it nearest to a full date the note itself gives (the
closest one written above it), never the clock's. `Day 15` and `Week 3 Day 2` count from a plan's start
date. A date that cannot be placed is None, and the caller reports it as a `bad-date` problem.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = {name: n for n, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
     ("nov", "november"), ("dec", "december")], 1) for name in names}

_MONTH_DAY = re.compile(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{1,2})(?!\d)",
                        re.IGNORECASE)
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_PLAN_DAY = re.compile(r"\b(?:Week\s+(\d+)\s*,?\s*)?Day\s+(\d+)\b", re.IGNORECASE)
_PLAN_DAY_START = re.compile(r"[\W_]*(?:Week\s+(\d+)\s*,?\s*)?Day\s+(\d+)\b", re.IGNORECASE)


def iso_dates(text: str) -> list[dt.date]:
    """Every real `YYYY-MM-DD` date in the text, in order (impossible ones are skipped)."""
    found = []
    for m in _ISO.finditer(text):
        try:
            found.append(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            pass
    return found


def month_day(text: str) -> tuple[int, int, str] | None:
    """The first `Dec 1` / `December 1` in the text: (month, day, as written)."""
    m = _MONTH_DAY.search(text)
    if m is None:
        return None
    return MONTHS[m.group(1).lower()], int(m.group(2)), m.group(0)


def place(month: int, day: int, near: dt.date) -> dt.date | None:
    """The `month`/`day` in the year that puts it nearest to `near` (Dec 1 near 2026-01-03 → 2025-12-01)."""
    options = []
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            options.append(dt.date(year, month, day))
        except ValueError:  # Feb 30, or Feb 29 in a common year
            continue
    return min(options, key=lambda d: abs((d - near).days)) if options else None


def plan_day(text: str, at_start: bool = False) -> tuple[int | None, int] | None:
    """`Day 15` → (None, 15); `Week 3 Day 2` → (3, 2); else None. With `at_start`, only a text that begins
    with it (after emphasis and emoji): an entry *for* a day, not one that mentions a day."""
    m = (_PLAN_DAY_START.match if at_start else _PLAN_DAY.search)(text)
    if m is None:
        return None
    return (int(m.group(1)) if m.group(1) else None), int(m.group(2))


def from_plan_start(start: dt.date, week: int | None, day: int) -> dt.date:
    """Day 1 is the start date; Week W Day D is `start + 7(W−1) + (D−1)`."""
    return start + dt.timedelta(days=7 * ((week or 1) - 1) + day - 1)


def as_date(value: object) -> dt.date | None:
    """A date from a TOML or YAML value: a date, a datetime, or a `YYYY-MM-DD` string; else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
