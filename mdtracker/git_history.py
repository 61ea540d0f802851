"""The vault's git history: the done tasks of its notes at the last commit of each day.

When the vault is (inside) a git repository, the commits on the first-parent line of HEAD say how many tasks
were done on each day. Each note blob is parsed once, and what it counts is kept by its hash in
`.mdtracker/git-history.json` (plain JSON, validated on load: anything unexpected means starting afresh).

A vault may be a stranger's repository, so git runs with a hardened environment (no system or global config,
no prompt, no pager, no fsmonitor, no signatures, no textconv or external diff, no implicit bare repository),
with read-only plumbing and a timeout on every call. If git is missing, refuses the repository (one owned by
someone else), or anything fails, there is simply no git history, and `GitHistory.reason` says why.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from mdtracker import __version__
from mdtracker.analyze import summarize
from mdtracker.config import Config
from mdtracker.discovery import excluded, note_name, searched
from mdtracker.errors import NoteError
from mdtracker.files import decode, make_cache_folder, write_file
from mdtracker.forecast import GitHistory, Snapshot
from mdtracker.parse import parse

CACHE_FILE = "git-history.json"
CACHE_FORMAT = 1
MAX_BLOB = 5_000_000  # bytes: a larger blob is no note
MAX_COMMITS = 20_000  # commits read back from HEAD at most
TIMEOUT = 60.0  # seconds, for each git call
BATCH_BYTES = 64_000_000  # blob bytes asked of one `git cat-file --batch` at most
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_HARDENING = ["--no-pager", "-c", "core.fsmonitor=false", "-c", "log.showSignature=false",
              "-c", "core.hooksPath=/dev/null", "-c", "safe.bareRepository=explicit"]


class _Failed(Exception):
    pass


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # (a hook's GIT_DIR, GIT_INDEX_FILE…)
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0",
               GIT_NO_REPLACE_OBJECTS="1", GIT_ATTR_NOSYSTEM="1", GIT_PAGER="cat", LC_ALL="C")
    return env


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    executable = shutil.which("git")
    if executable is None:
        raise _Failed("git is not installed")
    try:
        done = subprocess.run([executable, *_HARDENING, *args], cwd=cwd, input=stdin, capture_output=True,
                              env=_environment(), timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise _Failed(f"git {args[0]} took longer than {TIMEOUT:g} s") from None
    except OSError as err:
        raise _Failed(f"git could not run: {err.strerror or err}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise _Failed(f"git {args[0]}: {message[0] if message else f'exit {done.returncode}'}")
    return done.stdout


def head(root: Path) -> str:
    """The commit HEAD names in the repository the vault is in, "" if none (or no git)."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").decode("ascii").strip()
    except (_Failed, UnicodeError):
        return ""


def read(root: Path, config: Config, today: dt.date, since: dt.date, cache: bool = True) -> GitHistory:
    """The snapshots of the days from the last one before `since` up to `today` (without `cache`, the blobs'
    counts are neither read from nor written to `.mdtracker/`); never raises."""
    try:
        return _read(root, config, today, since, cache)
    except _Failed as err:
        message = str(err)
        if "not a git repository" in message:
            message = "the vault is not in a git repository"
        elif "dubious ownership" in message:
            message = "git refuses the repository: it belongs to another user"
        return GitHistory(reason=message)
    except (OSError, ValueError, UnicodeError) as err:  # anything unexpected: no history, and why
        return GitHistory(reason=f"the git history could not be read ({type(err).__name__}: {err})")


def _read(root: Path, config: Config, today: dt.date, since: dt.date, cache: bool) -> GitHistory:
    inside = _git(root, "rev-parse", "--is-inside-work-tree").strip()
    if inside != b"true":
        raise _Failed("the vault is not in a git work tree")
    prefix = _git(root, "rev-parse", "--show-prefix").decode("utf-8").strip("\n")
    if not _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip():
        raise _Failed("the repository has no commit yet")
    log = _git(root, "log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--raw", "-z",
               "--no-abbrev", "--root", "--no-ext-diff", "--no-textconv", "--no-show-signature", "--no-relative",
               "--no-color", f"--max-count={MAX_COMMITS}", "--format=%x01%H %as", "HEAD", "--")
    commits = _commits(log)  # newest first
    history = GitHistory(commits=len(commits), after_today=any(day > today for _, day, _ in commits))
    kept = []  # from the newest down to the first commit before `since` (the baseline), oldest first
    for commit in commits:
        kept.append(commit)
        if commit[1] < since:
            break
    kept.reverse()
    base = kept[0]
    from_tree = base[1] < since or len(commits) == MAX_COMMITS
    if from_tree:  # the tree of the baseline commit, then the changes after it
        tree = _tree(root, base[0], prefix, config)
        changes = kept[1:]
    else:  # the whole history is in the window: from nothing, the first commit included
        tree = {}
        changes = kept
    last_of_day = {}
    for n, (_, day, _) in enumerate(changes):
        last_of_day[day] = n  # (the newest commit of each day on the line)
    wanted = set(tree.values())
    for _, _, entries in changes:
        wanted.update(blob for _, blob in entries if blob)
    counts = _counts(root, config, wanted, cache)
    state = {path: blob for path, blob in tree.items()}
    totals = [0, 0, 0]

    def add(blob: str, sign: int) -> None:
        for i, value in enumerate(counts.get(blob, (0, 0, 0))):
            totals[i] += sign * value

    for blob in state.values():
        add(blob, 1)
    found: dict[dt.date, Snapshot] = {}
    if from_tree:
        found[base[1]] = Snapshot(base[1], *totals)
    for n, (_, day, entries) in enumerate(changes):
        for path, blob in entries:
            if not _is_note(path, prefix, config):
                continue
            rel = path[len(prefix):]
            old = state.pop(rel, None)
            if old:
                add(old, -1)
            if blob:
                state[rel] = blob
                add(blob, 1)
        if last_of_day[day] == n:
            found[day] = Snapshot(day, *totals)
    history.snapshots = [found[day] for day in sorted(found) if day <= today]
    return history


def _commits(log: bytes) -> list[tuple[str, dt.date, list[tuple[str, str]]]]:
    """(commit, author's day, [(path, new blob or "" when deleted)]) of each commit, as `git log` gives them."""
    found = []
    for record in log.split(b"\x01")[1:]:
        header, _, raw = record.partition(b"\x00")
        sha, day = header.decode("ascii").split()
        fields = raw.lstrip(b"\n").split(b"\x00")
        entries = []
        for n in range(0, len(fields) - 1, 2):
            meta, path = fields[n].decode("ascii"), fields[n + 1].decode("utf-8", "surrogateescape")
            if not meta.startswith(":"):
                break
            _, new_mode, _, new_blob, status = meta[1:].split(" ")[:5]
            if status.startswith("D") or not new_mode.startswith("100"):  # gone, a link, a submodule
                entries.append((path, ""))
            else:
                entries.append((path, new_blob))
        found.append((sha, dt.date.fromisoformat(day), entries))
    return found


def _tree(root: Path, commit: str, prefix: str, config: Config) -> dict[str, str]:
    """The note blobs at a commit: vault-relative path → blob."""
    out = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--")
    tree = {}
    for entry in out.split(b"\x00"):
        if not entry:
            continue
        meta, _, path_bytes = entry.partition(b"\t")
        mode, kind, blob = meta.decode("ascii").split()
        path = path_bytes.decode("utf-8", "surrogateescape")
        if kind == "blob" and mode.startswith("100") and _is_note(path, prefix, config):
            tree[path[len(prefix):]] = blob
    return tree


def _is_note(path: str, prefix: str, config: Config) -> bool:
    """Whether the vault would take this repository path for a note (the vault's own discovery rules)."""
    if not path.startswith(prefix):
        return False
    parts = path[len(prefix):].split("/")
    return all(searched(p) for p in parts[:-1]) and note_name(parts[-1]) and not excluded("/".join(parts),
                                                                                          config.exclude)


def note_counts(text: str, rel: str, config: Config) -> tuple[int, int, int]:
    """(done, dated, scope) of one note's text: the one place that parses and summarizes for the history.
    Tasks inside mdtracker's own regions are not the user's: the parser leaves them out."""
    summary = summarize(parse(text, rel), config)
    c = summary.counts
    return c.done, len(summary.history), c.total - c.cancelled - c.non_task


def _counts(root: Path, config: Config, blobs: set[str], cache: bool) -> dict[str, tuple[int, int, int]]:
    """What each blob counts: from the cache, else parsed (and the cache written again with just these)."""
    folder = root / ".mdtracker"
    key = f"{__version__}:{config.fingerprint}"
    cached = _load(folder / CACHE_FILE, key) if cache else {}
    found = {blob: cached[blob] for blob in blobs if blob in cached}
    missing = sorted(blobs - found.keys())
    if missing:
        found.update(_parse_blobs(root, config, missing))
    if cache and (missing or len(found) != len(cached)):
        _store(folder, key, found)
    return found


def _parse_blobs(root: Path, config: Config, blobs: list[str]) -> dict[str, tuple[int, int, int]]:
    sizes = {}
    for line in _git(root, "cat-file", "--batch-check", stdin="".join(b + "\n" for b in blobs).encode()).splitlines():
        parts = line.decode("ascii", "replace").split()
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    found = {b: (0, 0, 0) for b in blobs}  # too large, or not a blob: counts nothing
    batches: list[list[str]] = [[]]
    held = 0
    for blob in blobs:
        size = sizes.get(blob, -1)
        if not 0 <= size <= MAX_BLOB:
            continue
        if held + size > BATCH_BYTES and batches[-1]:
            batches.append([])
            held = 0
        batches[-1].append(blob)
        held += size
    for batch in batches:
        if not batch:
            continue
        out = _git(root, "cat-file", "--batch", stdin="".join(b + "\n" for b in batch).encode())
        at = 0
        for blob in batch:
            end = out.index(b"\n", at)
            size = int(out[at:end].split()[2])
            raw = out[end + 1:end + 1 + size]
            at = end + 1 + size + 1
            try:
                text, _ = decode(raw, blob)
            except NoteError:  # binary, or not UTF-8: no tasks
                continue
            found[blob] = note_counts(text, blob, config)
    return found


def _load(path: Path, key: str) -> dict[str, tuple[int, int, int]]:
    """The cache, if it is what this version wrote for this config; else nothing."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("key") != key:
        return {}
    blobs = data.get("blobs")
    if not isinstance(blobs, dict):
        return {}
    found = {}
    for blob, value in blobs.items():
        if (not isinstance(blob, str) or not _SHA.fullmatch(blob) or not isinstance(value, list) or len(value) != 3
                or not all(type(v) is int and 0 <= v < 10**9 for v in value)):
            return {}
        found[blob] = (value[0], value[1], value[2])
    return found


def _store(folder: Path, key: str, blobs: dict[str, tuple[int, int, int]]) -> None:
    """Write the cache atomically; a read-only vault has none."""
    data = {"format": CACHE_FORMAT, "key": key, "blobs": {b: list(v) for b, v in sorted(blobs.items())}}
    try:
        make_cache_folder(folder)
        write_file(folder / CACHE_FILE, json.dumps(data, separators=(",", ":")).encode())
    except OSError:
        pass
