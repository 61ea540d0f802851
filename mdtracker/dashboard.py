"""The dashboard: one self-contained HTML page of the vault (Today, Readiness, History, Scores, Forecast).

The page is a pure function of the report's data: `page(data)`, where `data` is the report (`data_of`), whose
long lists make only the entries the page shows (each by the report's own builder). Its numbers are the
report's by construction; the charts' geometry (pixels) is worked out here, and every text goes through
Jinja2's autoescape, in a sandbox, from the built-in template only. A Content-Security-Policy in the page
lets it load nothing, and run no script: the only thing it may use is its own `<style>`, by its hash.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import heapq
import importlib.resources
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mdtracker import git_history, report
from mdtracker.analyze import Analysis
from mdtracker.cache import cache_key
from mdtracker.config import Config
from mdtracker.counts import percent
from mdtracker.files import make_cache_folder, write_file
from mdtracker.recognize import title_only

TEMPLATE = "dashboard.html.j2"
DEFAULT_FILE = "dashboard.html"
LIMIT = 50  # overdue items and reviews shown in a list; the report has them all
NOTES_LIMIT = 500  # rows of the per-note table
DAY_ITEMS = 20  # tasks listed for one day
RECENT_DAYS = 28  # the days whose lists show without choosing them (without JavaScript)
SCORE_NOTES = 20  # notes with a score chart
TOPICS_LIMIT = 60


# --- data in ------------------------------------------------------------------------------------------------


def data_of(analysis: Analysis) -> dict[str, Any]:
    """The page's data: the report of the analysis (without per-heading progress), its short lists made; its
    long ones (`report.Entries`) make only the entries the page shows."""
    data = report.as_json(analysis, headings=False)
    data["tracks"] = list(data["tracks"])
    data["milestones"] = list(data["milestones"])
    data["readiness"]["domains"] = list(data["readiness"]["domains"])
    return data


def update(root: Path, config: Config, today: dt.date, stats: Mapping[str, Any], analysis: Callable[[], Analysis],
           out: Path | None = None, cache: bool = True, write: bool = True) -> Path | None:
    """Bring the page at `out` (default: the config's `[dashboard] file`, else `dashboard.html` in the vault) up
    to date: None when it is (nothing is even rendered when the page is the one written for the same notes,
    day, config, template and git HEAD, untouched since: see `stamp`); else its path, written (atomically)
    unless not `write` (`check`). `stats`: the notes as the vault found them; `analysis`, asked for only when
    the page must be made. Raises OSError when it cannot write. For `dashboard`, and for `sync`, `watch` and
    `check`, which keep a configured page fresh."""
    out = out if out is not None else default_path(root, config)
    record = root / ".mdtracker" / STAMP_FILE
    stamped = stamp(root, config, today, stats, out) if cache else None
    if stamped is not None and _stamped(record, stamped, out):
        return None
    raw = page(data_of(analysis()), name=root.resolve().name or str(root)).encode("utf-8")
    try:
        same = out.read_bytes() == raw
    except OSError:
        same = False
    if write and not same:
        write_file(out, raw)
    if stamped is not None and (write or same):
        _stamp(record, stamped, out, raw)
    return None if same else out


STAMP_FILE = "dashboard.json"


def stamp(root: Path, config: Config, today: dt.date, notes: Any, out: Path) -> str:
    """What a page depends on, hashed: this build of mdtracker and the config (`cache.cache_key`), its template,
    the day, the notes as the vault found them (path → size, mtime, digest), the repository's HEAD (the git
    history), the page's place."""
    digest = hashlib.sha256()
    digest.update(json.dumps([*cache_key(config), today.isoformat(), os.path.abspath(out),
                              git_history.head(root), (_templates() / TEMPLATE).read_text("utf-8")]).encode())
    digest.update(json.dumps(notes, sort_keys=True).encode())
    return digest.hexdigest()


def _stamped(record: Path, stamp: str, out: Path) -> bool:
    """Whether the page at `out` is the one written for `stamp`, untouched since."""
    try:
        data = json.loads(record.read_bytes())
        page = out.read_bytes()
    except (OSError, ValueError):
        return False
    return (isinstance(data, dict) and data.get("stamp") == stamp and data.get("out") == os.path.abspath(out)
            and data.get("sha256") == hashlib.sha256(page).hexdigest())


def _stamp(record: Path, stamp: str, out: Path, raw: bytes) -> None:
    try:
        make_cache_folder(record.parent)
        write_file(record, json.dumps({"stamp": stamp, "out": os.path.abspath(out),
                                       "sha256": hashlib.sha256(raw).hexdigest()}).encode())
    except OSError:
        pass


def default_path(root: Path, config: Config) -> Path:
    """The config's `[dashboard] file` in the vault (refused if it leads out of the vault), else dashboard.html."""
    if config.dashboard_file is None:
        return root / DEFAULT_FILE
    path = root / config.dashboard_file
    inside = os.path.realpath(root)
    if os.path.commonpath([inside, os.path.realpath(path.parent)]) != inside:
        raise OSError(f"{config.dashboard_file}: [dashboard] file leads out of the vault; not written")
    return path


# --- page out -----------------------------------------------------------------------------------------------


def _templates() -> Path:
    """The built-in templates: inside the installed package, or `templates/` in a source tree. Never the vault's."""
    try:
        folder = importlib.resources.files("mdtracker.templates")
        if folder.joinpath(TEMPLATE).is_file():
            return Path(str(folder))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "templates"


def csp_hash(text: str) -> str:
    """The CSP source of an inline block: 'sha256-…' of its exact text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(str(text).encode("utf-8")).digest()).decode("ascii") + "'"


def number(value: Any) -> str:
    """A value as the JSON report writes it (for `data-value`, which the tests compare with the report)."""
    return json.dumps(value)


class _Compiled(jinja2.FileSystemBytecodeCache):
    """The built-in page template compiled once, not in every run (a tenth of a second): Jinja2's own cache, in
    its own folder for this user in the system's temporary folder (which Jinja2 makes, and checks is the
    user's and no one else's), never in a vault. A folder it cannot make or write is a template compiled
    again, never an error."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _compiled() -> jinja2.BytecodeCache | None:
    try:
        return _Compiled()
    except (OSError, RuntimeError):  # (no temporary folder, or one that is not safe)
        return None


@functools.lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(_templates()), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, bytecode_cache=_compiled(),
    )
    env.filters.update(percent=percent, json=number, csp_hash=csp_hash, title_only=title_only,
                       per_day=lambda v: "—" if v is None else f"{v:.2f}")
    return env


def page(data: dict[str, Any], name: str = "") -> str:
    """The HTML page of the report's data (`data_of`)."""
    return _environment().get_template(TEMPLATE).render(data=data, view=view(data), name=name)


# --- what the page shows, worked out from the data ----------------------------------------------------------


def view(data: dict[str, Any]) -> dict[str, Any]:
    """Lists in the order the page shows them (each entry with its index in the report, for its `data-key`),
    and the charts' geometry. The long lists are sorted and grouped by their records; only the entries shown
    are made."""
    today = dt.date.fromisoformat(data["today"])
    overdue = data["overdue"]
    late = overdue.records
    shown = heapq.nsmallest(LIMIT, range(len(late)), key=lambda i: (-late[i].days_overdue, late[i].path, late[i].line))
    tracks = list(enumerate(data["tracks"]))
    due = data["reviews"]["due"]
    groups = []
    in_tracks = set()
    for group in sorted({t["group"] for _, t in tracks}):
        members = sorted(((i, t) for i, t in tracks if t["group"] == group), key=lambda e: e[1]["name"])
        paths = {t["path"] for _, t in members}
        in_tracks |= paths
        groups.append({"name": group, "tracks": members,
                       "due": [(i, due[i]) for i, r in enumerate(due.records) if r.path in paths]})
    other_due = [i for i, r in enumerate(due.records) if r.path not in in_tracks]
    files = data["files"]
    counted = [i for i, (_, c) in enumerate(files.records) if c.total - c.cancelled - c.non_task]
    return {
        "overdue": [(i, overdue[i]) for i in shown], "overdue_more": max(0, len(late) - LIMIT),
        "groups": groups, "other_due": [(i, due[i]) for i in other_due[:LIMIT]],
        "other_due_more": max(0, len(other_due) - LIMIT),
        "files": [(i, files[i]) for i in counted[:NOTES_LIMIT]], "files_more": max(0, len(counted) - NOTES_LIMIT),
        "heat": heatmap(data, today),
        "days": day_lists(data, today),
        "scores": score_charts(data),
        "topics": topic_series(data),
        "burnup": burnup_chart(data, today),
    }


HEAT_CELL, HEAT_STEP, HEAT_LEFT, HEAT_TOP = 11, 14, 30, 18


def heatmap(data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The calendar of completions: a column a week (Monday first), a cell a day, five shades."""
    activity = data["activity"]
    start = dt.date.fromisoformat(activity["from"])
    counts = {dt.date.fromisoformat(d["date"]): d for d in activity["days"]}
    listed = {h.date for h in data["history"].records}
    peak = max((d["done"] for d in activity["days"]), default=0)
    cells: list[dict[str, Any]] = []
    months: list[dict[str, Any]] = []
    day, last_month = start, None
    while day <= today:
        col, row = (day - start).days // 7, day.weekday()
        entry = counts.get(day)
        done = entry["done"] if entry else 0
        cells.append({"date": day.isoformat(), "x": HEAT_LEFT + col * HEAT_STEP, "y": HEAT_TOP + row * HEAT_STEP,
                      "done": done, "notes": entry["notes"] if entry else 0, "git": entry["git"] if entry else 0,
                      "level": 0 if not done else min(4, math.ceil(4 * done / peak)),
                      "listed": day in listed})
        if row == 0 and day.month != last_month:  # a month's name over its first week, if it has room
            label = {"col": col, "x": HEAT_LEFT + col * HEAT_STEP, "text": day.strftime("%b")}
            if months and col - months[-1]["col"] < 3:
                months[-1] = label
            else:
                months.append(label)
            last_month = day.month
        day += dt.timedelta(days=1)
    weeks = (today - start).days // 7 + 1
    return {"cells": cells, "months": months, "peak": peak, "cell": HEAT_CELL,
            "width": HEAT_LEFT + weeks * HEAT_STEP, "height": HEAT_TOP + 7 * HEAT_STEP,
            "weekdays": [{"y": HEAT_TOP + row * HEAT_STEP + HEAT_CELL - 2, "text": text}
                         for row, text in ((0, "Mon"), (2, "Wed"), (4, "Fri"))]}


def day_lists(data: dict[str, Any], today: dt.date) -> list[dict[str, Any]]:
    """What was done on each day of the heatmap's year that the notes date, newest first: the last four weeks
    shown, the others when chosen on the heatmap (`#day-…`)."""
    start = dt.date.fromisoformat(data["activity"]["from"])
    recent = today - dt.timedelta(days=RECENT_DAYS - 1)
    history = data["history"]
    by_day: dict[dt.date, list[int]] = {}
    for i, h in enumerate(history.records):
        if start <= h.date <= today:
            by_day.setdefault(h.date, []).append(i)
    return [{"date": day.isoformat(), "entries": [(i, history[i]) for i in found[:DAY_ITEMS]],
             "more": max(0, len(found) - DAY_ITEMS), "total": len(found), "recent": day >= recent}
            for day, found in sorted(by_day.items(), reverse=True)]


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    return start if high == low else start + (value - low) * (end - start) / (high - low)


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


SCORE_W, SCORE_H, SCORE_PAD = 360, 150, 30


def score_charts(data: dict[str, Any]) -> dict[str, Any]:
    """A line chart of each note's dated knowledge-check scores, with the gap threshold."""
    threshold = data["topics"]["gap_threshold"]
    scores = data["scores"]
    by_note: dict[str, list[int]] = {}
    for i, p in enumerate(scores.records):
        by_note.setdefault(p.path, []).append(i)
    charts = []
    for path, found in sorted(by_note.items())[:SCORE_NOTES]:
        entries = [(i, scores[i]) for i in found]
        dated = sorted((e for e in entries if e[1]["date"]), key=lambda e: (e[1]["date"], e[1]["line"]))
        days = [dt.date.fromisoformat(p["date"]).toordinal() for _, p in dated]
        low, high = (min(days), max(days)) if days else (0, 0)
        x = lambda day: _scale(day, low, high, SCORE_PAD + 8, SCORE_W - 10)  # noqa: E731
        y = lambda v: _scale(v, 0, 1, SCORE_H - 20, 10)  # noqa: E731
        marks = [{"i": i, "x": x(d), "y": y(p["value"]), "date": p["date"], "value": p["value"]}
                 for (i, p), d in zip(dated, days)]
        rows, last = [], None
        for i, p in entries:
            trend = "—" if last is None else "▲" if p["value"] > last else "▼" if p["value"] < last else "="
            rows.append({"i": i, "point": p, "trend": trend})
            last = p["value"]
        charts.append({"path": path, "rows": rows, "marks": marks, "line": _points([(m["x"], m["y"]) for m in marks]),
                       "first": dated[0][1]["date"] if dated else None, "last": dated[-1][1]["date"] if dated else None,
                       "threshold_y": y(threshold), "grid": [{"y": y(v), "text": f"{round(v * 100)}%"}
                                                            for v in (0, 0.5, 1)]})
    return {"charts": charts, "more": max(0, len(by_note) - SCORE_NOTES), "width": SCORE_W, "height": SCORE_H,
            "pad": SCORE_PAD}


SPARK_W, SPARK_H = 120, 28


def topic_series(data: dict[str, Any]) -> dict[str, Any]:
    """Each topic's results in date order, a sparkline, and whether its latest result makes it a gap."""
    gaps = {g.topic.casefold() for g in data["gaps"].records}
    results = data["topics"]["results"]
    records = results.records
    by_topic: dict[str, list[int]] = {}
    for i, t in enumerate(records):
        by_topic.setdefault(t.topic.casefold(), []).append(i)
    order = [(t.date or dt.date.min, t.path, t.line) for t in records]  # (undated results count as oldest)
    found = []
    for key, indices in by_topic.items():
        gap = key in gaps
        found.append((not gap, records[max(indices, key=order.__getitem__)].value if gap else 0, key, indices))
    found.sort(key=lambda t: t[:3])
    topics = []
    for _, _, key, indices in found[:TOPICS_LIMIT]:  # (only the topics shown: 17,000 on 10,000 notes)
        entries = [(i, results[i]) for i in sorted(indices, key=order.__getitem__)]
        n = len(entries)
        marks = [{"x": _scale(k, 0, max(1, n - 1), 4, SPARK_W - 4), "y": _scale(t["value"], 0, 1, SPARK_H - 4, 4)}
                 for k, (_, t) in enumerate(entries)]
        topics.append({"topic": entries[-1][1]["topic"], "entries": entries, "gap": key in gaps,
                       "latest": entries[-1], "line": _points([(m["x"], m["y"]) for m in marks]), "marks": marks})
    return {"topics": topics, "more": max(0, len(found) - TOPICS_LIMIT), "width": SPARK_W,
            "height": SPARK_H, "threshold_y": _scale(data["topics"]["gap_threshold"], 0, 1, SPARK_H - 4, 4)}


BURN_W, BURN_H, BURN_L, BURN_R, BURN_T, BURN_B = 720, 300, 46, 20, 16, 44
HORIZON = 366  # days after today the chart reaches at most


def _nice(top: float) -> tuple[float, float]:
    """A round maximum for an axis, and its step (five steps or so)."""
    if top <= 0:
        return 1, 1
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(top / step), step


def burnup_chart(data: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Done over time and the scope, the projections at each pace, the target and the milestones."""
    f = data["forecast"]
    points = f["burnup"]
    first = dt.date.fromisoformat(points[0]["date"]) if points else today
    ends = [today + dt.timedelta(days=14)]
    ends += [dt.date.fromisoformat(p["finish"]) for p in f["pace"] if p["finish"]]
    if f["target"]:
        ends.append(dt.date.fromisoformat(f["target"]["date"]))
    ends += [dt.date.fromisoformat(m["date"]) for m in f["milestones"]]
    last = min(max(ends), today + dt.timedelta(days=HORIZON))
    first = min(first, *(dt.date.fromisoformat(m["date"]) for m in f["milestones"]), today)
    top, step = _nice(max([f["scope"], *(p["scope"] for p in points), *(p["done"] for p in points), 1]))
    left, right, upper, lower = BURN_L, BURN_W - BURN_R, BURN_T, BURN_H - BURN_B

    def x(day: dt.date) -> float:
        return _scale(day.toordinal(), first.toordinal(), last.toordinal(), left, right)

    def y(value: float) -> float:
        return _scale(value, 0, top, lower, upper)

    def toward(per_day: float, end: dt.date) -> tuple[float, float]:  # a straight line from today, cut at the edge
        day = min(end, last)
        return x(day), y(min(top, f["done"] + per_day * (day - today).days))

    done = _points([(x(dt.date.fromisoformat(p["date"])), y(p["done"])) for p in points])
    scope = _points([(x(dt.date.fromisoformat(p["date"])), y(p["scope"])) for p in points]
                    + [(x(last), y(f["scope"]))])
    projections = []
    for n, p in enumerate(f["pace"]):
        if p["per_day"]:
            end = dt.date.fromisoformat(p["finish"]) if p["finish"] else last
            projections.append({"n": n, "days": p["days"], "points": _points([(x(today), y(f["done"])),
                                                                            toward(p["per_day"], end)])})
    target: dict[str, Any] | None = None
    if f["target"]:  # (a vertical line, and the line of the pace it needs)
        day = dt.date.fromisoformat(f["target"]["date"])
        if first <= day <= last:
            target = {"x": x(day), "needed": None}
            if f["target"]["needed_per_day"] and day > today:
                target["needed"] = _points([(x(today), y(f["done"])), (x(day), y(f["scope"]))])
    milestones = [{"i": i, "x": x(dt.date.fromisoformat(m["date"])), "m": m} for i, m in enumerate(f["milestones"])
                  if first <= dt.date.fromisoformat(m["date"]) <= last]
    months = []
    day = first.replace(day=1)
    while day <= last:
        if day >= first:
            months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    every = max(1, math.ceil(len(months) / 8))
    return {
        "width": BURN_W, "height": BURN_H, "left": left, "right": right, "top": upper, "bottom": lower,
        "done": done, "scope": scope, "projections": projections, "target": target, "milestones": milestones,
        "today_x": x(today), "first": first.isoformat(), "last": last.isoformat(),
        "x_ticks": [{"x": x(m), "text": m.strftime("%b %Y" if m.month == 1 or k == 0 else "%b")}
                    for k, m in enumerate(months[::every])],
        "y_ticks": [{"y": y(v * step), "text": f"{v * step:g}"} for v in range(int(round(top / step)) + 1)],
    }
