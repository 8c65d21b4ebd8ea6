"""Per judge shape: scores, verdicts, rankings or the reliability share, each as it should be read."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, html

from judgebench.dashboard.components import (
    PALETTE,
    ci_bar,
    empty_figure,
    figure_card,
    graph_id,
    model_label,
    style_figure,
    table_card,
    table_data,
    table_outputs,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.db import queries as q

# what each shape's number is, as the page names it
METRICS = {
    "pointwise": "mean score",
    "likelihood": "mean log-probability score",
    "listwise": "mean rank position (1 = ranked first, 0 = last)",
    "reliability": "share of responses judged reliable",
    "pairwise": "win rate (ties ½, Wilson CI)",
}


def shape_table(ctx: DashboardContext, judge: str | None, run_id: str | None) -> pd.DataFrame:
    """One row per model × (overall and each top-level node): the shape's number with its 95 %
    interval. Scores, positions and reliability: bootstrap over queries (the stored
    ``summary_report`` table); verdicts: win rate with a Wilson interval and the verdict counts."""
    columns = ["model", "node", "value", "ci_low", "ci_high", "n"]
    if not judge:
        return pd.DataFrame(columns=columns)
    shape = q.judge_shapes(ctx.store).get(judge, "pointwise")
    if shape == "pairwise":
        frame = q.domain_scores(ctx.store, ctx.filters(judge, run_id))
        frame = frame[frame["n_pair"] > 0]
        out = pd.DataFrame(
            {
                "model": frame["model"],
                "node": frame["node_id"].replace({q.ROOT: "overall"}),
                "value": frame["win_rate"],
                "ci_low": frame["win_low"],
                "ci_high": frame["win_high"],
                "n": frame["n_pair"],
            }
        )
        counts = q.verdict_counts(ctx.store, judge, run_id or None)
        overall = out[out["node"] == "overall"].merge(counts, on="model", how="left")
        return pd.concat([overall, out[out["node"] != "overall"]], ignore_index=True)
    key = q.reliability_key(judge) if shape == "reliability" else judge
    table = q.node_table(ctx.store, key, run_id or None)
    table = table[(table["node_id"] == q.BOOT_OVERALL) | ~table["node_id"].str.contains("/")]
    return pd.DataFrame(
        {
            "model": table["model"],
            "node": table["node_id"].replace({q.BOOT_OVERALL: "overall"}),
            "value": table["mean"],
            "ci_low": table["ci_low"],
            "ci_high": table["ci_high"],
            "n": table["count"],
        }
    ).reset_index(drop=True)


def shape_figure(
    ctx: DashboardContext, judge: str | None, table: pd.DataFrame
) -> tuple[go.Figure, str]:
    """The overall number per model, best first, with its interval; and what it is."""
    shape = q.judge_shapes(ctx.store).get(judge or "", "pointwise")
    metric = METRICS.get(shape, "mean score")
    overall = table[table["node"] == "overall"].sort_values("value")
    if overall.empty:
        return empty_figure("Pick one judge above: each shape is read its own way."), metric
    labels = overall["model"].map(model_label)
    fig = go.Figure()
    if shape == "pairwise" and "wins" in overall:
        for part, color in (("wins", PALETTE[2]), ("ties", "#9ca3af"), ("losses", PALETTE[1])):
            fig.add_trace(
                go.Bar(x=overall[part], y=labels, orientation="h", name=part, marker_color=color)
            )
        fig.update_layout(barmode="stack")
        fig.update_xaxes(title="decided comparisons (win rate and its CI in the table)")
    else:
        fig.add_trace(ci_bar(overall["value"], labels, overall["ci_low"], overall["ci_high"]))
        fig.update_xaxes(title=f"{metric} (95 % CI)")
    return style_figure(fig, height=max(260, 60 + 44 * len(overall))), metric


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    return html.Div(
        [
            html.Div(id="shape-what", className="jb-note"),
            figure_card("shape-overall", "Overall, per model"),
            table_card("Per top-level node", "shape-table"),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output("shape-what", "children"),
        Output(graph_id("shape-overall"), "figure"),
        *table_outputs("shape-table"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _update(judge, run_id):
        table = shape_table(ctx, judge, run_id)
        fig, metric = shape_figure(ctx, judge, table)
        shape = q.judge_shapes(ctx.store).get(judge or "", "–")
        what = f"Judge {judge or '(pick one)'} · shape {shape} · {metric}"
        return what, fig, *table_data(table)


VIEW = View(
    id="shapes",
    title="Judge shapes",
    layout=layout,
    register=register,
    order=62,
    description="Each judge read by its shape: scores and log-probabilities with bootstrap CIs, pairwise verdicts (wins, ties, losses), listwise rank positions, and the share of responses a reliability judge trusts.",
)
