"""Configuration: `mdtracker.toml` at the vault root, or `[tool.mdtracker]` in its `pyproject.toml` (SPEC §4).

One table of defaults; every key optional; unknown keys and wrong types are errors that name the key, the
keys that are valid there, and the line where it can be found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdtracker import dates
from mdtracker.errors import ConfigError

STATUS_TYPES = ("todo", "in_progress", "done", "cancelled", "non_task")
DEFAULT_CREDIT = {"todo": 0.0, "in_progress": 0.5, "done": 1.0, "cancelled": 0.0, "non_task": 0.0}


@dataclass(frozen=True)
class Status:
    type: str
    credit: float


# Obsidian Tasks' defaults, plus `X`, which Obsidian shows checked and Dataview counts done.
DEFAULT_STATUSES: dict[str, Status] = {
    " ": Status("todo", 0.0),
    "x": Status("done", 1.0),
    "X": Status("done", 1.0),
    "/": Status("in_progress", 0.5),
    "-": Status("cancelled", 0.0),
}


@dataclass(frozen=True)
class DomainSpec:
    name: str
    weight: float
    total: float | None = None
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    today: dt.date | None = None
    statuses: dict[str, Status] = field(default_factory=lambda: dict(DEFAULT_STATUSES))
    intervals: tuple[int, ...] = (1, 3, 7, 14)
    domains: tuple[DomainSpec, ...] = ()
    exclude: tuple[str, ...] = ()  # glob patterns of vault-relative paths that are not notes
    gap_threshold: float = 0.7  # a topic whose latest score is below this is a knowledge gap
    forecast_target: dt.date | None = None  # [forecast] target: the date the remaining work should be done by
    dashboard_file: str | None = None  # [dashboard] file: the vault-relative HTML page that sync keeps fresh
    note_limit: int = 2_000_000  # [limits] note_mb: a note larger than this (in bytes) is skipped, not parsed
    source: str | None = None  # the file the config came from, relative to the vault or as given
    fingerprint: str = ""  # changes whenever the config's text changes

    def status(self, symbol: str) -> Status | None:
        """The status a checkbox symbol maps to; None for a symbol nobody defined."""
        return self.statuses.get(symbol)


CONFIG_NAME = "mdtracker.toml"
_TOP_KEYS = ("today", "statuses", "reviews", "domains", "exclude", "scores", "forecast", "dashboard", "limits")
_LIMIT_KEYS = ("note_mb",)
_SCORE_KEYS = ("gap_threshold",)
_FORECAST_KEYS = ("target",)
_DASHBOARD_KEYS = ("file",)
_REVIEW_KEYS = ("intervals",)
_DOMAIN_KEYS = ("name", "weight", "total", "sections")
_STATUS_KEYS = ("type", "credit")


def find(vault: Path) -> Path | None:
    """The config file of a vault: `mdtracker.toml`, else a `pyproject.toml` with `[tool.mdtracker]`."""
    own = vault / CONFIG_NAME
    if os.path.lexists(own):
        return own  # (whatever it is: load() says what is wrong with it)
    project = vault / "pyproject.toml"
    if project.is_file():
        try:
            if "mdtracker" in tomllib.loads(read_text(project, "pyproject.toml")).get("tool", {}):
                return project
        except (tomllib.TOMLDecodeError, RecursionError, ConfigError):
            return project  # let load() report what is wrong with it
    return None


def load(path: Path | None, shown: str | None = None) -> Config:
    """Read and validate a config file; the defaults when there is none."""
    if path is None:
        return Config()
    name = shown or str(path)
    return from_text(read_text(path, name), name, pyproject=path.name == "pyproject.toml")


def from_text(text: str, name: str, pyproject: bool = False) -> Config:
    """A config from its text (an editor's buffer of `mdtracker.toml`, or the file as read), named `name`
    in errors; `pyproject`: the text of a `pyproject.toml`, whose `[tool.mdtracker]` table is the config."""
    try:
        data = tomllib.loads(text)
    except RecursionError:  # tomllib reads nested arrays and tables by recursion
        raise ConfigError(name, None, "invalid TOML: nested too deep") from None
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"\(at line (\d+), column \d+\)", str(err))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
        raise ConfigError(name, int(m.group(1)) if m else None, f"invalid TOML: {message}") from None
    if pyproject:
        data = data.get("tool", {}).get("mdtracker", {})
    checker = _Checker(name, text)
    fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]
    return checker.config(data, fingerprint)


MAX_CONFIG = 1 << 20  # a config larger than this is not read


def read_text(path: Path, name: str) -> str:
    """The config's text: a regular file (a named pipe or a device would hang or never end), at most
    `MAX_CONFIG` bytes of UTF-8."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ConfigError(name, None, "cannot read config: not a regular file")
            raw = handle.read(MAX_CONFIG + 1)
    except OSError as err:
        raise ConfigError(name, None, f"cannot read config: {err.strerror}") from None
    if len(raw) > MAX_CONFIG:
        raise ConfigError(name, None, f"config is larger than {MAX_CONFIG >> 20} MB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(name, None, "config is not valid UTF-8") from None


@dataclass
class _Checker:
    """Turns the TOML data into a Config, or raises a ConfigError naming the key and its line."""

    name: str
    text: str

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.name, self._line_of(key), message)

    def _line_of(self, dotted: str) -> int | None:
        last = dotted.split(".")[-1].split("[")[0].strip('"')
        pattern = re.compile(r'(?:^|[\s{,.\[])"?' + re.escape(last) + r'"?\s*(?:=|\]\]?)')
        for n, line in enumerate(self.text.splitlines(), 1):
            if pattern.search(line.split("#")[0]):
                return n
        return None

    def keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                place = f" in [{where}]" if where else ""
                raise self.fail(
                    f"{where}.{key}" if where else key,
                    f"unknown key {key!r}{place}; expected one of: {', '.join(allowed)}",
                )

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"{key}: expected a number, got {value!r}")
        return float(value)

    def config(self, data: dict[str, Any], fingerprint: str) -> Config:
        self.keys(data, _TOP_KEYS, "")
        return Config(
            today=self.today(data.get("today")),
            statuses=self.statuses(data.get("statuses", {})),
            intervals=self.intervals(data.get("reviews", {})),
            domains=self.domains(data.get("domains", [])),
            exclude=self.strings(data.get("exclude", []), "exclude"),
            gap_threshold=self.gap_threshold(data.get("scores", {})),
            forecast_target=self.forecast_target(data.get("forecast", {})),
            dashboard_file=self.dashboard_file(data.get("dashboard", {})),
            note_limit=self.note_limit(data.get("limits", {})),
            source=self.name,
            fingerprint=fingerprint,
        )

    def note_limit(self, table: Any) -> int:
        if not isinstance(table, dict):
            raise self.fail("limits", "limits: expected a table")
        self.keys(table, _LIMIT_KEYS, "limits")
        value = self.number(table.get("note_mb", 2), "limits.note_mb")
        if not 0 < value <= 1000:
            raise self.fail("note_mb", f"limits.note_mb: expected a size in MB from 0 to 1000, got {value:g}")
        return int(value * 1_000_000)

    def gap_threshold(self, table: Any) -> float:
        if not isinstance(table, dict):
            raise self.fail("scores", "scores: expected a table")
        self.keys(table, _SCORE_KEYS, "scores")
        value = self.number(table.get("gap_threshold", 0.7), "scores.gap_threshold")
        if not 0 <= value <= 1:
            raise self.fail("gap_threshold", f"scores.gap_threshold: expected a fraction from 0 to 1, got {value:g}")
        return value

    def forecast_target(self, table: Any) -> dt.date | None:
        if not isinstance(table, dict):
            raise self.fail("forecast", "forecast: expected a table")
        self.keys(table, _FORECAST_KEYS, "forecast")
        value = table.get("target")
        if value is None:
            return None
        day = dates.as_date(value)
        if day is None:
            raise self.fail("target", f"forecast.target: expected a date YYYY-MM-DD, got {value!r}")
        return day

    def dashboard_file(self, table: Any) -> str | None:
        """A path inside the vault, with `/`: never absolute, never `..`, never a note."""
        if not isinstance(table, dict):
            raise self.fail("dashboard", "dashboard: expected a table")
        self.keys(table, _DASHBOARD_KEYS, "dashboard")
        value = table.get("file")
        if value is None:
            return None
        parts = value.replace("\\", "/").split("/") if isinstance(value, str) else []
        if (not isinstance(value, str) or not value.strip() or value.startswith(("/", "\\")) or ":" in value
                or any(p in ("", ".", "..") for p in parts) or value.lower().endswith(".md")):
            raise self.fail("file", f"dashboard.file: expected a path inside the vault such as \"dashboard.html\" "
                                    f"(no .. and not a note), got {value!r}")
        return "/".join(parts)

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)

    def today(self, value: Any) -> dt.date | None:
        if value is None:
            return None
        day = dates.as_date(value)
        if day is not None:
            return day
        raise self.fail("today", f"today: expected a date YYYY-MM-DD, got {value!r}")

    def statuses(self, table: Any) -> dict[str, Status]:
        if not isinstance(table, dict):
            raise self.fail("statuses", "statuses: expected a table of symbol = type")
        result = dict(DEFAULT_STATUSES)
        for symbol, spec in table.items():
            key = f'statuses."{symbol}"'
            if len(symbol) != 1:
                raise self.fail(key, f"{key}: a status symbol is one character, got {symbol!r}")
            if isinstance(spec, str):
                spec = {"type": spec}
            if not isinstance(spec, dict):
                raise self.fail(key, f"{key}: expected a type name or {{ type, credit }}, got {spec!r}")
            self.keys(spec, _STATUS_KEYS, key)
            kind = spec.get("type")
            if kind not in STATUS_TYPES:
                raise self.fail(key, f"{key}: type must be one of {', '.join(STATUS_TYPES)}, got {kind!r}")
            credit = self.number(spec["credit"], f"{key}.credit") if "credit" in spec else DEFAULT_CREDIT[kind]
            if not 0 <= credit <= 1:
                raise self.fail(key, f"{key}.credit: expected a number from 0 to 1, got {credit:g}")
            result[symbol] = Status(kind, credit)
        return result

    def intervals(self, table: Any) -> tuple[int, ...]:
        if not isinstance(table, dict):
            raise self.fail("reviews", "reviews: expected a table")
        self.keys(table, _REVIEW_KEYS, "reviews")
        value = table.get("intervals", [1, 3, 7, 14])
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
            raise self.fail("reviews.intervals", f"reviews.intervals: expected a list of whole days > 0, got {value!r}")
        return tuple(value)

    def domains(self, value: Any) -> tuple[DomainSpec, ...]:
        if not isinstance(value, list):
            raise self.fail("domains", "domains: expected [[domains]] tables")
        specs = []
        for n, table in enumerate(value, 1):
            where = f"domains[{n}]"
            if not isinstance(table, dict):
                raise self.fail("domains", f"{where}: expected a table")
            self.keys(table, _DOMAIN_KEYS, where)
            name = table.get("name")
            if not isinstance(name, str) or not name.strip():
                raise self.fail("domains", f"{where}.name: expected a non-empty string")
            weight = self.number(table.get("weight", 1), f"{where}.weight")
            total = self.number(table["total"], f"{where}.total") if "total" in table else None
            sections = table.get("sections", [name])
            if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
                raise self.fail("sections", f"{where}.sections: expected a list of strings")
            if weight < 0 or (total is not None and total < 0):
                raise self.fail("weight", f"{where}: weight and total cannot be negative")
            specs.append(DomainSpec(name.strip(), weight, total, tuple(sections)))
        return tuple(specs)
