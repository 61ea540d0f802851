"""Recognizers for the conventions that live inside one line of text.

Each is a small pure function: a status symbol, an Obsidian Tasks date signifier, a Dataview inline field,
a percentage, a fraction, a status emoji, a score. Markdown structure (lists, tables, code) is never found
here; the parser hands these functions the text of one line or one cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import NamedTuple

# --- tasks ----------------------------------------------------------------------------------------------

def task_symbol(text: str) -> tuple[str, str] | None:
    """`(symbol, rest)` when a list item's text starts like a task (`[x] rest`), else None: `[c]` then a
    space or the end of the text, `c` one character but a line break (SPEC §5)."""
    if text[:1] != "[" or text[2:3] != "]" or text[1] in "\n\r" or text[3:4] not in ("", " "):
        return None
    return text[1], text[4:]


# --- dates ----------------------------------------------------------------------------------------------

ISO_DATE = r"\d{4}-\d{2}-\d{2}"

# Obsidian Tasks' signifiers, each optionally followed by the variation selector U+FE0F.
SIGNIFIERS: dict[str, str] = {
    "📅": "due", "📆": "due", "🗓": "due",
    "⏳": "scheduled", "⌛": "scheduled",
    "🛫": "start",
    "➕": "created",
    "✅": "done",
    "❌": "cancelled",
}
# Dataview's task fields, as Obsidian Tasks reads them.
DATAVIEW_KEYS: dict[str, str] = {
    "due": "due", "scheduled": "scheduled", "start": "start", "created": "created",
    "completion": "done", "done": "done", "cancelled": "cancelled",
}
_SIGNIFIER_DATE = re.compile(
    "(" + "|".join(map(re.escape, SIGNIFIERS)) + r")\ufe0f? *(" + ISO_DATE + r")(?!\d)"
)
# (a value holds no bracket: each match then ends before the next field begins, and a line of 100,000
# unclosed `[a::` is read in linear time, not in hours)
_DATAVIEW_FIELD = re.compile(r"([\[(])([A-Za-z][\w-]*)::([^\[\]()]*)([\])])")  # (the value is stripped)
_PRIORITY = "🔺⏫🔼🔽⏬"


def parse_date(text: str) -> dt.date | None:
    """A `YYYY-MM-DD` string as a date; None when it names no real day (`2025-02-30`)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


_ANY_DATE = re.compile(r"(?<!\d)" + ISO_DATE + r"(?!\d)")


def first_date(text: str) -> dt.date | None:
    """The first real `YYYY-MM-DD` date in the text, or None."""
    m = _ANY_DATE.search(text)
    return parse_date(m.group(0)) if m else None


class DateField(NamedTuple):
    """One date written on a task line: which field, the text after the signifier, and where it stands."""

    field: str
    text: str
    start: int
    end: int

    @property
    def date(self) -> dt.date | None:
        return parse_date(self.text)


def date_fields(line: str) -> list[DateField]:
    """Every Obsidian Tasks date signifier and Dataview date field in the line, in order."""
    found = [DateField(SIGNIFIERS[m.group(1)], m.group(2), m.start(), m.end())
             for m in _SIGNIFIER_DATE.finditer(line)]
    if "::" in line:
        for m in _DATAVIEW_FIELD.finditer(line):
            opener, key, value, closer = m.groups()
            if (opener, closer) in (("[", "]"), ("(", ")")) and key in DATAVIEW_KEYS:
                found.append(DateField(DATAVIEW_KEYS[key], value.strip(), m.start(), m.end()))
        found.sort(key=lambda f: f.start)
    return found


def inline_fields(line: str) -> tuple[tuple[str, str], ...]:
    """Every Dataview `[key:: value]` / `(key:: value)` field in the line, keys as written."""
    return tuple((m.group(2), m.group(3).strip()) for m in _DATAVIEW_FIELD.finditer(line)
                 if (m.group(1), m.group(4)) in (("[", "]"), ("(", ")")))


# What Obsidian Tasks strips from the end of a task line, one piece at a time (TaskRegularExpressions.ts).
# Each begins where no white space stands before it (`(?<!\s)`): else a search would try every place in a run
# of spaces, and a line of 50,000 of them would take minutes.
_TRAILING = [re.compile(r"(?<!\s)" + pattern) for pattern in (
    r"\s*\^[a-zA-Z0-9-]+$",                                   # block link
    r"\s*(?:^|\s)#[^ !@#$%^&*(),.?\":{}|<>]+$",              # tag
    "\\s*(?:" + "|".join(map(re.escape, SIGNIFIERS)) + ")\ufe0f? *" + ISO_DATE + "$",
    "\\s*[" + _PRIORITY + "]\ufe0f?$",
    r"\s*🔁\ufe0f? ?[a-zA-Z0-9, !]+$",
    r"\s*🏁\ufe0f? *[a-zA-Z]+$",
    r"\s*🆔\ufe0f? *[a-zA-Z0-9-_]+$",
    r"\s*⛔\ufe0f? *[a-zA-Z0-9-_, ]+$",
    r"\s*[\[(][A-Za-z][\w-]*::[^\[\]()]*[\])],?$",
)]


def fields_tail_start(line: str) -> int:
    """Offset where the run of trailing fields that Obsidian Tasks can read begins."""
    end = len(line.rstrip())
    for _ in range(21):  # Obsidian Tasks makes at most 21 passes
        for pattern in _TRAILING:
            m = pattern.search(line, 0, end)
            if m is not None and m.start() < end:
                end = m.start()
                break
        else:
            break
    return end


def only_fields_after(line: str, found: list[DateField]) -> bool:
    """True when nothing but white space stands between and after the date fields found on the line: then
    Obsidian Tasks reads them all (the quick answer `fields_tail_start` would give for most lines)."""
    ends = [f.end for f in found]
    starts = [f.start for f in found[1:]] + [len(line)]
    return all(not line[end:start].strip() for end, start in zip(ends, starts))


def title_only(text: str) -> str:
    """A task's text without the dates, tags and other fields Obsidian Tasks reads at its end."""
    return text[: fields_tail_start(text)].strip()


# --- tags -----------------------------------------------------------------------------------------------

_TAG = re.compile(r"(?:^|(?<=\s))#([^\s!@#$%^&*(),.?\":{}|<>]+)")


def tags(text: str) -> tuple[str, ...]:
    """Tags as Obsidian Tasks reads them: `#word` after a space, not a bare number."""
    return tuple("#" + t for t in _TAG.findall(text) if not t.isdigit())


# --- numbers and marks in cells -------------------------------------------------------------------------

_PERCENT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?%")
_FRACTION = re.compile(r"(?<![\w./])(\d+(?:\.\d+)?)\s?/\s?(\d+)(?![\w/])")
_WEIGHTED_NAME = re.compile(r"^(.*?)\s*\(\s*(\d+(?:\.\d+)?)\s*%\s*\)\s*$")

STATUS_MARKS: dict[str, str] = {
    "✅": "done", "✔": "done", "☑": "done", "🟢": "done", ":white_check_mark:": "done",
    ":heavy_check_mark:": "done", "[x]": "done", "[X]": "done",
    "🟡": "in_progress", "🟠": "in_progress", "🔄": "in_progress", "⏳": "in_progress",
    "🔴": "todo", "⬜": "todo", "☐": "todo", "❌": "todo", "[ ]": "todo", ":white_large_square:": "todo",
}
_STATUS_MARK = re.compile("|".join(re.escape(k) for k in sorted(STATUS_MARKS, key=len, reverse=True)))


def percent(text: str) -> float | None:
    """The first percentage in the text as a fraction 0..1 (`85%` → 0.85)."""
    m = _PERCENT.search(text)
    return float(m.group(1)) / 100 if m else None


def fraction(text: str) -> tuple[float, float] | None:
    """The first `n/m` in the text (`7/10`), or None; `m` is never 0."""
    m = _FRACTION.search(text)
    if m is None or float(m.group(2)) == 0:
        return None
    return float(m.group(1)), float(m.group(2))


def status_mark(text: str) -> str | None:
    """The status a cell shows with a mark (✅ done, 🟡 in progress, ⬜ todo …), or None."""
    m = _STATUS_MARK.search(text)
    return STATUS_MARKS[m.group(0)] if m else None


def weighted_name(text: str) -> tuple[str, float] | None:
    """`A. ML Fundamentals (20%)` → (`A. ML Fundamentals`, 20.0); None for text without a weight."""
    m = _WEIGHTED_NAME.match(strip_emphasis(text))
    if m is None or not m.group(1):
        return None
    return m.group(1), float(m.group(2))


_PLACEHOLDER = re.compile(r"^(?:[-—–_.…?]*|\[[^\]]*\]|tbd|n/?a|todo)$", re.IGNORECASE)


def is_placeholder(text: str) -> bool:
    """Cell text that holds no value: empty, a dash (`—`), or a template slot such as `[Date]`."""
    return bool(_PLACEHOLDER.match(text.strip()))


# --- fields and scores ----------------------------------------------------------------------------------

_BOLD_FIELD = re.compile(r"^\*\*([^*]+?)(?::\*\*|\*\*:)\s*(.*)$")
_DATAVIEW_LINE = re.compile(r"^([^\[\](){}:`]+?)::\s*(.*)$")
_BOLD_LABEL = re.compile(r"^\*\*([^*]+?)\*\*:?$")


def line_field(line: str) -> tuple[str, str] | None:
    """`**Key**: value`, `**Key:** value` or `Key:: value` on one line → (key, value)."""
    m = _BOLD_FIELD.match(line)
    if m is None:
        m = _DATAVIEW_LINE.match(line)
        if m is None:
            return None
        key = strip_emphasis(m.group(1))
        return (key, m.group(2).strip()) if key else None
    return m.group(1).strip(), m.group(2).strip()


def bold_led(text: str) -> bool:
    """A line that starts in bold (`**Day 3** ✅ ...`)."""
    return text.startswith("**") and text.find("**", 2) > 2


def bold_label(text: str) -> str | None:
    """`**Fundamentals**` alone on its line (a group label), else None."""
    m = _BOLD_LABEL.match(text.strip())
    return m.group(1).strip() if m else None


_SCORE = re.compile(
    r"\bscore\b[^\d\n]{0,24}?(\d+(?:\.\d+)?)\s*(%|/\s*(\d+(?:\.\d+)?))", re.IGNORECASE
)


def score(line: str) -> float | None:
    """A score written on the line (`Score: **86.5% (B+/A-)**`, `score 78/100`) as 0..1, else None."""
    m = _SCORE.search(line)
    if m is None:
        return None
    value = float(m.group(1))
    if m.group(2) == "%":
        return value / 100
    total = float(m.group(3))
    return value / total if total else None


_TOPIC_COLON = re.compile(r"^(?P<topic>[^:]{2,60}?)\s*:\s*(?P<pct>\d{1,3}(?:\.\d+)?)\s?%")
_TOPIC_PAREN = re.compile(r"^(?P<topic>[^()]{2,60}?)\s*\(\s*(?P<pct>\d{1,3}(?:\.\d+)?)\s?%\s*\)")


def topic_score(line: str) -> tuple[str, float] | None:
    """A per-topic score on a list line: `Optimizers: 80% 🟡`, `Adam optimizer (50%)` → (topic, 0.8)."""
    text = strip_emphasis(line)
    if score(text) is not None:
        return None
    m = _TOPIC_COLON.match(text) or _TOPIC_PAREN.match(text)
    if m is None:
        return None
    value = float(m.group("pct")) / 100
    return (m.group("topic").strip(" -–—"), value) if value <= 1 else None


# --- text -----------------------------------------------------------------------------------------------

_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)")


def strip_emphasis(text: str) -> str:
    """Text without Markdown emphasis marks, for comparing names."""
    return _EMPHASIS.sub("", text).strip()


_COOKIE = re.compile(r"(?<!\s)\s*\[(?:\d*/\d*|\d*%)\]\s*$")
_NAME_NOISE = re.compile(r"[^\w\s&+./-]+")


def strip_cookie(text: str) -> str:
    """Heading or item text without a trailing Org-style cookie (`[3/8]`, `[37%]`)."""
    return _COOKIE.sub("", text)


@functools.lru_cache(maxsize=4096)  # the same headings recur in note after note
def section_key(text: str) -> str:
    """A heading or label reduced for matching against section names: no emphasis, emoji, cookie, weight."""
    text = strip_cookie(strip_emphasis(text))
    weighted = _WEIGHTED_NAME.match(text)
    if weighted and weighted.group(1):
        text = weighted.group(1)
    return " ".join(_NAME_NOISE.sub(" ", text).split()).casefold()
