"""CLI commands (registered from judgebench.cli). Module level imports typer only."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
