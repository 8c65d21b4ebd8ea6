"""Judge health: invalid rates, position consistency, agreement with human labels, score spread."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, html
from plotly.subplots import make_subplots

from judgebench.dashboard.components import (
    PALETTE,
    data_table,
    empty_figure,
    figure_card,
    graph_id,
    model_label,
    style_figure,
    table_card,
    table_data,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.db import queries as q


def health_table(ctx: DashboardContext, run_id: str | None) -> pd.DataFrame:
    ctx.ensure()
    frame = q.judge_health(ctx.store, run_id or None)
    return pd.DataFrame(
        {
            "judge": frame["judge"] + frame["human"].map({True: " (human labels)", False: ""}),
            "judge model": frame["judge_model"].map(model_label),
            "judgments": frame["n"],
            "invalid rate": frame["invalid_rate"],
            "error rate": frame["error_rate"],
            "pairwise": frame["n_pairwise"],
            "position consistency": frame["position_consistency"].where(~frame["human"]),
            "injection flags": frame["n_injection"],
            "cost (USD)": frame["cost"],
        }
    )


def _pct(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.1%}"


def rates_figure(ctx: DashboardContext, run_id: str | None) -> go.Figure:
    ctx.ensure()
    frame = q.judge_health(ctx.store, run_id or None)
    frame = frame[~frame["human"]]
    if frame.empty:
        return empty_figure("No machine judgments yet.")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=frame["judge"],
            y=frame["invalid_rate"] + frame["error_rate"],
            name="invalid or error",
            marker_color=PALETTE[1],
            text=[_pct(v) for v in frame["invalid_rate"] + frame["error_rate"]],
            textposition="outside",
        )
    )
    pc = frame["position_consistency"]
    fig.add_trace(
        go.Bar(
            x=frame["judge"],
            y=pc,
            name="position consistency (pairwise)",
            marker_color=PALETTE[0],
            text=[_pct(v) for v in pc],
            textposition="outside",
        )
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.12])
    fig.update_layout(barmode="group")
    return style_figure(fig, height=360)


def distribution_figure(ctx: DashboardContext) -> go.Figure:
    ctx.ensure()
    hist = q.score_distribution(ctx.store)
    if hist.empty:
        return empty_figure("No scored judgments (pairwise judges give verdicts, not scores).")
    judges = list(dict.fromkeys(hist["judge"]))
    fig = make_subplots(rows=1, cols=len(judges), subplot_titles=judges, shared_yaxes=False)
    for i, judge in enumerate(judges, start=1):
        g = hist[hist["judge"] == judge]
        share = g["n"] / g["n"].sum()
        fig.add_trace(
            go.Bar(
                x=g["score"],
                y=share,
                marker_color=PALETTE[(i - 1) % len(PALETTE)],
                name=judge,
                showlegend=False,
                hovertemplate="score %{x}: %{y:.1%}<extra></extra>",
            ),
            row=1,
            col=i,
        )
        fig.update_yaxes(tickformat=".1%", row=1, col=i)
        fig.update_xaxes(title="score", row=1, col=i)
    return style_figure(fig, height=340)


def agreement_table(ctx: DashboardContext) -> pd.DataFrame:
    ctx.ensure()
    frame = q.human_agreement(ctx.store)
    return frame.rename(
        columns={
            "human_source": "human labels",
            "accuracy_no_ties": "accuracy without ties",
            "spearman": "Spearman ρ",
        }
    )


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    agreement = agreement_table(ctx)
    return html.Div(
        [
            table_card("Judges", "jh-table"),
            html.Div(
                [
                    figure_card("jh-rates", "Invalid rate and position consistency"),
                    figure_card("jh-dist", "Score distribution per judge"),
                ],
                className="jb-grid-2",
            ),
            html.Div(
                [
                    html.H4("Agreement with human labels"),
                    data_table("jh-agreement", agreement)
                    if len(agreement)
                    else html.P(
                        "No human labels imported. `judgebench import` a labelled set (e.g. LLMBar, PandaLM); its judge name marks it as a human source.",
                        className="jb-muted",
                    ),
                ],
                className="jb-card",
            ),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output("jh-table", "data"),
        Output("jh-table", "columns"),
        Output(graph_id("jh-rates"), "figure"),
        Output(graph_id("jh-dist"), "figure"),
        Input("filter-run", "value"),
    )
    def _update(run_id):
        table = health_table(ctx, run_id)
        return (
            *table_data(table),
            rates_figure(ctx, run_id),
            distribution_figure(ctx),
        )


VIEW = View(
    id="judges",
    title="Judge health",
    layout=layout,
    register=register,
    order=60,
    description="Can the judges be trusted? Invalid replies, position bias, agreement with people, and how they spread their scores.",
)
