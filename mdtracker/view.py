"""The analysis as plain data: dicts, lists, strings, numbers and dates. It is what a template sees, what
`report --json` prints and what the dashboard shows, made by the same functions, so a number is the same
everywhere: one entry builder per kind of thing, written once, in two forms (`TEMPLATE`: dates as dates and
numbers as worked out, for templates; `JSON`: dates as `YYYY-MM-DD`, numbers rounded, as SPEC §6 has them).

Templates never see a live object (the analysis, the config, a path): a vault's template could otherwise
reach the file system through it. What a template reads is worked out when it first reads it (`Lazy`), so a
region that shows readiness costs what readiness costs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from mdtracker.analyze import Analysis, Domain, FileSummary, HeadingProgress, Overdue
from mdtracker.counts import Counts
from mdtracker.interviews import Application, Scenarios, Story
from mdtracker.model import Document, Problem
from mdtracker.plans import Milestone
from mdtracker.regions import Region
from mdtracker.reviews import Review
from mdtracker.sandbox import Bounds
from mdtracker.scores import Gap, ScorePoint, TopicResult
from mdtracker.tracks import Track


def _number(value: float | None) -> float | int | None:
    """Numbers as JSON shows them: whole numbers as integers, others rounded to 6 places."""
    if value is None:
        return None
    if float(value).is_integer():
        return int(value)
    return round(value, 6)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass(frozen=True)
class Form:
    """How the entries write dates and numbers, and whether they carry what templates alone use."""

    day: Callable[[Any], Any]
    num: Callable[[Any], Any]
    template: bool


TEMPLATE = Form(lambda d: d, lambda x: x, True)
JSON = Form(_iso, _number, False)


# --- the entries --------------------------------------------------------------------------------------------


def counts(c: Counts, f: Form) -> dict[str, Any]:
    """Task counts; for templates, with the progress they make and the tasks that count (`counted`)."""
    out: dict[str, Any] = {"total": c.total, "todo": c.todo, "in_progress": c.in_progress, "done": c.done,
                           "cancelled": c.cancelled, "non_task": c.non_task}
    if f.template:
        out.update(progress=c.progress, credit=c.credit, counted=c.total - c.cancelled - c.non_task)
    return out


def heading(h: HeadingProgress, f: Form) -> dict[str, Any]:
    out = {"line": h.line, "level": h.level, "text": h.text, "tasks": counts(h.counts, f),
           "progress": f.num(h.counts.progress)}
    if f.template:
        out["counts"] = out["tasks"]
    return out


def file(s: FileSummary, f: Form, headings: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"path": s.path, "tasks": counts(s.counts, f), "progress": f.num(s.counts.progress)}
    if headings:
        out["headings"] = [heading(h, f) for h in s.headings]
    if f.template:
        out["counts"] = out["tasks"]
    return out


def domain(d: Domain, f: Form) -> dict[str, Any]:
    return {"name": d.name, "weight": f.num(d.weight), "covered": f.num(d.covered), "total": f.num(d.total),
            "progress": f.num(d.progress), "items": d.items, "source": d.source}


def overdue(o: Overdue, f: Form) -> dict[str, Any]:
    return {"path": o.path, "line": o.line, "kind": o.kind, "text": o.text, "due": f.day(o.due),
            "days_overdue": o.days_overdue}


def review(r: Review, f: Form) -> dict[str, Any]:
    return {"path": r.path, "line": r.line, "text": r.text, "review": r.review, "due": f.day(r.due),
            "days_overdue": r.days_overdue}


def track(t: Track, f: Form) -> dict[str, Any]:
    days = [{"day": d.day, "topic": d.topic, "line": d.line, "progress": f.num(d.counts.progress),
             "completed": f.day(d.completed), "difficulty": d.difficulty, "notes": d.notes} for d in t.days]
    out = {"path": t.path, "name": t.name, "group": t.group, "start": f.day(t.start),
           "acceleration_days": t.acceleration_days, "today": t.today, "today_topic": t.today_topic,
           "tasks": counts(t.counts, f), "progress": f.num(t.progress), "days": days}
    if f.template:
        out["today_day"] = next((d for d in days if d["day"] == t.today), None)
    return out


def milestone(m: Milestone, f: Form) -> dict[str, Any]:
    return {"path": m.path, "line": m.line, "text": m.text, "target": f.day(m.target), "written": m.written,
            "year_from_line": m.year_from}


def score(p: ScorePoint, f: Form) -> dict[str, Any]:
    return {"path": p.path, "line": p.line, "value": f.num(p.value), "date": f.day(p.date), "text": p.text,
            "section": p.section}


def topic(t: TopicResult, f: Form) -> dict[str, Any]:
    return {"path": t.path, "line": t.line, "topic": t.topic, "value": f.num(t.value), "date": f.day(t.date)}


def gap(g: Gap, f: Form) -> dict[str, Any]:
    return {"path": g.path, "line": g.line, "topic": g.topic, "value": f.num(g.value), "date": f.day(g.date),
            "why": g.why}


def scenarios(x: Scenarios, f: Form) -> dict[str, Any]:
    return {"path": x.path, "line": x.line, "title": x.title, "done": x.done, "in_progress": x.in_progress,
            "total": x.total}


def story(x: Story, f: Form) -> dict[str, Any]:
    return {"path": x.path, "line": x.line, "title": x.title, "complete": x.complete, "filled": list(x.filled)}


def application(x: Application, f: Form) -> dict[str, Any]:
    return {"path": x.path, "line": x.line, "company": x.company, "role": x.role, "status": x.status,
            "next_step": x.next_step, "date": f.day(x.date)}


def completion(c: Any, f: Form) -> dict[str, Any]:
    return {"date": f.day(c.date), "path": c.path, "line": c.line, "text": c.text}


def problem(p: Problem, f: Form) -> dict[str, Any]:
    return {"path": p.path, "line": p.line, "code": p.code, "message": p.message}


def entries(items: Iterable[Any], build: Callable[[Any, Form], dict[str, Any]], f: Form) -> list[dict[str, Any]]:
    return [build(item, f) for item in items]


# --- what templates see ---------------------------------------------------------------------------------


class Lazy(dict):  # type: ignore[type-arg]
    """A plain dict to a template, whose values are worked out when first looked up (`vault.readiness`
    costs readiness, not the whole report). Its only state besides the dict is its makers, which the
    sandbox keeps from templates (a private attribute)."""

    __slots__ = ("_makers",)

    def __init__(self, makers: Mapping[str, Callable[[], Any]]) -> None:
        super().__init__()
        self._makers = makers

    def __missing__(self, key: str) -> Any:
        make = self._makers.get(key)
        if make is None:
            raise KeyError(key)
        with Bounds.untimed():  # a template's clock counts its own work, not the analysis it reads
            value = make()
        dict.__setitem__(self, key, value)
        return value

    def _all(self) -> None:
        for key in self._makers:
            self[key]

    def __iter__(self) -> Any:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __contains__(self, key: object) -> bool:
        return key in self._makers

    def keys(self) -> Any:
        return self._makers.keys()

    def items(self) -> Any:
        self._all()
        return dict.items(self)

    def values(self) -> Any:
        self._all()
        return dict.values(self)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._makers else default


def vault(a: Analysis) -> Lazy:
    """The whole analysis, as templates see it (`vault`): the keys of the JSON report, with dates as dates
    (but in `activity` and `forecast`, which are the report's own), and a few that templates alone use (`counts`, `groups`, `topic_scores`, and `scenarios`, `stories` and
    `applications` beside `interviews`)."""
    f = TEMPLATE
    interviews = Lazy({"scenarios": lambda: entries(a.scenarios, scenarios, f),
                       "stories": lambda: entries(a.stories, story, f),
                       "applications": lambda: entries(a.applications, application, f)})
    return Lazy({
        "today": lambda: a.today,
        "files": lambda: [file(s, f) for s in a.files],
        "tasks": lambda: counts(a.counts, f),
        "counts": lambda: counts(a.counts, f),
        "progress": lambda: a.progress,
        "readiness": lambda: {"overall": a.readiness.overall,
                              "domains": entries(a.readiness.domains, domain, f)},
        "overdue": lambda: entries(a.overdue, overdue, f),
        "reviews": lambda: {"due": entries(a.reviews.due, review, f),
                            "upcoming": entries(a.reviews.upcoming, review, f)},
        "tracks": lambda: entries(a.tracks, track, f),
        "groups": a.groups,
        "milestones": lambda: entries(a.milestones, milestone, f),
        "scores": lambda: entries(a.scores, score, f),
        "topic_scores": lambda: entries(a.topic_scores, topic, f),
        "gaps": lambda: entries(a.gaps, gap, f),
        "interviews": lambda: interviews,
        "scenarios": lambda: interviews["scenarios"],
        "stories": lambda: interviews["stories"],
        "applications": lambda: interviews["applications"],
        "history": lambda: entries(a.history, completion, f),
        "problems": lambda: entries(a.problems, problem, f),
        "activity": lambda: a.activity,
        "forecast": lambda: a.forecast,
    })


def note(doc: Document) -> Lazy:
    """The note a region stands in, as templates see it (`note`): its path, front matter and what it holds,
    each with its line."""
    return Lazy({
        "path": lambda: doc.path,
        "front_matter": lambda: plain(doc.front_matter),
        "headings": lambda: [{"line": h.line, "level": h.level, "text": h.text} for h in doc.headings],
        "tasks": lambda: [{"line": t.line, "symbol": t.symbol, "text": t.text, "depth": t.depth, "due": t.due,
                           "scheduled": t.scheduled, "start": t.start, "created": t.created, "done": t.done,
                           "cancelled": t.cancelled, "tags": list(t.tags), "fields": dict(t.fields)}
                          for t in doc.tasks],
        "fields": lambda: [{"line": x.line, "key": x.key, "value": x.value} for x in doc.fields],
        "scores": lambda: [{"line": x.line, "value": x.value, "text": x.text} for x in doc.scores],
        "tables": lambda: [{"line": t.line, "header": list(t.header),
                            "rows": [[c.text for c in r.cells] for r in t.rows]} for t in doc.tables],
    })


def region(r: Region, arguments: dict[str, Any]) -> dict[str, Any]:
    """The region being rendered (`region`), with its arguments as its template declares them."""
    return {"name": r.name, "line": r.line, "end_line": r.end_line, "inline": r.inline, "arguments": arguments}


def plain(value: Any, depth: int = 0) -> Any:
    """A front matter value as plain data (YAML's safe loader gives nothing else but sets and bytes)."""
    if depth > 50:
        return None
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, (str, int, float, bool, dt.date)) or value is None:
        return value
    return str(value)
