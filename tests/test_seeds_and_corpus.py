"""The user's own documents and fifteen real notes: counted as SPEC §5/§8 says, never damaged."""

from __future__ import annotations

import shutil

import pytest

from conftest import copy_seed, report_json, run, shared
from mdtracker.files import decode
from mdtracker.parse import parse

SEED_COUNTS = {  # SPEC §8
    "000": {"total": 24, "todo": 24, "in_progress": 0, "done": 0, "cancelled": 0},
    "001": {"total": 314, "todo": 105, "in_progress": 0, "done": 209, "cancelled": 0},
    "002": {"total": 409, "todo": 409, "in_progress": 0, "done": 0, "cancelled": 0},
    "003": {"total": 0, "todo": 0, "in_progress": 0, "done": 0, "cancelled": 0},
    "004": {"total": 28, "todo": 28, "in_progress": 0, "done": 0, "cancelled": 0},
}


@pytest.mark.parametrize("prefix", sorted(SEED_COUNTS))
def test_seed_task_counts(prefix, tmp_path, capsys):
    copy_seed(prefix, tmp_path)
    (report,) = report_json(tmp_path, "--today", "2025-11-22", capsys=capsys)["files"] or [None]
    counts = {k: report["tasks"][k] for k in SEED_COUNTS[prefix]} if report else SEED_COUNTS["003"]
    assert counts == SEED_COUNTS[prefix]


def test_seed_002_custom_marks_count_through_statuses(tmp_path, capsys):
    copy_seed("002", tmp_path)
    (tmp_path / "mdtracker.toml").write_text(
        '[statuses]\n"S" = { type = "in_progress", credit = 0.5 }\n"N" = "cancelled"\n'
    )
    data = report_json(tmp_path, capsys=capsys)
    assert data["tasks"] | {} == {"total": 409, "todo": 406, "in_progress": 2, "done": 0, "cancelled": 1,
                                  "non_task": 0}
    assert data["progress"] == pytest.approx(1 / 408, abs=1e-6)
    assert not [p for p in data["problems"] if p["code"] == "unknown-status"]


def test_seed_002_unmapped_marks_are_problems(tmp_path, capsys):
    copy_seed("002", tmp_path, "pillars.md")
    assert run(["lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if "unknown-status" in line] == [
        "pillars.md:217: unknown-status [S] is not a known status; counted as todo (map it under [statuses] in the config)",
        "pillars.md:336: unknown-status [S] is not a known status; counted as todo (map it under [statuses] in the config)",
        "pillars.md:486: unknown-status [N] is not a known status; counted as todo (map it under [statuses] in the config)",
    ]


@pytest.mark.parametrize("prefix,codec", [("000", "cp1252"), ("001", "mac_roman"), ("003", "mac_roman"),
                                          ("004", "mac_roman")])
def test_lint_fix_repairs_whole_file_mojibake_exactly(prefix, codec, tmp_path, capsys):
    note = copy_seed(prefix, tmp_path)
    original = note.read_bytes()
    assert run(["lint", str(tmp_path)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if " mojibake " in line]
    assert lines and all(line.startswith(note.name + ":") for line in lines)
    run(["lint", "--fix", str(tmp_path)])
    assert note.read_bytes() == original.decode("utf-8").encode(codec).decode("utf-8").encode("utf-8")
    capsys.readouterr()
    run(["lint", str(tmp_path)])
    assert " mojibake " not in capsys.readouterr().out


def test_lint_fix_repairs_the_one_broken_heading_of_002_and_nothing_else(tmp_path, capsys):
    note = copy_seed("002", tmp_path)
    before = note.read_bytes().split(b"\n")
    run(["lint", str(tmp_path)])
    assert f"{note.name}:430: mojibake" in capsys.readouterr().out
    run(["lint", "--fix", str(tmp_path)])
    after = note.read_bytes().split(b"\n")
    changed = [n for n, (a, b) in enumerate(zip(before, after)) if a != b]
    assert len(before) == len(after) and changed == [429]
    assert after[429].decode() in ("### 🗣️ Pillar 9: The Interview Itself", "### 🗣 Pillar 9: The Interview Itself")


CORPUS_COUNTS = {  # (total, todo, in_progress, done, cancelled) by SPEC §5, read by hand from each note
    "01": (718, 718, 0, 0, 0), "02": (38, 22, 2, 11, 3), "03": (42, 37, 1, 4, 0), "04": (14, 14, 0, 0, 0),
    "05": (0, 0, 0, 0, 0), "08": (140, 91, 0, 49, 0), "09": (80, 49, 0, 31, 0), "16": (0, 0, 0, 0, 0),
    "17": (0, 0, 0, 0, 0), "19": (100, 100, 0, 0, 0), "24": (32, 32, 0, 0, 0), "25": (17, 17, 0, 0, 0),
    "26": (54, 48, 0, 6, 0), "27": (395, 0, 0, 395, 0), "39": (0, 0, 0, 0, 0),
}


def test_corpus_task_counts_and_no_problem_is_invented(tmp_path, capsys):
    for note in shared("corpus").glob("[0-9]*.md"):
        shutil.copyfile(note, tmp_path / note.name)
    data = report_json(tmp_path, capsys=capsys)
    got = {f["path"][:2]: tuple(f["tasks"][k] for k in ("total", "todo", "in_progress", "done", "cancelled"))
           for f in data["files"]}
    assert got == CORPUS_COUNTS
    assert {p["code"] for p in data["problems"]} <= {"field-not-at-end", "unknown-status"}
    # 02 and 03 are Obsidian Tasks' own samples, which put every field at the end of the line
    assert not [p for p in data["problems"] if p["path"][:2] in ("02", "03", "04")]


def test_corpus_bom_and_crlf_note_keeps_its_line_numbers():
    raw = shared("corpus", "01_ciu-readme-es-crlf.md").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    text, bom = decode(raw, "01.md")
    doc = parse(text, "01.md")
    lines = raw.split(b"\r\n")
    assert bom and len(doc.tasks) == 718
    for task in (doc.tasks[0], doc.tasks[-1]):
        assert lines[task.line - 1].lstrip().startswith(b"- [ ] ")
