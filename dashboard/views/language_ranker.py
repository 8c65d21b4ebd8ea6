"""Language Ranker: languages ranked by how close a model's states are to English, per layer too."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, html

from judgebench.dashboard.components import (
    DIVERGING,
    PALETTE,
    empty_figure,
    empty_state,
    figure_card,
    graph_id,
    picker,
    style_figure,
    table_card,
    table_data,
    table_outputs,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.db.probes import language_ranker_runs, language_ranker_scores
from judgebench.probes.ranker import format_layers

HOW_TO = (
    "No Language Ranker results in this store yet (`judgebench demo` fills the judging pages, "
    "not this one). Run for example\n\n"
    "`judgebench probe language-ranker --model minilm --corpus ../shared/data/ntrex128_subset/NTREX-128 "
    "--db <this store>`\n\nand reload this page (see docs/probes.md)."
)


def runs(ctx: DashboardContext) -> list[dict]:
    return language_ranker_runs(ctx.store)


def run_label(run: dict) -> str:
    settings = run["settings"]
    span = format_layers(settings.get("layers") or [])
    return f"{run['model']} · {run['corpus']} · {settings.get('pooling')} · layers {span} · {run['languages']} languages"


def ranking_frame(ctx: DashboardContext, run_id: str | None) -> pd.DataFrame:
    if not run_id:
        return pd.DataFrame()
    frame = pd.DataFrame(language_ranker_scores(ctx.store, run_id))
    if frame.empty:
        return frame
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.drop(columns=["layer"])


def ranking_figure(
    ctx: DashboardContext, run_id: str | None, frame: pd.DataFrame | None = None
) -> go.Figure:
    """``frame``: the run's ranking when the caller already read it (one query per update)."""
    frame = ranking_frame(ctx, run_id) if frame is None else frame
    if frame.empty:
        return empty_figure("Pick a run.")
    ordered = frame.iloc[::-1]  # best at the top of a horizontal bar chart
    labels = [
        f"{name} ({code})" if name != code else code
        for code, name in zip(ordered["language"], ordered["language_name"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=ordered["score"],
            y=labels,
            orientation="h",
            marker_color=PALETTE[0],
            error_x=dict(
                type="data",
                symmetric=False,
                array=ordered["ci_high"] - ordered["score"],
                arrayminus=ordered["score"] - ordered["ci_low"],
                color="#374151",
                thickness=1.2,
            ),
            customdata=ordered[["ci_low", "ci_high", "raw", "baseline"]].to_numpy(),
            hovertemplate="%{y}: %{x:.4f} [%{customdata[0]:.4f}, %{customdata[1]:.4f}]"
            "<br>raw cosine %{customdata[2]:.4f} − baseline %{customdata[3]:.4f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="score = cosine with English − mismatched-pair baseline (95 % CI)")
    return style_figure(fig, height=max(320, 18 * len(frame) + 80))


def heatmap_figure(ctx: DashboardContext, run_id: str | None) -> go.Figure:
    if not run_id:
        return empty_figure("Pick a run.")
    frame = pd.DataFrame(language_ranker_scores(ctx.store, run_id, layer=None))
    if frame.empty:
        return empty_figure("No scores.")
    order = frame[frame["layer"] == 0].sort_values("score", ascending=False)["language"].tolist()
    grid = (
        frame[frame["layer"] > 0]
        .pivot(index="language", columns="layer", values="score")
        .reindex(order)
    )
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[f"L{layer}" for layer in grid.columns],
            y=grid.index.tolist(),
            colorscale=DIVERGING,
            zmid=0,
            colorbar=dict(title="score"),
            hovertemplate="%{y}, layer %{x}: %{z:.4f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="layer (embeddings excluded)")
    return style_figure(fig, height=max(320, 14 * len(grid) + 100))


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    available = runs(ctx)
    if not available:
        return empty_state(HOW_TO, title="Language Ranker")
    wanted = params.get("run")
    value = wanted if any(r["id"] == wanted for r in available) else available[0]["id"]
    return html.Div(
        [
            picker(
                "Run",
                "lr-run",
                [{"label": run_label(r), "value": r["id"]} for r in available],
                value,
            ),
            html.Div(
                [
                    figure_card(
                        "lr-ranking",
                        "Languages ranked",
                        note="Cosine of the model's states for a sentence and its English source, minus the same for mismatched pairs (anisotropy), mean over the run's layers; bars show 95 % bootstrap intervals over pairs.",
                    ),
                    figure_card(
                        "lr-heatmap",
                        "Score per layer",
                        note="Rows in rank order; blue = closer to English than unrelated pairs.",
                    ),
                ],
                className="jb-grid-2",
            ),
            table_card("Scores", "lr-table", page_size=20),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output(graph_id("lr-ranking"), "figure"),
        Output(graph_id("lr-heatmap"), "figure"),
        *table_outputs("lr-table"),
        Input("lr-run", "value"),
    )
    def _update(run_id):
        ranking = ranking_frame(ctx, run_id)
        return (
            ranking_figure(ctx, run_id, ranking),
            heatmap_figure(ctx, run_id),
            *table_data(ranking),
        )


VIEW = View(
    id="language-ranker",
    title="Language Ranker",
    layout=layout,
    register=register,
    order=90,
    description="Which languages does a model represent like English? Ranked scores with CIs and a layer × language map.",
)
