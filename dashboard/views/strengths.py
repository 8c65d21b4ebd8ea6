"""Strengths & weaknesses of one model: node rank vs overall rank (METHODS §9), CI-separated."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from judgebench.analysis import failure_modes, strengths_weaknesses
from judgebench.analysis.aggregate import OVERALL
from judgebench.analysis.feedback import SUMMARY_BOOT, summary_threshold
from judgebench.dashboard.components import (
    PALETTE,
    controls,
    data_table,
    empty_figure,
    figure_card,
    graph_id,
    labelled,
    model_label,
    style_figure,
    table_card,
    table_data,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.dashboard.views._common import (
    analysis_table,
    confident_by_node,
    node_label,
    parents_of,
)
from judgebench.db import queries as q
from judgebench.jobs.summary import TOP

PAPER_T = 3
MIN_COUNT = 5  # the analysis library's default: fewer scored queries make no finding
FINDING_COLUMNS = [
    "node_id",
    "node",
    "kind",
    "node_rank",
    "overall_rank",
    "gap",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "separated",
    "versus",
]


def default_threshold(n_models: int) -> int:
    """The CLI summary's rank gap T (``analysis.summary_threshold``)."""
    return summary_threshold(n_models)


def run_models(ctx: DashboardContext, run_id: str | None) -> list[str]:
    """The models of a run (all models for all runs): T depends on how many there are."""
    return q.list_models(ctx.store, run_id or None)


def findings(
    ctx: DashboardContext,
    model: str,
    judge: str | None,
    run_id: str | None,
    threshold: int | None = None,
) -> pd.DataFrame:
    """Strengths and weaknesses of ``model`` (METHODS §9), from the same table and rule as the
    CLI summary: ``strengths_weaknesses`` of the stored ``summary_report`` table of this judge
    and run (bootstrap CIs over queries). *separated* findings are exactly the CLI's (in the
    same order); unseparated gaps are kept, drawn pale. ``threshold`` defaults to the CLI's T.
    """
    if not judge:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    table = q.node_table(ctx.store, judge, run_id or None)
    if table.empty or model not in set(table.loc[table["node_id"] == OVERALL, "model"]):
        return pd.DataFrame(columns=FINDING_COLUMNS)
    if threshold is None:
        threshold = default_threshold(len(run_models(ctx, run_id)))
    found = strengths_weaknesses(
        table,
        threshold=threshold,
        min_count=MIN_COUNT,
        require_separation=False,
        evidence=0,
        models=[model],
    )
    if found.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    names = dict(zip(*_names(ctx), strict=True))
    out = pd.DataFrame(
        {
            "node_id": found["node_id"],
            "node": [names.get(n, node_label(n)) for n in found["node_id"]],
            "kind": found["kind"],
            "node_rank": found["node_rank"],
            "overall_rank": found["overall_rank"],
            "gap": found["gap"],
            "mean": found["mean"],
            "ci_low": found["ci_low"],
            "ci_high": found["ci_high"],
            "n": found["count"],
            "separated": found["separated_from"].map(bool),
            "versus": found["separated_from"].map(", ".join),
        }
    )
    # separated first, each group in the library's order (|gap|, then node order): the CLI's
    # top strengths are the first separated ones
    out = out.sort_values("separated", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def cli_findings(found: pd.DataFrame, kind: str, top: int = TOP) -> list[str]:
    """What the CLI summary lists for this kind: the first ``top`` separated findings."""
    mine = found[(found["kind"] == kind) & found["separated"]]
    return mine["node_id"].head(top).tolist()


def failure_mode_table(
    ctx: DashboardContext, model: str, judge: str | None, run_id: str | None
) -> pd.DataFrame:
    """Per large node (≥ 5 children): is the model's standing uniform below it (systematic) or
    driven by a few children (occasional)? From the analysis library."""
    scores = q.node_scores(ctx.store, ctx.filters(judge, run_id))
    table = analysis_table(scores)
    columns = [
        "node",
        "kind",
        "node rank",
        "children",
        "spread of child rank gaps",
        "outlier child",
        "outlier gap",
        "confident",
    ]
    if model not in set(table["model"]):
        return pd.DataFrame(columns=columns)
    nodes = q.taxonomy_nodes(ctx.store)
    # ranks are columns of the table, so the chosen model's rows alone give its failure modes
    modes = failure_modes(table[table["model"] == model], parents_of(nodes))
    return pd.DataFrame(
        {
            "node": modes["node_id"],
            "kind": modes["kind"],
            "node rank": modes["node_rank"],
            "children": modes["n_children"],
            "spread of child rank gaps": modes["spread"],
            "outlier child": modes["outlier_child"],
            "outlier gap": modes["outlier_gap"],
            "confident": modes["node_id"].map(confident_by_node(nodes)),
        },
        columns=columns,
    )


def _names(ctx: DashboardContext) -> tuple[list[str], list[str]]:
    nodes = q.taxonomy_nodes(ctx.store)
    return list(nodes["node_id"]), list(nodes["name"])


def source_note(
    ctx: DashboardContext, judge: str | None, run_id: str | None, threshold: int
) -> str:
    """Which judge and run the findings come from, and the rule: the page says what it shows."""
    if not judge:
        return "Pick one judge above: strengths and weaknesses compare models on one judge's scale."
    runs = q.list_runs(ctx.store)
    names = dict(zip(runs["id"], runs["name"], strict=True))
    run = f"run {names.get(run_id, run_id)} ({run_id[:12]})" if run_id else "all runs"
    return (
        f"Judge {judge} · {run} · rank gap T = {threshold} · {SUMMARY_BOOT} bootstrap replicates "
        "over queries. With the default T and a run picked, the lines below are what "
        "`judgebench run` prints in its summary for that run (the same table and rule)."
    )


def gap_figure(found: pd.DataFrame, model: str) -> go.Figure:
    if found.empty:
        return empty_figure(f"No node where {model_label(model)} ranks far from its overall rank.")
    frame = found.head(25).iloc[::-1]
    colors = [
        (PALETTE[1] if k == "weakness" else PALETTE[0])
        if s
        else ("#fca5a5" if k == "weakness" else "#93c5fd")
        for k, s in zip(frame["kind"], frame["separated"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=-frame["gap"],
            y=[f"{n}  ({i})" for n, i in zip(frame["node"], frame["node_id"], strict=True)],
            orientation="h",
            marker_color=colors,
            customdata=frame[["node_rank", "overall_rank", "mean", "ci_low", "ci_high"]].to_numpy(),
            hovertemplate="%{y}<br>rank here %{customdata[0]} vs overall %{customdata[1]}<br>mean %{customdata[2]:.3g} [%{customdata[3]:.3g}, %{customdata[4]:.3g}]<extra></extra>",
        )
    )
    fig.add_vline(x=0, line_color="#9ca3af")
    fig.update_xaxes(
        title="ranks better (+) or worse (−) than overall · pale = not separated by the CIs",
        dtick=1,
    )
    return style_figure(fig, height=max(300, 70 + 26 * len(frame)))


def findings_table(
    ctx: DashboardContext,
    found: pd.DataFrame,
    model: str,
    judge: str | None,
    max_evidence: int = TOP,
) -> pd.DataFrame:
    """Findings with their CI and, for weaknesses, the worst-scored queries as evidence."""
    if found.empty:
        return pd.DataFrame(
            columns=[
                "kind",
                "node",
                "rank here",
                "overall rank",
                "mean",
                "95% CI",
                "n",
                "confident",
                "separated",
                "beaten by / beats",
                "worst queries",
            ]
        )
    evidence = []
    shown = 0  # weaknesses given evidence so far: the first max_evidence, as the CLI lists
    for row in found.itertuples():
        if row.kind == "weakness" and shown < max_evidence:
            shown += 1
            worst = q.worst_queries(
                ctx.store, row.node_id, model, ctx.filters(judge, None), limit=3
            )
            evidence.append(
                " | ".join(
                    f"{s:,.3g}: {t[:90]}"
                    for t, s in zip(worst["text"], worst["score"], strict=True)
                )
            )
        else:
            evidence.append("")
    return pd.DataFrame(
        {
            "kind": found["kind"],
            "node": found["node_id"],
            "rank here": found["node_rank"],
            "overall rank": found["overall_rank"],
            "mean": found["mean"],
            "95% CI": [
                f"[{lo:,.3g}, {hi:,.3g}]"
                for lo, hi in zip(found["ci_low"], found["ci_high"], strict=True)
            ],
            "n": found["n"],
            "confident": found["node_id"].map(confident_by_node(q.taxonomy_nodes(ctx.store))),
            "separated": found["separated"].map({True: "yes", False: "no"}),
            "beaten by / beats": found["versus"].map(
                lambda v: ", ".join(model_label(m) for m in v.split(", ")) if v else ""
            ),
            "worst queries": evidence,
        }
    )


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    models = q.list_models(ctx.store)
    t = default_threshold(len(models))
    return html.Div(
        [
            controls(
                labelled(
                    "Model",
                    dcc.Dropdown(
                        id="sw-model",
                        options=[{"label": model_label(m), "value": m} for m in models],
                        value=params.get("model") or (models[0] if models else None),
                        clearable=False,
                    ),
                ),
                labelled(
                    f"Rank gap T (paper: {PAPER_T})",
                    dcc.Slider(
                        id="sw-threshold", min=1, max=max(3, len(models) - 1), step=1, value=t
                    ),
                ),
            ),
            html.Div(id="sw-source", className="jb-note"),
            html.Div(
                [
                    html.Div(
                        [html.B("Strengths: "), html.Span(id="sw-strengths")],
                        className="jb-finding-line",
                    ),
                    html.Div(
                        [html.B("Weaknesses: "), html.Span(id="sw-weaknesses")],
                        className="jb-finding-line",
                    ),
                ],
                className="jb-card",
            ),
            figure_card(
                "sw-gaps",
                "Rank gap per node",
                note="Blue: strength, red: weakness; solid = the 95 % intervals separate it from a model on the other side.",
            ),
            table_card("Findings", "sw-table", page_size=12),
            html.Div(
                [
                    html.H4(
                        "Failure modes: systematic (the same in every child) or occasional (a few children)"
                    ),
                    data_table("sw-modes", page_size=10),
                ],
                className="jb-card",
            ),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output("sw-source", "children"),
        Output("sw-strengths", "children"),
        Output("sw-weaknesses", "children"),
        Output(graph_id("sw-gaps"), "figure"),
        Output("sw-table", "data"),
        Output("sw-table", "columns"),
        Input("sw-model", "value"),
        Input("sw-threshold", "value"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _update(model, threshold, judge, run_id):
        found = findings(ctx, model, judge, run_id, int(threshold or 1))
        table = findings_table(ctx, found, model, judge)
        strengths = ", ".join(cli_findings(found, "strength")) or "none"
        weaknesses = ", ".join(cli_findings(found, "weakness")) or "none"
        return (
            source_note(ctx, judge, run_id, int(threshold or 1)),
            strengths,
            weaknesses,
            gap_figure(found, model),
            *table_data(table),
        )

    @app.callback(
        Output("sw-modes", "data"),
        Output("sw-modes", "columns"),
        Input("sw-model", "value"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _modes(model, judge, run_id):
        modes = failure_mode_table(ctx, model, judge, run_id)
        return table_data(modes)


VIEW = View(
    id="strengths",
    title="Strengths & weaknesses",
    layout=layout,
    register=register,
    order=30,
    description="Nodes where a model ranks well above or below its overall rank, with 95 % intervals and the worst queries behind each weakness.",
)
