"""The stage that runs on each note, wherever it is parsed (in the command, or on a worker): read, parse,
summarize; and for sync and check, a note whose regions and cookies need nothing but the note itself and the
day is transformed right there, and for sync written there, so that only its outcome travels back.

The pipeline hands this stage to the workers (`pipeline.read_and_summarize`); it is its only module that
imports the parser, the analysis and the templates.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import replace
from pathlib import Path
from typing import Callable, Mapping

from mdtracker import mojibake
from mdtracker.analyze import Analysis, summarize
from mdtracker.config import Config
from mdtracker.errors import NoteError
from mdtracker.files import NoteText, digest, read_note, write_note
from mdtracker.model import Document
from mdtracker.parse import cookies_unread, parse
from mdtracker.render import Renderer, scope_of
from mdtracker.transform import outcome, preplan
from mdtracker.vault import ALONE, Note, Outcome, Setting


def _rewritable(doc: Document) -> bool:
    return doc.managed or doc.marker_error or any(p.code == "mojibake" for p in doc.problems)


def note_from(doc: Document, size: int, mtime_ns: int, setting: Setting, text: NoteText | None = None,
              source: str | None = None) -> Note:
    """What is known of a note from its Document (parsed from `source`, or `text`): its summary, what its
    regions need; and for sync and check, when it needs only itself and the day, its outcome."""
    keep = _rewritable(doc)
    scopes = frozenset({scope_of(r, setting.own) for r in doc.regions} | ({"file"} if doc.cookies else set()))
    read = as_repaired(doc, source if source is not None else text.text if text is not None else None)
    note = Note(doc.path, size, mtime_ns, doc.digest, summarize(read, setting.config), scopes,
                frozenset(r.name for r in doc.regions), keep, doc if keep and setting.documents else None,
                mojibake=read is not doc)
    if setting.today is not None and text is not None and keep and scopes <= ALONE and not doc.marker_error:
        assert note.summary is not None
        outcome = preplan(text, doc, note.summary, setting.config, setting.root, setting.today, setting.own)
        if outcome is not None and setting.write and outcome.stale:
            return _rewritten(note, doc, outcome, setting)
        if outcome is not None:
            return replace(note, document=None, outcome=outcome if setting.texts else outcome.lean())
    return note


def as_repaired(doc: Document, source: str | None) -> Document:
    """The Document the analysis reads: for a note with certain mojibake (`ðŸ”´` for 🔴), parsed from the
    repaired text, which has the same lines (the note itself stays as it is until `lint --fix`: its regions
    are spliced into the text as written). Its problems are the note's own, the mojibake ones included."""
    if source is None or not any(p.code == "mojibake" for p in doc.problems):
        return doc
    repairs = [r for r in mojibake.find(source) if r.offset in set(doc.repairs)]
    if not repairs:
        return doc
    return dataclasses.replace(parse(mojibake.apply(source, repairs), doc.path, doc.digest), problems=doc.problems)


def _rewritten(note: Note, doc: Document, outcome: Outcome, setting: Setting) -> Note:
    """Write the note's new text where it was worked out, and know the note as written: the cache then holds
    it as it now is on disk, and no text travels back. (A first sync rewrites most notes of a vault: kept
    until the end, their texts would take gigabytes; left for the next run, they would all be parsed again.)
    When only cookies changed, and nothing but the cookies read them, the summary stays as it is; else the
    text written is parsed."""
    assert outcome.note is not None and outcome.new_text is not None and outcome.new_raw is not None
    try:
        stat = write_note(outcome.note, outcome.new_raw, note.rel, setting.root)
    except NoteError as err:
        return replace(note, document=None, outcome=Outcome(note.rel, error=err))
    assert stat is not None  # a stale note's bytes differ
    done = replace(outcome.lean(), written=True)
    if all(c.what == "cookie" for c in outcome.changes) and cookies_unread(doc, {c.line for c in outcome.changes}):
        return replace(note, size=stat.st_size, mtime_ns=stat.st_mtime_ns, digest=digest(outcome.new_raw),
                       document=None, outcome=done)
    again = as_written(note.rel, outcome.new_text, outcome.new_raw, stat, setting)
    return replace(again, document=None, outcome=done)


def as_written(rel: str, text: str, raw: bytes, stat: os.stat_result, setting: Setting) -> Note:
    """A note this run rewrote, parsed from the text written, with the stat of what was written."""
    return note_from(parse(text, rel, digest(raw)), stat.st_size, stat.st_mtime_ns, replace(setting, today=None),
                     source=text)


def read_and_summarize(path: str | Path, rel: str, size: int, mtime_ns: int, setting: Setting) -> Note:
    """Read, parse and summarize one note; a note that cannot be read becomes a Note with its error."""
    try:
        text_note = read_note(path, rel, setting.config.note_limit)
    except NoteError as err:
        return Note(rel, size, mtime_ns, error=err)
    return note_from(parse(text_note.text, rel, digest(text_note.raw)), size, mtime_ns, setting, text_note)


_WORKER_SETTING: Setting | None = None


def parse_from_disk(root: Path, rel: str, stat_digest: str, limit: int) -> Document | None:
    """A note's Document parsed again from disk (None if it cannot be read: it is reported when it is read
    again), with the digest of the stat taken: a file changed since is a conflict when it is written."""
    try:
        text = read_note(root / rel, rel, limit)
    except NoteError:
        return None
    return parse(text.text, rel, stat_digest)


def outcomes_of(root: Path, config: Config, docs: list[Document], analysis: Callable[[], Analysis],
                own: frozenset[str], buffers: Mapping[str, NoteText]) -> list[Outcome]:
    """The transform's outcome of each of these Documents (from an editor's buffer where one stands in for
    the note); the vault's analysis is asked for only if one of them has a region to render."""
    renderer = Renderer(root, analysis(), own) if any(d.managed and not d.marker_error for d in docs) else None
    return [outcome(root, config, doc, renderer, buffers.get(doc.path)) for doc in docs]


def from_buffer(text: NoteText, rel: str, setting: Setting) -> Note:
    """A note known from an editor's buffer (never written here: `setting.write` is off), with its Document
    kept whatever it holds: an editor shows what it has (hints, hovers), and it is never cached."""
    doc = parse(text.text, rel, digest(text.raw))
    note = note_from(doc, len(text.raw), -1, setting, text)
    return note if note.document is not None or note.outcome is not None else replace(note, document=doc)
