"""The parse cache and parallel parsing change how fast, never what: same reports with or without them."""

from __future__ import annotations

import json
import shutil
import os
import sys

import pytest

from conftest import ROOT, run

sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402  (the benchmark's vault generator)

TODAY = ["--today", "2025-11-22"]


@pytest.fixture(scope="module")
def vault(tmp_path_factory):
    root = tmp_path_factory.mktemp("vault")
    generate.generate(root, 300, seed=7)
    return root


def _report(vault, capsys, *args):
    capsys.readouterr()
    assert run(["report", "--json", *TODAY, *args, str(vault)]) == 0
    return json.loads(capsys.readouterr().out)


def test_same_report_with_and_without_cache_and_with_one_or_two_workers(vault, capsys):
    baseline = _report(vault, capsys, "--no-cache", "--jobs", "1")
    assert not (vault / ".mdtracker").exists()
    assert _report(vault, capsys, "--no-cache", "--jobs", "2") == baseline
    assert _report(vault, capsys, "--jobs", "2") == baseline  # cold: writes the cache
    assert (vault / ".mdtracker" / "index.msgpack").exists()
    assert _report(vault, capsys) == baseline  # warm: from the cache
    assert baseline["tasks"]["total"] > 3000


def test_a_changed_note_is_never_served_from_the_cache(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("- [ ] a\n- [ ] b\n")
    assert _report(tmp_path, capsys)["tasks"]["done"] == 0
    before = note.stat()
    note.write_text("- [x] a\n- [x] b\n")  # same size; put the old mtime back
    os.utime(note, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _report(tmp_path, capsys)["tasks"]["done"] == 2
    note.write_text("- [x] a\n- [ ] b\n- [ ] c\n")
    assert _report(tmp_path, capsys)["tasks"]["total"] == 3


def test_new_and_deleted_notes_and_config_changes(tmp_path, capsys):
    (tmp_path / "a.md").write_text("- [S] a\n")
    assert _report(tmp_path, capsys)["tasks"]["todo"] == 1
    (tmp_path / "mdtracker.toml").write_text('[statuses]\n"S" = "done"\n')
    assert _report(tmp_path, capsys)["tasks"]["done"] == 1
    (tmp_path / "b.md").write_text("- [ ] b\n")
    assert [f["path"] for f in _report(tmp_path, capsys)["files"]] == ["a.md", "b.md"]
    (tmp_path / "a.md").unlink()
    assert [f["path"] for f in _report(tmp_path, capsys)["files"]] == ["b.md"]


@pytest.mark.parametrize("garbage", [b"", b"not msgpack", b"\x81\xa3key\xc0", b"\x80\x05K\x01.", "a folder"])
def test_a_corrupt_cache_is_a_cold_run(tmp_path, capsys, garbage):
    (tmp_path / "a.md").write_text("- [x] a\n")
    _report(tmp_path, capsys)
    index = tmp_path / ".mdtracker" / "index.msgpack"
    if garbage == "a folder":  # (it opens for reading, as a file does)
        index.unlink()
        index.mkdir()
    else:
        index.write_bytes(garbage)
    assert _report(tmp_path, capsys)["tasks"]["done"] == 1
    assert capsys.readouterr().err == ""


def test_sync_after_sync_uses_the_fresh_stamp_and_a_change_ends_it(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("# A [/]\n- [x] a\n- [ ] b\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert run(["sync", *TODAY, str(tmp_path)]) == 0  # re-reads the rewritten note, finds it fresh
    assert run(["check", *TODAY, str(tmp_path)]) == 0  # from the stamp
    note.write_text(note.read_text().replace("- [ ] b", "- [x] b"))
    assert run(["check", *TODAY, str(tmp_path)]) == 1
    assert run(["check", "--today", "2025-11-23", str(tmp_path)]) == 1  # another day is another state
    (tmp_path / "templates").mkdir()
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert note.read_text() == "# A [2/2]\n- [x] a\n- [x] b\n"


def test_a_first_sync_of_many_notes_leaves_them_in_the_cache_as_written(tmp_path, capsys, monkeypatch):
    import mdtracker.pipeline

    generate.generate(tmp_path, 150, seed=3)  # every note has a stale cookie, some a stale region
    assert run(["sync", *TODAY, "--jobs", "2", str(tmp_path)]) == 0  # written on the workers
    out = capsys.readouterr().out
    assert out.count("updated ") == 150 and "region progress" in out
    parsed: list[str] = []
    real = mdtracker.pipeline.read_and_summarize
    monkeypatch.setattr(mdtracker.pipeline, "read_and_summarize", lambda path, rel, *a: parsed.append(rel) or real(path, rel, *a))
    assert _report(tmp_path, capsys, "--jobs", "1") == _report(tmp_path, capsys, "--no-cache")
    assert parsed == []  # the cached report parsed nothing: the cache holds every note as written
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n" and parsed == []
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 0


def test_checks_of_many_stale_notes_list_them_and_diff_them_and_the_sync_after_leaves_them_cached(
        tmp_path, capsys, monkeypatch):
    generate.generate(tmp_path, 150, seed=3)
    (tmp_path / "all.md").write_text('<!-- mdtracker:begin progress scope="area-" -->\n<!-- mdtracker:end progress -->\n')
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.md")}
    assert run(["check", *TODAY, "--jobs", "2", str(tmp_path)]) == 1
    listed = capsys.readouterr().out
    parsed = _count_parses(monkeypatch)
    assert run(["check", *TODAY, "--jobs", "1", str(tmp_path)]) == 1
    assert capsys.readouterr().out == listed and parsed == []  # what the first check found, nothing parsed
    assert run(["check", "--diff", *TODAY, "--jobs", "2", str(tmp_path)]) == 1
    diffed = capsys.readouterr().out
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.md")} == before  # check writes nothing
    stale = {line.split(":")[0] for line in listed.splitlines()}
    assert len(stale) == 151 and {line[6:] for line in diffed.splitlines() if line.startswith("+++ b/")} == stale
    (tmp_path / "templates").mkdir()  # the vault's own templates changed: every note is planned again
    (tmp_path / "templates" / "mine.md.j2").write_text("{{ analysis.counts.total }}\n")
    assert run(["sync", *TODAY, "--jobs", "2", str(tmp_path)]) == 0  # parsed again and written on the workers
    assert capsys.readouterr().out.count("updated ") == 151
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 0  # the regions on the vault saw every note
    parsed.clear()
    cached = _report(tmp_path, capsys, "--jobs", "1")
    assert parsed == [] and cached == _report(tmp_path, capsys, "--no-cache", "--jobs", "1")
    parsed.clear()
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n" and parsed == []


def test_the_workers_of_a_cold_run_leave_every_note_in_the_cache(vault, capsys, monkeypatch):
    import mdtracker.pipeline

    shutil.rmtree(vault / ".mdtracker", ignore_errors=True)
    baseline = _report(vault, capsys, "--jobs", "2")  # cold, on two workers that write the shards
    assert (vault / ".mdtracker" / ".gitignore").exists()
    parsed: list[str] = []
    real = mdtracker.pipeline.read_and_summarize
    monkeypatch.setattr(mdtracker.pipeline, "read_and_summarize", lambda path, rel, *a: parsed.append(rel) or real(path, rel, *a))
    assert _report(vault, capsys) == baseline and parsed == []  # warm: nothing parsed again
    lost = sorted((vault / ".mdtracker").glob("notes-*.msgpack"))[0]
    lost.unlink()
    assert _report(vault, capsys) == baseline  # a lost shard costs its notes a parse, nothing more
    assert 0 < len(parsed) < 300 / 10


def test_a_note_that_fails_on_a_worker_is_reported_not_a_crash(tmp_path, capsys):
    generate.generate(tmp_path, 150, seed=4)  # enough cold notes for two workers
    bad = tmp_path / "latin1.md"
    bad.write_bytes(b"- [ ] caf\xe9\n")
    capsys.readouterr()
    assert run(["report", "--json", *TODAY, "--jobs", "2", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "latin1.md:1: not valid UTF-8 (byte 0xe9 at column 10); left untouched" in err
    assert "Traceback" not in err and len(json.loads(out)["files"]) == 150
    assert bad.read_bytes() == b"- [ ] caf\xe9\n"


def test_a_cache_that_cannot_be_written_leaves_no_file_behind_and_no_error(tmp_path, capsys, monkeypatch):
    (tmp_path / "a.md").write_text("- [x] a\n")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)  # the cache's files are written, then fail to take their place
    assert _report(tmp_path, capsys)["tasks"]["done"] == 1
    assert capsys.readouterr().err == ""
    assert [p.name for p in (tmp_path / ".mdtracker").iterdir()] == [".gitignore"]


def _count_parses(monkeypatch) -> list[str]:
    """The notes parsed from now on (in this process: run with `--jobs 1`)."""
    import mdtracker.pipeline

    parsed: list[str] = []
    real = mdtracker.pipeline.read_and_summarize
    monkeypatch.setattr(mdtracker.pipeline, "read_and_summarize", lambda path, rel, *a: parsed.append(rel) or real(path, rel, *a))
    return parsed


def test_after_a_sync_that_met_an_error_only_the_failed_and_the_changed_notes_are_planned_again(
        tmp_path, capsys, monkeypatch):
    notes = {tmp_path / f"n{i:03}.md": f"# Note {i} [/]\n- [x] a\n- [ ] b\n" for i in range(130)}
    for path, text in notes.items():
        path.write_text(text)
    (tmp_path / "all.md").write_text('<!-- mdtracker:begin progress scope="n0" -->\n<!-- mdtracker:end progress -->\n')
    (tmp_path / "broken.md").write_text("# Broken\n\n<!-- mdtracker:begin progress -->\n")
    assert run(["sync", *TODAY, "--jobs", "2", str(tmp_path)]) == 2  # on the workers
    out, err = capsys.readouterr()
    assert out.count("updated ") == 131 and err.startswith("broken.md:3: region progress begun here has no")
    parsed = _count_parses(monkeypatch)
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 2  # the same error, from the one broken note
    assert capsys.readouterr() == ("", err) and parsed == ["broken.md"]
    edited = tmp_path / "n042.md"
    edited.write_text(edited.read_text().replace("- [ ] b", "- [x] b"))
    parsed.clear()
    for _ in range(2):  # check leaves the notes stale: the second check knows n042.md's cookie from the first
        assert run(["check", *TODAY, "--jobs", "1", str(tmp_path)]) == 2
        out, _err = capsys.readouterr()
        assert out == "all.md:1: region progress is out of date\nn042.md:1: cookie is out of date\n"
    assert sorted(parsed) == ["broken.md", "broken.md", "n042.md"]
    parsed.clear()
    assert run(["check", "--diff", *TODAY, "--jobs", "1", str(tmp_path)]) == 2  # a diff needs the texts
    assert "+# Note 42 [2/2]" in capsys.readouterr().out and sorted(parsed) == ["broken.md", "n042.md"]
    parsed.clear()
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "updated all.md: region progress (line 1)\nupdated n042.md: cookie (line 1)\n" and "broken.md:3:" in err
    assert sorted(parsed) == ["broken.md", "n042.md"]  # written as parsed; the region on the notes reads the cache
    assert edited.read_text() == "# Note 42 [2/2]\n- [x] a\n- [x] b\n"
    assert (tmp_path / "n007.md").read_text() == "# Note 7 [1/2]\n- [x] a\n- [ ] b\n"
    assert _report(tmp_path, capsys) == _report(tmp_path, capsys, "--no-cache")
    (tmp_path / "broken.md").write_text("# Mended\n\n<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out == "updated broken.md: region progress (line 3)\n"
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n"


def test_a_sync_after_a_report_plans_every_stale_note_from_the_cache_even_with_a_shard_lost(tmp_path, capsys):
    generate.generate(tmp_path, 150, seed=5)
    (tmp_path / "all.md").write_text('<!-- mdtracker:begin progress scope="area-" -->\n<!-- mdtracker:end progress -->\n')
    baseline = _report(tmp_path, capsys, "--no-cache")
    assert _report(tmp_path, capsys, "--jobs", "2") == baseline  # caches every note; every one is stale
    sorted((tmp_path / ".mdtracker").glob("notes-*.msgpack"))[3].unlink()
    assert run(["sync", *TODAY, "--jobs", "2", str(tmp_path)]) == 0  # every note planned again
    assert capsys.readouterr().out.count("updated ") == 151
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 0
    assert _report(tmp_path, capsys) == _report(tmp_path, capsys, "--no-cache")


def test_editing_adding_or_removing_the_vaults_own_templates_plans_again_only_the_regions_they_reach(
        tmp_path, capsys, monkeypatch):
    for i in range(130):
        (tmp_path / f"n{i:03}.md").write_text(f"# Note {i} [/]\n- [x] a\n- [ ] b\n")
    (tmp_path / "n000.md").write_text("# Note 0\n- [x] a\n\n<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n")
    (tmp_path / "templates").mkdir()
    template = tmp_path / "templates" / "mine.md.j2"
    template.write_text("{{ vault.counts.total }} tasks\n")
    (tmp_path / "dash.md").write_text("# Dash\n\n<!-- mdtracker:begin mine -->\n<!-- mdtracker:end mine -->\n")
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 0
    capsys.readouterr()
    parsed = _count_parses(monkeypatch)
    template.write_text("{{ vault.counts.done }} done\n")
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "updated dash.md: region mine (line 3)\n" and parsed == []
    assert "\n130 done\n" in (tmp_path / "dash.md").read_text()
    (tmp_path / "templates" / "other.md.j2").write_text("mine\n")  # no region is named so
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n" and parsed == []
    progress = tmp_path / "templates" / "progress.md.j2"
    progress.write_text("mine\n")  # stands in for the built-in one: the note with a progress region is planned again
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "updated n000.md: region progress (line 4)\n" and parsed == ["n000.md"]
    assert "-->\n\nmine\n\n<!--" in (tmp_path / "n000.md").read_text()
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 0
    progress.unlink()  # the built-in one is back (the region was on the vault's own template: it is planned here)
    parsed.clear()
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "updated n000.md: region progress (line 4)\n" and parsed == []
    assert "-->\n\nmine\n\n<!--" not in (tmp_path / "n000.md").read_text()
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 0


def test_many_notes_rewritten_for_regions_on_the_vault_are_parsed_again_and_the_next_sync_is_warm(
        tmp_path, capsys, monkeypatch):
    overdue = "\n<!-- mdtracker:begin overdue -->\n<!-- mdtracker:end overdue -->\n"
    for i in range(70):  # more than sync parses again from the texts it wrote
        (tmp_path / f"n{i:03}.md").write_text(f"# Note {i}\n- [ ] task {i} 📅 2025-11-{1 + i % 20:02}\n{overdue}")
    parsed = _count_parses(monkeypatch)
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("updated ") == 70
    assert sorted(parsed) == sorted(2 * [f"n{i:03}.md" for i in range(70)])  # read, then read again as written
    parsed.clear()
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n" and parsed == []
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 0
    assert _report(tmp_path, capsys) == _report(tmp_path, capsys, "--no-cache")
    (tmp_path / "n005.md").write_text("# Note 5\n- [x] done\n")  # one note changed: every region on the vault
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("updated ") == 69
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 0


def test_a_new_day_rewrites_many_regions_on_the_day_and_the_sync_after_is_warm(tmp_path, capsys, monkeypatch):
    for i in range(130):  # enough to share among workers
        (tmp_path / f"n{i:03}.md").write_text(
            f"# Note {i}\n- [x] a\n\nChecked: <!-- mdtracker:begin last-updated --><!-- mdtracker:end last-updated -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    capsys.readouterr()
    parsed = _count_parses(monkeypatch)
    assert run(["sync", "--today", "2025-11-23", "--jobs", "1", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("\nupdated ") == 129
    assert sorted(parsed) == [f"n{i:03}.md" for i in range(130)]  # each read once, and written where it was read
    assert (tmp_path / "n042.md").read_text().endswith("-->2025-11-23<!-- mdtracker:end last-updated -->\n")
    parsed.clear()
    assert run(["sync", "--today", "2025-11-23", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n" and parsed == []
    assert _report(tmp_path, capsys) == _report(tmp_path, capsys, "--no-cache")


def test_a_check_that_parses_unchanged_notes_again_leaves_their_cache_as_it_is(tmp_path, capsys):
    for i in range(130):  # enough for the workers
        (tmp_path / f"n{i:03}.md").write_text(
            f"# Note {i} [/]\n- [x] a\n- [ ] b\n\nChecked: <!-- mdtracker:begin last-updated -->"
            "<!-- mdtracker:end last-updated -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    shards = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (tmp_path / ".mdtracker").glob("notes-*")}
    (tmp_path / "n007.md").write_text("# Note 7 [/]\n- [x] a\n- [x] b\n")  # a changed note: its shard changes
    capsys.readouterr()
    assert run(["check", "--today", "2025-11-23", str(tmp_path)]) == 1  # a new day: every note parsed again
    assert capsys.readouterr().out.count("region last-updated is out of date") == 129
    now = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (tmp_path / ".mdtracker").glob("notes-*")}
    assert now.keys() == shards.keys()
    rewritten = [name for name in shards if now[name] != shards[name]]
    assert len(rewritten) == 1  # n007.md's shard
    assert run(["sync", "--today", "2025-11-23", str(tmp_path)]) == 0
    assert run(["check", "--today", "2025-11-23", str(tmp_path)]) == 0
    assert _report(tmp_path, capsys) == _report(tmp_path, capsys, "--no-cache")


DASHBOARD = ("# Dashboard\n\n<!-- mdtracker:begin readiness -->\n<!-- mdtracker:end readiness -->\n\n"
             "<!-- mdtracker:begin mine -->\n<!-- mdtracker:end mine -->\n\n"
             "Synced: <!-- mdtracker:begin last-updated --><!-- mdtracker:end last-updated -->\n")


def _synced_copies(tmp_path, notes: int, dashboard: str, mine: str) -> tuple:
    """A generated vault with a dashboard and a template of its own, synced, and a copy of it."""
    cached, uncached = tmp_path / "cached", tmp_path / "uncached"
    generate.generate(cached, notes, seed=11)
    with open(cached / "mdtracker.toml", "a") as config:  # readiness over the sections named with one word
        for word in generate.WORDS[:4]:
            config.write(f'[[domains]]\nname = "{word}"\nweight = {len(word)}\nsections = ["{word.title()}"]\n')
    (cached / "dashboard.md").write_text(dashboard)
    (cached / "templates").mkdir()
    (cached / "templates" / "mine.md.j2").write_text(mine)
    assert run(["sync", *TODAY, "--jobs", "2", str(cached)]) == 0
    shutil.copytree(cached, uncached)
    return cached, uncached


def _tick(vault, rel: str) -> None:
    note = vault / rel
    note.write_text(note.read_text().replace("- [ ]", "- [x]", 1))


def test_a_dashboard_after_one_change_reads_from_the_cache_only_what_its_templates_show(tmp_path, capsys, monkeypatch):
    from mdtracker.cache import Shard, shard_of as _shard
    from mdtracker.vault import _Summaries

    cached, uncached = _synced_copies(tmp_path, 150, DASHBOARD, "{{ vault.counts.done }} done, {{ vault.overdue | length }} overdue\n")
    capsys.readouterr()
    read: list[str] = []
    for name in ("column", "every", "of"):  # what the analysis asks of the notes' summaries
        real = getattr(_Summaries, name)
        monkeypatch.setattr(_Summaries, name, lambda self, *a, _real=real, _name=name: read.append(
            a[0] if _name == "column" else _name) or _real(self, *a))
    whole = Shard.whole
    monkeypatch.setattr(Shard, "whole", lambda self: read.append("shard") or whole(self))
    for vault, flags in ((cached, []), (uncached, ["--no-cache"])):
        _tick(vault, "area-3/topic-0/note-00003.md")
        assert run(["sync", *TODAY, *flags, str(vault)]) == 0
        assert "updated dashboard.md: region mine (line 16)\n" in capsys.readouterr().out
        if vault == cached:  # only the shards of the notes written are read whole, to be written again
            assert sorted(set(read)) == ["counts", "dated", "section_items", "shard"]
            assert read.count("shard") == len({_shard("area-3/topic-0/note-00003.md"), _shard("dashboard.md")})
    assert (cached / "dashboard.md").read_bytes() == (uncached / "dashboard.md").read_bytes()
    assert "**Overall readiness**: —" not in (cached / "dashboard.md").read_text()  # the domains have items
    read.clear()
    assert run(["sync", "--today", "2025-11-23", str(cached)]) == 0  # a new day: the date and what fell overdue
    assert sorted(read) == ["counts", "dated", "section_items", "shard"]
    assert run(["check", "--today", "2025-11-23", "--no-cache", str(cached)]) == 0


def test_a_template_of_the_vaults_own_that_includes_another_sees_the_note(tmp_path, capsys):
    cached, uncached = _synced_copies(tmp_path, 70, "# Mine\n- [x] a\n- [ ] b\n\n<!-- mdtracker:begin mine -->\n"
                                      "<!-- mdtracker:end mine -->\n", '{% include "progress.md.j2" %}\n')
    assert "**Progress**: 50% `" in (cached / "dashboard.md").read_text()  # `file`: the note's own counts
    _tick(cached, "dashboard.md")
    assert run(["sync", *TODAY, str(cached)]) == 0
    assert "**Progress**: 100% `" in (cached / "dashboard.md").read_text()
    assert run(["check", *TODAY, "--no-cache", str(cached)]) == 0


@pytest.mark.parametrize("damage", ["file", "notes", "group", "length"])
def test_a_damaged_shard_costs_its_notes_a_parse_never_an_error(tmp_path, capsys, damage):
    import msgpack

    cached, uncached = _synced_copies(tmp_path, 150, DASHBOARD, "{{ vault.counts.done }} done\n")
    for shard in sorted((cached / ".mdtracker").glob("notes-*.msgpack"))[::4]:
        stored = msgpack.unpackb(shard.read_bytes())
        if damage == "file":
            shard.write_bytes(shard.read_bytes()[:100])
            continue
        if damage == "notes":
            stored["notes"] = b"\x80\x05garbage"
        elif damage == "group":
            stored["columns"]["counts"] = b"not msgpack"
        else:  # one note's fields missing: they no longer line up with the notes
            stored["columns"]["counts"] = msgpack.packb(msgpack.unpackb(stored["columns"]["counts"])[1:])
        shard.write_bytes(msgpack.packb(stored))
    capsys.readouterr()
    for vault, flags in ((cached, []), (uncached, ["--no-cache"])):
        _tick(vault, "area-3/topic-0/note-00003.md")
        assert run(["sync", *TODAY, *flags, str(vault)]) == 0
    assert capsys.readouterr().err == ""
    assert (cached / "dashboard.md").read_bytes() == (uncached / "dashboard.md").read_bytes()
    assert _report(cached, capsys) == _report(uncached, capsys, "--no-cache")


def test_every_field_of_a_summary_is_cached(tmp_path, capsys):
    from dataclasses import fields

    import msgpack

    from mdtracker.analyze import FileSummary

    (tmp_path / "a.md").write_text("# A\n- [x] a ✅ 2025-11-20\n")
    _report(tmp_path, capsys)
    [shard] = (tmp_path / ".mdtracker").glob("notes-*.msgpack")
    stored = msgpack.unpackb(shard.read_bytes())
    assert sorted(stored["columns"]) == sorted(f.name for f in fields(FileSummary))


def test_a_sync_or_check_after_a_cold_report_looks_only_at_what_the_report_found(tmp_path, capsys, monkeypatch):
    for i in range(130):  # every cookie fresh, but in three notes
        (tmp_path / f"n{i:03}.md").write_text(f"# Note {i} [{'/' if i in (7, 42, 99) else '1/2'}]\n- [x] a\n- [ ] b\n")
    (tmp_path / "all.md").write_text('<!-- mdtracker:begin progress scope="n" -->\n<!-- mdtracker:end progress -->\n')
    (tmp_path / "broken.md").write_text("# Broken\n\n<!-- mdtracker:begin progress -->\n")
    (tmp_path / "fresh").mkdir()  # a note with a region that is up to date: synced on its own, then moved in
    (tmp_path / "fresh" / "fresh.md").write_text("# Fresh\n- [x] a\n\n<!-- mdtracker:begin progress -->\n<!-- mdtracker:end progress -->\n")
    assert run(["sync", *TODAY, "--no-cache", str(tmp_path / "fresh")]) == 0
    (tmp_path / "fresh" / "fresh.md").rename(tmp_path / "fresh.md")
    assert _report(tmp_path, capsys, "--jobs", "2") == _report(tmp_path, capsys, "--no-cache")  # cold, on the workers
    parsed = _count_parses(monkeypatch)
    assert run(["check", *TODAY, "--jobs", "1", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ("all.md:1: region progress is out of date\nn007.md:1: cookie is out of date\n"
                   "n042.md:1: cookie is out of date\nn099.md:1: cookie is out of date\n")
    assert err.startswith("broken.md:3: region progress begun here") and parsed == ["broken.md"]
    assert run(["sync", *TODAY, "--jobs", "1", str(tmp_path)]) == 2
    assert capsys.readouterr().out == ("updated all.md: region progress (line 1)\nupdated n007.md: cookie (line 1)\n"
                                       "updated n042.md: cookie (line 1)\nupdated n099.md: cookie (line 1)\n")
    assert sorted(parsed) == ["broken.md", "broken.md", "n007.md", "n042.md", "n099.md"]
    assert run(["check", *TODAY, "--no-cache", str(tmp_path)]) == 2 and capsys.readouterr().out == ""


def test_a_template_of_the_vaults_own_named_like_a_built_in_one_on_the_day_may_read_the_whole_vault(tmp_path, capsys):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "last-updated.md.j2").write_text("{{ vault.counts.total }} tasks\n")
    (tmp_path / "tasks.md").write_text("- [ ] a\n- [ ] b\n")
    note = tmp_path / "a.md"
    note.write_text("Now: <!-- mdtracker:begin last-updated --><!-- mdtracker:end last-updated -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert "-->2 tasks<!--" in note.read_text()
    (tmp_path / "tasks.md").unlink()  # the same day: only regions on the vault can change
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert capsys.readouterr().out.endswith("updated a.md: region last-updated (line 1)\n")
    assert "-->0 tasks<!--" in note.read_text()


def test_the_gaps_are_kept_for_the_same_topic_results_and_worked_out_again_when_one_changes(
        tmp_path, capsys, monkeypatch):
    from mdtracker import scores

    note = tmp_path / "ml.md"
    note.write_text("# ML\n\n- [ ] read\n\n| Topic | Score | Status |\n|---|---|---|\n"
                    "| Attention | 40% | ⬜ |\n| Dropout | 90% | ✅ |\n")
    (tmp_path / "other.md").write_text("- [ ] a\n")
    worked = []
    real = scores.gaps
    monkeypatch.setattr(scores, "gaps", lambda *a: worked.append(1) or real(*a))

    def gaps():
        return [(g["topic"], g["value"]) for g in _report(tmp_path, capsys)["gaps"]]

    assert gaps() == [("Attention", 0.4)] and len(worked) == 1
    (tmp_path / "other.md").write_text("- [x] a\n")  # a ticked box: the same topic results
    note.write_text(note.read_text().replace("- [ ] read", "- [x] read"))
    assert gaps() == [("Attention", 0.4)] and len(worked) == 1  # read back
    note.write_text(note.read_text().replace("| Dropout | 90% |", "| Dropout | 30% |"))
    assert gaps() == [("Dropout", 0.3), ("Attention", 0.4)] and len(worked) == 2
    (tmp_path / "mdtracker.toml").write_text("[scores]\ngap_threshold = 0.35\n")
    assert gaps() == [("Dropout", 0.3)] and len(worked) == 3  # another config: worked out again


@pytest.mark.parametrize("planted", [b"", b"\xc1garbage", "msgpack"])
def test_a_planted_or_damaged_file_of_kept_gaps_is_never_believed(tmp_path, capsys, planted):
    import msgpack

    (tmp_path / "ml.md").write_text("| Topic | Score | Status |\n|---|---|---|\n| Attention | 40% | ⬜ |\n")
    truth = _report(tmp_path, capsys, "--no-cache")["gaps"]
    assert _report(tmp_path, capsys)["gaps"] == truth and truth
    kept = tmp_path / ".mdtracker" / "gaps.msgpack"
    if planted == "msgpack":  # what a stranger's vault could hold: kept gaps of its own making, under a guessed key
        key = msgpack.unpackb(kept.read_bytes())["key"]
        planted = msgpack.packb({"key": [*key[:2], "another build", *key[3:]],
                                 "value": [["ml.md", 1, "Forged", 0.0, None, "low-latest"]]})
    kept.write_bytes(planted)
    assert _report(tmp_path, capsys)["gaps"] == truth
    kept.unlink()
    kept.mkdir()  # not even a file
    assert _report(tmp_path, capsys)["gaps"] == truth
