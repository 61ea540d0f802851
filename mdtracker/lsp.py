"""`mdtracker lsp`: a language server over stdio for the vault that is the editor's workspace.

It keeps one Engine, as `watch` does: the documents open in the editor are buffers that stand in for their
notes (parsed and planned from the editor's text, never written, never cached), the other notes come from
disk and the cache, and file events (`workspace/didChangeWatchedFiles`, `didSave`) name what changed there.
What it shows is what the analysis and the transform have: lint problems and stale regions as diagnostics,
what sync would write as text edits the editor applies (the server writes no note), progress, what is
overdue and the next review as inlay hints and hovers. A front-end: it formats and delivers, nothing more.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from lsprotocol import types as lsp
from pygls import uris
from pygls.lsp.server import LanguageServer

from mdtracker import __version__, mojibake, recognize, reviews
from mdtracker.analyze import Analysis, FileSummary, combine, status_of
from mdtracker.config import CONFIG_NAME, STATUS_TYPES, Config, from_text
from mdtracker.config import read_text as read_config
from mdtracker.config import find as find_config
from mdtracker.counts import Counts, count, percent
from mdtracker.discovery import SUFFIX, VAULT_TEMPLATES, excluded, note_name, own_templates, searched, templates_folder
from mdtracker.engine import Engine
from mdtracker.errors import ConfigError, MdtrackerError
from mdtracker.files import split_lines
from mdtracker.model import Document, Task
from mdtracker.regions import MARKER, Region
from mdtracker.render import _DECLARED, builtin_folder, builtin_names, scope_of
from mdtracker.vault import Outcome

log = logging.getLogger("mdtracker.lsp")

RULES = "https://github.com/mdtracker/mdtracker#"  # the README's section on each problem's code
SOURCE = "mdtracker"
DEBOUNCE_S = 0.05  # during a burst of changes, the vault is brought up to date at most this often
WARM_AFTER_S = 1.0  # when no note has been opened this long after start, the vault is loaded anyway
SIGNIFIER_FIELDS = {"📅": "due", "⏳": "scheduled", "🛫": "start", "✅": "done", "➕": "created", "❌": "cancelled"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TASK_OPEN = re.compile(r"^\s*(?:>\s*)*(?:[-*+]|\d+[.)])\s+\[$")
_TASK_INSIDE = re.compile(r"^\s*(?:>\s*)*(?:[-*+]|\d+[.)])\s+\[(.?)$")
_DATE_AFTER = re.compile("(" + "|".join(SIGNIFIER_FIELDS) + r")\ufe0f?\s?([\w-]*)$")
_BEGIN_NAME = re.compile(r"<!--\s*mdtracker:begin\s+([\w-]*)$")
_BEGIN_ARG = re.compile(r"<!--\s*mdtracker:begin\s+([A-Za-z0-9][\w-]*)((?:\s+[^>]*)?)\s(\w*)$")
SEVERITY = {"stale": lsp.DiagnosticSeverity.Information, "encoding": lsp.DiagnosticSeverity.Error,
            "io": lsp.DiagnosticSeverity.Error, "config": lsp.DiagnosticSeverity.Error,
            "template": lsp.DiagnosticSeverity.Error, "marker": lsp.DiagnosticSeverity.Error,
            "too-large": lsp.DiagnosticSeverity.Error}

T = TypeVar("T")


# --- what a template says of itself ----------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    description: str
    arguments: dict[str, str]  # name → kind (text, count)
    own: bool


_COMMENT = re.compile(r"\{#-?(.*?)-?#\}", re.DOTALL)


def template_info(root: Path, name: str) -> TemplateInfo | None:
    """A template's description (its first comment) and the arguments it declares: the vault's own
    (a regular file in `templates/`, at most 256 KB) before the built-in one."""
    from mdtracker.render import MAX_TEMPLATE

    own = templates_folder(root)
    for folder, is_own in ((own, True), (builtin_folder(), False)):
        if folder is None or not re.fullmatch(r"[A-Za-z0-9][\w-]*", name):
            continue
        path = folder / (name + SUFFIX)
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_TEMPLATE:
                continue
            source = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        description = ""
        for m in _COMMENT.finditer(source[:4000]):
            text = " ".join(m.group(1).split())
            if not text.startswith("args:"):
                description = text
                break
        declared: dict[str, str] = {}
        if (d := _DECLARED.search(source)) is not None:
            for word in re.split(r"[\s,]+", d.group(1).strip()):
                if word:
                    arg, _, kind = word.partition(":")
                    declared[arg] = kind or "text"
        return TemplateInfo(name, description, declared, is_own)
    return None


def template_names(root: Path) -> list[str]:
    return sorted(set(builtin_names()) | set(own_templates(root)))


# --- positions -------------------------------------------------------------------------------------------


def _content(line: str) -> str:
    return line.rstrip("\r\n")


@dataclass
class Lines:
    """A document's lines, and columns as the client counts them (UTF-16 code units unless agreed otherwise)."""

    text: str
    units: Callable[[str], int]
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = split_lines(self.text)

    def line(self, n: int) -> str:
        """Line `n` (0-based) without its ending; '' past the end."""
        return _content(self.lines[n]) if 0 <= n < len(self.lines) else ""

    def end_of(self, n: int) -> lsp.Position:
        return lsp.Position(n, self.units(self.line(n)))

    def at(self, n: int, index: int) -> lsp.Position:
        return lsp.Position(n, self.units(self.line(n)[:index]))

    def index(self, pos: lsp.Position) -> int:
        """The index in its line (Python characters) of a client's position."""
        line, units, i = self.line(pos.line), 0, 0
        while i < len(line) and units < pos.character:
            units += self.units(line[i])
            i += 1
        return i

    def whole(self, n: int) -> lsp.Range:
        return lsp.Range(lsp.Position(n, 0), self.end_of(n))

    def end(self) -> lsp.Position:
        if not self.lines:
            return lsp.Position(0, 0)
        if self.lines[-1] != _content(self.lines[-1]):
            return lsp.Position(len(self.lines), 0)
        return self.end_of(len(self.lines) - 1)

    def edits_to(self, new_text: str, within: tuple[int, int] | None = None) -> list[lsp.TextEdit]:
        """Text edits that make this text `new_text`: one per run of lines that differ (only those that meet
        the 0-based lines `within`, inclusive, when given)."""
        new = split_lines(new_text)
        found = []
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, self.lines, new, autojunk=False).get_opcodes():
            if op == "equal":
                continue
            if within is not None and not (i1 <= within[1] and max(i2 - 1, i1) >= within[0]):
                continue
            start = lsp.Position(i1, 0)
            end = lsp.Position(i2, 0) if i2 < len(self.lines) else self.end()
            found.append(lsp.TextEdit(lsp.Range(start, end), "".join(new[j1:j2])))
        return found


# --- the session: the vault, its engine, the open documents ----------------------------------------------


@dataclass
class Skipped:
    line: int
    code: str
    message: str


@dataclass
class Session:
    """The vault as the editor sees it: the engine, the config, the open documents and what was planned."""

    root: Path
    explicit_config: Path | None = None
    fixed_today: dt.date | None = None
    engine: Engine | None = None
    config: Config = field(default_factory=Config)
    config_error: ConfigError | None = None
    config_text: str | None = None  # the config file's buffer, while it is open in the editor
    open: dict[str, str] = field(default_factory=dict)  # rel → text of the notes open in the editor
    skipped: dict[str, Skipped] = field(default_factory=dict)  # open notes that are not handed to the engine
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # what sync would make of each open note
    day: dt.date | None = None

    def __post_init__(self) -> None:
        self.root = Path(os.path.abspath(self.root))  # (URIs are absolute)

    def today(self) -> dt.date:
        env = os.environ.get("MDTRACKER_TODAY")
        try:
            from_env = dt.date.fromisoformat(env) if env else None
        except ValueError:
            from_env = None
        return self.fixed_today or from_env or self.config.today or dt.date.today()

    def rel(self, uri: str) -> str | None:
        """The note's path in the vault, when the document is a note of the vault."""
        path = uris.to_fs_path(uri)
        if path is None:
            return None
        try:
            rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(self.root)).as_posix()
        except ValueError:
            return None
        parts = rel.split("/")
        if not note_name(parts[-1]) or not all(searched(p) for p in parts[:-1]) or excluded(rel, self.config.exclude):
            return None
        return rel

    def uri(self, rel: str) -> str:
        return uris.from_fs_path(str(self.root / rel)) or ""

    def config_path(self) -> Path:
        return self.explicit_config or find_config(self.root) or self.root / CONFIG_NAME

    def load_config(self) -> bool:
        """Read the config (the editor's buffer of it when open); a broken one is reported and the last good
        one kept. True when the config changed."""
        path = self.config_path()
        try:
            if self.config_text is not None:
                shown = path.name if self.explicit_config is None else str(path)
                config = from_text(self.config_text, shown, pyproject=path.name == "pyproject.toml")
            else:
                from mdtracker.pipeline import load_config

                config = load_config(self.root, self.explicit_config)
            self.config_error = None
        except ConfigError as err:
            self.config_error = err
            return False
        except RecursionError:
            self.config_error = ConfigError(str(path.name), None, "invalid TOML: nested too deep")
            return False
        changed = config.fingerprint != self.config.fingerprint or self.engine is None
        self.config = config
        return changed

    def buffers(self) -> dict[str, str]:
        """The open notes the engine reads from the editor's text: not those too large or not text, which
        are reported instead (and read from disk, where the same limits hold)."""
        found, self.skipped = {}, {}
        for rel, text in self.open.items():
            if len(text) > self.config.note_limit or len(text.encode("utf-8", "surrogatepass")) > self.config.note_limit:
                self.skipped[rel] = Skipped(1, "too-large", f"the note is larger than {self.config.note_limit // 1_000_000} MB "
                                            "([limits] note_mb); not read")
            elif "\x00" in text:
                line = text.count("\n", 0, text.index("\x00")) + 1
                self.skipped[rel] = Skipped(line, "encoding", "binary data (a NUL byte), not a Markdown note")
            else:
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    self.skipped[rel] = Skipped(1, "encoding", "not valid UTF-8 text")
                    continue
                found[rel] = text
        return found

    def update(self, touched: set[str] | None) -> None:
        """Bring the engine up to date with the open documents and the paths named (None: every note), and
        plan the open notes."""
        day = self.today()
        if self.engine is None:
            # one process: a pool of workers forked from the server's threads hung on a cold 10,000-note vault
            self.engine = Engine(self.root, self.config, jobs=1)
            touched = None
        if day != self.day:
            touched, self.day = None, day
        buffers = self.buffers()
        self.engine.update(touched | set(self.skipped) if touched is not None else None, buffers=buffers)
        self.outcomes = {o.path: o for o in self.engine.plan_of(day, buffers)}

    # --- what the editor is shown of a note --------------------------------------------------------------

    def note_parts(self, rel: str) -> tuple[Document | None, FileSummary | None]:
        """The open note's Document and summary (none for a note the editor has but the engine was not given)."""
        if rel in self.skipped or rel not in self.open:
            return None, None
        note = self.engine.note(rel) if self.engine is not None and self.engine.vault is not None else None
        if note is None:
            return None, None
        return note.document, note.summary

    def file_analysis(self, summary: FileSummary) -> Analysis:
        """The analysis of one note alone: what is overdue in it, its reviews, on today."""
        return combine([summary], self.config, self.today())

    def diagnostics(self, rel: str, lines: Lines) -> list[lsp.Diagnostic]:
        found: list[lsp.Diagnostic] = []

        def add(line: int | None, code: str, message: str, severity: lsp.DiagnosticSeverity | None = None) -> None:
            n = max(0, (line or 1) - 1)
            found.append(lsp.Diagnostic(
                lines.whole(n), message, severity or SEVERITY.get(code, lsp.DiagnosticSeverity.Warning), code,
                lsp.CodeDescription(RULES + code), SOURCE))

        if self.config_error is not None:
            add(1, "config", f"{self.config_error} (the last good config is used)")
        if rel in self.skipped:
            skipped = self.skipped[rel]
            add(skipped.line, skipped.code, skipped.message)
            return found
        note = self.engine.note(rel) if self.engine is not None and self.engine.vault is not None else None
        if note is None:
            return found
        if note.error is not None:
            add(note.error.line, note.error.code, note.error.message)
        problems = note.summary.problems if note.summary is not None else ()
        for p in problems:
            add(p.line, p.code, p.message)
        outcome = self.outcomes.get(rel)
        if outcome is not None and outcome.error is not None:
            err = outcome.error
            if not (err.code == "marker" and any(p.code == "marker" for p in problems)):
                add(err.line, getattr(err, "code", "template"), err.message)
        elif outcome is not None and outcome.stale:
            for change in outcome.changes:
                add(change.line, "stale", f"{change.what} is stale: sync would change it")
        return sorted(found, key=lambda d: (d.range.start.line, str(d.code)))

    def config_diagnostics(self) -> list[lsp.Diagnostic]:
        err = self.config_error
        if err is None:
            return []
        n = max(0, (err.line or 1) - 1)
        text = self.config_text
        if text is None:
            try:
                text = read_config(self.config_path(), CONFIG_NAME)
            except ConfigError:
                text = ""
        lines = Lines(text, len)
        return [lsp.Diagnostic(lsp.Range(lsp.Position(n, 0), lsp.Position(n, len(lines.line(n)))), err.message,
                               lsp.DiagnosticSeverity.Error, "config", lsp.CodeDescription(RULES + "config"), SOURCE)]

    def inlay_hints(self, rel: str, lines: Lines, first: int, last: int) -> list[lsp.InlayHint]:
        """Progress after headings and items with tasks below, days overdue after a due date, the next review
        after a studied topic (0-based lines `first`..`last`)."""
        doc, summary = self.note_parts(rel)
        if doc is None or summary is None:
            return []
        hints: dict[tuple[int, int], list[str]] = {}

        def hint(line: int, label: str, index: int | None = None) -> None:
            n = line - 1
            if first <= n <= last:
                hints.setdefault((n, len(lines.line(n)) if index is None else index), []).append(label)

        shown = set()
        for h in summary.headings:
            hint(h.line, _progress_label(h.counts))
            shown.add(h.line)
        statuses = [status_of(t, self.config) for t in doc.tasks]
        for i, task in enumerate(doc.tasks):
            below = _descendants(doc.tasks, i)
            if below and task.line not in shown:
                hint(task.line, _progress_label(count(statuses[j] for j in below)))
                shown.add(task.line)
        for cookie in doc.cookies:
            if cookie.line not in shown:
                hint(cookie.line, _progress_label(count(statuses[cookie.first_task:cookie.end_task])))
                shown.add(cookie.line)
        analysis = self.file_analysis(summary)
        for o in analysis.overdue:
            if o.kind == "review":
                continue  # (shown with the review below)
            hint(o.line, f"⚠ {_days(o.days_overdue)} overdue", _after_field(lines.line(o.line - 1), "due"))
        for r in (*analysis.reviews.due, *analysis.reviews.upcoming):
            hint(r.line, _review_label(r), _after_field(lines.line(r.line - 1), "done"))
        return [lsp.InlayHint(lines.at(n, index), " · ".join(labels), padding_left=True)
                for (n, index), labels in sorted(hints.items())]

    def hover(self, rel: str, lines: Lines, n: int) -> str | None:
        doc, summary = self.note_parts(rel)
        if doc is None or summary is None:
            return None
        line = n + 1
        for region in doc.regions:
            if line in (region.line, region.end_line):
                return self._region_hover(rel, region)
        task_index = next((i for i, t in enumerate(doc.tasks) if t.line == line), None)
        if task_index is not None:
            return self._task_hover(doc, summary, task_index)
        heading = next((h for h in doc.headings if h.line == line), None)
        if heading is not None:
            return self._heading_hover(doc, summary, heading)
        return None

    def _region_hover(self, rel: str, region: Region) -> str:
        info = template_info(self.root, region.name)
        out = [f"**region `{region.name}`**" + (" (inline)" if region.inline else "")]
        if info is None:
            out.append(f"unknown region: no template `{region.name}` (built-in: {', '.join(builtin_names())})")
            return "\n\n".join(out)
        out.append(info.description or "(the template says nothing of itself)")
        origin = f"{VAULT_TEMPLATES}/{region.name}{SUFFIX} (the vault's own)" if info.own else "built-in template"
        scope = scope_of(region, own_templates(self.root))
        out.append(f"{origin}; depends on {'this note' if scope == 'file' else 'the day' if scope == 'day' else 'the whole vault'}")
        takes = ", ".join(f"`{a}` ({k})" for a, k in info.arguments.items()) or "none"
        out.append(f"arguments: {takes}")
        if region.args:
            out.append("given: " + ", ".join(f"`{k}={v}`" for k, v in region.args))
        outcome = self.outcomes.get(rel)
        if outcome is not None and any(c.line == region.line for c in outcome.changes):
            out.append("stale: sync would change it")
        return "\n\n".join(out)

    def _task_hover(self, doc: Document, summary: FileSummary, index: int) -> str:
        task = doc.tasks[index]
        status = status_of(task, self.config)
        known = self.config.status(task.symbol) is not None
        out = [f"**task** `[{task.symbol}]` {status.type}" + ("" if known else " (unknown status: counted as todo)")
               + (f", credit {status.credit:g}" if status.type == "in_progress" else "")]
        dates = [(label, getattr(task, name)) for label, name in
                 (("due", "due"), ("scheduled", "scheduled"), ("start", "start"), ("created", "created"),
                  ("done", "done"), ("cancelled", "cancelled"))]
        written = [f"{label} {day.isoformat()}" for label, day in dates if day is not None]
        if written:
            out.append("dates: " + ", ".join(written))
        analysis = self.file_analysis(summary)
        for o in analysis.overdue:
            if o.line == task.line and o.kind != "review":
                out.append(f"overdue: {_days(o.days_overdue)} ({o.kind}, due {o.due.isoformat()})")
        below = _descendants(doc.tasks, index)
        if below:
            out.append("tasks below: " + _progress_label(count(status_of(doc.tasks[j], self.config) for j in below)))
        done_reviews = sum(1 for j in below if doc.tasks[j].parent == index and reviews.is_review_record(doc, doc.tasks[j])
                           and status_of(doc.tasks[j], self.config).type == "done")
        pending = [r for r in (*analysis.reviews.due, *analysis.reviews.upcoming) if r.line == task.line]
        if task.done is not None or done_reviews or pending:
            text = f"reviews: {done_reviews} done"
            if pending:
                text += f"; next: {_review_label(pending[0])}"
            elif task.done is not None and status.type == "done":
                text += "; none left"
            out.append(text)
        return "\n\n".join(out)

    def _heading_hover(self, doc: Document, summary: FileSummary, heading: Any) -> str:
        out = [f"**{heading.text.strip()}**"]
        progress = next((h for h in summary.headings if h.line == heading.line), None)
        out.append("tasks below: " + (_progress_label(progress.counts) if progress else "none"))
        index = doc.headings.index(heading)
        keys = {recognize.section_key(h.text) for h in doc.heading_chain(index)}
        analysis = self.engine.analysis(self.today()) if self.engine is not None else None
        if analysis is not None:
            sections = {spec.name: {recognize.section_key(s) for s in (*spec.sections, spec.name)}
                        for spec in self.config.domains}
            for domain in analysis.readiness.domains:
                wanted = sections.get(domain.name, {recognize.section_key(domain.name)})
                if wanted & keys:
                    out.append(f"domain **{domain.name}** (weight {domain.weight:g}): {domain.covered:g} of "
                               f"{domain.total:g} covered, {percent(domain.progress)}; overall readiness "
                               f"{percent(analysis.readiness.overall)}")
        return "\n\n".join(out)

    # --- completion --------------------------------------------------------------------------------------

    def completions(self, lines: Lines, pos: lsp.Position) -> list[lsp.CompletionItem]:
        line = lines.line(pos.line)
        index = lines.index(pos)
        before = line[:index]
        if (m := _TASK_INSIDE.match(before)) is not None:
            start = index - len(m.group(1))
            end = start + 1 if start < len(line) and line[start] != "]" else start
            rng = lsp.Range(lines.at(pos.line, start), lines.at(pos.line, end))
            closing = "" if line[end:end + 1] == "]" else "]"
            return [lsp.CompletionItem(
                label=f"[{symbol}] {status.type}", kind=lsp.CompletionItemKind.EnumMember, filter_text=symbol,
                detail=f"{status.type}, credit {status.credit:g}", sort_text=f"{n:03}",
                text_edit=lsp.TextEdit(rng, symbol + closing))
                for n, (symbol, status) in enumerate(self.config.statuses.items())]
        if (m := _DATE_AFTER.search(before)) is not None:
            typed = m.group(2)
            start = index - len(typed)
            rng = lsp.Range(lines.at(pos.line, start), lines.at(pos.line, index))
            space = "" if before[:start].endswith((" ", "\t")) else " "
            return [lsp.CompletionItem(label=word, kind=lsp.CompletionItemKind.Value, detail=day.isoformat(),
                                       filter_text=word, sort_text=f"{n:03}",
                                       text_edit=lsp.TextEdit(rng, space + day.isoformat()))
                    for n, (word, day) in enumerate(_days_named(self.today()))]
        if (m := _BEGIN_NAME.search(before)) is not None:
            start = index - len(m.group(1))
            rng = lsp.Range(lines.at(pos.line, start), lines.at(pos.line, index))
            items = []
            for name in template_names(self.root):
                info = template_info(self.root, name)
                items.append(lsp.CompletionItem(
                    label=name, kind=lsp.CompletionItemKind.Module, text_edit=lsp.TextEdit(rng, name),
                    detail="the vault's own template" if info and info.own else "built-in template",
                    documentation=_args_doc(info)))
            return items
        if (m := _BEGIN_ARG.search(before)) is not None:
            info = template_info(self.root, m.group(1))
            given = set(re.findall(r"(\w+)=", m.group(2)))
            start = index - len(m.group(3))
            rng = lsp.Range(lines.at(pos.line, start), lines.at(pos.line, index))
            return [lsp.CompletionItem(label=f"{arg}=", kind=lsp.CompletionItemKind.Property, detail=kind,
                                       text_edit=lsp.TextEdit(rng, f'{arg}=""' if kind == "text" else f"{arg}="))
                    for arg, kind in (info.arguments.items() if info else ()) if arg not in given]
        return []

    # --- code actions ------------------------------------------------------------------------------------

    def code_actions(self, uri: str, rel: str, lines: Lines, first: int, last: int,
                     diagnostics: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
        doc, _ = self.note_parts(rel)
        actions: list[lsp.CodeAction] = []

        def action(title: str, edits: list[lsp.TextEdit] | dict[str, list[lsp.TextEdit]] | lsp.WorkspaceEdit,
                   kind: str = lsp.CodeActionKind.QuickFix, code: str | None = None) -> None:
            if isinstance(edits, list):
                edit = lsp.WorkspaceEdit(changes={uri: edits})
            elif isinstance(edits, dict):
                edit = lsp.WorkspaceEdit(changes=edits)
            else:
                edit = edits
            related = [d for d in diagnostics if code is not None and d.code == code]
            actions.append(lsp.CodeAction(title, kind=kind, edit=edit, diagnostics=related or None))

        outcome = self.outcomes.get(rel)
        if (doc is not None and outcome is not None and outcome.stale and outcome.new_text is not None
                and outcome.note is not None and outcome.note.text == lines.text):
            for region in doc.regions:
                if region.line - 1 <= last and region.end_line - 1 >= first:
                    edits = lines.edits_to(outcome.new_text, (region.line - 1, region.end_line - 1))
                    if edits:
                        action(f"Update region {region.name}", edits, code="stale")
            for cookie in doc.cookies:
                if first <= cookie.line - 1 <= last:
                    edits = lines.edits_to(outcome.new_text, (cookie.line - 1, cookie.line - 1))
                    if edits:
                        action("Update the cookie", edits, code="stale")
            action("Update all regions and cookies of this note", lines.edits_to(outcome.new_text),
                   lsp.CodeActionKind.SourceFixAll + ".mdtracker", code="stale")
        if doc is not None and doc.repairs:
            offsets = set(doc.repairs)
            repairs = [r for r in mojibake.find(lines.text) if r.offset in offsets]
            starts = _line_starts(lines)
            on_line = [r for r in repairs if first <= _line_of(starts, r.offset) <= last]
            if on_line:
                action("Repair mojibake on this line", _repair_edits(lines, starts, on_line), code="mojibake")
            if repairs:
                action("Repair mojibake in this note", _repair_edits(lines, starts, repairs), code="mojibake")
        if doc is not None:
            for n in range(first, last + 1):
                text = lines.line(n)
                moved = _dates_to_end(text)
                if moved is not None and any(p.line == n + 1 and p.code == "field-not-at-end" for p in doc.problems):
                    action("Move the date to the end of the line (Obsidian Tasks reads it there)",
                           [lsp.TextEdit(lines.whole(n), moved)], code="field-not-at-end")
            for task in doc.tasks:
                if first <= task.line - 1 <= last and self.config.status(task.symbol) is None:
                    for kind in ("todo", "in_progress", "done", "cancelled"):
                        edit = self._map_status(task.symbol, kind)
                        if edit is not None:
                            action(f"Map [{task.symbol}] to {kind} in {self.config_path().name}", edit,
                                   code="unknown-status")
            inside = any(r.line - 1 <= first <= r.end_line - 1 for r in doc.regions)
            if first == last and not lines.line(first).strip() and not inside:
                for name in template_names(self.root):
                    text = f"<!-- mdtracker:begin {name} -->\n<!-- mdtracker:end {name} -->\n"
                    action(f"Insert region {name}", [lsp.TextEdit(lsp.Range(lsp.Position(first, 0),
                                                                             lsp.Position(first, 0)), text)],
                           lsp.CodeActionKind.Refactor + ".insert")
        return actions

    def _map_status(self, symbol: str, kind: str) -> lsp.WorkspaceEdit | None:
        """An edit of the config file that maps `symbol` to `kind` under [statuses] (a new file if there is
        none); None when the edited config would not be valid."""
        path = self.config_path()
        pyproject = path.name == "pyproject.toml"
        table = "[tool.mdtracker.statuses]" if pyproject else "[statuses]"
        entry = f"{json.dumps(symbol, ensure_ascii=False)} = \"{kind}\"\n"
        uri = uris.from_fs_path(str(path)) or ""
        text: str | None
        if self.config_text is not None:
            text = self.config_text
        else:
            try:
                text = read_config(path, CONFIG_NAME) if path.is_file() else None
            except ConfigError:
                return None
        if text is None:
            edit = lsp.WorkspaceEdit(document_changes=[
                lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(ignore_if_exists=True)),
                lsp.TextDocumentEdit(lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                                     [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
                                                   table + "\n" + entry)])])
            new = table + "\n" + entry
        else:
            lines = Lines(text, len)
            at = next((n for n, line in enumerate(lines.lines) if line.strip() == table), None)
            if at is not None:
                pos, insert = lsp.Position(at + 1, 0), entry
                if at + 1 >= len(lines.lines) and not lines.lines[at].endswith("\n"):
                    pos, insert = lines.end(), "\n" + entry
            else:
                pos = lines.end()
                insert = ("" if not text or text.endswith("\n") else "\n") + ("\n" if text else "") + table + "\n" + entry
            offset = sum(len(line) for line in lines.lines[:pos.line]) + pos.character
            new = text[:offset] + insert + text[offset:]
            edit = lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(lsp.Range(pos, pos), insert)]})
        try:
            from_text(new, path.name, pyproject=pyproject)
        except (ConfigError, RecursionError):
            return None
        return edit


def _progress_label(counts: Counts) -> str:
    counted = counts.total - counts.cancelled - counts.non_task
    return f"{counts.done}/{counted} · {percent(counts.progress)}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _review_label(r: reviews.Review) -> str:
    if r.days_overdue > 0:
        return f"review {r.review} overdue {_days(r.days_overdue)} ({r.due.isoformat()})"
    if r.days_overdue == 0:
        return f"review {r.review} due today"
    return f"review {r.review} on {r.due.isoformat()} (in {_days(-r.days_overdue)})"


def _after_field(line: str, name: str) -> int | None:
    """Where the first date of the field `name` ends in the line (None: the end of the line)."""
    found = next((f for f in recognize.date_fields(line) if f.field == name), None)
    return None if found is None else found.end


def _descendants(tasks: tuple[Task, ...], index: int) -> list[int]:
    """The tasks nested below the task at `index` (every depth): the run of tasks after it whose chain of
    parents reaches it."""
    found = []
    for j in range(index + 1, len(tasks)):
        p = tasks[j].parent
        while p is not None and p > index:
            p = tasks[p].parent
        if p != index:
            break
        found.append(j)
    return found


def _days_named(today: dt.date) -> list[tuple[str, dt.date]]:
    found = [("today", today), ("tomorrow", today + dt.timedelta(days=1))]
    for n, name in enumerate(WEEKDAYS):
        ahead = (n - today.weekday()) % 7 or 7
        found.append((name, today + dt.timedelta(days=ahead)))
    found.append(("next week", today + dt.timedelta(days=7)))
    return found


def _args_doc(info: TemplateInfo | None) -> str | None:
    if info is None:
        return None
    takes = ", ".join(f"{a} ({k})" for a, k in info.arguments.items()) or "none"
    return f"{info.description}\n\narguments: {takes}"


def _line_starts(lines: Lines) -> list[int]:
    starts, at = [], 0
    for line in lines.lines:
        starts.append(at)
        at += len(line)
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset) - 1


def _repair_edits(lines: Lines, starts: list[int], repairs: list[mojibake.Repair]) -> list[lsp.TextEdit]:
    edits = []
    for r in repairs:
        n = _line_of(starts, r.offset)
        column = r.offset - starts[n]
        edits.append(lsp.TextEdit(lsp.Range(lines.at(n, column), lines.at(n, column + len(r.old))), r.new))
    return edits


def _dates_to_end(line: str) -> str | None:
    """The task line with the dates that text follows moved to its end, in their order (None: nothing to move)."""
    found = recognize.date_fields(line)
    if not found:
        return None
    tail = recognize.fields_tail_start(line)
    moving = [f for f in found if f.start < tail]
    if not moving:
        return None
    rest, last = [], 0
    for f in moving:
        rest.append(line[last:f.start].rstrip(" ") + (" " if line[last:f.start].endswith(" ") else ""))
        last = f.end
    rest.append(line[last:])
    body = re.sub(r"  +", " ", "".join(rest)).rstrip()
    return body + " " + " ".join(line[f.start:f.end].strip() for f in moving)


# --- the server ------------------------------------------------------------------------------------------


class TrackerServer(LanguageServer):
    """pygls' server with the session, and the changes waiting for the next update."""

    def __init__(self, session: Session) -> None:
        super().__init__("mdtracker", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.session = session
        self.pending: set[str] = set()  # notes changed since the last update (in the editor or on disk)
        self.edited: set[str] = set()  # open notes whose text changed: their diagnostics are published anyway
        self.everything = False  # look at every note at the next update
        self.timer: asyncio.TimerHandle | None = None
        self.last_flush = 0.0  # (time.monotonic) when the last update started
        self.published: dict[str, list[lsp.Diagnostic]] = {}
        self.started = False
        self.watching = False  # the client sends file events (else every note is looked at on each save)
        self.held = False  # every note's summary is in memory

    def units(self, text: str) -> int:
        return self.workspace.position_codec.client_num_units(text)

    def lines(self, uri: str) -> Lines:
        return Lines(self.workspace.get_text_document(uri).source, self.units)

    def log(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        try:
            self.window_log_message(lsp.LogMessageParams(kind, message))
        except Exception:  # the client may be gone
            log.warning(message)

    def schedule(self) -> None:
        """An update soon: at once after a quiet spell (a keystroke's diagnostics should not wait), at most
        one every `DEBOUNCE_S` while a burst of changes arrives (a paste, fast typing, a `git checkout`)."""
        if self.timer is not None:
            return  # one is on its way: it takes these changes too
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self.timer = loop.call_later(max(0.0, self.last_flush + DEBOUNCE_S - time.monotonic()), self.flush)

    def flush(self) -> None:
        """Bring the vault up to date now, if anything waits, and publish what changed."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.pending and not self.everything and self.started:
            return
        self.last_flush = time.monotonic()
        touched = None if self.everything or not self.started else set(self.pending)
        self.pending, self.everything, self.started = set(), False, True
        session = self.session
        try:
            session.update(touched)
        except MdtrackerError as err:
            self.log(f"mdtracker: {err}", lsp.MessageType.Error)
        except Exception as err:  # a note or template the engine did not expect must not end the server
            log.exception("update failed")
            self.log(f"mdtracker: update failed: {type(err).__name__}: {err}", lsp.MessageType.Error)
        self.publish()
        if not self.held:
            self.held = True
            try:
                asyncio.get_running_loop().call_soon(self.hold)
            except RuntimeError:
                self.hold()

    def warm(self) -> None:
        """Load the vault now if no note has been opened yet (an editor that opens none still gets a ready server)."""
        if not self.started:
            self.flush()

    def hold(self) -> None:
        """Read every note's summary into memory (the next updates then look only at what changed) and save
        the cache: done once, after the first diagnostics are out."""
        engine = self.session.engine
        if engine is not None and engine.vault is not None:
            guard(engine.hold, None, self)
            guard(engine.save, None, self)

    def publish(self) -> None:
        session = self.session
        for uri in list(self.workspace.text_documents):
            rel = session.rel(uri)
            if rel is None:
                continue
            found: list[lsp.Diagnostic] = guard(lambda: session.diagnostics(rel, self.lines(uri)), [], self)
            if rel in self.edited or found != self.published.get(uri):
                self.published[uri] = found
                self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, found))
        self.edited.clear()
        config_uri = uris.from_fs_path(str(session.config_path())) or ""
        found = session.config_diagnostics()  # (on the config file, open or not)
        if found != self.published.get(config_uri, []):
            self.published[config_uri] = found
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(config_uri, found))

    def reload_config(self) -> None:
        if self.session.load_config():
            self.session.engine = None  # a new config: a new engine (the cache is keyed by the config)
            self.held = False
            self.everything = True
            self.refresh_hints()
        self.pending.add("")  # (publish the config's diagnostics either way)

    def refresh_hints(self) -> None:
        caps = self.client_capabilities.workspace
        if caps and caps.inlay_hint and caps.inlay_hint.refresh_support:
            try:
                self.workspace_inlay_hint_refresh(None)
            except Exception:
                pass


def guard(work: Callable[[], T], default: T, server: TrackerServer | None = None) -> T:
    """Run a request's work; anything it raises is logged and answered with `default`, never a crash."""
    try:
        return work()
    except Exception as err:
        log.exception("request failed")
        if server is not None:
            server.log(f"mdtracker: {type(err).__name__}: {err}", lsp.MessageType.Error)
        return default


def make_server(root: Path | None, config_file: Path | None = None, today: dt.date | None = None) -> TrackerServer:
    """The language server for the vault that is the client's workspace folder (else `root`, else the
    current folder)."""
    server = TrackerServer(Session(root or Path.cwd(), config_file, today))

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: TrackerServer, params: lsp.InitializeParams) -> None:
        session = ls.session
        folder = None
        if params.workspace_folders:
            folder = uris.to_fs_path(params.workspace_folders[0].uri)
        elif params.root_uri:
            folder = uris.to_fs_path(params.root_uri)
        elif params.root_path:
            folder = params.root_path
        if folder and os.path.isdir(folder):  # the workspace is the vault; else VAULT, else here
            session.root = Path(os.path.abspath(folder))
        ls.session.load_config()

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: TrackerServer, params: lsp.InitializedParams) -> None:
        caps = ls.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps else None
        if watched and watched.dynamic_registration:
            watchers = [lsp.FileSystemWatcher(glob_pattern=g) for g in
                        ("**/*.md", "**/*.MD", f"**/{CONFIG_NAME}", "**/pyproject.toml", f"**/{VAULT_TEMPLATES}/*{SUFFIX}")]
            ls.watching = True
            try:
                ls.client_register_capability(lsp.RegistrationParams([lsp.Registration(
                    "mdtracker-files", lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    lsp.DidChangeWatchedFilesRegistrationOptions(watchers))]))
            except Exception as err:
                ls.log(f"mdtracker: cannot watch files: {err}")
        ls.log(f"mdtracker {__version__}: vault {ls.session.root}")
        ls.publish()  # (the config's diagnostics)
        # the vault is loaded when the first note opens (its diagnostics wait for nothing else), or in a moment
        asyncio.get_running_loop().call_later(WARM_AFTER_S, ls.warm)

    def config_buffer(ls: TrackerServer, uri: str, text: str | None) -> bool:
        """The document is the vault's config: its text as the editor has it (None: the file again)."""
        if not _is_config(ls.session, uri):
            return False
        ls.session.config_text = text
        ls.reload_config()
        ls.schedule()
        return True

    def opened(ls: TrackerServer, uri: str, text: str) -> None:
        session = ls.session
        if config_buffer(ls, uri, text):
            return
        rel = session.rel(uri)
        if rel is None:
            return
        session.open[rel] = text
        ls.pending.add(rel)
        ls.edited.add(rel)
        ls.schedule()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TrackerServer, params: lsp.DidOpenTextDocumentParams) -> None:
        guard(lambda: opened(ls, params.text_document.uri, ls.workspace.get_text_document(params.text_document.uri).source),
              None, ls)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TrackerServer, params: lsp.DidChangeTextDocumentParams) -> None:
        guard(lambda: opened(ls, params.text_document.uri, ls.workspace.get_text_document(params.text_document.uri).source),
              None, ls)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TrackerServer, params: lsp.DidSaveTextDocumentParams) -> None:
        session = ls.session
        if _is_config(session, params.text_document.uri):
            ls.reload_config()
        elif not ls.watching:
            ls.everything = True  # no file events from this client: a save is when to look at every note
        ls.schedule()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TrackerServer, params: lsp.DidCloseTextDocumentParams) -> None:
        session = ls.session
        uri = params.text_document.uri
        if config_buffer(ls, uri, None):
            return
        rel = session.rel(uri)
        if rel is None or rel not in session.open:
            return
        del session.open[rel]
        ls.pending.add(rel)  # the note is the file again
        ls.published.pop(uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri, []))
        ls.schedule()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: TrackerServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        session = ls.session
        for change in params.changes:
            path = uris.to_fs_path(change.uri) or ""
            if _is_config(session, change.uri):
                ls.reload_config()
                continue
            try:
                rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(session.root)).as_posix()
            except ValueError:
                continue
            if rel.startswith(VAULT_TEMPLATES + "/") or not rel.lower().endswith(".md"):
                ls.everything = True  # a template came, went or changed (or a folder): look at everything
            else:
                ls.pending.add(rel)
        ls.schedule()

    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: TrackerServer, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
        return guard(lambda: _answer(ls, params.text_document.uri, lambda rel, lines: ls.session.inlay_hints(
            rel, lines, params.range.start.line, params.range.end.line)) or [], [], ls)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: TrackerServer, params: lsp.HoverParams) -> lsp.Hover | None:
        def work(rel: str, lines: Lines) -> lsp.Hover | None:
            text = ls.session.hover(rel, lines, params.position.line)
            if text is None:
                return None
            return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), lines.whole(params.position.line))

        return guard(lambda: _answer(ls, params.text_document.uri, work), None, ls)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=["[", " ", "\ufe0f"]))
    def completion(ls: TrackerServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        items: list[lsp.CompletionItem] = guard(lambda: _answer(
            ls, params.text_document.uri, lambda rel, lines: ls.session.completions(lines, params.position),
            flush=False) or [], [], ls)
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix,
                                                             lsp.CodeActionKind.SourceFixAll,
                                                             lsp.CodeActionKind.Refactor]))
    def code_action(ls: TrackerServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        return guard(lambda: _answer(ls, uri, lambda rel, lines: ls.session.code_actions(
            uri, rel, lines, params.range.start.line, params.range.end.line, list(params.context.diagnostics))) or [],
            [], ls)

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: TrackerServer, params: None) -> None:
        engine = ls.session.engine
        if engine is not None and engine.vault is not None:
            guard(engine.save, None, ls)

    return server


def _is_config(session: Session, uri: str) -> bool:
    path = uris.to_fs_path(uri)
    return path is not None and os.path.abspath(path) == os.path.abspath(session.config_path())


def _answer(ls: TrackerServer, uri: str, work: Callable[[str, Lines], T], flush: bool = True) -> T | None:
    """A request on a note: answered on the vault as the editor has it now (waiting changes first)."""
    rel = ls.session.rel(uri)
    if rel is None:
        return None
    if flush and (ls.pending or ls.everything):
        ls.flush()
    return work(rel, ls.lines(uri))


def serve(root: Path | None, config_file: Path | None = None, today: dt.date | None = None) -> int:
    """Run the server on stdin and stdout until the client exits (or stdin ends)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="mdtracker lsp: %(message)s")
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever else prints must not land in the protocol's stream
    server = make_server(root, config_file, today)
    server.start_io(stdin, stdout)
    return 0
