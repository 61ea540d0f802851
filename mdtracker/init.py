"""`mdtracker init`: from "I have notes" to summaries in one command.

It reads every note and proposes, as one unified diff, what it takes to get summaries in: the certain
mojibake repaired, an `mdtracker.toml` for the statuses the notes use that are not defaults, regions and
cookies where it recognizes a layout (a tracker's header fields and Quick Stats, progress on the headings and
parent items of checklists and plans, knowledge-check scores, an interview tracker's scenarios, stories and
applications), a `dashboard.md` that gathers the vault, and the pre-commit config of a git repository.

A proposal is worked out in three passes, each on the same engine every command uses:
1. the notes as they are (their problems: mojibake, unknown statuses);
2. the notes repaired, parsed again, to find the layouts;
3. the notes with the new markers and cookies in place, as editor buffers (nothing is written), planned as
   `sync` would: what each insertion will show is what the next `sync` writes. Only what init inserts is
   filled in; a region the note already had stays as it is (that is `sync`'s job).
Running it twice proposes nothing the second time: every rule looks first for what it would insert.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from mdtracker import config as config_module
from mdtracker import mojibake
from mdtracker.analyze import Analysis
from mdtracker.config import CONFIG_NAME, STATUS_TYPES, Config
from mdtracker.engine import Engine
from mdtracker.errors import NoteError
from mdtracker.files import NoteText, read_note, split_lines, write_note
from mdtracker.model import Document, Heading
from mdtracker.parse import parse
from mdtracker.regions import cookie_at_end

DASHBOARD = "dashboard.md"
PRE_COMMIT = ".pre-commit-config.yaml"
MIN_TASKS = 5  # a note with fewer tasks gets no progress summary of its own
MIN_BELOW = 2  # a heading or parent item with fewer tasks below it gets no cookie

# What an unknown status most likely means, by its symbol: the proposal says it is a guess.
_GUESSES = {
    "S": ("in_progress", "started"), "s": ("in_progress", "started"), "~": ("in_progress", "under way"),
    "o": ("in_progress", "open, started"), "N": ("cancelled", "not needed"), "n": ("cancelled", "not needed"),
    "X": ("done", "done"), "v": ("done", "done"), "✓": ("done", "done"), "✔": ("done", "done"),
    ">": ("todo", "moved on, still to do"), "<": ("todo", "scheduled"), "!": ("todo", "important"),
    "?": ("todo", "a question"),
}
ANSWERED = "as you said"  # the meaning of a status the user gave at the prompt

_LAST_UPDATED = re.compile(r"^(?:last\s+updated|updated|last\s+update|date\s+updated)$", re.IGNORECASE)
_READINESS = re.compile(r"readiness", re.IGNORECASE)
_PERCENT_VALUE = re.compile(r"^(?:\[\s*\]|_+|\?+|\d{1,3}(?:\.\d+)?)\s*%$")  # `[ ]%`, `__%`, `45%`
_DATE_VALUE = re.compile(r"^(?:\[[^\]]*\]|_*|YYYY-MM-DD|\d{4}-\d{2}-\d{2})$")  # `[Date]`, empty, a date alone
_QUICK_STATS = ("domain", "topics covered", "total topics", "status")
_STATUS_USE = re.compile(r"^\[(.)\] is not a known status")


@dataclass
class Insertion:
    """One thing init adds to a note: where, what, and (after the plan) what it will show."""

    line: int  # 1-based, in the note as repaired
    what: str  # for the proposal: `**Last Updated**: region last-updated`
    region: str | None = None  # the region's name; None for a cookie
    key: str = ""  # what its line in the new text starts with, or holds: where to read what it shows
    shows: str = ""


@dataclass
class NoteProposal:
    path: str
    note: NoteText | None  # None: a new file
    old: str
    new: str
    repairs: int = 0
    insertions: list[Insertion] = field(default_factory=list)


@dataclass
class Proposal:
    notes: list[NoteProposal]
    files: dict[str, str]  # new files that are not notes: mdtracker.toml, .pre-commit-config.yaml
    statuses: dict[str, tuple[str, str, int, str]]  # symbol → (type, meaning, uses, first place)
    hints: list[str]
    errors: list[NoteError]

    @property
    def empty(self) -> bool:
        return not self.files and not any(n.old != n.new for n in self.notes)

    def diff(self) -> str:
        """The whole proposal as one unified diff (new files against /dev/null)."""
        out: list[str] = []
        for n in self.notes:
            if n.old != n.new:
                out += difflib.unified_diff(split_lines(n.old), split_lines(n.new),
                                            "/dev/null" if n.note is None else f"a/{n.path}", f"b/{n.path}")
        for name, text in self.files.items():
            out += difflib.unified_diff([], split_lines(text), "/dev/null", f"b/{name}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)

    def summary(self) -> list[str]:
        """Note by note, what each change is and what it will show."""
        lines: list[str] = []
        for name, text in self.files.items():
            lines.append(f"{name}: new file")
            if name == CONFIG_NAME:
                for symbol, (kind, meaning, uses, where) in self.statuses.items():
                    lines.append(f"  [{symbol}] (used {uses}×, first at {where}) read as {kind!r} ({meaning})")
        for n in self.notes:
            if n.old == n.new:
                continue
            lines.append(f"{n.path}: new note" if n.note is None else f"{n.path}:")
            if n.repairs:
                lines.append(f"  mojibake repaired: {n.repairs} run(s) of UTF-8 read as cp1252 or Mac Roman")
            for ins in n.insertions:
                lines.append(f"  line {ins.line}: {ins.what}" + (f" → {ins.shows}" if ins.shows else ""))
        return lines


def propose(root: Path, config: Config, config_path: Path | None, today: dt.date,
            answers: dict[str, tuple[str, str, int, str]] | None = None) -> Proposal:
    """What init would change in the vault at `root`; nothing is written. `answers`: what the user said an
    unknown status means (symbol → (type, meaning, uses, first place))."""
    first = Engine(root, config, use_cache=False)
    vault = first.update()
    errors = list(vault.errors)
    analysis = first.analysis(today)
    notes: dict[str, NoteText] = {}
    for rel in vault.stats:
        if rel in {e.path for e in errors}:
            continue
        try:
            notes[rel] = read_note(root / rel, rel, config.note_limit)
        except NoteError as err:
            errors.append(err)
    texts: dict[str, str] = {}
    repaired: dict[str, int] = {}
    for rel, note in notes.items():
        doc = parse(note.text, rel)
        fixes = [r for r in mojibake.find(note.text) if r.offset in set(doc.repairs)]  # (none in code)
        texts[rel] = mojibake.apply(note.text, fixes) if fixes else note.text
        repaired[rel] = len(fixes)

    statuses = {**_unknown_statuses(analysis), **(answers or {})}
    files: dict[str, str] = {}
    new_config = config
    if statuses or config_path is None:  # a vault with no config gets one: what init saw, and the defaults
        old_text = config_module.read_text(config_path, config_path.name) if config_path is not None else None
        text = _config_text(old_text, statuses, analysis)
        shown = config_path.name if config_path is not None else CONFIG_NAME
        if old_text is None:
            files[CONFIG_NAME] = text
        else:
            files[shown] = text  # (the whole file: the diff shows the lines added)
        new_config = config_module.from_text(text, shown)

    docs = {rel: parse(text, rel) for rel, text in texts.items()}
    domains = bool(new_config.domains) or bool(analysis.readiness.domains)
    insertions: dict[str, list[Insertion]] = {}
    proposed: dict[str, str] = {}
    for rel, doc in docs.items():
        if doc.marker_error:
            continue
        lines = split_lines(texts[rel])
        found = _layouts(doc, lines, analysis, rel, domains)
        if found:
            proposed[rel] = "".join(lines)
            insertions[rel] = found
    if DASHBOARD not in notes and not any(_gathers(doc) for doc in docs.values()):
        proposed[DASHBOARD] = _dashboard(analysis, domains)
        insertions[DASHBOARD] = [Insertion(1, "a dashboard that gathers the vault")]

    buffers = {**{r: t for r, t in texts.items() if repaired[r]}, **proposed}
    synced, failed = _plan(root, new_config, buffers, today)
    for _ in range(2):  # once filled, a note's regions move its lines, which another note's region may cite:
        again, failed = _plan(root, new_config, {**buffers, **synced}, today)  # plan once more from there
        if all(again.get(rel, text) == text for rel, text in synced.items()):
            break
        synced = {**synced, **again}
    result = []
    for rel in sorted(set(texts) | set(proposed)):
        old = notes[rel].text if rel in notes else ""
        before = proposed.get(rel, texts.get(rel, ""))
        new = (synced.get(rel, before) if rel not in notes  # a new note is all init's
               else _only_ours(before, synced.get(rel, before), {i.region for i in insertions.get(rel, []) if i.region}))
        _read_shows(new, insertions.get(rel, []))
        if new != old:
            result.append(NoteProposal(rel, notes.get(rel), old, new, repaired.get(rel, 0), insertions.get(rel, [])))
    if (root / ".git").exists() and not (root / PRE_COMMIT).exists():
        files[PRE_COMMIT] = _PRE_COMMIT_TEXT
    seen = {(e.path, e.line) for e in errors}
    errors += [e for e in failed if (e.path, e.line) not in seen]
    return Proposal(result, files, statuses, _hints(docs, analysis), errors)


def write(root: Path, proposal: Proposal) -> tuple[list[str], list[NoteError]]:
    """Make the proposal: each note rewritten atomically (never over an edit made meanwhile), new files created
    only where none exists. The paths written, and the errors of those that were not (each left untouched)."""
    done, errors = [], []
    changes = [(n.path, n.note, n.new) for n in proposal.notes] + [
        (name, None, text) for name, text in proposal.files.items()]
    for rel, note, text in changes:
        try:
            if note is None and (root / rel).exists():  # the user's config, with the lines init adds
                note = read_note(root / rel, rel)
            if note is None:
                _create(root / rel, text)
            else:  # as a note is written: atomic, its mode kept, never over an edit made meanwhile
                write_note(note, note.encode(text), rel, root)
            done.append(rel)
        except NoteError as err:
            errors.append(err)
        except OSError as err:  # a file made meanwhile where init would create one, a folder it may not write
            errors.append(NoteError(rel, None, f"cannot write: {err.strerror or err}; not written", "io"))
    return done, errors


def _create(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # never over a file made meanwhile
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


# --- statuses and the config ------------------------------------------------------------------------------

def _unknown_statuses(analysis: Analysis) -> dict[str, tuple[str, str, int, str]]:
    uses: dict[str, list[str]] = {}
    for p in analysis.problems:
        if p.code == "unknown-status" and (m := _STATUS_USE.match(p.message)):
            uses.setdefault(m.group(1), []).append(f"{p.path}:{p.line}")
    return {s: (*_GUESSES.get(s, ("todo", "not known: counted as to do")), len(places), places[0])
            for s, places in sorted(uses.items())}


def _config_text(old: str | None, statuses: dict[str, tuple[str, str, int, str]], analysis: Analysis) -> str:
    entries = []
    for symbol, (kind, meaning, uses, where) in statuses.items():
        said = f"you said it means {kind}" if meaning == ANSWERED else f"read as {meaning}"
        entries.append(f"# [{symbol}] is used {uses} time{'s' if uses != 1 else ''} (first at {where}): {said}. "
                       f"Change the type if it means something else ({', '.join(STATUS_TYPES)}).")
        key = '"\\""' if symbol == '"' else f'"{symbol}"'
        entries.append(f'{key} = {{ type = "in_progress", credit = 0.5 }}' if kind == "in_progress"
                       else f'{key} = "{kind}"')
    if old is not None:
        lines = split_lines(old)
        at = next((i for i, line in enumerate(lines) if line.strip() == "[statuses]"), None)
        if at is not None:
            return "".join(lines[:at + 1] + [e + "\n" for e in entries] + lines[at + 1:])
        return old + ("" if old.endswith("\n") or not old else "\n") + "\n[statuses]\n" + "\n".join(entries) + "\n"
    out = ["# mdtracker settings, proposed by `mdtracker init`. Every key is optional: see the README.", ""]
    if entries:
        out += ["[statuses]", "# The notes use checkbox marks that are not the defaults ([ ] [x] [/] [-]).", *entries, ""]
    out += ["[reviews]", "# A task done with a ✅ date is a studied topic: reviewed 1, 3, 7 and 14 days later.",
           "intervals = [1, 3, 7, 14]"]
    domains = analysis.readiness.domains
    if domains:
        out += ["", f"# Readiness domains are read from {domains[0].source} (its names and weights). To set them",
                "# here instead, uncomment and edit:"]
        for d in domains:
            out += ["# [[domains]]", f'# name = "{d.name}"', f"# weight = {d.weight:g}"]
    out += ["", "# The HTML dashboard (`mdtracker dashboard`): name a file here and sync and watch keep it fresh.",
            "# [dashboard]", '# file = "dashboard.html"']
    return "\n".join(out) + "\n"


# --- the layouts ------------------------------------------------------------------------------------------

def _layouts(doc: Document, lines: list[str], analysis: Analysis, rel: str, domains: bool) -> list[Insertion]:
    """Find what to insert in one note; change `lines` in place (same line count until the end, where block
    regions add lines: each insertion is made from the bottom up, so that earlier line numbers hold)."""
    have = {r.name for r in doc.regions}
    cookie_lines = {c.line for c in doc.cookies}
    in_region = {n for r in doc.regions for n in range(r.line, r.end_line + 1)}
    edits: list[tuple[int, str, Insertion]] = []  # (0-based line, kind, what): "line" replace, "before"

    def replace_line(n: int, new: str, ins: Insertion) -> None:
        ending = lines[n - 1][len(lines[n - 1].rstrip("\r\n")):]
        lines[n - 1] = new + ending
        found.append(ins)

    found: list[Insertion] = []
    for f in doc.fields:
        line = lines[f.line - 1].rstrip("\r\n")
        if f.line in in_region or "mdtracker:" in line:
            continue
        if _LAST_UPDATED.match(f.key) and _DATE_VALUE.match(f.value) and "last-updated" not in have:
            name = "last-updated"
        elif _READINESS.search(f.key) and _PERCENT_VALUE.match(f.value) and domains and "readiness-pct" not in have:
            name = "readiness-pct"
        else:
            continue
        head = _field_head(line, f.value)
        if head is None:
            continue
        replace_line(f.line, f"{head}<!-- mdtracker:begin {name} --><!-- mdtracker:end {name} -->",
                     Insertion(f.line, f"**{f.key}**: region {name}", name, f"<!-- mdtracker:begin {name} -->"))
        have.add(name)

    blocks: list[tuple[int, list[str], list[Insertion]]] = []  # (insert before this 1-based line, lines, what)
    for t in doc.tables:
        header = tuple(h.strip().casefold() for h in t.header)
        if (header == _QUICK_STATS and not t.generated and "quick-stats" not in have and domains
                and t.line not in in_region):
            end = t.rows[-1].line if t.rows else t.line + 1
            blocks.append((t.line, ["<!-- mdtracker:begin quick-stats -->", ""],
                           [Insertion(t.line, "Quick Stats table: region quick-stats (coverage and status filled in)",
                                      "quick-stats")]))
            blocks.append((end + 1, ["", "<!-- mdtracker:end quick-stats -->"], []))
            have.add("quick-stats")
    for s in analysis.scenarios:
        if s.path == rel and "scenarios" not in have:
            blocks.append((s.line, ["<!-- mdtracker:begin scenarios -->", "<!-- mdtracker:end scenarios -->", ""],
                           [Insertion(s.line, f"before the table of {s.title}: region scenarios", "scenarios")]))
            have.add("scenarios")
    stories = [s for s in analysis.stories if s.path == rel]
    if stories and "stories" not in have:
        first = stories[0].line
        at = next((h.line for h in doc.headings if h.line <= first and h.line >= first - 2), first)
        blocks.append((at, ["<!-- mdtracker:begin stories -->", "<!-- mdtracker:end stories -->", ""],
                       [Insertion(at, f"before the first STAR story ({len(stories)} found): region stories",
                                  "stories")]))
        have.add("stories")
    for t in doc.tables:
        if (t.column("company") is not None and t.column("status") is not None and not t.generated
                and "applications" not in have):
            blocks.append((t.line, ["<!-- mdtracker:begin applications -->", "<!-- mdtracker:end applications -->",
                                    ""], [Insertion(t.line, "before the application tracker: region applications",
                                                    "applications")]))
            have.add("applications")

    counted = _counted(doc)
    top: list[str] = []
    top_ins: list[Insertion] = []
    if counted >= MIN_TASKS and "progress" not in have:
        top += ["<!-- mdtracker:begin progress -->", "<!-- mdtracker:end progress -->", ""]
        top_ins.append(Insertion(0, "region progress (this note's tasks)", "progress"))
    below = _below_headings(doc)
    levels = sorted({h.level for i, h in enumerate(doc.headings) if h.level > 1 and below[i] >= MIN_BELOW})
    level = next((lv for lv in levels if sum(1 for i, h in enumerate(doc.headings)
                                            if h.level == lv and below[i] >= MIN_BELOW) >= 2), None)
    if level is not None and counted >= 4 * MIN_TASKS and not {"headings", "quick-stats"} & have:
        top += [f"<!-- mdtracker:begin headings depth={level} -->", "<!-- mdtracker:end headings -->", ""]
        top_ins.append(Insertion(0, f"region headings depth={level} (progress of each section)", "headings"))
    if sum(1 for s in analysis.scores if s.path == rel and s.date) >= 2 and "scores" not in have:
        top += ["<!-- mdtracker:begin scores -->", "<!-- mdtracker:end scores -->", ""]
        top_ins.append(Insertion(0, "region scores (the dated knowledge checks, a table and a chart)", "scores"))
    if top:
        at = _after_title(doc, lines)
        for ins in top_ins:
            ins.line = at
        blocks.append((at, top, top_ins))

    tasks_below = _below_tasks(doc)
    for i, h in enumerate(doc.headings):
        raw = lines[h.line - 1].rstrip("\r\n")
        if (h.level > 1 and below[i] >= MIN_BELOW and h.line not in cookie_lines and h.line not in in_region
                and raw.lstrip().startswith("#") and not raw.endswith("#") and cookie_at_end(raw) is None):
            replace_line(h.line, raw.rstrip() + " [/]", Insertion(h.line, f"cookie on heading {h.text.strip()!r}",
                                                                   key=raw.rstrip() + " ["))
    for i, task in enumerate(doc.tasks):
        raw = lines[task.line - 1].rstrip("\r\n")
        if (tasks_below[i] >= MIN_BELOW and task.line not in cookie_lines and task.line not in in_region
                and cookie_at_end(raw) is None):
            replace_line(task.line, raw.rstrip() + " [/]", Insertion(task.line, f"cookie on item {_short(task.text)!r}",
                                                                   key=raw.rstrip() + " ["))

    for before, new, inserted in sorted(blocks, key=lambda b: -b[0]):
        ending = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
        at = before - 1
        if at > 0 and lines[at - 1].strip() and new[0].startswith("<!--"):
            new = [""] + new  # a region's begin marker after a blank line: it is an HTML block of its own
        if at >= len(lines) and lines and not lines[-1].endswith("\n"):
            lines[-1] += ending
        lines[at:at] = [text + ending for text in new]
        found += inserted
    found.sort(key=lambda i: (i.line, i.region is None))  # (stable: a summary's regions in their order)
    for ins in found:
        if ins.region and not ins.key:
            ins.key = f"<!-- mdtracker:begin {ins.region}"
    return found


def _field_head(line: str, value: str) -> str | None:
    """The line up to where the field's value starts (`**Last Updated**: `), or None if it cannot be told."""
    stripped = line.rstrip()
    if value and not stripped.endswith(value):
        return None
    head = stripped[:len(stripped) - len(value)] if value else stripped
    return head if head.endswith((": ", ":** ", ":: ")) else head.rstrip() + " "


def _short(text: str, width: int = 48) -> str:
    text = text.replace("**", "").strip()
    return text if len(text) <= width else text[:width - 1] + "…"


def _counted(doc: Document) -> int:
    return len(doc.tasks)


def _tasks_under(size: int, starts: Iterable[int | None], up: Callable[[int], int | None]) -> list[int]:
    """How many tasks stand under each of `size` things (headings, or task items): each task counts once for
    the thing it starts from and once for each one `up` leads to from there."""
    counts = [0] * size
    for at in starts:
        while at is not None:
            counts[at] += 1
            at = up(at)
    return counts


def _below_headings(doc: Document) -> list[int]:
    """For each heading, how many tasks stand below it (every depth, to the next heading of its level or up)."""
    return _tasks_under(len(doc.headings), (t.heading for t in doc.tasks), lambda h: doc.headings[h].parent)


def _below_tasks(doc: Document) -> list[int]:
    """For each task, how many tasks are nested in its item (every depth)."""
    return _tasks_under(len(doc.tasks), (t.parent for t in doc.tasks), lambda p: doc.tasks[p].parent)


def _after_title(doc: Document, lines: list[str]) -> int:
    """Where a note's summary goes: after its title and the paragraphs and fields under it, before the first
    thematic break or heading below the title (1-based line to insert before)."""
    title = next((h for h in doc.headings if h.level == 1), None)
    start = title.line if title is not None and title.line <= 3 else 0
    stops = [h.line for h in doc.headings if h.line > start] + [b for b in doc.breaks if b > start]
    if stops:
        return min(stops)
    return title.line + 1 if title is not None else len(lines) + 1


def _gathers(doc: Document) -> bool:
    """A note that already gathers the vault (a region on every note): a dashboard of the user's own."""
    return any(r.name in ("today", "readiness") or "scope" in r.arguments for r in doc.regions)


def _dashboard(analysis: Analysis, domains: bool) -> str:
    parts = ["# Dashboard", "",
             "Everything below is written by `mdtracker sync` from the notes of this vault.", "",
             "Updated <!-- mdtracker:begin last-updated --><!-- mdtracker:end last-updated -->"
             + ("; overall readiness <!-- mdtracker:begin readiness-pct --><!-- mdtracker:end readiness-pct -->."
                if domains else "."), ""]

    def section(title: str, region: str) -> None:
        name = region.split()[0]
        parts.extend([f"## {title}", "", f"<!-- mdtracker:begin {region} -->", f"<!-- mdtracker:end {name} -->", ""])

    if analysis.tracks:
        section("Today", "today")
    if analysis.tracks or analysis.reviews.due or analysis.reviews.upcoming:
        section("Reviews", "reviews upcoming=3")
    section("Overdue", "overdue")
    if domains:
        section("Readiness", "readiness")
    if analysis.scores:
        section("Knowledge checks", 'scores scope=""')
        section("Gaps", "gaps")
    section("Forecast", "forecast")
    section("Done, day by day", "history days=14")
    section("All notes", 'progress scope=""')
    return "\n".join(parts)


def _hints(docs: dict[str, Document], analysis: Analysis) -> list[str]:
    """What init saw and left for the user: fields still holding a placeholder."""
    hints = []
    for rel, doc in sorted(docs.items()):
        for f in doc.fields:
            if "target" in f.key.casefold() and "date" in f.key.casefold() and (
                    not f.value or f.value.startswith("[")):
                hints.append(f"{rel}:{f.line}: **{f.key}** holds no date yet ({f.value or 'empty'}): write the "
                             "date (YYYY-MM-DD) there, and the forecast counts the days to it")
    return hints


# --- planning the proposal as sync would ------------------------------------------------------------------

def _plan(root: Path, config: Config, buffers: dict[str, str], today: dt.date
          ) -> tuple[dict[str, str], list[NoteError]]:
    """The notes as the next sync would write them, with `buffers` standing in for the notes (nothing written),
    and the errors that leave a note untouched (its markers are malformed, say)."""
    engine = Engine(root, config, use_cache=False)
    engine.update(today=today, buffers=buffers)
    outcomes, errors = engine.plan(today)
    return {o.path: o.new_text for o in outcomes if o.new_text is not None}, errors


def _only_ours(before: str, after: str, names: set[str]) -> str:
    """`after` (as sync would write `before`) where it fills what init inserted; `before` everywhere else, so
    that a region the note already had is left as it stands."""
    if before == after:
        return before
    a, b = split_lines(before), split_lines(after)
    ours_lines = _marked(a, names)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        mine = any(n in ours_lines for n in range(i1, max(i2, i1 + 1))) or (i1 > 0 and i1 - 1 in ours_lines)
        out += b[j1:j2] if op == "equal" or mine else a[i1:i2]
    return "".join(out)


def _marked(lines: list[str], names: set[str]) -> set[int]:
    """The lines (0-based) that init's insertions stand on, as the parser finds them: its regions (named
    `names`: init adds a region to a note only where the note has none of that name), marker to marker, and
    the cookies still unfilled (`[/]`)."""
    doc = parse("".join(lines), "")
    marked = {n - 1 for r in doc.regions if r.name in names for n in range(r.line, r.end_line + 1)}
    return marked | {c.line - 1 for c in doc.cookies if c.written == "[/]"}


def _read_shows(text: str, insertions: list[Insertion]) -> None:
    """What each insertion shows once synced, in a few words, read from the new text: each found on the
    first line at or after the one before's that holds its key (insertions are in the order of their lines)."""
    lines = split_lines(text)
    at = 0
    for ins in insertions:
        if not ins.key:
            continue
        n = next((k for k in range(at, len(lines)) if ins.key in lines[k]), None)
        if n is None:
            continue
        at, line = n, lines[n]
        if not ins.region:  # a cookie, at the end of its line
            m = re.search(r"\[(\d+/\d+|\d+%)\]\s*$", line)
            ins.shows = m.group(0).strip() if m else ""
        elif "<!-- mdtracker:end" in line:  # inline
            m = re.search(r"-->(.*?)<!-- mdtracker:end", line)
            ins.shows = m.group(1) if m else ""
        else:
            body = []
            for inner in lines[n + 1:]:
                if "<!-- mdtracker:end" in inner:
                    break
                if inner.strip():
                    body.append(inner.strip())
            ins.shows = (body[0] if body else "") + (f" (+{len(body) - 1} more lines)" if len(body) > 1 else "")


_PRE_COMMIT_TEXT = """\
# Proposed by `mdtracker init`: a commit fails when a summary mdtracker manages is out of date
# (run `mdtracker sync`, stage, commit again). Install the hook with `pre-commit install`.
repos:
  - repo: local
    hooks:
      - id: mdtracker-check
        name: mdtracker check
        entry: mdtracker check
        language: system
        always_run: true
        pass_filenames: false
        require_serial: true
"""
