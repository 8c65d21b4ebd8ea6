"""Router: what a router did with its requests — final models, stages tried, the judge's scores
against the cascade thresholds, cost and latency, and the latest decisions."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, html

from judgebench.dashboard.components import (
    PALETTE,
    empty_figure,
    empty_state,
    figure_card,
    graph_id,
    model_label,
    picker,
    style_figure,
    table_card,
    table_data,
    table_outputs,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.db.routing import routed_requests, router_names, routing_summary, stage_scores

HOW_TO = (
    "No routed requests in this store yet (`judgebench demo` fills the judging pages, not this "
    "one). Serve a router that records into this store — `store:` in router.yaml, then "
    "`judgebench router serve router.yaml` — or run `.venv/bin/python bench/router_load.py`, "
    "and reload this page (see docs/routing.md)."
)


def _summary_rows(ctx: DashboardContext, router: str | None) -> pd.DataFrame:
    return pd.DataFrame(routing_summary(ctx.store, router or None))


def summary_frame(
    ctx: DashboardContext, router: str | None, rows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``rows``: the summary when the caller already read it (one query per update)."""
    frame = (_summary_rows(ctx, router) if rows is None else rows).copy()
    if frame.empty:
        return frame
    frame["final_model"] = frame["final_model"].map(lambda m: model_label(m) if m else "(none)")
    frame["share"] = (frame["share"] * 100).round(1)
    frame["mean_latency_ms"] = (frame.pop("mean_latency_s") * 1000).round(1)
    frame["mean_stages"] = frame["mean_stages"].round(2)
    return frame.rename(columns={"share": "share %", "mean_cost": "mean cost (USD)"})


def share_figure(
    ctx: DashboardContext, router: str | None, rows: pd.DataFrame | None = None
) -> go.Figure:
    frame = _summary_rows(ctx, router) if rows is None else rows
    if frame.empty:
        return empty_figure("No routed requests.")
    fig = go.Figure()
    for i, (status, part) in enumerate(frame.groupby("status")):
        fig.add_trace(
            go.Bar(
                x=[model_label(m) if m else "(none)" for m in part["final_model"]],
                y=part["requests"],
                name=status,
                marker_color=PALETTE[i],
                customdata=part[["mean_stages", "mean_cost"]].to_numpy(),
                hovertemplate="%{x}: %{y} requests<br>mean stages %{customdata[0]:.2f}, "
                "mean cost %{customdata[1]:.6f} USD<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="requests answered by")
    return style_figure(fig, height=340)


def scores_figure(ctx: DashboardContext, router: str | None) -> go.Figure:
    frame = pd.DataFrame(stage_scores(ctx.store, router or None))
    if frame.empty or frame["score"].isna().all():
        return empty_figure("No judged stages (cascade routers only).")
    frame = frame.dropna(subset=["score"])
    fig = go.Figure()
    for i, (model, part) in enumerate(frame.groupby("model")):
        fig.add_trace(
            go.Histogram(
                x=part["score"],
                name=model_label(model),
                marker_color=PALETTE[i % len(PALETTE)],
                opacity=0.7,
                nbinsx=17,
            )
        )
        for t in part["threshold"].dropna().unique()[:3]:
            fig.add_vline(x=float(t), line_dash="dash", line_color=PALETTE[i % len(PALETTE)])
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="Meta-Ranking score of the stage's answer (dashed: its threshold)")
    return style_figure(fig, height=340)


def recent_frame(ctx: DashboardContext, router: str | None, limit: int = 200) -> pd.DataFrame:
    rows = routed_requests(ctx.store, router or None, limit)
    return pd.DataFrame(
        [
            {
                "time": r["created_at"].strftime("%Y-%m-%d %H:%M:%S"),
                "router": r["router"],
                "strategy": r["strategy"],
                "stages": " → ".join(
                    f"{s['model']} {s['status']}"
                    + (f" ({s['score']:.2f})" if s.get("score") is not None else "")
                    for s in r["stages"]
                ),
                "final model": model_label(r["final_model"]) if r["final_model"] else "",
                "status": r["status"] if not r["reason"] else f"{r['status']}: {r['reason'][:120]}",
                "cost (USD)": r["cost"],
                "latency ms": round(r["latency_s"] * 1000, 1),
                "query": r["query_preview"][:120],
            }
            for r in rows
        ]
    )


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    names = router_names(ctx.store)
    if not names:
        return empty_state(HOW_TO, title="Router")
    wanted = params.get("router")
    return html.Div(
        [
            picker(
                "Router",
                "router-name",
                [{"label": "all routers", "value": ""}] + [{"label": n, "value": n} for n in names],
                wanted if wanted in names else "",
            ),
            html.Div(
                [
                    figure_card(
                        "router-share",
                        "Who answered",
                        note="Requests per final model; stacked by outcome.",
                    ),
                    figure_card(
                        "router-scores",
                        "Judge scores per stage",
                        note="Cascade: each stage's Meta-Ranking score; at or above the dashed threshold the answer was accepted, below it escalated.",
                    ),
                ],
                className="jb-grid-2",
            ),
            table_card("Per final model", "router-summary"),
            table_card("Latest decisions", "router-recent"),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output(graph_id("router-share"), "figure"),
        Output(graph_id("router-scores"), "figure"),
        *table_outputs("router-summary"),
        *table_outputs("router-recent"),
        Input("router-name", "value"),
    )
    def _update(router):
        summary = _summary_rows(ctx, router)
        return (
            share_figure(ctx, router, summary),
            scores_figure(ctx, router),
            *table_data(summary_frame(ctx, router, summary)),
            *table_data(recent_frame(ctx, router)),
        )


VIEW = View(
    id="router",
    title="Router",
    layout=layout,
    register=register,
    order=95,
    description="What a router did: who answered, the judge's scores against the cascade thresholds, cost, latency, latest decisions.",
)
