"""The I/O edge: notes as bytes on disk, decoded text, and atomic writes that never clobber an edit.

Only this module touches note files. It keeps what a rewrite must preserve (BOM, line endings, final newline,
owner, group and mode bits, symlinks) and splits lines the way markdown-it does (`\\r\\n`, `\\r`, `\\n`; never
`str.splitlines()`, which also splits on U+2028 and form feeds).

A vault may hold anything, so a note is read only when it is a regular file (never a FIFO, a device or a
socket, which would hang or never end) no larger than the size limit, and written only when the file it is,
links resolved, is inside the vault, may be written by its owner, and stands in a folder where the atomic
rename can be made; anything else is reported and left untouched.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mdtracker.errors import NoteError

TEMP_SUFFIX = ".mdtracker-tmp"  # what our atomic writes name their temporary files (`.NAME.XXXX.mdtracker-tmp`)

BOM = "\ufeff"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """The text's lines, each with its own line ending, as markdown-it counts them."""
    if "\r" in text:
        return _LINE.findall(text)
    lines = text.split("\n")  # the common case, at C speed
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


def line_ending(line: str) -> str:
    for end in ("\r\n", "\n", "\r"):
        if line.endswith(end):
            return end
    return ""


@dataclass(frozen=True)
class NoteText:
    """A note as read: its bytes, and its text decoded without the BOM."""

    path: str | Path
    raw: bytes
    text: str
    bom: bool

    def encode(self, text: str) -> bytes:
        """New text for this note as bytes, with the note's BOM if it had one."""
        return ((BOM if self.bom else "") + text).encode("utf-8")


def decode(raw: bytes, rel: str) -> tuple[str, bool]:
    """UTF-8 text and whether it had a BOM; a NoteError naming the line for anything that is not text."""
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise NoteError(rel, line, "binary data (a NUL byte), not a Markdown note; left untouched", "encoding")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise NoteError(
            rel, line,
            f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {column}); left untouched",
            "encoding",
        ) from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


def digest(raw: bytes) -> str:
    """A short fingerprint of a note's bytes."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


NOTE_LIMIT = 2_000_000  # bytes; a larger note is skipped (`[limits] note_mb` in the config)
_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def read_note(path: str | Path, rel: str, limit: int = NOTE_LIMIT) -> NoteText:
    """The note's bytes and text; a NoteError for anything that is not a regular file of at most `limit`
    bytes of UTF-8 text (opened without blocking: a named pipe called `pipe.md` cannot hang a run)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise NoteError(rel, None, f"cannot read: {err.strerror}", "io") from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a file")
            raise NoteError(rel, None, f"not a regular file ({kind}); skipped", "io")
        try:  # (as much as the file holds, and one byte more to see it grew: never a buffer of `limit`)
            raw = handle.read(st.st_size + 1) if st.st_size <= limit else b""
            while len(raw) > st.st_size and len(raw) <= limit:  # it grew meanwhile: read on, within the limit
                more = handle.read(limit + 1 - len(raw))
                if not more:
                    break
                raw += more
        except OSError as err:
            raise NoteError(rel, None, f"cannot read: {err.strerror}", "io") from None
    if st.st_size > limit or len(raw) > limit:
        size = max(st.st_size, len(raw))
        raise NoteError(rel, None, f"{_mb(size)} is more than the {_mb(limit)} a note may be ([limits] note_mb "
                        "in the config); skipped", "size")
    text, bom = decode(raw, rel)
    return NoteText(path, raw, text, bom)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB".replace(".0 MB", " MB")


def write_note(note: NoteText, new_raw: bytes, rel: str, root: str | Path | None = None) -> os.stat_result | None:
    """Replace the note's bytes with `new_raw` atomically; the stat of what was written (taken before it took
    the note's place, so that a later write by another program shows), None when there was nothing to change.

    Writes through a symlink to its target, when that is inside the vault at `root`; keeps the owner, the
    group and the mode bits. Refuses (a NoteError, the note left untouched) a note that resolves outside the
    vault, a read-only note, one whose owner cannot be kept, one in a folder where no atomic rename can be
    made, and one whose file on disk is no longer what was read (`conflict`); if another program writes
    through a handle it opened just before the swap, its version is put back. An edit made meanwhile by an
    editor is never lost.
    """
    if new_raw == note.raw:
        return None
    try:
        return _swap(note, new_raw, rel, root)
    except OSError as err:  # a full disk, a folder or file we may not write: this note only is not written
        raise NoteError(rel, None, f"cannot write: {err.strerror or err}; not written", "io") from None


def _swap(note: NoteText, new_raw: bytes, rel: str, root: str | Path | None) -> os.stat_result:
    target = Path(os.path.realpath(note.path))
    if root is not None and not target.is_relative_to(os.path.realpath(root)):
        raise NoteError(rel, None, f"is a link to {target}, outside the vault: read, never written; left untouched",
                        "outside")
    try:
        st = target.stat()
    except OSError:  # deleted or moved away since it was read: that edit wins too
        raise NoteError(rel, None, "gone from disk since it was read; not written", "conflict") from None
    mode = stat.S_IMODE(st.st_mode)
    if not mode & stat.S_IWUSR:
        raise NoteError(rel, None, "read-only; left untouched", "read-only")
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    except OSError:  # rewriting in place would not be atomic: an editor could see half a note
        raise NoteError(rel, None, "in a folder mdtracker may not create files in (an atomic rewrite needs one); "
                        "left untouched", "read-only") from None
    try:
        with os.fdopen(fd, "wb") as out:
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                try:  # (root in a container, or a group the user shares: the note keeps its owner and group)
                    os.fchown(out.fileno(), st.st_uid, st.st_gid)
                except OSError:
                    raise NoteError(rel, None, f"owned by uid {st.st_uid}, gid {st.st_gid}: rewritten, it would "
                                    "change hands; left untouched", "read-only") from None
            out.write(new_raw)
            out.flush()
            os.fsync(out.fileno())
            written = os.fstat(out.fileno())
        os.chmod(tmp, mode)
        with open(target, "rb") as old:  # hold the inode being replaced, to see late writes into it
            _expect(old, note.raw, rel)
            os.replace(tmp, target)
            old.seek(0)
            late = old.read()
        if late != note.raw:
            _put_back(target, late, new_raw, st)
            raise NoteError(rel, None, "changed on disk while being written; kept the other version (run again)",
                            "conflict")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return written


def _expect(handle: BinaryIO, expected: bytes, rel: str) -> None:
    if handle.read() != expected:
        raise NoteError(rel, None, "changed on disk since it was read; not written (run again)", "conflict")


def _put_back(target: Path, theirs: bytes, ours: bytes, st: os.stat_result) -> None:
    """Restore another program's version that landed in the replaced file, unless it wrote again since."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    with os.fdopen(fd, "wb") as out:
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            os.fchown(out.fileno(), st.st_uid, st.st_gid)  # (it was possible a moment ago)
        out.write(theirs)
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if target.read_bytes() == ours:
        os.replace(tmp, target)
    else:
        os.unlink(tmp)



def write_file(path: Path, raw: bytes, mode: int = 0o644) -> bool:
    """Write a file mdtracker makes whole (the dashboard's page, a cache's JSON) atomically, and only when its
    content differs: a temporary file in the same folder, then a rename. Whether it wrote. Raises OSError.
    (Notes, which the user edits, go through `write_note`.)"""
    try:
        if path.read_bytes() == raw:
            return False
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:  # a full disk leaves no half-written file behind
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return True


def make_cache_folder(folder: Path) -> None:
    """Make mdtracker's cache folder (`.mdtracker`), which tells git to ignore it; refuse a link (OSError)."""
    folder.mkdir(exist_ok=True)
    if folder.is_symlink():
        raise OSError(f"{folder} is a link")
    ignore = folder / ".gitignore"
    if not os.path.lexists(ignore):
        ignore.write_text("# mdtracker's parse cache: safe to delete\n*\n")
