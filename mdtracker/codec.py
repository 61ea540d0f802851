"""Plain data for the cache: records (frozen dataclasses and NamedTuples, as the model's are) as MessagePack
arrays, and back, checked against their type hints on the way back.

The cache lives in the vault, so a vault cloned or synced from someone else brings its cache along: what is
read back must be data and nothing else, of exactly the types the records declare (an `int` is an int, a
line of text a str, a date a day number), or the whole file is refused (`Invalid`) and its notes are parsed
again. MessagePack, like JSON, constructs no object but lists, maps, strings and numbers (its extension
types come back as inert `ExtType` values, which no check accepts), and reads 10,000 notes' summaries about
as fast as pickle did (JSON took three times as long); each record is then built by a decoder generated
from its type hints, one small function per type.

Encoding: a record is the array of its fields, a date its proleptic ordinal (`date.toordinal()`), a frozenset
a sorted array (of strings: one string, joined by U+001F), a tuple an array, None nil.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from typing import Any, Callable

import msgpack  # type: ignore[import-untyped]


class Invalid(Exception):
    """Data that is not what the record types say: the file holding it is not used."""


def _default(value: Any) -> Any:
    """How a value MessagePack has no type for is written."""
    if type(value) is dt.date:
        return value.toordinal()
    if isinstance(value, frozenset):
        if value and all(type(x) is str and x and _SEP not in x for x in value):
            return _SEP.join(sorted(value))  # one string, split at C speed when read (sets of words recur)
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, name) for name in _field_names(type(value))]
    raise TypeError(f"the cache cannot hold a {type(value).__name__}")


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def dumps(value: Any) -> bytes:
    """The bytes of records, lists, dicts, strings, numbers, dates and frozensets (TypeError for anything
    else)."""
    return msgpack.packb(value, default=_default, use_bin_type=True)


def loads(data: bytes) -> Any:
    """The value the bytes hold: lists, maps with string keys, strings, numbers, booleans, nil; Invalid for
    anything else, for bytes that are not MessagePack, or for data nested deeper than any record."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception as err:  # whatever the unpacker makes of damaged bytes: ValueError, ExtraData, ...
        raise Invalid(f"not the cache's data: {type(err).__name__}") from None


# --- decoders, generated from type hints --------------------------------------------------------------------


def decoder(hint: Any) -> Callable[[Any], Any]:
    """A function that turns the JSON value of a `hint` back into one (Invalid when it is not one)."""
    return _compile(hint)


_PRIMITIVES = {int: "int", str: "str", bool: "bool"}


def _fail(*_: Any) -> Any:
    raise Invalid("unexpected value")


_SEP = "\x1f"  # (the unit separator: no note's heading holds it)


_KNOWN: dict[str, frozenset[str]] = {}  # the sets of strings read so far, by their joined text


def _strings(value: Any) -> frozenset[str]:
    """A frozenset of strings as written: joined by _SEP, or a list."""
    if type(value) is str:
        if len(_KNOWN) > 100_000:
            _KNOWN.clear()
        found = _KNOWN[value] = frozenset(value.split(_SEP))
        return found
    if type(value) is not list or not _types(value) <= {str}:
        raise Invalid("expected a set of strings")
    return frozenset(value)


def _types(values: list[Any]) -> set[type]:
    """The types of the values (at C speed: a shard holds tens of thousands of them)."""
    return set(map(type, values))


def _float(value: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise Invalid(f"expected a number, got {type(value).__name__}")


_DAYS: dict[int, dt.date] = {}  # the days met, by number: a vault's 100,000 dates fall on a few hundred days
_DAYS_KEPT = 1 << 16


def _date(value: Any) -> dt.date:
    if type(value) is not int:
        raise Invalid(f"expected a day number, got {type(value).__name__}")
    try:
        day = dt.date.fromordinal(value)
    except (ValueError, OverflowError):
        raise Invalid(f"{value} is no day") from None
    if len(_DAYS) < _DAYS_KEPT:
        _DAYS[value] = day
    return day


@functools.cache
def _compile(hint: Any) -> Callable[[Any], Any]:
    namespace: dict[str, Any] = {"Invalid": Invalid, "_float": _float, "_date": _date, "_days": _DAYS,
                                 "_new": object.__new__, "frozenset": frozenset, "tuple": tuple, "list": list,
                                 "dict": dict, "_types": _types, "_strings": _strings, "_known": _KNOWN}
    lines = ["def decode(v0):"]
    _emit(hint, "v0", "r0", lines, namespace, 1, [0])
    lines.append("    return r0")
    exec("\n".join(lines), namespace)  # noqa: S102 - our own generated source, from our own type hints
    decode: Callable[[Any], Any] = namespace["decode"]

    def guarded(value: Any) -> Any:
        try:
            return decode(value)
        except Invalid:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as err:
            raise Invalid(str(err)) from None

    return guarded


def _emit(hint: Any, src: str, dst: str, lines: list[str], ns: dict[str, Any], level: int, counter: list[int]
          ) -> None:
    """Append to `lines` the statements that check the JSON-like value in variable `src` is a `hint` and set
    variable `dst` to the decoded value. Records and lists of records are decoded inline (a call per value
    would double the time a shard takes to read)."""
    pad = "    " * level

    def fresh() -> str:
        counter[0] += 1
        return f"v{counter[0]}"

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _PRIMITIVES:
        lines.append(f"{pad}if type({src}) is not {_PRIMITIVES[hint]}: raise Invalid('{hint.__name__}')")
        lines.append(f"{pad}{dst} = {src}")
    elif hint is float:
        lines.append(f"{pad}{dst} = {src} if type({src}) is float else _float({src})")
    elif hint is dt.date:
        lines.append(f"{pad}{dst} = (_days.get({src}) or _date({src})) if type({src}) is int else _date({src})")
    elif hint is type(None):
        lines.append(f"{pad}if {src} is not None: raise Invalid('None')")
        lines.append(f"{pad}{dst} = None")
    elif origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError(f"the cache holds no {hint}")
        lines.append(f"{pad}if {src} is None:\n{pad}    {dst} = None\n{pad}else:")
        _emit(inner[0], src, dst, lines, ns, level + 1, counter)
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        lines.append(f"{pad}if type({src}) is not list: raise Invalid('list')")
        item = args[0]
        if item in _PRIMITIVES:
            lines.append(f"{pad}if not _types({src}) <= {{{_PRIMITIVES[item]}}}: raise Invalid('item')")
            lines.append(f"{pad}{dst} = tuple({src})")
        else:
            each, out, built = fresh(), fresh(), fresh()
            lines.append(f"{pad}{out} = []")
            lines.append(f"{pad}for {each} in {src}:")
            _emit(item, each, built, lines, ns, level + 1, counter)
            lines.append(f"{pad}    {out}.append({built})")
            lines.append(f"{pad}{dst} = tuple({out})")
    elif origin is tuple:
        parts = [fresh() for _ in args]
        lines.append(f"{pad}if type({src}) is not list or len({src}) != {len(args)}: raise Invalid('tuple')")
        lines.append(f"{pad}{', '.join(parts)}, = {src}")
        for arg, part in zip(args, parts):
            _emit(arg, part, part, lines, ns, level, counter)
        lines.append(f"{pad}{dst} = ({''.join(p + ', ' for p in parts)})")
    elif origin is frozenset:
        item = args[0]
        if item not in _PRIMITIVES:
            raise TypeError(f"the cache holds no {hint}")
        if item is str:  # (sets of section keys recur note after note: each is built once)
            found = fresh()
            lines.append(f"{pad}{found} = _known.get({src}) if type({src}) is str else None")
            lines.append(f"{pad}{dst} = _strings({src}) if {found} is None else {found}")
        else:
            lines.append(f"{pad}if type({src}) is not list: raise Invalid('list')")
            lines.append(f"{pad}if not _types({src}) <= {{{_PRIMITIVES[item]}}}: raise Invalid('item')")
            lines.append(f"{pad}{dst} = frozenset({src})")
    elif origin is dict:
        key, value = args
        if key is not str:
            raise TypeError(f"the cache holds no {hint}")
        each, out, built = fresh(), fresh(), fresh()
        lines.append(f"{pad}if type({src}) is not dict: raise Invalid('dict')")
        lines.append(f"{pad}{out} = {{}}")
        lines.append(f"{pad}for k, {each} in {src}.items():")
        lines.append(f"{pad}    if type(k) is not str: raise Invalid('key')")
        _emit(value, each, built, lines, ns, level + 1, counter)
        lines.append(f"{pad}    {out}[k] = {built}")
        lines.append(f"{pad}{dst} = {out}")
    elif isinstance(hint, type) and (dataclasses.is_dataclass(hint) or issubclass(hint, tuple)):
        _record(hint, src, dst, lines, ns, level, counter)
    else:
        raise TypeError(f"the cache holds no {hint!r}")


def _record(cls: type, src: str, dst: str, lines: list[str], ns: dict[str, Any], level: int, counter: list[int]
            ) -> None:
    hints = typing.get_type_hints(cls)
    names = list(_field_names(cls) if dataclasses.is_dataclass(cls) else cls._fields)  # type: ignore[attr-defined]
    pad = "    " * level
    parts = []
    for _ in names:
        counter[0] += 1
        parts.append(f"v{counter[0]}")
    lines.append(f"{pad}if type({src}) is not list or len({src}) != {len(names)}: raise Invalid({cls.__name__!r})")
    lines.append(f"{pad}{', '.join(parts)}, = {src}")
    for name, part in zip(names, parts):
        _emit(hints[name], part, part, lines, ns, level, counter)
    cls_name = f"_c{len(ns)}"
    ns[cls_name] = cls
    if not dataclasses.is_dataclass(cls):  # a NamedTuple: built as the tuple it is
        lines.append(f"{pad}{dst} = tuple.__new__({cls_name}, ({''.join(p + ', ' for p in parts)}))")
        return
    # as pickle builds a frozen dataclass: no __init__ to run
    lines.append(f"{pad}{dst} = _new({cls_name})")
    lines.append(f"{pad}{dst}.__dict__.update({{{', '.join(f'{n!r}: {p}' for n, p in zip(names, parts))}}})")
