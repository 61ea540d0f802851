"""One transform for `sync`, `check` and `watch`: the new text of every note that has regions or cookies.

`check` compares, `check --diff` prints the difference, `sync` and `watch` write what differs. Nothing here
writes; the caller decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Callable

from mdtracker.analyze import Analysis, FileSummary, status_of
from mdtracker.config import Config
from mdtracker.errors import NoteError
from mdtracker.files import NoteText, digest, read_note, write_note
from mdtracker.model import Document
from mdtracker.regions import Change, Cookie, cookie_text, splice
from mdtracker.render import RenderError, Renderer
from mdtracker.vault import Setting, Vault


@dataclass(frozen=True)
class Outcome:
    """What the transform makes of one note: its new bytes and what changed, or why it is left alone."""

    path: str
    note: NoteText | None = None
    new_text: str | None = None
    changes: tuple[Change, ...] = ()
    error: NoteError | None = None
    written: bool = False  # sync wrote it where the note was parsed (see `vault.note_from`)

    @property
    def new_raw(self) -> bytes | None:
        return None if self.note is None or self.new_text is None else self.note.encode(self.new_text)

    @property
    def stale(self) -> bool:
        """Some region or cookie of the note was not what it should be (sync may have written it since)."""
        if self.error is not None:
            return False
        if self.note is None or self.new_text is None:  # worked out where the note was parsed; texts left there
            return bool(self.changes)
        return self.new_raw != self.note.raw

    def lean(self) -> Outcome:
        """The outcome without the note's old and new texts: what `sync` reports and `check` lists."""
        return replace(self, note=None, new_text=None) if self.note is not None else self


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


def outcome(vault: Vault, doc: Document, renderer: Renderer | None) -> Outcome:
    if doc.marker_error:
        first = next(p for p in doc.problems if p.code == "marker")
        return Outcome(doc.path, error=NoteError(doc.path, first.line, first.message + "; note left untouched", "marker"))
    try:
        note = read_note(vault.root / doc.path, doc.path)
    except NoteError as err:
        return Outcome(doc.path, error=err)
    if doc.digest and digest(note.raw) != doc.digest:
        return Outcome(doc.path, error=NoteError(doc.path, None, "changed while it was being read; not written (run again)", "conflict"))
    try:
        new_text, changes = transform(note, doc, renderer, vault.config)
    except RenderError as err:
        return Outcome(doc.path, error=NoteError(doc.path, err.line, err.message + "; note left untouched", "template"))
    return Outcome(doc.path, note, new_text, tuple(changes))


def plan(vault: Vault, analysis: Callable[[], Analysis], only: set[str] | None = None) -> list[Outcome]:
    """The outcome for every note that sync would touch (of those in `only`), in path order: worked out
    where the note was parsed if it could be (see `preplan`), else here. The vault's analysis is asked for
    only if a note needs it."""
    docs = [doc for doc in vault.rewritable(only) if doc.managed or doc.marker_error]
    renderer = Renderer(vault.root, analysis(), vault.setting.own) \
        if any(d.managed and not d.marker_error for d in docs) else None
    found = [outcome(vault, doc, renderer) for doc in docs]
    found += [n.outcome for rel, n in vault.parsed.items() if n.outcome is not None and (only is None or rel in only)]
    return sorted(found, key=lambda o: o.path)


def preplan(text: NoteText, doc: Document, summary: FileSummary | None, setting: Setting) -> Outcome | None:
    """The outcome of a note whose regions and cookies depend on nothing but the note itself and the day,
    worked out without the rest of the vault; None when that cannot be done here (the vault's turn will tell
    why)."""
    from mdtracker.analyze import combine

    assert setting.today is not None and summary is not None
    renderer = Renderer(setting.root, combine([summary], setting.config, setting.today), setting.own) \
        if doc.regions else None
    try:
        new_text, changes = transform(text, doc, renderer, setting.config)
    except RenderError:
        return None
    if new_text == text.text:
        return Outcome(doc.path)  # fresh: no bytes need to travel
    return Outcome(doc.path, text, new_text, tuple(changes))


REFRESH_AT_MOST = 64  # notes rewritten here that are parsed again from their texts here; more go to the workers


@dataclass
class Applied:
    """What one sync did: the notes it rewrote (with what changed), and the errors it met."""

    written: list[Outcome]
    errors: list[NoteError]


def outcomes(vault: Vault, today: dt.date, incremental: bool = True,
             known: bool = False) -> tuple[list[Outcome], list[NoteError]]:
    """The transform's outcome for the notes to look at, and every error met (for `check`, `sync`, `watch`).

    With `incremental`, only the notes whose regions may have changed since the last sync or check are
    rendered, and those it left stale or failed on; with `known` too (`check`), a stale note unchanged since
    and needing nothing but itself is taken as the last check found it, without its texts."""
    only = vault.to_replan(today) if incremental else None
    reused = vault.known_stale(today) if known and only is not None else {}
    found = plan(vault, lambda: vault.analysis(today), only - set(reused) if only is not None else None)
    found = sorted(found + [Outcome(rel, changes=changes) for rel, changes in reused.items()], key=lambda o: o.path)
    return found, vault.errors + [o.error for o in found if o.error]


def apply(vault: Vault, today: dt.date, incremental: bool = True) -> Applied:
    """Sync the vault: regenerate what is stale and write it (`sync` and every step of `watch`).
    Rewritten notes are parsed again from what was written, and the vault is remembered as fresh but for
    the notes that failed: the next run plans again only those and what changed."""
    planned, errors = outcomes(vault, today, incremental)
    written, here = [], []
    for o in planned:
        if o.written:  # written, and parsed again, where it was parsed
            written.append(o)
            continue
        if not o.stale or o.note is None or o.new_raw is None or o.new_text is None:
            continue
        try:
            stat = write_note(o.note, o.new_raw, o.path)
        except NoteError as err:
            errors.append(err)
            continue
        assert stat is not None  # a stale note's bytes differ
        written.append(o)
        here.append((o, stat))
    if len(here) <= REFRESH_AT_MOST:
        for o, stat in here:
            vault.refresh(o.path, o.new_text or "", o.new_raw or b"", stat)
        edited: dict[str, None] = {}
    else:  # many notes rewritten here (regions on the vault): parsed again on every core
        edited = vault.reread({o.path: (stat, digest(o.new_raw or b"")) for o, stat in here})
    vault.mark_fresh(today, {e.path: None for e in errors} | edited)  # what was written is fresh: sync is idempotent
    return Applied(written, errors)
