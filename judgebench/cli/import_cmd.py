"""``judgebench import <format> <path>``: bring real benchmark data into the store."""

from __future__ import annotations

from pathlib import Path

import typer

FORMATS_HELP = (
    "alpaca-eval-outputs, alpaca-eval-annotations, mt-bench-questions, mt-bench-answers, "
    "mt-bench-judgments, llmbar, pandalm, judgebench, gsm8k, halueval"
)


def import_cmd(
    format: str = typer.Argument(..., help=f"Source format: {FORMATS_HELP}."),
    path: Path = typer.Argument(..., help="File or folder to read (never modified)."),
    db: str = typer.Option(
        "judgebench.db", "--db", envvar="JUDGEBENCH_DB", help="Store URL or SQLite file path."
    ),
    eval_set: Path | None = typer.Option(
        None, "--eval-set", help="AlpacaEval eval_set.json (annotations only)."
    ),
    references: Path | None = typer.Option(
        None, "--references", help="MT-Bench reference answers (questions only)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Parse and validate only; write nothing."
    ),
) -> None:
    """Import a benchmark file: rows become queries, responses and judgments (judge = source)."""
    from judgebench.importers import parse, write_batch

    options: dict[str, object] = {}
    if eval_set is not None:
        options["eval_set"] = eval_set
    if references is not None:
        options["references"] = references
    batch = parse(format, path, **options)
    if dry_run:
        counts = batch.counts()
        typer.echo(
            f"{format}: {counts['queries']} queries, {counts['responses']} responses, "
            f"{counts['judgments']} judgments ({counts['invalid_judgments']} invalid); nothing written"
        )
        return
    from judgebench.db import Store

    result = write_batch(batch, Store(db))
    typer.echo(result.line())


def register(app: typer.Typer) -> None:
    app.command(
        "import", help="Import benchmark data (AlpacaEval, MT-Bench, LLMBar, PandaLM, ...)."
    )(import_cmd)
