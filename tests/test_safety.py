"""What users trust us with: edits made meanwhile are never lost, formatters and real notes are respected."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, run, shared

TODAY = ["--today", "2025-11-22"]


def test_a_writer_racing_sync_never_loses_an_edit(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("# Note [/]\n- [x] a\n- [ ] edit -1\n")
    last = 300
    done = threading.Event()

    def writer() -> None:
        for i in range(last + 1):
            note.write_text(f"# Note [/]\n- [x] a\n- [ ] edit {i}\n")
            time.sleep(0.0005 * (i % 3))
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    rounds = 0
    while not done.is_set():
        run(["sync", *TODAY, str(tmp_path)])
        rounds += 1
    thread.join()
    assert f"edit {last}\n" in note.read_text(), "the writer's last edit was overwritten"
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert note.read_text() == f"# Note [1/2]\n- [x] a\n- [ ] edit {last}\n"
    assert rounds > 5
    assert not [p.name for p in tmp_path.iterdir() if p.name not in ("n.md", ".mdtracker")]


def test_mdformat_and_sync_agree(tmp_path, capsys):
    mdformat = pytest.importorskip("mdformat")
    shutil.copytree(ROOT / "vault", tmp_path / "vault")
    vault = tmp_path / "vault"
    assert run(["sync", str(vault)]) == 0
    for note in vault.rglob("*.md"):
        mdformat.file(note, extensions={"frontmatter"})  # as the CLI does with the plugin installed
    assert run(["check", str(vault)]) == 0, capsys.readouterr().out
    formatted = {note: note.read_bytes() for note in vault.rglob("*.md")}
    # stale summaries in formatted notes: sync leaves them formatted
    tracker = vault / "tracker.md"
    tracker.write_text(tracker.read_text().replace("- [ ] Derive the logistic", "- [x] Derive the logistic"))
    assert run(["sync", str(vault)]) == 0
    for note in vault.rglob("*.md"):
        assert mdformat.text(note.read_text(), extensions={"frontmatter"}) == note.read_text(), note
    assert formatted[vault / "checklists/pillars.md"] == (vault / "checklists/pillars.md").read_bytes()


CORPUS = sorted(p.name for p in (ROOT.parent / "shared" / "corpus").glob("[0-9]*.md"))


@pytest.mark.parametrize("name", CORPUS or ["(no corpus)"])
def test_corpus_note_with_a_region_appended_keeps_every_byte_before_it(tmp_path, capsys, name):
    original = shared("corpus", name).read_bytes()
    newline = b"\r\n" if b"\r\n" in original else b"\n"
    region = newline.join([b"", b"<!-- mdtracker:begin progress -->", b"<!-- mdtracker:end progress -->", b""])
    note = tmp_path / name
    note.write_bytes(original + newline + region)
    assert run(["sync", *TODAY, str(tmp_path)]) == 0, capsys.readouterr().err
    after = note.read_bytes()
    assert after.startswith(original + newline + region[: region.index(b"-->") + 3])
    assert b"**Progress**" in after
    assert run(["check", *TODAY, str(tmp_path)]) == 0


def test_the_sample_vault_and_the_readme_are_in_sync(capsys):
    assert run(["check", str(ROOT / "vault")]) == 0, capsys.readouterr().out
    assert run(["check", str(ROOT)]) == 0, capsys.readouterr().out


def test_ci_runs_the_readmes_test_command():
    readme = (ROOT / "README.md").read_text()
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest"
    assert command in readme and command in (ROOT / ".ci" / "run").read_text()


def test_python_m_mdtracker(tmp_path):
    (tmp_path / "a.md").write_text("- [x] a\n")
    out = subprocess.run([sys.executable, "-m", "mdtracker", "report", "--json", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    assert '"done": 1' in out


def test_a_note_deleted_between_read_and_write_is_not_recreated(tmp_path):
    from mdtracker.errors import NoteError
    from mdtracker.files import read_note, write_note

    note = tmp_path / "n.md"
    note.write_text("# A [/]\n- [x] a\n")
    text = read_note(note, "n.md")
    note.unlink()
    with pytest.raises(NoteError, match="n.md: gone from disk since it was read; not written"):
        write_note(text, b"# A [1/1]\n- [x] a\n", "n.md")
    assert not note.exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_leaves_each_note_as_it_was_and_the_next_sync_writes_it(tmp_path, capsys, monkeypatch, jobs):
    notes = {tmp_path / f"n{i:03}.md": f"# Note {i} [/]\n- [x] a\n- [ ] b\n" for i in range(130)}  # two workers
    for path, text in notes.items():
        path.write_text(text)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the workers are forked with it
    assert run(["sync", "--jobs", jobs, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "n000.md: cannot write: No space left on device; not written" in err and "Traceback" not in err
    assert {p: p.read_text() for p in notes} == notes
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".mdtracker", *(p.name for p in notes)])
    monkeypatch.undo()
    assert run(["sync", "--jobs", jobs, str(tmp_path)]) == 0
    assert (tmp_path / "n007.md").read_text() == "# Note 7 [1/2]\n- [x] a\n- [ ] b\n"
