"""Formatters leave generated Markdown alone (issue 20): after `sync`, mdformat (with and without mdformat-gfm) and
prettier change nothing in the sample vault that mdtracker wrote, and `check` still exits 0 after each; a table a
formatter re-aligned stays aligned when sync rewrites it; and `lint` says when an inline region starts its line.

prettier runs when it can be found: `$MDTRACKER_PRETTIER`, the copy `.ci/run` installs into
`~/.cache/mdtracker-ci/prettier`, `prettier` on the PATH, or `npx prettier@3` when node is there; else its tests
skip and say why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import mdformat
import pytest

from conftest import ROOT, run
from mdtracker import layout, regions

TODAY = ["--today", "2025-11-22"]
GFM = {"gfm", "frontmatter"}  # mdformat with its usual table plugin (and front matter, which the tracks have)
PLAIN = {"frontmatter"}  # mdformat with no table plugin
PRETTIER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mdtracker-ci" / "prettier"


def _prettier() -> tuple[list[str] | None, str]:
    """How to run prettier here, or why it cannot run."""
    given = os.environ.get("MDTRACKER_PRETTIER")
    if given:
        return [given], ""
    cached = PRETTIER_CACHE / "node_modules" / ".bin" / "prettier"
    if cached.exists():
        return [str(cached)], ""
    if shutil.which("prettier"):
        return ["prettier"], ""
    if not (shutil.which("node") and shutil.which("npx")):
        return None, "prettier needs node, which is not installed (.ci/run installs both)"
    command = ["npx", "--yes", "prettier@3"]
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"npx could not run prettier: {err}"
    if done.returncode != 0:
        return None, f"npx could not fetch prettier from the npm registry: {done.stderr.strip()[-300:]}"
    return command, ""


@pytest.fixture(scope="module")
def prettier() -> list[str]:
    command, why = _prettier()
    if command is None:
        pytest.skip(why)
    return command


def run_prettier(command: list[str], folder: Path, files: list[Path]) -> None:
    """prettier's Markdown formatter with its defaults (no config of the machine's, no .editorconfig)."""
    done = subprocess.run([*command, "--no-config", "--no-editorconfig", "--log-level", "warn", "--write",
                           *map(str, files)], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def notes(vault: Path) -> list[Path]:
    return sorted(p for p in vault.rglob("*.md") if ".mdtracker" not in p.parts)


def texts(vault: Path) -> dict[str, str]:
    return {p.relative_to(vault).as_posix(): p.read_text("utf-8") for p in notes(vault)}


def run_mdformat(vault: Path, extensions: set[str]) -> None:
    for path in notes(vault):
        path.write_text(mdformat.text(path.read_text("utf-8"), extensions=extensions), "utf-8")


@pytest.fixture
def synced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    vault = tmp_path / "vault"
    shutil.copytree(ROOT / "vault", vault, ignore=shutil.ignore_patterns(".mdtracker"))
    assert run(["sync", *TODAY, str(vault)]) == 0
    capsys.readouterr()
    return vault


def fresh_and_left_alone(vault: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check` exits 0, and `sync` writes nothing: it does not undo what the formatter did."""
    before = texts(vault)
    capsys.readouterr()
    assert run(["check", *TODAY, str(vault)]) == 0, capsys.readouterr().out
    assert run(["sync", *TODAY, str(vault)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n"
    assert texts(vault) == before


# --- the synced sample vault -------------------------------------------------------------------------------


def test_the_synced_sample_vault_is_what_the_repository_holds(synced):
    assert texts(synced) == texts(ROOT / "vault")


def test_mdformat_with_gfm_changes_nothing_in_the_synced_sample_vault(synced, capsys):
    before = texts(synced)
    run_mdformat(synced, GFM)
    assert texts(synced) == before
    fresh_and_left_alone(synced, capsys)


def test_prettier_changes_nothing_in_the_synced_sample_vault(synced, capsys, prettier):
    before = texts(synced)
    run_prettier(prettier, synced, notes(synced))
    assert texts(synced) == before
    fresh_and_left_alone(synced, capsys)


def test_mdformat_without_a_table_plugin_only_takes_the_padding_out_of_tables(synced, capsys):
    """Without mdformat-gfm a table is a paragraph to mdformat, whose runs of spaces it collapses: no table layout
    is a fixed point of both (the sample vault's tables are aligned, as mdformat-gfm and prettier align them).
    That is all it changes; check still passes, and sync keeps the compact tables (their layout now)."""
    before = texts(synced)
    run_mdformat(synced, PLAIN)
    after = texts(synced)
    changed = 0
    for name, text in before.items():
        old, new = text.split("\n"), after[name].split("\n")
        assert len(old) == len(new), name
        for a, b in zip(old, new):
            if a != b:
                assert a.startswith("|") and b == " ".join(a.split()), (name, a, b)
                changed += 1
    assert changed > 20  # (every table row of the vault)
    fresh_and_left_alone(synced, capsys)


# --- a table a formatter re-aligned ------------------------------------------------------------------------


def _domains_vault(tmp_path: Path) -> tuple[Path, Path]:
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "mdtracker.toml").write_text(
        'today = "2025-11-22"\n'
        '[[domains]]\nname = "Deep Learning 🧠"\nweight = 25\nsections = ["Deep"]\n'
        '[[domains]]\nname = "自然语言处理 ✅"\nweight = 10\nsections = ["NLP"]\n', "utf-8")
    note = vault / "note.md"
    note.write_text("# Deep\n\n- [x] backprop\n- [ ] attention\n\n# NLP\n\n- [ ] tokenisers\n\n# Summary\n\n"
                    "<!-- mdtracker:begin readiness -->\n<!-- mdtracker:end readiness -->\n", "utf-8")
    return vault, note


def _table(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith("|")]


@pytest.mark.parametrize("formatter", ["mdformat-gfm", "prettier"])
def test_a_table_a_formatter_aligned_is_fresh_and_is_rewritten_aligned(tmp_path, capsys, request, formatter):
    vault, note = _domains_vault(tmp_path)
    assert run(["sync", str(vault)]) == 0
    written = note.read_text("utf-8")
    assert "| --- | --- | --- | --- |" in written  # the template's layout, in a region that had none

    def format_note() -> None:
        if formatter == "prettier":
            run_prettier(request.getfixturevalue("prettier"), vault, [note])
        else:
            note.write_text(mdformat.text(note.read_text("utf-8"), extensions=GFM), "utf-8")

    format_note()
    aligned = note.read_text("utf-8")
    assert aligned != written and len({layout.width(line) for line in _table(aligned)}) == 1
    fresh_and_left_alone(vault, capsys)

    note.write_text(aligned.replace("- [ ] attention", "- [x] attention"), "utf-8")  # the table must change
    assert run(["sync", str(vault)]) == 0
    rewritten = note.read_text("utf-8")
    assert "| Deep Learning 🧠 | 25     | 2/2     | 100% `██████████` |" in rewritten
    assert len({layout.width(line) for line in _table(rewritten)}) == 1  # aligned, as the formatter aligns
    before = rewritten
    format_note()
    assert note.read_text("utf-8") == before  # ... exactly: the formatter has nothing to do
    fresh_and_left_alone(vault, capsys)


def test_quick_stats_keeps_the_delimiter_row_the_user_typed(synced, capsys):
    tracker = synced / "tracker.md"
    text = tracker.read_text("utf-8")
    start = text.index("<!-- mdtracker:begin quick-stats -->")
    end = text.index("<!-- mdtracker:end quick-stats -->")
    region = text[start:end]
    rows = _table(region)
    compact = ["| " + " | ".join(c.strip() for c in layout.cells(row) or []) + " |" for row in rows]
    compact[1] = "|:---|:---:|---:|---|"
    compact[2] = compact[2].replace("| 4 |", "| 0 |")  # stale
    tracker.write_text(text.replace("\n".join(rows), "\n".join(compact)), "utf-8")
    assert run(["sync", *TODAY, str(synced)]) == 0
    after = _table(tracker.read_text("utf-8")[start:])[:len(rows)]
    assert after[1] == "|:---|:---:|---:|---|"  # as typed: compact, with the user's colons
    assert after[2] == "| A. ML Fundamentals (20%) | 4 | 8 | 🟡 In Progress |"

    formatted = mdformat.text(tracker.read_text("utf-8"), extensions=GFM)  # now a formatter aligns it
    tracker.write_text(formatted.replace("| 4              | 8", "| 0              | 8"), "utf-8")
    assert run(["sync", *TODAY, str(synced)]) == 0
    text = tracker.read_text("utf-8")
    assert mdformat.text(text, extensions=GFM) == text  # rewritten aligned, the colons kept
    assert "| :------------------------ | :------------: | -----------: | -------------- |" in text
    assert "| A. ML Fundamentals (20%)  |       4        |            8 | 🟡 In Progress |" in text
    fresh_and_left_alone(synced, capsys)


# --- everything else a template writes ----------------------------------------------------------------------

EXTRA = """# Extra

- [ ] A task with *emphasis*, **strong**, `code`, <!-- a comment --> and 1 < 2 📅 2025-11-20
- [ ] * starts like a list 📅 2025-11-19
- [ ] # looks like a heading 📅 2025-11-18
- [x] Done with a [link](https://example.com) ✅ 2025-11-20

Today is <!-- mdtracker:begin last-updated --><!-- mdtracker:end last-updated -->, and this note is <!-- mdtracker:begin progress --><!-- mdtracker:end progress --> done.

<!-- mdtracker:begin forecast -->
<!-- mdtracker:end forecast -->

<!-- mdtracker:begin overdue scope="extra" -->
<!-- mdtracker:end overdue -->

<!-- mdtracker:begin history days=5 -->
<!-- mdtracker:end history -->
"""


@pytest.mark.parametrize("formatter", ["mdformat", "mdformat-gfm", "prettier"])
def test_every_template_s_output_survives_each_formatter(synced, capsys, request, formatter):
    """The forecast (the one built-in region the sample vault lacks), a note's text quoted in lists (emphasis,
    a comment opener, text that would start a list or a heading): each formatter either leaves it or writes it
    in its own form (prettier: `_x_` for `*x*`), which check takes for fresh and sync keeps."""
    extra = synced / "extra.md"
    extra.write_text(EXTRA, "utf-8")
    assert run(["sync", *TODAY, str(synced)]) == 0
    text = extra.read_text("utf-8")
    assert "\\<!-- a comment -->" in text and "- **Pace**:" in text
    if formatter == "prettier":
        run_prettier(request.getfixturevalue("prettier"), synced, [extra])
    else:
        extra.write_text(mdformat.text(text, extensions=GFM if formatter == "mdformat-gfm" else PLAIN), "utf-8")
    formatted = extra.read_text("utf-8")
    if formatter == "prettier":  # its emphasis, in the note's own line and in the line quoting it
        assert formatted == text.replace("*emphasis*", "_emphasis_")
    else:
        assert formatted == text
    fresh_and_left_alone(synced, capsys)


# --- the pieces ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, width", [("✅", 2), ("🟡 In Progress", 14), ("⬜", 2), ("中文", 4), ("—", 1),
                                         ("🗣️", 2), ("█░", 2), ("abc", 3)])
def test_widths_are_the_formatters(text, width):
    assert layout.width(text) == width == layout.prettier_width(text)


def test_prettier_counts_a_zero_width_space_and_mdformat_does_not():
    assert (layout.width("a\u200bb"), layout.prettier_width("a\u200bb")) == (2, 3)
    # as prettier and mdformat-gfm align `| a\u200bb | c |` / `| - | - |` / `| x | y |`:
    assert layout.style(["| a\u200bb | c   |", "| --- | --- |", "| x   | y   |"]) is layout.prettier_width
    assert layout.style(["| a\u200bb  | c   |", "| --- | --- |", "| x   | y   |"]) is layout.width


def test_a_table_follows_the_layout_of_the_one_it_replaces():
    new = ["", "| Name | N |", "| --- | --- |", "| ✅ done | 10 |", ""]
    aligned = ["", "| Name | N   |", "| ---- | --: |", "| x    |   1 |", ""]
    assert layout.follow(aligned, new) == ["", "| Name    |   N |", "| ------- | --: |", "| ✅ done |  10 |", ""]
    compact = ["", "| Name | N |", "|:-|-:|", "| x | 1 |", ""]
    assert layout.follow(compact, new) == ["", "| Name | N |", "|:-|-:|", "| ✅ done | 10 |", ""]
    other = ["", "| A | B | C |", "| - | - | - |", ""]  # another shape: the template's layout
    assert layout.follow(other, new) == new


def test_a_rewritten_list_keeps_the_lines_a_formatter_laid_out():
    old = ["", "- **1 day late**: _x_ and __y__", "- **2 days late**: z", ""]
    new = ["", "- **1 day late**: *x* and **y**", "- **3 days late**: z", ""]
    assert layout.follow(old, new) == ["", "- **1 day late**: _x_ and __y__", "- **3 days late**: z", ""]
    starred = ["", "* **1 day late**: *x* and **y**", ""]  # `*` among `-` items would start another list
    assert layout.follow(starred, new) == new


def test_same_is_what_a_reader_sees():
    assert layout.same("- *a*\n", "* _a_\n")
    assert layout.same("| a | b |\n|---|:-|\n", "| a   | b   |\n| --- | :-- |\n")
    assert not layout.same("| a | b |\n|---|---|\n", "| a | b |\n|---|:-|\n")  # an alignment is shown
    assert not layout.same("- a\n", "- b\n")
    assert not layout.same("```\na  b\n```\n", "```\na b\n```\n")  # code keeps its spaces


def test_generated_text_never_opens_a_comment():
    assert regions.escape("see <!-- x --> here") == "see \\<!-- x --> here"
    assert regions.inline_body("a <!--b") == "a \\<!--b"


# --- lint ------------------------------------------------------------------------------------------------------


def test_lint_warns_about_an_inline_region_that_starts_its_line(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("Overall readiness\n<!-- mdtracker:begin readiness-pct -->22%<!-- mdtracker:end readiness-pct -->.\n"
                    "\n- <!-- mdtracker:begin last-updated --><!-- mdtracker:end last-updated --> in a list too\n"
                    "\nFine: <!-- mdtracker:begin last-updated --><!-- mdtracker:end last-updated -->\n", "utf-8")
    assert run(["lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [re.match(r"n\.md:(\d+): (\S+)", line).groups() for line in out] == [  # type: ignore[union-attr]
        ("2", "region-at-line-start"), ("4", "region-at-line-start")]
    assert out[0] == ("n.md:2: region-at-line-start inline region readiness-pct starts its line, so Markdown "
                      "reads the line as an HTML block: GitHub and Obsidian show its text as a paragraph of its "
                      "own; join the line to the end of the line before it, or put text before the region on "
                      "its line")
    assert run(["sync", "--today", "2025-11-22", str(tmp_path)]) == 0  # a warning: the note is still synced
    assert "Fine: <!-- mdtracker:begin last-updated -->2025-11-22<" in note.read_text("utf-8")


def test_the_sample_vault_has_no_region_at_the_start_of_a_line(capsys):
    run(["lint", str(ROOT / "vault")])
    assert "region-at-line-start" not in capsys.readouterr().out
