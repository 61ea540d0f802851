"""Rendering regions: Jinja2 templates in a sandbox (`sandbox`), fed plain data (`view`), the vault's own
templates before the built-in ones.

A template sees `vault` (the whole analysis), `note` (the note it is in) and `file` (that note's summary),
`args` (the region's arguments, as the template declares them), `region` and `today`, with filters for
percentages, bars and date arithmetic, and the functions `counts(scope)` and `days_between(a, b)`. Every one
of them is plain data or a pure function of it.

A template declares the arguments it takes in a comment, `{#- args: scope:text, limit:count -#}` (`text`
is any text, `count` a whole number); a vault's own template that declares none takes those it reads as
`args.NAME`. Any other argument is an error at the region's line, as an unknown config key is.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import math
import os
import re
import stat
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import jinja2
import jinja2.meta
from jinja2 import nodes

from mdtracker import recognize, view
from mdtracker.analyze import Analysis
from mdtracker.counts import percent
from mdtracker.discovery import SUFFIX, VAULT_TEMPLATES, templates_folder
from mdtracker.model import Document
from mdtracker.regions import Region
from mdtracker.sandbox import Bounds, RenderLimit, Sandbox, environment

MAX_TEMPLATE = 256 << 10  # a vault's own template larger than this is not read


def builtin_folder() -> Path:
    """Where the built-in templates are: inside the installed package, or `templates/` in a source tree."""
    try:
        folder = importlib.resources.files("mdtracker.templates")
        if folder.joinpath("progress" + SUFFIX).is_file():
            return Path(str(folder))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "templates"


def builtin_names() -> list[str]:
    return sorted(p.name[: -len(SUFFIX)] for p in builtin_folder().glob("*" + SUFFIX))


# What a built-in region's output depends on besides the note itself: nothing (file), the date (day), or
# the whole vault. A region of the vault's own templates may read anything: vault.
_FILE_SCOPED = {"progress", "headings", "scores"}


def scope_of(region: Region, own: frozenset[str] = frozenset()) -> str:
    """`file`, `day` or `vault`: which changes can change the region's output (`own`: the names of the
    vault's own templates, which may read anything)."""
    if region.name in own:
        return "vault"
    if region.name in _FILE_SCOPED and "scope" not in region.arguments:
        return "file"
    return "day" if region.name == "last-updated" else "vault"


class RenderError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class OwnTemplates(jinja2.BaseLoader):
    """The vault's own templates: regular files in its `templates/` folder, by plain names, never through a
    link (a template linked to a file elsewhere would put that file in a note), never larger than
    `MAX_TEMPLATE`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        folder = templates_folder(self.root)
        if folder is None or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", template) or ".." in template:
            raise jinja2.TemplateNotFound(template)
        path = folder / template
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            raise jinja2.TemplateNotFound(template) from None
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise jinja2.TemplateNotFound(template)
            if st.st_size > MAX_TEMPLATE:
                raise jinja2.TemplateSyntaxError(f"template is larger than {MAX_TEMPLATE >> 10} KB", 1, template)
            raw = handle.read(MAX_TEMPLATE + 1)
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise jinja2.TemplateSyntaxError("template is not UTF-8", 1, template) from None
        mtime = st.st_mtime_ns

        def uptodate() -> bool:
            try:
                return os.lstat(path).st_mtime_ns == mtime
            except OSError:
                return False

        return source, str(path), uptodate


# --- filters --------------------------------------------------------------------------------------------


def bar(value: float | None, width: int = 10) -> str:
    """A text progress bar: `██████░░░░`."""
    filled = max(0, min(width, math.floor((value or 0) * width + 0.5)))
    return "█" * filled + "░" * (width - filled)


def add_days(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=int(days))


def days_between(start: dt.date, end: dt.date) -> int:
    return (end - start).days


def limited(items: Any, limit: object = None) -> tuple[list[Any], int]:
    """The first `limit` items (all of them when None), and how many more there are: `limit=20` on a region,
    as Obsidian Tasks' `limit to 20 tasks`."""
    items = list(items)
    if limit is None:
        return items, 0
    text = str(limit)
    if isinstance(limit, bool) or not (text.isascii() and text.isdigit()):  # (`²` is a digit to str.isdigit)
        raise jinja2.TemplateRuntimeError(f"limit={limit} is not a whole number")
    shown = items[:int(text)]
    return shown, len(items) - len(shown)


def number(value: float | None) -> str:
    """`4.0` → `4`, `2.5` → `2.5`."""
    if value is None:
        return "—"
    return f"{value:g}"


@functools.lru_cache(maxsize=8)
def _environment(root: Path, own: frozenset[str]) -> Sandbox:
    """The sandboxed environment of a vault with these own templates (looked up first), made once per
    process for each set of names: Jinja2 reloads a template whose file changed, but would go on serving a
    built-in one that a template of the vault's own now stands in for (as `watch` runs)."""
    loaders: list[jinja2.BaseLoader] = []
    if own:
        loaders.append(OwnTemplates(root))
    loaders.append(jinja2.FileSystemLoader(builtin_folder()))
    env = environment(jinja2.ChoiceLoader(loaders))
    env.filters.update(percent=percent, bar=bar, add_days=add_days, number=number, title_only=recognize.title_only,
                       limited=limited)
    env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)
    env.globals.update(days_between=days_between)
    return env


@dataclass(frozen=True)
class Template:
    """What a template is, read from its source: whether it is the vault's own (bounded as it runs), the
    arguments it takes (name → kind; None: any), and whether it may read `file`."""

    own: bool
    arguments: dict[str, str] | None
    reads_file: bool


_KNOWN: weakref.WeakKeyDictionary[jinja2.Template, Template] = weakref.WeakKeyDictionary()
_DECLARED = re.compile(r"\{#-?\s*args:(.*?)-?#\}", re.DOTALL)
KINDS = ("text", "count")


def _read(env: Sandbox, template: jinja2.Template, root: Path) -> Template:
    """What the template is (worked out once per template loaded)."""
    if template not in _KNOWN:
        own = bool(template.filename) and not Path(template.filename or "").is_relative_to(builtin_folder())
        assert env.loader is not None and template.name is not None
        try:
            source = env.loader.get_source(env, template.name)[0]
            tree = env.parse(source)
        except jinja2.TemplateError:  # gone or changed since it was loaded: render as it was, with `file`
            _KNOWN[template] = Template(own, None, True)
            return _KNOWN[template]
        others = list(jinja2.meta.find_referenced_templates(tree))  # (None for a name worked out when rendered)
        reads_file = bool(others) or "file" in jinja2.meta.find_undeclared_variables(tree)
        _KNOWN[template] = Template(own, _arguments(source, tree, own), reads_file)
    return _KNOWN[template]


def _arguments(source: str, tree: nodes.Template, own: bool) -> dict[str, str] | None:
    """The arguments a template declares (`{#- args: name:kind, … -#}`); for a vault's own template that
    declares none, those it reads as `args.NAME` (or any, when it uses `args` otherwise)."""
    m = _DECLARED.search(source)
    if m is not None:
        declared = {}
        for word in re.split(r"[\s,]+", m.group(1).strip()):
            if word:
                name, _, kind = word.partition(":")
                declared[name] = kind if kind in KINDS else "text"
        return declared
    if not own:
        return {}
    read: dict[str, str] = {}
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name) \
                and node.node.name == "args":
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if not isinstance(key, str):
                return None
            read[key] = "text"
    uses = sum(1 for n in tree.find_all(nodes.Name) if n.name == "args")
    accesses = sum(1 for n in tree.find_all((nodes.Getattr, nodes.Getitem))
                   if isinstance(n, (nodes.Getattr, nodes.Getitem)) and isinstance(n.node, nodes.Name)
                   and n.node.name == "args")
    return read if uses == accesses else None  # (args passed on whole: whatever it is given)


def check_arguments(region: Region, declared: dict[str, str] | None) -> dict[str, Any]:
    """The region's arguments as its template takes them (a `count` a whole number); RenderError at the
    region's line for an argument it does not take, or a value of the wrong kind."""
    given = region.arguments
    if declared is None:
        return dict(given)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        takes = f"it takes {', '.join(sorted(declared))}" if declared else "it takes none"
        raise RenderError(region.line, f"region {region.name}: unknown argument {', '.join(unknown)} ({takes})")
    out: dict[str, Any] = {}
    for name, value in given.items():
        if declared[name] == "count":
            if not (value.isascii() and value.isdigit()):  # (`²` is a digit to str.isdigit)
                raise RenderError(region.line, f"region {region.name}: {name}={value} is not a whole number")
            out[name] = int(value)
        else:
            out[name] = value
    return out


@dataclass
class Renderer:
    """Renders the regions of one vault for one analysis."""

    root: Path
    analysis: Analysis
    own: frozenset[str]  # the names of the vault's own templates (`discovery.own_templates`)

    def __post_init__(self) -> None:
        self.env = _environment(self.root, self.own)
        self.vault = view.vault(self.analysis)

    def counts(self, scope: str | None = None) -> dict[str, Any]:
        """Task counts of the notes whose path starts with `scope` (all notes without one)."""
        return view.counts(self.analysis.counts_under(scope), view.TEMPLATE)

    def render(self, doc: Document, region: Region) -> str:
        try:
            template = self.env.get_template(region.name + SUFFIX)
        except jinja2.TemplateNotFound:
            raise RenderError(region.line, (
                f"unknown region {region.name}; built-in regions are: {', '.join(builtin_names())} "
                f"(or add {VAULT_TEMPLATES}/{region.name}{SUFFIX} to the vault)"
            )) from None
        except jinja2.TemplateSyntaxError as err:
            raise RenderError(region.line, f"template {err.name or region.name} line {err.lineno}: {err.message}") from None
        known = _read(self.env, template, self.root)
        arguments = check_arguments(region, known.arguments)
        summary = self.analysis.file(doc.path) if known.reads_file else None
        context: dict[str, Any] = {
            "vault": self.vault,
            "note": view.note(doc),
            "file": view.file(summary, view.TEMPLATE) if summary is not None else None,
            "args": arguments,
            "region": view.region(region, arguments),
            "today": self.analysis.today,
            "counts": self.counts,
        }
        try:
            if not known.own:
                return template.render(context)
            with Bounds() as bounds:  # a vault's own template: bounded in time, output and memory
                return bounds.collect(template.generate(context))
        except RenderLimit as err:
            raise RenderError(region.line, f"region {region.name}: {err}") from None
        except jinja2.TemplateError as err:
            raise RenderError(region.line, f"region {region.name}: {err}") from None
        except Exception as err:  # a template is the user's code: whatever it raises fails its region, not the run
            raise RenderError(region.line, f"region {region.name}: {type(err).__name__}: {err}") from None
