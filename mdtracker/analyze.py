"""Vault-level analysis: task counts and progress, overdue items, the study workflow, domains and weighted
readiness (SPEC §5).

Two steps: `summarize` turns one note into a FileSummary (all that note contributes, from that note alone,
so it can be cached and recomputed note by note), and `combine` adds the summaries of the vault up. Knows
statistics and nothing of Markdown syntax: it reads Documents and the config.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, NamedTuple, Protocol, Sequence

from mdtracker import dates, days, interviews, plans, recognize, reviews, scores, tracks
from mdtracker import forecast as fc
from mdtracker.config import Config, DomainSpec, Status
from mdtracker.counts import Counts, count
from mdtracker.model import Document, Problem, Row, Table, Task
from mdtracker.plans import Milestone
from mdtracker.reviews import Review
from mdtracker.scores import Gap, ScorePoint, TopicResult
from mdtracker.tracks import Track

TODO = Status("todo", 0.0)
TARGET_FIELD = "target interview date"  # a note's field that gives the forecast its target date (seed 000)


class HeadingProgress(NamedTuple):
    line: int
    level: int
    text: str
    counts: Counts


class Overdue(NamedTuple):
    path: str
    line: int
    kind: str  # task, review, milestone, followup
    text: str
    due: dt.date
    days_overdue: int


class Completion(NamedTuple):
    """A task done on a known date: by its own ✅ date, or by the date of the entry it stands in."""

    date: dt.date
    path: str
    line: int
    text: str
    rule: str = ""  # where its date came from (`report --explain`)


@dataclass(frozen=True)
class FileSummary:
    """All that one note contributes to the analysis."""

    path: str
    counts: Counts
    headings: tuple[HeadingProgress, ...]  # headings with tasks below them, in file order
    dated: tuple[Overdue, ...] = ()  # what falls overdue once its date has passed (days_overdue left at 0)
    reviews: tuple[Review, ...] = ()  # the next review of each studied topic (days_overdue left at 0)
    track: Track | None = None  # (today left at 0)
    milestones: tuple[Milestone, ...] = ()
    scores: tuple[ScorePoint, ...] = ()
    topics: tuple[TopicResult, ...] = ()
    scenarios: tuple[interviews.Scenarios, ...] = ()
    stories: tuple[interviews.Story, ...] = ()
    applications: tuple[interviews.Application, ...] = ()
    history: tuple[Completion, ...] = ()
    problems: tuple[Problem, ...] = ()
    domain_specs: tuple[tuple[DomainSpec, int], ...] = ()  # from domain tables: (spec, table line)
    # (section keys the items stand under, items, credit, items counted in a total): see `_section_items`
    section_items: tuple[tuple[frozenset[str], int, float, int], ...] = ()
    listed: tuple[Gap, ...] = ()  # the knowledge gaps the note lists (resolved or not: see `scores.gaps`)
    placed: tuple[days.Placed, ...] = ()  # dates written without a year, and where each year came from
    targets: tuple[tuple[int, dt.date], ...] = ()  # (line, date) of each `Target Interview Date` field with a date


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Readiness:
    domains: tuple[Domain, ...]

    @property
    def overall(self) -> float | None:
        weight = sum(d.weight for d in self.domains)
        if not weight:
            return None
        return sum(d.weight * d.progress for d in self.domains) / weight


@dataclass(frozen=True)
class Reviews:
    due: tuple[Review, ...] = ()
    upcoming: tuple[Review, ...] = ()


class Summaries(Protocol):
    """The summaries of a vault's notes, in path order: field by field, one at a time (so that what the
    analysis does not ask for is never read from the cache), or whole."""

    def column(self, name: str) -> Sequence[Any]:
        """The field `name` of every summary."""

    def every(self) -> Sequence[FileSummary]:
        """Every summary."""

    def of(self, path: str) -> FileSummary | None:
        """The summary of the note at `path`, if it has one."""


@dataclass(frozen=True)
class SummaryList:
    """Summaries held in memory."""

    files: Sequence[FileSummary]  # in path order

    def column(self, name: str) -> list[Any]:
        return [getattr(f, name) for f in self.files]

    def every(self) -> Sequence[FileSummary]:
        return self.files

    def of(self, path: str) -> FileSummary | None:
        return self._by_path.get(path)

    @cached_property
    def _by_path(self) -> dict[str, FileSummary]:
        return {f.path: f for f in self.files}


@dataclass(frozen=True)
class Analysis:
    """The vault's analysis on `today`. Each part is worked out when first asked for, from the fields of
    the summaries it needs: a dashboard that shows readiness reads the notes' domain items, and nothing else
    of the cache."""

    today: dt.date
    summaries: Summaries = field(repr=False)
    config: Config = field(repr=False)
    errors: tuple[Problem, ...] = ()  # notes that could not be read
    # the vault's git history from a day to today, `git(today, since)` (`git_history.read` on the vault's folder,
    # as `Vault.analysis` hands it); None for summaries without a folder (`combine`): no git history
    git: Callable[[dt.date, dt.date], fc.GitHistory] | None = field(default=None, repr=False, compare=False)
    # a result of the whole vault kept from one run to the next, `remember(name, inputs, compute, hint)`
    # (`cache.remember` in the vault's `.mdtracker/`, as `Vault.analysis` hands it); None: always computed
    remember: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    def groups(self) -> list[str]:
        """The track groups (the app's SWE / ML switch), in order."""
        return sorted({t.group for t in self.tracks})

    @property
    def progress(self) -> float | None:
        return self.counts.progress

    def file(self, path: str) -> FileSummary | None:
        """The summary of one note."""
        return self.summaries.of(path)

    def counts_under(self, prefix: str | None) -> Counts:
        """Task counts of the notes whose path starts with `prefix` (all notes without one)."""
        if not prefix:
            return self.counts
        total = Counts()
        for path, counts in zip(self.summaries.column("path"), self.summaries.column("counts")):
            if path.startswith(prefix):
                total += counts
        return total

    @cached_property
    def files(self) -> tuple[FileSummary, ...]:
        return tuple(self.summaries.every())

    @cached_property
    def counts(self) -> Counts:
        total = Counts()
        for counts in self.summaries.column("counts"):
            total += counts
        return total

    @cached_property
    def readiness(self) -> Readiness:
        specs = [(spec, self.config.source or "config") for spec in self.config.domains]
        if not specs:
            found: dict[str, tuple[DomainSpec, str]] = {}
            for path, declared in zip(self.summaries.column("path"), self.summaries.column("domain_specs")):
                for spec, line in declared:
                    found.setdefault(spec.name, (spec, f"{path}:{line}"))
            specs = list(found.values())
        if not specs:
            return Readiness(())
        items = self.summaries.column("section_items")
        return Readiness(tuple(_domain(spec, source, items) for spec, source in specs))

    @cached_property
    def overdue(self) -> tuple[Overdue, ...]:
        today = self.today
        found = [Overdue(o.path, o.line, o.kind, o.text, o.due, (today - o.due).days)
                 for o in self._every("dated") if o.due < today]
        return tuple(sorted(found, key=lambda o: (o.path, o.line, o.kind)))

    @cached_property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(sorted([*self.errors, *self._every("problems")], key=lambda p: (p.path, p.line, p.code)))

    @cached_property
    def reviews(self) -> Reviews:
        found = [r._replace(days_overdue=(self.today - r.due).days) for r in self._every("reviews")]
        upcoming = sorted((r for r in found if r.days_overdue < 0), key=lambda r: (r.due, r.path, r.line))
        return Reviews(tuple(r for r in found if r.days_overdue >= 0), tuple(upcoming))

    @cached_property
    def tracks(self) -> tuple[Track, ...]:
        return tuple(t.on(self.today) for t in self.summaries.column("track") if t is not None)

    @cached_property
    def milestones(self) -> tuple[Milestone, ...]:
        return tuple(self._every("milestones"))

    @cached_property
    def scores(self) -> tuple[ScorePoint, ...]:
        return tuple(self._every("scores"))

    @cached_property
    def topic_scores(self) -> tuple[TopicResult, ...]:
        return tuple(self._every("topics"))

    @cached_property
    def gaps(self) -> tuple[Gap, ...]:
        results, listed, threshold = self.topic_scores, self._every("listed"), self.config.gap_threshold
        compute = lambda: tuple(scores.gaps(list(results), listed, threshold))  # noqa: E731
        if self.remember is None:
            return compute()
        return self.remember("gaps", scores.gaps_inputs(results, listed, threshold), compute, tuple[Gap, ...])

    @cached_property
    def notices(self) -> tuple[str, ...]:
        """Where the year of each date written without one came from (milestone targets, day entries)."""
        found = [(m.path, m.line, "milestone target", m.written, m.target, m.year_from)
                 for m in self.milestones if m.year_from]
        for path, placed in zip(self.summaries.column("path"), self.summaries.column("placed")):
            found += [(path, p.line, "date", p.written, p.date, p.year_from) for p in placed]
        return tuple(f"{path}:{line}: {what} {written!r} read as {day.isoformat()} (year taken from the date on "
                     f"line {source})" for path, line, what, written, day, source in sorted(found))

    @cached_property
    def scenarios(self) -> tuple[interviews.Scenarios, ...]:
        return tuple(self._every("scenarios"))

    @cached_property
    def stories(self) -> tuple[interviews.Story, ...]:
        return tuple(self._every("stories"))

    @cached_property
    def applications(self) -> tuple[interviews.Application, ...]:
        return tuple(self._every("applications"))

    @cached_property
    def history(self) -> tuple[Completion, ...]:
        return tuple(sorted(self._every("history"), key=lambda c: (c.date, c.path, c.line), reverse=True))

    @cached_property
    def target(self) -> fc.Target | None:
        """The forecast's target date: the config's `[forecast] target`, else the first `Target Interview Date`
        a note writes (in path order), else the last milestone's target."""
        fields = [fc.Target(day, "note", f"{path}:{line}", "Target Interview Date")
                  for path, found in zip(self.summaries.column("path"), self.summaries.column("targets"))
                  for line, day in found]
        return fc.choose_target(self.config.forecast_target, self.config.source, fields, self._milestone_targets)

    @property
    def _milestone_targets(self) -> list[fc.Target]:
        return [fc.Target(m.target, "milestone", f"{m.path}:{m.line}", m.text) for m in self.milestones]

    @cached_property
    def over_time(self) -> dict[str, Any]:
        """The report's `activity` (completions per day over the heatmap's year, by source, streaks) and
        `forecast` (burn-up, pace, finish, target, milestones): worked out once, for the report, the `forecast`
        region and the dashboard alike (see `forecast`)."""
        history = self.git(self.today, fc.window_start(self.today)) if self.git is not None else fc.NO_FOLDER
        c = self.counts
        return fc.over_time(self.today, c.done, c.total - c.cancelled - c.non_task, [h.date for h in self.history],
                            history, self.target, self._milestone_targets)

    @property
    def activity(self) -> dict[str, Any]:
        return self.over_time["activity"]

    @property
    def forecast(self) -> dict[str, Any]:
        return self.over_time["forecast"]

    def _every(self, name: str) -> list[Any]:
        """The entries of one list field of every summary, in path order."""
        return [entry for entries in self.summaries.column(name) if entries for entry in entries]


def status_of(task: Task, config: Config) -> Status:
    """The status a task counts as: its configured one, else todo (and an `unknown-status` problem)."""
    return config.status(task.symbol) or TODO


def summarize(doc: Document, config: Config) -> FileSummary:
    """What one note contributes: counts, progress per heading, dated items, the study workflow, domains.

    It does not depend on the date: whatever depends on today is worked out by `combine`, so a summary stays
    valid (and cached) from one day to the next."""
    problems = list(doc.problems)
    statuses, dated = [], []
    for task in doc.tasks:
        status = config.status(task.symbol)
        if status is None:
            problems.append(Problem(
                doc.path, task.line, "unknown-status",
                f"[{task.symbol}] is not a known status; counted as todo (map it under [statuses] in the config)",
            ))
            status = TODO
        statuses.append(status)
        if status.type in ("todo", "in_progress") and task.due is not None:
            dated.append(Overdue(doc.path, task.line, "task", task.text, task.due, 0))
    next_reviews = reviews.next_reviews(doc, config, statuses)
    dated += [Overdue(r.path, r.line, "review", r.text, r.due, 0) for r in next_reviews]
    track, found = tracks.track(doc, config)
    problems += found
    milestones, found = plans.milestones(doc)
    problems += found
    for m in milestones:
        dated += [Overdue(m.path, doc.tasks[i].line, "milestone", doc.tasks[i].text, m.target, 0)
                  for i in m.tasks if statuses[i].type in ("todo", "in_progress")]
    applications = interviews.applications(doc)
    dated += [Overdue(a.path, a.line, "followup", f"{a.company}: {a.next_step or a.status}", a.date, 0)
              for a in applications if a.date is not None and not a.final]
    calendar = days.Calendar(doc)
    points, topics = scores.series(doc, calendar)
    return FileSummary(
        path=doc.path,
        counts=count(statuses),
        headings=_heading_progress(doc, statuses),
        dated=tuple(dated),
        reviews=tuple(next_reviews),
        track=track,
        milestones=tuple(milestones),
        scores=tuple(points),
        topics=tuple(topics),
        listed=tuple(scores.listed_gaps(doc, calendar)),
        placed=tuple(calendar.placed),
        scenarios=tuple(interviews.scenarios(doc)),
        stories=tuple(interviews.stories(doc)),
        applications=tuple(applications),
        history=tuple(_history(doc, statuses, calendar)),
        problems=tuple(problems),
        domain_specs=tuple(_domain_specs(doc)),
        section_items=tuple(_section_items(doc, statuses)),
        targets=tuple(_targets(doc)),
    )


def _targets(doc: Document) -> list[tuple[int, dt.date]]:
    """(line, date) of each `Target Interview Date` field that holds a date (`[Your interview date]` holds none)."""
    return [(f.line, found[0]) for f in doc.fields
            if " ".join(f.key.split()).casefold() == TARGET_FIELD and (found := dates.iso_dates(f.value))]


def combine(summaries: Iterable[FileSummary], config: Config, today: dt.date,
            errors: Iterable[Problem] = ()) -> Analysis:
    """The analysis of these summaries (sums, merged lists, domains and readiness, when asked for)."""
    return Analysis(today, SummaryList(sorted(summaries, key=lambda f: f.path)), config, tuple(errors))


_DONE_MARK = re.compile(r"✅|\bCOMPLETED?\b|\bDONE\b", re.IGNORECASE)


def _history(doc: Document, statuses: list[Status], calendar: days.Calendar) -> list[Completion]:
    """What was done on a known day (docs/recognizers.md, "history"): each done task with its own done date,
    else the date of its dated label or day entry; and each heading or label marked done with a date of its
    own that holds no done task (a day's gap analysis, a coverage check)."""
    done = [(i, t) for i, (t, s) in enumerate(zip(doc.tasks, statuses))
            if s.type == "done" and not reviews.is_review_record(doc, t)]
    found = []
    for _, task in done:
        day, how = task.done, "a done task with its ✅ date"
        if day is None and _DONE_MARK.search(task.text) and (own := dates.iso_dates(task.text)):
            day, how = own[-1], "a done task that says when (COMPLETE (date))"
        if day is None:
            day, dated = calendar.dated(task.line, "", task.label)
            how = f"a done task, {dated}"
        if day is not None:
            found.append(Completion(day, doc.path, task.line, task.text, how))
    if not any(_DONE_MARK.search(x.text) for x in doc.labels) and not any(_DONE_MARK.search(h.text) for h in doc.headings):
        return found
    held_by_label = {t.label for _, t in done if t.label is not None}
    held_by_heading = {n for _, t in done for n in doc.heading_indices(t.heading)}
    done_lines = [t.line for _, t in done]
    marks = [(x.line, x.text, ("label", n)) for n, x in enumerate(doc.labels)] + \
        [(h.line, h.text, ("heading", n)) for n, h in enumerate(doc.headings)]
    for line, text, (kind, n) in marks:
        if not _DONE_MARK.search(text) or not dates.iso_dates(text):
            continue
        if kind == "heading" and n in held_by_heading or kind == "label" and n in held_by_label:
            continue
        entry = calendar.entry_of(line)
        if entry is not None and entry.line == line and any(line < d < entry.end for d in done_lines):
            continue  # a day entry whose tasks tell what was done
        day, _ = days.written_date(text, line, calendar.known)
        if day is not None:
            found.append(Completion(day, doc.path, line, recognize.strip_emphasis(text),
                                    "a heading or label marked done with its date, holding no done task"))
    return sorted(found, key=lambda c: c.line)


def _heading_progress(doc: Document, statuses: list[Status]) -> tuple[HeadingProgress, ...]:
    """The counts below each heading that has tasks below it. Tasks are in file order, so the headings they
    stand under never decrease, and the tasks below a heading and its subheadings are one run of them."""
    headings = doc.headings
    if not headings or not statuses:
        return ()
    owner = [-1 if t.heading is None else t.heading for t in doc.tasks]
    ends = [len(headings)] * len(headings)  # a heading's subtree ends at the next one at its level or above
    open_: list[int] = []
    for n, heading in enumerate(headings):
        while open_ and headings[open_[-1]].level >= heading.level:
            ends[open_.pop()] = n
        open_.append(n)
    found = []
    for n, heading in enumerate(headings):
        first, end = bisect.bisect_left(owner, n), bisect.bisect_left(owner, ends[n])
        if first < end:
            found.append(HeadingProgress(heading.line, heading.level, heading.text, count(statuses[first:end])))
    return tuple(found)


# --- domains --------------------------------------------------------------------------------------------


def _domain_specs(doc: Document) -> list[tuple[DomainSpec, int]]:
    """Domains declared by domain tables (the seed tracker's Quick Stats): first column `Name (20%)` in every
    row, and a "Total Topics" column."""
    found = []
    for table in doc.tables:
        rows = [r for r in table.rows if r.cells and not r.placeholder]
        weighted = []
        for row in rows:  # every row must name a weighted domain: most tables fail at the first
            if (named := recognize.weighted_name(row.cells[0].text)) is None:
                break
            weighted.append(named)
        if not rows or len(weighted) < len(rows):
            continue
        total_col = table.column("total")
        for row, named in zip(rows, weighted):
            found.append((DomainSpec(named[0], named[1], _number(row, total_col), (named[0],)), table.line))
    return found


def _number(row: Row, col: int | None) -> float | None:
    if col is None or col >= len(row.cells):
        return None
    try:
        return float(row.cells[col].text)
    except ValueError:
        return None


def _section_items(doc: Document, statuses: list[Status]) -> list[tuple[frozenset[str], int, float, int]]:
    """The note's possible domain items, grouped by the section keys they stand under (their headings and
    their bold label): a domain counts every group whose keys meet its sections. Items are the tasks, and the
    filled rows of tables that are neither generated nor domain tables themselves."""
    keys_of: dict[int | None, frozenset[str]] = {None: frozenset()}

    def under(heading: int | None) -> frozenset[str]:  # the keys of a heading and of those enclosing it
        if heading not in keys_of:
            assert heading is not None
            keys_of[heading] = under(doc.headings[heading].parent) | {recognize.section_key(doc.headings[heading].text)}
        return keys_of[heading]

    def keys(heading: int | None, label: str | None = None) -> frozenset[str]:
        return under(heading) | {recognize.section_key(label)} if label else under(heading)

    tallies: dict[tuple[int | None, str | None], list] = {}  # by heading and label first: fewer keys to build
    for task, status in zip(doc.tasks, statuses):
        if status.type == "non_task":
            continue
        entry = tallies.setdefault((task.heading, task.group), [0, 0.0, 0])
        entry[0] += 1
        entry[1] += status.credit
        entry[2] += status.type != "cancelled"
    for table in doc.tables:
        if table.generated or recognize.weighted_name(_first(table)):
            continue
        status_col = table.column("status")
        for row in table.rows:
            if not row.placeholder:
                entry = tallies.setdefault((table.heading, None), [0, 0.0, 0])
                entry[0] += 1
                entry[1] += _row_credit(row, status_col)
                entry[2] += 1
    groups: dict[frozenset[str], list] = {}
    for (heading, label), (n, credit, counted) in tallies.items():
        entry = groups.setdefault(keys(heading, label), [0, 0.0, 0])
        entry[0] += n
        entry[1] += credit
        entry[2] += counted
    return [(k, n, credit, counted) for k, (n, credit, counted) in groups.items() if k]


def _domain(spec: DomainSpec, source: str, section_items: Iterable[tuple[tuple[frozenset[str], int, float, int], ...]]
            ) -> Domain:
    """A domain's items, from the `section_items` of every note, in path order."""
    wanted = {recognize.section_key(s) for s in spec.sections}
    items = counted = 0
    covered = 0.0
    for groups in section_items:
        for keys, n, credit, in_total in groups:
            if not keys.isdisjoint(wanted):
                items += n
                covered += credit
                counted += in_total
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
