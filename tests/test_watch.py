"""A real watcher on a temporary vault, driven by real file operations as editors make them."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from watchdog import events

from mdtracker import watch
from mdtracker.discovery import discover, rediscover
from mdtracker.pipeline import load_config
from mdtracker.watch import Watcher

NOTE = "# Plan [/]\n- [x] a\n- [ ] b\n"
DASHBOARD = "# Dashboard\n\n<!-- mdtracker:begin progress scope=\"\" -->\n<!-- mdtracker:end progress -->\n"


def wait_for(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Running:
    def __init__(self, root: Path) -> None:
        self.messages: list[str] = []
        self.watcher = Watcher(root, lambda: load_config(root), lambda: dt.date(2025, 11, 22), self.messages.append)
        self.stop, ready = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self.watcher.run, args=(self.stop, ready), daemon=True)
        self.thread.start()
        assert ready.wait(20), "the watcher did not start"

    def quiet_after(self) -> None:
        """After the last change: the watcher settles, then writes nothing more (no loop on its own writes)."""
        time.sleep(0.5)
        writes, steps = self.watcher.writes, self.watcher.steps
        time.sleep(1.0)
        assert self.watcher.writes == writes, self.messages
        # at most one late step (the echo of its own last write, on a slow machine), and it wrote nothing
        assert self.watcher.steps - steps <= 1, self.messages
        time.sleep(0.5)
        assert self.watcher.steps - steps <= 1 and self.watcher.writes == writes, self.messages

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def vault(tmp_path):
    (tmp_path / "plan.md").write_text(NOTE)
    (tmp_path / "dashboard.md").write_text(DASHBOARD)
    running = Running(tmp_path)
    yield tmp_path, running
    running.close()


def dashboard(root: Path) -> str:
    return (root / "dashboard.md").read_text()


def test_first_sync_then_in_place_save(vault):
    root, running = vault
    assert (root / "plan.md").read_text() == "# Plan [1/2]\n- [x] a\n- [ ] b\n"
    assert "(1 of 2 tasks done)" in dashboard(root)
    with open(root / "plan.md", "r+") as handle:  # an in-place save: truncate and write
        text = handle.read().replace("- [ ] b", "- [x] b")
        handle.seek(0)
        handle.truncate()
        handle.write(text)
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [2/2]"))
    assert wait_for(lambda: "(2 of 2 tasks done)" in dashboard(root))
    running.quiet_after()


def test_atomic_rename_save(vault):
    root, running = vault
    tmp = root / ".plan.md.tmp-123"  # VS Code and Obsidian write a temporary file, then rename it
    tmp.write_text("# Plan [1/2]\n- [x] a\n- [x] b\n- [ ] c\n")
    os.replace(tmp, root / "plan.md")
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [2/3]"))
    assert wait_for(lambda: "(2 of 3 tasks done)" in dashboard(root))
    running.quiet_after()


def test_vim_style_save_with_probe_swap_and_backup(vault):
    root, running = vault
    (root / "4913").write_text("")  # vim's probe that the folder is writable
    (root / "4913").unlink()
    (root / ".plan.md.swp").write_bytes(b"b0VIM 9.0")
    os.rename(root / "plan.md", root / "plan.md~")  # backupcopy=no: rename away, write anew
    (root / "plan.md").write_text("# Plan [1/2]\n- [x] a\n- [x] b\n- [x] c\n")
    (root / "plan.md~").unlink()
    (root / ".plan.md.swp").unlink()
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [3/3]"))
    assert wait_for(lambda: "(3 of 3 tasks done)" in dashboard(root))
    running.quiet_after()


def test_sed_in_place(vault):
    root, running = vault
    if shutil.which("sed") is None:
        pytest.skip("no sed")
    subprocess.run(["sed", "-i", "s/- \\[ \\] b/- [x] b/", str(root / "plan.md")], check=True)
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [2/2]"))
    running.quiet_after()


def test_create_delete_rename_and_move_out(vault, tmp_path_factory):
    root, running = vault
    (root / "sub").mkdir()
    (root / "sub" / "new.md").write_text("- [ ] one\n- [ ] two\n")
    assert wait_for(lambda: "(1 of 4 tasks done)" in dashboard(root))
    os.rename(root / "sub" / "new.md", root / "sub" / "renamed.md")
    (root / "plan.md").write_text("# Plan [/]\n- [x] a\n- [x] b\n")
    assert wait_for(lambda: "(2 of 4 tasks done)" in dashboard(root))
    (root / "sub" / "renamed.md").unlink()
    assert wait_for(lambda: "(2 of 2 tasks done)" in dashboard(root))
    outside = tmp_path_factory.mktemp("elsewhere")
    shutil.move(str(root / "plan.md"), str(outside / "plan.md"))  # moved out of the vault
    assert wait_for(lambda: "(0 of 0 tasks done)" in dashboard(root))
    shutil.move(str(outside / "plan.md"), str(root / "back.md"))  # and in again
    assert wait_for(lambda: "(2 of 2 tasks done)" in dashboard(root))
    running.quiet_after()


def test_a_folder_moved_in_renamed_and_deleted(vault, tmp_path_factory):
    root, running = vault
    outside = tmp_path_factory.mktemp("elsewhere") / "week"
    (outside / "days").mkdir(parents=True)
    (outside / "mon.md").write_text("# Monday [/]\n- [x] one\n- [ ] two\n")
    (outside / "days" / "tue.md").write_text("- [x] three\n")
    shutil.move(str(outside), str(root / "week"))  # a folder of notes, moved in whole
    assert wait_for(lambda: "(3 of 5 tasks done)" in dashboard(root))
    assert wait_for(lambda: (root / "week" / "mon.md").read_text().startswith("# Monday [1/2]"))
    os.rename(root / "week", root / "w47")
    (root / "w47" / "mon.md").write_text("# Monday [/]\n- [x] one\n- [x] two\n")
    assert wait_for(lambda: (root / "w47" / "mon.md").read_text().startswith("# Monday [2/2]"))
    assert wait_for(lambda: "(4 of 5 tasks done)" in dashboard(root))
    shutil.rmtree(root / "w47")
    assert wait_for(lambda: "(1 of 2 tasks done)" in dashboard(root))
    running.quiet_after()


def test_looking_only_at_the_paths_events_named_finds_what_looking_at_everything_finds(tmp_path):
    root, outside, exclude = tmp_path / "vault", tmp_path / "elsewhere", ("drafts/*",)

    def put(where: Path, text: str = "- [ ] x\n") -> None:
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(text)

    for rel in ["a.md", "old.md", "sub/b.md", "sub/deep/c.MD", "drafts/d.md"]:
        put(root / rel)
    known = [rel for _, rel in discover(root, exclude)]
    put(root / "new.md")
    (root / "old.md").unlink()
    os.rename(root / "sub" / "b.md", root / "sub" / "b2.md")
    put(root / ".hidden.md")
    put(root / ".obsidian" / "w.md")
    put(root / "drafts" / "e.md")  # excluded by the config
    put(root / "folder.md" / "f.md")  # a folder named like a note, and a note in it
    put(outside / "g.md")
    os.symlink(outside, root / "linked")  # discovery does not follow links to folders
    os.symlink(outside / "g.md", root / "h.md")  # but a link to a note is a note
    os.symlink(outside / "none.md", root / "broken.md")  # (one it cannot read: it says so)
    touched = {"new.md", "old.md", "sub/b.md", "sub/b2.md", ".hidden.md", ".obsidian/w.md", "drafts/e.md",
               "folder.md", "folder.md/f.md", "linked/g.md", "h.md", "broken.md", "gone/never.md"}
    found = discover(root, exclude)
    assert [rel for _, rel in found] == ["a.md", "broken.md", "folder.md/f.md", "h.md", "new.md", "sub/b2.md",
                                         "sub/deep/c.MD"]
    again = rediscover(root, exclude, touched)
    assert again == [(path, rel) for path, rel in found if rel in touched]
    assert sorted(set(known) - touched | {rel for _, rel in again}) == [rel for _, rel in found]


def test_a_note_that_comes_while_watching_takes_its_place_in_path_order(tmp_path):
    for name in ("b.md", "c.md"):
        (tmp_path / name).write_text("# Plan [/]\n- [ ] late 📅 2025-11-01\n")
    (tmp_path / "dashboard.md").write_text("<!-- mdtracker:begin overdue -->\n<!-- mdtracker:end overdue -->\n")
    said: list[str] = []
    watcher = Watcher(tmp_path, lambda: load_config(tmp_path), lambda: dt.date(2025, 11, 22), said.append)
    watcher.step()
    (tmp_path / "a.md").write_text("# Plan [/]\n- [x] done\n- [ ] late 📅 2025-11-01\n")
    (tmp_path / "c.md").write_text("# Plan [0/1]\n- [x] late 📅 2025-11-01\n")
    said.clear()
    watcher.step({"a.md", "c.md"})  # as the file events name them
    assert [m.split(":")[0] for m in said] == ["updated a.md", "updated c.md", "updated dashboard.md"]
    late = [line.split("`")[1] for line in dashboard(tmp_path).splitlines() if line.startswith("- ")]
    assert late == ["a.md", "b.md"]  # equally late: by path, as the report lists them


@pytest.mark.parametrize("kind, paths, named", [
    (events.FileModifiedEvent, ("plan.md",), {"plan.md"}),
    (events.FileClosedEvent, ("sub/plan.MD",), {"sub/plan.MD"}),
    (events.FileMovedEvent, (".plan.md.tmp-1", "plan.md"), {"plan.md"}),  # an editor's atomic save
    (events.FileMovedEvent, ("plan.md", "plan.md~"), {"plan.md"}),  # vim's backup
    (events.FileMovedEvent, ("a.md", "../elsewhere/a.md"), {"a.md"}),  # moved out of the vault
    (events.FileDeletedEvent, ("sub/a.md",), {"sub/a.md"}),
    (events.FileCreatedEvent, ("4913",), None),
    (events.FileCreatedEvent, (".plan.md.swp",), None),
    (events.FileModifiedEvent, (".obsidian/workspace.md",), None),
    (events.FileModifiedEvent, (".mdtracker/index.msgpack",), None),
    (events.FileModifiedEvent, ("node_modules/x/README.md",), None),
    (events.FileOpenedEvent, ("plan.md",), None),
    (events.DirModifiedEvent, ("sub",), None),  # each change inside it comes as an event of its own
    (events.DirCreatedEvent, ("sub",), "everything"),  # a folder that came with notes in it
    (events.DirMovedEvent, ("../elsewhere/week", "week"), "everything"),
    (events.DirMovedEvent, ("week", "w47"), "everything"),
    (events.DirDeletedEvent, ("w47",), "everything"),
    (events.DirCreatedEvent, (".trash",), None),
    (events.FileModifiedEvent, ("mdtracker.toml",), "everything"),
    (events.FileModifiedEvent, ("templates/mine.md.j2",), "everything"),
    (events.FileModifiedEvent, ("sub/pyproject.toml",), None),
])
def test_what_a_file_event_makes_the_watcher_look_at(tmp_path, monkeypatch, kind, paths, named):
    monkeypatch.setattr(watch, "QUIET_S", 0.0)
    root = tmp_path / "vault"
    gathered = watch._Events(root, threading.Event())
    where = [tmp_path / path[3:] if path.startswith("../") else root / path for path in paths]
    gathered.on_any_event(kind(*map(str, where)))
    burst = gathered.settled()
    if named is None:
        assert burst is None and not gathered.wake.is_set()
    else:
        assert gathered.wake.is_set()
        assert burst == ((set(), True) if named == "everything" else (named, False))


def test_a_change_whose_events_were_lost_is_found_by_the_next_look_at_every_note(tmp_path, monkeypatch):
    """inotify drops events when its queue overflows; the watcher looks at every note from time to time."""
    monkeypatch.setattr(watch, "LOOK_EVERY_S", 1.0)
    monkeypatch.setattr(watch, "LOOK_SHARE", 0.5)
    heard = watch._Events.on_any_event

    def dropping(self, event):  # the system loses every event about lost.md
        if "lost.md" not in (Path(event.src_path).name, Path(event.dest_path or "x").name):
            heard(self, event)

    monkeypatch.setattr(watch._Events, "on_any_event", dropping)
    (tmp_path / "plan.md").write_text(NOTE)
    (tmp_path / "dashboard.md").write_text(DASHBOARD)
    running = Running(tmp_path)
    try:
        (tmp_path / "lost.md").write_text("# Lost [/]\n- [x] c\n")
        assert wait_for(lambda: "(2 of 3 tasks done)" in dashboard(tmp_path), timeout=15)
        assert (tmp_path / "lost.md").read_text() == "# Lost [1/1]\n- [x] c\n"
    finally:
        running.close()


def test_looking_at_every_note_while_nothing_changes_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(watch, "LOOK_EVERY_S", 0.3)
    monkeypatch.setattr(watch, "LOOK_SHARE", 0.5)
    (tmp_path / "plan.md").write_text(NOTE)
    (tmp_path / "dashboard.md").write_text(DASHBOARD)
    running = Running(tmp_path)
    try:
        time.sleep(1.0)
        files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
        before = [(p, p.stat().st_mtime_ns) for p in files]
        steps = running.watcher.steps
        time.sleep(2.0)
        assert running.watcher.steps - steps >= 2  # it did look, more than once
        assert [(p, p.stat().st_mtime_ns) for p in sorted(p for p in tmp_path.rglob("*") if p.is_file())] == before
        assert any(p.name == "index.msgpack" for p, _ in before)  # the cache too is left as it is
    finally:
        running.close()


def test_a_burst_of_500_notes_is_one_step(vault):
    root, running = vault
    steps = running.watcher.steps
    (root / "many").mkdir()
    for n in range(500):
        (root / "many" / f"n{n:03d}.md").write_text(f"- [x] done {n}\n- [ ] todo {n}\n")
    assert wait_for(lambda: "(501 of 1002 tasks done)" in dashboard(root), timeout=30)
    running.quiet_after()
    assert running.watcher.steps - steps <= 3, running.watcher.steps - steps


def test_invalid_config_is_reported_and_the_last_good_one_kept(vault):
    root, running = vault
    (root / "mdtracker.toml").write_text('[statuses]\n"S" = "done"\n')
    (root / "plan.md").write_text("# Plan [/]\n- [x] a\n- [S] b\n")
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [2/2]"))
    (root / "mdtracker.toml").write_text("[statuses\n")
    assert wait_for(lambda: any("mdtracker.toml:1: invalid TOML" in m for m in running.messages))
    (root / "plan.md").write_text("# Plan [/]\n- [x] a\n- [S] b\n- [S] c\n")  # still counted with "S" = done
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [3/3]"))
    assert any("keeping the last good config" in m for m in running.messages)
    running.quiet_after()


def test_a_note_that_fails_is_reported_once_and_skipped_until_it_changes(vault):
    root, running = vault
    (root / "bad.md").write_bytes(b"caf\xe9\n")
    assert wait_for(lambda: any("bad.md:1: not valid UTF-8" in m for m in running.messages))
    (root / "plan.md").write_text("# Plan [/]\n- [ ] a\n")
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [0/1]"))
    running.quiet_after()
    assert sum("bad.md" in m for m in running.messages) == 1
    assert (root / "bad.md").read_bytes() == b"caf\xe9\n"


def test_vim_itself_editing_a_note(vault):
    root, running = vault
    vim = shutil.which("vim") or shutil.which("vim.basic") or shutil.which("vim.tiny")
    if vim is None:
        pytest.skip("vim is not installed (.ci/run installs it with apt)")
    subprocess.run([vim, "-Nu", "NONE", "-es", "-c", "set backupcopy=no writebackup", "-c", "%s/- \\[ \\] b/- [x] b/", "-c", "wq", str(root / "plan.md")],
                   check=True, timeout=30, stdin=subprocess.DEVNULL)
    assert wait_for(lambda: (root / "plan.md").read_text().startswith("# Plan [2/2]"))
    assert wait_for(lambda: "(2 of 2 tasks done)" in dashboard(root))
    running.quiet_after()
