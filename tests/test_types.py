"""The package type-checks (STYLE.md: type hints on every public function, mypy-clean)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


def test_mypy_finds_nothing():
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports", "mdtracker"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
