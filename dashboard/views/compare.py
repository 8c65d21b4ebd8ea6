"""Compare models per node: differences with CIs, a radar over domains, the difference report,
and run-over-run trend lines for scheduled jobs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from judgebench.analysis import difference_report as analysis_difference_report
from judgebench.dashboard.components import (
    controls,
    data_table,
    empty_figure,
    figure_card,
    graph_id,
    labelled,
    model_color,
    model_label,
    style_figure,
    table_data,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.dashboard.views._common import analysis_table, node_label, with_metric
from judgebench.db import queries as q


def _scores(
    ctx: DashboardContext, models: list[str], judge, run_id, depth: int
) -> tuple[pd.DataFrame, str]:
    frame = q.node_scores(ctx.store, ctx.filters(judge, run_id, models), max_depth=depth)
    return with_metric(frame[frame["n"] > 0])


def difference_figure(
    ctx: DashboardContext, models: list[str], judge, run_id, depth: int = 1
) -> go.Figure:
    if not models or len(models) < 2:
        return empty_figure("Pick two or more models.")
    frame, metric = _scores(ctx, models, judge, run_id, depth)
    nodes = q.taxonomy_nodes(ctx.store)
    level = set(nodes.loc[nodes["depth"] == depth, "node_id"]) | {q.ROOT}
    frame = frame[frame["node_id"].isin(level)]
    ref = frame[frame["model"] == models[0]].set_index("node_id")
    if ref.empty:
        return empty_figure(f"No judgments for {model_label(models[0])}.")
    names = dict(zip(nodes["node_id"], nodes["name"], strict=True))
    fig = go.Figure()
    all_models = q.list_models(ctx.store)
    for other in models[1:]:
        mine = frame[frame["model"] == other].set_index("node_id")
        common = ref.index.intersection(mine.index)
        if common.empty:
            continue
        diff = mine.loc[common, "value"] - ref.loc[common, "value"]
        half_a = (ref.loc[common, "hi"] - ref.loc[common, "value"]).fillna(0)
        half_b = (mine.loc[common, "hi"] - mine.loc[common, "value"]).fillna(0)
        half = np.sqrt(half_a**2 + half_b**2)
        fig.add_trace(
            go.Bar(
                y=[node_label(n, names) for n in common],
                x=diff,
                orientation="h",
                name=f"{model_label(other)} − {model_label(models[0])}",
                marker_color=model_color(other, all_models),
                error_x=dict(type="data", array=half, color="#374151", thickness=1.2),
                hovertemplate="%{y}: %{x:+.3g}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line_color="#6b7280")
    fig.update_layout(barmode="group")
    fig.update_xaxes(title=f"difference in {metric} vs {model_label(models[0])} (95 % CI)")
    return style_figure(fig, height=max(320, 90 + 30 * len(level) * max(1, len(models) - 1)))


def radar_figure(ctx: DashboardContext, models: list[str], judge, run_id) -> go.Figure:
    if not models:
        return empty_figure("Pick models to compare.")
    frame, metric = _scores(ctx, models, judge, run_id, 1)
    frame = frame[frame["node_id"] != q.ROOT]
    if frame.empty:
        return empty_figure("No judgments in any top-level domain.")
    domains = sorted(frame["node_id"].unique())
    fig = go.Figure()
    all_models = q.list_models(ctx.store)
    for model in models:
        g = frame[frame["model"] == model].set_index("node_id").reindex(domains)
        fig.add_trace(
            go.Scatterpolar(
                r=list(g["value"]) + [g["value"].iloc[0]],
                theta=[node_label(d) for d in domains] + [node_label(domains[0])],
                name=model_label(model),
                line=dict(color=model_color(model, all_models), width=2),
                fill="toself",
                opacity=0.55,
            )
        )
    lo = float(frame["value"].min())
    fig.update_layout(
        polar=dict(
            radialaxis=dict(
                range=[lo - 0.05 * abs(lo), float(frame["value"].max()) * 1.02],
                angle=90,
                tickangle=90,
                tickfont=dict(size=10, color="#6b7280"),
            ),
            angularaxis=dict(tickfont=dict(size=13)),
        ),
        annotations=[
            dict(
                text=f"radius: {metric}",
                x=0,
                y=0,
                xref="paper",
                yref="paper",
                showarrow=False,
                font=dict(size=11, color="#6b7280"),
            )
        ],
    )
    return style_figure(fig, height=460)


def difference_report(
    ctx: DashboardContext, models: list[str], judge, run_id, top_fraction: float = 0.2
) -> pd.DataFrame:
    """Nodes where the chosen models' ranks (among all models) differ most: the analysis
    library's difference report (top 20 %, METHODS §9) on the SQL-aggregated table."""
    columns = [
        "node",
        "rank spread",
        "best",
        "worst",
        "separated",
        *[model_label(m) for m in models],
    ]
    if len(models) < 2:
        return pd.DataFrame(columns=columns)
    table = analysis_table(q.node_scores(ctx.store, ctx.filters(judge, run_id)))
    if not set(models) <= set(table["model"]):
        return pd.DataFrame(columns=columns)
    report = analysis_difference_report(table, models, fraction=top_fraction)
    if report.empty:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(
        {
            "node": report["node_id"],
            "rank spread": report["spread"],
            "best": report["best"].map(model_label),
            "worst": report["worst"].map(model_label),
            "separated": report["separated"].map({True: "yes", False: "no"}),
        }
    )
    for m in models:
        out[model_label(m)] = report[f"rank[{m}]"]
    return out


def trend_figure(
    ctx: DashboardContext, models: list[str], judge, job_name: str | None
) -> go.Figure:
    frame = q.run_trend(ctx.store, judge=judge or None, job_name=job_name or None)
    if models:
        frame = frame[frame["model"].isin(models)]
    frame = frame[frame["n"] > 0]
    if frame["run_id"].nunique() < 2:
        return empty_figure(
            "Run-over-run trends need two or more runs of a scheduled job (`judgebench schedule add JOB.yaml --cron …`)."
        )
    frame, metric = with_metric(frame)
    fig = go.Figure()
    all_models = q.list_models(ctx.store)
    for model, g in frame.groupby("model", sort=True):
        color = model_color(model, all_models)
        fig.add_trace(
            go.Scatter(
                x=g["started_at"],
                y=g["value"],
                mode="lines+markers",
                name=model_label(model),
                line=dict(color=color, width=2),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=g["hi"] - g["value"],
                    arrayminus=g["value"] - g["lo"],
                    thickness=1,
                    width=3,
                ),
                customdata=g[["name"]].to_numpy(),
                hovertemplate="%{customdata[0]}<br>%{y:.3g}<extra>"
                + model_label(model)
                + "</extra>",
            )
        )
    fig.update_yaxes(title=f"{metric} (95 % CI)")
    fig.update_xaxes(title="run started")
    return style_figure(fig, height=380)


def regressions(ctx: DashboardContext, judge, job_name: str | None) -> pd.DataFrame:
    """Per model: change from the previous run to the latest, flagged when the CIs separate."""
    frame = q.run_trend(ctx.store, judge=judge or None, job_name=job_name or None)
    frame = frame[frame["n"] > 0]
    cols = ["model", "previous run", "latest run", "previous", "latest", "change", "regression"]
    if frame["run_id"].nunique() < 2:
        return pd.DataFrame(columns=cols)
    frame, _ = with_metric(frame)
    rows = []
    for model, g in frame.sort_values("started_at").groupby("model"):
        if len(g) < 2:
            continue
        prev, last = g.iloc[-2], g.iloc[-1]
        rows.append(
            dict(
                model=model_label(model),
                **{
                    "previous run": prev["name"],
                    "latest run": last["name"],
                    "previous": prev["value"],
                    "latest": last["value"],
                    "change": last["value"] - prev["value"],
                    "regression": "yes" if last["hi"] < prev["lo"] else "no",
                },
            )
        )
    return pd.DataFrame(rows, columns=cols)


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    models = q.list_models(ctx.store)
    board = q.leaderboard(ctx.store, ctx.filters(q.default_judge(ctx.store)))
    picked = [m for m in board["model"] if m in models][:2] or models[:2]
    jobs = q.job_names(ctx.store)
    return html.Div(
        [
            controls(
                labelled(
                    "Models (first = reference)",
                    dcc.Dropdown(
                        id="cmp-models",
                        options=[{"label": model_label(m), "value": m} for m in models],
                        value=picked,
                        multi=True,
                    ),
                ),
                labelled(
                    "Level",
                    dcc.RadioItems(
                        id="cmp-depth",
                        options=[
                            {"label": " domains", "value": 1},
                            {"label": " sub-categories", "value": 2},
                        ],
                        value=1,
                        inline=True,
                    ),
                ),
            ),
            html.Div(
                [
                    figure_card("cmp-diff", "Difference per node"),
                    figure_card("cmp-radar", "Radar over domains"),
                ],
                className="jb-grid-2",
            ),
            html.Div(
                [
                    html.H4("Difference report: nodes where the ranks differ most (top 20 %)"),
                    data_table("cmp-report", page_size=10),
                ],
                className="jb-card",
            ),
            html.Div(
                [
                    controls(
                        labelled(
                            "Scheduled job",
                            dcc.Dropdown(
                                id="cmp-job",
                                options=[{"label": j, "value": j} for j in jobs],
                                value=jobs[0] if jobs else None,
                                placeholder="all runs",
                            ),
                        )
                    ),
                    figure_card("cmp-trend", "Run-over-run trend"),
                    html.H4("Latest run vs the one before"),
                    data_table("cmp-regressions", page_size=10),
                ],
                className="jb-card",
            ),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output(graph_id("cmp-diff"), "figure"),
        Output(graph_id("cmp-radar"), "figure"),
        Input("cmp-models", "value"),
        Input("cmp-depth", "value"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _update(models, depth, judge, run_id):
        models = list(models or [])
        return difference_figure(ctx, models, judge, run_id, int(depth or 1)), radar_figure(
            ctx, models, judge, run_id
        )

    @app.callback(
        Output("cmp-report", "data"),
        Output("cmp-report", "columns"),
        Input("cmp-models", "value"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _report(models, judge, run_id):
        report = difference_report(ctx, list(models or []), judge, run_id)
        return table_data(report)

    @app.callback(
        Output(graph_id("cmp-trend"), "figure"),
        Output("cmp-regressions", "data"),
        Output("cmp-regressions", "columns"),
        Input("cmp-models", "value"),
        Input("cmp-job", "value"),
        Input("filter-judge", "value"),
    )
    def _trend(models, job, judge):
        table = regressions(ctx, judge, job)
        return (
            trend_figure(ctx, list(models or []), judge, job),
            *table_data(table),
        )


VIEW = View(
    id="compare",
    title="Compare",
    layout=layout,
    register=register,
    order=40,
    description="Two or more models side by side, and how each moved between runs of a scheduled job.",
)
