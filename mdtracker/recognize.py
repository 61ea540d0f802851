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


_VALUE = r"(\d{1,4}(?:\.\d+)?)\s*(%|/\s*(\d+(?:\.\d+)?))"
_SCORE = re.compile(r"\bscore\b(?!s)([^\d\n]{0,24}?)" + _VALUE, re.IGNORECASE)
_CHECK_AFTER = re.compile(r"knowledge\s+check(?:\s+results?)?\**\s*(?:\(\s*\d+(?:\s*-\s*\d+)?\s*min\s*\))?"
                          r"[\s*:\-–(]*" + _VALUE, re.IGNORECASE)
_CHECK_BEFORE = re.compile(_VALUE + r"\**\s+knowledge\s+check\b", re.IGNORECASE)
_NOT_A_RESULT = re.compile(r"\b(?:at\s+least|minimum|min\.|target|goal|threshold|need(?:ed|s)?)\b|[≥≤<>]",
                           re.IGNORECASE)
_AVERAGE = re.compile(r"\b(?:score|check)\s+average\b", re.IGNORECASE)
_PART = re.compile(r"\s*\**\s*(?:on|of|for|across)\b", re.IGNORECASE)  # `98.6% on new content`: a part of a check
_TRANSITION = re.compile(r"\**\s*(?:→|->)\s*\**\s*" + _VALUE)
_RESULT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*=\s*\**\s*(\d{1,3}(?:\.\d+)?)\s?%")


def value_at(m: re.Match[str], text: str, first: int = 1) -> float | None:
    """The value a match of `_VALUE` (from group `first`) reads as 0..1: a percentage, or a fraction; a
    transition after it (`0% → **86%**`) gives the value after the arrow."""
    after = _TRANSITION.match(text, m.end())
    if after is not None:
        return value_at(after, text)
    number, kind, total = m.group(first), m.group(first + 1), m.group(first + 2)
    if kind == "%":
        value = float(number) / 100
    else:
        value = float(number) / float(total) if float(total) else -1.0
    return value if 0 <= value <= 1 else None


def score(line: str) -> float | None:
    """The result of a whole check written on the line, as 0..1 (see `score_rule`)."""
    found = score_rule(line)
    return found[0] if found is not None else None


def score_rule(line: str) -> tuple[float, str] | None:
    """The result of a whole check written on the line, as 0..1, and the rule that read it
    (docs/recognizers.md, "scores"): the word
    score then a value (`Score: **86.5% (B+/A-)**`, `Mock interview score: 78/100`), or a knowledge check
    with its value (`Knowledge check (30 min): 95.1%`, `96% knowledge check`); not a requirement (`a score
    of at least 90/100`), an average of checks, a part of one (`98.6% on new content`), a formula."""
    if _AVERAGE.search(line):
        return None
    m = _SCORE.search(line)
    if m is not None and not _NOT_A_RESULT.search(m.group(1)):
        value = value_at(m, line, 2)
        return (value, "the word score, then a value") if value is not None else None
    for pattern in (_CHECK_AFTER, _CHECK_BEFORE):
        found = pattern.search(line)
        if found is not None and not _PART.match(line, found.end()):
            value = value_at(found, line)
            return (value, "a knowledge check with its value") if value is not None else None
    return None


def result_of(line: str) -> float | None:
    """A knowledge check's result written `10.5/13 = **80.8%**`, as 0..1."""
    m = _RESULT_OF.search(line)
    return float(m.group(3)) / 100 if m is not None and float(m.group(3)) <= 100 else None


# A topic's value: a percentage (`80%`, `95%+`) or a fraction (`9.5/10`), maybe a transition (`50%→100%`).
_TOPIC_VALUE = r"(\d{1,4}(?:\.\d+)?)(\s*-\s*\d{1,4}(?:\.\d+)?)?\s?(%\+?|/\s*(\d+(?:\.\d+)?))"
_TOPIC_TRANSITION = re.compile(r"\**\s*(?:→|->)\s*\**\s*" + _TOPIC_VALUE)
_LEAD = re.compile(r"^[\W_]*")  # marks and emoji before the text (`✅ `, `⭐ `, `📊 `)
_COLON = re.compile(r"^(?:(?P<q>[^:()]{1,30}):\s+)?(?P<topic>[^:]{2,70}?)\s*:\s*" + _TOPIC_VALUE)
_PAREN = re.compile(r"^(?:(?P<q>[^:()]{1,30}):\s+)?(?P<topic>[^:()]{2,70}?)\s*\(\s*" + _TOPIC_VALUE)
_BOLD_WEIGHT = re.compile(r"\*\*[^*]*\(\s*\d{1,3}(?:\.\d+)?\s*%\s*\)\s*\*\*")  # `**Deep Learning (25%)**`
_IN_PARENS = re.compile(r"(?P<topic>[^,:()]{2,60}?)\s*\(\s*" + _TOPIC_VALUE + r"\s*\)")
_GROUP = re.compile(r"^(?P<q>[^:()]{2,30}?)\s*\(\s*" + _TOPIC_VALUE + r"\s*\)\s*:\s*(?:\d+\s+topics?\s*[-–—:]\s*)?(?P<rest>.+)$")
# What a value may be followed by, when it is a topic's result: nothing, a mark, a grade, a parenthesis,
# ` - a comment`, a transition; a word instead makes it a share (`55% strong`, `83% interview ready`).
_TAIL = re.compile(r"\s*(?:$|[^\w\s]|[A-F][+-]?(?:/[A-F][+-]?)?(?:\W|$)|-\s|–|—|"
                   r"(?:in|after|from|by|with|since|within|at)\b)")
# Topics that are not topics: parts of a check, totals, readiness, rates and estimates (docs/recognizers.md).
_NOT_A_TOPIC = re.compile(
    r"\b(?:overall|total|readiness|ready|progress|average|accuracy|rate|estimated?|baseline|target|results?|review|"
    r"retention|content|self[- ]assess\w*|distribution|completed|score|scores|check|new|achieved|know|"
    r"topics|items|problems|questions)\b"
    r"|^(?:q\d|day\s*\d|week\s*\d|area\s*\d|phase\s*\d)", re.IGNORECASE)
_TRAILING_VERB = re.compile(r"\s+(?:mastered|understanding|validated|resolved|closed|improved)$", re.IGNORECASE)


def clean_topic(topic: str) -> str:
    """A topic's name without the marks before it and the verb after it (`✅ ZeRO understanding` → `ZeRO`)."""
    return _TRAILING_VERB.sub("", _LEAD.sub("", topic).strip(" -–—*_")).strip()


def _topic_value(text: str, m: re.Match[str], first: int) -> float | None:
    """The value of a topic's match, or None when it is a share, or its transition leads to no number."""
    end = m.end()
    after = _TOPIC_TRANSITION.match(text, end)
    if after is not None:
        return _topic_value(text, after, 1)
    rest = text[end:]
    if re.match(r"\s*\)?\s*\W*\s*(?:→|->)\s*(?!\**\s*\d)", rest):
        return None  # `(6.5/10) ❌ → GAP CLOSED`: no value after the arrow
    if not _TAIL.match(rest):
        return None
    number, span, kind, total = m.group(first), m.group(first + 1), m.group(first + 2), m.group(first + 3)
    if span:
        return None  # a range (`0-30%`) is no result
    value = float(number) / 100 if kind.startswith("%") else (float(number) / float(total) if float(total) else -1)
    return value if 0 <= value <= 1 else None


def topic_scores(line: str) -> tuple[list[tuple[str, float]], bool]:
    """The topics a list line gives a result for (docs/recognizers.md, "topic_scores"), and whether it names
    several (an enumeration, read only in a check's breakdown): `Optimizers: 80% 🟡`, `Weak item: FSDP stream
    sync (50%) - 3rd review`, `LLM Systems: 30% → **89.4%**`; `Strengths: Requirements (9/10), architecture
    (8/10)`; `Perfect scores (100%): 7 topics - A, B, C`. Not a whole check's score, a weight, a share."""
    if _BOLD_WEIGHT.search(line):
        return [], False  # a weight, not a result
    text = _LEAD.sub("", strip_emphasis(line)).strip()
    if score(text) is not None or not any(c.isdigit() for c in text):
        return [], False
    group = _GROUP.match(text)
    if group is not None and _topic_value(text, group, 2) is not None and "," in group.group("rest"):
        value = _topic_value(text, group, 2)
        names = [clean_topic(n) for n in split_names(group.group("rest"))]
        return [(n, value) for n in names if n and not any(c.isdigit() for c in n[:1])] if value is not None else [], True
    many = [(m, _topic_value(text, m, 2)) for m in _IN_PARENS.finditer(text)]
    if len(many) > 1:
        return [(clean_topic(_after_colon(m.group("topic"))), v) for m, v in many if v is not None], True
    one = _COLON.match(text) or _PAREN.match(text)
    if one is None:
        return [], False
    value = _topic_value(text, one, 3)
    topic = clean_topic(one.group("topic"))
    if value is None or not topic or _NOT_A_TOPIC.search(topic) or (one.group("q") and _NOT_A_TOPIC.search(one.group("q"))):
        return [], False
    return [(topic, value)], False


def _after_colon(text: str) -> str:
    return text.rsplit(":", 1)[-1]


def split_names(names: str) -> list[str]:
    """Comma-separated names, commas inside parentheses kept (`PyTorch (no_grad, BCELoss), FSDP`)."""
    out: list[str] = []
    current: list[str] = []
    depth = 0
    for char in names:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            out.append("".join(current))
            current = []
        else:
            current.append(char)
    out.append("".join(current))
    return [n.strip() for n in out if n.strip()]


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
