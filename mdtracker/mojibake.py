"""Mojibake: UTF-8 text that was once decoded as cp1252 or Mac Roman (`ðŸ”´` for 🔴, `‚úÖ` for ✅).

ftfy knows cp1252 but not Mac Roman, so the repair is done here, and only where it is certain: a run of
non-ASCII characters is repaired when re-encoding it with one codec gives valid UTF-8 made of characters a
note can hold (no controls, private-use or unassigned code points, no leading combining mark). A file keeps
to one codec: where a run reads both ways, the codec that explains most of the file's runs wins.

Clean Latin text can read as another script by chance (`×²` → `ײ`, `é——` → `闗`), so a repair that would
yield a letter of a script other than Latin or Greek is never made: such a run cannot be told apart from
clean text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

CODECS = ("cp1252", "mac_roman")
_RUN = re.compile(r"[^\x00-\x7f]{2,}")
# cp1252 has no character for 0x8F, so a lossy decode drops the last byte of U+FE0F (EF B8 8F) and leaves
# `ï¸`. EF B8 followed by anything but a continuation byte can only have been that variation selector.
_CUT_SELECTOR = re.compile(rb"\xef\xb8(?![\x80-\xbf])")
_BAD_CATEGORIES = {"Cc", "Co", "Cn", "Cs"}


@dataclass(frozen=True)
class Repair:
    offset: int  # in the text
    old: str
    new: str
    codec: str


def _plausible(text: str, before: str) -> bool:
    # a combining mark needs a base character (`x` + U+0304 is x̄)
    if unicodedata.category(text[0]).startswith("M") and not before.isalnum():
        return False
    return all(unicodedata.category(ch) not in _BAD_CATEGORIES for ch in text)


def repair_run(run: str, codec: str, before: str = " ") -> str | None:
    """The text `run` was before it was decoded as `codec`, or None if that is not certain."""
    try:
        data = run.encode(codec)
    except UnicodeEncodeError:
        return None
    if codec == "cp1252":
        data = _CUT_SELECTOR.sub(b"\xef\xb8\x8f", data)
    try:
        fixed = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if fixed == run or not _plausible(fixed, before):
        return None
    return fixed


def _unmistakable(fixed: str) -> bool:
    """True when the repair could hardly be chance: every character it yields is Latin, Greek, a combining
    accent, or a symbol, punctuation or emoji of three or more UTF-8 bytes (`Ã©` → é, `Î¼` → μ, `â€”` → —).

    Letters of other scripts are left out: Latin text reads as CJK or Hebrew by chance (`é——` → 闗)."""
    for ch in fixed:
        code = ord(ch)
        if code < 0x80 or 0xA0 <= code < 0x180 or 0x300 <= code < 0x400:
            continue
        if code < 0x800:
            return False
        if unicodedata.category(ch).startswith("L") and not unicodedata.name(ch, "").startswith(("LATIN", "GREEK")):
            return False
    return True


def find(text: str) -> list[Repair]:
    """Every certain mojibake repair in the text, in order."""
    candidates: list[tuple[int, str, dict[str, str]]] = []
    offset = 0
    for line in text.split("\n") if not text.isascii() else ():
        if not line.isascii():  # a C-speed test spares the pattern most lines
            for m in _RUN.finditer(line):
                start = offset + m.start()
                before = text[start - 1] if start else " "
                fixes = {c: fixed for c in CODECS
                         if (fixed := repair_run(m.group(0), c, before)) is not None and _unmistakable(fixed)}
                if fixes:
                    candidates.append((start, m.group(0), fixes))
        offset += len(line) + 1
    votes = Counter(codec for _, _, fixes in candidates for codec in fixes)
    preferred = sorted(CODECS, key=lambda c: -votes[c])
    repairs = []
    for start, old, fixes in candidates:
        codec = next(c for c in preferred if c in fixes)
        repairs.append(Repair(start, old, fixes[codec], codec))
    return repairs


def apply(text: str, repairs: list[Repair]) -> str:
    """The text with the repairs made."""
    out, last = [], 0
    for r in repairs:
        out.append(text[last:r.offset])
        out.append(r.new)
        last = r.offset + len(r.old)
    out.append(text[last:])
    return "".join(out)
