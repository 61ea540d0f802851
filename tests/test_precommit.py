"""The pre-commit hooks, run by the real pre-commit tool on a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def _git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)


@pytest.fixture
def repo(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "notes"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "me@example.com")
    _git(repo, "config", "user.name", "Me")
    (repo / "mdtracker.toml").write_text('today = "2025-11-22"\n')
    (repo / "plan.md").write_text("# Plan [/]\n- [x] a\n- [ ] b\n")
    return repo


def _try(repo, hook, home):
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
    if pre_commit is None:
        pytest.skip("pre-commit is not installed")
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run([pre_commit, "try-repo", str(ROOT), hook], cwd=repo, capture_output=True, text=True,
                          env=env, timeout=900)


def test_stale_summary_fails_the_commit_and_the_fixer_makes_the_next_pass(repo, tmp_path):
    home = tmp_path / "pre-commit-home"
    _git(repo, "add", "-A")
    check = _try(repo, "mdtracker-check", home)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "plan.md:1: cookie is out of date" in check.stdout
    fix = _try(repo, "mdtracker-sync", home)
    assert fix.returncode == 1 and "files were modified by this hook" in fix.stdout, fix.stdout + fix.stderr
    assert (repo / "plan.md").read_text() == "# Plan [1/2]\n- [x] a\n- [ ] b\n"
    _git(repo, "add", "-A")
    assert _try(repo, "mdtracker-sync", home).returncode == 0
    assert _try(repo, "mdtracker-check", home).returncode == 0
    assert _git(repo, "commit", "-q", "-m", "notes").returncode == 0


@pytest.mark.parametrize("change", ["config", "template", "deletion"])
def test_the_check_runs_on_a_commit_that_touches_no_markdown(repo, tmp_path, change):
    home = tmp_path / "pre-commit-home"
    (repo / "plan.md").write_text("# Plan [1/2]\n- [x] a\n- [S] b\n")
    (repo / "all.md").write_text('<!-- mdtracker:begin progress scope="" -->\n<!-- mdtracker:end progress -->\n')
    (repo / "old.md").write_text("- [x] done long ago\n")
    (repo / "templates").mkdir()
    (repo / "templates" / "mine.md.j2").write_text("one\n")
    (repo / "mine.md").write_text("<!-- mdtracker:begin mine -->\n<!-- mdtracker:end mine -->\n")
    assert _try_sync(repo)
    _git(repo, "add", "-A")
    assert _git(repo, "commit", "-q", "-m", "synced").returncode == 0
    if change == "config":
        (repo / "mdtracker.toml").write_text('today = "2025-11-22"\n[statuses]\n"S" = "done"\n')
    elif change == "template":
        (repo / "templates" / "mine.md.j2").write_text("two\n")
    else:
        _git(repo, "rm", "-q", "old.md")
    _git(repo, "add", "-A")
    check = _try(repo, "mdtracker-check", home)
    assert check.returncode == 1 and "is out of date" in check.stdout, check.stdout + check.stderr


def _try_sync(repo) -> bool:
    from conftest import run

    return run(["sync", str(repo)]) == 0
