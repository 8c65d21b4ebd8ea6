"""Taxonomy map: sunburst and treemap sized by query count, coloured by one model's standing."""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dcc, html, no_update

from judgebench.dashboard.components import (
    DIVERGING,
    controls,
    empty_figure,
    figure_card,
    graph_id,
    labelled,
    model_label,
    style_figure,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.dashboard.views._common import node_from_key, node_key
from judgebench.db import queries as q


def map_frame(
    ctx: DashboardContext,
    judge: str | None,
    run_id: str | None,
    model: str | None,
    metric: str = "score",
) -> pd.DataFrame:
    """One row per node: tree structure, size, and the colour value for ``model``.

    ``score``: the model's value minus the mean of all models at that node (positive = better
    than the field). ``rank``: the model's rank there (1 = best).
    """
    nodes = q.taxonomy_nodes(ctx.store)
    scores = q.node_scores(ctx.store, ctx.filters(judge, run_id))
    field = scores.groupby("node_id")["value"].agg(["mean", "count"])
    mine = (
        scores[scores["model"] == model].set_index("node_id")
        if model
        else scores.iloc[0:0].set_index("node_id")
    )
    frame = nodes.copy()
    frame["key"] = frame["node_id"].map(node_key)
    frame["parent_key"] = [
        ("" if d == 0 else node_key(p))
        for p, d in zip(frame["parent_id"], frame["depth"], strict=True)
    ]
    frame["value"] = frame["node_id"].map(mine["value"]) if len(mine) else np.nan
    frame["rank"] = frame["node_id"].map(mine["rank"]) if len(mine) else np.nan
    frame["n_models"] = frame["node_id"].map(field["count"]).fillna(0)
    frame["field_mean"] = frame["node_id"].map(field["mean"])
    frame["advantage"] = frame["value"] - frame["field_mean"]
    frame["color"] = frame["advantage"] if metric == "score" else frame["rank"]
    # sizes: leaves by their queries, parents as the sum of children (plotly's "total" mode)
    children = frame.groupby("parent_key")["key"].apply(list).to_dict()
    own = dict(zip(frame["key"], frame["n_queries"].fillna(0).astype(float), strict=True))
    size: dict[str, float] = {}

    def total(key: str) -> float:
        if key not in size:
            kids = children.get(key, [])
            size[key] = sum(total(k) for k in kids) if kids else max(own.get(key, 0.0), 0.0)
        return size[key]

    frame["size"] = [total(k) for k in frame["key"]]
    return frame[frame["size"] > 0].reset_index(drop=True)


def _hover(frame: pd.DataFrame, model: str | None) -> list[str]:
    out = []
    for r in frame.itertuples():
        if np.isnan(r.value):
            standing = f"{model_label(model)}: no judgments here" if model else "pick a model"
        else:
            standing = f"{model_label(model)}: {r.value:,.3g} (field {r.field_mean:,.3g}), rank {int(r.rank)} of {int(r.n_models)}"
        out.append(
            f"<b>{r.name}</b><br>{int(r.n_queries):,} queries<br>{standing}<br><i>click to drill down</i>"
        )
    return out


def _marker(frame: pd.DataFrame, metric: str) -> dict:
    color = frame["color"]
    if metric == "score":
        span = float(np.nanmax(np.abs(color))) if color.notna().any() else 1.0
        return dict(
            colors=color.fillna(0),
            colorscale=DIVERGING,
            cmid=0,
            cmin=-span or -1,
            cmax=span or 1,
            colorbar=dict(title=dict(text="vs field", side="right"), thickness=12),
        )
    n = max(float(frame["n_models"].max() or 1), 2.0)
    return dict(
        colors=color.fillna((n + 1) / 2),
        colorscale=DIVERGING,
        reversescale=True,
        cmin=1,
        cmax=n,
        cmid=(n + 1) / 2,
        colorbar=dict(
            title=dict(text="rank", side="right"), thickness=12, tickvals=list(range(1, int(n) + 1))
        ),
    )


def sunburst_figure(frame: pd.DataFrame, model: str | None, metric: str = "score") -> go.Figure:
    if frame.empty:
        return empty_figure("No queries are assigned to taxonomy nodes yet.")
    fig = go.Figure(
        go.Sunburst(
            ids=frame["key"],
            labels=frame["name"],
            parents=frame["parent_key"],
            values=frame["size"],
            branchvalues="total",
            marker=_marker(frame, metric),
            hovertext=_hover(frame, model),
            hoverinfo="text",
            maxdepth=3,
            insidetextorientation="radial",
        )
    )
    return style_figure(fig, height=560)


def treemap_figure(frame: pd.DataFrame, model: str | None, metric: str = "score") -> go.Figure:
    if frame.empty:
        return empty_figure("No queries are assigned to taxonomy nodes yet.")
    fig = go.Figure(
        go.Treemap(
            ids=frame["key"],
            labels=frame["name"],
            parents=frame["parent_key"],
            values=frame["size"],
            branchvalues="total",
            marker=_marker(frame, metric),
            hovertext=_hover(frame, model),
            hoverinfo="text",
            maxdepth=3,
            tiling=dict(pad=2),
            textfont=dict(size=13),
        )
    )
    return style_figure(fig, height=560)


def drilldown_href(click: dict | None) -> str | None:
    """The drill-down address for a clicked node, or None when nothing usable was clicked."""
    points = (click or {}).get("points") or []
    if not points or "id" not in points[0]:
        return None
    return "/drilldown?" + urlencode({"node": node_from_key(points[0]["id"])})


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    models = q.list_models(ctx.store)
    return html.Div(
        [
            controls(
                labelled(
                    "Model",
                    dcc.Dropdown(
                        id="map-model",
                        options=[{"label": model_label(m), "value": m} for m in models],
                        value=params.get("model") or (models[0] if models else None),
                        clearable=False,
                    ),
                ),
                labelled(
                    "Colour by",
                    dcc.RadioItems(
                        id="map-metric",
                        options=[
                            {"label": " score vs the other models", "value": "score"},
                            {"label": " rank among models", "value": "rank"},
                        ],
                        value="score",
                        inline=True,
                    ),
                ),
            ),
            html.Div(
                [
                    figure_card(
                        "map-sunburst",
                        "Sunburst",
                        note="Size = queries; blue = better than the other models, red = worse. Click a node to drill down.",
                    ),
                    figure_card("map-treemap", "Treemap"),
                ],
                className="jb-grid-2",
            ),
        ]
    )


def register(app, ctx: DashboardContext) -> None:  # type: ignore[no-untyped-def]
    @app.callback(
        Output(graph_id("map-sunburst"), "figure"),
        Output(graph_id("map-treemap"), "figure"),
        Input("map-model", "value"),
        Input("map-metric", "value"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _update(model, metric, judge, run_id):  # type: ignore[no-untyped-def]
        frame = map_frame(ctx, judge, run_id, model, metric)
        return sunburst_figure(frame, model, metric), treemap_figure(frame, model, metric)

    @app.callback(
        Output("url", "href", allow_duplicate=True),
        Input(graph_id("map-sunburst"), "clickData"),
        Input(graph_id("map-treemap"), "clickData"),
        prevent_initial_call=True,
    )
    def _drill(sun_click, tree_click):  # type: ignore[no-untyped-def]
        import dash

        trigger = dash.callback_context.triggered_id
        click = (
            tree_click
            if isinstance(trigger, dict) and trigger.get("index") == "map-treemap"
            else sun_click
        )
        return drilldown_href(click) or no_update


VIEW = View(
    id="taxonomy",
    title="Taxonomy map",
    layout=layout,
    register=register,
    order=20,
    description="Where in the taxonomy a model is strong or weak. Pick a model; click any node to see its queries.",
)
