"""Code blocks and fences: nothing in them is a task, a marker or a fact. A fence left open runs to the end
of the note and hides every marker after it: that is a marker problem, never a silent skip."""

from __future__ import annotations

import re

from markdown_it.token import Token

from mdtracker import regions
from mdtracker.parse.state import State

_NEWLINE = re.compile(r"\r\n|\r|\n")


def code(state: State, tok: Token) -> None:
    """A fence or an indented code block that holds marker-like text."""
    if tok.type == "fence" and tok.map and not _fence_closed(state, tok):
        hidden_marker(state, tok.map[0] + 1, tok.content, "a code fence opened here is never closed")


def _fence_closed(state: State, tok: Token) -> bool:
    first, end = tok.map if tok.map else (0, 0)
    if end - first < 2:
        return False
    source = _NEWLINE.split(state.text)  # rare: a fence that holds a marker
    closing = source[end - 1].strip() if end - 1 < len(source) else ""
    return closing.startswith(tok.markup) and set(closing) == {tok.markup[0]}


def hidden_marker(state: State, line: int, content: str, what: str) -> None:
    for n, text in enumerate(content.split("\n")):
        if regions.MARKER.search(text):
            hidden = line + n if content.lstrip().startswith("<!--") else line + n + 1
            state.marker_problem_at(line, f"{what}, so it hides the mdtracker marker at line {hidden}")
            return
