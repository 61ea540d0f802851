"""Where a vault's notes and templates are: the first stage, which looks at names only, never at contents.

A note is a `*.md` file (any case) that is not hidden, outside the folders that never hold the user's notes
(`.git`, `.obsidian`, the cache, `node_modules`, and every hidden folder), and not left out by the config's
`exclude`. Links to folders are not followed; a link to a file is a note like any other (the reader decides
whether it may be read, and the writer whether it may be written). The vault's own templates are the
`templates/NAME.md.j2` files at its root.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from pathlib import Path
from typing import Iterable

from mdtracker.files import TEMP_SUFFIX

SKIPPED_FOLDERS = frozenset({".git", ".obsidian", ".mdtracker", "node_modules"})
VAULT_TEMPLATES = "templates"  # a folder at the vault root holding the vault's own NAME.md.j2 templates
SUFFIX = ".md.j2"
LEFTOVER_AFTER_S = 60.0  # a temporary file of ours older than this was left by a run that was killed


def discover(root: Path, exclude: tuple[str, ...] = (), leftovers: list[str] | None = None) -> list[tuple[str, str]]:
    """Every note under `root` as (path, vault-relative path with `/`), sorted by the relative path. Paths
    are strings: a warm run of 10,000 notes would spend a sixth of its time making Path objects.

    `exclude` holds glob patterns (`tests/*`, `drafts/**`) of relative paths to leave out. With `leftovers`,
    the paths of our own temporary files met on the way are added to it (see `remove_leftovers`)."""
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
            elif leftovers is not None and name.endswith(TEMP_SUFFIX) and name.startswith("."):
                leftovers.append(os.path.join(folder, name))
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


def remove_leftovers(paths: Iterable[str]) -> None:
    """Remove the temporary files that an interrupted run of ours left (our naming, inside the vault, and
    older than a minute: a run going on beside this one is never in the middle of a write that long)."""
    now = time.time()
    for path in paths:
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > LEFTOVER_AFTER_S:
                os.unlink(path)
        except OSError:
            pass


def templates_folder(root: Path) -> Path | None:
    """The vault's own templates folder: a real folder at the root (a link to a folder elsewhere is not one)."""
    folder = root / VAULT_TEMPLATES
    try:
        return folder if stat.S_ISDIR(os.lstat(folder).st_mode) else None
    except OSError:
        return None


def own_template_files(root: Path, suffix: str = SUFFIX) -> list[os.DirEntry[str]]:
    """The vault's own templates (`templates/NAME.md.j2`; with `suffix=".j2"`, the files they may include
    too): regular files, never links."""
    folder = templates_folder(root)
    if folder is None:
        return []
    try:
        with os.scandir(folder) as entries:
            return sorted((e for e in entries if e.name.endswith(suffix) and e.is_file(follow_symlinks=False)),
                          key=lambda e: e.name)
    except OSError:
        return []


def own_templates(root: Path) -> frozenset[str]:
    """The names of the vault's own templates."""
    return frozenset(e.name[: -len(SUFFIX)] for e in own_template_files(root))


def templates_state(root: Path) -> list[tuple[str, int]]:
    """The vault's own template files and their modification times: a change to any is a change to the
    vault's regions."""
    state = []
    for entry in own_template_files(root, ".j2"):
        try:
            state.append((entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
        except OSError:
            continue
    return state
