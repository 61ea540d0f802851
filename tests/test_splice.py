"""The splice writes exactly the regions the parser found: every byte outside them survives sync, however a
line quotes markers (in code spans, in other comments, in table cells), and sync is then idempotent."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdtracker.cli import run

BEGIN, END = "<!-- mdtracker:begin progress -->", "<!-- mdtracker:end progress -->"
DAY_BEGIN, DAY_END = "<!-- mdtracker:begin last-updated -->", "<!-- mdtracker:end last-updated -->"

# Pieces of a line: the user's text (kept as written) or a real inline region (its content is ours).
TEXT = st.sampled_from([
    "Syntax:", "e.g. done:", "see", "x", "[1/2]", "[37%]", "**bold**", "`code`", "<!-- a note -->",
    f"`{BEGIN}`", f"`{END}`", f"`{BEGIN}old{END}`", f"``{BEGIN} ` {END}``", "\\`", "`<!--`", "<b>hi</b>",
    "<!-- mdtracker is great -->", "&lt;!-- mdtracker:begin progress --&gt;",
])
REGION = st.sampled_from([(BEGIN, END), (DAY_BEGIN, DAY_END)])


@st.composite
def lines(draw) -> list[tuple[str, str | None]]:
    """A line as its pieces: (text, None) for the user's text, (begin, end) for a real region."""
    pieces: list[tuple[str, str | None]] = [(draw(st.sampled_from(["Done", "- item", "1. step", "> quote",
                                                                   "# Title", "| cell |"])), None)]
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            pieces.append((draw(TEXT), None))
        else:
            begin, end = draw(REGION)
            pieces.append((begin + draw(st.sampled_from(["", "old", "50%", "`x`"])) + end, "region"))
    if pieces[0][0] == "| cell |":
        pieces.append(("|", None))
    return pieces


def _pattern(pieces: list[tuple[str, str | None]]) -> re.Pattern[str]:
    """What the line must read after sync: the user's pieces as they were, any content in the regions (and
    a cookie ending a heading recounted)."""
    out = []
    for n, (text, kind) in enumerate(pieces):
        if kind is None and n == len(pieces) - 1 and text in ("[1/2]", "[37%]") and pieces[0][0] == "# Title":
            out.append(r"\[(?:\d*/\d*|\d*%)\]")
        elif kind is None:
            out.append(re.escape(text))
        else:
            begin = text[:text.index("-->") + 3]
            end = text[text.rindex("<!--"):]
            out.append(re.escape(begin) + "(?:(?!<!--|-->).)*" + re.escape(end))
    return re.compile(re.escape(" ").join(out))


@given(st.lists(lines(), min_size=1, max_size=4))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_byte_outside_the_real_regions_survives_sync(note_lines):
    text = "".join(" ".join(t for t, _ in pieces) + "\n\n" for pieces in note_lines)
    with tempfile.TemporaryDirectory() as folder:
        vault = Path(folder)
        (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n')
        note = vault / "note.md"
        note.write_text(text)
        code = run(["sync", str(vault)])
        after = note.read_text()
        if code == 2:  # a note sync refuses (a marker it cannot trust) stays byte for byte as it was
            assert after == text
            return
        assert code == 0
        written = [line for line in after.split("\n") if line]
        assert len(written) == len(note_lines)
        for line, pieces in zip(written, note_lines):
            assert _pattern(pieces).fullmatch(line), (line, pieces)
        assert run(["check", str(vault)]) == 0
        run(["sync", str(vault)])
        assert note.read_text() == after


def test_a_marker_quoted_in_a_code_span_before_the_real_region_keeps_its_text(tmp_path, capsys):
    note = tmp_path / "n.md"
    line = f"Syntax: `{BEGIN}`, e.g. done: {BEGIN}old{END}\n\n- [x] a\n- [ ] b\n"
    note.write_text(line)
    assert run(["sync", "--today", "2025-11-22", str(tmp_path)]) == 0
    assert note.read_text() == f"Syntax: `{BEGIN}`, e.g. done: {BEGIN}50%{END}\n\n- [x] a\n- [ ] b\n"
    assert run(["check", "--today", "2025-11-22", str(tmp_path)]) == 0


def test_a_marker_in_an_earlier_table_cell_is_not_the_one_spliced(tmp_path):
    note = tmp_path / "n.md"
    note.write_text(f"| syntax | value |\n|---|---|\n| `{BEGIN}` | {BEGIN}old{END} |\n\n- [x] a\n- [ ] b\n")
    assert run(["sync", "--today", "2025-11-22", str(tmp_path)]) == 0
    assert note.read_text().splitlines()[2] == f"| `{BEGIN}` | {BEGIN}50%{END} |"


def test_a_comment_in_our_namespace_that_is_no_marker_is_a_marker_problem(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("# A\n\n<!-- mdtracker:begin ../x -->\n<!-- mdtracker:end ../x -->\n\nSee <!-- mdtracker:bgin y --> here.\n")
    before = note.read_bytes()
    capsys.readouterr()
    assert run(["sync", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "n.md:3: '../x' is not a region name: a name is letters, digits, '-' and '_'" in err
    assert note.read_bytes() == before
    assert run(["lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "n.md:6: marker '<!-- mdtracker:bgin y -->' is not a marker" in out
