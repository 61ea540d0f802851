"""Properties of sync over generated notes: nothing outside regions and cookies changes, sync is
idempotent, and check agrees with it, whatever the line endings, BOM, final newline or characters."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import shutil
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from mdtracker.cli import run
from mdtracker.config import Config
from mdtracker.files import split_lines
from mdtracker.model import Document
from mdtracker.parse import cookies_unread, parse
from mdtracker.regions import splice
from mdtracker.transform import cookie_value
from mdtracker.pipeline import load_config
from mdtracker.watch import Watcher

WORDS = st.text(st.sampled_from(list("abcxyz XYZ019.,;:!?-*#[]/%()éü中文😀🔥𝔘\u200b")), min_size=1, max_size=20).map(
    lambda s: s.strip() or "w")
STATUS = st.sampled_from([" ", "x", "X", "/", "-", "S", "?"])
COOKIE = st.sampled_from(["", " [/]", " [%]", " [3/8]", " [37%]"])
REGION = st.sampled_from(["progress", "headings", "overdue", "readiness", "scores", "quick-stats", "reviews"])
INLINE = st.sampled_from(["progress", "readiness-pct", "last-updated"])


@st.composite
def blocks(draw) -> list[str]:
    kind = draw(st.sampled_from(["heading", "tasks", "text", "region", "inline", "blank", "table"]))
    if kind == "heading":
        return [f"{'#' * draw(st.integers(1, 3))} {draw(WORDS)}{draw(COOKIE)}"]
    if kind == "tasks":
        lines, depth = [], 0
        for _ in range(draw(st.integers(1, 4))):
            depth = draw(st.integers(0, depth + 1)) if lines else 0
            lines.append(f"{'  ' * depth}- [{draw(STATUS)}] {draw(WORDS)}{draw(COOKIE)}")
        return lines
    if kind == "text":
        return [draw(WORDS)]
    if kind == "region":
        name = draw(REGION)
        inside = draw(st.lists(WORDS, max_size=3))
        return ["", f"<!-- mdtracker:begin {name} -->", *inside, f"<!-- mdtracker:end {name} -->", ""]
    if kind == "inline":
        name = draw(INLINE)
        return [f"{draw(WORDS)} <!-- mdtracker:begin {name} -->{draw(WORDS)}<!-- mdtracker:end {name} --> {draw(WORDS)}"]
    if kind == "table":
        return ["", "| Domain | Total Topics |", "|---|---|", f"| {draw(WORDS)} (20%) | 3 |", ""]
    return [""]


@st.composite
def notes(draw) -> bytes:
    lines = [line for block in draw(st.lists(blocks(), min_size=1, max_size=8)) for line in block]
    style = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    ends = [draw(st.sampled_from(["\n", "\r\n", "\r"])) if style == "mixed" else style for _ in lines]
    text = "".join(line + end for line, end in zip(lines, ends))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode("utf-8")


_INLINE_REGION = re.compile(r"(<!-- mdtracker:begin [^>]*-->).*?(<!-- mdtracker:end [^>]*-->)")
_COOKIE = re.compile(r"\[(?:\d*/\d*|\d*%)\](?=[ \t]*$)")
_BEGIN = re.compile(r"^<!-- mdtracker:begin \S+ -->$")
_END = re.compile(r"^<!-- mdtracker:end \S+ -->$")


def outside(raw: bytes) -> list[str]:
    """The note with region contents and cookies blanked out: what sync must never change."""
    kept, in_block = [], False
    for line in split_lines(raw.decode("utf-8-sig")):
        body = line.rstrip("\r\n")
        if in_block:
            if _END.match(body):
                in_block = False
                kept.append(line)
            continue
        if _BEGIN.match(body):
            in_block = True
            kept.append(line)
            continue
        body = _INLINE_REGION.sub(r"\1\2", body)
        if re.match(r"\s*(#|- )", body):
            body = _COOKIE.sub("[]", body)
        kept.append(body + line[len(line.rstrip("\r\n")):])
    return kept


@given(notes())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_sync_changes_nothing_outside_regions_and_is_idempotent(raw):
    with tempfile.TemporaryDirectory() as folder:
        vault = Path(folder)
        note = vault / "note.md"
        note.write_bytes(raw)
        (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n')
        code = run(["sync", str(vault)])
        after = note.read_bytes()
        event(f"exit {code}")
        if code == 2:  # a note sync refuses (markers it cannot read) stays byte for byte as it was
            assert after == raw
            return
        assert code == 0
        assert outside(after) == outside(raw)
        assert after.startswith(b"\xef\xbb\xbf") == raw.startswith(b"\xef\xbb\xbf")
        assert after.endswith((b"\n", b"\r")) == raw.endswith((b"\n", b"\r"))
        assert run(["check", str(vault)]) == 0
        run(["sync", str(vault)])
        assert note.read_bytes() == after


# What a heading's or an item's first line may hold beside a cookie: some of it a recognizer reads
BITS = st.lists(st.sampled_from(["Study", "**Status**: fine", "level:: 3", "[due:: 2025-01-02]", "📅 2025-01-03",
                                 "#tag", "Quiz 3/5 core", "Topic: 80%", "[1/2]", "x"]), min_size=1, max_size=3)


@st.composite
def cookie_notes(draw) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        text = " ".join(draw(BITS))
        cookie = draw(st.sampled_from([" ", ""])) + draw(st.sampled_from(["[/]", "[%]", "[0/9]", "[37%]"])) \
            + draw(st.sampled_from(["", " #", "  ##"]))
        kind = draw(st.sampled_from(["atx", "setext", "task", "item"]))
        lines += {"atx": [f"## {text}{cookie}"], "setext": ["", f"{text}{cookie}", "---"],
                  "task": [f"- [ ] {text}{cookie}"], "item": [f"- {text}{cookie}"]}[kind]
        lines += [f"  - [{draw(st.sampled_from(' x-'))}] step" for _ in range(draw(st.integers(0, 2)))]
    return "\n".join(lines) + "\n"


@given(cookie_notes())
@settings(max_examples=300, deadline=None)
def test_cookies_that_nothing_else_reads_change_nothing_else_when_rewritten(text):
    """A first sync keeps a note's summary when it rewrote only cookies that `cookies_unread` vouches for;
    the note as written must then parse to the same Document but for what the cookies say."""
    config = Config()
    doc = parse(text, "n.md")
    new_text, changes = splice(text, [], [(c, cookie_value(doc, c, config)) for c in doc.cookies])
    unread = bool(changes) and cookies_unread(doc, {c.line for c in changes})
    event(f"cookies rewritten: {bool(changes)}, unread: {unread}")
    if unread:
        def blank(d: Document) -> Document:
            return dataclasses.replace(d, cookies=tuple(dataclasses.replace(c, written="") for c in d.cookies))

        assert blank(parse(new_text, "n.md")) == blank(doc)


SLOTS = ["a.md", "b.md", "plans/c.md", "plans/d.md"]
BROKEN = b"\n<!-- mdtracker:begin progress -->\nno end\n"
OWN = ["mine", "progress", "headings", "last-updated"]  # names of templates the vault's own may have (and regions)
UNUSED = "other"  # a template of the vault's own that no region names
TEMPLATES = ["{{ vault.counts.total }} tasks\n", "{{ vault.counts.done }} done on {{ today }}\n", "{{ oops(\n", None]


class CachedAgreesWithUncached(RuleBasedStateMachine):
    """Edits, syncs and checks in any order, on two copies of a vault: one run with the cache (and its fresh
    stamp, which lets a run look only at what changed, at the notes with regions on the day or the vault, and
    at the notes the last run left stale or failed on), the other with `--no-cache`. Every command must say
    the same and leave the same bytes. A watcher on the first copy is told, as file events would tell it,
    which notes were written or deleted since its last step (or to look at every note)."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.cached, self.uncached = Path(self.folder.name, "cached"), Path(self.folder.name, "uncached")
        self.cached.mkdir()
        self.uncached.mkdir()
        self.watcher: Watcher | None = None
        self.day = dt.date(2025, 11, 22)
        self.seen: dict[str, bytes] = {}  # the notes as the watcher's last step left them
        self.written: set[str] = set()  # the notes written or deleted since (even with the same bytes)
        self.templates_changed = False

    def teardown(self) -> None:
        self.folder.cleanup()

    def _both(self, *args: str) -> None:
        said = []
        for vault, flags in ((self.cached, []), (self.uncached, ["--no-cache"])):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run([*args, *flags, str(vault)])
            said.append((code, out.getvalue(), err.getvalue()))
        assert said[0] == said[1]
        event(f"{args[0]} exit {said[0][0]}")
        assert self._files(self.cached) == self._files(self.uncached)

    @staticmethod
    def _files(vault: Path) -> dict[str, bytes]:
        return {p.relative_to(vault).as_posix(): p.read_bytes() for p in vault.rglob("*.md")}

    @rule(slot=st.sampled_from(SLOTS), raw=notes(), broken=st.booleans(), region=st.sampled_from([None, *OWN]))
    def write(self, slot: str, raw: bytes, broken: bool, region: str | None) -> None:
        """A note, sometimes with a broken region, and sometimes ending with a region named like a template
        of the vault's own (`mine` is only ever one of those; the others may stand in for built-in ones)."""
        end = f"\n<!-- mdtracker:begin {region} -->\n<!-- mdtracker:end {region} -->\n".encode() if region else b""
        for vault in (self.cached, self.uncached):
            (vault / slot).parent.mkdir(parents=True, exist_ok=True)
            (vault / slot).write_bytes(raw + (BROKEN if broken else b"") + end)
        self.written.add(slot)

    @rule(name=st.sampled_from([*OWN, UNUSED]), body=st.sampled_from(TEMPLATES))
    def template(self, name: str, body: str | None) -> None:
        """The vault's own templates: edited, added (`progress`, `headings` and `last-updated` stand in for
        built-in ones; no region is named `other`), removed."""
        for vault in (self.cached, self.uncached):
            path = vault / "templates" / f"{name}.md.j2"
            path.parent.mkdir(exist_ok=True)
            if body is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(body)
        self.templates_changed = True

    @rule(slot=st.sampled_from(SLOTS))
    def delete(self, slot: str) -> None:
        for vault in (self.cached, self.uncached):
            (vault / slot).unlink(missing_ok=True)
        self.written.add(slot)

    @rule(day=st.sampled_from(["2025-11-22", "2025-11-23"]))
    def sync(self, day: str) -> None:
        self._both("sync", "--today", day)

    @rule(day=st.sampled_from(["2025-11-22", "2025-11-23"]), diff=st.booleans())
    def check(self, day: str, diff: bool) -> None:
        self._both("check", "--today", day, *(["--diff"] if diff else []))

    @rule(day=st.sampled_from(["2025-11-22", "2025-11-23"]))
    def report(self, day: str) -> None:
        """A report (which, when it parsed every note, remembers what the next sync or check must look at)."""
        self._both("report", "--json", "--today", day)

    @rule()
    def lose_cache(self) -> None:
        """The cache deleted (always safe): the next command is cold."""
        shutil.rmtree(self.cached / ".mdtracker", ignore_errors=True)

    @rule(day=st.sampled_from(["2025-11-22", "2025-11-23"]), look_at_all=st.booleans())
    def watch_step(self, day: str, look_at_all: bool) -> None:
        """What `watch` does when notes change, on the vault it keeps in memory between steps (another `sync`
        may have run in between, as when the user runs one while watch is on): told the notes that file events
        would name (those written or deleted, by the user or by that sync), or to look at them all (as it
        does when a folder or a template changed, and from time to time)."""
        said: list[str] = []
        if self.watcher is None:
            self.watcher = Watcher(self.cached, lambda: load_config(self.cached), lambda: self.day, said.append)
        self.day = dt.date.fromisoformat(day)
        self.watcher.say = said.append
        now = self._files(self.cached)
        named = self.written | {rel for rel in now.keys() | self.seen.keys() if now.get(rel) != self.seen.get(rel)}
        self.watcher.step(None if look_at_all or self.templates_changed else named)
        self.seen, self.written, self.templates_changed = self._files(self.cached), set(), False
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            run(["sync", "--today", day, "--no-cache", str(self.uncached)])
        assert [m for m in said if m.startswith("updated ")] == [
            line for line in out.getvalue().splitlines() if line.startswith("updated ")]
        assert self._files(self.cached) == self._files(self.uncached)


CachedAgreesWithUncached.TestCase.settings = settings(max_examples=60, stateful_step_count=15, deadline=None,
                                                      suppress_health_check=[HealthCheck.too_slow])
test_cached_and_uncached_runs_agree_whatever_the_order_of_edits_syncs_and_checks = CachedAgreesWithUncached.TestCase
