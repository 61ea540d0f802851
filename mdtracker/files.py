"""The I/O edge: notes as bytes on disk, decoded text, and atomic writes that never clobber an edit.

Only this module touches note files. It keeps what a rewrite must preserve (BOM, line endings, final newline,
mode bits, symlinks) and splits lines the way markdown-it does (`\\r\\n`, `\\r`, `\\n`; never
`str.splitlines()`, which also splits on U+2028 and form feeds).
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


def read_note(path: str | Path, rel: str) -> NoteText:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        raise NoteError(rel, None, f"cannot read: {err.strerror}", "io") from None
    text, bom = decode(raw, rel)
    return NoteText(path, raw, text, bom)


def write_note(note: NoteText, new_raw: bytes, rel: str) -> os.stat_result | None:
    """Replace the note's bytes with `new_raw` atomically; the stat of what was written (taken before it took
    the note's place, so that a later write by another program shows), None when there was nothing to change.

    Writes through a symlink to its target and keeps the mode bits. Refuses (NoteError `conflict`) when the
    file on disk is no longer what was read; and if another program writes through a handle it opened just
    before the swap, its version is put back. An edit made meanwhile by an editor is never lost.
    """
    if new_raw == note.raw:
        return None
    try:
        return _swap(note, new_raw, rel)
    except OSError as err:  # a full disk, a folder or file we may not write: this note only is not written
        raise NoteError(rel, None, f"cannot write: {err.strerror or err}; not written", "io") from None


def _swap(note: NoteText, new_raw: bytes, rel: str) -> os.stat_result:
    target = Path(os.path.realpath(note.path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:  # deleted or moved away since it was read: that edit wins too
        raise NoteError(rel, None, "gone from disk since it was read; not written", "conflict") from None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".mdtracker-tmp")
    except OSError:  # a folder we may not create files in: write in place
        with open(target, "r+b") as handle:
            _expect(handle, note.raw, rel)
            handle.seek(0)
            handle.write(new_raw)
            handle.truncate()
            handle.flush()
            return os.fstat(handle.fileno())
    try:
        with os.fdopen(fd, "wb") as out:
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
            _put_back(target, late, new_raw, mode)
            raise NoteError(rel, None, "changed on disk while being written; kept the other version (run again)",
                            "conflict")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return written


def _expect(handle: BinaryIO, expected: bytes, rel: str) -> None:
    if handle.read() != expected:
        raise NoteError(rel, None, "changed on disk since it was read; not written (run again)", "conflict")


def _put_back(target: Path, theirs: bytes, ours: bytes, mode: int) -> None:
    """Restore another program's version that landed in the replaced file, unless it wrote again since."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".mdtracker-tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(theirs)
    os.chmod(tmp, mode)
    if target.read_bytes() == ours:
        os.replace(tmp, target)
    else:
        os.unlink(tmp)
