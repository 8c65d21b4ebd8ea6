"""``judgebench router``: serve a router over HTTP, train a selector, calibrate a cascade, and
show what a router did. Module level imports typer only."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer

from judgebench.cli import checks

router_app = typer.Typer(
    help="Routers: a Meta-Ranking cascade and a learned selector, served OpenAI-compatibly.",
    no_args_is_help=True,
)

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def final_number(text: str) -> float | None:
    """The last number in a text (GSM8K answers end '#### 18'; solutions end with the result)."""
    found = _NUMBER.findall(text or "")
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


@router_app.command("serve")
def serve(
    config: Path = typer.Argument(..., help="router.yaml"),
    host: str = typer.Option(None, help="Override server.host (default 127.0.0.1)."),
    port: int = typer.Option(None, callback=checks.port, help="Override server.port."),
) -> None:
    """Serve the router as an OpenAI-compatible API until Ctrl-C."""
    import asyncio

    from judgebench.routing.config import build_router, load_config
    from judgebench.routing.server import RouterServer

    cfg = load_config(config)
    if host:
        cfg.server.host = host
    if port is not None:
        cfg.server.port = port
    if cfg.store and cfg.server.flush_interval_s:
        from judgebench.db import Store
        from judgebench.db.routing import SqlRoutingLog

        log = SqlRoutingLog(Store(cfg.store), flush_every=256)  # the server flushes on a timer
    else:
        log = None
    router = build_router(cfg, log=log)
    server = RouterServer(router, cfg.server)

    async def main() -> None:
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # stop cleanly: buffered decisions get written
            loop.add_signal_handler(sig, stop.set)
        url = await server.start()
        auth = (
            "no API key (allow_no_auth)"
            if not server.keys
            else f"keys from ${cfg.server.api_key_env}"
        )
        typer.echo(
            f"router {cfg.name} ({cfg.kind}: {', '.join(router.models)}) on {url} — {auth}", nl=True
        )
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await server.stop()
        typer.echo("stopped")

    asyncio.run(main())


@router_app.command("calibrate")
def calibrate(
    config: Path = typer.Argument(..., help="router.yaml of a cascade"),
    labelled: Path = typer.Option(
        ...,
        help="JSONL with query/question and reference/answer (final number decides correctness).",
    ),
    target: str = typer.Option("quality", help="quality | strong_share | cost"),
    value: float = typer.Option(
        ..., help="Target: minimum quality, maximum strong share, or mean cost (USD)."
    ),
    limit: int = typer.Option(200, help="Use at most this many labelled queries."),
    write: bool = typer.Option(False, help="Write the chosen thresholds into the config file."),
) -> None:
    """Run every stage on labelled queries, then choose thresholds for the target and print the
    cost–quality curve."""
    import yaml

    from judgebench.errors import DataError
    from judgebench.routing.config import build_router, load_config
    from judgebench.safe_yaml import load_yaml_file

    cfg = load_config(config)
    if cfg.kind != "cascade":
        raise DataError(f"{config}: calibrate needs a cascade router (kind: cascade)")
    if not labelled.is_file():
        raise DataError("labelled file not found", where=str(labelled))
    router = build_router(cfg, log=None)
    queries, gold = [], {}
    from judgebench.importers.base import read_text

    for n, line in enumerate(read_text(labelled).split("\n"), 1):  # non-UTF-8: one line
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):  # ValueError: also an int of over 4,300 digits
            raise DataError(f"{labelled}:{n}: not JSON") from None
        if not isinstance(row, dict):
            raise DataError(f"{labelled}:{n}: not a JSON object")
        q = row.get("query", row.get("question"))
        ref = row.get("reference", row.get("answer"))
        if not isinstance(q, str) or final_number(str(ref)) is None:
            raise DataError(
                f"{labelled}:{n}: need query/question and a reference/answer ending in a number"
            )
        if q not in gold:
            queries.append(q)
            gold[q] = final_number(str(ref))
        if len(queries) >= limit:
            break

    def label(query: str, model: str, answer: str) -> bool:
        got = final_number(answer)
        return got is not None and abs(got - gold[query]) < 1e-6  # type: ignore[operator]

    items = router.collect_sync(queries, label)
    report = router.calibrate(items, target, value)
    typer.echo(report.format())
    if write:
        data = load_yaml_file(config)
        data["cascade"]["thresholds"] = [
            None if t is None else (float(t) if t != float("inf") else 1e9)
            for t in report.thresholds
        ]
        config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        typer.echo(f"thresholds written to {config}")


def _stored_scores(db: str, judge: str, names: list[str], baseline: str | None):
    from judgebench.db import Store
    from judgebench.db.engine import existing_store
    from judgebench.routing import judged_scores, score_matrix

    store = Store(existing_store(db, "run a job or import judgments first"))
    scores = judged_scores(store.get_judgments(judge=judge), names, baseline)
    return score_matrix(store.get_queries(ids=list(scores)), scores, names)


@router_app.command("train")
def train(
    db: str = typer.Option(..., help="Store with the judgments to learn from."),
    judge: str = typer.Option(..., help="The judge whose judgments are the targets."),
    models: str = typer.Option(..., help="Comma-separated candidate models."),
    out: Path = typer.Option(
        Path("selector.npz"),
        callback=checks.output_file,
        help="Where to save the selection model.",
    ),
    baseline: str = typer.Option(
        None, help="Pairwise judgments: the baseline model (not a candidate)."
    ),
    encoder: str = typer.Option("auto", help="auto | minilm | lexical"),
    balance: float = typer.Option(1.0, help="Load-balancing penalty λ (0 = off)."),
    holdout: float = typer.Option(
        0.3, help="Share of queries kept out of training for `router eval`."
    ),
    seed: int = typer.Option(0, help="Seed of the held-out split and the network."),
) -> None:
    """Train a selection model on stored judgments (query embedding + taxonomy node → weights)."""
    import numpy as np

    from judgebench.errors import UserError
    from judgebench.routing import SelectionModel, SelectorSettings
    from judgebench.routing.selector import usage

    if not 0 <= holdout < 1:
        raise UserError(f"--holdout {holdout}: use a share in [0, 1)")
    names = [m.strip() for m in models.split(",") if m.strip()]
    queries, matrix = _stored_scores(db, judge, names, baseline)
    order = np.random.default_rng(seed).permutation(len(queries))
    keep = np.sort(order[: len(queries) - int(round(holdout * len(queries)))])
    train_q = [queries[i] for i in keep]
    model = SelectionModel.train(
        train_q,
        matrix[keep],
        names,
        encoder=encoder,
        settings=SelectorSettings(balance=balance, seed=seed),
    )
    path = model.save(out)
    share = usage(
        model.network.weights(
            model.features(
                [q.text for q in train_q], [q.node_ids[0] if q.node_ids else None for q in train_q]
            )
        )
    )
    typer.echo(
        f"trained on {len(train_q)} queries × {len(names)} models ({model.featurizer.encoder_name}), "
        f"{len(queries) - len(train_q)} held out; saved {path}"
    )
    for name, s in zip(names, share, strict=True):
        typer.echo(
            f"  {name}: top-1 on {s:.1%} of training queries, mean judged score {matrix[keep][:, names.index(name)].mean():.3f}"
        )


@router_app.command("eval")
def evaluate(
    model_file: Path = typer.Argument(..., help="A selection model saved by `router train`."),
    db: str = typer.Option(..., help="Store with the judgments."),
    judge: str = typer.Option(..., help="The judge whose judgments are the quality."),
    baseline: str = typer.Option(None, help="Pairwise judgments: the baseline model."),
    k: int = typer.Option(2, help="k of the top-k strategy."),
) -> None:
    """Held-out evaluation (queries the model was not trained on): quality per strategy against
    always-strongest, random and oracle, and RouteLLM's APGR / CPT between the weakest and the
    strongest candidate."""
    from judgebench.errors import DataError
    from judgebench.routing import SelectionModel, evaluate_selection, gap_curve

    model = SelectionModel.load(model_file)
    queries, matrix = _stored_scores(db, judge, model.models, baseline)
    seen = set(model.train_query_ids)
    held = [i for i, q in enumerate(queries) if q.id not in seen]
    if not held:
        raise DataError(
            f"{model_file}: no stored query with scores for every model is held out from training"
        )
    texts = [queries[i].text for i in held]
    nodes = [queries[i].node_ids[0] if queries[i].node_ids else None for i in held]
    quality = matrix[held]
    features = model.features(texts, nodes)  # one encoding pass for both readings below
    weights = model.network.selected(features)
    typer.echo(f"{len(held)} held-out queries, quality = judged score by {judge}")
    for result in evaluate_selection(weights, quality, None, model.models, k=k).values():
        typer.echo(f"  {result.name:<50} {result.quality:.3f}")
    means = quality.mean(axis=0)
    weak, strong = int(means.argmin()), int(means.argmax())
    raw = model.network.weights(features)
    curve = gap_curve(
        raw[:, strong] / (raw[:, strong] + raw[:, weak]), quality[:, weak], quality[:, strong]
    )
    typer.echo(
        f"  {model.models[weak]} → {model.models[strong]}: APGR {curve.apgr:.3f}, "
        f"CPT(50%) {curve.cpt50}, CPT(80%) {curve.cpt80}"
    )


@router_app.command("log")
def log(
    db: str = typer.Option(..., help="Store the router records into."),
    router: str = typer.Option(None, help="Only this router."),
) -> None:
    """What a router did: requests per final model, stages tried, cost and latency."""
    from judgebench.db import Store
    from judgebench.db.engine import existing_store
    from judgebench.db.routing import routing_summary

    rows = routing_summary(Store(existing_store(db, "serve a router with a store first")), router)
    if not rows:
        typer.echo("no routed requests recorded")
        return
    typer.echo(
        f"{'router':<20} {'final model':<28} {'status':<6} {'requests':>8} {'share':>6} {'stages':>6} {'cost':>10} {'latency':>8}"
    )
    for r in rows:
        cost = "unknown" if r["mean_cost"] is None else f"{r['mean_cost']:.6f}"
        typer.echo(
            f"{r['router']:<20} {str(r['final_model']):<28} {r['status']:<6} {r['requests']:>8} {r['share']:>6.1%} "
            f"{r['mean_stages']:>6.2f} {cost:>10} {r['mean_latency_s'] * 1000:>6.0f}ms"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(router_app, name="router")
