"""The vault over time, for the report's `activity` and `forecast` keys: the completions the notes date, those
the vault's git history shows, and the target date (the config's, a note's `**Target Interview Date**:`, or
the last milestone's).

Besides git (`git_history`), it reads the notes for their target date, and keeps what it found by each note's
size and modification time in `.mdtracker/targets.json` (plain JSON; anything unexpected in it is ignored).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdtracker import forecast as fc

if TYPE_CHECKING:
    from mdtracker.analyze import Analysis
    from mdtracker.config import Config

TARGET_FIELD = "target interview date"
_MENTIONS = re.compile(rb"target\s+interview\s+date", re.IGNORECASE)
TARGETS_FILE = "targets.json"
MAX_NOTE = 5_000_000  # bytes: a larger file is not read for its target
CACHE_FROM = 500  # notes: fewer are read again in less time than the cache takes
_RACY_NS = 2_000_000_000  # a note changed this close to the cache's writing is read again next time


def engine_vault(analysis: Analysis) -> tuple[Path | None, bool]:
    """The folder of the vault an analysis was made of (None for summaries held in memory), and whether the
    command keeps a cache in it (not with --no-cache). The one place that knows how the engine holds them: the
    summaries of `Vault.analysis` keep their vault, which stores what it parses only with the cache on."""
    vault = getattr(analysis.summaries, "vault", None)
    root = getattr(vault, "root", None)
    return (root, bool(getattr(vault, "store", False))) if isinstance(root, Path) else (None, False)


def report_keys(a: Analysis, root: Path | None = None, cache: bool | None = None) -> dict[str, Any]:
    """The report's `activity` and `forecast`, for the vault at `root`; without `cache`, nothing is read from
    or written to `.mdtracker/` for them. Either, when not given, as the engine loaded the analysis's vault."""
    found, caching = engine_vault(a)
    root = root if root is not None else found
    cache = cache if cache is not None else caching
    today, config, c = a.today, a.config, a.counts
    done_now, scope_now, dated_now = c.done, c.total - c.cancelled - c.non_task, len(a.history)
    start = fc.window_start(today)
    notes = fc.per_day((h.date for h in a.history), start, today)
    git: dict[dt.date, int] = {}
    scope_of: dict[dt.date, int] = {}
    if root is None:
        state: dict[str, Any] = {"used": False, "reason": "no vault folder to look for a git repository in",
                                 "commits": 0, "days": 0, "first": None}
    else:
        from mdtracker import git_history

        history = git_history.read(root, config, today, start, cache)
        snapshots = list(history.snapshots)
        if history.reason is None and not history.after_today:  # the notes on disk are today's last state
            snapshots.append(fc.Snapshot(today, done_now, dated_now, scope_now))
        git = fc.git_completions(snapshots, start)
        scope_of = {s.day: s.scope for s in snapshots}
        state = history.state()
    fields = [fc.Target(day, "note", f"{path}:{line}", "Target Interview Date")
              for path, line, day in ([] if root is None else target_fields(root, a, cache))]
    milestones = [fc.Target(m.target, "milestone", f"{m.path}:{m.line}", m.text) for m in a.milestones]
    target = fc.choose_target(config.forecast_target, config.source, fields, milestones)
    return {
        "activity": fc.activity(today, notes, git, state),
        "forecast": fc.forecast(today, done_now, scope_now, notes, git, scope_of, target, milestones),
    }


def target_fields(root: Path, a: Analysis, cache: bool = True) -> list[tuple[str, int, dt.date]]:
    """(path, line, date) of every `Target Interview Date` field holding a date, in path order."""
    cache_path = root / ".mdtracker" / TARGETS_FILE
    cached = _load(cache_path) if cache else {}
    found, kept = [], {}
    started = time.time_ns()
    top = os.fspath(root)
    for rel in a.summaries.column("path"):
        try:
            st = os.stat(os.path.join(top, rel))  # (strings: 10,000 Path objects would cost more than the stats)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_NOTE:
            continue
        old = cached.get(rel)
        if old is not None and old[0] == st.st_size and old[1] == st.st_mtime_ns:
            entries = old[2]
        else:
            entries = _read_fields(Path(top, rel), rel)
        if st.st_mtime_ns < started - _RACY_NS:
            kept[rel] = [st.st_size, st.st_mtime_ns, entries]
        found += [(rel, line, dt.date.fromisoformat(day)) for line, day in entries]
    if cache and kept != cached and len(kept) >= CACHE_FROM:
        _store(cache_path, kept)
    return found


def _read_fields(path: Path, rel: str) -> list[list[Any]]:
    from mdtracker import dates
    from mdtracker.errors import NoteError
    from mdtracker.files import read_note
    from mdtracker.parse import parse

    try:
        note = read_note(path, rel)
    except NoteError:
        return []
    if not _MENTIONS.search(note.raw):
        return []
    text = note.text
    entries = []
    for f in parse(text, rel).fields:
        if " ".join(f.key.split()).casefold() == TARGET_FIELD and (days := dates.iso_dates(f.value)):
            entries.append([f.line, days[0].isoformat()])
    return entries


def _load(path: Path) -> dict[str, list[Any]]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != 1 or not isinstance(data.get("notes"), dict):
        return {}
    notes = data["notes"]
    for rel, value in notes.items():
        if not (isinstance(value, list) and len(value) == 3 and type(value[0]) is int and type(value[1]) is int
                and isinstance(value[2], list) and all(_entry(e) for e in value[2])):
            return {}
    return notes


def _entry(entry: Any) -> bool:
    if not (isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is int and isinstance(entry[1], str)):
        return False
    try:
        dt.date.fromisoformat(entry[1])
    except ValueError:
        return False
    return True


def _store(path: Path, notes: dict[str, list[Any]]) -> None:
    try:
        path.parent.mkdir(exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# mdtracker's parse cache: safe to delete\n*\n")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".targets.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"format": 1, "notes": notes}, out, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        pass
