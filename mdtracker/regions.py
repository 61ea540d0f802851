"""Managed regions and cookies: the marker grammar, pairing markers into regions, and splicing new content
into a note's lines so that nothing outside a region changes (SPEC §3).

The parser finds where markers and cookies stand (it knows code spans, fences and quotes); this module
knows what a marker says and how to rewrite the lines that hold them.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from typing import Iterable

from mdtracker.files import line_ending, split_lines

MARKER = re.compile(r"<!--\s*mdtracker:(begin|end)\s+([A-Za-z0-9][A-Za-z0-9_-]*)((?:\s+[^>]*?)?)\s*-->")
MARKER_HINT = "mdtracker:"
_OURS = re.compile(r"<!--\s*mdtracker:")  # a comment in our namespace: a marker, or a malformed one


def ours(comment: str) -> bool:
    """Whether an HTML comment speaks to mdtracker (`<!-- mdtracker:… -->`): then it must be a marker."""
    return _OURS.match(comment) is not None


def not_a_marker(comment: str) -> str:
    """Why a comment in our namespace is not a marker."""
    m = re.match(r"<!--\s*mdtracker:(\S*)\s*(\S*)", comment)
    kind, name = (m.group(1), m.group(2)) if m else ("", "")
    if kind not in ("begin", "end"):
        return f"{comment.strip()!r} is not a marker: it must be <!-- mdtracker:begin NAME --> or <!-- mdtracker:end NAME -->"
    return (f"{name.rstrip('-')!r} is not a region name: a name is letters, digits, '-' and '_', "
            "as in templates/NAME.md.j2")


@dataclass(frozen=True)
class Marker:
    line: int
    kind: str  # begin / end
    name: str
    args: tuple[tuple[str, str], ...]
    block: bool  # alone on its line at the top level (a block marker), else inline
    text: str  # the marker exactly as written
    column: int = 0  # where it starts in its line (characters, from 0), as the parser found it


@dataclass(frozen=True)
class Region:
    name: str
    args: tuple[tuple[str, str], ...]
    line: int  # of the begin marker
    end_line: int  # of the end marker (the same line for an inline region)
    inline: bool
    begin_text: str
    end_text: str
    begin_column: int = 0  # an inline region's markers: where each starts in the line, as the parser found them
    end_column: int = 0

    @property
    def arguments(self) -> dict[str, str]:
        return dict(self.args)


@dataclass(frozen=True)
class Cookie:
    """`[/]`, `[%]`, `[3/8]` or `[37%]` at the end of a heading or a parent list item's first line."""

    line: int
    percent: bool
    first_task: int  # the tasks it counts are Document.tasks[first_task:end_task]
    end_task: int
    written: str = ""  # the cookie as the note has it now (`[3/8]`)


_INLINE_REGION = re.compile(r"(<!-- mdtracker:begin ([\w-]+)\b[^>]*?-->).*?(<!-- mdtracker:end \2 -->)")


def without_generated(line: str) -> str:
    """The line with the text of its inline regions left out (the markers kept): what mdtracker wrote there
    is its own output, never a fact of the note (a generated date does not date the list below it)."""
    return _INLINE_REGION.sub(r"\1\3", line) if MARKER_HINT in line else line


COOKIE = re.compile(r"\[(\d*/\d*|\d*%)\](?=[ \t]*(?:#+[ \t]*)?$)")


def cookie_at_end(text: str) -> str | None:
    """The cookie the line ends with, as written (`[3/8]`, `[%]`); None when it ends with none."""
    m = COOKIE.search(text)
    return None if m is None else m.group(0)


class MarkerError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_marker(text: str, line: int, block: bool, column: int = 0) -> Marker:
    """A marker from its comment text; MarkerError when its arguments are not `key=value`."""
    m = MARKER.fullmatch(text.strip())
    if m is None:
        raise MarkerError(line, not_a_marker(text))
    kind, name, rest = m.groups()
    args = []
    try:
        words = shlex.split(rest)
    except ValueError as err:
        raise MarkerError(line, f"cannot read the arguments of region {name}: {err}") from None
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise MarkerError(line, f"region {name}: argument {word!r} is not key=value")
        args.append((key, value))
    if kind == "end" and args:
        raise MarkerError(line, f"<!-- mdtracker:end {name} --> takes no arguments")
    return Marker(line, kind, name, tuple(args), block, m.group(0), column)


def pair(markers: Iterable[Marker]) -> list[Region]:
    """Pair begin and end markers into regions; MarkerError for every malformed arrangement."""
    regions: list[Region] = []
    open_: Marker | None = None
    for m in markers:
        if m.kind == "begin":
            if open_ is not None:
                raise MarkerError(m.line, f"region {m.name} begins inside region {open_.name} (begun at line "
                                  f"{open_.line}); regions cannot nest")
            open_ = m
            continue
        if open_ is None:
            raise MarkerError(m.line, f"<!-- mdtracker:end {m.name} --> has no matching begin")
        if m.name != open_.name:
            raise MarkerError(m.line, f"<!-- mdtracker:end {m.name} --> does not match "
                              f"<!-- mdtracker:begin {open_.name} --> at line {open_.line}")
        if open_.block != m.block or (not m.block and open_.line != m.line):
            raise MarkerError(m.line, f"region {m.name} (begun at line {open_.line}): put both markers on one "
                              "line (inline) or each alone on its own line (block)")
        regions.append(Region(open_.name, open_.args, open_.line, m.line, not m.block, open_.text, m.text,
                              open_.column, m.column))
        open_ = None
    if open_ is not None:
        raise MarkerError(open_.line, f"region {open_.name} begun here has no <!-- mdtracker:end {open_.name} -->")
    return regions


# --- output ---------------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Generated text never opens a comment (`\\<!--` shows `<!--`, in the form mdformat and prettier keep), so
    it can never begin a region, nor swallow the end marker in an HTML block; a lone `-->` closes nothing."""
    return text.replace("<!--", "\\<!--")


def block_lines(content: str) -> list[str]:
    """The lines between block markers, without line endings: one blank line, the content, one blank line
    (mdformat's and prettier's fixed point)."""
    body = [line.rstrip() for line in escape(content).strip("\n").split("\n")]
    return [""] if body == [""] else ["", *body, ""]


def block_body(content: str, newline: str) -> list[str]:
    return [line + newline for line in block_lines(content)]


def block_update(old: list[str], content: str, newline: str) -> list[str] | None:
    """The new lines of a block region that has the lines `old` now (line endings kept); None when they show
    what the template writes, in a formatter's layout (tables aligned, `*` for `_`, …): then they stay.
    Rewritten tables take the layout the region's table has."""
    new = block_lines(content)
    plain = [line.rstrip("\r\n") for line in old]
    if plain == new:
        return None
    from mdtracker import layout  # (deferred: markdown-it, only for a region whose text differs)

    new = layout.follow(plain, new)
    padded = plain[:1] == new[:1] and plain[-1:] == new[-1:]  # (the blank lines inside the markers are ours)
    if plain == new or padded and layout.same("\n".join(plain), "\n".join(new)):
        return None
    return [line + newline for line in new]


def inline_body(content: str) -> str:
    return " ".join(escape(content).split())


def cookie_text(done: int, counted: int, percent: bool) -> str:
    """Org mode's statistics cookie: `[done/all]`, or `[p%]` rounded down (1% when some but under 1%)."""
    if not percent:
        return f"[{done}/{counted}]"
    if not counted:
        return "[0%]"
    value = math.floor(100 * done / counted)
    return f"[{1 if value == 0 and done else value}%]"


@dataclass(frozen=True)
class Change:
    """One region or cookie whose text changes: `check` lists them."""

    line: int
    what: str  # `region NAME` or `cookie`


class SpliceError(Exception):
    """The note is not where the parser saw its markers: nothing is spliced (the note is left untouched)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"the markers on line {line} are not where they were read")
        self.line = line


def splice(text: str, regions: list[tuple[Region, str]], cookies: list[tuple[Cookie, str]]) -> tuple[str, list[Change]]:
    """The text with every region's content and every cookie replaced; and what changed.

    Lines outside regions keep every byte, their own line endings included; new lines take the line ending of
    the region's begin marker line. An inline region is replaced exactly between the markers the parser
    found, at the columns it found them (never by looking for the marker's text, which the line may quote
    elsewhere, in a code span); SpliceError if they are not there.
    """
    lines = split_lines(text)
    changes: list[Change] = []
    inline_by_line: dict[int, list[tuple[Region, str]]] = {}
    blocks: list[tuple[Region, str]] = []
    for region, content in regions:
        if region.inline:
            inline_by_line.setdefault(region.line - 1, []).append((region, content))
        else:
            blocks.append((region, content))
    # one-line edits first: they keep every line where it is
    for index, items in inline_by_line.items():
        items.sort(key=lambda item: item[0].begin_column)
        stale = [(region, content) for region, content in items
                 if not _same_inline(_inline_content(lines[index], region), inline_body(content))]
        changes.extend(Change(index + 1, f"region {region.name}") for region, _ in stale)
        lines[index] = _splice_inline(lines[index], stale)
    for cookie, new_text in cookies:
        line = lines[cookie.line - 1]
        m = COOKIE.search(line.rstrip("\r\n"))
        if m is not None and m.group(0) != new_text:
            changes.append(Change(cookie.line, "cookie"))
            lines[cookie.line - 1] = line[:m.start()] + new_text + line[m.end():]
    for region, content in sorted(blocks, key=lambda b: b[0].line, reverse=True):
        newline = line_ending(lines[region.line - 1]) or "\n"
        new = block_update(lines[region.line:region.end_line - 1], content, newline)
        if new is not None:
            changes.append(Change(region.line, f"region {region.name}"))
            lines[region.line:region.end_line - 1] = new
    return "".join(lines), sorted(changes, key=lambda c: c.line)


def _same_inline(old: str, new: str) -> bool:
    """Whether an inline region shows its new text already (in a formatter's layout, perhaps)."""
    if old == new:
        return True
    from mdtracker import layout  # (deferred: markdown-it, only for a region whose text differs)

    return layout.same(old, new, inline=True)


def _span(line: str, region: Region) -> tuple[int, int]:
    """Where an inline region's content starts and ends in its line: right after its begin marker and right
    before its end marker, at the columns the parser found them."""
    start = region.begin_column + len(region.begin_text)
    if (line[region.begin_column:start] != region.begin_text or start > region.end_column
            or line[region.end_column:region.end_column + len(region.end_text)] != region.end_text):
        raise SpliceError(region.line)
    return start, region.end_column


def _inline_content(line: str, region: Region) -> str:
    start, end = _span(line, region)
    return line[start:end]


def _splice_inline(line: str, items: list[tuple[Region, str]]) -> str:
    out, pos = [], 0
    for region, content in items:
        start, end = _span(line, region)
        if start < pos:
            raise SpliceError(region.line)
        out.append(line[pos:start])
        out.append(inline_body(content))
        pos = end
    out.append(line[pos:])
    return "".join(out)
