"""Vault-level analysis: task counts and progress, overdue tasks, domains and weighted readiness (SPEC §5).

Knows statistics and nothing of Markdown syntax: it reads Documents and the config.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from mdtracker import interviews, plans, recognize, reviews, scores, tracks
from mdtracker.plans import Milestone
from mdtracker.reviews import Review
from mdtracker.scores import ScorePoint, TopicResult
from mdtracker.tracks import Track
from mdtracker.config import Config, DomainSpec, Status
from mdtracker.counts import Counts, count
from mdtracker.model import Document, Problem, Row, Table, Task

TODO = Status("todo", 0.0)


@dataclass(frozen=True, slots=True)
class HeadingProgress:
    line: int
    level: int
    text: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class FileSummary:
    path: str
    counts: Counts
    headings: tuple[HeadingProgress, ...]  # headings with tasks below them, in file order


@dataclass(frozen=True, slots=True)
class Overdue:
    path: str
    line: int
    kind: str  # task, review, milestone, followup
    text: str
    due: dt.date
    days_overdue: int


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    weight: float
    covered: float
    total: float
    items: int
    source: str  # where it was declared: the config, or `path:line` of a domain table

    @property
    def progress(self) -> float:
        return min(1.0, self.covered / self.total) if self.total else 0.0


@dataclass(frozen=True, slots=True)
class Readiness:
    domains: tuple[Domain, ...]

    @property
    def overall(self) -> float | None:
        weight = sum(d.weight for d in self.domains)
        if not weight:
            return None
        return sum(d.weight * d.progress for d in self.domains) / weight


@dataclass(frozen=True, slots=True)
class Reviews:
    due: tuple[Review, ...] = ()
    upcoming: tuple[Review, ...] = ()


@dataclass(frozen=True, slots=True)
class Completion:
    """A task done on a known date: by its own ✅ date, or by the date of the entry it stands in."""

    date: dt.date
    path: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Analysis:
    today: dt.date
    files: tuple[FileSummary, ...]
    counts: Counts
    readiness: Readiness
    overdue: tuple[Overdue, ...]
    problems: tuple[Problem, ...]
    reviews: Reviews = Reviews()
    tracks: tuple[Track, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    scores: tuple[ScorePoint, ...] = ()
    topic_scores: tuple[TopicResult, ...] = ()
    gaps: tuple[TopicResult, ...] = ()
    scenarios: tuple[interviews.Scenarios, ...] = ()
    stories: tuple[interviews.Story, ...] = ()
    applications: tuple[interviews.Application, ...] = ()
    history: tuple[Completion, ...] = ()
    domain_tables: tuple[tuple[str, Table], ...] = field(default=())

    def groups(self) -> list[str]:
        """The track groups (the app's SWE / ML switch), in order."""
        return sorted({t.group for t in self.tracks})

    @property
    def progress(self) -> float | None:
        return self.counts.progress


def status_of(task: Task, config: Config) -> Status:
    """The status a task counts as: its configured one, else todo (and an `unknown-status` problem)."""
    return config.status(task.symbol) or TODO


def analyze(documents: Iterable[Document], config: Config, today: dt.date,
            errors: Iterable[Problem] = ()) -> Analysis:
    docs = sorted(documents, key=lambda d: d.path)
    problems: list[Problem] = list(errors)
    files, overdue = [], []
    total = Counts()
    work = _Workflow()
    for doc in docs:
        problems.extend(doc.problems)
        statuses = []
        for task in doc.tasks:
            status = config.status(task.symbol)
            if status is None:
                problems.append(Problem(
                    doc.path, task.line, "unknown-status",
                    f"[{task.symbol}] is not a known status; counted as todo (map it under [statuses] in the config)",
                ))
                status = TODO
            statuses.append(status)
            if status.type in ("todo", "in_progress") and task.due is not None and task.due < today:
                overdue.append(Overdue(doc.path, task.line, "task", task.text, task.due, (today - task.due).days))
        counts = count(statuses)
        total += counts
        files.append(FileSummary(doc.path, counts, _heading_progress(doc, statuses)))
        work.add(doc, config, today, statuses)
    tables = _domain_tables(docs)
    specs = config.domains or tuple(spec for _, _, spec in tables)
    sources = {spec.name: f"{path}:{table.line}" for path, table, spec in tables}
    readiness = Readiness(tuple(
        _domain(spec, docs, config, sources.get(spec.name, config.source or "config")) for spec in specs
    ))
    return Analysis(
        today=today,
        files=tuple(files),
        counts=total,
        readiness=readiness,
        overdue=tuple(sorted(overdue + work.overdue(today), key=lambda o: (o.path, o.line, o.kind))),
        problems=tuple(sorted(problems + work.problems, key=lambda p: (p.path, p.line, p.code))),
        reviews=Reviews(tuple(r for r in work.reviews if r.days_overdue >= 0),
                        tuple(sorted((r for r in work.reviews if r.days_overdue < 0), key=lambda r: (r.due, r.path, r.line)))),
        tracks=tuple(work.tracks),
        milestones=tuple(m for m, _ in work.milestones),
        scores=tuple(work.scores),
        topic_scores=tuple(work.topics),
        gaps=tuple(scores.gaps(work.topics, config.gap_threshold)),
        scenarios=tuple(work.scenarios),
        stories=tuple(work.stories),
        applications=tuple(work.applications),
        history=tuple(sorted(work.history, key=lambda c: (c.date, c.path, c.line), reverse=True)),
        domain_tables=tuple((path, table) for path, table, _ in tables),
    )


@dataclass
class _Workflow:
    """What the study workflow gathers note by note (reviews, tracks, milestones, scores, interviews)."""

    reviews: list[Review] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    milestones: list[tuple[Milestone, list[tuple[Task, Status]]]] = field(default_factory=list)
    scores: list[ScorePoint] = field(default_factory=list)
    topics: list[TopicResult] = field(default_factory=list)
    scenarios: list[interviews.Scenarios] = field(default_factory=list)
    stories: list[interviews.Story] = field(default_factory=list)
    applications: list[interviews.Application] = field(default_factory=list)
    history: list[Completion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(self, doc: Document, config: Config, today: dt.date, statuses: list[Status]) -> None:
        self.reviews += reviews.next_reviews(doc, config, today)
        found, problems = tracks.track(doc, config, today)
        self.tracks += [found] if found else []
        self.problems += problems
        milestones, problems = plans.milestones(doc)
        self.problems += problems
        self.milestones += [(m, [(doc.tasks[i], statuses[i]) for i in m.tasks]) for m in milestones]
        points, topics = scores.series(doc)
        self.scores += points
        self.topics += topics
        self.scenarios += interviews.scenarios(doc)
        self.stories += interviews.stories(doc)
        self.applications += interviews.applications(doc)
        entry_dates = plans.completion_dates(doc) if any(s.type == "done" for s in statuses) else {}
        for i, (task, status) in enumerate(zip(doc.tasks, statuses)):
            day = task.done or entry_dates.get(i)
            if status.type == "done" and day is not None and not reviews.is_review_record(doc, task):
                self.history.append(Completion(day, doc.path, task.line, task.text))

    def overdue(self, today: dt.date) -> list[Overdue]:
        late = [Overdue(r.path, r.line, "review", r.text, r.due, r.days_overdue)
                for r in self.reviews if r.days_overdue > 0]
        for m, held in self.milestones:
            if m.target < today:
                late += [Overdue(m.path, t.line, "milestone", t.text, m.target, (today - m.target).days)
                         for t, s in held if s.type in ("todo", "in_progress")]
        late += [Overdue(a.path, a.line, "followup", f"{a.company}: {a.next_step or a.status}", a.date,
                         (today - a.date).days)
                 for a in self.applications if a.date is not None and a.date < today and not a.final]
        return late


def _heading_progress(doc: Document, statuses: list[Status]) -> tuple[HeadingProgress, ...]:
    below: dict[int, list[Status]] = {}
    for task, status in zip(doc.tasks, statuses):
        index = task.heading
        while index is not None:
            below.setdefault(index, []).append(status)
            index = doc.headings[index].parent
    return tuple(
        HeadingProgress(h.line, h.level, recognize.strip_cookie(h.text), count(below[i]))
        for i, h in enumerate(doc.headings) if i in below
    )


# --- domains --------------------------------------------------------------------------------------------


def column(table: Table, word: str) -> int | None:
    """Index of the first header cell containing `word` (case-insensitive)."""
    return next((n for n, h in enumerate(table.header) if word in h.casefold()), None)


def _domain_tables(docs: list[Document]) -> list[tuple[str, Table, DomainSpec]]:
    """Domain tables in the notes (the seed tracker's Quick Stats): first column `Name (20%)` in every row."""
    found: list[tuple[str, Table, DomainSpec]] = []
    names: set[str] = set()
    for doc in docs:
        for table in doc.tables:
            rows = [r for r in table.rows if r.cells and not r.placeholder]
            weighted = [recognize.weighted_name(r.cells[0].text) for r in rows]
            if not rows or not all(weighted):
                continue
            total_col = column(table, "total")
            for row, named in zip(rows, weighted):
                assert named is not None
                name, weight = named
                if name in names:
                    continue
                names.add(name)
                total = _number(row, total_col)
                found.append((doc.path, table, DomainSpec(name, weight, total, (name,))))
    return found


def _number(row: Row, col: int | None) -> float | None:
    if col is None or col >= len(row.cells):
        return None
    try:
        return float(row.cells[col].text)
    except ValueError:
        return None


def _domain(spec: DomainSpec, docs: list[Document], config: Config, source: str) -> Domain:
    keys = {recognize.section_key(s) for s in spec.sections}
    covered, counted, items = 0.0, 0, 0
    for doc in docs:
        inside = {i for i, h in enumerate(doc.headings) if recognize.section_key(h.text) in keys}
        if not inside and not any(t.group for t in doc.tasks):
            continue
        for task in doc.tasks:
            if doc.heading_indices(task.heading) & inside or (task.group and recognize.section_key(task.group) in keys):
                status = status_of(task, config)
                if status.type == "non_task":
                    continue
                items += 1
                covered += status.credit
                counted += status.type != "cancelled"
        for table in doc.tables:
            if table.generated or not doc.heading_indices(table.heading) & inside or recognize.weighted_name(_first(table)):
                continue
            status_col = column(table, "status")
            for row in table.rows:
                if row.placeholder:
                    continue
                items += 1
                counted += 1
                covered += _row_credit(row, status_col)
    total = spec.total if spec.total is not None else float(counted)
    return Domain(spec.name, spec.weight, covered, total, items, source)


def _first(table: Table) -> str:
    return table.rows[0].cells[0].text if table.rows and table.rows[0].cells else ""


_ROW_CREDIT = {"done": 1.0, "in_progress": 0.5, "todo": 0.0}


def _row_credit(row: Row, status_col: int | None) -> float:
    """A filled row counts as covered, unless the table's status column says it is not done."""
    if status_col is None or status_col >= len(row.cells) or row.cells[status_col].status is None:
        return 1.0
    return _ROW_CREDIT[row.cells[status_col].status or "done"]
