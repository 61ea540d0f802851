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

from mdtracker.vault import load_config
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
