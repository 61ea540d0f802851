"""The vault in memory: what is known of each note (its stat, its summary, what its regions need), the
summaries as the analysis reads them (from the notes parsed in this run, from the cache's shards, or from the
last step of a long-running front-end), and what is stale since the last run found every region fresh.

Nothing here reads a note or the cache from disk: the pipeline loads the vault (`pipeline.load`) and hands
it the cache's shards and a way to parse again the notes the cache lost.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol

from mdtracker.config import Config
from mdtracker.discovery import SUFFIX, templates_state
from mdtracker.errors import NoteError

if TYPE_CHECKING:  # (at run time these load with the analysis: see `analysis`)
    from mdtracker.analyze import Analysis, FileSummary
    from mdtracker.model import Document, Problem
    from mdtracker.regions import Change
    from mdtracker.files import NoteText

ALONE = frozenset({"file", "day"})  # a note whose regions need only these is transformed where it is parsed
Entry = tuple[str, str, int, int]  # a note to parse: (path, vault-relative path, size, mtime_ns)


@dataclass(frozen=True)
class Outcome:
    """What the transform makes of one note: its new bytes and what changed, or why it is left alone."""

    path: str
    note: NoteText | None = None
    new_text: str | None = None
    changes: tuple[Change, ...] = ()
    error: NoteError | None = None
    written: bool = False  # sync wrote it where the note was parsed (see `pipeline.note_from`)

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
    mojibake: bool = False  # its summary was read from the note's text repaired (`lint --fix` repairs the note)


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



class Shelf(Protocol):
    """A shard of the cache as the vault reads it (`cache.Shard`), or the notes held in memory (`HeldShard`)."""

    rels: list[str]

    def notes(self) -> dict[str, Note]:
        """The notes, without their summaries."""

    def column(self, name: str) -> list[Any]:
        """The field `name` of every note's summary, in the order of `rels` (LostShard if it cannot be read)."""

    def whole(self) -> dict[str, Note]:
        """The notes with their summaries (none if the shard is damaged)."""


class LostShard(Exception):
    """A shard of the cache lost a note, or cannot be read field by field."""


class HeldShard:
    """Notes held in memory (by a long-running front-end, from its last step), served as a shard."""

    def __init__(self, notes: dict[str, Note]) -> None:
        self.rels = [rel for rel, note in notes.items() if note.summary is not None]
        self._held = notes

    def notes(self) -> dict[str, Note]:
        """The notes, with their summaries: they are in memory already."""
        return self._held

    def column(self, name: str) -> list[Any]:
        held = self._held
        return [getattr(held[rel].summary, name) for rel in self.rels]

    def whole(self) -> dict[str, Note]:
        return self._held


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
    fresh: dict | None = None  # the state (stats, today, templates, git HEAD) in which a run last found every
    # region fresh but in the notes it lists as "stale": rel → what check found out of date, or None for a note
    # that failed (broken, unreadable, in conflict)
    cached: Callable[[], Iterable[Shelf]] = lambda: ()  # the cache's notes, shard by shard
    loaded_ns: int = 0  # when the notes' stats were taken
    wide: dict[str, frozenset[str]] = field(default_factory=dict)  # notes with regions on the day or vault
    named: dict[str, frozenset[str]] = field(default_factory=dict)  # notes with regions: their names
    garbled: dict[str, frozenset[str]] = field(default_factory=dict)  # notes with mojibake (read repaired)
    jobs: int | None = None
    store: bool = False  # notes parsed again go to the cache's shards where they are parsed (cache on, not watch)
    use_cache: bool = True  # the command keeps caches in `.mdtracker/` (not with --no-cache)
    # results of the whole vault kept there from one run to the next (`cache.remember`; None: not kept)
    remember: Callable[..., Any] | None = None
    held: dict[str, Note] | None = None  # watch: the notes of its last step, in memory
    parse: Callable[[list[Entry]], list[Note]] = lambda entries: []  # parses again notes the cache lost
    buffers: dict[str, NoteText] = field(default_factory=dict)  # notes an editor's buffer stands in for
    _notes: dict[str, Note] | None = None
    _loaded: list[Shelf] | None = None  # the cache's shards as read for the analysis, their fields read as asked

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
            for note in self.parse(lost):  # the notes of shards lost or damaged
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

    def take(self, note: Note) -> None:
        """A note this run parsed again: it replaces what was known of it (and the cache's copy, when it was
        written or has changed since)."""
        stat = (note.size, note.mtime_ns, note.digest)
        if stat != self.stats.get(note.rel):
            self.stats[note.rel] = stat
            self.changed.add(note.rel)
        self.parsed[note.rel] = note
        if self._notes is not None:
            self._notes[note.rel] = note

    def is_fresh(self, today: object) -> bool:
        """Nothing changed since a run found every region fresh."""
        f = self.fresh
        return (f is not None and not f.get("stale") and f["stats"] == self.stats and f["today"] == str(today)
                and f["templates"] == self.templates_state() and f["head"] == self.history_state)

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
        if changed or set(old) - set(new) or f["templates"] != templates or f["head"] != self.history_state:
            wide.add("vault")  # (a region on the vault's own templates is one on the vault: see `render.scope_of`)
        if f["today"] != str(today):
            wide |= {"vault", "day"}
        stale = {rel for rel in f.get("stale", ()) if rel in new}
        added_or_removed = _names(f["templates"]) ^ _names(templates)  # (a built-in template includes no other)
        named = {rel for rel, names in self.region_names().items() if names & added_or_removed} \
            if added_or_removed else set()
        return changed | stale | named | {rel for rel, scopes in self.wide_scopes().items() if scopes & wide}

    @functools.cached_property
    def history_state(self) -> str:
        """The commit HEAD names in the vault's repository, when a note has a region on the whole vault (the
        `forecast`, or a template of the vault's own, may show the git history: a commit can change them with no
        note changed); "" when none has one (git is not even run)."""
        if not any("vault" in scopes for scopes in self.wide_scopes().values()):
            return ""
        from mdtracker import git_history  # (deferred: see `analysis`)

        return git_history.head(self.root)

    def wide_scopes(self) -> dict[str, frozenset[str]]:
        """The notes with regions on the day or the whole vault (kept in the cache's index)."""
        return self._indexed(self.wide, lambda note: note.scopes - {"file"})

    def region_names(self) -> dict[str, frozenset[str]]:
        """The notes with regions, and their names (kept in the cache's index)."""
        return self._indexed(self.named, lambda note: note.names)

    def mojibake(self) -> list[str]:
        """The notes whose summaries were read from their text repaired: they have mojibake that
        `lint --fix` would repair (kept in the cache's index)."""
        return sorted(self._indexed(self.garbled, lambda note: frozenset({"mojibake"}) if note.mojibake
                                    else frozenset()))

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
                      "head": self.history_state, "stale": dict(sorted((stale or {}).items()))}

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
        # deferred: the analysis loads with the parser, which a warm run that finds nothing changed never
        # needs (see `pipeline._stage`)
        from mdtracker import git_history
        from mdtracker.analyze import Analysis
        from mdtracker.model import Problem

        errors = tuple(Problem(e.path, e.line or 1, e.code, e.message) for e in self.errors)
        git = functools.partial(git_history.read, self.root, self.config, cache=self.use_cache)
        return Analysis(today, _Summaries(self), self.config, errors, git=git, remember=self.remember)

    def shards(self) -> list[Shelf]:
        """The cache's shards (read once)."""
        if self._loaded is None:
            self._loaded = list(self.cached())
        return self._loaded

    @property
    def errors(self) -> list[NoteError]:
        """Notes that could not be read; left untouched. (They are never cached, so always parsed.)"""
        return [n.error for n in self.parsed.values() if n.error is not None]

    def templates_state(self) -> list[tuple[str, int]]:
        return templates_state(self.root)


@dataclass
class _Summaries:
    """The summaries of a vault's notes in path order: those parsed in this run, and the cache's, read field
    by field from its shards (see `analyze.Summaries`). A note the shards lost, or a shard that cannot be
    read, sends every field to `Vault.notes`, which parses the lost notes again."""

    vault: Vault
    _where: dict[str, Shelf] | None = None  # the shard of each cached note

    def column(self, name: str) -> list[Any]:
        vault = self.vault
        if vault._notes is None:
            try:
                return self._from_shards(name)
            except LostShard:
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
                    raise LostShard(rel)
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

