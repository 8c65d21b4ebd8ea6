"""Dashboard at scale: 1,000,000 judgments (5 models × 200,000 queries over the default taxonomy).

Builds the store with bulk Core ``executemany`` inserts (reused when it already exists), rebuilds
the dashboard's summary tables once (the "refresh after writes" step), then times:

* the first page: app start-up on the store, ``GET /``, ``GET /_dash-layout``, the Overview page
  and its callback outputs serialised to JSON, as a browser would receive them;
* every callback of every view (the plain functions the Dash callbacks wrap, with their outputs
  serialised to JSON), ``--reps`` times each with varying inputs.

Prints a table of callback timings and ends with the headline lines ``p95_ms`` (the worst
callback's p95) and ``first_page_ms``. Targets: p95 < 300 ms, first page < 2 s.

    .venv/bin/python bench/dashboard_scale.py                 # 200,000 queries (1 M judgments)
    .venv/bin/python bench/dashboard_scale.py --queries 20000  # a quick run
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

MODELS = ["sim/strong", "sim/coder", "sim/writer", "sim/weak", "acme/chat-1"]
JUDGE = "pc2"
CRITERIA = [("correctness", 40), ("completeness", 25), ("clarity", 20), ("safety", 15)]
CHUNK = 20_000


def _leaves() -> tuple[list[str], object | None]:
    try:
        from judgebench.taxonomy import load_default_taxonomy
    except ImportError:  # the taxonomy package is not there: a generated tree stands in
        from judgebench.dashboard.sample import fallback_leaves

        return fallback_leaves(), None
    tree = load_default_taxonomy()
    return list(tree.leaves()), tree


def build(url: str, n_queries: int, seed: int = 0) -> None:
    from sqlalchemy import insert

    from judgebench.db import Store
    from judgebench.db.models import JudgmentRow, QueryNodeRow, QueryRow, ResponseRow
    from judgebench.records import Run, content_key

    store = Store(url)
    leaves, tree = _leaves()
    version = 0
    if tree is not None:
        try:
            from judgebench.db.taxonomy import save_taxonomy_version

            version, _ = save_taxonomy_version(store, tree)  # type: ignore[arg-type]
        except ImportError:
            version = 0
    rng = np.random.default_rng(seed)
    # the assigner's calibrated confidence per link: about half of them under the default
    # min_confidence (as `taxonomy assign --db` with a laxer threshold stores); its own stream,
    # so the queries and scores stay those of the stores built before
    sure = np.random.default_rng(seed + 1)
    by_domain: dict[str, list[str]] = {}
    for leaf in leaves:
        by_domain.setdefault(leaf.split("/")[0], []).append(leaf)
    domains = sorted(by_domain)
    skill = {m: rng.normal(0, 0.5, len(domains)) for m in MODELS}
    run = Run(
        kind="job",
        name="scale nightly",
        job_name="scale",
        status="finished",
        started_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    store.put_run(run)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        for start in range(0, n_queries, CHUNK):
            stop = min(n_queries, start + CHUNK)
            queries, links, responses, judgments = [], [], [], []
            for i in range(start, stop):
                d = int(rng.integers(len(domains)))
                pool = by_domain[domains[d]]
                nodes = sorted(
                    {pool[int(rng.integers(len(pool)))] for _ in range(1 + (i % 3 == 0))}
                )
                qid = content_key("query", "scale", i)
                confidence = {n: round(float(sure.uniform(0.2, 1.0)), 3) for n in nodes}
                queries.append(
                    dict(
                        id=qid,
                        text=f"scale query {i} about {nodes[0]}",
                        source="scale",
                        reference=None,
                        node_ids=nodes,
                        node_confidence=confidence,
                        taxonomy_version=version or None,
                        provenance={},
                        meta={},
                        created_at=created,
                    )
                )
                links.extend(
                    dict(
                        query_id=qid, node_id=n, taxonomy_version=version, confidence=confidence[n]
                    )
                    for n in nodes
                )
                crit = np.clip(np.rint(3 + rng.normal(0, 0.9, (len(MODELS), len(CRITERIA)))), 1, 5)
                for m_index, model in enumerate(MODELS):
                    rid = content_key("response", qid, model)
                    responses.append(
                        dict(
                            id=rid,
                            query_id=qid,
                            model=model,
                            params={},
                            sample_index=0,
                            text=f"{model} answer to {i}",
                            prompt_tokens=50,
                            completion_tokens=150,
                            latency_s=0.5,
                            cost=0.0002 * (m_index + 1),
                            status="ok",
                            error=None,
                            run_id=run.id,
                            created_at=created,
                        )
                    )
                    scores = np.clip(crit[m_index] + np.rint(skill[model][d]), 1, 5)
                    invalid = rng.random() < 0.02
                    criteria = (
                        []
                        if invalid
                        else [
                            dict(name=n, weight=w, score=float(s), description=None, note=None)
                            for (n, w), s in zip(CRITERIA, scores, strict=True)
                        ]
                    )
                    judgments.append(
                        dict(
                            id=content_key("judgment", JUDGE, qid, model),
                            judge=JUDGE,
                            judge_model="sim/judge",
                            kind="pointwise",
                            query_id=qid,
                            response_id=rid,
                            response_b_id=None,
                            model=model,
                            model_b=None,
                            template_name="judges:pc2_score",
                            template_hash="a1b2c3d4",
                            params={},
                            score=None
                            if invalid
                            else float(
                                sum(w * s for (_, w), s in zip(CRITERIA, scores, strict=True))
                            ),
                            verdict=None,
                            criteria=criteria,
                            rationale=None if invalid else "scored against the baseline",
                            raw_replies=["unparseable"] if invalid else ["CRITERIA SCORES ..."],
                            flags=[],
                            details={},
                            status="invalid" if invalid else "ok",
                            reason="no criteria block" if invalid else None,
                            prompt_tokens=900,
                            completion_tokens=150,
                            cost=0.001,
                            run_id=run.id,
                            taxonomy_version=version or None,
                            created_at=created + timedelta(seconds=i),
                        )
                    )
            conn.execute(insert(QueryRow), queries)
            conn.execute(insert(QueryNodeRow), links)
            conn.execute(insert(ResponseRow), responses)
            conn.execute(insert(JudgmentRow), judgments)
            print(
                f"  inserted {stop:,}/{n_queries:,} queries ({len(MODELS) * stop:,} judgments) in {time.perf_counter() - t0:.0f} s",
                flush=True,
            )
    store.engine.dispose()


def _ms(fn, reps: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(reps):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _json(value) -> str:  # type: ignore[no-untyped-def]
    import plotly.io as pio

    if hasattr(value, "to_plotly_json") and hasattr(value, "layout"):
        return pio.to_json(value)
    if hasattr(value, "to_plotly_json"):
        return json.dumps(
            value.to_plotly_json(),
            default=lambda o: o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o),
        )
    return json.dumps(value, default=str)


def time_callbacks(url: str, reps: int) -> tuple[list[tuple[str, float, float, float]], float]:
    from judgebench.dashboard import labels as lab
    from judgebench.dashboard.app import create_app, render_page
    from judgebench.dashboard.components import records
    from judgebench.dashboard.views import (
        compare,
        drilldown,
        judge_health,
        overview,
        runs,
        shapes,
        strengths,
    )
    from judgebench.dashboard.views import taxonomy_map as tmap
    from judgebench.db import queries as q

    # first page: start-up, shell, layout, the Overview page and its callback
    t = time.perf_counter()
    app = create_app(url)
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    ctx = app.jb_context
    views = app.jb_views
    by_id = {v.id: v for v in views}
    judge = q.default_judge(ctx.store)
    _json(render_page(ctx, by_id, views, "/overview", ""))
    board, domains, table = overview.overview_outputs(ctx, judge, None)
    _json(board), _json(domains), _json(records(table))
    first_page_ms = (time.perf_counter() - t) * 1000

    models = q.list_models(ctx.store)
    nodes = q.taxonomy_nodes(ctx.store)
    leaves = list(nodes.loc[~nodes["node_id"].isin(nodes["parent_id"].dropna()), "node_id"])
    mids = list(nodes.loc[nodes["depth"] == 2, "node_id"])
    domains = list(nodes.loc[nodes["depth"] == 1, "node_id"])
    rng = random.Random(1)
    picks = [rng.choice(leaves) for _ in range(reps)]
    any_nodes = [rng.choice(leaves + mids + domains) for _ in range(reps)]
    sample_queries = q.node_queries(ctx.store, leaves[0], limit=50)["query_id"].tolist()

    def page(view_id):  # type: ignore[no-untyped-def]
        return lambda i: _json(
            render_page(ctx, by_id, views, f"/{view_id}", f"?node={any_nodes[i]}")
        )

    cases = {
        **{f"page /{v.id}": page(v.id) for v in views},
        "overview: figures + table": lambda i: (
            lambda out: [_json(out[0]), _json(out[1]), _json(records(out[2]))]
        )(overview.overview_outputs(ctx, judge, None)),
        "taxonomy: sunburst + treemap": lambda i: (
            lambda f: [
                _json(tmap.sunburst_figure(f, models[i % 5])),
                _json(tmap.treemap_figure(f, models[i % 5])),
            ]
        )(tmap.map_frame(ctx, judge, None, models[i % 5], "score" if i % 2 else "rank")),
        "strengths: findings + evidence": lambda i: (
            lambda f: [
                _json(strengths.gap_figure(f, models[i % 5])),
                _json(records(strengths.findings_table(ctx, f, models[i % 5], judge))),
            ]
        )(strengths.findings(ctx, models[i % 5], judge, None, 1)),
        "strengths: failure modes": lambda i: _json(
            records(strengths.failure_mode_table(ctx, models[i % 5], judge, None))
        ),
        "compare: diff + radar": lambda i: [
            _json(compare.difference_figure(ctx, models[:3], judge, None, 1 + i % 2)),
            _json(compare.radar_figure(ctx, models[:3], judge, None)),
        ],
        "compare: difference report": lambda i: _json(
            records(
                compare.difference_report(ctx, [models[i % 5], models[(i + 1) % 5]], judge, None)
            )
        ),
        "compare: trend + regressions": lambda i: [
            _json(compare.trend_figure(ctx, models, judge, None)),
            _json(records(compare.regressions(ctx, judge, None))),
        ],
        "drilldown: node queries": lambda i: _json(
            records(drilldown.queries_table(ctx, any_nodes[i], judge))
        ),
        "drilldown: leaf queries": lambda i: _json(
            records(drilldown.queries_table(ctx, picks[i], judge))
        ),
        "drilldown: query detail": lambda i: _json(
            drilldown.query_panel(ctx, sample_queries[i % len(sample_queries)])
        ),
        "judges: table + figures": lambda i: [
            _json(records(judge_health.health_table(ctx, None))),
            _json(judge_health.rates_figure(ctx, None)),
            _json(judge_health.distribution_figure(ctx)),
        ],
        "shapes: table + figure": lambda i: (
            lambda t: [_json(records(t)), _json(shapes.shape_figure(ctx, judge, t)[0])]
        )(shapes.shape_table(ctx, judge, None)),
        "runs: table + run over run": lambda i: [
            _json(records(runs.runs_table(ctx))),
            _json(records(runs.regression_table(ctx, judge, None))),
        ],
        "labelling: stratified sample": lambda i: len(
            lab.sample_items(ctx.store, judge, 20, seed=i)
        ),
        "labelling: agreement": lambda i: lab.agreement(ctx.store, judge),
        "export: figure as HTML": lambda i: len(
            __import__("judgebench.dashboard.app", fromlist=["export_html"]).export_html(
                overview.leaderboard_figure(ctx, judge, None).to_plotly_json(), "x"
            )["content"]
        ),
    }
    rows = []
    for name, fn in cases.items():
        fn(0)  # warm (imports, caches)
        times = _ms(fn, reps)
        p95 = float(np.percentile(times, 95))
        rows.append((name, statistics.median(times), p95, max(times)))
    return rows, first_page_ms


def refresh_cost(store, total: float | None) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds the bootstrap part of a refresh takes (per-query score table + stored
    ``summary_report`` tables), and the rest of the refresh (the baseline: sums only).
    ``total``: the full refresh just measured (None: the summary was fresh, rebuild it)."""
    from judgebench.db import queries as q

    if total is None:
        t = time.perf_counter()
        q.refresh_summary(store, force=True)
        total = time.perf_counter() - t
    with store.engine.connect() as conn:  # redo the bootstrap part alone, then roll it back
        trans = conn.begin()
        t = time.perf_counter()
        for table in (q._QS, q._NB):
            conn.execute(table.delete())
        q._fill_query_scores(store, conn, any_reused=False)
        q._fill_node_boot(conn, q.current_version(conn))
        boot = time.perf_counter() - t
        trans.rollback()
    return boot, max(total - boot, 1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--queries", type=int, default=200_000)
    parser.add_argument(
        "--db", default=None, help="store path (default: .tmp/dashboard_scale_<N>.db)"
    )
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument(
        "--rebuild", action="store_true", help="regenerate the store even if it exists"
    )
    parser.add_argument(
        "--no-refresh-cost",
        action="store_true",
        help="on a store already summarised, skip the forced rebuild that measures the refresh",
    )
    args = parser.parse_args(argv)
    path = Path(args.db or f".tmp/dashboard_scale_{args.queries}.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    if args.rebuild and path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    if not path.exists():
        print(
            f"building {path}: {args.queries:,} queries × {len(MODELS)} models = {args.queries * len(MODELS):,} judgments"
        )
        t = time.perf_counter()
        build(url, args.queries)
        print(f"built in {time.perf_counter() - t:.1f} s")
    from judgebench.db import Store
    from judgebench.db import queries as q

    store = Store(url)
    t = time.perf_counter()
    rebuilt = q.refresh_summary(store)
    refresh_s = time.perf_counter() - t
    print(f"summary refresh: {'rebuilt' if rebuilt else 'already fresh'} in {refresh_s:.2f} s")
    t = time.perf_counter()
    q.refresh_summary(store)
    print(f"staleness check on a fresh summary: {(time.perf_counter() - t) * 1000:.1f} ms")
    boot_s = None
    if rebuilt or not args.no_refresh_cost:
        boot_s, rest_s = refresh_cost(store, refresh_s if rebuilt else None)
        print(
            f"refresh cost of bootstrap CIs (per-query scores + summary_report table): {boot_s:.2f} s"
            f" on top of {rest_s:.2f} s for the sums (ratio {boot_s / rest_s:.2f})"
        )
    store.engine.dispose()
    rows, first_page_ms = time_callbacks(url, args.reps)
    print()
    print(f"{'callback':36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, p50, p95, worst in rows:
        flag = "" if p95 < 300 else "  << over 300 ms"
        print(f"{name:36} {p50:8.1f} {p95:8.1f} {worst:8.1f}{flag}")
    print()
    print(f"p95_ms: {max(r[2] for r in rows):.1f}")
    print(f"first_page_ms: {first_page_ms:.1f}")
    if boot_s is not None:
        print(f"refresh_bootstrap_s: {boot_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
