"""`mdtracker lsp` driven as an editor drives it: a client over stdio (pytest-lsp's), the server a process of
its own; and once by a real editor, Neovim headless, when it is installed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import AsyncIterator, Callable

import pytest
from lsprotocol import types as lsp
from pygls import uris
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from mdtracker.cli import run

DAY = "2025-11-22"
PLAN = """\
# Plan

## Week 1
- [x] read the paper ✅ 2025-11-20
- [ ] write the summary 📅 2025-11-20
- [ ] outline
  - [x] intro
  - [ ] body
"""
DASHBOARD = """\
# Dashboard

<!-- mdtracker:begin progress scope="" -->
<!-- mdtracker:end progress -->
"""


def _vault(tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "plan.md").write_text(PLAN)
    (vault / "dashboard.md").write_text(DASHBOARD)
    assert run(["--today", DAY, "sync", str(vault)]) == 0  # every region fresh on disk
    return vault


@contextlib.asynccontextmanager
async def _client(vault: Path, capabilities: str = "visual-studio-code") -> AsyncIterator[LanguageClient]:
    client = make_test_lsp_client()
    client.feature(lsp.CLIENT_REGISTER_CAPABILITY)(lambda params: None)  # (file watchers: the test sends events)
    await client.start_io(sys.executable, "-m", "mdtracker", "lsp", "--today", DAY, str(vault))
    await client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities(capabilities), root_uri=uris.from_fs_path(str(vault)),
        workspace_folders=[lsp.WorkspaceFolder(uris.from_fs_path(str(vault)) or "", "vault")]))
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


def _uri(path: Path) -> str:
    return uris.from_fs_path(str(path)) or ""


def _open(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = _uri(path)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri, "markdown", 1, path.read_text() if text is None else text)))
    return uri


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(version, uri), [lsp.TextDocumentContentChangeWholeDocument(text)]))


async def _until(what: Callable[[], object], timeout: float = 20.0) -> object:
    """Wait until `what()` is true (the server publishes when it likes)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = what()
        if found:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def _codes(client: LanguageClient, uri: str) -> list[tuple[int, str]]:
    return sorted((d.range.start.line + 1, str(d.code)) for d in client.diagnostics.get(uri, []))


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """The text with these edits made (as an editor makes them: from the last)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos: lsp.Position) -> int:
        if pos.line >= len(lines):
            return len(text)
        line = lines[pos.line]
        units = i = 0
        while i < len(line) and units < pos.character:
            units += len(line[i].encode("utf-16-le")) // 2
            i += 1
        return starts[pos.line] + i

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


def test_a_session_diagnostics_actions_hints_hover_completion(tmp_path):
    vault = _vault(tmp_path)
    asyncio.run(_session(vault))


async def _session(vault: Path) -> None:
    async with _client(vault) as client:
        # open a note with problems: an unknown status, a date Obsidian Tasks cannot see, a stale cookie
        text = PLAN.replace("## Week 1", "## Week 1 [/]").replace("- [ ] outline", "- [S] outline 📅 2025-11-30 soon")
        plan = _open(client, vault / "plan.md", text)
        dashboard = _open(client, vault / "dashboard.md")
        await _until(lambda: plan in client.diagnostics and dashboard in client.diagnostics)
        assert _codes(client, plan) == [(3, "stale"), (6, "field-not-at-end"), (6, "unknown-status")]
        first = next(d for d in client.diagnostics[plan] if d.code == "stale")
        assert first.code_description is not None and first.code_description.href.endswith("#stale")
        assert first.message == "cookie is stale: sync would change it"
        assert _codes(client, dashboard) == []  # 2 of 5 done, on disk and in the buffer

        # the code action updates the cookie; applying its edits makes the diagnostic go
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(plan), lsp.Range(lsp.Position(2, 0), lsp.Position(2, 0)),
            lsp.CodeActionContext(diagnostics=list(client.diagnostics[plan]))))
        titles = [a.title for a in actions or []]
        assert "Update the cookie" in titles and "Update all regions and cookies of this note" in titles
        cookie = next(a for a in actions if a.title == "Update the cookie")
        assert cookie.edit is not None and cookie.edit.changes is not None
        text = _apply(text, cookie.edit.changes[plan])
        assert "## Week 1 [2/5]\n" in text
        _change(client, plan, 2, text)
        await _until(lambda: (3, "stale") not in _codes(client, plan))

        # move the date to the end of the line, as Obsidian Tasks needs
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(plan), lsp.Range(lsp.Position(5, 0), lsp.Position(5, 0)),
            lsp.CodeActionContext(diagnostics=[])))
        moving = next(a for a in actions or [] if a.title.startswith("Move the date"))
        text = _apply(text, moving.edit.changes[plan])
        assert "- [S] outline soon 📅 2025-11-30\n" in text
        mapping = [a.title for a in actions or [] if a.title.startswith("Map [S]")]
        assert mapping == [f"Map [S] to {k} in mdtracker.toml" for k in ("todo", "in_progress", "done", "cancelled")]
        _change(client, plan, 3, text)
        await _until(lambda: (6, "field-not-at-end") not in _codes(client, plan))

        # inlay hints: progress after headings and parents, days overdue, the next review
        hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
            lsp.TextDocumentIdentifier(plan), lsp.Range(lsp.Position(0, 0), lsp.Position(20, 0))))
        labels = {h.position.line + 1: h.label for h in hints or []}
        assert labels[1] == "2/5 · 40%" and labels[3] == "2/5 · 40%"
        assert labels[4] == "review 1 overdue 1 day (2025-11-21)"
        assert labels[5] == "⚠ 2 days overdue"
        assert labels[6] == "1/2 · 50%"

        # tick a box: the hint changes, and the dashboard (open, from disk) goes stale
        text = text.replace("- [ ] body", "- [x] body")
        _change(client, plan, 4, text)
        hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
            lsp.TextDocumentIdentifier(plan), lsp.Range(lsp.Position(0, 0), lsp.Position(20, 0))))
        labels = {h.position.line + 1: h.label for h in hints or []}
        assert labels[1] == "3/5 · 60%" and labels[6] == "2/2 · 100%"
        await _until(lambda: _codes(client, dashboard) == [(3, "stale")] and
                     any("3 of 5" in d.message or "stale" in d.message for d in client.diagnostics[dashboard]))
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(dashboard), lsp.Range(lsp.Position(2, 0), lsp.Position(2, 0)),
            lsp.CodeActionContext(diagnostics=[])))
        region = next(a for a in actions or [] if a.title == "Update region progress")
        new_dashboard = _apply(DASHBOARD_SYNCED(vault), region.edit.changes[dashboard])
        assert "(3 of 5 tasks done)" in new_dashboard
        assert (vault / "plan.md").read_text() == PLAN_SYNCED(vault)  # the server wrote nothing

        # hover: a task, a region marker, a heading
        hover = await client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(plan), lsp.Position(4, 3)))
        assert hover is not None and "todo" in hover.contents.value and "overdue: 2 days" in hover.contents.value
        hover = await client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(plan), lsp.Position(3, 3)))
        assert "reviews: 0 done; next: review 1 overdue 1 day" in hover.contents.value
        hover = await client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(dashboard), lsp.Position(2, 5)))
        assert "region `progress`" in hover.contents.value and "`scope` (text)" in hover.contents.value
        hover = await client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(plan), lsp.Position(2, 2)))
        assert "tasks below: 3/5 · 60%" in hover.contents.value

        # completion: statuses in [ ], dates after 📅, region names and arguments
        text2 = text + "- [\n- [ ] new 📅 \n<!-- mdtracker:begin \n<!-- mdtracker:begin overdue \n"
        _change(client, plan, 5, text2)
        n = text2.count("\n") - 4
        done = await client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(plan), lsp.Position(n, 3)))
        assert {"[x] done", "[ ] todo", "[/] in_progress", "[-] cancelled"} <= {i.label for i in done.items}
        dates = await client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(plan), lsp.Position(n + 1, len("- [ ] new 📅 ".encode("utf-16-le")) // 2)))
        by_label = {i.label: i.text_edit.new_text for i in dates.items}
        assert by_label["today"] == "2025-11-22" and by_label["tomorrow"] == "2025-11-23"
        assert by_label["monday"] == "2025-11-24"  # (the 22nd is a Saturday)
        names = await client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(plan), lsp.Position(n + 2, len("<!-- mdtracker:begin "))))
        assert {"progress", "readiness", "overdue", "reviews"} <= {i.label for i in names.items}
        args = await client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(plan), lsp.Position(n + 3, len("<!-- mdtracker:begin overdue "))))
        assert {i.label for i in args.items} == {"scope=", "limit="}


def DASHBOARD_SYNCED(vault: Path) -> str:
    return (vault / "dashboard.md").read_text()


def PLAN_SYNCED(vault: Path) -> str:
    return PLAN  # (no region or cookie: sync left it as written)


def test_mapping_a_status_in_the_config_and_a_broken_config(tmp_path):
    vault = _vault(tmp_path)
    asyncio.run(_config_session(vault))


async def _config_session(vault: Path) -> None:
    async with _client(vault) as client:
        plan = _open(client, vault / "plan.md", PLAN.replace("- [ ] outline", "- [S] outline"))
        await _until(lambda: (6, "unknown-status") in _codes(client, plan))
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(plan), lsp.Range(lsp.Position(5, 0), lsp.Position(5, 0)),
            lsp.CodeActionContext(diagnostics=[])))
        mapping = next(a for a in actions or [] if a.title == "Map [S] to in_progress in mdtracker.toml")
        config = vault / "mdtracker.toml"
        assert mapping.edit is not None and mapping.edit.document_changes is not None  # a new file
        edit = mapping.edit.document_changes[1]
        config.write_text(_apply("", edit.edits))
        assert config.read_text() == '[statuses]\n"S" = "in_progress"\n'
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
            [lsp.FileEvent(_uri(config), lsp.FileChangeType.Created)]))
        await _until(lambda: (6, "unknown-status") not in _codes(client, plan))

        # a broken config: a diagnostic on the config file and on the open note; the last good one kept
        config.write_text('[statuses]\n"S" = "in_progress"\nbogus = 1\n')
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
            [lsp.FileEvent(_uri(config), lsp.FileChangeType.Changed)]))
        await _until(lambda: _codes(client, _uri(config)) == [(3, "config")])
        await _until(lambda: (1, "config") in _codes(client, plan))
        assert (6, "unknown-status") not in _codes(client, plan)


def test_mojibake_repairs_and_inserting_a_region_and_the_config_as_typed(tmp_path):
    vault = _vault(tmp_path)
    asyncio.run(_more_session(vault))


async def _more_session(vault: Path) -> None:
    async with _client(vault) as client:
        garbled = "# Urgent " + "🔴".encode().decode("cp1252") + "\n\n- [ ] fix " + "✅".encode().decode("cp1252") + "\n"
        note = _open(client, vault / "garbled.md", garbled)
        await _until(lambda: [c for _, c in _codes(client, note)] == ["mojibake", "mojibake"])
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(note), lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)),
            lsp.CodeActionContext(diagnostics=[])))
        by_title = {a.title: a for a in actions or []}
        assert _apply(garbled, by_title["Repair mojibake on this line"].edit.changes[note]) == \
            garbled.replace("ðŸ”´", "🔴")
        repaired = _apply(garbled, by_title["Repair mojibake in this note"].edit.changes[note])
        assert repaired == "# Urgent 🔴\n\n- [ ] fix ✅\n"
        _change(client, note, 2, repaired)
        await _until(lambda: _codes(client, note) == [])

        # on an empty line: insert a region, which is then stale until updated
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(note), lsp.Range(lsp.Position(1, 0), lsp.Position(1, 0)),
            lsp.CodeActionContext(diagnostics=[])))
        by_title = {a.title: a for a in actions or []}
        assert {"Insert region progress", "Insert region readiness", "Insert region overdue"} <= set(by_title)
        text = _apply(repaired, by_title["Insert region progress"].edit.changes[note])
        assert text == "# Urgent 🔴\n<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n\n- [ ] fix ✅\n"
        _change(client, note, 3, text)
        await _until(lambda: _codes(client, note) == [(2, "stale")])
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(note), lsp.Range(lsp.Position(1, 0), lsp.Position(1, 0)),
            lsp.CodeActionContext(diagnostics=[])))
        update = next(a for a in actions or [] if a.title == "Update region progress")
        text = _apply(text, update.edit.changes[note])
        assert "(0 of 1 task done)" in text
        _change(client, note, 4, text)
        await _until(lambda: _codes(client, note) == [])

        # the config as typed in the editor: its errors as you type, its statuses at once
        config = vault / "mdtracker.toml"
        plan = _open(client, vault / "plan.md", PLAN.replace("- [ ] outline", "- [S] outline"))
        await _until(lambda: (6, "unknown-status") in _codes(client, plan))
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(_uri(config), "toml", 1, "[statuses]\nS = 'in_progres'\n")))
        await _until(lambda: _codes(client, _uri(config)) == [(2, "config")])
        assert "type must be one of" in client.diagnostics[_uri(config)][0].message
        _change(client, _uri(config), 2, "[statuses]\nS = 'in_progress'\n")
        await _until(lambda: _codes(client, _uri(config)) == [] and (6, "unknown-status") not in _codes(client, plan))
        assert not config.exists()  # (nothing written: the editor has it)


def test_bad_input_gives_diagnostics_and_never_a_crash(tmp_path):
    vault = _vault(tmp_path)
    (vault / "templates").mkdir()
    (vault / "templates" / "loop.md.j2").write_text("{% for i in range(10**9) %}{{ i }}{% endfor %}")
    (vault / "binary.md").write_bytes(b"# x\n\x00\x01\x02")
    asyncio.run(_bad_session(vault))


async def _bad_session(vault: Path) -> None:
    async with _client(vault) as client:
        binary = _open(client, vault / "binary.md", "# x\n\x00\x01\x02")
        await _until(lambda: _codes(client, binary) == [(2, "encoding")])
        hostile = _open(client, vault / "hostile.md", "<!-- mdtracker:begin loop -->\n<!-- mdtracker:end loop -->\n")
        await _until(lambda: _codes(client, hostile) == [(1, "template")])
        huge = _open(client, vault / "huge.md", "- [ ] x\n" * (50_000_000 // 8))
        await _until(lambda: _codes(client, huge) == [(1, "too-large")])
        broken = _open(client, vault / "broken.md", "<!-- mdtracker:begin progress -->\n")
        await _until(lambda: (1, "marker") in _codes(client, broken))
        hover = await client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(binary), lsp.Position(99, 99)))
        assert hover is None
        hints = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
            lsp.TextDocumentIdentifier(huge), lsp.Range(lsp.Position(0, 0), lsp.Position(5, 0))))
        assert not hints


def test_the_server_exits_when_its_input_ends(tmp_path):
    vault = _vault(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "mdtracker", "lsp", str(vault)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.close()
    assert proc.wait(timeout=20) == 0


NVIM_TEST = """
local done = false
local client = vim.lsp.start_client({
  name = "mdtracker",
  cmd = {PYTHON, "-m", "mdtracker", "lsp", "--today", "2025-11-22", VAULT},
  root_dir = VAULT,
})
vim.cmd("edit " .. VAULT .. "/plan.md")
vim.lsp.buf_attach_client(0, client)
local ok = vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 50)
local out = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out, (d.lnum + 1) .. " " .. tostring(d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)) .. " " .. d.message)
end
local f = io.open(OUT, "w")
f:write(ok and "ok\\n" or "timeout\\n")
f:write(table.concat(out, "\\n"))
f:close()
vim.lsp.stop_client(client)
vim.cmd("qa!")
"""


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim (nvim) is not installed")
def test_neovim_headless_receives_the_diagnostics(tmp_path):
    vault = _vault(tmp_path)
    (vault / "plan.md").write_text(PLAN.replace("- [ ] outline", "- [S] outline"))
    out = tmp_path / "out.txt"
    script = tmp_path / "test.lua"
    script.write_text(f"local PYTHON = {json.dumps(sys.executable)}\nlocal VAULT = {json.dumps(str(vault))}\n"
                      f"local OUT = {json.dumps(str(out))}\n" + NVIM_TEST)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"))
    subprocess.run(["nvim", "--headless", "--clean", "-n", "-c", f"luafile {script}"], env=env, timeout=60,
                   stdin=subprocess.DEVNULL, capture_output=True)
    lines = out.read_text().splitlines()
    assert lines[0] == "ok"
    assert any(line.startswith("6 unknown-status [S] is not a known status") for line in lines[1:]), lines
