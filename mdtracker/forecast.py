"""The forecast: what was done day by day, done over time against the scope (a burn-up), the pace of the last
7, 14 and 28 days, the date the remaining tasks are done at each pace, and the pace that a target date needs.

Pure functions of plain data (dates and counts), so that each definition is tested on its own. The analysis
(`analyze.Analysis.over_time`) builds the report's `activity` and `forecast` keys with `over_time` below, from
the completions the notes date, the target dates they write, and what the vault's git history shows
(`git_history`, which it is handed); `report --json`, the `forecast` region and the dashboard show that.

Definitions (the README's Dashboard section says the same for users):
- *scope* = the tasks that count (all but cancelled and non-tasks), *remaining* = scope − done.
- *completions on a day* = the done tasks the notes date on that day (✅ dates, dated day entries), plus,
  from the git history, the rise of the number of done tasks that carry no date, from one day's last commit to
  the next (a fall counts as 0; the first commit read is where the history starts).
- *done on day d* (the burn-up) = done today − the completions after d.
- *pace over n days* = the completions of the last n days (today included) / n; at that pace the remaining
  tasks are done on today + ⌈remaining × n / completions⌉ (never, at a pace of 0; today, with none left).
- *needed pace* = remaining / the days from today to the target (none once the target is today or past).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

PACE_DAYS = (7, 14, 28)
WEEKS = 53  # the heatmap's year: this week and the 52 before it, as a contributions graph shows


class Snapshot(NamedTuple):
    """The vault's notes as one day's last commit holds them (or as they are on disk today)."""

    day: dt.date
    done: int  # done tasks
    dated: int  # of which the notes date (what `history` lists)
    scope: int  # tasks that count: all but cancelled and non-tasks


@dataclass
class GitHistory:
    """Snapshots of the vault's notes (one a day, the last commit of the day, in day order), or a reason."""

    snapshots: list[Snapshot] = field(default_factory=list)
    reason: str | None = None  # why there is no git history
    commits: int = 0  # commits read
    after_today: bool = False  # some commit is dated after `today` (a "today" fixed in the past)

    def state(self) -> dict[str, Any]:
        """What the report says of it."""
        return {"used": self.reason is None, "reason": self.reason, "commits": self.commits,
                "days": len(self.snapshots),
                "first": self.snapshots[0].day.isoformat() if self.snapshots else None}


NO_FOLDER = GitHistory(reason="no vault folder to look for a git repository in")


def window_start(today: dt.date) -> dt.date:
    """The first day of the heatmap's year: the Monday 52 weeks before the Monday of today's week."""
    return today - dt.timedelta(days=today.weekday() + 7 * (WEEKS - 1))


def per_day(days: Iterable[dt.date], start: dt.date, today: dt.date) -> dict[dt.date, int]:
    """How many of `days` fall on each day from `start` to `today`."""
    found: dict[dt.date, int] = {}
    for day in days:
        if start <= day <= today:
            found[day] = found.get(day, 0) + 1
    return found


def git_completions(snapshots: Sequence[Snapshot], start: dt.date) -> dict[dt.date, int]:
    """Completions per day (from `start` on) that the snapshots show: each rise of the undated done count over
    the snapshot before it counts on the later one's day. The first snapshot is the baseline."""
    found: dict[dt.date, int] = {}
    for before, after in zip(snapshots, snapshots[1:]):
        rise = (after.done - after.dated) - (before.done - before.dated)
        if rise > 0 and after.day >= start:
            found[after.day] = found.get(after.day, 0) + rise
    return found


def merged(notes: Mapping[dt.date, int], git: Mapping[dt.date, int]) -> dict[dt.date, tuple[int, int]]:
    """(from the notes, from git) for every day that has completions."""
    return {day: (notes.get(day, 0), git.get(day, 0)) for day in sorted(set(notes) | set(git))
            if notes.get(day, 0) + git.get(day, 0) > 0}


def streaks(active: Iterable[dt.date], today: dt.date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days with completions. The current run ends today, or
    yesterday while today has none yet."""
    days = set(active)
    longest = 0
    for day in days:
        if day - dt.timedelta(days=1) not in days:  # the first day of a run
            n = 1
            while day + dt.timedelta(days=n) in days:
                n += 1
            longest = max(longest, n)
    end = today if today in days else today - dt.timedelta(days=1)
    current = 0
    while end - dt.timedelta(days=current) in days:
        current += 1
    return current, longest


def pace(completions: Mapping[dt.date, int], today: dt.date, days: int) -> int:
    """The completions of the last `days` days, today included."""
    since = today - dt.timedelta(days=days)
    return sum(n for day, n in completions.items() if since < day <= today)


def finish(remaining: int, done: int, days: int, today: dt.date) -> dt.date | None:
    """The day the remaining tasks are done at `done` tasks in `days` days: today when none remain, None at a
    pace of 0. Whole numbers only, so that no float rounding moves the day."""
    if remaining <= 0:
        return today
    if done <= 0:
        return None
    return today + dt.timedelta(days=-(-remaining * days // done))


def needed(remaining: int, today: dt.date, target: dt.date) -> float | None:
    """Tasks a day needed to finish by the target: 0 when none remain, None once the target is today or past."""
    if remaining <= 0:
        return 0.0
    left = (target - today).days
    return remaining / left if left > 0 else None


def burn_up(completions: Mapping[dt.date, int], done_now: int, scope_of: Mapping[dt.date, int], scope_now: int,
            start: dt.date, today: dt.date) -> list[tuple[dt.date, int, int]]:
    """(day, done, scope) for every day from `start` to `today`: done = done today − the completions after
    that day (never below 0); scope = that of the latest snapshot on or before the day (`scope_of`, by day),
    the earliest one's before them, `scope_now` today or with no snapshots."""
    points = []
    later = sum(n for day, n in completions.items() if start < day <= today)
    known = sorted(scope_of.items())
    k = 0
    scope = known[0][1] if known else scope_now
    day = start
    while day <= today:
        while k < len(known) and known[k][0] <= day:
            scope = known[k][1]
            k += 1
        points.append((day, max(0, done_now - later), scope_now if day == today else scope))
        day += dt.timedelta(days=1)
        later -= completions.get(day, 0)
    return points


class Target(NamedTuple):
    day: dt.date
    source: str  # config, note, milestone
    where: str  # the config file, or path:line
    text: str


def choose_target(config_target: dt.date | None, config_source: str | None, fields: Sequence[Target],
                  milestones: Sequence[Target]) -> Target | None:
    """The target date: the config's `[forecast] target`, else the first `Target Interview Date` a note writes
    (in path order), else the last milestone's target."""
    if config_target is not None:
        return Target(config_target, "config", config_source or "config", "[forecast] target")
    if fields:
        return fields[0]
    if milestones:
        return max(milestones, key=lambda m: m.day)
    return None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _num(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 6)


def activity(today: dt.date, notes: Mapping[dt.date, int], git: Mapping[dt.date, int],
             git_state: Mapping[str, Any]) -> dict[str, Any]:
    """The report's `activity`: completions per day over the heatmap's year, by source, with the streaks."""
    days = merged(notes, git)
    current, longest = streaks(days, today)
    return {
        "from": window_start(today).isoformat(),
        "to": today.isoformat(),
        "total": sum(a + b for a, b in days.values()),
        "streak": {"current": current, "longest": longest},
        "git": dict(git_state),
        "days": [{"date": day.isoformat(), "done": a + b, "notes": a, "git": b} for day, (a, b) in days.items()],
    }


def forecast(today: dt.date, done_now: int, scope_now: int, notes: Mapping[dt.date, int],
             git: Mapping[dt.date, int], scope_of: Mapping[dt.date, int], target: Target | None,
             milestones: Sequence[Target]) -> dict[str, Any]:
    """The report's `forecast`: the burn-up since the first completion (or commit) of the year, the pace of the last 7, 14
    and 28 days with the day each finishes, the target and the pace it needs, the milestones."""
    completions = {day: a + b for day, (a, b) in merged(notes, git).items()}
    remaining = max(0, scope_now - done_now)
    year = window_start(today)
    first = min([*(d - dt.timedelta(days=1) for d in completions), *(d for d in scope_of if d >= year)],
                default=today - dt.timedelta(days=1))  # the day before the first completion, or the first commit
    start = max(year, first)
    paces = []
    for days in PACE_DAYS:
        done = pace(completions, today, days)
        end = finish(remaining, done, days, today)
        paces.append({"days": days, "done": done, "per_day": _num(done / days), "finish": _iso(end),
                      "on_track": None if target is None else end is not None and end <= target.day})
    return {
        "done": done_now,
        "scope": scope_now,
        "remaining": remaining,
        "pace": paces,
        "target": None if target is None else {
            "date": target.day.isoformat(), "source": target.source, "where": target.where, "text": target.text,
            "days_left": (target.day - today).days, "needed_per_day": _num(needed(remaining, today, target.day)),
        },
        "milestones": [{"date": m.day.isoformat(), "where": m.where, "text": m.text, "passed": m.day < today}
                       for m in sorted(milestones, key=lambda m: (m.day, m.where))],
        "burnup": [{"date": day.isoformat(), "done": done, "scope": scope}
                   for day, done, scope in burn_up(completions, done_now, scope_of, scope_now, start, today)],
    }


def over_time(today: dt.date, done_now: int, scope_now: int, history: Sequence[dt.date], history_of: GitHistory,
              target: Target | None, milestones: Sequence[Target]) -> dict[str, Any]:
    """The report's `activity` and `forecast`: from the days of the completions the notes date (`history`),
    the vault's git history (its snapshots up to today; the notes on disk are today's last state), the target
    and the milestones."""
    start = window_start(today)
    notes = per_day(history, start, today)
    snapshots = list(history_of.snapshots)
    if history_of.reason is None and not history_of.after_today:
        snapshots.append(Snapshot(today, done_now, len(history), scope_now))
    git = git_completions(snapshots, start) if history_of.reason is None else {}
    scope_of = {s.day: s.scope for s in snapshots} if history_of.reason is None else {}
    return {
        "activity": activity(today, notes, git, history_of.state()),
        "forecast": forecast(today, done_now, scope_now, notes, git, scope_of, target, milestones),
    }
