"""The walk over a note's block tokens: each token goes to the rule for its kind, in one pass."""

from __future__ import annotations

from markdown_it.token import Token

from mdtracker import regions
from mdtracker.model import Document
from mdtracker.parse import code, facts, front_matter, headings, lists, markers, tables
from mdtracker.parse.state import State


def walk(path: str, tokens: list[Token], text: str) -> Document:
    """The Document of a note from its block tokens and its text."""
    state = State(path, tokens, text)
    i, end = 0, len(tokens)
    while i < end:  # the most frequent tokens first; a paragraph and a heading are three tokens each
        tok = tokens[i]
        kind = tok.type
        if kind == "paragraph_open":
            lists.paragraph(state, tok, tokens[i + 1], tokens[i + 3] if i + 3 < end else None,
                            i > 0 and tokens[i - 1].type == "list_item_open")
            i += 3
            continue
        if kind == "list_item_open":
            lists.item_open(state, tok)
        elif kind == "list_item_close":
            lists.item_close(state)
        elif kind == "bullet_list_open" or kind == "ordered_list_open":
            lists.list_open(state)
        elif kind == "bullet_list_close" or kind == "ordered_list_close":
            lists.list_close(state)
        elif kind == "heading_open":
            headings.heading(state, tok, tokens[i + 1])
            i += 3
            continue
        elif kind == "table_open":
            i = tables.table(state, i)
            continue
        elif kind == "html_block":
            if regions.MARKER_HINT in tok.content:
                markers.html_block(state, tok)
        elif kind == "fence" or kind == "code_block":
            if tok.map:
                state.code.append((tok.map[0] + 1, tok.map[1]))
            if regions.MARKER_HINT in tok.content:
                code.code(state, tok)
        elif kind == "hr":
            state.breaks.append(tok.map[0] + 1 if tok.map else 0)
            state.group, state.label, state.group_lists = None, None, -1
        elif kind == "front_matter":
            front_matter.front_matter(state, tok)
        i += 1
    headings.close_cookies(state, 0)
    facts.mojibake_problems(state)
    found = markers.find_regions(state)
    markers.drop_generated(state, found)
    return Document(
        path=state.path,
        front_matter=state.front_matter,
        headings=tuple(state.headings),
        tasks=tuple(state.tasks),
        tables=tuple(state.tables),
        labels=tuple(state.labels),
        fields=tuple(state.fields),
        scores=tuple(state.scores),
        topic_scores=tuple(state.topic_scores),
        problems=tuple(sorted(state.problems, key=lambda p: (p.line, p.code))),
        regions=tuple(found),
        cookies=tuple(c for c in sorted(state.cookies, key=lambda c: c.line)
                      if not any(r.line < c.line < r.end_line for r in found)),
        marker_error=state.marker_problem,
        breaks=tuple(state.breaks),
        listed=tuple(state.listed),
        repairs=tuple(state.repairs),
    )
