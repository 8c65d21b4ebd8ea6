"""Overview: the leaderboard overall and per top-level domain, with CIs, cost and invalid rates."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, html

from judgebench.dashboard.components import (
    ci_bar,
    empty_figure,
    figure_card,
    graph_id,
    model_color,
    style_figure,
    table_card,
    table_data,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.dashboard.views._common import node_label, with_metric
from judgebench.db import queries as q


def leaderboard_figure(
    ctx: DashboardContext, judge: str | None, run_id: str | None, board: pd.DataFrame | None = None
) -> go.Figure:
    frame = board if board is not None else q.leaderboard(ctx.store, ctx.filters(judge, run_id))
    frame = frame[frame["n"] > 0]
    if frame.empty:
        return empty_figure("No judgments for this judge and run.")
    frame, metric = with_metric(frame)
    frame = frame.sort_values("value")
    fig = go.Figure(
        ci_bar(
            frame["value"],
            frame["label"],
            frame["lo"],
            frame["hi"],
            text=[f"{v:,.3g}" for v in frame["value"]],
            textposition="inside",
            insidetextanchor="start",
            textfont=dict(color="white"),
            customdata=frame[["n_scored", "n_pair", "invalid_rate"]].fillna(0).to_numpy(),
            hovertemplate="%{y}<br>"
            + metric
            + " %{x:.3g}<br>scored %{customdata[0]:,}, pairs %{customdata[1]:,}<br>invalid %{customdata[2]:.1%}<extra></extra>",
        )
    )
    fig.update_xaxes(
        title=f"{metric} (95 % CI)", rangemode="tozero" if metric.startswith("win") else "normal"
    )
    return style_figure(fig, height=max(260, 60 + 44 * len(frame)))


def domain_figure(
    ctx: DashboardContext,
    judge: str | None,
    run_id: str | None,
    domains: pd.DataFrame | None = None,
) -> go.Figure:
    frame = (
        domains if domains is not None else q.domain_scores(ctx.store, ctx.filters(judge, run_id))
    )
    frame = frame[(frame["node_id"] != q.ROOT) & (frame["n"] > 0)]
    if frame.empty:
        return empty_figure("No judgments in any top-level domain.")
    frame, metric = with_metric(frame)
    fig = go.Figure()
    all_models = q.list_models(ctx.store)
    for label, g in frame.sort_values("node_id").groupby("label", sort=True):
        fig.add_trace(
            go.Scatter(
                x=[node_label(n) for n in g["node_id"]],
                y=g["value"],
                mode="markers",
                name=label,
                marker=dict(
                    size=11, color=model_color(g["model"].iloc[0], all_models), symbol="circle"
                ),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=g["hi"] - g["value"],
                    arrayminus=g["value"] - g["lo"],
                    thickness=1.5,
                    width=4,
                ),
                hovertemplate=label + "<br>%{x}: %{y:.3g}<extra></extra>",
            )
        )
    fig.update_layout(scattermode="group", scattergap=0.6)
    fig.update_yaxes(title=f"{metric} (95 % CI)")
    return style_figure(fig, height=430)


def leaderboard_table(
    ctx: DashboardContext, judge: str | None, run_id: str | None, board: pd.DataFrame | None = None
) -> pd.DataFrame:
    frame = board if board is not None else q.leaderboard(ctx.store, ctx.filters(judge, run_id))
    frame = frame[(frame["n"] > 0) | frame["n_responses"].fillna(0).gt(0)]
    frame, metric = with_metric(frame)
    out = pd.DataFrame(
        {
            "rank": frame["rank"],
            "model": frame["label"],
            metric: frame["value"],
            "CI low": frame["lo"],
            "CI high": frame["hi"],
            "judgments": frame["n"],
            "invalid rate": frame["invalid_rate"],
            "responses": frame["n_responses"],
            "cost (USD)": frame["cost"],
            "cost / response": frame["cost_per_response"],
            "judging cost (USD)": frame["judge_cost"],
        }
    )
    return out.reset_index(drop=True)


def overview_outputs(
    ctx: DashboardContext, judge: str | None, run_id: str | None
) -> tuple[go.Figure, go.Figure, pd.DataFrame]:
    """The page's two figures and its table from one read of the summary."""
    filters = ctx.filters(judge, run_id)
    domains = q.domain_scores(ctx.store, filters)  # holds the root row too
    board = q.leaderboard(ctx.store, filters, scores=domains)
    return (
        leaderboard_figure(ctx, judge, run_id, board),
        domain_figure(ctx, judge, run_id, domains),
        leaderboard_table(ctx, judge, run_id, board),
    )


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    from judgebench.dashboard.views.runs import failed_banner

    return html.Div(
        [
            failed_banner(ctx),  # a failed scheduled run must be seen where people look first
            html.Div(
                [
                    figure_card("overview-leaderboard", "Leaderboard (all queries)"),
                    figure_card("overview-domains", "Per top-level domain"),
                ],
                className="jb-grid-2",
            ),
            table_card("Models", "overview-table"),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output(graph_id("overview-leaderboard"), "figure"),
        Output(graph_id("overview-domains"), "figure"),
        Output("overview-table", "data"),
        Output("overview-table", "columns"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _update(judge, run_id):
        board, domains, table = overview_outputs(ctx, judge, run_id)
        return board, domains, *table_data(table)


VIEW = View(
    id="overview",
    title="Overview",
    layout=layout,
    register=register,
    order=10,
    description="Who is best overall and in each domain. Bars show 95 % confidence intervals; pick a judge and a run above.",
)
