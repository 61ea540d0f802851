"""Parsing cold notes on every core: the notes in batches, one worker process per core, each batch run
through the stage the pipeline hands over (read, parse, summarize, and for sync transform and write what
needs only its own note: `pipeline.read_and_summarize`).

With a shelf (the cache's folder and key), the batches are the cache's shards: each worker writes the shard
of the notes it parsed and sends back only what the command needs at once; the summaries stay on disk until
an analysis asks for them.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from mdtracker import cache
from mdtracker.vault import Entry, Note, Setting

PARALLEL_FROM = 64  # fewer cold notes than this are parsed in this process
Stage = Callable[[str, str, int, int, Setting], Note]  # (path, rel, size, mtime_ns, setting) -> the note known
Shelf = tuple[Path, list[object], Iterable[str]]  # the cache's folder, its key, and every note of the vault


def fewer_collections() -> None:
    """Parsing, and reading the cache's summaries, allocate many small objects, with hardly a reference cycle
    among them; the cyclic garbage collector's default pace costs a bulk parse about a fifth of its time, and
    a report of 10,000 notes from the cache a third. So collect less often (as mypy does), and never walk the
    objects that exist before. Set for every command by the command line, and in every worker."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


@dataclass(frozen=True)
class Batch:
    """Cold notes for one worker. With `shard`, they are all the cold notes of that cache shard, and the
    worker writes the shard itself (with the shard's cached notes in `keep`)."""

    notes: list[Entry]
    shard: int | None = None
    keep: frozenset[str] = frozenset()
    folder: Path = Path(".")
    key: list[object] = field(default_factory=list)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def end_with_parent() -> None:
    """Make this worker end when the command that started it ends, even when that was killed (`kill -9`), so
    that no worker lives on holding the caller's pipes: on Linux the kernel kills it; elsewhere a thread
    watches for the parent to go."""
    import ctypes  # deferred: only workers need it, and it costs every command 10 ms to start

    parent = os.getppid()
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
            if os.getppid() != parent:  # it died before the call took effect
                os._exit(1)
            return
    except (OSError, AttributeError):  # not Linux
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


_WORKER: tuple[Stage, Setting] | None = None


def _init_worker(stage: Stage, setting: Setting) -> None:
    global _WORKER
    _WORKER = (stage, setting)
    end_with_parent()
    fewer_collections()


def _work(batch: Batch) -> list[Note]:
    assert _WORKER is not None
    return run_batch(batch, *_WORKER)


def run_batch(batch: Batch, stage: Stage, setting: Setting) -> list[Note]:
    """The stage on every note of the batch; with a shard, the shard written, and the summaries left there."""
    notes = [stage(path, rel, size, mtime, setting) for path, rel, size, mtime in batch.notes]
    if batch.shard is None or not cache.store_shard(batch.folder, batch.shard, batch.key, batch.keep, notes):
        return notes
    return [replace(n, summary=None, stored=True) if n.error is None else n for n in notes]


def parse(cold: list[Entry], stage: Stage, setting: Setting, jobs: int | None,
          progress: Callable[[int], Callable[[int], None]] | None = None, shelf: Shelf | None = None) -> list[Note]:
    """Run the stage on the cold notes: here when they are few (or `jobs` is 1), else on `jobs` worker
    processes; with `shelf`, the shards of the notes are written as they are parsed, and their summaries are
    left there (but for fewer than `PARALLEL_FROM` notes, whose shards are written with the rest of the
    cache). `progress(total)` gives a callback told of each note parsed."""
    if not cold:
        return []
    tick = progress(len(cold)) if progress else (lambda n: None)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(cold) // PARALLEL_FROM))
    if len(cold) < PARALLEL_FROM:
        shelf = None  # a few notes: their shards are written once, when the cache is saved (`cache.save`)
    batches = _batches(cold, workers, shelf)
    out = []
    if workers <= 1:  # (the command line has set the garbage collector's pace: see `fewer_collections`)
        for batch in batches:
            out.extend(run_batch(batch, stage, setting))
            tick(len(batch.notes))
        return out
    pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(stage, setting))
    try:
        for done in pool.map(_work, batches):
            out.extend(done)
            tick(len(done))
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): the batches not begun are dropped, not waited for
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return out


def _batches(cold: list[Entry], workers: int, shelf: Shelf | None) -> list[Batch]:
    """The cold notes in batches: with `shelf`, one for each cache shard; else of a size that spreads them
    evenly over the workers."""
    if shelf is None:
        size = max(8, min(64, len(cold) // (workers * 8)))
        return [Batch(cold[i:i + size]) for i in range(0, len(cold), size)]
    folder, key, every = shelf
    members = cache.by_shard(every, str)
    batches = [Batch(notes, n, frozenset(members.get(n, ())) - {e[1] for e in notes}, folder, key)
               for n, notes in cache.by_shard(cold, lambda entry: entry[1]).items()]
    batches.sort(key=lambda b: -len(b.notes))  # the largest first: the workers finish together
    return batches
