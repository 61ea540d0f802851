"""The parse cache on disk, in `.mdtracker/` at the vault root: an index of every note's stat (and what the
last run found stale), and the notes' summaries in shards by a hash of their path.

A note is served from the cache only while its size and mtime_ns are what the index says (and, for a note
modified within the seconds before the index was written, its content hash). The cache is keyed by its
format, mdtracker's version and the config's fingerprint. A cache that is missing, corrupt or from another
version is a cold run, never an error; deleting `.mdtracker/` is always safe.
"""

from __future__ import annotations

import functools
import os
import pickle
import tempfile
import time
import zlib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Callable, Container, Iterable, Iterator, TypeVar

from mdtracker import __version__
from mdtracker.config import Config
from mdtracker.vault import LostShard, Note, Vault

CACHE_DIR = ".mdtracker"
CACHE_FILE = "index.pickle"
CACHE_FORMAT = 9  # raise it whenever a type the cache pickles changes
RACY_NS = 2_000_000_000  # a note modified this close to the cache's writing is checked by its content hash
_T = TypeVar("_T")
SHARDS = 64  # also the units of a cold parse on many cores: one worker writes each shard


def shard_of(rel: str) -> int:
    return zlib.crc32(rel.encode()) % SHARDS


def cache_key(config: Config) -> tuple[object, ...]:
    return (CACHE_FORMAT, __version__, config.fingerprint)


def by_shard(items: Iterable[_T], rel: Callable[[_T], str]) -> dict[int, list[_T]]:
    """`items` grouped by the cache shard of their note (`rel` tells an item's note), in their order."""
    found: dict[int, list[_T]] = {}
    for item in items:
        found.setdefault(shard_of(rel(item)), []).append(item)
    return found


def read_index(root: Path, config: Config) -> dict[str, Any]:
    try:
        with open(root / CACHE_DIR / CACHE_FILE, "rb") as handle:
            index = pickle.load(handle)
        if isinstance(index, dict) and index.get("key") == cache_key(config):
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
                raise LostShard(name) from err
            names = FIELD_GROUPS[group]
            if not isinstance(values, tuple) or len(values) != len(names) or any(
                    not isinstance(v, list) or len(v) != len(self.rels) for v in values):
                raise LostShard(name)
            self._read.update(zip(names, values))
        return self._read[name]

    def whole(self) -> dict[str, Note]:
        """The notes with their summaries (none if the shard is damaged)."""
        if self._whole is None:
            notes = self.notes()
            try:
                summary, names = _summary()
                summaries = map(summary, *(self.column(name) for name in names))
                self._whole = {rel: replace(notes[rel], summary=summary)
                               for rel, summary in zip(self.rels, summaries)} if notes else {}
            except LostShard:
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


# The fields of a FileSummary, in groups pickled together: what a dashboard reads; what falls due (the
# entries of one task share their texts and dates: pickled apart, they would be stored twice); the rest.
FIELD_GROUPS = {
    "readiness": ("path", "counts", "domain_specs", "section_items"),
    "dates": ("dated", "reviews", "history", "milestones", "applications", "track"),
    "notes": ("headings", "scores", "topics", "scenarios", "stories", "problems"),
}
_GROUP_OF = {name: group for group, names in FIELD_GROUPS.items() for name in names}


@functools.cache
def _summary() -> tuple[type, tuple[str, ...]]:
    """The summaries' type and its fields, imported when a summary is first read whole: a warm run that
    finds nothing changed reads none (deferred for start-up time: see `pipeline._stage`)."""
    from mdtracker.analyze import FileSummary

    return FileSummary, tuple(f.name for f in fields(FileSummary))


def read_shard(folder: Path, n: int, key: tuple[object, ...]) -> Shard:
    try:
        with open(folder / f"notes-{n:02d}.pickle", "rb") as handle:
            shard = pickle.load(handle)
        if shard.get("key") == key:
            return Shard(list(shard["rels"]), shard["notes"], dict(shard["groups"]))
    except Exception:  # a lost shard costs its notes a parse, nothing more
        pass
    return Shard([], b"", {})


def shards(root: Path, key: tuple[object, ...]) -> Iterator[Shard]:
    """The cache's notes, one shard after the other."""
    for n in range(SHARDS):
        yield read_shard(root / CACHE_DIR, n, key)


def _cacheable(note: Note) -> Note:
    return note if note.document is None and note.outcome is None else replace(note, document=None, outcome=None)


def store_shard(folder: Path, n: int, key: tuple[object, ...], keep: Container[str], notes: list[Note]) -> bool:
    """Write shard n: those of its cached notes still in `keep` (the notes of the vault, or at least of the
    shard), and `notes` (but notes that could not be read). False if it could not be written. A shard that
    holds these notes already, as they are, and no note gone from `keep`, is left as it is (a check parses
    unchanged notes again, a sync those it does not rewrite)."""
    old = read_shard(folder, n, key)
    if _holds(old, keep, notes):
        return True
    shard = {rel: note for rel, note in old.whole().items() if rel in keep} if keep else {}
    shard.update((note.rel, _cacheable(note)) for note in notes if note.error is None)
    try:
        cache_folder(folder)
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


def cache_folder(folder: Path) -> None:
    """Make the cache's folder, which tells git to ignore it."""
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# mdtracker's parse cache: safe to delete\n*\n")


def save(vault: Vault) -> None:
    """Write the cache: the index, and the shards holding a note that changed (but those a worker wrote
    already); never fails."""
    folder = vault.root / CACHE_DIR
    key = cache_key(vault.config)
    try:
        cache_folder(folder)
        pending: dict[int, list[Note]] = {}
        for rel in vault.changed:
            note = vault.parsed.get(rel)
            if note is None or not note.stored:
                pending.setdefault(shard_of(rel), []).extend([note] if note is not None else [])
        for n, notes in pending.items():
            if not store_shard(folder, n, key, vault.stats, notes):
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

