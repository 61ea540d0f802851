"""Headings: the tree of sections every later line stands under, and the cookies (`[/]`, `[%]`) that count
the tasks below a heading until the next heading of its level or above."""

from __future__ import annotations

from markdown_it.token import Token

from mdtracker import recognize, regions
from mdtracker.model import Heading
from mdtracker.parse import facts, markers
from mdtracker.parse.state import State
from mdtracker.regions import Cookie


def heading(state: State, tok: Token, inline: Token) -> None:
    """A heading (`heading_open`, its `inline`): its level, text (without a trailing cookie), parent."""
    level = int(tok.tag[1])
    parent = state.heading
    while parent is not None and state.headings[parent].level >= level:
        parent = state.headings[parent].parent
    line = tok.map[0] + 1 if tok.map else 0
    close_cookies(state, level)
    content = inline.content
    written = regions.cookie_at_end(content) if "]" in content else None
    if written is not None:
        state.open_cookies.append((line, written, len(state.tasks), level))
    text = recognize.strip_cookie(content) if written is not None else content
    state.headings.append(Heading(line, level, text, parent))
    state.heading = len(state.headings) - 1
    facts.score(state, line, content)
    markers.inline_markers(state, line, content)
    state.group, state.label, state.group_lists = None, None, -1


def close_cookies(state: State, level: int) -> None:
    """A heading of `level` (0: the end of the note) ends the scope of the open heading cookies at that level
    or deeper."""
    while state.open_cookies and state.open_cookies[-1][3] >= level:
        line, written, first, _ = state.open_cookies.pop()
        state.cookies.append(Cookie(line, written.endswith("%]"), first, len(state.tasks), written))
