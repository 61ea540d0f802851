"""The engine every front-end drives: a vault opened once, then brought up to date as often as it likes.

    engine = Engine(root, config)
    engine.update(today=day, write=True)      # look at every note (or only `touched` paths; `buffers`:
                                              # an editor's open documents, in place of their files)
    engine.analysis(day)                      # the numbers: for `report`, the dashboard, hovers
    engine.plan(day) / engine.apply(day)      # what sync would change / sync it
    engine.save()                             # the cache, when something changed

A command makes one Engine and updates it once; `watch` keeps one and updates it with the paths its file
events name; the language server keeps one too. Between updates the engine holds the vault in memory, so
that a step looks on disk only at what changed and parses only that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from mdtracker import cache, pipeline
from mdtracker.config import Config
from mdtracker.errors import NoteError
from mdtracker.pipeline import Applied
from mdtracker.vault import Note, Outcome, Vault

if TYPE_CHECKING:  # (loaded with the parser, only when a note must be parsed: see `pipeline._stage`)
    from mdtracker.analyze import Analysis
    from mdtracker.regions import Change


@dataclass
class Engine:
    """A vault kept between updates. `use_cache` False: every note is parsed, and no cache is read or written."""

    root: Path
    config: Config
    jobs: int | None = None
    use_cache: bool = True
    progress: Callable[[int], Callable[[int], None]] | None = None  # a progress bar for long parses
    vault: Vault | None = None
    saved: dict | None = field(default=None, repr=False)  # the fresh stamp the cache on disk holds

    def update(self, touched: Iterable[str] | None = None, *, today: dt.date | None = None, write: bool = False,
               texts: bool = False, documents: bool = True, buffers: Mapping[str, str] | None = None) -> Vault:
        """Bring the vault up to date: the notes at `touched` (vault-relative paths, as file events name
        them) are looked at on disk, or every note when None or when this is the first update; those that
        changed are parsed again. With `today` (sync and check), notes whose regions need nothing but
        themselves and the day are transformed for that day as they are parsed; with `write`, written there
        too; with `texts`, their old and new texts kept (check --diff). Without `documents` (report, lint),
        the parsed Documents are not kept. `buffers` (vault-relative path → text: an editor's open documents)
        stand in for those notes: read from that text, planned from it, never written, never cached."""
        first = self.vault is None
        self.vault = pipeline.load(self.root, self.config, use_cache=self.use_cache, jobs=self.jobs,
                                   progress=self.progress, previous=self.vault, plan_for=today, write=write,
                                   texts=texts, documents=documents, touched=touched, buffers=buffers)
        if first:
            self.saved = self.vault.fresh  # as read from the cache's index
        return self.vault

    @property
    def current(self) -> Vault:
        assert self.vault is not None, "update the engine first"
        return self.vault

    def fresh(self, today: dt.date) -> bool:
        """Nothing changed since a run found every region fresh: sync and check have nothing to do."""
        return self.use_cache and self.current.is_fresh(today)

    def analysis(self, today: dt.date) -> Analysis:
        """The vault's analysis on `today` (worked out part by part as it is asked for)."""
        return self.current.analysis(today)

    def plan(self, today: dt.date, known: bool = False) -> tuple[list[Outcome], list[NoteError]]:
        """What sync would do to every note it would look at, and the errors met; nothing is written.
        With `known` (check), a note the last check found stale and unchanged since is taken as it found it."""
        return pipeline.outcomes(self.current, today, incremental=self.use_cache, known=known)

    def plan_of(self, today: dt.date, paths: Iterable[str]) -> list[Outcome]:
        """What sync would do to these notes only (an editor's open documents), with their texts; nothing
        is written."""
        vault = self.current
        return pipeline.plan(vault, lambda: vault.analysis(today), set(paths))

    def note(self, path: str) -> Note | None:
        """What is known of one note (for a buffer, its Document too)."""
        vault = self.current
        return vault.parsed.get(path) or vault.notes.get(path)

    def apply(self, today: dt.date) -> Applied:
        """Sync: write every note that is stale; the vault is then known fresh, but for the notes that failed."""
        return pipeline.apply(self.current, today, incremental=self.use_cache)

    def mark_fresh(self, today: dt.date, stale: dict[str, tuple[Change, ...] | None]) -> None:
        """Every region is fresh but in the `stale` notes (what is out of date in each; None if it failed):
        the next run can stop early, or look only at those notes and what changed."""
        self.current.mark_fresh(today, stale)

    def hold(self) -> None:
        """Read every note's summary now, to hold them in memory from now on (a long-running front-end)."""
        self.current.notes  # noqa: B018

    def save(self) -> None:
        """Write the cache when this engine learnt something the cache on disk does not say yet."""
        vault = self.current
        if self.use_cache and (vault.changed or vault.fresh != self.saved):
            cache.save(vault)
            self.saved = vault.fresh
