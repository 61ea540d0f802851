"""HTML and markers: the region markers, read from HTML blocks and from inline HTML exactly where the parser
finds them (their line and column), paired into regions; a comment in our namespace that is no marker, or a
marker hidden in a comment left open, is a marker problem (the note is then never rewritten). What templates
wrote inside block regions is dropped from the model: a summary never counts itself."""

from __future__ import annotations

import bisect
import dataclasses
from typing import Any, Callable

from markdown_it import MarkdownIt
from markdown_it.rules_inline import html_inline as _html_inline_rule
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

from mdtracker import regions
from mdtracker.model import Heading, Label
from mdtracker.parse.state import State
from mdtracker.regions import Cookie, MarkerError


def _html_inline(state: StateInline, silent: bool) -> bool:
    """markdown-it's inline HTML rule, which also notes where in the text each piece of HTML starts."""
    start = state.pos
    if not _html_inline_rule(state, silent):
        return False
    if not silent:
        state.tokens[-1].meta = {"start": start}
    return True


_INLINE = MarkdownIt("commonmark")  # full inline parsing, only for the rare line that holds a marker
_INLINE.inline.ruler.at("html_inline", _html_inline)


def html_block(state: State, tok: Token) -> None:
    """Markers in raw HTML, read comment by comment as a browser would: a marker inside a comment that was
    opened earlier and never closed is hidden, and that is an error, not a silent skip."""
    start = tok.map[0] + 1 if tok.map else 0
    content, pos = tok.content, 0
    lines = content.split("\n")
    while (opener := content.find("<!--", pos)) >= 0:
        closer = content.find("-->", opener + 4)
        comment = content[opener:] if closer < 0 else content[opener:closer + 3]
        line = start + content.count("\n", 0, opener)
        if regions.MARKER.fullmatch(comment):
            segment = lines[line - start]
            offset = opener - (content.rfind("\n", 0, opener) + 1)
            _block_marker(state, tok, comment, line, segment, offset)
        elif regions.ours(comment):
            state.marker_problem_at(line, regions.not_a_marker(comment))
        elif (hidden := regions.MARKER.search(content, opener + 4)) is not None and (
                closer < 0 or hidden.end() <= closer + 3):
            state.marker_problem_at(line, "an HTML comment opened here is not closed before the mdtracker "
                                    f"marker at line {start + content.count(chr(10), 0, hidden.start())}, "
                                    "so it hides that marker")
            return
        if closer < 0:
            return
        pos = closer + 3


def _block_marker(state: State, tok: Token, comment: str, line: int, segment: str, offset: int) -> None:
    block = segment.strip() == comment
    column = 0 if block else locate(state, line, segment, offset)
    if column is None:
        state.marker_problem_at(line, "this marker could not be found in its line")
        return
    try:
        marker = regions.parse_marker(comment, line, block, column)
    except MarkerError as err:
        state.marker_problem_at(err.line, err.message)
        return
    if block and tok.level > 0:
        state.marker_problem_at(line, f"the marker of region {marker.name} is inside a list or block quote; "
                                "block markers must stand at the top level")
    if not block and marker.kind == "begin" and segment[:offset].strip() == "":
        state.problem(line, "region-at-line-start", (
            f"inline region {marker.name} starts its line, so Markdown reads the line as an HTML block: GitHub "
            "and Obsidian show its text as a paragraph of its own; join the line to the end of the line before "
            "it, or put text before the region on its line"))
    state.markers.append(marker)


def inline_markers(state: State, line: int, content: str, at: int | None = None) -> None:
    """The markers in a block's inline text (`content`, starting on `line`; for a table cell, `at` is where
    the cell starts in its line), each with the column where the inline parser found it."""
    if regions.MARKER_HINT not in content:
        return
    for child in _INLINE.parseInline(content)[0].children or []:
        if child.type != "html_inline" or regions.MARKER_HINT not in child.content:
            continue
        start = child.meta.get("start", -1) if child.meta else -1
        where = line + content.count("\n", 0, start)
        if not regions.MARKER.fullmatch(child.content.strip()):
            if regions.ours(child.content):
                state.marker_problem_at(where, regions.not_a_marker(child.content))
            continue
        first = content.rfind("\n", 0, start) + 1
        end = content.find("\n", start)
        segment = content[first:end if end >= 0 else len(content)]
        column = locate(state, where, segment, start - first, at or 0)
        if start < 0 or column is None:
            state.marker_problem_at(where, "this marker could not be found in its line")
            continue
        try:
            state.markers.append(regions.parse_marker(child.content, where, block=False, column=column))
        except MarkerError as err:
            state.marker_problem_at(err.line, err.message)


def locate(state: State, line: int, segment: str, offset: int, start: int = 0) -> int | None:
    """The column in the note's line `line` of the character at `offset` in `segment`, a piece of that line
    as markdown-it gives it (without the indentation and the quote and list markers it stands behind). The
    piece holds a marker, and what stands before it in the line (indentation, `>`, `-`, `1.`, `#`, or the
    cells before) cannot hold `<!--`: so its first place in the line, from `start`, is the one."""
    key = segment.lstrip()
    shift = len(segment) - len(key)
    if offset < shift:
        return None
    at = state.source_line(line).find(key, start)
    return None if at < 0 else at + offset - shift


def find_regions(state: State) -> list[regions.Region]:
    """The regions the markers make, paired; none when a marker is broken (the note is not rewritten)."""
    if state.marker_problem:
        return []
    try:
        return regions.pair(state.markers)
    except MarkerError as err:
        state.marker_problem_at(err.line, err.message)
        return []


def drop_generated(state: State, found: list[regions.Region]) -> None:
    """What templates wrote inside block regions is output, not the user's data: the model is what it would
    be without it (so a summary never counts itself, and sync is idempotent). Its tables are kept, marked
    generated: a Quick Stats table inside its region still declares the domains' weights and totals."""
    spans = [(r.line, r.end_line) for r in found if not r.inline]
    items: list[Any] = [*state.headings, *state.tasks, *state.tables, *state.labels, *state.fields, *state.scores,
                        *state.topic_scores]
    if not spans or not any(_inside(spans, x.line) for x in items):
        return

    def inside(line: int) -> bool:
        return _inside(spans, line)

    heading_at = _drop_headings(state, inside)
    label_at: dict[int, int] = {}
    labels: list[Label] = []
    for n, label in enumerate(state.labels):
        if not inside(label.line):
            label_at[n] = len(labels)
            labels.append(_moved(label, heading=heading_at(label.heading)))
    state.labels = labels
    state.fields = [_moved(f, heading=heading_at(f.heading)) for f in state.fields if not inside(f.line)]
    state.scores = [_moved(x, heading=heading_at(x.heading), label=None if x.label is None else label_at.get(x.label))
                    for x in state.scores if not inside(x.line)]
    state.topic_scores = [_moved(x, heading=heading_at(x.heading),
                                 label=None if x.label is None else label_at.get(x.label))
                          for x in state.topic_scores if not inside(x.line)]
    state.breaks = [line for line in state.breaks if not inside(line)]
    state.listed = [_moved(x, heading=heading_at(x.heading), label=None if x.label is None else label_at.get(x.label))
                    for x in state.listed if not inside(x.line)]
    state.tables = [_moved(t, generated=inside(t.line), heading=heading_at(t.heading)) for t in state.tables]
    kept = [n for n, t in enumerate(state.tasks) if not inside(t.line)]
    new_index = {old: new for new, old in enumerate(kept)}
    state.tasks = [_moved(
        t, parent=None if t.parent is None else new_index.get(t.parent), heading=heading_at(t.heading),
        label=None if t.label is None else label_at.get(t.label),
    ) for t in (state.tasks[n] for n in kept)]
    state.cookies = _recount_cookies(state, kept)

def _inside(spans: list[tuple[int, int]], line: int) -> bool:
    return any(a < line < b for a, b in spans)

def _drop_headings(state: State, inside: Callable[[int], bool]) -> Callable[[int | None], int | None]:
    """Drop the headings written inside regions, rebuilding the tree from the levels of the others; return
    the map from an old heading index to the kept heading that now stands nearest above."""
    if not any(inside(h.line) for h in state.headings):
        return lambda index: index  # no heading was generated: every index stays
    last_kept: list[int | None] = []
    kept: list[Heading] = []
    open_: list[int] = []
    for heading in state.headings:
        if not inside(heading.line):
            while open_ and kept[open_[-1]].level >= heading.level:
                open_.pop()
            kept.append(heading._replace(parent=open_[-1] if open_ else None))
            open_.append(len(kept) - 1)
        last_kept.append(len(kept) - 1 if kept else None)
    state.headings = kept
    return lambda index: None if index is None else last_kept[index]

def _recount_cookies(state: State, kept: list[int]) -> list[Cookie]:
    """Cookies over the tasks that remain: an item's keeps its tasks; a heading's runs to the next heading
    of its level or above, now that the generated headings are gone."""
    cookies = []
    heading_lines = {h.line: h for h in state.headings}
    for c in state.cookies:
        if c.line in heading_lines:
            level = heading_lines[c.line].level
            end_line = next((h.line for h in state.headings if h.line > c.line and h.level <= level), None)
            first = next((n for n, t in enumerate(state.tasks) if t.line > c.line), len(state.tasks))
            end = next((n for n, t in enumerate(state.tasks) if end_line is not None and t.line > end_line),
                       len(state.tasks))
            cookies.append(dataclasses.replace(c, first_task=first, end_task=max(first, end)))
        else:
            cookies.append(dataclasses.replace(c, first_task=bisect.bisect_left(kept, c.first_task),
                                               end_task=bisect.bisect_left(kept, c.end_task)))
    return cookies


def _moved(item: Any, **values: Any) -> Any:
    """`item` (a NamedTuple or a frozen dataclass) with `values`, copied only when one of them differs (most
    items keep their places)."""
    if all(getattr(item, name) == value for name, value in values.items()):
        return item
    return item._replace(**values) if hasattr(item, "_replace") else dataclasses.replace(item, **values)
