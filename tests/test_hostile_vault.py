"""A vault from a stranger (cloned, synced, shared) can make mdtracker do nothing but its job: each attack of
issue 17 as a hostile vault built by the test, and each must leave every note byte for byte as it was outside
its regions, run no code, touch nothing outside the vault, end within seconds with a `path:line` message, and
exit with the documented code."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run

TODAY = ["--today", "2025-11-22"]
REGION = "# N\n- [ ] a\n\n<!-- mdtracker:begin mine -->\n<!-- mdtracker:end mine -->\n"


def _vault(tmp_path: Path, template: str, note: str = REGION) -> tuple[Path, Path]:
    vault = tmp_path / "vault"
    (vault / "templates").mkdir(parents=True)
    (vault / "templates" / "mine.md.j2").write_text(template)
    (vault / "n.md").write_text(note)
    return vault, vault / "n.md"


def _sync_fails_at_the_region(vault: Path, note: Path, capsys, message: str, limit_s: float = 10.0) -> str:
    before = note.read_bytes()
    capsys.readouterr()
    start = time.monotonic()
    assert run(["sync", *TODAY, str(vault)]) == 2
    assert time.monotonic() - start < limit_s
    err = capsys.readouterr().err
    assert err.startswith("n.md:4: region mine: ") and message in err and err.endswith("; note left untouched\n"), err
    assert note.read_bytes() == before
    return err


# --- templates: plain data only ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "{{ vault.summaries.vault.root.joinpath('/etc/passwd').read_text() }}",
    "{{ vault.config.source }}",
    "{{ file.summaries }}",
    "{{ note.__class__ }}",
    "{{ counts.__self__.root }}",
    "{{ vault.readiness.domains.__class__.__mro__ }}",
    "{{ today.__class__.__subclasses__() }}",
])
def test_a_template_reaches_no_live_object_no_path_no_method_with_effects(tmp_path, capsys, body):
    vault, note = _vault(tmp_path, body)
    before = note.read_bytes()
    capsys.readouterr()
    assert run(["sync", *TODAY, str(vault)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("n.md:4: region mine: ") and "root:" not in err
    assert note.read_bytes() == before


def test_a_template_cannot_write_a_file(tmp_path, capsys):
    target = tmp_path / "evil.pth"
    vault, note = _vault(tmp_path, "{{ vault.summaries.vault.root.joinpath('../evil.pth').write_text('x') }}")
    assert run(["sync", *TODAY, str(vault)]) == 2
    assert not target.exists()


def test_templates_see_the_analysis_as_plain_data(tmp_path, capsys):
    body = ("{{ vault.tasks.total }} {{ vault.counts.todo }} {{ vault.readiness.overall }} {{ note.path }} "
            "{{ note.tasks[0].text }} {{ file.tasks.todo }} {{ region.name }} {{ today.isoformat() }} "
            "{{ vault.keys() | list | length > 10 }}")
    vault, note = _vault(tmp_path, body)
    assert run(["sync", *TODAY, str(vault)]) == 0
    assert "\n1 1 None n.md a 1 mine 2025-11-22 True\n" in note.read_text()


def test_a_template_that_is_a_link_is_not_read(tmp_path, capsys):
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY\n")
    vault, note = _vault(tmp_path, "x")
    (vault / "templates" / "mine.md.j2").unlink()
    os.symlink(secret, vault / "templates" / "mine.md.j2")
    before = note.read_bytes()
    capsys.readouterr()
    assert run(["sync", *TODAY, str(vault)]) == 2
    err = capsys.readouterr().err
    assert "n.md:4: unknown region mine" in err and "PRIVATE" not in err
    assert note.read_bytes() == before


def test_a_templates_folder_that_is_a_link_is_not_read(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "mine.md.j2").write_text("{{ 'from elsewhere' }}")
    vault = tmp_path / "vault"
    vault.mkdir()
    os.symlink(elsewhere, vault / "templates")
    (vault / "n.md").write_text(REGION)
    capsys.readouterr()
    assert run(["sync", *TODAY, str(vault)]) == 2
    assert "unknown region mine" in capsys.readouterr().err
    assert "from elsewhere" not in (vault / "n.md").read_text()


# --- templates: bounded time, output and memory --------------------------------------------------------------


@pytest.mark.parametrize("body, message", [
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "took longer than 2 s"),
    ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
     "took longer than 2 s"),
    ("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
     "took more than 512 MB of memory"),
    ("{{ 9 ** (9 ** 9) }}", "is too large a number"),
    ("{{ 'x' * 3 * 10 ** 9 }}", "is larger than a region may hold"),
    ("{{ [0] * 10 ** 9 }}", "is larger than a region may hold"),
    ("{{ '%999999999d' % 1 }}", "is wider than a region may hold"),
    ("{{ '{:>999999999}'.format(1) }}", "is wider than a region may hold"),
    ("{{ 'x'.center(999999999) }}", "is larger than a region may hold"),
    ("{{ 'x' | center(999999999) }}", "is larger than a region may hold"),
    ("{{ [] | slice(100000000) | list }}", "is larger than a region may hold"),
    ("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", "wrote more than 1,000,000 characters"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "RecursionError"),
])
def test_a_templates_time_output_and_memory_are_bounded(tmp_path, capsys, body, message):
    if "memory" in message and not sys.platform.startswith("linux"):
        pytest.skip("the memory bound is Linux's RLIMIT_AS")
    vault, note = _vault(tmp_path, body)
    _sync_fails_at_the_region(vault, note, capsys, message)


def test_the_rest_of_the_vault_is_synced_when_one_template_runs_out_of_time(tmp_path, capsys):
    vault, note = _vault(tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    (vault / "plan.md").write_text("# Plan [/]\n- [x] a\n- [ ] b\n")
    assert run(["sync", *TODAY, str(vault)]) == 2
    assert (vault / "plan.md").read_text() == "# Plan [1/2]\n- [x] a\n- [ ] b\n"
    assert run(["sync", *TODAY, str(vault)]) == 2  # and the next run still fails it, as it should


def test_a_bounded_render_leaves_the_process_as_it_was(tmp_path, capsys):
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    vault, note = _vault(tmp_path, "{{ 'x' * 10 }}")
    assert run(["sync", *TODAY, str(vault)]) == 0
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    time.sleep(0.1)  # no late interruption of whatever runs next
    assert sum(range(10**6)) > 0


# --- arguments and names -------------------------------------------------------------------------------------


@pytest.mark.parametrize("marker, message", [
    ("overdue lmit=3", "region overdue: unknown argument lmit (it takes limit, scope)"),
    ('progress scpe="plans/"', "region progress: unknown argument scpe (it takes scope)"),
    ("headings depth=banana", "region headings: depth=banana is not a whole number"),
    ("readiness scope=x", "region readiness: unknown argument scope (it takes none)"),
])
def test_an_argument_a_template_does_not_take_is_an_error_at_its_line(tmp_path, capsys, marker, message):
    note = tmp_path / "n.md"
    name = marker.split()[0]
    text = f"# N\n- [ ] a\n\n<!-- mdtracker:begin {marker} -->\n<!-- mdtracker:end {name} -->\n"
    note.write_text(text)
    capsys.readouterr()
    assert run(["sync", *TODAY, str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"n.md:4: {message}; note left untouched\n"
    assert note.read_text() == text


def test_a_vault_template_takes_the_arguments_it_declares_or_reads(tmp_path, capsys):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "reads.md.j2").write_text("{{ args.greeting }}")
    (tmp_path / "templates" / "declares.md.j2").write_text("{#- args: times:count -#}{{ args.times + 1 }}")
    note = tmp_path / "n.md"
    note.write_text("A <!-- mdtracker:begin reads greeting=hi --><!-- mdtracker:end reads --> and "
                    "<!-- mdtracker:begin declares times=2 --><!-- mdtracker:end declares -->\n")
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert "-->hi<!--" in note.read_text() and "-->3<!--" in note.read_text()
    note.write_text("A <!-- mdtracker:begin reads greting=hi --><!-- mdtracker:end reads -->\n")
    capsys.readouterr()
    assert run(["sync", *TODAY, str(tmp_path)]) == 2
    assert "n.md:1: region reads: unknown argument greting (it takes greeting)" in capsys.readouterr().err


# --- the cache ------------------------------------------------------------------------------------------------


class _Boom:
    def __reduce__(self):  # what a planted pickle does when it is loaded: run a command
        return (os.system, (f"touch {_Boom.target}",))


@pytest.mark.parametrize("name", ["index.pickle", "index.msgpack", "notes-00.msgpack", "notes-17.pickle"])
def test_a_planted_cache_runs_no_code(tmp_path, capsys, name):
    _Boom.target = str(tmp_path / "pwned")
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "a.md").write_text("- [x] a\n")
    assert run(["report", "--json", str(vault)]) == 0  # a real cache, then one file of it replaced
    (vault / ".mdtracker" / name).write_bytes(pickle.dumps({"key": _Boom()}))
    for command in ("report", "sync", "check", "lint"):
        assert run([command, str(vault)]) in (0, 1)
    assert not (tmp_path / "pwned").exists()
    assert "Traceback" not in capsys.readouterr().err


def test_a_cache_folder_that_is_a_link_is_neither_read_nor_written(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    vault = tmp_path / "vault"
    vault.mkdir()
    os.symlink(elsewhere, vault / ".mdtracker")
    (vault / "a.md").write_text("# A [/]\n- [x] a\n")
    assert run(["sync", *TODAY, str(vault)]) == 0
    assert list(elsewhere.iterdir()) == []
    assert (vault / "a.md").read_text() == "# A [1/1]\n- [x] a\n"


def test_python_cannot_be_made_to_unpickle_anything(tmp_path):
    """No module of mdtracker loads pickle, marshal or shelve data."""
    source = "\n".join(p.read_text() for p in (Path(__file__).parents[1] / "mdtracker").rglob("*.py"))
    for call in ("pickle.load", "marshal.load", "shelve.open", "yaml.load(", "yaml.unsafe_load", "eval(", "exec("):
        assert call not in source.replace("_YAML.load(", "").replace('exec("\\n".join(lines), namespace)', ""), call


def test_mdtracker_runs_in_a_process_that_a_timed_out_template_leaves_working(tmp_path):
    """After an interrupted render, the same process goes on rendering (watch, the language server)."""
    vault, note = _vault(tmp_path, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    code = ("from mdtracker.cli import run\n"
            f"print(run(['sync', '--today', '2025-11-22', {str(vault)!r}]))\n"
            f"open({str(vault / 'templates' / 'mine.md.j2')!r}, 'w').write('ok')\n"
            "import time; time.sleep(0.01)\n"
            f"print(run(['sync', '--today', '2025-11-22', {str(vault)!r}]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    lines = out.splitlines()
    assert lines[0] == "2" and lines[-1] == "0" and lines[1].startswith("updated n.md: region mine"), out
    assert "-->" in note.read_text() and "\nok\n" in note.read_text()


# --- files that are not notes, notes that are not where they seem -------------------------------------------


def _sync_reports(vault: Path, capsys, message: str, command: str = "sync", code: int = 2) -> str:
    capsys.readouterr()
    start = time.monotonic()
    assert run([command, *TODAY, str(vault)]) == code
    assert time.monotonic() - start < 20
    out, err = capsys.readouterr()
    said = out + err if command == "lint" else err  # (lint lists what it could not read with the problems)
    assert message in said and "Traceback" not in err, (out, err)
    return err


def test_a_named_pipe_called_like_a_note_hangs_nothing(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "plan.md").write_text("# Plan [/]\n- [x] a\n")
    for command in ("sync", "report", "check", "lint"):
        _sync_reports(tmp_path, capsys, "not a regular file (a named pipe); skipped", command,
                      1 if command == "lint" else 2)
    assert (tmp_path / "plan.md").read_text() == "# Plan [1/1]\n- [x] a\n"


def test_a_link_to_a_device_is_not_read(tmp_path, capsys):
    os.symlink("/dev/zero", tmp_path / "zero.md")
    _sync_reports(tmp_path, capsys, "zero.md: not a regular file (a device); skipped")


def test_a_note_larger_than_the_limit_is_reported_and_skipped(tmp_path, capsys):
    big = tmp_path / "big.md"
    big.write_bytes(b"- [ ] x\n" * 6_500_000)  # 52 MB
    err = _sync_reports(tmp_path, capsys, "big.md: 52 MB is more than the 2 MB a note may be ([limits] note_mb")
    assert err.endswith("skipped\n")
    (tmp_path / "mdtracker.toml").write_text("[limits]\nnote_mb = 60\n")
    big.write_bytes(b"- [ ] x\n" * 100)
    assert run(["report", "--json", str(tmp_path)]) == 0


@pytest.mark.parametrize("command", ["sync", "lint --fix"])
def test_a_note_that_links_outside_the_vault_is_read_never_written(tmp_path, capsys, command):
    outside = tmp_path / "outside.md"
    outside.write_text("# Outside [/]\n- [x] a\n\nâ€” mojibake\n")
    vault = tmp_path / "vault"
    vault.mkdir()
    os.symlink(outside, vault / "linked.md")
    before = outside.read_bytes()
    capsys.readouterr()
    assert run([*command.split(), str(vault)]) in (1, 2)
    err = capsys.readouterr().err
    assert "linked.md: is a link to" in err and "outside the vault: read, never written; left untouched" in err
    assert outside.read_bytes() == before
    assert run(["report", "--json", str(vault)]) == 0  # read: it counts
    assert '"done": 1' in capsys.readouterr().out


def test_front_matter_whose_aliases_expand_without_end_is_a_problem(tmp_path, capsys):
    lines = ["---", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    note = tmp_path / "laughs.md"
    note.write_text("\n".join(lines + ["---", "- [ ] a", "", "<!-- mdtracker:begin mine -->",
                                       "<!-- mdtracker:end mine -->", ""]))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "mine.md.j2").write_text("{{ note.front_matter | string | length }}")
    start = time.monotonic()
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    assert time.monotonic() - start < 10
    assert run(["lint", str(tmp_path)]) == 1
    assert "laughs.md:2: front-matter front matter's aliases expand it to more than 100,000 values" in \
        capsys.readouterr().out


@pytest.mark.parametrize("text, message", [
    ("a = " + "[" * 900 + "]" * 900 + "\n", "mdtracker.toml: invalid TOML: nested too deep"),
    ("x = 1\n" * 200_000, "mdtracker.toml: config is larger than 1 MB"),
])
def test_a_config_that_is_too_deep_or_too_large_is_an_error_not_a_traceback(tmp_path, capsys, text, message):
    (tmp_path / "mdtracker.toml").write_text(text)
    (tmp_path / "a.md").write_text("- [ ] a\n")
    capsys.readouterr()
    assert run(["sync", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_config_that_is_a_named_pipe_hangs_nothing(tmp_path, capsys):
    os.mkfifo(tmp_path / "mdtracker.toml")
    capsys.readouterr()
    assert run(["sync", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "mdtracker.toml: cannot read config: not a regular file"


# --- owner, group, mode ----------------------------------------------------------------------------------------


def test_a_read_only_note_is_reported_and_not_written(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("# N [/]\n- [x] a\n")
    note.chmod(0o444)
    _sync_reports(tmp_path, capsys, "n.md: read-only; left untouched")
    assert note.read_text() == "# N [/]\n- [x] a\n"


def test_a_note_in_a_folder_without_room_for_an_atomic_rename_is_not_written(tmp_path, capsys, monkeypatch):
    import tempfile

    note = tmp_path / "n.md"
    note.write_text("# N [/]\n- [x] a\n")

    def no_room(*args, **kwargs):  # as in a folder the user may not create files in (root may, always)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", no_room)
    _sync_reports(tmp_path, capsys, "n.md: in a folder mdtracker may not create files in (an atomic rewrite needs "
                  "one); left untouched")
    assert note.read_text() == "# N [/]\n- [x] a\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a note another owner needs root (as in a CI container)")
def test_run_as_root_a_rewritten_note_keeps_its_owner_and_group(tmp_path, capsys):
    note = tmp_path / "n.md"
    note.write_text("# N [/]\n- [x] a\n")
    os.chown(note, 1234, 2345)
    note.chmod(0o640)
    assert run(["sync", *TODAY, str(tmp_path)]) == 0
    st = note.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1234, 2345, 0o640)
    assert note.read_text() == "# N [1/1]\n- [x] a\n"


# --- interrupted runs --------------------------------------------------------------------------------------------


def _big_vault(root: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    import generate

    generate.generate(root, 3000, seed=3)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_an_interrupted_command_exits_130_says_so_and_leaves_no_worker(tmp_path, sig):
    import signal

    _big_vault(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "mdtracker", "sync", "--jobs", "2", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.5)
    assert not _children_of(proc.pid)


def test_after_kill_9_the_workers_end_and_the_next_run_removes_the_leftovers(tmp_path):
    import signal

    _big_vault(tmp_path)
    leftover = tmp_path / "area-1" / ".note-00001.md.abcd1234.mdtracker-tmp"
    leftover.write_text("half a note")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    fresh = tmp_path / "area-1" / ".note-00002.md.efgh5678.mdtracker-tmp"  # another run's, writing now
    fresh.write_text("a note being written")
    mine = tmp_path / "area-1" / ".mine.tmp"  # not ours
    mine.write_text("keep")
    os.utime(mine, (time.time() - 3600, time.time() - 3600))
    proc = subprocess.Popen([sys.executable, "-m", "mdtracker", "sync", "--jobs", "2", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    workers = _children_of(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    time.sleep(1.0)
    assert workers and not [pid for pid in workers if _alive(pid)]
    assert run(["sync", str(tmp_path)]) == 0
    assert not leftover.exists() and fresh.exists() and mine.exists()


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
