"""``judgebench export``: a run's queries, responses and judgments as CSV, Parquet or JSONL.

Module level imports typer only (the CLI starts fast).
"""

from __future__ import annotations

from pathlib import Path

import typer

from judgebench.cli import checks


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)


def export_cmd(
    run: str = typer.Option(..., "--run", help="Run id, id prefix, or job name (its latest run)."),
    fmt: str = typer.Option("csv", "--format", help="csv, parquet or jsonl."),
    db: str = typer.Option("judgebench.db", "--db", help="Store URL."),
    out: Path = typer.Option(
        Path("export"),
        "--out",
        callback=checks.output_folder,
        help="Folder for <table>.<format> files.",
    ),
) -> None:
    """Write every row the run used (reused rows included) to <out>/{queries,responses,judgments}."""
    from judgebench.jobs.export import export_run

    for path in export_run(db, run, fmt, out):
        typer.echo(str(path))
