"""Lists and what a paragraph holds: tasks (`[c] text` as an item's first block) with their dates, tags and
fields; the cookie on a parent item's first line; bold labels (`**Fundamentals**`) that group the list
after them; `**Key**: value` and `key:: value` fields; per-topic scores on list lines."""

from __future__ import annotations

import datetime as dt
import re

from markdown_it.token import Token

from mdtracker import recognize, regions
from mdtracker.model import Field, Label, Listed, Task, TopicScore
from mdtracker.parse import facts, markers
from mdtracker.parse.state import Item, State
from mdtracker.regions import Cookie

_SIGNIFIER = re.compile("[" + "".join(recognize.SIGNIFIERS) + "]")
_DATE_FIELDS = Task._fields[Task._fields.index("group") + 1:Task._fields.index("tags")]  # due … cancelled
_NO_DATES: tuple[dt.date | None, ...] = (None,) * len(_DATE_FIELDS)


def item_open(state: State, tok: Token) -> None:
    state.items.append(Item(line=tok.map[0] + 1 if tok.map else 0))


def item_close(state: State) -> None:
    """An item ends: a cookie on its first line counts the tasks nested in it."""
    item = state.items.pop()
    if item.cookie and len(state.tasks) > item.cookie[2]:
        line, written, first = item.cookie
        state.cookies.append(Cookie(line, written.endswith("%]"), first, len(state.tasks), written))


def list_open(state: State) -> None:
    state.lists += 1


def list_close(state: State) -> None:
    """A list ends: the bold label that grouped it groups nothing more."""
    state.lists -= 1
    if state.lists == state.group_lists:
        state.group, state.label, state.group_lists = None, None, -1


def paragraph(state: State, tok: Token, inline: Token, after: Token | None, first_block: bool) -> None:
    """A paragraph (`paragraph_open`, its `inline`; `after`: the token after its close). An item's first
    block is a paragraph when nothing stands between the item and it (`first_block`)."""
    start = tok.map[0] + 1 if tok.map else 0
    content = inline.content
    lines = content.split("\n") if "\n" in content else [content]
    is_task = first_block and lines[0][:1] == "[" and task(state, start, lines[0])
    if first_block and lines[0].endswith("]"):
        written = regions.cookie_at_end(lines[0])
        if written is not None:
            state.items[-1].cookie = (start, written, len(state.tasks))
    if regions.MARKER_HINT in content:
        markers.inline_markers(state, start, content)
        lines = [regions.without_generated(line) for line in lines]
        content = "\n".join(lines)
    if len(lines) == 1 and not state.items and recognize.bold_led(lines[0]):
        state.labels.append(Label(start, lines[0], state.heading))
        if after is not None and after.type in ("bullet_list_open", "ordered_list_open"):
            state.group = recognize.bold_label(lines[0])
            state.label, state.group_lists = len(state.labels) - 1, state.lists
    if state.items and ("gap" in content or "Gap" in content or "GAP" in content or state.under_gaps()):
        _listed(state, start, lines[0])
    for n, line in enumerate(lines):
        # cheap substring tests first: most lines hold none of these conventions
        if (n or not is_task) and ("**" in line or "::" in line) and (kv := recognize.line_field(line)):
            state.fields.append(Field(start + n, *kv, heading=state.heading))
        if ("%" in line or "/" in line) and (n or not is_task) and state.items:
            found, many = recognize.topic_scores(line)
            for topic, value in found:
                state.topic_scores.append(TopicScore(
                    start + n, topic, value, state.heading, state.label, state.parent_line(), many,
                    rule="one of several topics of a check's breakdown" if many else "a topic and its value"))
        if facts.may_score(line):
            facts.score(state, start + n, line)


def task(state: State, line: int, text: str) -> bool:
    """The task an item's first line starts, if it starts one (`[x] text`)."""
    is_task = recognize.task_symbol(text)
    if is_task is None:
        return False
    symbol, rest = is_task
    # a line with neither `::` nor a signifier (never ASCII) has no date: most lines fail the first tests
    hinted = "::" in rest or (not rest.isascii() and _SIGNIFIER.search(rest) is not None)
    dates = task_dates(state, line, rest) if hinted else _NO_DATES
    items, parent = state.items, None
    for depth in range(len(items) - 2, -1, -1):
        if items[depth].task is not None:
            parent = items[depth].task
            break
    items[-1].task = len(state.tasks)
    state.tasks.append(Task._make(  # positional, in the fields' order: a task line is the commonest thing
        (line, symbol, (recognize.strip_cookie(rest) if rest.endswith("]") else rest).strip(), len(items) - 1,
         state.heading, state.group) + dates
        + (recognize.tags(rest) if "#" in rest else (), parent, state.label,
           recognize.inline_fields(rest) if "::" in rest else ())))
    return True


def task_dates(state: State, line: int, rest: str) -> tuple[dt.date | None, ...]:
    """The task's dates, in the order of Task's date fields (the first of each field counts)."""
    found = recognize.date_fields(rest)
    tail = recognize.fields_tail_start(rest) if found and not recognize.only_fields_after(rest, found) else 0
    dates: dict[str, dt.date] = {}
    for f in found:
        day = f.date
        if day is None:
            state.problem(line, "bad-date", f"{f.field} date {f.text!r} is not a real date")
            continue
        dates.setdefault(f.field, day)
        if f.start < tail:
            state.problem(
                line, "field-not-at-end",
                f"{f.field} date {f.text} is followed by text; Obsidian Tasks reads dates only at the end of the line",
            )
    return tuple(map(dates.get, _DATE_FIELDS)) if dates else _NO_DATES


_LED = re.compile(r"^[\W_]*(?:\[.\]\s*)?\**(?P<label>[^:*]{0,40}\bgaps?\b(?!\s+analysis)[^:*]{0,20}?)\**\s*:\s*\**\s*(?P<rest>.+)$",
                  re.IGNORECASE)


def _listed(state: State, line: int, text: str) -> None:
    """A list item that lists knowledge gaps: led by a gaps label (`Critical gaps: A (30%), B`), or in a
    list under a heading or label that names gaps."""
    led = _LED.match(text)
    if led is not None:
        label = led.group("label").casefold()
        if "resolved" not in label and "closed" not in label:
            state.listed.append(Listed(line, led.group("rest").strip(), state.heading, state.label,
                                       "remaining" in label, led=True))
        return
    if state.under_gaps():
        label_text = state.labels[state.label].text.casefold() if state.label is not None else ""
        state.listed.append(Listed(line, text.strip(), state.heading, state.label, "remaining" in label_text))
