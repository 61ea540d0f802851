"""Markdown → `Document`, from markdown-it-py's block tokens and their line maps.

The parser runs with the core `inline` rule disabled: block structure (headings, lists, tables, code, quotes)
is all the model needs, and each inline token still carries its raw text, which the one-line recognizers
read. This is the step every run pays for, so it does nothing else.

One module per kind of block, as markdown-it-py has one per rule, each a set of functions on the walk's
`State`: `headings`, `lists` (tasks, labels, fields), `tables`, `markers` (HTML and region markers),
`code`, `front_matter`, and `facts` (what stands inside one line anywhere); `walk` sends each token to its
rule.
"""

from __future__ import annotations

import dataclasses

from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from mdtracker.model import Document
from mdtracker.parse.walk import walk


def markdown_parser() -> MarkdownIt:
    """The one parser configuration mdtracker uses (CommonMark + GFM tables + front matter, block level)."""
    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin).disable("inline")


_MD = markdown_parser()


def parse(text: str, path: str, digest: str = "") -> Document:
    """Build the Document of one note from its text (already decoded, BOM removed)."""
    doc = walk(path, _MD.parse(text), text)
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

