"""``judgebench synth``: synthesize queries for every leaf of a taxonomy (METHODS.md §2).

Module level imports typer only; the pipeline, the store and the encoders load inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from judgebench.cli import checks


def synth_cmd(
    taxonomy: str = typer.Option(
        "default", "--taxonomy", help="'default' or a taxonomy file (YAML/JSON/CSV)."
    ),
    seeds: str = typer.Option(
        ...,
        "--seeds",
        help="Seed queries: a .jsonl/.csv file, or 'db' / 'db:<source>' for queries in the store.",
    ),
    per_node: int = typer.Option(
        5, "--per-node", min=1, help="Kept queries wanted per leaf (min_per_node)."
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="JUDGEBENCH_DB",
        help="Store URL or SQLite file: queries, progress and LLM cache go there.",
    ),
    generators: str | None = typer.Option(
        None, "--generators", help="Comma-separated generator pool."
    ),
    judge: str | None = typer.Option(
        None, "--judge", help="Model answering the quality checklist."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (same seed, same queries)."),
    max_attempts: int | None = typer.Option(
        None, "--max-attempts", help="Attempt budget per leaf (default 4 × per-node)."
    ),
    min_quality: int | None = typer.Option(
        None, "--min-quality", help="Checklist items (of 7) that must pass (default 5)."
    ),
    encoder: str | None = typer.Option(
        None, "--encoder", help="auto, minilm or lexical (dedup and re-assignment)."
    ),
    threshold: float | None = typer.Option(
        None, "--dedup-threshold", help="Cosine for near-duplicates (default per encoder)."
    ),
    reassign: str | None = typer.Option(
        None, "--reassign", help="Re-assign kept queries: embedding, llm or none."
    ),
    concurrency: int | None = typer.Option(
        None, "--concurrency", help="LLM calls in flight at once."
    ),
    under: str | None = typer.Option(
        None, "--under", help="Only leaves under this node path (e.g. coding)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="YAML/JSON file of synthesis settings (options override it)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        callback=checks.output_file,
        help="Also write every kept query of the run to this JSONL file.",
    ),
    progress_file: Path = typer.Option(
        Path("synth-progress.jsonl"),
        "--progress",
        callback=checks.output_file,
        help="Progress record when no --db is given (resume from it).",
    ),
) -> None:
    """Generate new queries per taxonomy leaf from seed queries, keep those that pass the quality
    checklist and are not duplicates, until each leaf has --per-node of them or its budget ends."""
    overrides = {
        "per_node": per_node,
        "generators": [g.strip() for g in generators.split(",") if g.strip()]
        if generators
        else None,
        "judge": judge,
        "seed": seed,
        "max_attempts_per_node": max_attempts,
        "min_quality": min_quality,
        "encoder": encoder,
        "dedup_threshold": threshold,
        "reassign": reassign,
        "concurrency": concurrency,
    }
    _run(
        taxonomy=taxonomy,
        seeds=seeds,
        db=db,
        config_file=config,
        overrides={k: v for k, v in overrides.items() if v is not None},
        under=under,
        out=out,
        progress_file=progress_file,
    )


def _load_taxonomy(ref: str):
    from judgebench.errors import DataError
    from judgebench.taxonomy import load_default_taxonomy, load_taxonomy

    if ref == "default":
        return load_default_taxonomy()
    if not Path(ref).is_file():
        raise DataError("taxonomy file not found (use 'default' or a path)", where=ref)
    return load_taxonomy(ref)


def _settings(config_file: Path | None, overrides: dict):
    import json

    from pydantic import ValidationError

    from judgebench.config import validation_message
    from judgebench.errors import ConfigError
    from judgebench.safe_yaml import load_yaml_text
    from judgebench.synth import SynthConfig

    data: dict = {}
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError("synthesis config not found", where=str(config_file))
        try:
            text = config_file.read_text(encoding="utf-8")
            data = (
                json.loads(text)
                if config_file.suffix == ".json"
                else load_yaml_text(text, str(config_file))
            ) or {}
        except (ValueError, RecursionError) as exc:  # bad UTF-8 / JSON, an int of 4,300+ digits
            raise ConfigError(
                f"unreadable: {exc}".splitlines()[0], where=str(config_file)
            ) from None
        if not isinstance(data, dict):
            raise ConfigError("expected a mapping of settings", where=str(config_file))
    try:
        return SynthConfig(**{**data, **overrides})
    except ValidationError as exc:
        raise ConfigError(validation_message(exc), where=str(config_file or "options")) from None


def _seeds(spec: str, store):
    from judgebench.errors import DataError
    from judgebench.synth import load_seed_file

    if spec == "db" or spec.startswith("db:"):
        if store is None:
            raise DataError(
                "--seeds db needs --db (the store holding the seed queries)", where="--seeds"
            )
        source = spec.partition(":")[2] or None
        found = [q for q in store.get_queries(source=source) if q.source != "synth"]
        if not found:
            raise DataError(
                f"no queries{f' with source {source!r}' if source else ''} in the store",
                where=store.url,
            )
        return found
    return load_seed_file(spec)


def _run(*, taxonomy, seeds, db, config_file, overrides, under, out, progress_file) -> None:
    import json

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from judgebench.errors import DataError
    from judgebench.llm import Gateway, run_sync, set_gateway
    from judgebench.synth import JsonlJournal, Synthesizer
    from judgebench.synth.assign import make_assigner
    from judgebench.synth.seeds import restrict_to_taxonomy

    console = Console(stderr=True)
    cfg = _settings(config_file, overrides)
    tree = _load_taxonomy(taxonomy)
    if under and under not in tree:
        raise DataError(f"no node {under!r} in taxonomy {tree.name!r}", where="--under")
    if under and tree.is_leaf(under):
        leaf_ids = [under]
    else:
        leaf_ids = tree.leaves(under) if under else tree.leaves()
    leaves = [tree.node(n) for n in leaf_ids]
    store = None
    version = None
    if db:
        from judgebench.db import Store
        from judgebench.db.callcache import SQLCallCache
        from judgebench.db.synth import StoreJournal
        from judgebench.db.taxonomy import save_taxonomy_version

        store = Store(db)
        version, _ = save_taxonomy_version(store, tree)
        set_gateway(Gateway(cache=SQLCallCache(store)))  # a rerun is served from the cache
        journal = StoreJournal(store)
    else:
        journal = JsonlJournal(progress_file)
    seed_queries, unknown = restrict_to_taxonomy(_seeds(seeds, store), tree)
    if unknown:
        shown = ", ".join(sorted(unknown)[:5])
        console.print(
            f"[yellow]{len(unknown)} seed labels are not nodes of {tree.name} ({shown}…): ignored[/yellow]"
        )
    needs_assigning = any(not q.node_ids for q in seed_queries)
    mode = cfg.reassign if cfg.reassign != "none" or not needs_assigning else "embedding"
    assigner = make_assigner(
        tree, mode, encoder=cfg.encoder, model=cfg.judge, examples=seed_queries
    )
    if cfg.reassign == "none" and assigner is not None:
        console.print(
            "[dim]seeds without nodes are assigned by embeddings; kept queries are not re-assigned[/dim]"
        )

    simulated = any(m.startswith("sim/") for m in [*cfg.generators, cfg.judge])
    label = " [yellow](simulated models)[/yellow]" if simulated else ""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        overall = bar.add_task(f"leaves done{label}", total=len(leaves), note="")
        active: dict[str, TaskID] = {}

        def on_progress(node, finished: bool) -> None:
            note = f"kept {node.kept}/{node.target} · {node.attempts} attempts"
            if finished:
                task = active.pop(node.node_id, None)
                if task is not None:
                    bar.remove_task(task)
                bar.advance(overall)
                return
            if node.node_id not in active:
                active[node.node_id] = bar.add_task(node.node_id, total=node.target, note=note)
            bar.update(active[node.node_id], completed=min(node.kept, node.target), note=note)

        synth = Synthesizer(
            leaves,
            seed_queries,
            cfg,
            journal=journal,
            assigner=assigner,
            taxonomy_version=version,
            on_progress=on_progress,
        )
        run = None
        if store is not None:
            from judgebench.records import Run

            run = Run(
                kind="synth",
                name=f"synth {tree.name}",
                config={"run_key": synth.run_key, **cfg.model_dump()},
            )
            store.put_run(run)
        try:
            report = run_sync(synth.run)
        except BaseException as exc:
            if store is not None and run is not None:
                store.finish_run(
                    run.id,
                    "stopped" if isinstance(exc, KeyboardInterrupt) else "failed",
                    str(exc)[:500],
                )
            raise
        if store is not None and run is not None:
            store.link_run_items(run.id, "query", [q.id for q in journal.load_kept(report.run_key)])
            store.finish_run(run.id)

    _print_report(Console(), report, simulated)
    if out is not None:
        kept = journal.load_kept(report.run_key)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as handle:
            for query in kept:
                handle.write(json.dumps(query.model_dump(mode="json"), ensure_ascii=False) + "\n")
        console.print(f"wrote {len(kept)} queries to {out}")


def _print_report(console, report, simulated: bool) -> None:
    from rich.table import Table

    s = report.summary()
    title = "synthesis" + (" · simulated models" if simulated else "")
    table = Table(title=title, show_header=False)
    for key in (
        "kept",
        "nodes",
        "nodes_short",
        "dedup_rate",
        "calls",
        "tokens",
        "encoder",
        "threshold",
        "wall_s",
    ):
        table.add_row(key, str(s[key]))
    table.add_row(
        "attempts by status", ", ".join(f"{k} {v}" for k, v in sorted(s["statuses"].items()))
    )
    console.print(table)
    short = sorted(report.shortfall.items(), key=lambda kv: -kv[1])
    if short:
        gaps = Table(title=f"shortfall: {len(short)} leaves below target")
        gaps.add_column("leaf")
        gaps.add_column("kept", justify="right")
        gaps.add_column("missing", justify="right")
        gaps.add_column("attempts", justify="right")
        gaps.add_column("why (attempts by status)")
        for node_id, missing in short[:30]:
            node = report.nodes[node_id]
            why = ", ".join(f"{k} {v}" for k, v in node.statuses.most_common() if k != "kept")
            gaps.add_row(node_id, str(node.kept), str(missing), str(node.attempts), why)
        console.print(gaps)
        if len(short) > 30:
            console.print(f"… and {len(short) - 30} more leaves short")
    console.print(
        f"run {report.run_key}: rerun the same command to resume or extend (no repeated LLM calls)"
    )


def register(app: typer.Typer) -> None:
    app.command(
        "synth",
        help="Synthesize queries per taxonomy leaf (RealMix): generate, check, dedup, cover.",
    )(synth_cmd)
