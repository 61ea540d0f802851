"""One transform for `sync`, `check`, `watch` and the language server: the new text of a note that has
regions or cookies, from its text, its Document and a renderer.

`check` compares, `check --diff` prints the difference, `sync` and `watch` write what differs, the language
server sends it to the editor as text edits. Nothing here writes; the caller decides (`pipeline`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mdtracker.analyze import FileSummary, combine, status_of
from mdtracker.config import Config
from mdtracker.errors import NoteError
from mdtracker.files import NoteText, digest, read_note
from mdtracker.model import Document
from mdtracker.regions import Change, Cookie, SpliceError, cookie_text, splice
from mdtracker.render import RenderError, Renderer
from mdtracker.vault import Outcome


def cookie_value(doc: Document, cookie: Cookie, config: Config) -> str:
    """The cookie's text for the tasks below it: cancelled (and non-task) ones left out of the count."""
    done = counted = 0
    for task in doc.tasks[cookie.first_task:cookie.end_task]:
        kind = status_of(task, config).type
        counted += kind not in ("cancelled", "non_task")
        done += kind == "done"
    return cookie_text(done, counted, cookie.percent)


def transform(note: NoteText, doc: Document, renderer: Renderer | None, config: Config) -> tuple[str, list[Change]]:
    """The note's text with every region regenerated and every cookie recounted (RenderError if a template
    fails); `renderer` may be None for a note without regions."""
    assert renderer is not None or not doc.regions
    rendered = [(region, renderer.render(doc, region)) for region in doc.regions] if renderer else []
    cookies = [(cookie, cookie_value(doc, cookie, config)) for cookie in doc.cookies]
    if not rendered and all(value == cookie.written for cookie, value in cookies):
        return note.text, []  # every cookie already shows its count: nothing to splice (most notes, most runs)
    return splice(note.text, rendered, cookies)


def outcome(root: Path, config: Config, doc: Document, renderer: Renderer | None,
            text: NoteText | None = None) -> Outcome:
    """What the transform makes of the note of this Document, read again from disk (or `text`, an editor's
    buffer): refused when its markers are broken, or when the file is no longer what was parsed."""
    if doc.marker_error:
        first = next(p for p in doc.problems if p.code == "marker")
        return Outcome(doc.path, error=NoteError(doc.path, first.line, first.message + "; note left untouched", "marker"))
    try:
        note = text or read_note(root / doc.path, doc.path, config.note_limit)
    except NoteError as err:
        return Outcome(doc.path, error=err)
    if doc.digest and digest(note.raw) != doc.digest:
        return Outcome(doc.path, error=NoteError(doc.path, None, "changed while it was being read; not written (run again)", "conflict"))
    try:
        new_text, changes = transform(note, doc, renderer, config)
    except RenderError as err:
        return Outcome(doc.path, error=NoteError(doc.path, err.line, err.message + "; note left untouched", "template"))
    except SpliceError as err:
        return Outcome(doc.path, error=NoteError(doc.path, err.line, f"{err}; note left untouched", "marker"))
    return Outcome(doc.path, note, new_text, tuple(changes))


def preplan(text: NoteText, doc: Document, summary: FileSummary, config: Config, root: Path, today: dt.date,
            own: frozenset[str]) -> Outcome | None:
    """The outcome of a note whose regions and cookies depend on nothing but the note itself and the day,
    worked out without the rest of the vault; None when that cannot be done here (the vault's turn will tell
    why)."""
    renderer = Renderer(root, combine([summary], config, today), own) if doc.regions else None
    try:
        new_text, changes = transform(text, doc, renderer, config)
    except (RenderError, SpliceError):  # reported when the note is planned with the vault
        return None
    if new_text == text.text:
        return Outcome(doc.path)  # fresh: no bytes need to travel
    return Outcome(doc.path, text, new_text, tuple(changes))


