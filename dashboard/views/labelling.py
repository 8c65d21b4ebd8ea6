"""Labelling: sample judged items, label them, and see how far the judge agrees with people."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update
from dash import ctx as callback_ctx

from judgebench.dashboard import labels as lab
from judgebench.dashboard.components import controls, data_table, fmt, labelled
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.db import queries as q
from judgebench.errors import UserError

AGREEMENT_ROWS = [
    ("n", "labelled items", 0),
    ("accuracy", "accuracy (ties count)", 3),
    ("accuracy_no_ties", "accuracy without ties", 3),
    ("kappa", "Cohen's κ", 3),
    ("position_consistency", "position consistency", 3),
    ("spearman", "Spearman ρ (scores)", 3),
]


def judge_options(ctx: DashboardContext) -> tuple[list[dict[str, str]], str | None]:
    """Machine judges, and the default: a verdict judge if any (accuracy and κ need verdicts)."""
    judges = q.list_judges(ctx.store)
    judges = judges[~judges["human"]]
    health = q.judge_health(ctx.store).set_index("judge")
    pairwise = [j for j in judges["judge"] if health.loc[j, "n_pairwise"] > 0]
    default = pairwise[0] if pairwise else q.default_judge(ctx.store)
    return [{"label": j, "value": j} for j in judges["judge"]], default


def agreement_panel(ctx: DashboardContext, judge: str | None) -> html.Div:
    """The judge–human agreement on this store's labels, figure by figure."""
    if not judge:
        return html.Div("Pick a judge.", className="jb-muted")
    found = lab.agreement(ctx.store, judge)
    rows = [
        html.Tr(
            [
                html.Th(label),
                html.Td(fmt(found.get(key), digits), id=f"lab-fig-{key}"),
            ]
        )
        for key, label, digits in AGREEMENT_ROWS
    ]
    return html.Div(
        [
            html.H4(f"Judge {judge} vs your labels ({found.get('labellers', 0)} labellers)"),
            html.Table(rows, className="jb-criteria"),
        ]
    )


def published_table(ctx: DashboardContext) -> pd.DataFrame:
    table = lab.published_sets(ctx.store)
    keep = ["set", "judge", "model", "n", "accuracy", "accuracy_no_ties", "kappa"]
    return table[keep + ["position_consistency"]] if len(table) else pd.DataFrame(columns=keep)


def item_panel(ctx: DashboardContext, items: list[dict[str, Any]], pos: int) -> html.Div:
    if not items:
        return html.Div(
            "Type your name, pick the judge to check and press Sample.", className="jb-muted"
        )
    if pos >= len(items):
        return html.Div(
            f"All {len(items)} sampled items are labelled. Sample again for more.",
            className="jb-muted",
        )
    try:
        item = stored_item(items, pos)
    except UserError as exc:
        return html.Div(str(exc), className="jb-muted")
    texts = lab.item_texts(ctx.store, item)
    answers = [html.Div([html.H4("Response A"), html.Pre(texts["a"], className="jb-response")])]
    if item.kind == "pairwise":
        answers.append(
            html.Div([html.H4("Response B"), html.Pre(texts["b"], className="jb-response")])
        )
    return html.Div(
        [
            html.Div(
                f"item {pos + 1} of {len(items)} · node {item.node} · judge confidence "
                f"{item.confidence} · {item.kind} (model names and the judge's decision are "
                "hidden so they do not sway you)",
                className="jb-muted",
                id="lab-progress",
            ),
            html.H4("Query"),
            html.Pre(texts["query"], className="jb-query"),
            html.Div(answers, className="jb-grid-2" if item.kind == "pairwise" else None),
        ]
    )


def stored_item(items: list[dict[str, Any]], pos: int) -> lab.Item:
    """The item at ``pos`` of the page's sample (browser state: checked, never trusted)."""
    try:
        return lab.Item(**items[pos])
    except (TypeError, IndexError, KeyError):
        raise UserError(
            "this sample is not valid any more: press Sample", where="labelling"
        ) from None


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    options, default = judge_options(ctx)
    button = "jb-button-small"
    return html.Div(
        [
            controls(
                labelled("Your name", dcc.Input(id="lab-name", type="text", debounce=False)),
                labelled(
                    "Judge to check",
                    dcc.Dropdown(id="lab-judge", options=options, value=default, clearable=False),
                ),
                labelled(
                    "Items",
                    dcc.Input(id="lab-n", type="number", min=1, max=200, value=10, step=1),
                ),
                html.Button("Sample", id="lab-sample", className="jb-button"),
            ),
            html.Div(
                "Items are sampled across top-level nodes and judge confidence (low: ties, "
                "verdicts that flipped with the order, middling scores).",
                className="jb-note",
            ),
            dcc.Store(id="lab-items", data=[]),
            dcc.Store(id="lab-pos", data=0),
            dcc.Store(id="lab-saved", data=0),
            html.Div(item_panel(ctx, [], 0), id="lab-item", className="jb-card"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Button("A is better", id="lab-a", className=button),
                            html.Button("B is better", id="lab-b", className=button),
                            html.Button("Tie", id="lab-tie", className=button),
                        ],
                        className="jb-controls",
                    ),
                    html.Div(
                        [
                            dcc.Input(id="lab-score", type="number", placeholder="score"),
                            html.Button("Save score", id="lab-save-score", className=button),
                        ],
                        className="jb-controls",
                    ),
                    dcc.Textarea(id="lab-note", placeholder="note (optional)", value=""),
                    html.Div(id="lab-status", className="jb-note"),
                ],
                className="jb-card",
            ),
            html.Div(id="lab-agreement", className="jb-card"),  # filled by its callback
            html.Div(
                [
                    html.H4("Published judge-eval sets in this store (judgebench judge-eval)"),
                    data_table("lab-published", published_table(ctx), page_size=8),
                ],
                className="jb-card",
            ),
            html.Div(
                [
                    html.Button("Export labels (JSONL)", id="lab-export", className=button),
                    dcc.Download(id="lab-download"),
                    dcc.Upload(
                        html.Span("Import labels: drop or pick a JSONL file"),
                        id="lab-upload",
                        className="jb-upload",
                    ),
                    html.Div(id="lab-import-status", className="jb-note"),
                ],
                className="jb-card",
            ),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(
        Output("lab-items", "data"),
        Output("lab-pos", "data"),
        Output("lab-status", "children"),
        Input("lab-sample", "n_clicks"),
        State("lab-name", "value"),
        State("lab-judge", "value"),
        State("lab-n", "value"),
        prevent_initial_call=True,
    )
    def _sample(_, name, judge, n):
        try:
            lab.label_judge(name)
            items = lab.sample_items(ctx.store, judge, int(n or 10), labeller=name)
        except UserError as exc:
            return no_update, no_update, str(exc)
        found = f"{len(items)} items sampled" if items else "nothing left to label for this judge"
        return [dataclasses.asdict(i) for i in items], 0, found

    @app.callback(
        Output("lab-item", "children"), Input("lab-items", "data"), Input("lab-pos", "data")
    )
    def _item(items, pos):
        return item_panel(ctx, items or [], int(pos or 0))

    @app.callback(
        Output("lab-pos", "data", allow_duplicate=True),
        Output("lab-status", "children", allow_duplicate=True),
        Output("lab-note", "value"),
        Output("lab-saved", "data"),
        Input("lab-a", "n_clicks"),
        Input("lab-b", "n_clicks"),
        Input("lab-tie", "n_clicks"),
        Input("lab-save-score", "n_clicks"),
        State("lab-items", "data"),
        State("lab-pos", "data"),
        State("lab-name", "value"),
        State("lab-score", "value"),
        State("lab-note", "value"),
        State("lab-saved", "data"),
        prevent_initial_call=True,
    )
    def _save(a, b, tie, scored, items, pos, name, score, note, saved):
        verdict = {"lab-a": "A", "lab-b": "B", "lab-tie": "tie"}.get(callback_ctx.triggered_id)
        pos = int(pos or 0)
        if not items or pos >= len(items):
            return no_update, "Sample items first.", no_update, no_update
        try:
            item = stored_item(items, pos)
            lab.save_label(ctx.store, item, name, verdict=verdict, score=score, note=note)
        except UserError as exc:
            return no_update, str(exc), no_update, no_update
        return pos + 1, f"saved as {lab.label_judge(name)}", "", int(saved or 0) + 1

    @app.callback(
        Output("lab-agreement", "children"),
        Input("lab-judge", "value"),
        Input("lab-saved", "data"),
    )
    def _agreement(judge, _):
        return agreement_panel(ctx, judge)

    @app.callback(
        Output("lab-download", "data"), Input("lab-export", "n_clicks"), prevent_initial_call=True
    )
    def _export(_):
        return dict(content=lab.labels_jsonl(ctx.store), filename="judgebench-labels.jsonl")

    @app.callback(
        Output("lab-import-status", "children"),
        Output("lab-saved", "data", allow_duplicate=True),
        Input("lab-upload", "contents"),
        State("lab-upload", "filename"),
        State("lab-saved", "data"),
        prevent_initial_call=True,
    )
    def _import(contents, filename, saved):
        return import_upload(ctx, contents, filename, saved)


def import_upload(
    ctx: DashboardContext, contents: str | None, filename: str | None, saved: int | None
) -> tuple[str, Any]:
    """An uploaded JSONL file of labels: stored, or a one-line reason and nothing stored."""
    if not contents:
        return "", no_update
    try:
        text = base64.b64decode(contents.split(",", 1)[-1]).decode("utf-8")
        count = lab.import_labels(ctx.store, text, where=filename or "upload")
    except (UnicodeDecodeError, ValueError):  # binascii.Error is a ValueError
        return f"{filename}: not a UTF-8 JSONL file", no_update
    except UserError as exc:
        return str(exc), no_update
    return f"imported {count} labels from {filename}", int(saved or 0) + 1


VIEW = View(
    id="labelling",
    title="Labelling",
    layout=layout,
    register=register,
    order=65,
    description="Label a stratified sample of judged items yourself and see how far the judge agrees with you, next to the published judge-eval sets.",
)
