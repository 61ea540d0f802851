"""Rendering regions: Jinja2 templates in a sandbox, the vault's own before the built-in ones.

A template sees the whole analysis (`vault`), the note it is in (`note`, `file`), the region's arguments
(`args`), `region` and `today`, with filters for percentages, bars and date arithmetic.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import functools
import math
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment

from mdtracker import recognize
from mdtracker.analyze import Analysis
from mdtracker.counts import Counts, percent
from mdtracker.model import Document
from mdtracker.regions import Region
from mdtracker.discovery import SUFFIX, VAULT_TEMPLATES


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
def _environment(root: Path, own: frozenset[str]) -> SandboxedEnvironment:
    """The sandboxed Jinja2 environment of a vault with these own templates (looked up first), made once per
    process for each set of names: Jinja2 reloads a template whose file changed, but would go on serving a
    built-in one that a template of the vault's own now stands in for (as `watch` runs)."""
    loaders: list[jinja2.BaseLoader] = []
    if own:
        loaders.append(jinja2.FileSystemLoader(root / VAULT_TEMPLATES))
    loaders.append(jinja2.FileSystemLoader(builtin_folder()))
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders), autoescape=False, keep_trailing_newline=False,
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    env.filters.update(percent=percent, bar=bar, add_days=add_days, number=number, title_only=recognize.title_only,
                       limited=limited)
    env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)
    env.globals.update(days_between=days_between)
    return env


_READS_FILE: weakref.WeakKeyDictionary[jinja2.Template, bool] = weakref.WeakKeyDictionary()


def _reads_file(env: SandboxedEnvironment, template: jinja2.Template) -> bool:
    """Whether the template may read `file`, the note's summary: only then is it looked up (from the cache, a
    shard's worth of summaries; a region that shows the date needs none). A template that includes, imports
    or extends another may read anything."""
    if template not in _READS_FILE:
        assert env.loader is not None and template.name is not None
        try:
            tree = env.parse(env.loader.get_source(env, template.name)[0])
        except jinja2.TemplateError:  # gone or changed since it was loaded: render as it was, with `file`
            return True
        others = list(jinja2.meta.find_referenced_templates(tree))  # (None for a name worked out when rendered)
        _READS_FILE[template] = bool(others) or "file" in jinja2.meta.find_undeclared_variables(tree)
    return _READS_FILE[template]


@dataclass
class Renderer:
    """Renders the regions of one vault for one analysis."""

    root: Path
    analysis: Analysis
    own: frozenset[str]  # the names of the vault's own templates (`vault.own_templates`)

    def __post_init__(self) -> None:
        self.env = _environment(self.root, self.own)

    def counts(self, scope: str | None = None) -> Counts:
        """Task counts of the notes whose path starts with `scope` (all notes without one)."""
        return self.analysis.counts_under(scope)

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
        context: dict[str, Any] = {
            "vault": self.analysis,
            "note": doc,
            "file": self.analysis.file(doc.path) if _reads_file(self.env, template) else None,
            "args": region.arguments,
            "region": region,
            "today": self.analysis.today,
            "counts": self.counts,
        }
        try:
            return template.render(context)
        except jinja2.TemplateError as err:
            raise RenderError(region.line, f"region {region.name}: {err}") from None
        except Exception as err:  # a template is the user's code: whatever it raises fails its region, not the run
            raise RenderError(region.line, f"region {region.name}: {type(err).__name__}: {err}") from None
