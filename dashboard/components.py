"""Shared building blocks: figure cards with PNG/HTML export, CSV tables, empty states, labels."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import Output, dcc, html
from dash.dash_table.DataTable import DataTable

from judgebench.db.queries import is_simulated

FONT = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]
DIVERGING = "RdBu"  # red = worse than the others, blue = better

EMPTY_HINT = (
    "No judgments in this store yet. Run `judgebench demo` for a simulated example, "
    "`judgebench run JOB.yaml` to evaluate your models, or `judgebench import FORMAT PATH` "
    "to load existing judgments; then reload this page."
)


def model_label(model: str) -> str:
    """Simulated models are a test double and say so wherever their results appear."""
    return f"{model} (simulated)" if is_simulated(model) else model


def model_color(model: str, all_models: list[str]) -> str:
    """One colour per model across every chart (its position among all the store's models)."""
    ordered = sorted(all_models)
    index = ordered.index(model) if model in ordered else len(ordered)
    return PALETTE[index % len(PALETTE)]


def graph_id(name: str) -> dict[str, str]:
    return {"type": "jb-graph", "index": name}


def empty_state(message: str = EMPTY_HINT, title: str = "Nothing to show yet") -> html.Div:
    return html.Div([html.H3(title), dcc.Markdown(message)], className="jb-empty")


def ci_bar(values: Any, labels: Any, low: Any, high: Any, **bar: Any) -> go.Bar:
    """A horizontal bar per row with its interval as asymmetric error bars."""
    return go.Bar(
        x=values,
        y=labels,
        orientation="h",
        marker_color=bar.pop("marker_color", PALETTE[0]),
        error_x=dict(
            type="data",
            symmetric=False,
            array=high - values,
            arrayminus=values - low,
            color="#374151",
            thickness=1.5,
        ),
        **bar,
    )


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        font=dict(size=15, color="#6b7280"),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style_figure(fig, height=260)


_GRID = dict(
    gridcolor="#e5e7eb", zerolinecolor="#d1d5db", linecolor="#d1d5db", ticks="", automargin=True
)


def style_figure(
    fig: go.Figure, *, height: int | None = 420, title: str | None = None
) -> go.Figure:
    # plotly's named templates are deep-copied into every figure (~100 ms each); the few
    # settings we want are applied directly instead
    fig.update_layout(
        template="none",
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=dict(family=FONT, size=13, color="#1f2937"),
        margin=dict(l=10, r=10, t=48 if title else 24, b=10),
        colorway=PALETTE,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        hoverlabel=dict(font=dict(family=FONT)),
    )
    fig.update_xaxes(**_GRID)
    fig.update_yaxes(**_GRID)
    if title:
        fig.update_layout(title=dict(text=title, x=0, xanchor="left", font=dict(size=16)))
    if height:
        fig.update_layout(height=height)
    return fig


def figure_card(
    name: str, title: str, figure: go.Figure | None = None, note: str | None = None
) -> html.Div:
    """A titled graph; PNG from the mode bar (rendered by the browser), HTML from the button."""
    return html.Div(
        [
            html.Div(
                [
                    html.H4(title),
                    html.Button(
                        "Export HTML",
                        id={"type": "jb-export-html", "index": name},
                        className="jb-button-small",
                    ),
                    dcc.Download(id={"type": "jb-download", "index": name}),
                ],
                className="jb-card-head",
            ),
            html.P(note, className="jb-note") if note else None,
            dcc.Loading(
                dcc.Graph(
                    id=graph_id(name),
                    figure=figure if figure is not None else empty_figure("loading…"),
                    config={
                        "displaylogo": False,
                        "toImageButtonOptions": {
                            "format": "png",
                            "filename": f"judgebench-{name}",
                            "scale": 2,
                        },
                    },
                ),
                type="dot",
            ),
        ],
        className="jb-card",
    )


def data_table(
    table_id: str, frame: pd.DataFrame | None = None, *, page_size: int = 15, **kwargs: Any
) -> DataTable:
    """A sortable table that exports CSV."""
    frame = frame if frame is not None else pd.DataFrame()
    # Dash's generated signature wants invariant dict types (str | float | int keys, typed
    # column dicts); JSON-ready records are what it really accepts
    return DataTable(
        id=table_id,
        data=records(frame),  # type: ignore[arg-type]
        columns=table_columns(frame),  # type: ignore[arg-type]
        page_size=page_size,
        sort_action="native",
        export_format="csv",
        export_headers="display",
        style_table={"overflowX": "auto"},
        style_cell={
            "fontFamily": FONT,
            "fontSize": 13,
            "padding": "6px 10px",
            "textAlign": "left",
            "maxWidth": 480,
            "whiteSpace": "normal",
        },
        style_header={"fontWeight": 600, "backgroundColor": "#f3f4f6"},
        style_data_conditional=[{"if": {"row_index": "odd"}, "backgroundColor": "#fafafa"}],
        **kwargs,
    )


def table_columns(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = []
    for c in frame.columns:
        spec: dict[str, Any] = {"name": str(c), "id": str(c)}
        if pd.api.types.is_float_dtype(frame[c]):
            spec.update(type="numeric", format={"specifier": ",.4~g"})
        cols.append(spec)
    return cols


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (NaN → None)."""
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {
                str(k): (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in row.items()
            }
        )
    return out


def fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def controls(*items: Any) -> html.Div:
    return html.Div(list(items), className="jb-controls")


def labelled(label: str, component: Any) -> html.Div:
    return html.Div([html.Label(label), component], className="jb-control")


def table_card(title: str, table_id: str, *, page_size: int = 15) -> html.Div:
    """A titled card holding a CSV-exporting table that a callback fills."""
    return html.Div(
        [html.H4(title), data_table(table_id, page_size=page_size)], className="jb-card"
    )


def table_outputs(table_id: str) -> list[Output]:
    """The callback outputs that fill a table: its rows and its columns (see ``table_data``)."""
    return [Output(table_id, "data"), Output(table_id, "columns")]


def table_data(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A frame as the values for ``table_outputs``: JSON-safe rows, then column specs."""
    return records(frame), table_columns(frame)


def picker(label: str, component_id: str, options: list[dict[str, str]], value: str) -> html.Div:
    """A page's one selector: a labelled, non-clearable dropdown in the controls bar."""
    return controls(
        labelled(
            label,
            dcc.Dropdown(id=component_id, options=options, value=value, clearable=False),
        )
    )
