"""A vault: its notes found on disk, each read, parsed and summarized on its own; a parse cache in
`.mdtracker/` so that a note is parsed again only when it changed; cold notes parsed on every core.

The cache is keyed by the note's size and mtime_ns (and, for a note modified within the last seconds before
the cache was written, its content hash), and versioned by mdtracker's version and the config's fingerprint.
A cache that is missing, corrupt or from another version is a cold run, never an error. Deleting
`.mdtracker/` is always safe.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import gc
import os
import pickle
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Container, Iterable, Iterator, Mapping, TypeVar

from mdtracker import __version__
from mdtracker import config as config_mod
from mdtracker.config import Config
from mdtracker.errors import NoteError, VaultError
from mdtracker.files import digest, read_note

if TYPE_CHECKING:  # the parser and the analysis are imported only when a note has to be parsed
    from mdtracker.analyze import Analysis, FileSummary
    from mdtracker.files import NoteText
    from mdtracker.model import Document, Problem
    from mdtracker.regions import Change
    from mdtracker.sync import Outcome

# Folders that never hold the user's notes. Hidden folders (`.trash`, `.vscode`, …) are skipped too.
SKIPPED_FOLDERS = frozenset({".git", ".obsidian", ".mdtracker", "node_modules"})
CACHE_DIR = ".mdtracker"
CACHE_FILE = "index.pickle"
CACHE_FORMAT = 9  # raise it whenever a type the cache pickles changes
_T = TypeVar("_T")
RACY_NS = 2_000_000_000  # a note modified this close to the cache's writing is checked by its content hash
PARALLEL_FROM = 64  # fewer cold notes than this are parsed in this process
ALONE = frozenset({"file", "day"})  # a note whose regions need only these is transformed where it is parsed
SUFFIX = ".md.j2"
VAULT_TEMPLATES = "templates"  # a folder at the vault root holding the vault's own NAME.md.j2 templates


def own_templates(root: Path) -> frozenset[str]:
    """The names of the vault's own templates (`templates/NAME.md.j2`)."""
    folder = root / VAULT_TEMPLATES
    return frozenset(p.name[: -len(SUFFIX)] for p in folder.glob("*" + SUFFIX)) if folder.is_dir() else frozenset()


def discover(root: Path, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every note under `root` as (path, vault-relative path with `/`), sorted by the relative path. Paths
    are strings: a warm run of 10,000 notes would spend a sixth of its time making Path objects.

    `exclude` holds glob patterns (`tests/*`, `drafts/**`) of relative paths to leave out."""
    found = []
    top = os.fspath(root)
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if searched(d)]
        base = os.path.relpath(folder, top).replace(os.sep, "/") + "/" if folder != top else ""
        for name in files:
            if note_name(name):
                rel = base + name
                if not excluded(rel, exclude):
                    found.append((rel, folder, name))
    found.sort()
    return [(os.path.join(folder, name), rel) for rel, folder, name in found]


def searched(folder: str) -> bool:
    """Whether discovery looks into a folder of this name (not `.git`, `.obsidian`, the cache, ...)."""
    return folder not in SKIPPED_FOLDERS and not folder.startswith(".")


def note_name(name: str) -> bool:
    """Whether a file of this name is a note (`*.md`, not hidden)."""
    return name.lower().endswith(".md") and not name.startswith(".")


def excluded(rel: str, exclude: tuple[str, ...]) -> bool:
    """Whether the config's `exclude` patterns leave this note out."""
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in exclude)


def rediscover(root: Path, exclude: tuple[str, ...], touched: Iterable[str]) -> list[tuple[str, str]]:
    """Of the `touched` paths (vault-relative, with `/`), those `discover` would find now, as it gives them:
    when file events named only these, the file system is asked about nothing else."""
    top = os.fspath(root)
    found = []
    for rel in touched:
        parts = rel.split("/")
        path = os.path.join(top, *parts)
        if (all(searched(p) for p in parts[:-1]) and note_name(parts[-1]) and not excluded(rel, exclude)
                and os.path.lexists(path) and not os.path.isdir(path)
                and not any(os.path.islink(os.path.join(top, *parts[:n])) for n in range(1, len(parts)))):
            found.append((path, rel))  # (discovery does not follow a link to a folder)
    return sorted(found, key=lambda entry: entry[1])


@dataclass(frozen=True)
class Note:
    """What is known of one note file: its stat, its summary, and what sync and lint --fix need to know of
    it. The Document is kept in memory for this run only (where sync or lint --fix may need it), never in
    the cache: a note is parsed again when it has to be rewritten."""

    rel: str
    size: int
    mtime_ns: int
    digest: str = ""
    summary: FileSummary | None = None
    scopes: frozenset[str] = frozenset()  # what its regions and cookies depend on: file, day, vault
    names: frozenset[str] = frozenset()  # its regions' names: the templates they render
    rewritable: bool = False  # sync or lint --fix may rewrite it (regions, cookies, bad markers, mojibake)
    document: Document | None = None
    error: NoteError | None = None
    outcome: Outcome | None = None  # sync's outcome, worked out where the note was parsed (see Setting)
    stored: bool = False  # the worker that parsed it wrote it to the cache: its summary is read from there


@dataclass(frozen=True)
class Setting:
    """What parsing a note needs besides the note: the config; and for sync and check, `today` and the
    vault's own templates, so that a note whose regions depend on nothing but the note itself and the day is
    transformed right where it is parsed (on a worker) and only its outcome travels back, not its Document."""

    config: Config
    root: Path = Path(".")
    today: dt.date | None = None
    own: frozenset[str] = frozenset()
    write: bool = False  # sync: a note so transformed is written right there (and parsed again)
    texts: bool = False  # check --diff: its outcome brings back the old and new texts
    documents: bool = True  # keep the Document of a note that may be rewritten (not for report or lint)


def _rewritable(doc: Document) -> bool:
    return doc.managed or doc.marker_error or any(p.code == "mojibake" for p in doc.problems)


def note_from(doc: Document, size: int, mtime_ns: int, setting: Setting, text: NoteText | None = None) -> Note:
    from mdtracker.analyze import summarize
    from mdtracker.render import scope_of

    keep = _rewritable(doc)
    scopes = frozenset({scope_of(r, setting.own) for r in doc.regions} | ({"file"} if doc.cookies else set()))
    note = Note(doc.path, size, mtime_ns, doc.digest, summarize(doc, setting.config), scopes,
                frozenset(r.name for r in doc.regions), keep, doc if keep and setting.documents else None)
    if setting.today is not None and text is not None and keep and scopes <= ALONE and not doc.marker_error:
        from mdtracker.sync import preplan

        outcome = preplan(text, doc, note.summary, setting)
        if outcome is not None and setting.write and outcome.stale:
            return _rewritten(note, doc, outcome, setting)
        if outcome is not None:
            return replace(note, document=None, outcome=outcome if setting.texts else outcome.lean())
    return note


def _rewritten(note: Note, doc: Document, outcome: Outcome, setting: Setting) -> Note:
    """Write the note's new text where it was worked out, and know the note as written: the cache then holds
    it as it now is on disk, and no text travels back. (A first sync rewrites most notes of a vault: kept
    until the end, their texts would take gigabytes; left for the next run, they would all be parsed again.)
    When only cookies changed, and nothing but the cookies read them, the summary stays as it is; else the
    text written is parsed."""
    from mdtracker.files import write_note
    from mdtracker.parse import cookies_unread
    from mdtracker.sync import Outcome

    assert outcome.note is not None and outcome.new_text is not None and outcome.new_raw is not None
    try:
        stat = write_note(outcome.note, outcome.new_raw, note.rel)
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
    from mdtracker.parse import parse

    return note_from(parse(text, rel, digest(raw)), stat.st_size, stat.st_mtime_ns, replace(setting, today=None))


def read_and_summarize(path: str | Path, rel: str, size: int, mtime_ns: int, setting: Setting) -> Note:
    """Read, parse and summarize one note; a note that cannot be read becomes a Note with its error."""
    from mdtracker.parse import parse

    try:
        text_note = read_note(path, rel)
    except NoteError as err:
        return Note(rel, size, mtime_ns, error=err)
    return note_from(parse(text_note.text, rel, digest(text_note.raw)), size, mtime_ns, setting, text_note)


_WORKER_SETTING: Setting | None = None


def _init_worker(setting: Setting) -> None:
    global _WORKER_SETTING
    _WORKER_SETTING = setting
    fewer_collections()


def fewer_collections() -> None:
    """Parsing, and reading the cache's summaries, allocate many small objects, with hardly a reference cycle
    among them; the cyclic garbage collector's default pace costs a bulk parse about a fifth of its time, and
    a report of 10,000 notes from the cache a third. So collect less often (as mypy does), and never walk the
    objects that exist before. Set for every command by the command line, and in every worker."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


@dataclass(frozen=True)
class Batch:
    """Cold notes for one worker. With `shard`, they are all the cold notes of that cache shard, and the
    worker writes the shard itself (with the shard's cached notes in `keep`), sending back only what the
    command needs at once: the summaries stay on disk until an analysis asks for them."""

    notes: list[tuple[str, str, int, int]]
    shard: int | None = None
    keep: frozenset[str] = frozenset()
    folder: Path = Path(".")
    key: tuple[object, ...] = ()


def _work(batch: Batch) -> list[Note]:
    assert _WORKER_SETTING is not None
    return _work_on(batch, _WORKER_SETTING)


def _work_on(batch: Batch, setting: Setting) -> list[Note]:
    notes = [read_and_summarize(path, rel, size, mtime, setting) for path, rel, size, mtime in batch.notes]
    if batch.shard is None or not _store_shard(batch.folder, batch.shard, batch.key, batch.keep, notes):
        return notes
    return [replace(n, summary=None, stored=True) if n.error is None else n for n in notes]


@dataclass
class Vault:
    """The notes of a vault: those parsed in this run, and the others from the cache, read only when asked
    for (a run that finds nothing changed never unpickles a note)."""

    root: Path
    config: Config
    stats: dict[str, tuple[int, int, str]]  # rel → (size, mtime_ns, digest) of every note, in path order
    setting: Setting  # as the notes were loaded: for the notes that must be parsed again
    parsed: dict[str, Note] = field(default_factory=dict)  # the notes parsed in this run
    changed: set[str] = field(default_factory=set)  # parsed in this run, or gone since the cache was written
    fresh: dict | None = None  # the state (stats, today, templates) in which a run last found every region
    # fresh but in the notes it lists as "stale": rel → what check found out of date, or None for a note that
    # failed (broken, unreadable, in conflict)
    cached: Callable[[], Iterable[Shard]] = lambda: ()  # the cache's notes, shard by shard
    loaded_ns: int = 0  # when the notes' stats were taken
    wide: dict[str, frozenset[str]] = field(default_factory=dict)  # notes with regions on the day or vault
    named: dict[str, frozenset[str]] = field(default_factory=dict)  # notes with regions: their names
    jobs: int | None = None
    store: bool = False  # notes parsed again go to the cache's shards where they are parsed (cache on, not watch)
    held: dict[str, Note] | None = None  # watch: the notes of its last step, in memory
    _notes: dict[str, Note] | None = None
    _loaded: list[Shard] | None = None  # the cache's shards as read for the analysis, their fields read as asked

    @property
    def notes(self) -> dict[str, Note]:
        if self._notes is None and self.held is not None:
            self._notes = self._held_and_parsed(self.held)
        if self._notes is None:
            shards = self._loaded if self._loaded is not None else self.cached()  # (read one by one if not yet)
            cached = {rel: note for shard in shards for rel, note in shard.whole().items()}
            self._loaded = None  # all read: what was kept of them for the analysis is no longer needed
            notes: dict[str, Note | None] = {}
            for rel in self.stats:
                note = self.parsed.get(rel)
                if note is None:
                    note = cached.get(rel)
                elif note.stored and rel in cached:
                    note = replace(note, summary=cached[rel].summary, stored=False)
                notes[rel] = None if note is None or note.stored else note
            lost = [(str(self.root / rel), rel, *self.stats[rel][:2]) for rel, note in notes.items() if note is None]
            for note in _parse_all(lost, replace(self.setting, today=None), None, None, None):  # shards lost or damaged
                notes[note.rel] = self.parsed[note.rel] = note
                self.changed.add(note.rel)
            self._notes = {rel: note for rel, note in notes.items() if note is not None}
        return self._notes

    def _held_and_parsed(self, held: dict[str, Note]) -> dict[str, Note] | None:
        """The notes of watch's last step, with those parsed now and without those gone, in path order: what
        `notes` finds, without a pass over the vault in Python (None if a note is missing from both)."""
        notes = dict(held)
        came = False
        for rel in self.changed:
            note = self.parsed.get(rel)
            if note is None:
                notes.pop(rel, None)
            else:
                came = came or rel not in notes
                notes[rel] = note
        if notes.keys() != self.stats.keys():
            return None
        return {rel: notes[rel] for rel in self.stats} if came else notes

    def rewritable(self, only: set[str] | None = None) -> list[Document]:
        """The Documents of the notes sync or lint --fix may rewrite (of those in `only`), parsed again from
        disk where this run did not parse them. With `only`, the cached notes are not even read: a note in
        `only` that this run did not parse is one that changed, one with regions on the day or the vault (its
        scopes kept in the cache's index), or one the last sync or check left stale or failed on."""
        from mdtracker.parse import parse

        if only is None:  # the notes this run parsed know what they need: the cache is read only for the others
            known = self._notes if self._notes is not None else self._without_summaries()
            candidates = [self.parsed.get(rel) or known.get(rel) or self.notes[rel] for rel in self.stats]
        else:
            wide = self.wide_scopes()
            candidates = [self.parsed[rel] if rel in self.parsed
                          else Note(rel, 0, 0, self.stats[rel][2], scopes=wide.get(rel, frozenset({"file"})),
                                    rewritable=True)
                          for rel in sorted(only) if rel in self.stats]
        candidates = [n for n in candidates if n.rewritable and n.outcome is None]
        if self.setting.today is not None:
            # a note whose regions need nothing but itself and the day is parsed again and transformed right
            # there, on every core when there are many, as in a cold run (the notes a check left stale, a new
            # day, a vault whose stamp is gone); those with regions on the vault are parsed there too when
            # there are enough for the workers, and come back with their summaries, which their regions,
            # rendered here, may read (`file`); left in the shards, each would be read whole (500 such notes
            # in 10,000 on a new day: check 1.5 s and 154 MB, not 1.2 s and 103 MB)
            unparsed = [n for n in candidates if n.document is None]
            narrow = {n.rel for n in unparsed if n.scopes <= ALONE}
            wider = {n.rel for n in unparsed if n.rel not in narrow}
            if len(wider) < 2 * PARALLEL_FROM:
                wider = set()  # a few (a dashboard): parsed here, below
            self._parse_again(self.setting, sorted(narrow))
            self._parse_again(self.setting, sorted(wider), store=False)
            again = narrow | wider
            candidates = [self.parsed[c.rel] if c.rel in again else c for c in candidates]
            candidates = [c for c in candidates if c.rewritable and c.outcome is None]
        docs = []
        for note in candidates:
            rel = note.rel
            doc = note.document
            if doc is None:
                try:
                    text = read_note(self.root / rel, rel)
                except NoteError:
                    continue  # it will be reported when it is read again
                doc = parse(text.text, rel, note.digest)  # the stat's digest: a changed file is a conflict
            docs.append(doc)
        return docs

    def _without_summaries(self) -> dict[str, Note]:
        """The cached notes without their summaries, read shard by shard: all that planning every note again
        needs to know of them (which may be rewritten, and what their regions need), in a fraction of the
        memory. (The notes of a lost shard are missing: `notes` parses them again.)"""
        return {rel: note for shard in self.cached() for rel, note in shard.notes().items()}

    def _parse_again(self, setting: Setting, rels: list[str], store: bool = True) -> None:
        """Parse these notes again (and transform them, with `setting.today`), on every core when there are
        many; as in a cold run, the cache's shards of the notes are written where they are parsed, and their
        summaries are left there (unless not `store`: then only the shards of notes found changed are written,
        when the cache is saved)."""
        key = _cache_key(self.config)
        shelf = (self.root / CACHE_DIR, key, self.stats) if self.store and store else None
        again = _parse_all([(str(self.root / rel), rel, *self.stats[rel][:2]) for rel in rels], setting, self.jobs,
                           None, shelf)
        if any(note.stored for note in again):  # their summaries are in the shards now: read them from there
            root = self.root
            self.cached, self._notes, self._loaded, self.held = (lambda: _shards(root, key)), None, None, None
        for note in again:
            self._take(note)

    def refresh(self, rel: str, raw_text: str, raw: bytes, st: os.stat_result) -> None:
        """A note this run rewrote: its stat as written, and its summary, parsed from the text written."""
        self._take(as_written(rel, raw_text, raw, st, self.setting))

    def _take(self, note: Note) -> None:
        """A note this run parsed again: it replaces what was known of it (and the cache's copy, when it was
        written or has changed since)."""
        stat = (note.size, note.mtime_ns, note.digest)
        if stat != self.stats.get(note.rel):
            self.stats[note.rel] = stat
            self.changed.add(note.rel)
        self.parsed[note.rel] = note
        if self._notes is not None:
            self._notes[note.rel] = note

    def reread(self, written: dict[str, tuple[os.stat_result, str]]) -> dict[str, None]:
        """Notes this run rewrote (with the stat and digest of what it wrote), too many to parse here: parsed
        again from disk, on every core. Those that are no longer what was written (edited in the meantime)
        are returned: they are not known fresh."""
        for rel, (stat, _) in written.items():
            self.stats[rel] = (stat.st_size, stat.st_mtime_ns, "")
        self._parse_again(replace(self.setting, today=None, documents=False), sorted(written))
        return {rel: None for rel, (_, wrote) in written.items() if self.stats[rel][2] != wrote}

    def is_fresh(self, today: object) -> bool:
        """Nothing changed since a run found every region fresh."""
        f = self.fresh
        return (f is not None and not f.get("stale") and f["stats"] == self.stats and f["today"] == str(today)
                and f["templates"] == self.templates_state())

    def to_replan(self, today: object) -> set[str] | None:
        """The notes whose regions may have changed since the last stamp (`mark_fresh`): the notes that
        changed, those it left stale or failed on, those with regions on the whole vault (when any note or
        the vault's own templates changed) or on the day (when the day did), and those with a region named
        like a template of the vault's own that was added or removed (it stands in for a built-in one, or
        stood in); None for every note (no stamp)."""
        f = self.fresh
        if f is None:
            return None
        old, new = f["stats"], self.stats
        changed = {rel for rel in new if old.get(rel) != new[rel]}
        templates = self.templates_state()
        wide = set()
        if changed or set(old) - set(new) or f["templates"] != templates:
            wide.add("vault")  # (a region on the vault's own templates is one on the vault: see `render.scope_of`)
        if f["today"] != str(today):
            wide |= {"vault", "day"}
        stale = {rel for rel in f.get("stale", ()) if rel in new}
        added_or_removed = _names(f["templates"]) ^ _names(templates)  # (a built-in template includes no other)
        named = {rel for rel, names in self.region_names().items() if names & added_or_removed} \
            if added_or_removed else set()
        return changed | stale | named | {rel for rel, scopes in self.wide_scopes().items() if scopes & wide}

    def wide_scopes(self) -> dict[str, frozenset[str]]:
        """The notes with regions on the day or the whole vault (kept in the cache's index)."""
        return self._indexed(self.wide, lambda note: note.scopes - {"file"})

    def region_names(self) -> dict[str, frozenset[str]]:
        """The notes with regions, and their names (kept in the cache's index)."""
        return self._indexed(self.named, lambda note: note.names)

    def _indexed(self, index: dict[str, frozenset[str]], of: Callable[[Note], frozenset[str]]
                 ) -> dict[str, frozenset[str]]:
        """What the cache's index says of the notes, for those not parsed in this run; for those parsed, what
        they say (notes of which it is empty are left out)."""
        known = {rel: value for rel, value in index.items() if rel in self.stats and rel not in self.parsed}
        known.update((rel, value) for rel, note in self.parsed.items() if (value := of(note)))
        return known

    def mark_fresh(self, today: object, stale: Mapping[str, tuple[Change, ...] | None] | None = None) -> None:
        """Every region of every note is fresh on `today`, but in the `stale` notes (with what is out of date
        in each, None for one that failed)."""
        self.fresh = {"stats": dict(self.stats), "today": str(today), "templates": self.templates_state(),
                      "stale": dict(sorted((stale or {}).items()))}

    def found_stale(self) -> dict[str, tuple[Change, ...] | None] | None:
        """When this run parsed every note, and worked out for a day what sync would do to those that need
        nothing but themselves and the day (`load`'s `plan_for`): the notes found out of date, as `mark_fresh`
        takes them, with None for those it could not work out (regions on the vault, a broken marker, a
        template error, a note that could not be read), which the next run plans again. None when some note
        came from the cache."""
        if self.setting.today is None or len(self.parsed) != len(self.stats):
            return None
        found: dict[str, tuple[Change, ...] | None] = {}
        for rel, note in self.parsed.items():
            if note.error is not None or (note.rewritable and note.outcome is None):
                found[rel] = None
            elif note.outcome is not None and note.outcome.stale:
                found[rel] = note.outcome.changes
        return found

    def known_stale(self, today: object) -> dict[str, tuple[Change, ...]]:
        """The notes the last stamp found out of date that have not changed since, and whose regions and cookies
        need nothing but the note: what is out of date in each is what it was (`check` need not parse them)."""
        f = self.fresh
        if f is None or f["templates"] != self.templates_state():
            return {}
        wide = self.wide_scopes()
        return {rel: changes for rel, changes in f.get("stale", {}).items()
                if changes and rel not in wide and rel not in self.parsed and f["stats"].get(rel) == self.stats.get(rel)}

    def analysis(self, today: dt.date) -> Analysis:
        """The vault's analysis on `today`: it reads from the cache the fields of the summaries it is asked
        for, when it is asked (so it sees the vault as it is then)."""
        from mdtracker.analyze import Analysis

        return Analysis(today, _Summaries(self), self.config, tuple(self.error_problems))

    def shards(self) -> list[Shard]:
        """The cache's shards (read once)."""
        if self._loaded is None:
            self._loaded = list(self.cached())
        return self._loaded

    @property
    def errors(self) -> list[NoteError]:
        """Notes that could not be read; left untouched. (They are never cached, so always parsed.)"""
        return [n.error for n in self.parsed.values() if n.error is not None]

    @property
    def error_problems(self) -> list[Problem]:
        from mdtracker.model import Problem

        return [Problem(e.path, e.line or 1, e.code, e.message) for e in self.errors]

    def templates_state(self) -> list[tuple[str, int]]:
        templates = self.root / VAULT_TEMPLATES
        return sorted((p.name, p.stat().st_mtime_ns) for p in templates.glob("*.j2")) if templates.is_dir() else []


class _LostShard(Exception):
    """A shard of the cache lost a note, or cannot be read field by field."""


@dataclass
class _Summaries:
    """The summaries of a vault's notes in path order: those parsed in this run, and the cache's, read field
    by field from its shards (see `analyze.Summaries`). A note the shards lost, or a shard that cannot be
    read, sends every field to `Vault.notes`, which parses the lost notes again."""

    vault: Vault
    _where: dict[str, Shard] | None = None  # the shard of each cached note

    def column(self, name: str) -> list[Any]:
        vault = self.vault
        if vault._notes is None:
            try:
                return self._from_shards(name)
            except _LostShard:
                pass
        return [getattr(summary, name) for summary in self.every()]

    def _from_shards(self, name: str) -> list[Any]:
        vault = self.vault
        cached: dict[str, Any] = {}
        for shard in vault.shards():
            cached.update(zip(shard.rels, shard.column(name)))
        found = []
        for rel in vault.stats:
            note = vault.parsed.get(rel)
            if note is None or note.stored:
                if rel not in cached:
                    raise _LostShard(rel)
                found.append(cached[rel])
            elif note.summary is not None:  # (a note that could not be read has none)
                found.append(getattr(note.summary, name))
        return found

    def every(self) -> list[FileSummary]:
        return [n.summary for n in self.vault.notes.values() if n.summary is not None]

    def of(self, path: str) -> FileSummary | None:
        vault = self.vault
        note = vault.parsed.get(path)
        if note is None or note.stored:
            if vault._notes is None:
                if self._where is None:
                    self._where = {rel: shard for shard in vault.shards() for rel in shard.rels}
                shard = self._where.get(path)
                if shard is not None and (found := shard.whole().get(path)) is not None:
                    return found.summary
            note = vault.notes.get(path)
        return note.summary if note is not None else None


def _names(templates: list[tuple[str, int]]) -> set[str]:
    """The names of the templates in a `templates_state`."""
    return {name[: -len(SUFFIX)] for name, _ in templates if name.endswith(SUFFIX)}


def open_root(path: Path) -> Path:
    if not path.exists():
        raise VaultError(str(path), None, "no such vault folder")
    if not path.is_dir():
        raise VaultError(str(path), None, "not a folder; give the vault's folder")
    return path


def load_config(root: Path, explicit: Path | None = None) -> Config:
    if explicit is not None:
        return config_mod.load(explicit, str(explicit))
    found = config_mod.find(root)
    return config_mod.load(found, found.relative_to(root).as_posix() if found else None)


# --- the cache: an index of every note's stat, and the notes in shards by a hash of their path --------------

SHARDS = 64  # also the units of a cold parse on many cores: one worker writes each shard


def _shard(rel: str) -> int:
    return zlib.crc32(rel.encode()) % SHARDS


def _cache_key(config: Config) -> tuple[object, ...]:
    return (CACHE_FORMAT, __version__, config.fingerprint)


def _by_shard(items: Iterable[_T], rel: Callable[[_T], str]) -> dict[int, list[_T]]:
    """`items` grouped by the cache shard of their note (`rel` tells an item's note), in their order."""
    found: dict[int, list[_T]] = {}
    for item in items:
        found.setdefault(_shard(rel(item)), []).append(item)
    return found


def _read_index(root: Path, config: Config) -> dict[str, Any]:
    try:
        with open(root / CACHE_DIR / CACHE_FILE, "rb") as handle:
            index = pickle.load(handle)
        if isinstance(index, dict) and index.get("key") == _cache_key(config):
            return index
    except Exception:  # a missing, truncated, corrupt or foreign cache is a cold run
        pass
    return {}


class Shard:
    """The notes of one shard of the cache, as read: what sync needs of them, and their summaries field by
    field, unpickled when first asked for (a dashboard that shows readiness reads the notes' counts and
    domain items, a tenth of their summaries). Pickled as a dict: `key`, `rels`, and `notes` and each group
    of fields (`FIELD_GROUPS`) pickled on their own, in the order of `rels`."""

    def __init__(self, rels: list[str], notes: bytes, groups: dict[str, bytes]) -> None:
        self.rels = rels
        self._notes = notes
        self._groups = groups
        self._read: dict[str, list[Any]] = {}
        self._whole: dict[str, Note] | None = None

    def notes(self) -> dict[str, Note]:
        """The notes without their summaries (none if the shard is damaged)."""
        try:
            return dict(zip(self.rels, pickle.loads(self._notes), strict=True))
        except Exception:  # a damaged shard costs its notes a parse, nothing more
            return {}

    def column(self, name: str) -> list[Any]:
        """The field `name` of every note's summary."""
        if name not in self._read:
            group = _GROUP_OF[name]
            try:
                values = pickle.loads(self._groups[group])
            except Exception as err:
                raise _LostShard(name) from err
            names = FIELD_GROUPS[group]
            if not isinstance(values, tuple) or len(values) != len(names) or any(
                    not isinstance(v, list) or len(v) != len(self.rels) for v in values):
                raise _LostShard(name)
            self._read.update(zip(names, values))
        return self._read[name]

    def whole(self) -> dict[str, Note]:
        """The notes with their summaries (none if the shard is damaged)."""
        from mdtracker.analyze import FileSummary

        if self._whole is None:
            notes = self.notes()
            try:
                summaries = map(FileSummary, *(self.column(name) for name in _summary_fields()))
                self._whole = {rel: replace(notes[rel], summary=summary)
                               for rel, summary in zip(self.rels, summaries)} if notes else {}
            except _LostShard:
                self._whole = {}
        return self._whole

    @staticmethod
    def encode(key: tuple[object, ...], notes: Iterable[Note]) -> dict[str, Any]:
        """What is pickled of these notes (those with a summary: the others are parsed again when asked for)."""
        kept = [note for note in notes if note.summary is not None]
        return {"key": key, "rels": [note.rel for note in kept],
                "notes": pickle.dumps([replace(note, summary=None) for note in kept], pickle.HIGHEST_PROTOCOL),
                "groups": {group: pickle.dumps(tuple([getattr(note.summary, name) for note in kept] for name in names),
                                               pickle.HIGHEST_PROTOCOL)
                           for group, names in FIELD_GROUPS.items()}}


class HeldShard(Shard):
    """Notes held in memory (by `watch`, from its last step), served as a shard."""

    def __init__(self, notes: dict[str, Note]) -> None:
        super().__init__([rel for rel, note in notes.items() if note.summary is not None], b"", {})
        self._held = notes

    def notes(self) -> dict[str, Note]:
        """The notes, with their summaries: they are in memory already."""
        return self._held

    def column(self, name: str) -> list[Any]:
        held = self._held
        return [getattr(held[rel].summary, name) for rel in self.rels]

    def whole(self) -> dict[str, Note]:
        return self._held


# The fields of a FileSummary, in groups pickled together: what a dashboard reads; what falls due (the
# entries of one task share their texts and dates: pickled apart, they would be stored twice); the rest.
FIELD_GROUPS = {
    "readiness": ("path", "counts", "domain_specs", "section_items"),
    "dates": ("dated", "reviews", "history", "milestones", "applications", "track"),
    "notes": ("headings", "scores", "topics", "scenarios", "stories", "problems"),
}
_GROUP_OF = {name: group for group, names in FIELD_GROUPS.items() for name in names}


@functools.cache
def _summary_fields() -> tuple[str, ...]:
    from mdtracker.analyze import FileSummary

    return tuple(f.name for f in fields(FileSummary))


def _read_shard(folder: Path, n: int, key: tuple[object, ...]) -> Shard:
    try:
        with open(folder / f"notes-{n:02d}.pickle", "rb") as handle:
            shard = pickle.load(handle)
        if shard.get("key") == key:
            return Shard(list(shard["rels"]), shard["notes"], dict(shard["groups"]))
    except Exception:  # a lost shard costs its notes a parse, nothing more
        pass
    return Shard([], b"", {})


def _shards(root: Path, key: tuple[object, ...]) -> Iterator[Shard]:
    """The cache's notes, one shard after the other."""
    for n in range(SHARDS):
        yield _read_shard(root / CACHE_DIR, n, key)


def _cacheable(note: Note) -> Note:
    return note if note.document is None and note.outcome is None else replace(note, document=None, outcome=None)


def _store_shard(folder: Path, n: int, key: tuple[object, ...], keep: Container[str], notes: list[Note]) -> bool:
    """Write shard n: those of its cached notes still in `keep` (the notes of the vault, or at least of the
    shard), and `notes` (but notes that could not be read). False if it could not be written. A shard that
    holds these notes already, as they are, and no note gone from `keep`, is left as it is (a check parses
    unchanged notes again, a sync those it does not rewrite)."""
    old = _read_shard(folder, n, key)
    if _holds(old, keep, notes):
        return True
    shard = {rel: note for rel, note in old.whole().items() if rel in keep} if keep else {}
    shard.update((note.rel, _cacheable(note)) for note in notes if note.error is None)
    try:
        _cache_folder(folder)
        _write(folder / f"notes-{n:02d}.pickle", Shard.encode(key, shard.values()))
    except OSError:
        return False
    return True


def _holds(shard: Shard, keep: Container[str], notes: list[Note]) -> bool:
    """Whether writing the shard would leave it as it is: it holds `notes` as they are (a note's summary
    follows from its bytes, which its digest stands for, and from the cache's key), and no note gone from
    `keep`."""
    if any(note.error is not None for note in notes):
        return False
    held = shard.notes()
    rels = {note.rel for note in notes}
    if not all(rel in keep or rel in rels for rel in held):
        return False
    return all(held.get(note.rel) == replace(note, summary=None, document=None, outcome=None) for note in notes)


def _cache_folder(folder: Path) -> None:
    """Make the cache's folder, which tells git to ignore it."""
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# mdtracker's parse cache: safe to delete\n*\n")


def save(vault: Vault) -> None:
    """Write the cache: the index, and the shards holding a note that changed (but those a worker wrote
    already); never fails."""
    folder = vault.root / CACHE_DIR
    key = _cache_key(vault.config)
    try:
        _cache_folder(folder)
        pending: dict[int, list[Note]] = {}
        for rel in vault.changed:
            note = vault.parsed.get(rel)
            if note is None or not note.stored:
                pending.setdefault(_shard(rel), []).extend([note] if note is not None else [])
        for n, notes in pending.items():
            if not _store_shard(folder, n, key, vault.stats, notes):
                return
        stats = {rel: stat for rel, stat in vault.stats.items()
                 if not (rel in vault.parsed and vault.parsed[rel].error)}
        _write(folder / CACHE_FILE, {"key": key, "written_ns": time.time_ns(), "fresh": vault.fresh,
                                     "stats": stats, "wide": vault.wide_scopes(),
                                     "named": vault.region_names()})
    except OSError:
        pass  # a read-only vault simply has no cache


def _write(path: Path, data: object) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:  # a full disk leaves no half-written file behind
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(root: Path, config: Config, *, cache: bool = True, jobs: int | None = None,
         progress: Callable[[int], Callable[[int], None]] | None = None, previous: Vault | None = None,
         plan_for: dt.date | None = None, write: bool = False, texts: bool = False,
         documents: bool = True, touched: Iterable[str] | None = None) -> Vault:
    """Every note of the vault: from the cache where the note is unchanged, else parsed (on `jobs` processes
    when there are many). `progress(total)` gives a callback told of each note parsed. `previous`, a Vault
    this process loaded before with the same config (watch), serves as the cache; with it, `touched` (the
    paths in the vault that file events named) holds the only notes that may have changed since, and no other
    is looked at on disk. With `plan_for` (sync and check), notes whose regions depend on nothing but
    themselves and the day are transformed for that day as they are parsed; with `write` (sync), written there
    too; with `texts` (check --diff), their old and new texts kept.
    Without `documents` (report, lint), no Document is kept: a command that rewrites notes keeps those it may
    rewrite (else `Vault.rewritable` parses them again).
    The caller saves the cache when its command is done (`save`)."""
    setting = Setting(config, root, plan_for, own_templates(root), write, texts, documents)
    index: dict[str, Any]
    if previous is not None:
        index = {"stats": previous.stats, "written_ns": previous.loaded_ns, "fresh": previous.fresh,
                 "wide": previous.wide_scopes(), "named": previous.region_names()}
    else:
        index = _read_index(root, config) if cache else {}
    known: dict[str, tuple[int, int, str]] = index.get("stats", {})
    written_ns = index.get("written_ns", 0)
    loaded_ns = time.time_ns()
    cold: list[tuple[str, str, int, int]] = []
    failed: dict[str, Note] = {}
    look = set(touched) if touched is not None and previous is not None else None
    if look is None:
        stats: dict[str, tuple[int, int, str]] = {}
        found = discover(root, config.exclude)
    else:  # the notes no file event named are as they were
        found = rediscover(root, config.exclude, look)
        stats = dict(known)
        for rel in look - {rel for _, rel in found}:
            stats.pop(rel, None)
    for path, rel in found:
        try:
            st = os.stat(path)
        except OSError as err:
            failed[rel] = Note(rel, 0, 0, error=NoteError(rel, None, f"cannot read: {err.strerror}", "io"))
            stats[rel] = (0, 0, "")
            continue
        old = known.get(rel)
        if old is not None and old[:2] == (st.st_size, st.st_mtime_ns) and (
                st.st_mtime_ns < written_ns - RACY_NS or _digest_of(path) == old[2]):
            stats[rel] = old
        else:
            cold.append((path, rel, st.st_size, st.st_mtime_ns))
            stats[rel] = (st.st_size, st.st_mtime_ns, "")
    if look is not None and any(rel not in known for _, rel in found):
        stats = dict(sorted(stats.items()))  # notes came: in path order, as discovered
    key = _cache_key(config)
    shelf = (root / CACHE_DIR, key, stats) if cache and previous is None else None  # workers write shards
    parsed = {note.rel: note for note in sorted(_parse_all(cold, setting, jobs, progress, shelf), key=lambda n: n.rel)}
    parsed.update(failed)
    for rel, note in parsed.items():
        stats[rel] = (note.size, note.mtime_ns, note.digest)
    changed = set(parsed) | (known.keys() - stats.keys())
    held = None
    if previous is not None:
        held = previous.notes
        earlier = HeldShard(held)
        cached: Callable[[], Iterable[Shard]] = lambda: (earlier,)
    elif known or any(note.stored for note in parsed.values()):
        cached = lambda: _shards(root, key)
    else:
        cached = lambda: ()
    return Vault(root, config, stats, setting, parsed, changed, fresh=index.get("fresh"), cached=cached,
                 loaded_ns=loaded_ns, wide=index.get("wide", {}), named=index.get("named", {}), jobs=jobs,
                 store=shelf is not None, held=held)


def _digest_of(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return digest(handle.read())
    except OSError:
        return ""


def _parse_all(cold: list[tuple[str, str, int, int]], setting: Setting, jobs: int | None,
               progress: Callable[[int], Callable[[int], None]] | None,
               shelf: tuple[Path, tuple[object, ...], Iterable[str]] | None) -> list[Note]:
    """Parse the cold notes: here when they are few (or `jobs` is 1), else on `jobs` worker processes; with
    `shelf` (the cache's folder, key, and every note of the vault), the shards of the notes are written as
    they are parsed, and their summaries are left there (but for fewer than `PARALLEL_FROM` notes, whose
    shards are written with the rest of the cache)."""
    if not cold:
        return []
    tick = progress(len(cold)) if progress else (lambda n: None)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(cold) // PARALLEL_FROM))
    if len(cold) < PARALLEL_FROM:
        shelf = None  # a few notes: their shards are written once, when the cache is saved (`save`)
    batches = _batches(cold, workers, shelf)
    out = []
    if workers <= 1:  # (the command line has set the garbage collector's pace: see `fewer_collections`)
        for batch in batches:
            out.extend(_work_on(batch, setting))
            tick(len(batch.notes))
        return out
    # imported once, before the workers fork, for all of them
    import mdtracker.parse  # noqa: F401
    import mdtracker.sync  # noqa: F401

    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(setting,)) as pool:
        for done in pool.map(_work, batches):
            out.extend(done)
            tick(len(done))
    return out


def _batches(cold: list[tuple[str, str, int, int]], workers: int,
             shelf: tuple[Path, tuple[object, ...], Iterable[str]] | None) -> list[Batch]:
    """The cold notes in batches: with `shelf`, one for each cache shard; else of a size that spreads them
    evenly over the workers."""
    if shelf is None:
        size = max(8, min(64, len(cold) // (workers * 8)))
        batches = [Batch(cold[i:i + size]) for i in range(0, len(cold), size)]
    else:
        folder, key, every = shelf
        members = _by_shard(every, str)
        batches = [Batch(notes, n, frozenset(members.get(n, ())) - {e[1] for e in notes}, folder, key)
                   for n, notes in _by_shard(cold, lambda entry: entry[1]).items()]
        batches.sort(key=lambda b: -len(b.notes))  # the largest first: the workers finish together
    return batches
