"""The state the parser's rules pass along as they walk a note's block tokens: what has been read so far
(headings, tasks, tables, labels, fields, scores, markers, cookies, problems) and where the walk stands
(the open list items and lists, the bold label whose list is open, the last heading).

As in markdown-it-py, each rule is a function in a module of its own (`headings`, `lists`, `tables`,
`markers`, `code`, `front_matter`) that reads tokens and adds to the state; `walk` calls them in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it.token import Token

from mdtracker.files import split_lines
from mdtracker.model import Field, Heading, Label, Listed, Problem, Score, Table, Task, TopicScore
from mdtracker.regions import Cookie, Marker


_GAPS = re.compile(r"\bgaps\b(?!\s+analysis)")  # a section of gaps, not a gap analysis


@dataclass
class Item:
    """An open list item while walking: the task it is, and a cookie on its first line."""

    task: int | None = None
    cookie: tuple[int, str, int] | None = None  # (line, cookie as written, first task) of one on its first line
    line: int = 0  # its first line


@dataclass
class State:
    path: str
    tokens: list[Token]
    text: str
    headings: list[Heading] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    topic_scores: list[TopicScore] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    front_matter: dict[str, Any] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)
    lists: int = 0
    group: str | None = None
    group_lists: int = -1  # list nesting at which the current bold label's list closes
    labels: list[Label] = field(default_factory=list)
    label: int | None = None  # the bold-led line whose list is open
    markers: list[Marker] = field(default_factory=list)
    marker_problem: bool = False
    cookies: list[Cookie] = field(default_factory=list)
    open_cookies: list[tuple[int, str, int, int]] = field(default_factory=list)  # heading cookies: +level
    heading: int | None = None  # index of the last heading read: the one every later line stands under
    breaks: list[int] = field(default_factory=list)  # thematic breaks (`---`)
    listed: list[Listed] = field(default_factory=list)  # list items that list knowledge gaps
    code: list[tuple[int, int]] = field(default_factory=list)  # (first, last) lines of code blocks
    repairs: list[int] = field(default_factory=list)  # offsets of the mojibake to repair (none in code)
    _gap_headings: dict[int, bool] = field(default_factory=dict)
    _lines: list[str] | None = None

    def source_line(self, line: int) -> str:
        """The note's line `line` (from 1) as written, without its line ending (split as markdown-it counts
        lines; made only for the rare note that needs it)."""
        if self._lines is None:
            self._lines = split_lines(self.text)
        if not 0 < line <= len(self._lines):
            return ""
        return self._lines[line - 1].rstrip("\r\n")

    def under_gaps(self) -> bool:
        """Whether the open list stands under a label or heading that names gaps (not resolved ones)."""
        if self.label is not None and _names_gaps(self.labels[self.label].text):
            return True
        index = self.heading
        if index is None:
            return False
        if index not in self._gap_headings:
            chain: int | None = index
            named = False
            while chain is not None:
                text = self.headings[chain].text
                if "resolved" in text.casefold() or "closed" in text.casefold():
                    break
                if _names_gaps(text):
                    named = True
                    break
                chain = self.headings[chain].parent
            self._gap_headings[index] = named
        return self._gap_headings[index]

    def parent_line(self) -> int | None:
        """The first line of the list item the open item is nested in."""
        return self.items[-2].line if len(self.items) > 1 else None

    def problem(self, line: int, code: str, message: str) -> None:
        self.problems.append(Problem(self.path, line, code, message))

    def marker_problem_at(self, line: int, message: str) -> None:
        """A marker problem: the note's regions cannot be trusted, so it is never rewritten."""
        self.marker_problem = True
        self.problem(line, "marker", message)


def _names_gaps(text: str) -> bool:
    folded = text.casefold()
    return ("gaps" in folded and "resolved" not in folded and "closed" not in folded and "analysis" not in folded
            and _GAPS.search(folded) is not None)
