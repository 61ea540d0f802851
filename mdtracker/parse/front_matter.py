"""YAML front matter, read with bounds: a note's front matter may come from anyone, so it is read by the
safe loader only, not when it is larger than `MAX_BYTES`, and not when its aliases (`&a` … `*a`) expand it
past `MAX_VALUES` values (the "billion laughs"); nested past what the loaders can read, it is a problem too.
Every one of these is a `front-matter` problem at its line, never a crash or a hang."""

from __future__ import annotations

from typing import Any

import frontmatter
import yaml
from markdown_it.token import Token

from mdtracker.parse.state import State

MAX_BYTES = 256 << 10  # a note's front matter larger than this is not read
MAX_VALUES = 100_000  # nor one whose aliases expand it to more values than this
_YAML = frontmatter.YAMLHandler()
_C_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # as python-frontmatter loads: libyaml when there
_DEEP = 10_000  # brackets: libyaml recurses once per nesting level, and some 30,000 levels overflow its stack


def front_matter(state: State, tok: Token) -> None:
    """The note's front matter, a dict, in the state; or a problem that says why it is not read."""
    content = tok.content
    if len(content) > MAX_BYTES:
        state.problem(2, "front-matter", f"front matter of {len(content) // 1024} KB is not read "
                      f"(more than {MAX_BYTES // 1024} KB)")
        return
    try:
        data = _YAML.load(content, Loader=_yaml_loader(content))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = 1 + (mark.line + 1 if mark is not None else 0)
        state.problem(line, "front-matter", f"front matter is not valid YAML: {getattr(err, 'problem', err)}")
        return
    except RecursionError:
        state.problem(2, "front-matter", "front matter is nested too deep for YAML to read")
        return
    except Exception as err:  # PyYAML's constructors raise plain errors: `created: 2025-13-45`
        line = 2 + _unreadable_value(content)
        state.problem(line, "front-matter", f"front matter has a value YAML cannot read: {err}")
        return
    if not isinstance(data, dict):
        return
    if expanded_size(data) > MAX_VALUES:
        state.problem(2, "front-matter", f"front matter's aliases expand it to more than {MAX_VALUES:,} values; "
                      "not read")
        return
    state.front_matter = {str(k): v for k, v in data.items()}


def expanded_size(value: Any, limit: int = MAX_VALUES) -> int:
    """How many values the data holds once every alias is written out (at most a little over `limit`): the
    loader shares aliased values, anything that walks them (a template, a comparison) would not."""
    sizes: dict[int, int] = {}

    def size(v: Any, depth: int) -> int:
        if isinstance(v, (dict, list, set, tuple)):
            if id(v) in sizes:
                return sizes[id(v)]
            if depth > 200:
                return limit + 1
            children = [x for pair in v.items() for x in pair] if isinstance(v, dict) else list(v)
            total = 1
            for child in children:
                total += size(child, depth + 1)
                if total > limit:
                    break
            sizes[id(v)] = total
            return total
        return 1

    return size(value, 0)


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
