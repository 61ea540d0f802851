"""The report of an analysis: the JSON document of SPEC §6, and the human summary on the terminal."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mdtracker import view
from mdtracker.analyze import Analysis
from mdtracker.counts import Counts, percent
from mdtracker.errors import NoteError
from mdtracker.files import read_note, split_lines
from mdtracker.recognize import title_only

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress_bar import ProgressBar

SCHEMA_VERSION = 1
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder for the 100,000 entries of a large vault
ROWS = 40  # rows a terminal list shows; the JSON report has them all


_num = view.JSON.num  # numbers as the JSON report shows them


class Entries(Sequence[dict[str, Any]]):
    """A list of the report's entries, each made (by its builder, from the analysis's record) when it is read:
    `report --json` writes every one, the dashboard shows a few of 47,000 and counts the rest. `records` are
    the analysis's own, for the dashboard's sorting and grouping."""

    def __init__(self, records: Sequence[Any], build: Callable[[Any], dict[str, Any]]) -> None:
        self.records = records
        self._build = build

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._build(record) for record in self.records[index]]
        return self._build(self.records[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self._build, self.records)


def write_json(report: dict[str, Any], out: TextIO) -> None:
    """The report as JSON text: objects indented, and every entry of a list (a file, an overdue item, a review)
    on a line of its own. Each entry is encoded by the json module's C encoder, which an indented dump never
    uses: a 10,000-note report takes a fraction of a second instead of many seconds. A list may be given as
    an iterator: its entries are made as they are written (the files of an 80,000-note vault, which would
    take hundreds of megabytes all at once)."""
    _write(report, out, 0)
    out.write("\n")


def _write(value: Any, out: TextIO, depth: int) -> None:
    pad = "  " * (depth + 1)
    if isinstance(value, dict) and value and depth < 2:
        out.write("{")
        for n, (key, item) in enumerate(value.items()):
            out.write(("," if n else "") + "\n" + pad + _ENCODE(key) + ": ")
            _write(item, out, depth + 1)
        out.write("\n" + "  " * depth + "}")
    elif isinstance(value, (list, Iterator, Entries)) and depth < 3:
        n = 0
        for n, item in enumerate(value, 1):
            out.write(("[" if n == 1 else ",") + "\n" + pad + _ENCODE(item))
        out.write("\n" + "  " * depth + "]" if n else "[]")
    else:
        out.write(_ENCODE(value))


def as_json(a: Analysis, headings: bool = True) -> dict[str, Any]:
    """The report of SPEC §6. Its lists of entries are `Entries`, each entry made as it is read (`write_json`
    writes them one by one).

    `activity` and `forecast` are the analysis's (`Analysis.over_time`: the notes' dates and the vault's git
    history). Without `headings`, the notes' entries leave out their progress per heading (the dashboard shows
    none: on 10,000 notes they are a third of the report's time)."""
    f = view.JSON
    files: Entries
    if headings:
        files = Entries(a.files, lambda s: view.file(s, f))
    else:  # the two fields alone, read from the cache field by field
        files = Entries(list(zip(a.summaries.column("path"), a.summaries.column("counts"))),
                        lambda e: {"path": e[0], "tasks": view.counts(e[1], f), "progress": _num(e[1].progress)})

    def each(items: Sequence[Any], build: Callable[[Any, Any], dict[str, Any]]) -> Entries:
        return Entries(items, lambda item: build(item, f))

    return {
        "schema_version": SCHEMA_VERSION,
        "today": a.today.isoformat(),
        "files": files,
        "tasks": view.counts(a.counts, f),
        "progress": _num(a.progress),
        "readiness": {"overall": _num(a.readiness.overall), "domains": each(a.readiness.domains, view.domain)},
        "overdue": each(a.overdue, view.overdue),
        "reviews": {"due": each(a.reviews.due, view.review), "upcoming": each(a.reviews.upcoming, view.review)},
        "tracks": each(a.tracks, view.track),
        "milestones": each(a.milestones, view.milestone),
        "scores": each(a.scores, view.score),
        "gaps": each(a.gaps, view.gap),
        "topics": {"gap_threshold": _num(a.config.gap_threshold), "results": each(a.topic_scores, view.topic)},
        "interviews": {
            "scenarios": each(a.scenarios, view.scenarios),
            "stories": each(a.stories, view.story),
            "applications": each(a.applications, view.application),
        },
        "history": each(a.history, view.completion),
        "problems": each(a.problems, view.problem),
        "activity": a.activity,
        "forecast": a.forecast,
    }


def _bar(value: float | None, width: int = 24) -> ProgressBar:
    from rich.progress_bar import ProgressBar

    return ProgressBar(total=1.0, completed=value or 0.0, width=width)


def print_summary(a: Analysis, console: Console, vault_name: str) -> None:
    """The human summary: what is overdue first, then readiness, then progress per note."""
    from rich.console import Group  # (deferred, as the other rich modules: `report --json` and the dashboard
    from rich.panel import Panel  # need none of them)
    from rich.table import Table
    from rich.text import Text

    c = a.counts
    console.print(Text.assemble(
        ("mdtracker", "bold"), f" · {vault_name} · today {a.today.isoformat()} · ",
        f"{len(a.files)} notes, {c.total} tasks ({c.done} done, {c.in_progress} in progress, {c.todo} to do"
        + (f", {c.cancelled} cancelled" if c.cancelled else "") + (f", {c.non_task} not tasks" if c.non_task else "") + ")",
    ))
    if a.overdue:
        table = Table(title=f"Overdue ({len(a.overdue)})", title_justify="left", title_style="bold red",
                      show_edge=False, box=None, padding=(0, 1))
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("due")
        table.add_column("late", justify="right", style="red")
        table.add_column("item", overflow="fold")
        late = sorted(a.overdue, key=lambda o: (-o.days_overdue, o.path, o.line))  # most overdue first
        if len(late) > ROWS:
            table.caption = f"… and {len(late) - ROWS} more (report --json lists them all)"
        for o in late[:ROWS]:
            table.add_row(f"{o.path}:{o.line}", o.due.isoformat(), f"{o.days_overdue}d",
                          f"{o.kind}: {title_only(o.text)}" if o.kind != "task" else title_only(o.text))
        console.print(table)
    if a.reviews.due:
        table = Table(title=f"Reviews due ({len(a.reviews.due)})", title_justify="left", title_style="bold yellow",
                      show_edge=False, box=None, padding=(0, 1))
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("review", justify="right")
        table.add_column("due")
        table.add_column("topic", overflow="fold")
        if len(a.reviews.due) > ROWS:
            table.caption = f"… and {len(a.reviews.due) - ROWS} more (report --json lists them all)"
        for r in a.reviews.due[:ROWS]:
            table.add_row(f"{r.path}:{r.line}", str(r.review), r.due.isoformat(), title_only(r.text))
        console.print(table)
    if a.tracks:
        table = Table(title="Today on each track", title_justify="left", title_style="bold",
                      show_edge=False, box=None, padding=(0, 1))
        for column in ("group", "track", "day", "topic", "progress"):
            table.add_column(column)
        for t in sorted(a.tracks, key=lambda t: (t.group, t.name)):
            table.add_row(t.group, t.name, str(t.today), t.today_topic, percent(t.progress))
        console.print(table)
    if a.readiness.domains:
        table = Table(show_edge=False, box=None, padding=(0, 1))
        table.add_column("domain")
        table.add_column("weight", justify="right")
        table.add_column("covered", justify="right")
        table.add_column("")
        table.add_column("", justify="right")
        for d in a.readiness.domains:
            table.add_row(d.name, f"{d.weight:g}", f"{d.covered:g}/{d.total:g}", _bar(d.progress), percent(d.progress))
        console.print(Panel(Group(
            Text.assemble(("Readiness ", "bold"), (percent(a.readiness.overall), "bold green")), table,
        ), title="Weighted readiness", title_align="left", expand=False))
    _print_forecast(a.forecast, console)
    if a.files:
        table = Table(title="Progress per note", title_justify="left", title_style="bold",
                      show_edge=False, box=None, padding=(0, 1))
        table.add_column("note", no_wrap=True)
        table.add_column("done", justify="right")
        table.add_column("")
        table.add_column("", justify="right")
        with_tasks = [f for f in a.files if f.counts.total - f.counts.cancelled - f.counts.non_task]
        for f in with_tasks[:ROWS]:
            counted = f.counts.total - f.counts.cancelled - f.counts.non_task
            table.add_row(f.path, f"{f.counts.done}/{counted}", _bar(f.counts.progress), percent(f.counts.progress))
        if len(with_tasks) > ROWS:
            table.add_row(Text(f"… and {len(with_tasks) - ROWS} more notes (report --json lists them all)",
                               style="dim"), "", "", "")
        table.add_row(Text("all notes", style="bold"), f"{c.done}/{c.total - c.cancelled - c.non_task}",
                      _bar(a.progress), percent(a.progress))
        console.print(table)
    else:
        console.print("No Markdown notes found.")
    if a.problems:
        console.print(f"[yellow]{len(a.problems)} problem(s)[/yellow]: run [bold]mdtracker lint[/bold] to list them.")


_TARGET_SOURCES = {"config": "[forecast] target", "note": "Target Interview Date", "milestone": "last milestone"}


def _print_forecast(f: dict[str, Any], console: Console) -> None:
    """The forecast in a few lines: the pace, the day it gets the remaining tasks done, the target's needs."""
    from rich.console import Group
    from rich.text import Text

    if not f["scope"]:
        return
    lines = [Text.assemble(("Forecast ", "bold"), f"{f['remaining']} of {f['scope']} tasks to go")]
    for p in f["pace"]:
        end = p["finish"] or "never at this pace"
        lines.append(Text(f"  last {p['days']:>2} days: {p['done']} done, {p['per_day']:.2f} a day: done by {end}"))
    t = f["target"]
    if t is None:
        lines.append(Text("  no target date ([forecast] target in the config, or a Target Interview Date field)",
                          style="dim"))
    else:
        needs = (f"needs {t['needed_per_day']:.2f} a day" if t["needed_per_day"] is not None
                 else "has passed" if f["remaining"] else "is met")
        lines.append(Text(f"  target {t['date']} ({_TARGET_SOURCES[t['source']]}, {t['where']}), "
                          f"in {t['days_left']} days: {needs}"))
    console.print(Group(*lines))


# --- report --explain -----------------------------------------------------------------------------------

EXPLAINED = ("scores", "topics", "gaps", "history", "milestones", "scenarios", "stories", "applications",
             "followups", "domains")


def explain(a: Analysis, kind: str, root: Path) -> Iterator[str]:
    """Each item of one recognizer, with the line it came from and the rule that took it: why a summary lists
    what it lists (`report --explain gaps`)."""
    threshold = percent(a.config.gap_threshold)
    items: list[tuple[str, int, str, str]] = []  # (path, line, what, rule)
    if kind == "scores":
        items = [(p.path, p.line, f"score {percent(p.value, 1)}" + (f" on {p.date}" if p.date else ""), p.rule)
                 for p in a.scores]
    elif kind == "topics":
        items = [(t.path, t.line, f"{t.topic}: {percent(t.value, 1)}" + (f" on {t.date}" if t.date else ""), t.rule)
                 for t in a.topic_scores]
    elif kind == "gaps":
        items = [(g.path, g.line, f"gap {g.topic}" + (f" ({percent(g.value)})" if g.value is not None else ""),
                  f"its latest result is below the threshold ({threshold})" if g.why == "low-latest" else
                  "listed as a gap, and no later result lifts it to the threshold") for g in a.gaps]
    elif kind == "history":
        items = [(c.path, c.line, f"done on {c.date}", c.rule) for c in sorted(a.history, key=lambda c: (c.path, c.line))]
    elif kind == "milestones":
        items = [(m.path, m.line, f"milestone {m.text!r}, target {m.target}",
                  "a label with (Target: DATE) followed by a list" + (
                      f"; the year from the date on line {m.year_from}" if m.year_from else "")) for m in a.milestones]
    elif kind == "scenarios":
        items = [(x.path, x.line, f"{x.title}: {x.done} of {x.total} practised",
                  "a table with a Status column of marks, under a heading or first column that names scenarios")
                 for x in a.scenarios]
    elif kind == "stories":
        for x in a.stories:
            missing = ", ".join(s for s in ("Situation", "Task", "Action", "Result") if s not in x.filled)
            items.append((x.path, x.line, f"story {x.title!r}: " + ("complete" if x.complete else f"missing {missing}"),
                          "a heading whose section holds at least two of **Situation**: **Task**: **Action**: "
                          "**Result**:"))
    elif kind == "applications":
        items = [(x.path, x.line, f"{x.company}: {x.status}", "a row of a table with Company and Status columns")
                 for x in a.applications]
    elif kind == "followups":
        items = [(o.path, o.line, f"follow up: {o.text} ({o.days_overdue} days late)",
                  "an application whose Date has passed and whose status is not final")
                 for o in a.overdue if o.kind == "followup"]
    elif kind == "domains":
        items = [(d.source.rsplit(":", 1)[0], int(d.source.rsplit(":", 1)[1]) if ":" in d.source else 0,
                  f"domain {d.name} ({d.weight:g}%), {d.covered:g} of {d.total:g}",
                  "a row of a domain table (`Name (20%)` in the first column, a Total column)" if ":" in d.source
                  else "[[domains]] in the config") for d in a.readiness.domains]
    lines: dict[str, list[str]] = {}
    for path, line, what, rule in items:
        if path not in lines:
            try:
                lines[path] = split_lines(read_note(root / path, path).text)
            except NoteError:
                lines[path] = []
        written = lines[path][line - 1].strip() if 0 < line <= len(lines[path]) else ""
        yield f"{path}:{line}: {what}\n    rule: {rule}" + (f"\n    line: {written}" if written else "")
