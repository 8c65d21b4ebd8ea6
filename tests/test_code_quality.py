"""Code quality gates that run with the suite: ruff lint, ruff format check, mypy on every package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (dev extra)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_lint():
    result = _run(_tool("ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = _run(_tool("ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_every_package():
    result = _run(
        _tool("mypy"),
        # every package of the distribution; pyproject's [tool.mypy] warns on unused ignores
        "judgebench",
        "judges",
        "taxonomy",
        "synth",
        "db",
        "dashboard",
    )
    assert result.returncode == 0, result.stdout + result.stderr
