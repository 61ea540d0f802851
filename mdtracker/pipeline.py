"""The pipeline every front-end runs: read → parse → analyze → render → splice → write.

`load` finds the notes (`discovery`), takes from the cache those unchanged (`cache`), and runs the stage
`read_and_summarize` on the others, on every core when there are many (`workers`): a note is read, parsed
(`parse`) and summarized (`analyze.summarize`); and for sync and check, a note whose regions need nothing but
itself and the day is transformed right there (`transform`), and for sync written there too (`files`).
`plan` works out the transform of the other notes, which need the vault's analysis; `apply` writes what is
stale. `check`, `sync`, `watch` and the language server are these calls, nothing more (`engine`).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from mdtracker import cache, workers
from mdtracker import config as config_mod
from mdtracker.config import Config
from mdtracker.discovery import discover, own_templates, rediscover, remove_leftovers
from mdtracker.errors import NoteError, VaultError
from mdtracker.files import NoteText, digest, write_note
from mdtracker.vault import ALONE, HeldShard, Note, Outcome, Setting, Shelf, Vault

if TYPE_CHECKING:
    from mdtracker.analyze import Analysis
    from mdtracker.model import Document

BUFFER = -1  # the mtime of a note that an editor's buffer stands in for: never the stat of a file


def _stage() -> ModuleType:
    """The per-note stage (`stage`), imported only when a note must be parsed or planned: with it come the
    parser, the analysis and the templates, which a warm run that finds nothing changed never needs (they
    double the start-up time of every command; see docs/architecture.md)."""
    import mdtracker.stage  # deferred: start-up time (above)

    return mdtracker.stage


def read_and_summarize(path: str, rel: str, size: int, mtime_ns: int, setting: Setting) -> Note:
    """The stage run on each cold note (on the workers): read, parse, summarize, and for sync and check
    transform (and write) a note that needs nothing but itself and the day (`stage.read_and_summarize`)."""
    return _stage().read_and_summarize(path, rel, size, mtime_ns, setting)


def load(root: Path, config: Config, *, use_cache: bool = True, jobs: int | None = None,
         progress: Callable[[int], Callable[[int], None]] | None = None, previous: Vault | None = None,
         plan_for: dt.date | None = None, write: bool = False, texts: bool = False,
         documents: bool = True, touched: Iterable[str] | None = None,
         buffers: Mapping[str, str] | None = None) -> Vault:
    """Every note of the vault: from the cache where the note is unchanged, else parsed (on `jobs` processes
    when there are many). `progress(total)` gives a callback told of each note parsed. `previous`, a Vault
    this process loaded before with the same config (watch), serves as the cache; with it, `touched` (the
    paths in the vault that file events named) holds the only notes that may have changed since, and no other
    is looked at on disk. With `plan_for` (sync and check), notes whose regions depend on nothing but
    themselves and the day are transformed for that day as they are parsed; with `write` (sync), written there
    too; with `texts` (check --diff), their old and new texts kept.
    Without `documents` (report, lint), no Document is kept: a command that rewrites notes keeps those it may
    rewrite (else `Vault.rewritable` parses them again).
    `buffers` (an editor's open documents: vault-relative path → text) stand in for those notes' files: they
    are parsed from that text, planned from it, never written, and kept out of the cache.
    The caller saves the cache when its command is done (`save`)."""
    setting = Setting(config, root, plan_for, own_templates(root), write, texts, documents)
    index: dict[str, Any]
    if previous is not None:
        index = {"stats": previous.stats, "written_ns": previous.loaded_ns, "fresh": previous.fresh,
                 "wide": previous.wide_scopes(), "named": previous.region_names(),
                 "garbled": {rel: frozenset({"mojibake"}) for rel in previous.mojibake()}}
    else:
        index = cache.read_index(root, config) if use_cache else {}
    known: dict[str, tuple[int, int, str]] = index.get("stats", {})
    written_ns = index.get("written_ns", 0)
    loaded_ns = time.time_ns()
    cold: list[tuple[str, str, int, int]] = []
    failed: dict[str, Note] = {}
    look = set(touched) if touched is not None and previous is not None else None
    if look is None:
        stats: dict[str, tuple[int, int, str]] = {}
        leftovers: list[str] = []
        found = discover(root, config.exclude, leftovers)
        remove_leftovers(leftovers)  # what a run that was killed left behind (ours only)
    else:  # the notes no file event named are as they were
        found = rediscover(root, config.exclude, look)
        stats = dict(known)
        for rel in look - {rel for _, rel in found}:
            stats.pop(rel, None)
    for path, rel in found:
        try:
            st = os.stat(path)
        except OSError as err:
            failed[rel] = Note(rel, 0, 0, error=NoteError(rel, None, f"cannot read: {err.strerror}", "io"))
            stats[rel] = (0, 0, "")
            continue
        old = known.get(rel)
        if old is not None and old[:2] == (st.st_size, st.st_mtime_ns) and (
                st.st_mtime_ns < written_ns - cache.RACY_NS or _digest_of(path) == old[2]):
            stats[rel] = old
        else:
            cold.append((path, rel, st.st_size, st.st_mtime_ns))
            stats[rel] = (st.st_size, st.st_mtime_ns, "")
    in_editor: dict[str, NoteText] = {}
    for rel, text in (buffers or {}).items():  # an editor's buffer, as it stands: what the note is now
        raw = text.encode("utf-8")
        in_editor[rel] = NoteText(root / rel, raw, text, False)
        cold = [entry for entry in cold if entry[1] != rel]
        stats[rel] = (len(raw), BUFFER, digest(raw))
    if (look is not None or in_editor) and any(rel not in known for rel in stats):
        stats = dict(sorted(stats.items()))  # notes came: in path order, as discovered
    key = cache.cache_key(config)
    shelf = (root / cache.CACHE_DIR, key, stats) if use_cache and previous is None else None  # workers write shards
    parsed = {note.rel: note for note in sorted(workers.parse(cold, read_and_summarize, setting, jobs, progress, shelf),
                                          key=lambda n: n.rel)}
    parsed.update(failed)
    held_before = previous.notes if previous is not None else {}
    for rel, buffer in in_editor.items():
        same = held_before.get(rel)
        if same is not None and (same.size, same.mtime_ns, same.digest) == stats[rel] and same.outcome is None:
            continue  # the buffer as it was at the last update: nothing to parse again
        parsed[rel] = _stage().from_buffer(buffer, rel, replace(setting, write=False, texts=True))
    for rel, note in parsed.items():
        stats[rel] = (note.size, note.mtime_ns, note.digest)
    changed = set(parsed) | (known.keys() - stats.keys())
    held = None
    if previous is not None:
        held = previous.notes
        earlier = HeldShard(held)
        cached: Callable[[], Iterable[Shelf]] = lambda: (earlier,)
    elif known or any(note.stored for note in parsed.values()):
        cached = lambda: cache.shards(root, key)
    else:
        cached = lambda: ()
    lost = functools.partial(workers.parse, stage=read_and_summarize, setting=replace(setting, today=None), jobs=jobs)
    return Vault(root, config, stats, setting, parsed, changed, fresh=index.get("fresh"), cached=cached,
                 loaded_ns=loaded_ns, wide=index.get("wide", {}), named=index.get("named", {}),
                 garbled=index.get("garbled", {}), jobs=jobs,
                 store=shelf is not None, use_cache=use_cache, held=held, parse=lost, buffers=in_editor,
                 remember=functools.partial(cache.remember, root, config) if use_cache else None)


def _digest_of(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return digest(handle.read())
    except OSError:
        return ""




def rewritable(vault: Vault, only: set[str] | None = None) -> list[Document]:
    """The Documents of the notes sync or lint --fix may rewrite (of those in `only`), parsed again from
    disk where this run did not parse them. With `only`, the cached notes are not even read: a note in
    `only` that this run did not parse is one that changed, one with regions on the day or the vault (its
    scopes kept in the cache's index), or one the last sync or check left stale or failed on."""
    if only is None:  # the notes this run parsed know what they need: the cache is read only for the others
        known = vault._notes if vault._notes is not None else _without_summaries(vault)
        candidates = [vault.parsed.get(rel) or known.get(rel) or vault.notes[rel] for rel in vault.stats]
    else:
        wide = vault.wide_scopes()
        held = vault.held or {}
        candidates = [vault.parsed[rel] if rel in vault.parsed
                      else held[rel] if rel in vault.buffers and rel in held  # a buffer as the last step parsed it
                      else Note(rel, 0, 0, vault.stats[rel][2], scopes=wide.get(rel, frozenset({"file"})),
                                rewritable=True)
                      for rel in sorted(only) if rel in vault.stats]
    candidates = [n for n in candidates if n.rewritable and n.outcome is None]
    if vault.setting.today is not None:
        # a note whose regions need nothing but itself and the day is parsed again and transformed right
        # there, on every core when there are many, as in a cold run (the notes a check left stale, a new
        # day, a vault whose stamp is gone); those with regions on the vault are parsed there too when
        # there are enough for the workers, and come back with their summaries, which their regions,
        # rendered here, may read (`file`); left in the shards, each would be read whole (500 such notes
        # in 10,000 on a new day: check 1.5 s and 154 MB, not 1.2 s and 103 MB)
        unparsed = [n for n in candidates if n.document is None]
        narrow = {n.rel for n in unparsed if n.scopes <= ALONE}
        wider = {n.rel for n in unparsed if n.rel not in narrow}
        if len(wider) < 2 * workers.PARALLEL_FROM:
            wider = set()  # a few (a dashboard): parsed here, below
        _parse_again(vault, vault.setting, sorted(narrow))
        _parse_again(vault, vault.setting, sorted(wider), store=False)
        again = narrow | wider
        candidates = [vault.parsed[c.rel] if c.rel in again else c for c in candidates]
        candidates = [c for c in candidates if c.rewritable and c.outcome is None]
    docs = []
    for note in candidates:
        doc = note.document or _stage().parse_from_disk(vault.root, note.rel, note.digest,
                                                                  vault.config.note_limit)
        if doc is not None:
            docs.append(doc)
    return docs

def _without_summaries(vault: Vault) -> dict[str, Note]:
    """The cached notes without their summaries, read shard by shard: all that planning every note again
    needs to know of them (which may be rewritten, and what their regions need), in a fraction of the
    memory. (The notes of a lost shard are missing: `notes` parses them again.)"""
    return {rel: note for shard in vault.cached() for rel, note in shard.notes().items()}

def _parse_again(vault: Vault, setting: Setting, rels: list[str], store: bool = True) -> None:
    """Parse these notes again (and transform them, with `setting.today`), on every core when there are
    many; as in a cold run, the cache's shards of the notes are written where they are parsed, and their
    summaries are left there (unless not `store`: then only the shards of notes found changed are written,
    when the cache is saved)."""
    key = cache.cache_key(vault.config)
    shelf = (vault.root / cache.CACHE_DIR, key, vault.stats) if vault.store and store else None
    again = workers.parse([(str(vault.root / rel), rel, *vault.stats[rel][:2]) for rel in rels], read_and_summarize,
                           setting, vault.jobs, None, shelf)
    if any(note.stored for note in again):  # their summaries are in the shards now: read them from there
        root = vault.root
        vault.cached, vault._notes, vault._loaded, vault.held = (lambda: cache.shards(root, key)), None, None, None
    for note in again:
        vault.take(note)

def refresh(vault: Vault, rel: str, raw_text: str, raw: bytes, st: os.stat_result) -> None:
    """A note this run rewrote: its stat as written, and its summary, parsed from the text written."""
    vault.take(_stage().as_written(rel, raw_text, raw, st, vault.setting))

def reread(vault: Vault, written: dict[str, tuple[os.stat_result, str]]) -> dict[str, None]:
    """Notes this run rewrote (with the stat and digest of what it wrote), too many to parse here: parsed
    again from disk, on every core. Those that are no longer what was written (edited in the meantime)
    are returned: they are not known fresh."""
    for rel, (stat, _) in written.items():
        vault.stats[rel] = (stat.st_size, stat.st_mtime_ns, "")
    _parse_again(vault, replace(vault.setting, today=None, documents=False), sorted(written))
    return {rel: None for rel, (_, wrote) in written.items() if vault.stats[rel][2] != wrote}



def plan(vault: Vault, analysis: Callable[[], Analysis], only: set[str] | None = None) -> list[Outcome]:
    """The outcome for every note that sync would touch (of those in `only`), in path order: worked out
    where the note was parsed if it could be (see `preplan`), else here. The vault's analysis is asked for
    only if a note needs it."""
    docs = [doc for doc in rewritable(vault, only) if doc.managed or doc.marker_error]
    found = _stage().outcomes_of(vault.root, vault.config, docs, analysis, vault.setting.own, vault.buffers) \
        if docs else []
    found += [n.outcome for rel, n in vault.parsed.items() if n.outcome is not None and (only is None or rel in only)]
    return sorted(found, key=lambda o: o.path)



REFRESH_AT_MOST = 64  # notes rewritten here that are parsed again from their texts here; more go to the workers


@dataclass
class Applied:
    """What one sync did: the notes it rewrote (with what changed), and the errors it met."""

    written: list[Outcome]
    errors: list[NoteError]


def outcomes(vault: Vault, today: dt.date, incremental: bool = True,
             known: bool = False) -> tuple[list[Outcome], list[NoteError]]:
    """The transform's outcome for the notes to look at, and every error met (for `check`, `sync`, `watch`).

    With `incremental`, only the notes whose regions may have changed since the last sync or check are
    rendered, and those it left stale or failed on; with `known` too (`check`), a stale note unchanged since
    and needing nothing but itself is taken as the last check found it, without its texts."""
    only = vault.to_replan(today) if incremental else None
    reused = vault.known_stale(today) if known and only is not None else {}
    found = plan(vault, lambda: vault.analysis(today), only - set(reused) if only is not None else None)
    found = sorted(found + [Outcome(rel, changes=changes) for rel, changes in reused.items()], key=lambda o: o.path)
    return found, vault.errors + [o.error for o in found if o.error]


def apply(vault: Vault, today: dt.date, incremental: bool = True) -> Applied:
    """Sync the vault: regenerate what is stale and write it (`sync` and every step of `watch`).
    Rewritten notes are parsed again from what was written, and the vault is remembered as fresh but for
    the notes that failed: the next run plans again only those and what changed."""
    planned, errors = outcomes(vault, today, incremental)
    written, here = [], []
    for o in planned:
        if o.written:  # written, and parsed again, where it was parsed
            written.append(o)
            continue
        if not o.stale or o.note is None or o.new_raw is None or o.new_text is None or o.path in vault.buffers:
            continue
        try:
            stat = write_note(o.note, o.new_raw, o.path, vault.root)
        except NoteError as err:
            errors.append(err)
            continue
        assert stat is not None  # a stale note's bytes differ
        written.append(o)
        here.append((o, stat))
    if len(here) <= REFRESH_AT_MOST:
        for o, stat in here:
            refresh(vault, o.path, o.new_text or "", o.new_raw or b"", stat)
        edited: dict[str, None] = {}
    else:  # many notes rewritten here (regions on the vault): parsed again on every core
        edited = reread(vault, {o.path: (stat, digest(o.new_raw or b"")) for o, stat in here})
    vault.mark_fresh(today, {e.path: None for e in errors} | edited)  # what was written is fresh: sync is idempotent
    return Applied(written, errors)


def open_root(path: Path) -> Path:
    if not path.exists():
        raise VaultError(str(path), None, "no such vault folder")
    if not path.is_dir():
        raise VaultError(str(path), None, "not a folder; give the vault's folder")
    return path


def load_config(root: Path, explicit: Path | None = None) -> Config:
    if explicit is not None:
        return config_mod.load(explicit, str(explicit))
    found = config_mod.find(root)
    return config_mod.load(found, found.relative_to(root).as_posix() if found else None)


# --- the cache: an index of every note's stat, and the notes in shards by a hash of their path --------------
