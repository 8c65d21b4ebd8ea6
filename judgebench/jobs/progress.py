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
            TimeRemainingColumn,
        )

        self.console = console or Console(stderr=True)
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[outcomes]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
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
            self.bar.update(
                self.tasks[key], description=description, total=total, completed=0, outcomes=""
            )
        else:
            self.tasks[key] = self.bar.add_task(description, total=total, outcomes="")

    def advance(self, key: str, n: int = 1) -> None:
        task = self.tasks.get(key)
        if task is not None:
            self.bar.advance(task, n)

    def outcomes(self, key: str, errors: int, invalid: int) -> None:
        """Show how many of the bar's processed items failed or are invalid (the rest ok)."""
        task = self.tasks.get(key)
        if task is not None:
            self.bar.update(task, outcomes=outcome_text(errors, invalid))

    def note(self, text: str) -> None:
        self.bar.console.print(f"[dim]· {text}[/dim]")


def outcome_text(errors: int, invalid: int) -> str:
    """``3 errors · 1 invalid`` in colour; empty while every processed item is ok."""
    parts = [f"[red]{errors} errors[/red]" if errors else ""]
    parts.append(f"[yellow]{invalid} invalid[/yellow]" if invalid else "")
    return " · ".join(p for p in parts if p)
