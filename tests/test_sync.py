"""sync and check: regions, cookies, marker errors, and the bytes around them."""

from __future__ import annotations

import os
import stat

import pytest
from markdown_it.utils import read_fixture_file

from conftest import FIXTURES, run

TODAY = ["--today", "2025-11-22"]


@pytest.mark.parametrize("line,title,source,expected", read_fixture_file(FIXTURES / "sync.md"),
                         ids=lambda v: str(v)[:50])
def test_sync_fixture(tmp_path, capsys, line, title, source, expected):
    note = tmp_path / "note.md"
    note.write_text(source)
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert note.read_text() == expected
    assert run(["check", *TODAY, str(tmp_path)]) == 0


@pytest.mark.parametrize("line,title,source,expected", read_fixture_file(FIXTURES / "marker-errors.md"),
                         ids=lambda v: str(v)[:50])
def test_marker_errors_leave_the_note_untouched(tmp_path, capsys, line, title, source, expected):
    note = tmp_path / "note.md"
    note.write_text(source)
    other = tmp_path / "other.md"
    other.write_text("- [x] a\n<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n")
    for command in ("sync", "check"):
        capsys.readouterr()
        assert run([command, *TODAY, str(tmp_path)]) == 2
        assert capsys.readouterr().err.strip() == expected.strip()
        assert note.read_text() == source
    assert "Progress**: 100%" in other.read_text()  # the other notes are still processed


def test_check_lists_stale_regions_and_diffs(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("# A [/]\n- [x] a\n\n<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n")
    before = note.read_bytes()
    assert run(["check", *TODAY, str(tmp_path)]) == 1
    assert capsys.readouterr().out == "n.md:1: cookie is out of date\nn.md:4: region progress is out of date\n"
    assert run(["check", "--diff", *TODAY, str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "--- a/n.md\n+++ b/n.md\n" in out and "-# A [/]\n+# A [1/1]\n" in out
    assert note.read_bytes() == before


def test_sync_writes_only_changed_files(tmp_path, capsys):
    fresh, stale, plain = tmp_path / "fresh.md", tmp_path / "stale.md", tmp_path / "plain.md"
    fresh.write_text("# A [1/1]\n- [x] a\n")
    stale.write_text("# A [0/1]\n- [x] a\n")
    plain.write_text("- [ ] nothing managed\n")
    old = {p: p.stat().st_mtime_ns for p in (fresh, plain)}
    for p in (fresh, plain):
        os.utime(p, ns=(1, 1))
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out == "updated stale.md: cookie (line 1)\n"
    assert all(p.stat().st_mtime_ns == 1 for p in old)
    assert stale.read_text() == "# A [1/1]\n- [x] a\n"
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n"


def test_write_keeps_mode_bom_crlf_and_goes_through_symlinks_inside_the_vault(tmp_path, capsys):
    vault = tmp_path / "vault"
    target = vault / ".store" / "n.md"  # (a hidden folder: not a note of its own)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\xef\xbb\xbf# A [/]\r\n- [x] a\r\n- [ ] b")
    target.chmod(0o640)
    (vault / "n.md").symlink_to(target)
    assert run(["sync", *TODAY, str(vault)]) == 0
    assert (vault / "n.md").is_symlink()
    assert target.read_bytes() == b"\xef\xbb\xbf# A [1/2]\r\n- [x] a\r\n- [ ] b"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert not [p for p in target.parent.iterdir() if p.name != "n.md"]  # no temp file left behind


def test_unknown_template_in_vault_templates_folder_wins(tmp_path, capsys):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "progress.md.j2").write_text("{{ file.counts.done }} done <!-- sneaky -->")
    (tmp_path / "templates" / "mine.md.j2").write_text("{{ args.greeting }}, {{ today }}")
    note = tmp_path / "n.md"
    note.write_text("- [x] a\n\n<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n"
                    'Hi: <!-- mdtracker:begin mine greeting="Hello there" --><!-- mdtracker:end mine -->\n')
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert note.read_text() == (
        "- [x] a\n\n<!-- mdtracker:begin progress -->\n\n1 done \\<!-- sneaky -->\n\n<!-- mdtracker:end progress -->\n"
        'Hi: <!-- mdtracker:begin mine greeting="Hello there" -->Hello there, 2025-11-22<!-- mdtracker:end mine -->\n')


def test_broken_template_is_an_error_at_the_region(tmp_path, capsys):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "bad.md.j2").write_text("{{ nothing.here }}")
    note = tmp_path / "n.md"
    note.write_text("x\n\n<!-- mdtracker:begin bad -->\n<!-- mdtracker:end bad -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 2
    assert capsys.readouterr().err == "n.md:3: region bad: 'nothing' is undefined; note left untouched\n"


@pytest.mark.parametrize("body, error", [
    ("{{ range(10**9) | list }}", "OverflowError: Range too big"),  # the sandbox's own limit
    ("{{ 1 // 0 }}", "ZeroDivisionError: integer division or modulo by zero"),
    ("{{ '%d' % 'x' }}", "TypeError: %d format"),
])
def test_whatever_a_template_raises_fails_its_region_and_leaves_the_note_alone(tmp_path, capsys, body, error):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "mine.md.j2").write_text(body)
    note = tmp_path / "n.md"
    text = "# N\n- [ ] a\n\n<!-- mdtracker:begin mine -->\n<!-- mdtracker:end mine -->\n"
    note.write_text(text)
    for command in ("sync", "check", "report"):
        code = run([command, *TODAY, str(tmp_path)])
        err = capsys.readouterr().err
        if command == "report":  # it renders nothing it prints
            assert code == 0 and err == ""
        else:
            assert code == 2 and err.startswith(f"n.md:4: region mine: {error}") and err.endswith("; note left untouched\n")
    assert note.read_text() == text


@pytest.mark.parametrize("limit", ["-1", "x", "2.5", "²"])
def test_a_limit_that_is_not_a_whole_number_is_an_error_at_its_region(tmp_path, capsys, limit):
    note = tmp_path / "n.md"
    text = f"- [ ] a 📅 2025-11-01\n\n<!-- mdtracker:begin overdue limit={limit} -->\n<!-- mdtracker:end overdue -->\n"
    note.write_text(text)
    assert run(["sync", *TODAY, str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"n.md:3: region overdue: limit={limit} is not a whole number; note left untouched\n"
    assert note.read_text() == text


def test_sandbox_keeps_templates_from_reaching_python(tmp_path, capsys):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "evil.md.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    (tmp_path / "n.md").write_text("<!-- mdtracker:begin evil -->\n<!-- mdtracker:end evil -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 2
    assert "unsafe" in capsys.readouterr().err


def test_what_an_inline_region_shows_is_no_fact_of_the_note(tmp_path):
    """A generated date does not date the list below it: sync twice changes nothing the second time."""
    (tmp_path / "n.md").write_text("**Last Updated**: <!-- mdtracker:begin last-updated --><!-- mdtracker:end "
                                   "last-updated -->\n- [ ] Score: 80%\n\n<!-- mdtracker:begin scores -->\n"
                                   "<!-- mdtracker:end scores -->\n")
    assert run(["sync", "--today", "2025-12-10", str(tmp_path)]) == 0
    first = (tmp_path / "n.md").read_text()
    assert "| — | 80.0% |" in first  # undated: the date beside it is mdtracker's own
    assert run(["sync", "--no-cache", "--today", "2025-12-10", str(tmp_path)]) == 0
    assert (tmp_path / "n.md").read_text() == first
