"""Drill-down: node → its queries → every model's response → each judgment, in full."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from dash import Input, Output, State, dcc, html

from judgebench.dashboard.components import (
    controls,
    data_table,
    fmt,
    labelled,
    model_label,
    table_data,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.dashboard.views._common import confident_by_node, node_from_key, node_key
from judgebench.db import queries as q

QUERY_LIMIT = 50
FLAG_LABELS = {
    "invalid": "invalid",
    "error": "error",
    q.POSITION_FLAG: "position-inconsistent",
    "injection": "injection attempt",
}


def node_options(ctx: DashboardContext) -> list[dict[str, str]]:
    """Every node holding queries, indented by depth: "python  (52; confident: 37 of 52)"."""
    nodes = q.taxonomy_nodes(ctx.store)
    nodes = nodes[nodes["n_queries"] > 0]
    sure = confident_by_node(nodes)
    return [
        {
            "label": f"{'· ' * int(d)}{name}  ({int(n):,}; {sure[nid]})",
            "value": node_key(nid),
        }
        for nid, name, d, n in zip(
            nodes["node_id"], nodes["name"], nodes["depth"], nodes["n_queries"], strict=True
        )
    ]


def queries_table(ctx: DashboardContext, node_id: str | None, judge: str | None) -> pd.DataFrame:
    """The node's first queries with each model's mean score (columns named by model), or each
    model's win rate on the query for a verdict (pairwise) judge."""
    frame = q.node_queries(ctx.store, node_from_key(node_id), ctx.filters(judge), limit=QUERY_LIMIT)
    if frame.empty:
        return pd.DataFrame(columns=["query_id", "query"])
    frame = frame.rename(columns={"text": "query"})
    frame["query"] = frame["query"].str.slice(0, 160)
    return frame.rename(
        columns={m: _column_label(m) for m in frame.columns if m not in ("query_id", "query")}
    )


def _column_label(column: str) -> str:
    model = column.removesuffix(q.WIN_RATE_SUFFIX)
    return model_label(model) + (q.WIN_RATE_SUFFIX if model != column else "")


def _flags(judgment: dict[str, Any]) -> list[str]:
    flags = []
    if judgment["status"] in ("invalid", "error"):
        flags.append(judgment["status"])
    for f in judgment.get("flags") or []:
        label = next((v for k, v in FLAG_LABELS.items() if str(f).startswith(k)), str(f))
        flags.append(label)
    return flags


def verdict_badges(j: dict[str, Any], response_id: str) -> list[html.Span]:
    """A pairwise judgment seen from one of its two responses: winner, loser or tie, and
    position-inconsistent when the verdict flipped with the order. Never a score."""
    side = "A" if j["response_id"] == response_id else "B"
    badges = []
    if j["status"] == "ok" and j.get("verdict") in ("A", "B", "tie"):
        outcome = "tie" if j["verdict"] == "tie" else "winner" if j["verdict"] == side else "loser"
        badges.append(html.Span(outcome, className=f"jb-verdict jb-verdict-{outcome}"))
    if any(str(f).startswith(q.POSITION_FLAG) for f in j.get("flags") or []):
        badges.append(
            html.Span("position-inconsistent", className="jb-verdict jb-verdict-inconsistent")
        )
    return badges


def _decision(j: dict[str, Any], response_id: str) -> list[Any]:
    if j["kind"] == "pairwise":
        side = "A" if j["response_id"] == response_id else "B"
        a, b = model_label(j["model"] or "?"), model_label(j["model_b"] or "?")
        said = f"verdict {j['verdict']}" if j.get("verdict") else f"no decision ({j['reason']})"
        return [
            *verdict_badges(j, response_id),
            f"{said} · this response is {side} (A = {a}, B = {b})",
        ]
    if j["score"] is not None:
        return [f"score {fmt(j['score'], 1)}"]
    return [f"verdict {j['verdict']}" if j["verdict"] else f"no decision ({j['reason']})"]


def judgment_card(j: dict[str, Any], response_id: str) -> html.Div:
    decision = _decision(j, response_id)
    criteria = j.get("criteria") or []
    crit_table = (
        html.Table(
            [html.Tr([html.Th("criterion"), html.Th("weight"), html.Th("score"), html.Th("note")])]
            + [
                html.Tr(
                    [
                        html.Td(c.get("name")),
                        html.Td(fmt(c.get("weight"), 0)),
                        html.Td(fmt(c.get("score"), 1)),
                        html.Td(c.get("note") or c.get("description") or ""),
                    ]
                )
                for c in criteria
            ],
            className="jb-criteria",
        )
        if criteria
        else None
    )
    raw = j.get("raw_replies") or []
    return html.Div(
        [
            html.Div(
                [
                    html.B(f"{j['judge']}"),
                    html.Span(
                        f" · {j['kind']} · judge model {model_label(j['judge_model'])} · template {j['template_name']} ({j['template_hash'][:8]})",
                        className="jb-muted",
                    ),
                ]
                + [
                    html.Span(f, className=f"jb-flag jb-flag-{f.split()[0].replace('-', '_')}")
                    for f in _flags(j)
                ],
            ),
            html.Div(decision, className="jb-decision"),
            html.Div(f"Reason: {j['reason']}", className="jb-reason") if j.get("reason") else None,
            crit_table,
            html.P(j["rationale"], className="jb-rationale") if j.get("rationale") else None,
            html.Details(
                [html.Summary(f"raw judge repl{'y' if len(raw) == 1 else 'ies'} ({len(raw)})")]
                + [html.Pre(r if isinstance(r, str) else json.dumps(r)) for r in raw]
            )
            if raw
            else None,
        ],
        className="jb-judgment",
    )


def query_panel(ctx: DashboardContext, query_id: str | None) -> html.Div:
    if not query_id:
        return html.Div(
            "Select a query in the table to see every model's response and its judgments.",
            className="jb-muted",
        )
    detail = q.query_detail(ctx.store, query_id)
    if detail is None:
        return html.Div(f"Query {query_id} is not in the store.", className="jb-muted")
    blocks = []
    for r in detail["responses"]:
        blocks.append(
            html.Div(
                [
                    html.H4(
                        [
                            model_label(r["model"]),
                            html.Span(
                                f"  {'run ' + r['run_name'] + ' · ' if r.get('run_name') else ''}params {json.dumps(r['params'], sort_keys=True)} · cost {fmt(r['cost'], 5)} · {r['completion_tokens']} tokens"
                                + (f" · ERROR {r['error']}" if r["status"] != "ok" else ""),
                                className="jb-muted",
                            ),
                        ]
                    ),
                    html.Pre(r["text"] or "(no text)", className="jb-response"),
                    html.Div(
                        [judgment_card(j, r["id"]) for j in r["judgments"]]
                        or [html.Div("not judged", className="jb-muted")]
                    ),
                ],
                className="jb-response-block",
            )
        )
    unattached = [j for j in detail["judgments"] if not j["response_id"]]
    return html.Div(
        [
            html.H3("Query"),
            html.Pre(detail["text"], className="jb-query"),
            html.Div(
                f"nodes: {', '.join(detail['node_ids']) or '–'} · source: {detail['source']}",
                className="jb-muted",
            ),
            html.Details([html.Summary("reference answer"), html.Pre(detail["reference"])])
            if detail.get("reference")
            else None,
            html.H3(f"Responses ({len(detail['responses'])})"),
            *blocks,
            html.Div(
                [
                    html.H4("Judgments without a response"),
                    *[judgment_card(j, "") for j in unattached],
                ]
            )
            if unattached
            else None,
        ]
    )


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    node = node_key(params.get("node", q.ROOT))
    return html.Div(
        [
            controls(
                labelled(
                    "Taxonomy node",
                    dcc.Dropdown(
                        id="dd-node",
                        options=node_options(ctx),
                        value=node,
                        clearable=False,
                        style={"minWidth": "420px"},
                    ),
                )
            ),
            html.Div(
                [
                    html.H4(id="dd-title"),
                    html.P(
                        f"The first {QUERY_LIMIT} queries of the node with each model's mean score; click a row.",
                        className="jb-muted",
                    ),
                    data_table(
                        "dd-queries",
                        row_selectable="single",
                        page_size=10,
                        hidden_columns=["query_id"],
                        css=[{"selector": ".show-hide", "rule": "display: none"}],
                    ),
                ],
                className="jb-card",
            ),
            html.Div(query_panel(ctx, None), id="dd-detail", className="jb-card"),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output("dd-queries", "data"),
        Output("dd-queries", "columns"),
        Output("dd-queries", "selected_rows"),
        Output("dd-title", "children"),
        Input("dd-node", "value"),
        Input("filter-judge", "value"),
    )
    def _queries(node_id, judge):
        table = queries_table(ctx, node_id, judge)
        title = f"Queries in {node_from_key(node_id) or 'the whole taxonomy'}"
        return *table_data(table), [], title

    @app.callback(
        Output("dd-detail", "children"),
        Input("dd-queries", "selected_rows"),
        State("dd-queries", "data"),
        prevent_initial_call=True,
    )
    def _detail(selected, data):
        if not selected or not data or selected[0] >= len(data):
            return query_panel(ctx, None)
        return query_panel(ctx, data[selected[0]]["query_id"])


VIEW = View(
    id="drilldown",
    title="Drill-down",
    layout=layout,
    register=register,
    order=50,
    description="Every query of a node, every model's answer, and each judgment in full: criteria, weights, scores, rationale, raw reply and flags.",
)
