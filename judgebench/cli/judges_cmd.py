"""``judgebench judge-eval``: meta-evaluate a judge configuration on a human-labelled pairwise set."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def _judge_config(judge: str, model: str | None) -> dict:
    """``--judge`` is a registered judge name or a YAML/JSON file ``{judge, model, ...options}``."""
    from judgebench.errors import ConfigError

    path = Path(judge)
    if path.suffix in {".yaml", ".yml", ".json"}:
        if not path.is_file():
            raise ConfigError("judge config file not found", where=str(path))
        from judgebench.safe_yaml import load_yaml_file

        config = load_yaml_file(path) or {}  # YAML or JSON (a subset), bounded, one-line errors
        if not isinstance(config, dict) or "judge" not in config:
            raise ConfigError(
                "needs a mapping with at least 'judge' (and 'model')", where=str(path)
            )
    else:
        config = {"judge": judge}
    if model:
        config["model"] = model
    if not config.get("model"):
        raise ConfigError("no judge model: pass --model or set 'model' in the config")
    return config


def judge_eval_cmd(
    label_set: str = typer.Argument(
        ...,
        help="llmbar-natural, llmbar-adversarial, llmbar-mtbench, llmbar-llmeval2, llmbar-faireval, pandalm, or a path (with --format).",
    ),
    judge: str = typer.Option(
        "pairwise", "--judge", help="Registered judge name or a YAML/JSON judge config."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Judge model (gateway name, e.g. sim/judge)."
    ),
    format: str | None = typer.Option(
        None, "--format", help="Importer format when LABEL_SET is a path."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="Shared data folder holding the named sets."
    ),
    limit: int | None = typer.Option(None, "--limit", help="Evaluate only the first N pairs."),
    db: str = typer.Option(
        "judgebench.db", "--db", envvar="JUDGEBENCH_DB", help="Store URL or SQLite file path."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Run a judge over labelled pairs; print agreement, position consistency, invalid rate, cost."""
    from judgebench.analysis.judge_eval import check_limit, load_label_set, run_judge_eval
    from judgebench.db import Store
    from judgebench.errors import ConfigError
    from judgebench.judges import get_judge

    check_limit(limit)  # before anything is read or the store is created
    config = _judge_config(judge, model)
    options = {k: v for k, v in config.items() if k not in {"judge", "model"}}
    try:
        instance = get_judge(config["judge"], config["model"], **options)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"cannot build judge {config['judge']!r}: {exc}") from None
    set_name, batch = load_label_set(label_set, data, format)
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway, set_gateway

    store = Store(db)
    set_gateway(Gateway(cache=SQLCallCache(store)))  # a rerun is served from the cache: no calls
    metrics, run = run_judge_eval(
        instance, set_name, batch, store, limit=limit, judge_config=config
    )
    if as_json:
        typer.echo(json.dumps(metrics, indent=2, default=str))
        return
    simulated = " (simulated)" if str(config["model"]).startswith("sim/") else ""
    typer.echo(
        f"judge-eval {set_name}: {config['judge']} with {config['model']}{simulated}; run {run.id if run else '-'}"
    )
    rows = [
        ("pairs", metrics["n"]),
        ("accuracy (with ties)", f"{metrics['accuracy_with_ties']:.3f}"),
        (
            f"accuracy (without ties, n={metrics['n_without_ties']})",
            f"{metrics['accuracy_without_ties']:.3f}",
        ),
        ("Cohen's kappa", f"{metrics['kappa']:.3f}"),
        (
            "position consistency",
            "-"
            if metrics["position_consistency"] is None
            else f"{metrics['position_consistency']:.3f}",
        ),
        ("invalid", f"{metrics['invalid']} ({metrics['invalid_rate']:.1%})"),
        ("cost", f"${metrics['cost']:.4f} ({metrics['tokens']} tokens)"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"  {key:<{width}}  {value}")


def judge_evals_cmd(
    db: str = typer.Option(
        "judgebench.db", "--db", envvar="JUDGEBENCH_DB", help="Store URL or SQLite file path."
    ),
    label_set: str | None = typer.Option(None, "--set", help="Only runs on this label set."),
) -> None:
    """Compare every stored judge-eval run side by side (one row per configuration and set)."""
    from rich.console import Console
    from rich.table import Table

    from judgebench.analysis.judge_eval import judge_eval_table
    from judgebench.db import Store
    from judgebench.db.engine import existing_store

    store = Store(existing_store(db, "run `judgebench judge-eval` first"))
    frame = judge_eval_table(store.list_runs(kind="judge-eval"))
    if label_set:
        frame = frame[frame["set"] == label_set]
    if frame.empty:
        typer.echo("no judge-eval runs stored yet: run `judgebench judge-eval` first")
        return
    table = Table(title="judge-eval runs")
    for column in frame.columns:
        table.add_column(column)
    for row in frame.itertuples(index=False):
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    Console(width=200).print(table)


def register(app: typer.Typer) -> None:
    app.command("judge-eval", help="Meta-evaluate a judge on a human-labelled pairwise set.")(
        judge_eval_cmd
    )
    app.command("judge-evals", help="Compare stored judge-eval runs side by side.")(judge_evals_cmd)
