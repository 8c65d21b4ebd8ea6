"""Checks of command-line values, run by click while it parses (before a command does
anything): an output path that cannot be written, a port out of range. A failed check is a
``typer.BadParameter``, which :func:`judgebench.cli.main` prints as one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import typer


def output_folder(value: Path | None) -> Path | None:
    """A folder to write into: absent (it is created) or a folder, never an existing file."""
    if value is not None:
        if value.exists() and not value.is_dir():
            raise typer.BadParameter(f"{value} exists and is not a folder")
        _parent_is_a_folder(value)
    return value


def output_file(value: Path | None) -> Path | None:
    """A file to write: not a folder, inside a folder (or one that can be created)."""
    if value is not None:
        if value.is_dir():
            raise typer.BadParameter(f"{value} is a folder, not a file")
        _parent_is_a_folder(value)
    return value


def port(value: int | None) -> int | None:
    """A TCP port: 0 (any free one) to 65535."""
    if value is not None and not 0 <= value <= 65535:
        raise typer.BadParameter(f"{value} is not a TCP port (0-65535; 0 picks a free one)")
    return value


def open_fraction(value: float | None) -> float | None:
    """A level or share strictly between 0 and 1 (e.g. a confidence level)."""
    if value is not None and not 0 < value < 1:
        raise typer.BadParameter(f"{value} is not between 0 and 1 (exclusive)")
    return value


def _parent_is_a_folder(path: Path) -> None:
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise typer.BadParameter(f"{parent} is a file, so {path} cannot be written")
            return
