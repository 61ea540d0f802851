"""The parse cache on disk, in `.mdtracker/` at the vault root: an index of every note's stat (and what the
last run found stale), and the notes' summaries in shards by a hash of their path.

A note is served from the cache only while its size and mtime_ns are what the index says (and, for a note
modified within the seconds before the index was written, its content hash). The cache is keyed by its
format, mdtracker's version and the config's fingerprint.

The cache holds data only (MessagePack, see `codec`), checked value by value against the records' types as
it is read: a vault that came with a cache (cloned, synced, shared) can make mdtracker do nothing but parse
its notes again. A cache that is missing, corrupt, planted, too large, reached through a link, or from
another version is a cold run, never an error. Deleting `.mdtracker/` is always safe.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import stat
import tempfile
import time
import typing
import zlib
from pathlib import Path
from typing import Any, Callable, Container, Iterable, Iterator, TypeVar

from mdtracker import __version__, codec, files
from mdtracker.config import Config
from mdtracker.discovery import LEFTOVER_AFTER_S
from mdtracker.vault import LostShard, Note, Vault

CACHE_DIR = ".mdtracker"
CACHE_FILE = "index.msgpack"
CACHE_FORMAT = 14  # raise it whenever a record the cache holds changes
MAX_FILE = 256 << 20  # no cache file of a real vault comes near this; a larger one is not read
RACY_NS = 2_000_000_000  # a note modified this close to the cache's writing is checked by its content hash
SHARDS = 64  # also the units of a cold parse on many cores: one worker writes each shard
_T = TypeVar("_T")
Stat = tuple[int, int, str]  # a note's size, mtime_ns and digest


def shard_of(rel: str) -> int:
    return zlib.crc32(rel.encode()) % SHARDS


def cache_key(config: Config) -> list[object]:
    return [CACHE_FORMAT, __version__, _code(), config.fingerprint]


@functools.cache
def _code() -> str:
    """A fingerprint of mdtracker's own modules and built-in templates as installed (their sizes and times):
    a summary or a fresh stamp made by another build of mdtracker is never used, even under the same version
    number (a development tree)."""
    package = Path(__file__).resolve().parent
    found = []
    for top in (package, package.parent / "templates"):  # (the built-in templates, in a source tree)
        for folder, _, files in os.walk(top):
            for name in sorted(files):
                if name.endswith((".py", ".j2")):
                    st = os.stat(os.path.join(folder, name))
                    found.append(f"{os.path.relpath(os.path.join(folder, name), top)}:{st.st_size}:{st.st_mtime_ns}")
    return zlib.crc32("\n".join(sorted(found)).encode()).to_bytes(4, "big").hex()


def by_shard(items: Iterable[_T], rel: Callable[[_T], str]) -> dict[int, list[_T]]:
    """`items` grouped by the cache shard of their note (`rel` tells an item's note), in their order."""
    found: dict[int, list[_T]] = {}
    for item in items:
        found.setdefault(shard_of(rel(item)), []).append(item)
    return found


def folder_of(root: Path) -> Path | None:
    """The cache's folder, when it is a real folder in the vault or not there yet; None when `.mdtracker` is
    a link or anything but a folder (the cache is then neither read nor written: it is never followed out of
    the vault)."""
    folder = root / CACHE_DIR
    try:
        return folder if stat.S_ISDIR(os.lstat(folder).st_mode) else None
    except FileNotFoundError:
        return folder
    except OSError:
        return None


def _read(path: Path) -> bytes | None:
    """A cache file's bytes: a regular file, not a link, not too large; None for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE:  # (a folder opens too)
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(st.st_size + 1)  # (not read(MAX_FILE): that would allocate 256 MB for each file)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= st.st_size else None  # grown since: another run is writing it


# --- the index --------------------------------------------------------------------------------------------


@functools.cache
def _index_decoders() -> dict[str, Callable[[Any], Any]]:
    return {
        "written_ns": codec.decoder(int),
        "wide": codec.decoder(dict[str, frozenset[str]]),
        "named": codec.decoder(dict[str, frozenset[str]]),
        "garbled": codec.decoder(dict[str, frozenset[str]]),
        "today": codec.decoder(str),
        "head": codec.decoder(str),
        "templates": codec.decoder(tuple[tuple[str, int], ...]),
    }


@functools.cache
def _stale_decoder() -> Callable[[Any], Any]:
    # deferred: a fresh stamp lists stale notes only after a check found some (see `pipeline._stage`)
    from mdtracker.regions import Change

    return codec.decoder(dict[str, typing.Optional[tuple[Change, ...]]])


def read_index(root: Path, config: Config) -> dict[str, Any]:
    """The index of the vault's cache, checked; {} when there is none that this run may use."""
    folder = folder_of(root)
    data = _read(folder / CACHE_FILE) if folder is not None else None
    if data is None:
        return {}
    try:
        raw = codec.loads(data)
        if type(raw) is not dict or raw.get("key") != cache_key(config):
            return {}
        dec = _index_decoders()
        index = {name: dec[name](raw[name]) for name in ("written_ns", "wide", "named", "garbled")}
        index["stats"] = _decode_stats(raw["stats"])
        index["fresh"] = _fresh(raw["fresh"], index["stats"])
    except (codec.Invalid, KeyError):  # a truncated, corrupt, foreign or planted index is a cold run
        return {}
    return index


def _fresh(raw: Any, stats: dict[str, Stat]) -> dict[str, Any] | None:
    if raw is None:
        return None
    if type(raw) is not dict or set(raw) != {"stats", "today", "templates", "head", "stale"}:
        raise codec.Invalid("fresh")
    dec = _index_decoders()
    return {"stats": dict(stats) if raw["stats"] is None else _decode_stats(raw["stats"]),
            "today": dec["today"](raw["today"]), "templates": list(dec["templates"](raw["templates"])),
            "head": dec["head"](raw["head"]), "stale": _stale_decoder()(raw["stale"]) if raw["stale"] else {}}


def _encode_stats(stats: dict[str, Stat]) -> list[list[Any]]:
    """Every note's stat, by columns: a vault's worth of them reads back in a few milliseconds."""
    return [list(stats), *map(list, zip(*stats.values()))] if stats else [[], [], [], []]


def _decode_stats(raw: Any) -> dict[str, Stat]:
    if type(raw) is not list or len(raw) != 4 or any(type(c) is not list or len(c) != len(raw[0]) for c in raw):
        raise codec.Invalid("stats")
    rels, sizes, mtimes, digests = raw
    if not (_only(rels, str) and _only(sizes, int) and _only(mtimes, int) and _only(digests, str)):
        raise codec.Invalid("stats")
    return dict(zip(rels, zip(sizes, mtimes, digests)))


def _only(values: list[Any], kind: type) -> bool:
    """Whether every value is exactly of this type (at C speed: a vault has tens of thousands of them)."""
    return set(map(type, values)) <= {kind}


# --- the shards -------------------------------------------------------------------------------------------

_NOTE = tuple[int, int, str, frozenset[str], frozenset[str], bool, bool]  # what a shard keeps of a Note


@functools.cache
def _summary() -> tuple[type, tuple[str, ...], dict[str, Callable[[Any], Any]]]:
    """The summaries' type, its fields, and a decoder of each field's column, made when a summary is first
    read: a warm run that finds nothing changed reads none (deferred for start-up time: see
    `pipeline._stage`)."""
    from mdtracker.analyze import FileSummary

    hints = typing.get_type_hints(FileSummary)
    names = tuple(f.name for f in dataclasses.fields(FileSummary))
    return FileSummary, names, {name: codec.decoder(tuple[hints[name], ...]) for name in names}  # type: ignore[valid-type]


@functools.cache
def _notes_decoder() -> Callable[[Any], Any]:
    return codec.decoder(tuple[_NOTE, ...])


class Shard:
    """The notes of one shard of the cache, as read: what sync needs of them, and their summaries field by
    field, each decoded when first asked for (a dashboard that shows readiness reads the notes' counts and
    domain items, a tenth of their summaries). Stored as a map: `key`, `rels`, and `notes` and each field of
    the summaries (`columns`) encoded on their own, in the order of `rels`."""

    def __init__(self, rels: list[str], notes: bytes, columns: dict[str, bytes]) -> None:
        self.rels = rels
        self._notes = notes
        self._columns = columns
        self._read: dict[str, list[Any]] = {}
        self._whole: dict[str, Note] | None = None

    def notes(self) -> dict[str, Note]:
        """The notes without their summaries (none if the shard is damaged)."""
        try:
            kept = _notes_decoder()(codec.loads(self._notes))
            if len(kept) != len(self.rels):
                return {}
        except codec.Invalid:  # a damaged shard costs its notes a parse, nothing more
            return {}
        return {rel: Note(rel, size, mtime, digest, None, scopes, names, rewritable, mojibake=garbled)
                for rel, (size, mtime, digest, scopes, names, rewritable, garbled) in zip(self.rels, kept)}

    def column(self, name: str) -> list[Any]:
        """The field `name` of every note's summary (LostShard when the shard cannot give it)."""
        if name not in self._read:
            try:
                column = list(_summary()[2][name](codec.loads(self._columns[name])))
            except (codec.Invalid, KeyError) as err:
                raise LostShard(name) from err
            if len(column) != len(self.rels):
                raise LostShard(name)
            self._read[name] = column
        return self._read[name]

    def whole(self) -> dict[str, Note]:
        """The notes with their summaries (none if the shard is damaged)."""
        if self._whole is None:
            notes = self.notes()
            try:
                summary, names, _ = _summary()
                summaries = map(summary, *(self.column(name) for name in names))
                self._whole = {rel: dataclasses.replace(notes[rel], summary=summary)
                               for rel, summary in zip(self.rels, summaries)} if notes else {}
            except LostShard:
                self._whole = {}
        return self._whole

    @staticmethod
    def encode(key: list[object], notes: Iterable[Note]) -> dict[str, Any]:
        """What is stored of these notes (those with a summary: the others are parsed again when asked for)."""
        kept = [note for note in notes if note.summary is not None]
        return {"key": key, "rels": [note.rel for note in kept],
                "notes": codec.dumps([(n.size, n.mtime_ns, n.digest, n.scopes, n.names, n.rewritable, n.mojibake)
                                      for n in kept]),
                "columns": {name: codec.dumps([getattr(note.summary, name) for note in kept])
                            for name in _summary()[1]}}


def _shard_file(folder: Path, n: int) -> Path:
    return folder / f"notes-{n:02d}.msgpack"


def read_shard(folder: Path, n: int, key: list[object]) -> Shard:
    data = _read(_shard_file(folder, n))
    if data is not None:
        try:
            shard = codec.loads(data)
            if type(shard) is dict and shard.get("key") == key:
                notes, columns = shard["notes"], shard["columns"]
                rels = shard["rels"]
                if type(notes) is bytes and type(columns) is dict and all(
                        type(k) is str and type(v) is bytes for k, v in columns.items()) and (
                        type(rels) is list and _only(rels, str)):
                    return Shard(rels, notes, columns)
        except (codec.Invalid, KeyError):  # a lost shard costs its notes a parse, nothing more
            pass
    return Shard([], b"", {})


def shards(root: Path, key: list[object]) -> Iterator[Shard]:
    """The cache's notes, one shard after the other."""
    folder = folder_of(root)
    for n in range(SHARDS):
        yield read_shard(folder, n, key) if folder is not None else Shard([], b"", {})


def _cacheable(note: Note) -> Note:
    return note if note.document is None and note.outcome is None else dataclasses.replace(note, document=None,
                                                                                           outcome=None)


def store_shard(folder: Path, n: int, key: list[object], keep: Container[str], notes: list[Note]) -> bool:
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
        _write(_shard_file(folder, n), Shard.encode(key, shard.values()))
    except (OSError, TypeError):
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
    return all(held.get(note.rel) == dataclasses.replace(note, summary=None, document=None, outcome=None)
               for note in notes)


cache_folder = files.make_cache_folder


def save(vault: Vault) -> None:
    """Write the cache: the index, and the shards holding a note that changed (but those a worker wrote
    already); never fails."""
    folder = folder_of(vault.root)
    if folder is None:
        return
    key = cache_key(vault.config)
    try:
        cache_folder(folder)
        _remove_leftovers(folder)
        pending: dict[int, list[Note]] = {}
        for rel in vault.changed - vault.buffers.keys():  # (an editor's buffer is not the note on disk)
            note = vault.parsed.get(rel)
            if note is None or not note.stored:
                pending.setdefault(shard_of(rel), []).extend([note] if note is not None else [])
        for n, notes in pending.items():
            if not store_shard(folder, n, key, vault.stats, notes):
                return
        stats = {rel: stat for rel, stat in vault.stats.items()
                 if not (rel in vault.parsed and vault.parsed[rel].error) and rel not in vault.buffers}
        fresh = vault.fresh
        if fresh is not None:  # its stats are usually the index's own: then stored once
            fresh = dict(fresh, stats=None if fresh["stats"] == stats else _encode_stats(fresh["stats"]))
        _write(folder / CACHE_FILE, {"key": key, "written_ns": time.time_ns(), "fresh": fresh,
                                     "stats": _encode_stats(stats), "wide": vault.wide_scopes(),
                                     "named": vault.region_names(),
                                     "garbled": {rel: frozenset({"mojibake"}) for rel in vault.mojibake()}})
    except (OSError, TypeError):
        pass  # a read-only vault simply has no cache


def _write(path: Path, data: object) -> None:
    encoded = codec.dumps(data)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(encoded)
        os.replace(tmp, path)
    finally:  # a full disk leaves no half-written file behind
        if os.path.lexists(tmp):
            os.unlink(tmp)


# --- results of the whole vault ------------------------------------------------------------------------------


def remember(root: Path, config: Config, name: str, inputs: bytes, compute: Callable[[], _T], hint: Any) -> _T:
    """A result worked out from the whole vault that costs more than reading it back (the knowledge gaps: the
    60,000 topic results of 10,000 notes matched with each other take most of a second, and a ticked box
    changes none of them): read from `.mdtracker/<name>.msgpack` when this build of mdtracker, with this
    config, kept it for the same `inputs` (hashed); else computed, and kept. `hint`: the result's type, which
    what is read must be (a planted or damaged file is a result computed again, never an error)."""
    folder = folder_of(root)
    key = [*cache_key(config), name, hashlib.sha256(inputs).hexdigest()]
    data = _read(folder / f"{name}.msgpack") if folder is not None else None
    if data is not None:
        try:
            kept = codec.loads(data)
            if type(kept) is dict and kept.get("key") == key:
                return typing.cast(_T, codec.decoder(hint)(kept["value"]))
        except (codec.Invalid, KeyError):
            pass
    value = compute()
    if folder is not None:
        try:
            cache_folder(folder)
            _write(folder / f"{name}.msgpack", {"key": key, "value": value})
        except (OSError, TypeError):
            pass  # a read-only vault keeps nothing
    return value


def _remove_leftovers(folder: Path) -> None:
    """The temporary files a killed run left in the cache's folder (ours: `.cache.*.tmp`)."""
    now = time.time()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".cache.") and entry.name.endswith(".tmp"):
                    try:
                        if now - entry.stat(follow_symlinks=False).st_mtime > LEFTOVER_AFTER_S:
                            os.unlink(entry.path)
                    except OSError:
                        pass
    except OSError:
        pass
