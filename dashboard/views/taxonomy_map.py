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
from judgebench.dashboard.views._common import confident_text, node_from_key, node_key
from judgebench.db import queries as q

MAX_RINGS = 3  # levels drawn at once; clicking a node zooms in, so every level is reachable


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
    return collapse_single_children(frame[frame["size"] > 0].reset_index(drop=True))


def collapse_single_children(frame: pd.DataFrame) -> pd.DataFrame:
    """Draw a chain of only children as one node: no ring with a single segment.

    Multi-dimensional taxonomies put a classification level ("Task Types", "Fields") between
    a domain and its leaves; where only one such level holds queries, the domain and the level
    become one node labelled "Coding › Task Types". The node keeps the upper key (stable for
    plotly) and ``target`` names the deepest node: the one its drill-down opens.
    """
    children: dict[str, list[str]] = {}
    for key, parent in zip(frame["key"], frame["parent_key"], strict=True):
        children.setdefault(parent, []).append(key)
    rows = {r["key"]: r for r in frame.to_dict("records")}  # plain dicts: .loc per node is slow
    keep: list[dict] = []

    def walk(key: str, parent_key: str) -> None:
        row = dict(rows[key])
        names, node = [str(row["name"])], key
        while len(children.get(node, [])) == 1:
            node = children[node][0]
            names.append(str(rows[node]["name"]))
        row.update(parent_key=parent_key, name=" › ".join(names), target=rows[node]["node_id"])
        keep.append(row)
        for child in children.get(node, []):
            walk(child, key)

    for top in children.get("", []):
        walk(top, "")
    return pd.DataFrame(keep, columns=[*frame.columns, "target"])


def _hover(frame: pd.DataFrame, model: str | None) -> list[str]:
    out = []
    for r in frame.itertuples():
        if np.isnan(r.value):
            standing = f"{model_label(model)}: no judgments here" if model else "pick a model"
        else:
            standing = f"{model_label(model)}: {r.value:,.3g} (field {r.field_mean:,.3g}), rank {int(r.rank)} of {int(r.n_models)}"
        out.append(
            f"<b>{r.name}</b><br>{int(r.n_queries):,} queries · {confident_text(r.n_confident, r.n_queries)}"
            f"<br>{standing}<br><i>click to zoom in (centre: back out)</i>"
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
            customdata=frame["target"],
            maxdepth=MAX_RINGS,
            insidetextorientation="radial",
        )
    )
    return _readable(style_figure(fig, height=560))


def _readable(fig: go.Figure) -> go.Figure:
    # at 1,000+ leaves most segments are too thin for a label: hide those rather than shrink
    # every label to an unreadable size (zooming in brings them back)
    fig.update_layout(uniformtext=dict(minsize=10, mode="hide"))
    return fig


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
            customdata=frame["target"],
            maxdepth=MAX_RINGS,
            tiling=dict(pad=2),
            textfont=dict(size=13),
        )
    )
    return _readable(style_figure(fig, height=560))


def clicked_node(click: dict | None) -> str | None:
    """The node a click on the sunburst or treemap picked (the deepest of a collapsed chain),
    or None when nothing usable was clicked."""
    points = (click or {}).get("points") or []
    if not points or "id" not in points[0]:
        return None
    target = points[0].get("customdata")
    if isinstance(target, list):  # plotly sends customdata of hierarchies as a list sometimes
        target = target[0] if target else None
    return str(target) if target is not None else node_from_key(points[0]["id"])


def drilldown_href(node_id: str | None) -> str | None:
    """The drill-down address of a node."""
    return None if node_id is None else "/drilldown?" + urlencode({"node": node_id})


def open_link(click: dict | None, names: dict[str, str]) -> tuple[str, str]:
    """The "open drill-down" action for the last clicked node: (href, text)."""
    node = clicked_node(click)
    if node is None:
        return "/drilldown", "Open the drill-down (click a node first to pick it)"
    label = names.get(node) or node or "All queries"
    return str(drilldown_href(node)), f"Open the drill-down for {label} ({node or 'all'})"


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
                dcc.Link(
                    "Open the drill-down (click a node first to pick it)",
                    id="map-open",
                    href="/drilldown",
                    className="jb-button",
                ),
                className="jb-controls",
            ),
            html.Div(
                [
                    figure_card(
                        "map-sunburst",
                        "Sunburst",
                        note="Size = queries; blue = better than the other models, red = worse. Hover a node for how many of its queries are confidently assigned. Click a node to zoom in (the centre zooms out); the link above opens its drill-down.",
                    ),
                    figure_card("map-treemap", "Treemap"),
                ],
                className="jb-grid-2",
            ),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output(graph_id("map-sunburst"), "figure"),
        Output(graph_id("map-treemap"), "figure"),
        Input("map-model", "value"),
        Input("map-metric", "value"),
        Input("filter-judge", "value"),
        Input("filter-run", "value"),
    )
    def _update(model, metric, judge, run_id):
        frame = map_frame(ctx, judge, run_id, model, metric)
        return sunburst_figure(frame, model, metric), treemap_figure(frame, model, metric)

    @app.callback(
        Output("map-open", "href"),
        Output("map-open", "children"),
        Input(graph_id("map-sunburst"), "clickData"),
        Input(graph_id("map-treemap"), "clickData"),
        prevent_initial_call=True,
    )
    def _pick(sun_click, tree_click):
        import dash

        trigger = dash.callback_context.triggered_id
        click = (
            tree_click
            if isinstance(trigger, dict) and trigger.get("index") == "map-treemap"
            else sun_click
        )
        if clicked_node(click) is None:
            return no_update, no_update
        nodes = q.taxonomy_nodes(ctx.store)
        return open_link(click, dict(zip(nodes["node_id"], nodes["name"], strict=True)))


VIEW = View(
    id="taxonomy",
    title="Taxonomy map",
    layout=layout,
    register=register,
    order=20,
    description="Where in the taxonomy a model is strong or weak, down to the leaves. Pick a model; click a node to zoom in, then open its drill-down.",
)
