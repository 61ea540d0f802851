"""A vault: its notes found on disk, each read and parsed into a Document on its own."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from mdtracker import config as config_mod
from mdtracker.config import Config
from mdtracker.errors import NoteError, VaultError
from mdtracker.files import digest, read_note
from mdtracker.model import Document, Problem
from mdtracker.parse import parse

# Folders that never hold the user's notes. Hidden folders (`.trash`, `.vscode`, …) are skipped too.
SKIPPED_FOLDERS = frozenset({".git", ".obsidian", ".mdtracker", "node_modules"})


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
class Vault:
    root: Path
    config: Config
    documents: tuple[Document, ...]
    errors: tuple[NoteError, ...]  # notes that could not be read; left untouched

    @property
    def error_problems(self) -> list[Problem]:
        return [Problem(e.path, e.line or 1, e.code, e.message) for e in self.errors]


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


def load(root: Path, config: Config) -> Vault:
    """Read and parse every note of the vault; notes that cannot be read become errors, not exceptions."""
    documents, errors = [], []
    for path, rel in discover(root, config.exclude):
        try:
            note = read_note(path, rel)
        except NoteError as err:
            errors.append(err)
            continue
        documents.append(parse(note.text, rel, digest(note.raw)))
    return Vault(root, config, tuple(documents), tuple(errors))
