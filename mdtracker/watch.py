"""`mdtracker watch`: keep the regions fresh while notes change, with exactly the pipeline of `sync`.

watchdog reports file events; they are gathered until the vault has been quiet for a moment (a `git
checkout` of 500 notes is one step, and nothing is written while a burst is still arriving), then one sync
step runs on the vault held in memory: only the notes whose stat changed are parsed again, only the regions
whose inputs changed are rendered, and only what differs is written. Its own writes leave the notes' stats
as recorded, so they start no new step: the watcher never loops on itself. Editors' temporary files (vim's
`4913` probe, swap and backup files, VS Code's and Obsidian's atomic renames) are not notes and are ignored.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from mdtracker import sync
from mdtracker.config import Config
from mdtracker.errors import ConfigError
from mdtracker.vault import CACHE_DIR, SKIPPED_FOLDERS, Vault, load, save

QUIET_S = 0.05  # the vault must be quiet this long before a step runs
MAX_WAIT_S = 2.0  # but a step runs at the latest this long after the first event of a burst


@dataclass(eq=False)  # watchdog keeps handlers in a set
class _Events(FileSystemEventHandler):
    """Gathers the events that may matter: notes, the config, the vault's own templates."""

    root: Path
    wake: threading.Event
    first: float = 0.0
    last: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def relevant(self, path: str) -> bool:
        try:
            rel = Path(path).relative_to(self.root)
        except ValueError:
            return False
        parts = rel.parts
        if not parts or any(p in SKIPPED_FOLDERS or p.startswith(".") for p in parts[:-1]) or parts[0] == CACHE_DIR:
            return False
        name = parts[-1]
        if name.startswith("."):
            return False
        return (name.lower().endswith(".md") or name in ("mdtracker.toml", "pyproject.toml")
                or (len(parts) == 2 and parts[0] == "templates" and name.endswith(".j2")))

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if any(p and self.relevant(str(p)) for p in paths):
            now = time.monotonic()
            with self.lock:
                self.first = self.first or now
                self.last = now
            self.wake.set()

    def settled(self) -> bool:
        """True once a burst is over (quiet long enough, or waited long enough)."""
        with self.lock:
            if not self.first:
                return False
            now = time.monotonic()
            if now - self.last >= QUIET_S or now - self.first >= MAX_WAIT_S:
                self.first = self.last = 0.0
                return True
            return False


@dataclass
class Watcher:
    """Watches a vault; `step()` syncs it once; `run(stop)` watches until `stop` is set."""

    root: Path
    load_config: Callable[[], Config]
    today: Callable[[], dt.date]
    say: Callable[[str], None]
    jobs: int | None = None
    config: Config | None = None
    vault: Vault | None = None
    steps: int = 0
    writes: int = 0
    reported: set[str] = field(default_factory=set)

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
            self.vault = None  # another config: every summary is computed again
        self.reported = {k for k in self.reported if not k.startswith("config:")}
        self.config = config
        return config

    def step(self) -> None:
        """One sync of the vault as it is now."""
        config = self._config()
        if config is None:
            return
        self.steps += 1
        today = self.today()
        self.vault = load(self.root, config, jobs=self.jobs, previous=self.vault, plan_for=today, write=True)
        applied = sync.apply(self.vault, today)
        messages = [str(err) for err in applied.errors]
        for message in messages:
            if message not in self.reported:  # reported once, until the note changes again
                self.say(message)
        self.reported = {k for k in self.reported if k.startswith("config:")} | set(messages)
        for o in applied.written:
            self.writes += 1
            self.say(f"updated {o.path}: " + ", ".join(f"{c.what} (line {c.line})" for c in o.changes))
        save(self.vault)

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
                if events.settled():
                    wake.clear()
                    self.step()
                elif events.first:
                    time.sleep(QUIET_S / 2)
                else:
                    wake.clear()
        finally:
            observer.stop()
            observer.join()
