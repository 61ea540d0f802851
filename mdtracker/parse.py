"""Markdown → `Document`, from markdown-it-py's block tokens and their line maps.

The parser runs with the core `inline` rule disabled: block structure (headings, lists, tables, code, quotes)
is all the model needs, and each inline token still carries its raw text, which the one-line recognizers
read. This is the step every run pays for, so it does nothing else.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from mdtracker import mojibake, recognize, regions
from mdtracker.model import Cell, Document, Field, Heading, Label, Problem, Row, Score, Table, Task, TopicScore
from mdtracker.regions import Cookie, Marker, MarkerError


def markdown_parser() -> MarkdownIt:
    """The one parser configuration mdtracker uses (CommonMark + GFM tables + front matter, block level)."""
    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin).disable("inline")


_MD = markdown_parser()
_INLINE = MarkdownIt("commonmark")  # full inline parsing, only for the rare line that holds a marker
_SIGNIFIER = re.compile("[" + "".join(recognize.SIGNIFIERS) + "]")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_YAML = frontmatter.YAMLHandler()
_DATE_FIELDS = Task._fields[Task._fields.index("group") + 1:Task._fields.index("tags")]  # due … cancelled
_NO_DATES: tuple[dt.date | None, ...] = (None,) * len(_DATE_FIELDS)


def parse(text: str, path: str, digest: str = "") -> Document:
    """Build the Document of one note from its text (already decoded, BOM removed)."""
    doc = _Walk(path, _MD.parse(text), text).run()
    return dataclasses.replace(doc, digest=digest) if digest else doc


def cookies_unread(doc: Document, lines: set[int]) -> bool:
    """True when nothing in the Document but the cookies themselves depends on what the cookies on `lines`
    say, so that rewriting those cookies leaves every other fact of the note as it was: a heading's or a
    task's text leaves its trailing cookie out, and a cookie changes no line's place or block. Not so when a
    field, a score or a topic score stands on such a line, or a task's text, tags or fields might hold some of
    the cookie (`#tag[3/8]` is a tag up to its `%` or space)."""
    written = {c.line: c.written for c in doc.cookies if c.line in lines}
    if len(written) != len(lines):
        return False
    read = [f.line for f in doc.fields] + [s.line for s in doc.scores] + [t.line for t in doc.topic_scores]
    if any(line in written for line in read + [label.line for label in doc.labels]):
        return False
    if any(h.line in written and written[h.line] in h.text for h in doc.headings):
        return False
    return not any(t.line in written and (t.fields or written[t.line] in t.text or any("[" in s for s in t.tags))
                   for t in doc.tasks)


@dataclass
class _Item:
    """An open list item while walking: the task it is, and a cookie on its first line."""

    task: int | None = None
    cookie: tuple[int, str, int] | None = None  # (line, cookie as written, first task) of one on its first line


@dataclass
class _Walk:
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
    items: list[_Item] = field(default_factory=list)
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

    def run(self) -> Document:
        text = self.text
        tokens, i, end = self.tokens, 0, len(self.tokens)
        while i < end:  # the most frequent tokens first; a paragraph and a heading are three tokens each
            tok = tokens[i]
            kind = tok.type
            if kind == "paragraph_open":
                # an item's first block is a paragraph when nothing stands between the item and it
                self._paragraph(tok, tokens[i + 1], tokens[i + 3] if i + 3 < end else None,
                                i > 0 and tokens[i - 1].type == "list_item_open")
                i += 3
                continue
            if kind == "list_item_open":
                self.items.append(_Item())
            elif kind == "list_item_close":
                item = self.items.pop()
                if item.cookie and len(self.tasks) > item.cookie[2]:
                    line, written, first = item.cookie
                    self.cookies.append(Cookie(line, written.endswith("%]"), first, len(self.tasks), written))
            elif kind == "bullet_list_open" or kind == "ordered_list_open":
                self.lists += 1
            elif kind == "bullet_list_close" or kind == "ordered_list_close":
                self.lists -= 1
                if self.lists == self.group_lists:
                    self.group, self.label, self.group_lists = None, None, -1
            elif kind == "heading_open":
                self._heading(tok, tokens[i + 1])
                i += 3
                continue
            elif kind == "table_open":
                i = self._table(i)
                continue
            elif kind == "html_block":
                if regions.MARKER_HINT in tok.content:
                    self._html_block(tok)
            elif kind == "fence" or kind == "code_block":
                if regions.MARKER_HINT in tok.content:
                    self._code(tok)
            elif kind == "front_matter":
                self._front_matter(tok)
            i += 1
        self._close_heading_cookies(0)
        self._mojibake(text)
        found = self._regions()
        self._drop_generated(found)
        return Document(
            path=self.path,
            front_matter=self.front_matter,
            headings=tuple(self.headings),
            tasks=tuple(self.tasks),
            tables=tuple(self.tables),
            labels=tuple(self.labels),
            fields=tuple(self.fields),
            scores=tuple(self.scores),
            topic_scores=tuple(self.topic_scores),
            problems=tuple(sorted(self.problems, key=lambda p: (p.line, p.code))),
            regions=tuple(found),
            cookies=tuple(c for c in sorted(self.cookies, key=lambda c: c.line)
                          if not any(r.line < c.line < r.end_line for r in found)),
            marker_error=self.marker_problem,
        )

    # --- blocks -----------------------------------------------------------------------------------------

    def _front_matter(self, tok: Token) -> None:
        try:
            data = _YAML.load(tok.content, Loader=_yaml_loader(tok.content))
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = 1 + (mark.line + 1 if mark is not None else 0)
            self._problem(line, "front-matter", f"front matter is not valid YAML: {getattr(err, 'problem', err)}")
            return
        except RecursionError:
            self._problem(2, "front-matter", "front matter is nested too deep for YAML to read")
            return
        except Exception as err:  # PyYAML's constructors raise plain errors: `created: 2025-13-45`
            line = 2 + _unreadable_value(tok.content)
            self._problem(line, "front-matter", f"front matter has a value YAML cannot read: {err}")
            return
        if isinstance(data, dict):
            self.front_matter = {str(k): v for k, v in data.items()}

    def _heading(self, tok: Token, inline: Token) -> None:
        level = int(tok.tag[1])
        parent = self.heading
        while parent is not None and self.headings[parent].level >= level:
            parent = self.headings[parent].parent
        line = tok.map[0] + 1 if tok.map else 0
        self._close_heading_cookies(level)
        written = regions.cookie_at_end(inline.content) if "]" in inline.content else None
        if written is not None:
            self.open_cookies.append((line, written, len(self.tasks), level))
        text = recognize.strip_cookie(inline.content) if written is not None else inline.content
        self.headings.append(Heading(line, level, text, parent))
        self.heading = len(self.headings) - 1
        self._score(line, inline.content)
        self._inline_markers(line, inline.content)
        self.group, self.label, self.group_lists = None, None, -1

    def _paragraph(self, tok: Token, inline: Token, after: Token | None, first_block: bool) -> None:
        start = tok.map[0] + 1 if tok.map else 0
        content = inline.content
        lines = content.split("\n") if "\n" in content else [content]
        is_task = first_block and lines[0][:1] == "[" and self._task(start, lines[0])
        if first_block and lines[0].endswith("]"):
            written = regions.cookie_at_end(lines[0])
            if written is not None:
                self.items[-1].cookie = (start, written, len(self.tasks))
        if regions.MARKER_HINT in content:
            self._inline_markers(start, content)
        if len(lines) == 1 and not self.items and recognize.bold_led(lines[0]):
            self.labels.append(Label(start, lines[0], self.heading))
            if after is not None and after.type in ("bullet_list_open", "ordered_list_open"):
                self.group = recognize.bold_label(lines[0])
                self.label, self.group_lists = len(self.labels) - 1, self.lists
        for n, line in enumerate(lines):
            # cheap substring tests first: most lines hold none of these conventions
            if (n or not is_task) and ("**" in line or "::" in line) and (kv := recognize.line_field(line)):
                self.fields.append(Field(start + n, *kv, heading=self.heading))
            if "%" in line and (n or not is_task) and self.items and (topic := recognize.topic_score(line)):
                self.topic_scores.append(TopicScore(start + n, *topic, self.heading))
            if "core" in line or "CORE" in line:
                self._score(start + n, line)

    def _task(self, line: int, text: str) -> bool:
        is_task = recognize.task_symbol(text)
        if is_task is None:
            return False
        symbol, rest = is_task
        # a line with neither `::` nor a signifier (never ASCII) has no date: most lines fail the first tests
        hinted = "::" in rest or (not rest.isascii() and _SIGNIFIER.search(rest) is not None)
        dates = self._dates(line, rest) if hinted else _NO_DATES
        items, parent = self.items, None
        for depth in range(len(items) - 2, -1, -1):
            if items[depth].task is not None:
                parent = items[depth].task
                break
        items[-1].task = len(self.tasks)
        self.tasks.append(Task._make(  # positional, in the fields' order: a task line is the commonest thing
            (line, symbol, (recognize.strip_cookie(rest) if rest.endswith("]") else rest).strip(), len(items) - 1,
             self.heading, self.group) + dates
            + (recognize.tags(rest) if "#" in rest else (), parent, self.label,
               recognize.inline_fields(rest) if "::" in rest else ())))
        return True

    def _dates(self, line: int, rest: str) -> tuple[dt.date | None, ...]:
        """The task's dates, in the order of Task's date fields (the first of each field counts)."""
        found = recognize.date_fields(rest)
        tail = recognize.fields_tail_start(rest) if found and not recognize.only_fields_after(rest, found) else 0
        dates: dict[str, dt.date] = {}
        for f in found:
            day = f.date
            if day is None:
                self._problem(line, "bad-date", f"{f.field} date {f.text!r} is not a real date")
                continue
            dates.setdefault(f.field, day)
            if f.start < tail:
                self._problem(
                    line, "field-not-at-end",
                    f"{f.field} date {f.text} is followed by text; Obsidian Tasks reads dates only at the end of the line",
                )
        return tuple(map(dates.get, _DATE_FIELDS)) if dates else _NO_DATES

    def _table(self, i: int) -> int:
        """Read the table starting at token i; return the index after it. markdown-it writes a row as
        `tr_open`, then `th_open`/`td_open`, `inline`, `th_close`/`td_close` for each cell, then `tr_close`;
        the first row is the header."""
        tokens = self.tokens
        where = tokens[i].map
        line = where[0] + 1 if where else 0
        header: tuple[str, ...] | None = None
        rows: list[Row] = []
        while (kind := tokens[i].type) != "table_close":
            if kind != "tr_open":  # thead and tbody open and close
                i += 1
                continue
            row_map = tokens[i].map
            row_line = row_map[0] + 1 if row_map else 0
            texts = []
            i += 1
            while tokens[i].type != "tr_close":
                texts.append(tokens[i + 1].content)
                i += 3
            i += 1
            for content in texts:
                if header is not None and ("core" in content or "CORE" in content):
                    self._score(row_line, content)
                if regions.MARKER_HINT in content:
                    self._inline_markers(row_line, content)
            if header is None:
                header = tuple(texts)
            else:
                cells = tuple(map(_cell, texts))
                rows.append(Row(row_line, cells, all(c.placeholder for c in cells)))
        self.tables.append(Table(line, header or (), tuple(rows), self.heading))
        return i + 1

    # --- markers and cookies ---------------------------------------------------------------------------

    def _close_heading_cookies(self, level: int) -> None:
        """A heading of `level` (0: the end) ends the scope of the open heading cookies at that level or deeper."""
        while self.open_cookies and self.open_cookies[-1][3] >= level:
            line, written, first, _ = self.open_cookies.pop()
            self.cookies.append(Cookie(line, written.endswith("%]"), first, len(self.tasks), written))

    def _html_block(self, tok: Token) -> None:
        """Markers in raw HTML, read comment by comment as a browser would: a marker inside a comment that
        was opened earlier and never closed is hidden, and that is an error, not a silent skip."""
        start = tok.map[0] + 1 if tok.map else 0
        content, pos = tok.content, 0
        lines = content.split("\n")
        while (opener := content.find("<!--", pos)) >= 0:
            closer = content.find("-->", opener + 4)
            comment = content[opener:] if closer < 0 else content[opener:closer + 3]
            line = start + content.count("\n", 0, opener)
            if regions.MARKER.fullmatch(comment):
                self._block_marker(tok, comment, line, lines[line - start])
            elif (hidden := regions.MARKER.search(content, opener + 4)) is not None and (
                    closer < 0 or hidden.end() <= closer + 3):
                self._marker_problem(line, "an HTML comment opened here is not closed before the mdtracker "
                                     f"marker at line {start + content.count(chr(10), 0, hidden.start())}, "
                                     "so it hides that marker")
                return
            if closer < 0:
                return
            pos = closer + 3

    def _block_marker(self, tok: Token, comment: str, line: int, line_text: str) -> None:
        block = line_text.strip() == comment
        try:
            marker = regions.parse_marker(comment, line, block)
        except MarkerError as err:
            self._marker_problem(err.line, err.message)
            return
        if block and tok.level > 0:
            self._marker_problem(line, f"the marker of region {marker.name} is inside a list or block quote; "
                                 "block markers must stand at the top level")
        self.markers.append(marker)

    def _code(self, tok: Token) -> None:
        if tok.type == "fence" and tok.map and not self._fence_closed(tok):
            self._hidden_marker(tok.map[0] + 1, tok.content, "a code fence opened here is never closed")

    def _fence_closed(self, tok: Token) -> bool:
        first, end = tok.map if tok.map else (0, 0)
        if end - first < 2:
            return False
        source = _NEWLINE.split(self.text)  # rare: a fence that holds a marker
        closing = source[end - 1].strip() if end - 1 < len(source) else ""
        return closing.startswith(tok.markup) and set(closing) == {tok.markup[0]}

    def _hidden_marker(self, line: int, content: str, what: str) -> None:
        for n, text in enumerate(content.split("\n")):
            if regions.MARKER.search(text):
                hidden = line + n if content.lstrip().startswith("<!--") else line + n + 1
                self._marker_problem(line, f"{what}, so it hides the mdtracker marker at line {hidden}")
                return

    def _inline_markers(self, line: int, content: str) -> None:
        if regions.MARKER_HINT not in content:
            return
        offset = 0
        for child in _INLINE.parseInline(content)[0].children or []:
            if child.type in ("softbreak", "hardbreak"):
                offset += 1
            elif child.type == "html_inline" and regions.MARKER.fullmatch(child.content.strip()):
                try:
                    self.markers.append(regions.parse_marker(child.content, line + offset, block=False))
                except MarkerError as err:
                    self._marker_problem(err.line, err.message)

    def _regions(self) -> list[regions.Region]:
        if self.marker_problem:
            return []
        try:
            return regions.pair(self.markers)
        except MarkerError as err:
            self._marker_problem(err.line, err.message)
            return []

    def _drop_generated(self, found: list[regions.Region]) -> None:
        """What templates wrote inside block regions is output, not the user's data: the model is what it would
        be without it (so a summary never counts itself, and sync is idempotent). Its tables are kept, marked
        generated: a Quick Stats table inside its region still declares the domains' weights and totals."""
        spans = [(r.line, r.end_line) for r in found if not r.inline]
        items: list[Any] = [*self.headings, *self.tasks, *self.tables, *self.labels, *self.fields, *self.scores,
                            *self.topic_scores]
        if not spans or not any(self._inside(spans, x.line) for x in items):
            return

        def inside(line: int) -> bool:
            return self._inside(spans, line)

        heading_at = self._drop_headings(inside)
        label_at: dict[int, int] = {}
        labels: list[Label] = []
        for n, label in enumerate(self.labels):
            if not inside(label.line):
                label_at[n] = len(labels)
                labels.append(_moved(label, heading=heading_at(label.heading)))
        self.labels = labels
        self.fields = [_moved(f, heading=heading_at(f.heading)) for f in self.fields if not inside(f.line)]
        self.scores = [_moved(x, heading=heading_at(x.heading)) for x in self.scores if not inside(x.line)]
        self.topic_scores = [_moved(x, heading=heading_at(x.heading)) for x in self.topic_scores if not inside(x.line)]
        self.tables = [_moved(t, generated=inside(t.line), heading=heading_at(t.heading)) for t in self.tables]
        kept = [n for n, t in enumerate(self.tasks) if not inside(t.line)]
        new_index = {old: new for new, old in enumerate(kept)}
        self.tasks = [_moved(
            t, parent=None if t.parent is None else new_index.get(t.parent), heading=heading_at(t.heading),
            label=None if t.label is None else label_at.get(t.label),
        ) for t in (self.tasks[n] for n in kept)]
        self.cookies = self._recount_cookies(kept)

    @staticmethod
    def _inside(spans: list[tuple[int, int]], line: int) -> bool:
        return any(a < line < b for a, b in spans)

    def _drop_headings(self, inside: Callable[[int], bool]) -> Callable[[int | None], int | None]:
        """Drop the headings written inside regions, rebuilding the tree from the levels of the others; return
        the map from an old heading index to the kept heading that now stands nearest above."""
        if not any(inside(h.line) for h in self.headings):
            return lambda index: index  # no heading was generated: every index stays
        last_kept: list[int | None] = []
        kept: list[Heading] = []
        open_: list[int] = []
        for heading in self.headings:
            if not inside(heading.line):
                while open_ and kept[open_[-1]].level >= heading.level:
                    open_.pop()
                kept.append(heading._replace(parent=open_[-1] if open_ else None))
                open_.append(len(kept) - 1)
            last_kept.append(len(kept) - 1 if kept else None)
        self.headings = kept
        return lambda index: None if index is None else last_kept[index]

    def _recount_cookies(self, kept: list[int]) -> list[Cookie]:
        """Cookies over the tasks that remain: an item's keeps its tasks; a heading's runs to the next heading
        of its level or above, now that the generated headings are gone."""
        cookies = []
        heading_lines = {h.line: h for h in self.headings}
        for c in self.cookies:
            if c.line in heading_lines:
                level = heading_lines[c.line].level
                end_line = next((h.line for h in self.headings if h.line > c.line and h.level <= level), None)
                first = next((n for n, t in enumerate(self.tasks) if t.line > c.line), len(self.tasks))
                end = next((n for n, t in enumerate(self.tasks) if end_line is not None and t.line > end_line),
                           len(self.tasks))
                cookies.append(dataclasses.replace(c, first_task=first, end_task=max(first, end)))
            else:
                cookies.append(dataclasses.replace(c, first_task=bisect.bisect_left(kept, c.first_task),
                                                   end_task=bisect.bisect_left(kept, c.end_task)))
        return cookies

    def _marker_problem(self, line: int, message: str) -> None:
        self.marker_problem = True
        self._problem(line, "marker", message)

    # --- in-line facts ----------------------------------------------------------------------------------

    def _score(self, line: int, text: str) -> None:
        if "core" not in text and "CORE" not in text:
            return
        value = recognize.score(text)
        if value is not None:
            self.scores.append(Score(line, value, text.strip(), self.heading))

    def _mojibake(self, text: str) -> None:
        repairs = mojibake.find(text)
        if not repairs:
            return
        starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        by_line: dict[int, list[mojibake.Repair]] = {}
        for r in repairs:
            by_line.setdefault(bisect.bisect_right(starts, r.offset), []).append(r)
        for line, found in by_line.items():
            first = found[0]
            more = f" (and {len(found) - 1} more on this line)" if len(found) > 1 else ""
            self._problem(
                line, "mojibake",
                f"{first.old!r} is UTF-8 read as {first.codec}; lint --fix makes it {first.new!r}{more}",
            )

    def _problem(self, line: int, code: str, message: str) -> None:
        self.problems.append(Problem(self.path, line, code, message))


_C_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # as python-frontmatter loads: libyaml when there
_DEEP = 10_000  # brackets: libyaml recurses once per nesting level, and some 30,000 levels overflow its stack


def _yaml_loader(content: str) -> type:
    """libyaml's loader, but for front matter with so many brackets that it could be nested deep enough to
    crash libyaml (it segfaults); PyYAML's own loader raises RecursionError there, a problem like any other."""
    return yaml.SafeLoader if content.count("[") + content.count("{") > _DEEP else _C_LOADER


def _unreadable_value(content: str) -> int:
    """The line (from 0) of the first value of valid YAML that PyYAML's safe constructor fails on: a date
    that is no date (`2025-02-30`), `!!int abc`. 0 if none is found alone."""
    constructor = yaml.constructor.SafeConstructor()
    try:
        root = yaml.compose(content, Loader=_yaml_loader(content))
    except RecursionError:  # nested too deep to compose: no value to point at
        return 0
    stack: list[yaml.Node] = [root] if root is not None else []
    while stack:  # depth first, in document order
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                constructor.construct_object(node)
            except Exception:  # whatever the constructor raises, this is the value
                return node.start_mark.line
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
    return 0


def _moved(item: Any, **values: Any) -> Any:
    """`item` (a NamedTuple or a frozen dataclass) with `values`, copied only when one of them differs (most
    items keep their places)."""
    if all(getattr(item, name) == value for name, value in values.items()):
        return item
    return item._replace(**values) if hasattr(item, "_replace") else dataclasses.replace(item, **values)


@functools.lru_cache(maxsize=8192)  # `✅`, `85%`, `—` recur in table after table; a Cell is immutable
def _cell(text: str) -> Cell:
    """A table cell with the values it holds; cheap character tests spare most cells every pattern."""
    stripped = text.strip()
    ascii_only = stripped.isascii()
    return Cell(
        text=stripped,
        percent=recognize.percent(stripped) if "%" in stripped else None,
        fraction=recognize.fraction(stripped) if "/" in stripped else None,
        date=recognize.first_date(stripped) if len(stripped) >= 10 and "-" in stripped else None,
        status=recognize.status_mark(stripped) if not ascii_only or ":" in stripped or "[" in stripped else None,
        placeholder=(not stripped or stripped[0] in "-—–_.…?[tTnN") and recognize.is_placeholder(stripped),
    )
