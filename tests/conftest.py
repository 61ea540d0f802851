from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mdtracker.cli import run

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).parent / "fixtures"


def shared(*parts: str) -> Path:
    """A path in ../shared; the test is skipped where the checkout has no shared folder beside it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return path


def seed(prefix: str) -> Path:
    return next(shared("seeds").glob(f"{prefix}_*.txt"))


def copy_seed(prefix: str, vault: Path, name: str | None = None) -> Path:
    target = vault / (name or seed(prefix).with_suffix(".md").name)
    shutil.copyfile(seed(prefix), target)
    return target


def report_json(vault: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    code = run(["report", "--json", *args, str(vault)])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)
