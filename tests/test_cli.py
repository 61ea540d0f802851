"""The command line on bad input: `path:line: message`, the right exit status, never a traceback."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from conftest import report_json, run


@pytest.fixture
def vault(tmp_path):
    (tmp_path / "plan.md").write_text("# Plan\n- [ ] a 📅 2025-11-20\n- [x] b\n- [/] c 📅 2025-11-25\n")
    return tmp_path


CONFIG_ERRORS = [
    ('todday = "2025-01-01"\n', "mdtracker.toml:1: unknown key 'todday'; expected one of: today, statuses, reviews, domains, exclude, scores, forecast, dashboard, limits"),
    ('[statuses]\n"S" = { type = "started" }\n',
     "mdtracker.toml:2: statuses.\"S\": type must be one of todo, in_progress, done, cancelled, non_task, got 'started'"),
    ('[statuses]\n"/" = { type = "done", extra = 1 }\n',
     "mdtracker.toml:2: unknown key 'extra' in [statuses.\"/\"]; expected one of: type, credit"),
    ('[reviews]\nintervals = [1, "x"]\n', "mdtracker.toml:2: reviews.intervals: expected a list of whole days > 0, got [1, 'x']"),
    ('[[domains]]\nname = "A"\nweight = "heavy"\n', "mdtracker.toml:3: domains[1].weight: expected a number, got 'heavy'"),
    ('[statuses\n', "mdtracker.toml:1: invalid TOML: Expected ']' at the end of a table declaration"),
    ('today = "soon"\n', "mdtracker.toml:1: today: expected a date YYYY-MM-DD, got 'soon'"),
]


@pytest.mark.parametrize("text,message", CONFIG_ERRORS)
def test_config_errors_name_the_key_and_line(vault, capsys, text, message):
    (vault / "mdtracker.toml").write_text(text)
    assert run(["report", str(vault)]) == 2
    assert capsys.readouterr().err.strip() == message


def test_config_in_pyproject(vault, capsys):
    (vault / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.mdtracker]\ntoday = "2025-11-22"\n')
    assert report_json(vault, capsys=capsys)["today"] == "2025-11-22"


def test_explicit_config_file(vault, tmp_path_factory, capsys):
    other = tmp_path_factory.mktemp("conf") / "my.toml"
    other.write_text('[statuses]\n"/" = { type = "in_progress", credit = 1 }\n')
    data = report_json(vault, "--config", str(other), "--today", "2025-11-22", capsys=capsys)
    assert data["progress"] == pytest.approx(2 / 3, abs=1e-6)


def test_today_from_flag_env_config_clock(vault, capsys, monkeypatch):
    monkeypatch.delenv("MDTRACKER_TODAY", raising=False)
    assert report_json(vault, capsys=capsys)["today"] == dt.date.today().isoformat()
    (vault / "mdtracker.toml").write_text('today = "2025-11-01"\n')
    assert report_json(vault, capsys=capsys)["today"] == "2025-11-01"
    monkeypatch.setenv("MDTRACKER_TODAY", "2025-11-10")
    assert report_json(vault, capsys=capsys)["today"] == "2025-11-10"
    assert report_json(vault, "--today", "2025-11-22", capsys=capsys)["today"] == "2025-11-22"
    capsys.readouterr()
    assert run(["--today", "2025-11-23", "report", "--json", str(vault)]) == 0
    assert json.loads(capsys.readouterr().out)["today"] == "2025-11-23"


def test_overdue_tasks(vault, capsys):
    data = report_json(vault, "--today", "2025-11-26", capsys=capsys)
    assert data["overdue"] == [
        {"path": "plan.md", "line": 2, "kind": "task", "text": "a 📅 2025-11-20", "due": "2025-11-20", "days_overdue": 6},
        {"path": "plan.md", "line": 4, "kind": "task", "text": "c 📅 2025-11-25", "due": "2025-11-25", "days_overdue": 1},
    ]
    assert report_json(vault, "--today", "2025-11-20", capsys=capsys)["overdue"] == []


def test_json_report_has_every_key_of_the_spec(vault, capsys):
    data = report_json(vault, "--today", "2025-11-22", capsys=capsys)
    assert set(data) >= {"schema_version", "today", "files", "tasks", "progress", "readiness", "overdue",
                         "reviews", "problems"}
    assert data["schema_version"] == 1 and data["reviews"] == {"due": [], "upcoming": []}
    assert data["tasks"] == {"total": 3, "todo": 1, "in_progress": 1, "done": 1, "cancelled": 0, "non_task": 0}
    assert data["progress"] == pytest.approx(0.5)
    assert data["files"][0]["path"] == "plan.md"


def test_json_report_puts_each_entry_on_a_line_of_its_own(vault, capsys):
    (vault / "notes").mkdir()
    (vault / "notes" / "b.md").write_text("# B\n- [x] done ✅ 2025-11-20\n- [ ] \"quoted\" \\ 📅 2025-11-01\n")
    capsys.readouterr()
    assert run(["report", "--json", "--today", "2025-11-22", str(vault)]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    lines = [line.strip().rstrip(",") for line in out.splitlines()]
    for entry in [*data["files"], *data["overdue"], *data["reviews"]["due"]]:  # grep a path, get its entry
        assert json.dumps(entry, ensure_ascii=False) in lines
    assert {o["path"]: o["text"] for o in data["overdue"] if o["kind"] == "task"}["notes/b.md"] == '"quoted" \\ 📅 2025-11-01'
    assert lines[0] == "{" and lines[-1] == "}" and '"tasks": {' in lines


@pytest.mark.parametrize("args,message", [
    (["--today", "2025-02-30", "report"], "--today: expected a date YYYY-MM-DD, got '2025-02-30'"),
    (["report", "--today", "tomorrow"], "--today: expected a date YYYY-MM-DD, got 'tomorrow'"),
])
def test_bad_today(vault, capsys, args, message):
    assert run([*args, str(vault)]) == 2
    assert message in capsys.readouterr().err


def test_bad_env_today(vault, capsys, monkeypatch):
    monkeypatch.setenv("MDTRACKER_TODAY", "someday")
    assert run(["report", str(vault)]) == 2
    assert "MDTRACKER_TODAY: expected a date YYYY-MM-DD, got 'someday'" in capsys.readouterr().err


def test_missing_vault(tmp_path, capsys):
    assert run(["report", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'nope'}: no such vault folder"


def test_empty_vault_is_not_an_error(tmp_path, capsys):
    assert run(["report", str(tmp_path)]) == 0
    assert "No Markdown notes found." in capsys.readouterr().out
    data = report_json(tmp_path, capsys=capsys)
    assert (data["files"], data["tasks"]["total"], data["progress"]) == ([], 0, None)
    assert run(["lint", str(tmp_path)]) == 0


@pytest.mark.parametrize("content,message", [
    (b"# ok\n- [ ] fine\ncaf\xe9 au lait\n", "bad.md:3: not valid UTF-8 (byte 0xe9 at column 4); left untouched"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bad.md:3: binary data (a NUL byte), not a Markdown note; left untouched"),
])
def test_unreadable_note_is_reported_untouched_and_others_still_processed(vault, capsys, content, message):
    bad = vault / "bad.md"
    bad.write_bytes(content)
    capsys.readouterr()
    assert run(["report", "--json", str(vault)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == message
    data = json.loads(captured.out)
    assert [f["path"] for f in data["files"]] == ["plan.md"]
    assert {"path": "bad.md", "code": "encoding"}.items() <= data["problems"][0].items()
    assert run(["lint", "--fix", str(vault)]) == 1
    assert capsys.readouterr().out.startswith(f"bad.md:{message.split(':')[1]}: encoding ")
    assert bad.read_bytes() == content


def test_impossible_date_is_a_problem_not_an_error(tmp_path, capsys):
    (tmp_path / "a.md").write_text("- [ ] pay rent 📅 2025-02-30\n")
    data = report_json(tmp_path, "--today", "2025-03-05", capsys=capsys)
    assert data["overdue"] == []
    assert run(["lint", str(tmp_path)]) == 1
    assert capsys.readouterr().out == "a.md:1: bad-date due date '2025-02-30' is not a real date\n"


def test_hidden_and_tool_folders_are_skipped(tmp_path, capsys):
    for folder in (".obsidian", ".git", ".mdtracker", "node_modules", ".trash", "notes/sub"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "n.md").write_text("- [ ] x\n")
    assert [f["path"] for f in report_json(tmp_path, capsys=capsys)["files"]] == ["notes/sub/n.md"]


def test_version_and_help(capsys):
    assert run(["--version"]) == 0
    assert "mdtracker, version" in capsys.readouterr().out
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    assert "report" in out and "lint" in out


def test_unknown_command(capsys):
    assert run(["frobnicate"]) == 2
    assert "No such command 'frobnicate'" in capsys.readouterr().err


def test_terminal_report_reads_well(vault, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert run(["report", "--today", "2025-11-26", str(vault)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert out.index("Overdue (2)") < out.index("Progress per note")
    assert "plan.md:2" in out and "6d" in out and "50%" in out


def test_terminal_report_rounds_as_the_regions_do(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "n.md").write_text("- [x] a\n" + "- [ ] b\n" * 7 + "\n<!-- mdtracker:begin progress -->\n"
                                   "<!-- mdtracker:end progress -->\n")
    assert run(["sync", str(tmp_path)]) == 0
    assert "**Progress**: 13%" in (tmp_path / "n.md").read_text()  # 12.5 % rounds half up
    capsys.readouterr()
    assert run(["report", str(tmp_path)]) == 0
    assert "13%" in capsys.readouterr().out


def test_help_says_the_vault_default_today_and_exit_codes(capsys):
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    assert "default: the current folder" in out and "MDTRACKER_TODAY" in out and "130 interrupted" in out
    assert run(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--today" in out and "default: the current folder" in out and "1 something is stale" in out


def test_report_on_a_pipe_keeps_each_item_on_one_line(tmp_path):
    import subprocess
    import sys

    long = "Explain the bias variance trade-off with a worked example of polynomial regression on noisy data"
    (tmp_path / "plan.md").write_text(f"# Plan\n- [ ] {long} 📅 2025-11-20\n- [x] b\n"
                                      "**Day 4 (2025-11-21)** ✅ **COMPLETED**:\n- [x] study\n\n"
                                      "**Day 5 (Sat, Nov 22)** ✅ **COMPLETED**\n- [x] more\n")
    done = subprocess.run([sys.executable, "-m", "mdtracker", "report", "--today", "2025-11-26", str(tmp_path)],
                          capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "40"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(long in line and "plan.md:2" in line for line in lines)  # one item, one line: grep finds it whole
    assert "\x1b[" not in done.stdout  # no colour on a pipe
    assert "read as" not in done.stdout and "plan.md:7: date 'Nov 22' read as 2025-11-22" in done.stderr  # notices: stderr
