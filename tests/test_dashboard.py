"""The dashboard (`mdtracker dashboard`): a self-contained page of the report, its history from the notes and
from git, the forecast in the report and as a region, and what a hostile vault cannot make it do."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ROOT, copy_seed, report_json, run
from mdtracker import dashboard, git_history

D = dt.date.fromisoformat
SAMPLE = ROOT / "vault"
HAS_GIT = shutil.which("git") is not None


class Page(HTMLParser):
    """What a test needs of a page: the numbers (data-key → data-value), the heatmap's cells, every src/href,
    the style's text and the CSP."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, object] = {}
        self.derived: list[tuple[str, str]] = []
        self.lengths: list[tuple[str, str]] = []
        self.cells: dict[str, int] = {}
        self.links: list[str] = []
        self.tags: list[str] = []
        self.csp = ""
        self.style = ""
        self._text: list[str] = []
        self._open: list[tuple[str, str | None, str | None, str | None]] = []
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content") or ""
        if tag == "style":
            self._in_style = True
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            if name in a:
                self.links.append(a[name] or "")
        if "data-key" in a:
            self.values[a["data-key"]] = json.loads(a["data-value"])
        if tag == "rect" and "data-date" in a:
            self.cells[a["data-date"]] = int(a["data-count"])
        self._open.append((tag, a.get("data-from"), a.get("data-length"), None))
        self._mark = len(self._text)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        while self._open:
            open_tag, source, length, _ = self._open.pop()
            if open_tag == tag:
                if source:
                    self.derived.append((source, "".join(self._text[self._mark:]).strip()))
                if length:
                    self.lengths.append((length, "".join(self._text[self._mark:]).strip()))
                break

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        self._text.append(data)

    @property
    def text(self) -> str:
        return "".join(self._text)


def at(report: dict, key: str) -> object:
    """The value at a dotted key (`readiness.domains.0.progress`) of the report."""
    value: object = report
    for part in key.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]  # type: ignore[index]
    return value


def check_numbers(page: Page, report: dict) -> int:
    """Every number of the page is the report's: data-value against the key; derived ones against their sum."""
    for key, value in page.values.items():
        assert at(report, key) == value, key
    for source, text in page.derived:
        terms = source.split(" - ")
        assert int(text) == at(report, terms[0]) - sum(at(report, t) for t in terms[1:]), source
    for key, text in page.lengths:
        assert int(text) == len(at(report, key)), key  # type: ignore[arg-type]
    return len(page.values)


def make_dashboard(vault: Path, out: Path, *args: str) -> str:
    assert run(["dashboard", *args, str(vault), "-o", str(out)]) == 0
    return out.read_text("utf-8")


# --- the page -----------------------------------------------------------------------------------------------


def test_the_sample_vault_s_page_holds_the_report_s_numbers(tmp_path, capsys):
    html = make_dashboard(SAMPLE, tmp_path / "d.html")
    report = report_json(SAMPLE, capsys=capsys)
    page = Page(html)
    assert check_numbers(page, report) > 150
    for section in ("today", "readiness", "history", "scores", "forecast"):
        assert f'<section id="{section}"' in html
    assert page.values["forecast.target.needed_per_day"] == report["forecast"]["target"]["needed_per_day"]
    assert report["forecast"]["target"]["where"] == "tracker.md:5"  # the tracker's Target Interview Date
    assert {d["date"]: d["done"] for d in report["activity"]["days"]} == {k: v for k, v in page.cells.items() if v}


def test_the_page_loads_nothing_and_allows_only_its_own_style(tmp_path):
    page = Page(make_dashboard(SAMPLE, tmp_path / "d.html"))
    assert all(link.startswith("#") for link in page.links), page.links
    assert not {"script", "img", "link", "iframe", "object", "embed", "image", "use", "foreignobject"} & set(page.tags)
    digest = base64.b64encode(hashlib.sha256(page.style.encode()).digest()).decode()
    assert page.csp == (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
                        "form-action 'none'")
    html = (tmp_path / "d.html").read_text("utf-8")
    assert ' style="' not in html  # the CSP would refuse a style attribute: the page has none
    assert '<meta name="viewport"' in html and "prefers-color-scheme:dark" in html and "@media print" in html


HOSTILE = """---
track: <script>alert('track')</script>
group: <b>ML</b>
start: 2025-11-21
---
# "><svg onload=alert(0)> <script>alert(0)</script>

| Domain | Topics Covered | Total Topics | Status |
|---|---|---|---|
| A. <script>alert(2)</script> (20%) | 1 | 4 | x |
| B. <img src=http://example.com/cell.png> (80%) | 0 | 2 | x |

## A. <script>alert(2)</script>

- [x] <img src=http://example.com/x.png> ✅ 2025-11-21
- [ ] "><svg onload=alert(3)> 📅 2025-11-01
- [x] <script>alert(4)</script> ✅ 2025-11-20
  - [ ] review

## Day 1: <iframe src=http://example.com/></iframe>

- [x] <a href="javascript:alert(5)">link</a> ✅ 2025-11-12

## Day 2: "><svg onload=alert(1)> <script>alert(1)</script>

**Milestone - <script>alert(8)</script> (Target: 2025-11-20)**:
- [ ] <style>body{display:none}</style>

**Knowledge Check** (2025-11-20): Score: **<b>60%</b>**

- Topic <script>alert(6)</script>: 40%
"""


def hostile_vault(tmp_path: Path) -> Path:
    vault = tmp_path / "hostile"
    vault.mkdir()
    (vault / "<script>alert(7)<script>.md").write_text(HOSTILE, "utf-8")
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n', "utf-8")
    return vault


def test_a_hostile_note_shows_as_text(tmp_path, capsys):
    vault = hostile_vault(tmp_path)
    html = make_dashboard(vault, tmp_path / "d.html")
    page = Page(html)
    report = report_json(vault, capsys=capsys)
    check_numbers(page, report)
    assert report["overdue"] and report["readiness"]["domains"] and report["history"] and report["tracks"]
    assert not {"script", "img", "iframe"} & set(page.tags)
    assert all(link.startswith("#") for link in page.links), page.links
    assert "<svg onload" not in html and "<script" not in html and "<img" not in html and "javascript:" not in [
        link[:11] for link in page.links]
    for text in ("<script>alert(1)</script>", "<img src=http://example.com/x.png>", '"><svg onload=alert(3)>',
                 "A. <script>alert(2)</script>", "<script>alert('track')</script>", "<b>ML</b>",
                 "<script>alert(6)</script>", "<script>alert(7)<script>.md", "<style>body{display:none}</style>",
                 "Milestone - <script>alert(8)</script> (Target: 2025-11-20)"):
        assert text in page.text, text


# --- history from git -----------------------------------------------------------------------------------------

TASKS = 200
NOTES = ("plans/a.md", "plans/b.md", "c.md")


def _note(ticked: int, region: str = "") -> str:
    lines = ["# Plan", "", "<!-- mdtracker:begin progress -->", region, "<!-- mdtracker:end progress -->", ""]
    lines += [f"- [{'x' if n < ticked else ' '}] task {n}" for n in range(TASKS)]
    return "\n".join(lines) + "\n"


def _fast_import(repo: Path, commits: list[tuple[dt.date, dict[str, str]]]) -> None:
    """A repository whose first-parent line holds these commits (author day, files written), made at once."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    out = []
    for n, (day, files) in enumerate(commits):
        epoch = int(dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.timezone.utc).timestamp()) + n % 60
        out.append(f"commit refs/heads/main\nauthor A <a@example.com> {epoch} +0000\n"
                   f"committer A <a@example.com> {epoch} +0000\ndata 4\nday\n")
        for path, text in files.items():
            data = text.encode()
            out.append(f"M 100644 inline {path}\ndata {len(data)}\n")
            out.append(data.decode() + "\n")
    stream = "".join(out).encode()
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True)


@pytest.fixture
def year_of_commits(tmp_path):
    """A year of daily commits ticking boxes (none on a day in three), with the counts it made; the notes on
    disk tick two more today, uncommitted. Ticks in a hidden folder, an excluded one and a region don't count."""
    today = D("2025-11-22")
    first = today - dt.timedelta(days=364)
    repo = tmp_path / "repo"
    ticked = dict.fromkeys(NOTES, 0)
    noise = {".obsidian/x.md": _note(0), "node_modules/y.md": _note(0), "drafts/z.md": _note(0)}
    commits = [(first - dt.timedelta(days=1), {**{p: _note(0) for p in NOTES}, **noise})]  # where history starts
    expected: dict[str, int] = {}
    for i in range(365):
        day = first + dt.timedelta(days=i)
        k = i % 3
        if not k:
            continue
        files = {}
        for _ in range(k):
            path = NOTES[(i + _) % len(NOTES)]
            ticked[path] += 1
            files[path] = _note(ticked[path])
        if i % 10 == 1:  # mdtracker's own region changed the same day, with task-like lines in it
            path = NOTES[0]
            files[path] = _note(ticked[path], region=f"- [x] generated {i}")
        if i % 7 == 2:  # ticks that the vault's discovery rules leave out
            files.update({p: _note(i % TASKS) for p in noise})
        commits.append((day, files))
        expected[day.isoformat()] = k
    _fast_import(repo, commits)
    (repo / "mdtracker.toml").write_text(f'today = "{today}"\nexclude = ["drafts/*"]\n', "utf-8")
    path = repo / NOTES[2]
    ticked[NOTES[2]] += 2
    path.write_text(_note(ticked[NOTES[2]]), "utf-8")
    expected[today.isoformat()] = expected.get(today.isoformat(), 0) + 2
    return repo, today, expected, len(commits)


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_the_burn_up_and_the_heatmap_of_a_year_of_commits(year_of_commits, tmp_path, capsys):
    repo, today, expected, commits = year_of_commits
    html = make_dashboard(repo, tmp_path / "d.html")
    page = Page(html)
    report = report_json(repo, capsys=capsys)
    check_numbers(page, report)
    assert report["activity"]["git"]["used"] and report["activity"]["git"]["reason"] is None
    assert {day: n for day, n in page.cells.items() if n} == expected
    assert sum(page.cells.values()) == sum(expected.values()) == report["tasks"]["done"]
    burnup = report["forecast"]["burnup"]
    assert burnup[0] == {"date": (today - dt.timedelta(days=365)).isoformat(), "done": 0, "scope": 600}  # 1st commit
    running = 0
    for n, point in enumerate(burnup):
        running += expected.get(point["date"], 0)
        assert point["done"] == running == page.values[f"forecast.burnup.{n}.done"], point
        assert point["scope"] == len(NOTES) * TASKS
    assert burnup[-1] == {"date": today.isoformat(), "done": report["tasks"]["done"], "scope": 600}
    assert all(d["git"] == d["done"] and d["notes"] == 0 for d in report["activity"]["days"])
    last7 = sum(n for day, n in expected.items() if D(day) > today - dt.timedelta(days=7))
    assert report["forecast"]["pace"][0]["done"] == last7
    assert report["activity"]["git"]["commits"] == commits == 244
    assert "the git history (244 commits read, 244 days from 2024-11-22:" in " ".join(page.text.split())


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_each_blob_is_parsed_once_and_a_damaged_cache_is_rebuilt(year_of_commits, tmp_path, capsys, monkeypatch):
    repo, today, expected, commits = year_of_commits
    parsed: list[str] = []
    real = git_history.note_counts
    monkeypatch.setattr(git_history, "note_counts", lambda *a: parsed.append(a[1]) or real(*a))
    first = report_json(repo, capsys=capsys)["activity"]
    cache = repo / ".mdtracker" / git_history.CACHE_FILE
    blobs = json.loads(cache.read_text())["blobs"]
    assert len(blobs) > 100 and sorted(parsed) == sorted(blobs)  # each once
    assert report_json(repo, capsys=capsys)["activity"] == first
    assert len(parsed) == len(blobs)  # warm: every blob from the cache
    key = json.loads(cache.read_text())["key"]
    for damage in ('{"format": 1, "key": "x", "blobs": {}}', "not json", '{"format": 1, "blobs": {"zz": [1]}}',
                   json.dumps({"format": 1, "key": key, "blobs": {b: [1, 2, -3] for b in blobs}}), "[]"):
        cache.write_text(damage)
        parsed.clear()
        assert report_json(repo, capsys=capsys)["activity"] == first
        assert sorted(parsed) == sorted(blobs)


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_a_stranger_s_repository_config_runs_nothing(year_of_commits, tmp_path, capsys):
    repo, today, expected, commits = year_of_commits
    witness = tmp_path / "ran"
    for key, value in (("core.fsmonitor", f"touch {witness}"), ("core.pager", f"touch {witness}"),
                       ("diff.external", f"touch {witness}"), ("gpg.program", f"touch {witness}"),
                       ("log.showSignature", "true"), ("diff.md.textconv", f"touch {witness}"),
                       ("core.hooksPath", str(tmp_path)), ("log.showRoot", "false"), ("diff.relative", "true"),
                       ("diff.renames", "copies"), ("log.follow", "true"), ("core.abbrev", "7")):
        subprocess.run(["git", "config", key, value], cwd=repo, check=True)
    (repo / ".gitattributes").write_text("*.md diff=md\n")
    report = report_json(repo, capsys=capsys)
    assert not witness.exists()
    assert {d["date"]: d["done"] for d in report["activity"]["days"]} == expected


def test_without_git_or_outside_a_repository_there_is_simply_no_git_history(tmp_path, capsys, monkeypatch):
    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "a.md").write_text("- [x] done ✅ 2025-11-20\n- [ ] todo\n")
    report = report_json(vault, "--today", "2025-11-22", capsys=capsys)
    assert report["activity"]["git"] == {"used": False, "reason": "the vault is not in a git repository",
                                         "commits": 0, "days": 0, "first": None}
    assert report["activity"]["days"] == [{"date": "2025-11-20", "done": 1, "notes": 1, "git": 0}]
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    html = make_dashboard(vault, tmp_path / "d.html", "--today", "2025-11-22")
    assert "no git history: git is not installed" in Page(html).text


@pytest.mark.skipif(not HAS_GIT or os.geteuid() != 0, reason="needs git, and root to give a repository away")
def test_a_repository_of_another_user_is_refused(tmp_path, capsys):
    repo = tmp_path / "theirs"
    _fast_import(repo, [(D("2025-11-20"), {"a.md": "- [x] a\n"})])
    for folder, _, files in os.walk(repo):
        for name in [*files, "."]:
            os.chown(os.path.join(folder, name), 4242, 4242)
    report = report_json(repo, "--today", "2025-11-22", capsys=capsys)
    assert report["activity"]["git"]["reason"] == "git refuses the repository: it belongs to another user"


# --- the forecast: target, region, report ------------------------------------------------------------------


def _plan(vault: Path, target_line: str = "") -> None:
    vault.mkdir(exist_ok=True)
    (vault / "plan.md").write_text(
        "# Plan\n\n" + target_line + "\n\n"
        "**Milestone - End of Week 1 (Target: 2025-12-01)**:\n- [ ] m1\n\n"
        "**Milestone - End of Week 4 (Target: 2025-12-20)**:\n- [ ] m2\n\n"
        + "".join(f"- [x] done {n} ✅ 2025-11-{10 + n:02}\n" for n in range(12))
        + "".join(f"- [ ] left {n}\n" for n in range(20)) + "- [-] dropped\n", "utf-8")


@pytest.mark.parametrize("line,config,expected", [
    ("", "", ("2025-12-20", "milestone", "plan.md:8")),
    ("**Target Interview Date**: [Your interview date]", "", ("2025-12-20", "milestone", "plan.md:8")),
    ("**Target Interview Date**: 2026-01-15", "", ("2026-01-15", "note", "plan.md:3")),
    ("**Target Interview Date**: 2026-01-15", '[forecast]\ntarget = 2026-02-01\n',
     ("2026-02-01", "config", "mdtracker.toml")),
])
def test_the_target_comes_from_the_config_a_note_or_the_last_milestone(tmp_path, capsys, line, config, expected):
    vault = tmp_path / "v"
    _plan(vault, line)
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n' + config, "utf-8")
    f = report_json(vault, capsys=capsys)["forecast"]
    assert (f["target"]["date"], f["target"]["source"], f["target"]["where"]) == expected
    assert f["scope"] == 34 and f["remaining"] == 22 and f["done"] == 12
    left = (D(expected[0]) - D("2025-11-22")).days
    assert f["target"]["days_left"] == left and f["target"]["needed_per_day"] == round(22 / left, 6)


def test_the_forecast_region_says_what_the_report_says(tmp_path, capsys):
    vault = tmp_path / "v"
    _plan(vault)
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n[forecast]\ntarget = "2026-01-10"\n', "utf-8")
    (vault / "forecast.md").write_text("# Forecast\n\n<!-- mdtracker:begin forecast -->\n"
                                       "<!-- mdtracker:end forecast -->\n", "utf-8")
    assert run(["sync", str(vault)]) == 0
    text = (vault / "forecast.md").read_text("utf-8")
    f = report_json(vault, capsys=capsys)["forecast"]
    p7, p14, p28 = f["pace"]
    assert (f"- **Pace**: {p7['done']} tasks in the last 7 days ({p7['per_day']:.2f} a day), {p14['done']} tasks in "
            f"the last 14 days ({p14['per_day']:.2f} a day), {p28['done']} tasks in the last 28 days "
            f"({p28['per_day']:.2f} a day)\n") in text
    assert (f"- **Done by**: {p7['finish']} at the 7-day pace, {p14['finish']} at the 14-day pace, "
            f"{p28['finish']} at the 28-day pace (22 tasks left)\n") in text
    assert "- **Target**: 2026-01-10 (the config's [forecast] target, `mdtracker.toml`), in 49 days\n" in text
    assert f"- **Needed**: {f['target']['needed_per_day']:.2f} tasks a day\n" in text
    assert run(["check", str(vault)]) == 0


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_a_commit_alone_brings_the_forecast_region_up_to_date(tmp_path, capsys):
    """Ticks not committed count today; committed on an earlier day, they count on that day: the pace of the
    last 7 days changes with no note changed, and check and sync see it."""
    today = D("2025-11-22")
    repo = tmp_path / "repo"
    region = "# Forecast\n\n<!-- mdtracker:begin forecast -->\n<!-- mdtracker:end forecast -->\n"
    _fast_import(repo, [(today - dt.timedelta(days=20), {NOTES[0]: _note(0), "forecast.md": region})])
    (repo / "mdtracker.toml").write_text(f'today = "{today}"\n', "utf-8")
    (repo / NOTES[0]).write_text(_note(3), "utf-8")  # three ticks, not committed
    assert run(["sync", str(repo)]) == 0
    assert "- **Pace**: 3 tasks in the last 7 days" in (repo / "forecast.md").read_text("utf-8")
    assert run(["check", str(repo)]) == 0
    when = "2025-11-12T12:00:00+00:00"  # ten days ago
    subprocess.run(["git", "-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-a", "-m", "ticks"],
                   cwd=repo, check=True, env={**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
    capsys.readouterr()
    assert run(["check", str(repo)]) == 1
    assert run(["sync", str(repo)]) == 0
    text = (repo / "forecast.md").read_text("utf-8")
    f = report_json(repo, capsys=capsys)["forecast"]
    assert f["pace"][0]["done"] == 0 and f["pace"][1]["done"] == 3
    assert "- **Pace**: 0 tasks in the last 7 days (0.00 a day), 3 tasks in the last 14 days" in text
    assert run(["check", str(repo)]) == 0


def test_report_prints_the_forecast(tmp_path, capsys):
    vault = tmp_path / "v"
    _plan(vault)
    capsys.readouterr()
    assert run(["report", "--today", "2025-11-22", str(vault)]) == 0
    out = capsys.readouterr().out
    assert "Forecast 22 of 34 tasks to go" in out
    assert "target 2025-12-20 (last milestone, plan.md:8), in 28 days: needs 0.79 a day" in " ".join(out.split())


def test_a_note_s_target_date_is_a_summary_field_read_from_the_cache_like_the_others(tmp_path, capsys, monkeypatch):
    from mdtracker import analyze, files
    from mdtracker.config import Config
    from mdtracker.parse import parse

    text = "# Plan\n\n**Target Interview Date**: 2026-01-15\n\n- [ ] a\n\nTarget Interview Date:: 2026-03-01\n"
    summary = analyze.summarize(parse(text, "plan.md"), Config())
    assert summary.targets == ((3, D("2026-01-15")), (7, D("2026-03-01")))
    assert analyze.summarize(parse("**Target Interview Date**: [Your interview date]\n", "t.md"), Config()).targets == ()
    vault = tmp_path / "v"
    _plan(vault, "**Target Interview Date**: 2026-01-15")
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n', "utf-8")
    first = report_json(vault, capsys=capsys)["forecast"]["target"]
    read = []
    real = files.read_note
    monkeypatch.setattr(files, "read_note", lambda *a, **k: read.append(a) or real(*a, **k))
    assert report_json(vault, capsys=capsys)["forecast"]["target"] == first  # warm: from the cache's summaries
    assert read == [] and (first["date"], first["where"]) == ("2026-01-15", "plan.md:3")


def test_the_forecast_region_report_and_dashboard_agree_on_a_note_s_target(tmp_path, capsys):
    vault = tmp_path / "v"
    _plan(vault, "**Target Interview Date**: 2026-01-15")
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n', "utf-8")
    (vault / "forecast.md").write_text("<!-- mdtracker:begin forecast -->\n<!-- mdtracker:end forecast -->\n", "utf-8")
    assert run(["sync", str(vault)]) == 0
    f = report_json(vault, capsys=capsys)["forecast"]
    assert f["target"]["source"] == "note"
    text = (vault / "forecast.md").read_text("utf-8")
    assert "- **Target**: 2026-01-15 (Target Interview Date, `plan.md:3`), in 54 days\n" in text
    assert f"- **Needed**: {f['target']['needed_per_day']:.2f} tasks a day\n" in text
    page = Page(make_dashboard(vault, tmp_path / "d.html"))
    assert page.values["forecast.target.needed_per_day"] == f["target"]["needed_per_day"]
    assert page.values["forecast.target.days_left"] == 54 and "days to 2026-01-15" in " ".join(page.text.split())


def test_sync_and_check_keep_a_configured_dashboard_fresh(tmp_path, capsys):
    vault = tmp_path / "v"
    _plan(vault)
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n[dashboard]\nfile = "board.html"\n', "utf-8")
    page = vault / "board.html"
    capsys.readouterr()
    assert run(["check", str(vault)]) == 1
    assert capsys.readouterr().out == "board.html: dashboard is out of date\n" and not page.exists()
    assert run(["sync", str(vault)]) == 0
    assert capsys.readouterr().out == "updated board.html: dashboard\n"
    assert check_numbers(Page(page.read_text("utf-8")), report_json(vault, capsys=capsys)) > 20
    before = page.stat().st_mtime_ns
    assert run(["sync", str(vault)]) == 0 and run(["check", str(vault)]) == 0
    assert capsys.readouterr().out == "Every region is up to date.\n" and page.stat().st_mtime_ns == before
    note = vault / "plan.md"
    note.write_text(note.read_text("utf-8").replace("- [ ] left 0", "- [x] left 0 ✅ 2025-11-22"), "utf-8")
    assert run(["check", str(vault)]) == 1
    assert capsys.readouterr().out == "board.html: dashboard is out of date\n" and page.stat().st_mtime_ns == before
    assert run(["sync", "--no-cache", str(vault)]) == 0
    assert "13 of 34 tasks done" in " ".join(Page(page.read_text("utf-8")).text.split())
    assert run(["check", str(vault)]) == 0
    assert sorted(p.name for p in vault.iterdir()) == [".mdtracker", "board.html", "mdtracker.toml", "plan.md"]
    page.write_text("edited by hand", "utf-8")
    assert run(["check", str(vault)]) == 1
    assert run(["sync", str(vault)]) == 0 and "13 of 34 tasks done" in " ".join(Page(page.read_text("utf-8")).text.split())
    (vault / "board.html").unlink()
    (vault / "board.html").mkdir()  # cannot be written: an error, as a region that cannot be
    capsys.readouterr()
    assert run(["sync", str(vault)]) == 2
    assert "board.html: cannot write the dashboard" in capsys.readouterr().err


def test_watch_keeps_a_configured_dashboard_fresh(tmp_path):
    from mdtracker.pipeline import load_config
    from mdtracker.watch import Watcher

    vault = tmp_path / "v"
    _plan(vault)
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n[dashboard]\nfile = "board.html"\n', "utf-8")
    said: list[str] = []
    watcher = Watcher(vault, lambda: load_config(vault), lambda: D("2025-11-22"), said.append)
    watcher.step()
    page = vault / "board.html"
    assert said == ["updated board.html: dashboard"] and "12 of 34 tasks done" in " ".join(Page(page.read_text()).text.split())
    before = page.stat().st_mtime_ns
    watcher.step()
    assert said == ["updated board.html: dashboard"] and page.stat().st_mtime_ns == before  # nothing changed
    note = vault / "plan.md"
    note.write_text(note.read_text("utf-8").replace("- [ ] left 0", "- [x] left 0"), "utf-8")
    watcher.step({"plan.md"})
    assert said[-1] == "updated board.html: dashboard"
    assert "13 of 34 tasks done" in " ".join(Page(page.read_text()).text.split())


# --- the command and the config ---------------------------------------------------------------------------------


def test_the_command_writes_the_configured_file_atomically_and_only_when_it_changed(tmp_path, capsys):
    vault = tmp_path / "v"
    _plan(vault)
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n[dashboard]\nfile = "out/board.html"\n', "utf-8")
    (vault / "out").mkdir()
    capsys.readouterr()
    assert run(["dashboard", str(vault)]) == 0
    page = vault / "out" / "board.html"
    assert capsys.readouterr().out == f"wrote {page}\n"
    before = page.stat().st_mtime_ns
    assert run(["dashboard", str(vault)]) == 0
    assert capsys.readouterr().out == f"{page} is up to date\n" and page.stat().st_mtime_ns == before
    assert sorted(p.name for p in (vault / "out").iterdir()) == ["board.html"]  # no temp file left
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n', "utf-8")
    assert run(["dashboard", str(vault)]) == 0 and (vault / "dashboard.html").is_file()
    assert run(["dashboard", str(vault), "-o", str(tmp_path / "missing" / "x.html")]) == 2
    assert "cannot write the dashboard" in capsys.readouterr().err


def test_write_dashboard_refuses_a_configured_file_that_leads_out_of_the_vault(tmp_path):
    from mdtracker.config import Config

    vault = tmp_path / "v"
    vault.mkdir()
    (vault / "out").symlink_to(tmp_path)
    with pytest.raises(OSError, match="leads out of the vault"):
        dashboard.default_path(vault, Config(dashboard_file="out/board.html"))


@pytest.mark.parametrize("toml,message", [
    ('[forecast]\ntarget = "soon"\n', "mdtracker.toml:2: forecast.target: expected a date YYYY-MM-DD, got 'soon'"),
    ('[forecast]\ndate = 2026-01-01\n', "mdtracker.toml:2: unknown key 'date' in [forecast]; expected one of: target"),
    ('[dashboard]\nfile = "../out.html"\n', "mdtracker.toml:2: dashboard.file: expected a path inside the vault"),
    ('[dashboard]\nfile = "/tmp/out.html"\n', "mdtracker.toml:2: dashboard.file: expected a path inside the vault"),
    ('[dashboard]\nfile = "notes.md"\n', "mdtracker.toml:2: dashboard.file: expected a path inside the vault"),
    ('[dashboard]\npath = "x.html"\n', "mdtracker.toml:2: unknown key 'path' in [dashboard]; expected one of: file"),
    ('dashboard = "x.html"\n', "mdtracker.toml:1: dashboard: expected a table"),
])
def test_config_errors_name_the_key(tmp_path, capsys, toml, message):
    (tmp_path / "mdtracker.toml").write_text(toml, "utf-8")
    capsys.readouterr()
    assert run(["dashboard", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(message)


# --- in a browser ----------------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("MDTRACKER_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


def open_page(browser, path: Path, scheme: str, width: int = 1200):
    context = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = context.new_page()
    problems, requests, dialogs = [], [], []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, problems, requests, dialogs


def _seeds_vault(tmp_path: Path) -> Path:
    vault = tmp_path / "seeds"
    vault.mkdir()
    for prefix in ("000", "001", "002", "003", "004"):
        copy_seed(prefix, vault)
    (vault / "mdtracker.toml").write_text('today = "2025-11-22"\n[statuses]\n"S" = "in_progress"\n'
                                          '"N" = "cancelled"\n', "utf-8")
    run(["lint", "--fix", str(vault)])
    return vault


@pytest.mark.parametrize("which", ["sample", "seeds", "hostile"])
def test_in_chromium_the_page_loads_nothing_and_shows_the_report(browser, shots, tmp_path, capsys, which):
    vault = {"sample": lambda: SAMPLE, "seeds": lambda: _seeds_vault(tmp_path),
             "hostile": lambda: hostile_vault(tmp_path)}[which]()
    out = tmp_path / "dashboard.html"
    make_dashboard(vault, out)
    report = report_json(vault, capsys=capsys)
    for scheme, width in (("light", 1200), ("dark", 1200), ("light", 390)):
        context, page, problems, requests, dialogs = open_page(browser, out, scheme, width)
        try:
            assert problems == [] and dialogs == []
            assert requests == [out.as_uri()]
            for section in ("today", "readiness", "history", "scores", "forecast"):
                assert page.locator(f"section#{section} h2").is_visible()
            numbers = page.locator("[data-key]").evaluate_all(
                "els => els.map(e => [e.dataset.key, e.dataset.value, e.textContent])")
            assert len(numbers) > 20
            for key, value, _ in numbers:
                assert at(report, key) == json.loads(value), key
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
            if which == "hostile":
                assert "<script>alert(1)</script>" in page.inner_text("body")
            name = f"{which}-{scheme}" + ("-phone" if width < 600 else "") + ".png"
            page.screenshot(path=str(shots / name), full_page=True)
            if width < 600:  # nothing wider than a phone but the charts' and tables' own scrolling boxes
                assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            context.close()
    # a day chosen on the heatmap lists what was done that day, without a script
    context, page, *_ = open_page(browser, out, "light")
    try:
        older = [d for d in report["history"] if d["date"] < (D(report["today"]) - dt.timedelta(days=27)).isoformat()]
        if older:
            day = older[0]["date"]
            assert not page.locator(f"#day-{day}").is_visible()
            page.locator(f'a[href="#day-{day}"]').first.click()
            assert page.locator(f"#day-{day}").is_visible()
    finally:
        context.close()


def test_a_page_already_made_for_the_same_vault_day_and_head_is_not_made_again(tmp_path, capsys, monkeypatch):
    vault = tmp_path / "v"
    _plan(vault)
    out = tmp_path / "d.html"
    made = []
    real = dashboard.page
    monkeypatch.setattr(dashboard, "page", lambda *a, **k: made.append(1) or real(*a, **k))
    make_dashboard(vault, out, "--today", "2025-11-22")
    make_dashboard(vault, out, "--today", "2025-11-22")
    assert len(made) == 1  # nothing changed: not even rendered
    make_dashboard(vault, out, "--today", "2025-11-23")
    assert len(made) == 2  # another day
    note = vault / "plan.md"
    note.write_text(note.read_text().replace("- [ ] left 0", "- [x] left 0"))
    assert "13 of 34 tasks done" in " ".join(Page(make_dashboard(vault, out, "--today", "2025-11-23")).text.split())
    out.write_text("edited by hand")
    assert make_dashboard(vault, out, "--today", "2025-11-23") != "edited by hand" and len(made) == 4
