"""`lint --fix`: the repairs that are safe to make, made in place (today: mojibake)."""

from __future__ import annotations

from dataclasses import dataclass

from mdtracker import mojibake
from mdtracker.errors import NoteError
from mdtracker.files import read_note, write_note
from mdtracker.pipeline import rewritable
from mdtracker.vault import Vault


@dataclass(frozen=True)
class Fixed:
    path: str
    repairs: int


def fix_mojibake(vault: Vault) -> tuple[list[Fixed], list[NoteError]]:
    """Repair certain mojibake in every note that has some; touch no other byte and no other note."""
    fixed, errors = [], []
    for doc in rewritable(vault):
        if not any(p.code == "mojibake" for p in doc.problems):
            continue
        try:
            note = read_note(vault.root / doc.path, doc.path, vault.config.note_limit)
            repairs = [r for r in mojibake.find(note.text) if r.offset in set(doc.repairs)]  # (none in code)
            if repairs and write_note(note, note.encode(mojibake.apply(note.text, repairs)), doc.path, vault.root):
                fixed.append(Fixed(doc.path, len(repairs)))
        except NoteError as err:
            errors.append(err)
    return fixed, errors
