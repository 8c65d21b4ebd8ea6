"""A rich progress display for job stages (one bar per model / judge)."""

from __future__ import annotations

from typing import Any


class RichProgress:
    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console or Console(stderr=True)
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)  # type: ignore[arg-type]

    def start(self, key: str, description: str, total: int) -> None:
        if key in self.tasks:
            self.bar.update(self.tasks[key], description=description, total=total, completed=0)
        else:
            self.tasks[key] = self.bar.add_task(description, total=total)

    def advance(self, key: str, n: int = 1) -> None:
        task = self.tasks.get(key)
        if task is not None:
            self.bar.advance(task, n)

    def note(self, text: str) -> None:
        self.bar.console.print(f"[dim]· {text}[/dim]")
