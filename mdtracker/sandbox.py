"""The sandbox templates run in. A vault's own templates (`templates/NAME.md.j2`) come with the vault, from
anyone: they get plain data only (see `view`), and run in Jinja2's immutable sandbox, tightened further:

- attributes are read only on plain data (dicts, lists, strings, numbers, dates) and Jinja2's own helpers
  (`loop`, `namespace()`, macros): nothing a template is given leads to a live object, a path or a method
  with effects;
- what can make a huge value from a small one is checked before it runs: `*` on strings and lists, `**`,
  `%` and `str.format` widths, `center`/`ljust`/…, the `center`, `indent`, `wordwrap`, `format`, `slice`
  and `batch` filters, `range` (at most 100,000 items, as Jinja2's sandbox has it); `lipsum` is gone;
- a vault's own template renders within `SECONDS` of its own time, `MAX_OUTPUT` characters of output, and
  (on Linux) `MEMORY` bytes more memory than the process held before (`Bounds`).

Whatever a template does past these is a `RenderError` at its region's line: that note is left untouched,
the others are synced. Jinja2's documentation is explicit that its sandbox does not bound time or memory;
`Bounds` does.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import math
import re
import string
import threading
import time
import types
from typing import Any, Callable, Iterator

import jinja2
import jinja2.filters
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

try:
    import resource
except ImportError:  # not on Windows: there the time and output bounds still hold
    resource = None  # type: ignore[assignment]

SECONDS = 2.0  # a vault's own template's render takes at most this long (its own time: not the analysis')
MAX_OUTPUT = 1_000_000  # and writes at most this many characters into its region
MEMORY = 512 << 20  # and takes at most this much more memory (Linux)
MAX_SIZE = MAX_OUTPUT  # no string or list a template builds with `*`, padding or formatting is longer


class RenderLimit(Exception):
    """A template went past a bound: too long, too large, too much memory."""


class _Timeout(BaseException):
    """Raised in the rendering thread when its time is up (a BaseException: a template cannot catch it)."""


_PLAIN = (dict, list, tuple, str, int, float, bool, type(None), dt.date, range)
_JINJA_MODULES = ("jinja2.", "markupsafe")


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, for templates that see plain data only and may not blow up."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        module = type(obj).__module__
        if not (isinstance(obj, _PLAIN) or module.startswith(_JINJA_MODULES)):
            return False  # (no object but plain data and Jinja2's own reaches a template: this is a second lock)
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_SIZE:
                    raise RenderLimit(f"a value of {len(seq) * times:,} items is larger than a region may hold")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0 and (
                    right * math.log2(abs(left)) > 64 * 1024):
                raise RenderLimit(f"{left} ** {right} is too large a number")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left)
        elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            if len(left) + len(right) > MAX_SIZE:
                raise RenderLimit("a value larger than a region may hold")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(getattr(__obj, "__self__", None), str):
            if __obj.__name__ in ("center", "ljust", "rjust", "zfill", "expandtabs"):
                _check_sizes(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped


def environment(loader: jinja2.BaseLoader) -> Sandbox:
    """A sandboxed environment for Markdown regions (no autoescape: the output is Markdown, and markers in
    it are escaped by the splice)."""
    env = Sandbox(loader=loader, autoescape=False, keep_trailing_newline=False, trim_blocks=True,
                  lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.globals.pop("lipsum", None)
    for name in ("center", "indent", "wordwrap", "format", "slice", "batch", "truncate"):
        env.filters[name] = _checked(env.filters[name])
    return env


def _checked(filter_: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose whole-number arguments (widths, counts) are checked first."""
    if getattr(filter_, "jinja_pass_arg", None) is not None:  # (pass_environment / pass_eval_context)
        def passing(first: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
            _check_sizes(args, kwargs)
            if filter_ is jinja2.filters.do_format and isinstance(value, str):
                _check_printf(value)
            return filter_(first, value, *args, **kwargs)

        passing.jinja_pass_arg = filter_.jinja_pass_arg  # type: ignore[attr-defined]
        return passing

    def plain(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_sizes(args, kwargs)
        if filter_ is jinja2.filters.do_format and isinstance(value, str):
            _check_printf(value)
        return filter_(value, *args, **kwargs)

    return plain


def _check_sizes(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE:
            raise RenderLimit(f"{value:,} is larger than a region may hold")


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_printf(text: str) -> None:
    """`%` formatting with widths a region can hold (`%5d`, never `%999999999d`, never `%*d`)."""
    for m in _PRINTF.finditer(text):
        for width in m.groups():
            if width == "*" or (width and int(width) > MAX_SIZE):
                raise RenderLimit(f"format {m.group(0)!r} is wider than a region may hold")


def _check_format(text: str) -> None:
    """`str.format` with widths a region can hold, and no width taken from an argument."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format will say what is wrong with it
    for _, _, spec, _ in fields:
        if spec and "{" in spec:
            raise RenderLimit("a format width taken from an argument is not allowed in a template")
        for width in re.findall(r"\d+", spec or ""):
            if int(width) > MAX_SIZE:
                raise RenderLimit(f"format width {width} is wider than a region may hold")


# --- time, output and memory ----------------------------------------------------------------------------


class Bounds:
    """The time and memory one render of a vault's own template may take (a context manager), and its output
    (`collect`). Time is the template's own: what the analysis works out for it meanwhile (`untimed`)
    does not count. When the time is up, the rendering thread is interrupted where it stands, at the next
    bytecode (CPython's asynchronous exceptions): a loop in a template cannot run on."""

    _current = threading.local()

    def __init__(self, seconds: float = SECONDS, memory: int = MEMORY, output: int = MAX_OUTPUT) -> None:
        self.seconds, self.memory, self.output = seconds, memory, output
        self._lock = threading.Lock()
        self._paused = 0
        self._spent = 0.0
        self._since = 0.0
        self._done = threading.Event()
        self._fired = False
        self._thread_id = 0
        self._limit: tuple[int, int] | None = None

    def __enter__(self) -> Bounds:
        self._thread_id = threading.get_ident()
        self._since = time.monotonic()
        threading.Thread(target=self._watch, daemon=True, name="mdtracker-template-clock").start()
        self._limit_memory()
        Bounds._current.value = self
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        try:
            self._stop()
        except _Timeout:  # the time ran out just now: it cannot come again
            self._stop()
        finally:
            Bounds._current.value = None
            self._restore_memory()
        if kind is _Timeout or (kind is not None and self._fired and issubclass(kind, Exception)):
            raise RenderLimit(f"took longer than {self.seconds:g} s") from None
        if kind is MemoryError:
            raise RenderLimit(f"took more than {self.memory >> 20} MB of memory") from None
        return None

    def _stop(self) -> None:
        with self._lock:
            self._done.set()
            if self._fired:  # interrupted, or about to be: clear what is still pending
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread_id), None)

    def _watch(self) -> None:
        while not self._done.wait(0.02):
            with self._lock:
                if self._done.is_set():
                    return
                spent = self._spent + (0.0 if self._paused else time.monotonic() - self._since)
                if spent > self.seconds and not self._paused:
                    self._fired = True
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread_id),
                                                               ctypes.py_object(_Timeout))
                    return

    @classmethod
    @contextlib.contextmanager
    def untimed(cls) -> Iterator[None]:
        """Work done for a template (the analysis it asks for) that its clock does not count."""
        bounds = getattr(cls._current, "value", None)
        if bounds is None:
            yield
            return
        with bounds._lock:
            if not bounds._paused:
                bounds._spent += time.monotonic() - bounds._since
            bounds._paused += 1
        try:
            yield
        finally:
            with bounds._lock:
                bounds._paused -= 1
                if not bounds._paused:
                    bounds._since = time.monotonic()

    def collect(self, chunks: Iterator[str]) -> str:
        """The template's output, stopped as soon as it is larger than a region may hold."""
        out, size = [], 0
        for chunk in chunks:
            size += len(chunk)
            if size > self.output:
                raise RenderLimit(f"wrote more than {self.output:,} characters")
            out.append(chunk)
        return "".join(out)

    def _limit_memory(self) -> None:
        if resource is None or not hasattr(resource, "RLIMIT_AS"):
            return
        try:
            with open("/proc/self/statm") as statm:
                used = int(statm.read().split()[0]) * resource.getpagesize()
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            want = used + self.memory
            if (soft == resource.RLIM_INFINITY or soft > want) and (hard == resource.RLIM_INFINITY or hard >= want):
                resource.setrlimit(resource.RLIMIT_AS, (want, hard))
                self._limit = (soft, hard)
        except (OSError, ValueError):  # no /proc (not Linux): time and output are still bounded
            pass

    def _restore_memory(self) -> None:
        if self._limit is not None and resource is not None:
            resource.setrlimit(resource.RLIMIT_AS, self._limit)
            self._limit = None


__all__ = ["Bounds", "RenderLimit", "Sandbox", "SecurityError", "environment"]
