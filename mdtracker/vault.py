"""A vault: its notes found on disk, each read, parsed and summarized on its own; a parse cache in
`.mdtracker/` so that a note is parsed again only when it changed; cold notes parsed on every core.

The cache is keyed by the note's size and mtime_ns (and, for a note modified within the last seconds before
the cache was written, its content hash), and versioned by mdtracker's version and the config's fingerprint.
A cache that is missing, corrupt or from another version is a cold run, never an error. Deleting
`.mdtracker/` is always safe.
"""

from __future__ import annotations

import fnmatch
import os
import pickle
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from mdtracker import __version__
from mdtracker import config as config_mod
from mdtracker.analyze import FileSummary, summarize
from mdtracker.config import Config
from mdtracker.errors import NoteError, VaultError
from mdtracker.files import digest, read_note
from mdtracker.model import Document, Problem
from mdtracker.parse import parse

# Folders that never hold the user's notes. Hidden folders (`.trash`, `.vscode`, …) are skipped too.
SKIPPED_FOLDERS = frozenset({".git", ".obsidian", ".mdtracker", "node_modules"})
CACHE_DIR = ".mdtracker"
CACHE_FILE = "cache.pickle"
CACHE_FORMAT = 3
RACY_NS = 2_000_000_000  # a note modified this close to the cache's writing is checked by its content hash
PARALLEL_FROM = 64  # fewer cold notes than this are parsed in this process


def discover(root: Path, exclude: tuple[str, ...] = ()) -> list[tuple[Path, str]]:
    """Every note under `root` as (path, vault-relative path with `/`), sorted by the relative path.

    `exclude` holds glob patterns (`tests/*`, `drafts/**`) of relative paths to leave out."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_FOLDERS and not d.startswith(".")]
        for name in files:
            if name.lower().endswith(".md") and not name.startswith("."):
                path = Path(folder, name)
                rel = path.relative_to(root).as_posix()
                if not any(fnmatch.fnmatchcase(rel, pattern) for pattern in exclude):
                    found.append((path, rel))
    found.sort(key=lambda pair: pair[1])
    return found


@dataclass(frozen=True)
class Note:
    """What is known of one note file: its stat, and its summary; its Document only where sync or lint --fix
    will need it (regions, cookies, malformed markers, mojibake), to keep the cache small."""

    rel: str
    size: int
    mtime_ns: int
    digest: str = ""
    summary: FileSummary | None = None
    document: Document | None = None
    error: NoteError | None = None


def _keep_document(doc: Document) -> bool:
    return doc.managed or doc.marker_error or any(p.code == "mojibake" for p in doc.problems)


def read_and_summarize(path: Path, rel: str, size: int, mtime_ns: int, config: Config) -> Note:
    """Read, parse and summarize one note; a note that cannot be read becomes a Note with its error."""
    try:
        text_note = read_note(path, rel)
    except NoteError as err:
        return Note(rel, size, mtime_ns, error=err)
    doc = parse(text_note.text, rel, digest(text_note.raw))
    return Note(rel, size, mtime_ns, doc.digest, summarize(doc, config), doc if _keep_document(doc) else None)


_WORKER_CONFIG: Config | None = None


def _init_worker(config: Config) -> None:
    global _WORKER_CONFIG
    _WORKER_CONFIG = config


def _work(batch: list[tuple[str, str, int, int]]) -> list[Note]:
    assert _WORKER_CONFIG is not None
    return [read_and_summarize(Path(path), rel, size, mtime, _WORKER_CONFIG) for path, rel, size, mtime in batch]


@dataclass
class Vault:
    root: Path
    config: Config
    notes: dict[str, Note] = field(default_factory=dict)
    stamp: str = ""  # the vault's state when a run last found every region fresh

    @property
    def documents(self) -> list[Document]:
        """The Documents kept: the notes that sync or lint --fix may rewrite."""
        return [n.document for n in self.notes.values() if n.document is not None]

    @property
    def summaries(self) -> list[FileSummary]:
        return [n.summary for n in self.notes.values() if n.summary is not None]

    @property
    def errors(self) -> list[NoteError]:
        """Notes that could not be read; left untouched."""
        return [n.error for n in self.notes.values() if n.error is not None]

    @property
    def error_problems(self) -> list[Problem]:
        return [Problem(e.path, e.line or 1, e.code, e.message) for e in self.errors]

    def state(self, today: object) -> str:
        """What a run's result depends on: every note's stat, the vault's own templates, the config, today."""
        templates = self.root / "templates"
        own = sorted((p.name, p.stat().st_mtime_ns) for p in templates.glob("*.j2")) if templates.is_dir() else []
        notes = [(n.rel, n.size, n.mtime_ns) for n in self.notes.values()]
        return digest(pickle.dumps((notes, own, self.config.fingerprint, str(today), __version__)))


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


def _cache_key(config: Config) -> tuple[object, ...]:
    return (CACHE_FORMAT, __version__, config.fingerprint)


def _read_cache(root: Path, config: Config) -> tuple[dict[str, Note], int, str]:
    """The cached notes, when the cache was written, and the fresh stamp; nothing when unusable."""
    try:
        with open(root / CACHE_DIR / CACHE_FILE, "rb") as handle:
            data = pickle.load(handle)
        if data["key"] != _cache_key(config):
            return {}, 0, ""
        return data["notes"], data["written_ns"], data["stamp"]
    except Exception:  # a missing, truncated, corrupt or foreign cache is a cold run
        return {}, 0, ""


def save(vault: Vault, dirty: Iterable[str] = ()) -> None:
    """Write the cache, leaving out the notes in `dirty` (rewritten since they were read); never fails."""
    skip = set(dirty)
    notes = {rel: n for rel, n in vault.notes.items() if rel not in skip and n.error is None}
    folder = vault.root / CACHE_DIR
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# mdtracker's parse cache: safe to delete\n*\n")
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cache.", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            pickle.dump({"key": _cache_key(vault.config), "written_ns": time.time_ns(), "stamp": vault.stamp,
                         "notes": notes}, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / CACHE_FILE)
    except OSError:
        pass  # a read-only vault simply has no cache


def load(root: Path, config: Config, *, cache: bool = True, jobs: int | None = None,
         progress: Callable[[int], Callable[[int], None]] | None = None) -> Vault:
    """Every note of the vault, summarized: from the cache where the note is unchanged, else parsed (on
    `jobs` processes when there are many). `progress(total)` gives a callback told of each note parsed."""
    cached, written_ns, stamp = _read_cache(root, config) if cache else ({}, 0, "")
    notes: dict[str, Note] = {}
    cold: list[tuple[str, str, int, int]] = []
    for path, rel in discover(root, config.exclude):
        try:
            st = path.stat()
        except OSError as err:
            notes[rel] = Note(rel, 0, 0, error=NoteError(rel, None, f"cannot read: {err.strerror}", "io"))
            continue
        old = cached.get(rel)
        if old is not None and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns) and (
                st.st_mtime_ns < written_ns - RACY_NS or _same_content(path, old)):
            notes[rel] = old
        else:
            cold.append((str(path), rel, st.st_size, st.st_mtime_ns))
    for note in _parse_all(cold, config, jobs, progress):
        notes[note.rel] = note
    vault = Vault(root, config, dict(sorted(notes.items())), stamp if not cold and len(notes) == len(cached) else "")
    if cache and (cold or len(notes) != len(cached)):
        save(vault)
    return vault


def _same_content(path: Path, note: Note) -> bool:
    try:
        return digest(path.read_bytes()) == note.digest
    except OSError:
        return False


def _parse_all(cold: list[tuple[str, str, int, int]], config: Config, jobs: int | None,
               progress: Callable[[int], Callable[[int], None]] | None) -> list[Note]:
    if not cold:
        return []
    tick = progress(len(cold)) if progress else (lambda n: None)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(cold) // PARALLEL_FROM))
    if workers <= 1:
        out = []
        for path, rel, size, mtime in cold:
            out.append(read_and_summarize(Path(path), rel, size, mtime, config))
            tick(1)
        return out
    size = max(8, min(64, len(cold) // (workers * 8)))
    batches = [cold[i:i + size] for i in range(0, len(cold), size)]
    out = []
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(config,)) as pool:
        for done in pool.map(_work, batches):
            out.extend(done)
            tick(len(done))
    return out
