"""`mdtracker watch`: keep the regions fresh while notes change, with exactly the pipeline of `sync`.

watchdog reports file events; they are gathered until the vault has been quiet for a moment (a `git
checkout` of 500 notes is one step, and nothing is written while a burst is still arriving), then one sync
step runs on the vault held in memory: only the notes the events named are looked at on disk (the whole
vault when a folder came, went or moved, and every few minutes in case the system dropped events: the
watcher's one cost that grows with the vault), only those that changed are parsed again, only the regions
whose inputs changed are rendered, and only what differs is written. Its own writes leave the notes' stats
as recorded, so the step their events start finds nothing to do: the watcher never loops on itself.
Editors' temporary files (vim's `4913` probe, swap and backup files, VS Code's and Obsidian's atomic
renames) are not notes and are ignored.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from mdtracker import dashboard
from mdtracker.config import Config
from mdtracker.discovery import VAULT_TEMPLATES, note_name, searched
from mdtracker.engine import Engine
from mdtracker.errors import ConfigError

QUIET_S = 0.05  # the vault must be quiet this long before a step runs
MAX_WAIT_S = 2.0  # but a step runs at the latest this long after the first event of a burst
LOOK_EVERY_S = 60.0  # while idle, every note is looked at this often (inotify drops events when its queue is full)
LOOK_SHARE = 0.005  # and on a vault where a look takes long, rarely enough to keep it under this share of a core


@dataclass(eq=False)  # watchdog keeps handlers in a set
class _Events(FileSystemEventHandler):
    """Gathers the events that may matter, and what they name: notes, by their paths in the vault; or a reason
    to look at the whole vault (a folder created, deleted or moved, the config, the vault's own templates)."""

    root: Path
    wake: threading.Event
    first: float = 0.0
    last: float = 0.0
    notes: set[str] = field(default_factory=set)
    everything: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _parts(self, path: str) -> tuple[str, ...] | None:
        """The path's parts in the vault, when it is in a folder discovery looks into."""
        try:
            parts = Path(path).relative_to(self.root).parts
        except ValueError:
            return None
        return parts if parts and all(searched(p) for p in parts[:-1]) else None

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        notes, everything = set(), False
        for path in (event.src_path, getattr(event, "dest_path", "") or ""):
            parts = self._parts(os.fsdecode(path)) if path else None
            if parts is None:
                continue
            name = parts[-1]
            if event.is_directory:  # a change inside a folder comes as an event of its own; a new folder may not
                everything = everything or (event.event_type in ("created", "deleted", "moved") and searched(name))
            elif note_name(name):
                notes.add("/".join(parts))
            elif (len(parts) == 1 and name in ("mdtracker.toml", "pyproject.toml")) or (
                    len(parts) == 2 and parts[0] == VAULT_TEMPLATES and name.endswith(".j2")):
                everything = True
        if notes or everything:
            now = time.monotonic()
            with self.lock:
                self.first = self.first or now
                self.last = now
                self.notes |= notes
                self.everything = self.everything or everything
            self.wake.set()

    def settled(self) -> tuple[set[str], bool] | None:
        """Once a burst is over (quiet long enough, or waited long enough): the notes its events named, and
        whether to look at the whole vault; None before."""
        with self.lock:
            if not self.first:
                return None
            now = time.monotonic()
            if now - self.last >= QUIET_S or now - self.first >= MAX_WAIT_S:
                burst = (self.notes, self.everything)
                self.first = self.last = 0.0
                self.notes, self.everything = set(), False
                return burst
            return None


@dataclass
class Watcher:
    """Watches a vault; `step()` syncs it once; `run(stop)` watches until `stop` is set."""

    root: Path
    load_config: Callable[[], Config]
    today: Callable[[], dt.date]
    say: Callable[[str], None]
    jobs: int | None = None
    config: Config | None = None
    engine: Engine | None = None  # the vault held between steps
    steps: int = 0
    writes: int = 0
    reported: set[str] = field(default_factory=set)
    looked: float = 0.0  # when the last step that looked at every note ended (time.monotonic)
    look_cost: float = 0.0  # and how long it took

    def _config(self) -> Config | None:
        try:
            config = self.load_config()
        except ConfigError as err:
            key = f"config:{err}"
            if key not in self.reported:
                self.say(f"{err} (keeping the last good config)" if self.config else str(err))
                self.reported.add(key)
            return self.config
        if self.config is not None and config.fingerprint != self.config.fingerprint:
            self.say(f"reloaded {config.source or 'the config'}")
            self.engine = None  # another config: every summary is computed again
        self.reported = {k for k in self.reported if not k.startswith("config:")}
        self.config = config
        return config

    def step(self, touched: set[str] | None = None) -> None:
        """One sync of the vault as it is now: of the notes, only those `touched` (their paths in the vault,
        as file events named them since the last step) are looked at on disk; all of them if None."""
        config = self._config()
        if config is None:
            return
        self.steps += 1
        today = self.today()
        start, everything, cold = time.monotonic(), touched is None or self.engine is None, self.engine is None
        if self.engine is None:
            self.engine = Engine(self.root, config, self.jobs)
        engine = self.engine
        engine.update(touched, today=today, write=True)
        applied = engine.apply(today)
        messages = [str(err) for err in applied.errors]
        for message in messages:
            if message not in self.reported:  # reported once, until the note changes again
                self.say(message)
        self.reported = {k for k in self.reported if k.startswith("config:")} | set(messages)
        for o in applied.written:
            self.writes += 1
            self.say(f"updated {o.path}: " + ", ".join(f"{c.what} (line {c.line})" for c in o.changes))
        if config.dashboard_file is not None:
            self._dashboard(config, today)
        engine.save()  # (when the step learnt something: else the cache on disk says it all already)
        if cold:  # every note's summary, held from now on between steps: read now, not at the first change
            engine.hold()
        if everything:
            self.looked = time.monotonic()
            self.look_cost = self.looked - start

    def _dashboard(self, config: Config, today: dt.date) -> None:
        """Keep the config's `[dashboard] file` fresh, as sync does (made again only when its inputs changed)."""
        engine = self.engine
        assert engine is not None
        vault = engine.current
        try:
            written = dashboard.update(self.root, config, today, vault.stats, lambda: engine.analysis(today),
                                       cache=not vault.errors)
        except OSError as err:
            message = f"{config.dashboard_file}: cannot write the dashboard: {err.strerror or err}"
            if message not in self.reported:
                self.say(message)
                self.reported.add(message)
            return
        if written is not None:
            self.writes += 1
            self.say(f"updated {config.dashboard_file}: dashboard")

    def due_for_a_look(self) -> bool:
        """Whether it is time to look at every note, in case the system dropped events."""
        return time.monotonic() - self.looked >= max(LOOK_EVERY_S, self.look_cost / LOOK_SHARE)

    def run(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        wake = threading.Event()
        events = _Events(self.root.resolve(), wake)
        observer = Observer()
        observer.schedule(events, str(self.root.resolve()), recursive=True)
        observer.start()
        try:
            self.step()
            if ready is not None:
                ready.set()
            while not stop.is_set():
                wake.wait(0.5)
                burst = events.settled()
                if burst is not None:
                    wake.clear()
                    notes, everything = burst
                    self.step(None if everything else notes)
                elif events.first:
                    time.sleep(QUIET_S / 2)
                else:
                    wake.clear()
                    if self.due_for_a_look():
                        self.step()
        finally:
            observer.stop()
            observer.join()
