"""``judgebench probe``: representation probes (the Language Ranker). Module level imports typer only."""

from __future__ import annotations

import typer

from judgebench.cli import checks

probe_app = typer.Typer(
    help="Probe how a model represents things (Language Ranker).", no_args_is_help=True
)


@probe_app.command("language-ranker")
def language_ranker_cmd(
    corpus: str = typer.Option(
        ...,
        "--corpus",
        help="Parallel folder (one <prefix>.<code>.txt per language) or pair file (.tsv/.jsonl).",
    ),
    model: str = typer.Option(
        "minilm",
        "--model",
        help="Local transformers model folder, or 'minilm' (offline all-MiniLM-L6-v2).",
    ),
    languages: list[str] = typer.Option(
        None, "--languages", "-l", help="Language codes (repeat or comma-separate); default all."
    ),
    pooling: str = typer.Option("last", "--pooling", help="last (last token) or mean."),
    layers: str = typer.Option(
        "all", "--layers", help="Layer set for the score: all, last, or e.g. 1-3,6,-1."
    ),
    max_pairs: int = typer.Option(
        None, "--max-pairs", min=1, help="Use only the first N lines of the corpus."
    ),
    n_boot: int = typer.Option(
        1000, "--bootstrap", min=1, help="Bootstrap resamples over pairs for the CIs."
    ),
    seed: int = typer.Option(0, "--seed"),
    confidence: float = typer.Option(0.95, "--confidence", callback=checks.open_fraction),
    max_length: int = typer.Option(
        256, "--max-length", min=1, help="Truncate sentences to this many tokens."
    ),
    device: str = typer.Option(None, "--device", help="cuda or cpu (default: cuda when present)."),
    compile_model: bool = typer.Option(
        False,
        "--compile",
        help="torch.compile the model: for large models and long GPU runs (~1 min to compile).",
    ),
    db: str = typer.Option(
        "judgebench.db", "--db", envvar="JUDGEBENCH_DB", help="Store URL or SQLite file path."
    ),
    csv_path: str = typer.Option(
        None, "--csv", help="Write the ranking and per-layer scores to this CSV."
    ),
    reference_csv: str = typer.Option(
        None,
        "--reference-csv",
        help="CSV of language,value: report Spearman's rho with the scores.",
    ),
    top: int = typer.Option(0, "--top", min=0, help="Print only the first N languages (0 = all)."),
    metric: str = typer.Option(
        "raw",
        "--metric",
        help="Rank by raw (the paper's mean cosine) or corrected (minus the mismatched-pair baseline).",
    ),
) -> None:
    """Rank languages by how close the model's states for X are to those for English (METHODS.md §7)."""
    from rich.console import Console
    from rich.table import Table

    from judgebench.db import Store
    from judgebench.probes.language_ranker import RankerSettings, run_language_ranker, write_csv
    from judgebench.probes.ranker import format_layers, read_reference_csv

    codes = [
        code.strip() for item in languages or [] for code in item.split(",") if code.strip()
    ] or None
    settings = RankerSettings(
        pooling=pooling,
        layers=layers,
        max_pairs=max_pairs,
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
        max_length=max_length,
        metric=metric,
    )
    reference = read_reference_csv(reference_csv) if reference_csv else None
    console = Console(stderr=True)
    report = run_language_ranker(
        model,
        corpus,
        languages=codes,
        settings=settings,
        store=Store(db),
        reference=reference,
        device=device,
        compile=compile_model,
        progress=lambda line: console.print(f"[dim]{line}[/dim]"),
    )
    level = int(round(confidence * 100))
    table = Table(
        title=f"Language Ranker · {report.model} · {report.corpus} · {pooling} pooling · layers {layers}"
    )
    for column, justify in (
        ("rank", "right"),
        ("language", "left"),
        ("name", "left"),
        ("raw cosine", "right"),
        (f"{level}% CI", "right"),
        ("corrected", "right"),
        (f"{level}% CI ", "right"),
        ("baseline", "right"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    shown = report.ranking[:top] if top else report.ranking
    for row in shown:
        table.add_row(
            str(row["rank"]),
            row["language"],
            row["language_name"],
            f"{row['raw']:.4f}",
            f"[{row['raw_ci_low']:.4f}, {row['raw_ci_high']:.4f}]",
            f"{row['score']:.4f}",
            f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}]",
            f"{row['baseline']:.4f}",
        )
    Console().print(table)
    typer.echo(
        f"run {report.run_id}: {len(report.computed)} languages computed, {len(report.skipped)} already stored; "
        f"ranked by {metric} (raw = mean cosine as the paper; corrected = raw − mismatched-pair "
        f"baseline), mean over layers {format_layers(report.layers)}"
    )
    if report.sentences:
        typer.echo(
            f"encoded {report.sentences} sentences in {report.encode_s:.1f} s ({report.sentences_per_s:.0f}/s)"
            + (f"; {report.truncated} truncated to {max_length} tokens" if report.truncated else "")
        )
    if report.correlation is not None:
        c = report.correlation
        typer.echo(
            f"Spearman rho with {reference_csv}: {c.rho:.3f} (p={c.p_value:.2g}, n={c.n} languages"
            + (f"; {len(c.missing)} without a reference value" if c.missing else "")
            + ")"
        )
    if csv_path:
        rows = write_csv(report, csv_path)
        typer.echo(f"wrote {rows} rows to {csv_path}")


def register(app: typer.Typer) -> None:
    app.add_typer(probe_app, name="probe")
