"""The Dash application: header with global filters, navigation, one page per registered view."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import dash
import plotly.graph_objects as go
from dash import MATCH, Input, Output, State, dcc, html

from judgebench.dashboard.auth import install_auth
from judgebench.dashboard.components import empty_state, model_label
from judgebench.dashboard.guard import install_request_guard
from judgebench.dashboard.registry import DashboardContext, View, load_views
from judgebench.db import Store
from judgebench.db import queries as q
from judgebench.errors import ConfigError

ASSETS = Path(__file__).with_name("assets")


def create_app(
    store: Store | str | Path,
    *,
    token: str | None = None,
    basic_auth: str | None = None,
    views: list[str] | None = None,
    refresh_ttl_s: float = 10.0,
    background_refresh: bool = True,
) -> dash.Dash:
    """Build the dashboard for one store. ``views`` picks view modules (default: all registered).

    The summary is brought up to date before this returns; afterwards a daemon thread checks
    every ``refresh_ttl_s`` for new data (``background_refresh=False``: callbacks check instead).
    """
    store = store if isinstance(store, Store) else Store(store)
    ctx = DashboardContext(store, refresh_ttl_s=refresh_ttl_s)
    if background_refresh:
        ctx.refresh_in_background()
    else:
        ctx.ensure()
    loaded = load_views(views)
    app = dash.Dash(
        __name__,
        title="judgebench",
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        update_title=None,  # type: ignore[arg-type]  # None turns the "Updating..." title off (Dash docs)
        serve_locally=True,
    )
    install_auth(app.server, token=token, basic_auth=basic_auth)
    install_request_guard(app)  # malformed callback bodies: 400, before Dash parses them
    app.layout = lambda: _layout(ctx, loaded)
    _register_shell(app, ctx, loaded)
    for view in loaded:
        view.register(app, ctx)
    app.jb_context = ctx  # type: ignore[attr-defined]
    app.jb_views = loaded  # type: ignore[attr-defined]
    return app


def _layout(ctx: DashboardContext, views: list[View]) -> html.Div:
    ctx.ensure()
    judges = q.list_judges(ctx.store)
    runs = q.list_runs(ctx.store)
    judge_options = [{"label": "all judges", "value": ""}] + [
        {
            "label": f"{j} ({'human labels' if h else int(n)})"
            if h
            else f"{j} ({int(n):,} judgments)",
            "value": j,
        }
        for j, n, h in zip(judges.judge, judges.n, judges.human, strict=True)
    ]
    run_options = [{"label": "all runs", "value": ""}] + [
        {"label": f"{name} · {str(started)[:16]}", "value": rid}
        for rid, name, started in zip(runs.id, runs.name, runs.started_at, strict=True)
    ]
    models = q.list_models(ctx.store)
    simulated = any(q.is_simulated(m) for m in models)
    return html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            html.Header(
                [
                    html.Div(
                        [
                            html.Span("judgebench", className="jb-logo"),
                            html.Span("model feedback across the taxonomy", className="jb-tagline"),
                        ]
                    ),
                    html.Nav(
                        [
                            dcc.Link(
                                v.title, href=f"/{v.id}", id=f"nav-{v.id}", className="jb-nav-link"
                            )
                            for v in views
                        ],
                        className="jb-nav",
                    ),
                    html.Div(
                        [
                            html.Label("Judge"),
                            dcc.Dropdown(
                                id="filter-judge",
                                options=judge_options,
                                value=q.default_judge(ctx.store) or "",
                                clearable=False,
                                className="jb-filter",
                            ),
                            html.Label("Run"),
                            dcc.Dropdown(
                                id="filter-run",
                                options=run_options,
                                value="",
                                clearable=False,
                                className="jb-filter",
                            ),
                        ],
                        className="jb-filters",
                    ),
                ],
                className="jb-header",
            ),
            html.Div(
                "Models named sim/… are simulated test doubles, not real LLMs: their results are labelled “(simulated)”.",
                className="jb-banner",
            )
            if simulated
            else None,
            html.Main(id="page", className="jb-page"),
        ]
    )


def _register_shell(app: dash.Dash, ctx: DashboardContext, views: list[View]) -> None:
    by_id = {v.id: v for v in views}

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"))
    def _route(pathname: str | None, search: str | None):
        return render_page(ctx, by_id, views, pathname, search)

    @app.callback(
        Output({"type": "jb-download", "index": MATCH}, "data"),
        Input({"type": "jb-export-html", "index": MATCH}, "n_clicks"),
        State({"type": "jb-graph", "index": MATCH}, "figure"),
        prevent_initial_call=True,
    )
    def _export_html(n_clicks, figure):
        if not n_clicks or not figure:
            raise dash.exceptions.PreventUpdate
        # the output's own id: a request need not say what triggered it (triggered_id None)
        return export_html(figure, dash.callback_context.outputs_list["id"]["index"])

    # highlight the current page in the navigation bar
    @app.callback(
        [Output(f"nav-{v.id}", "className") for v in views],
        Input("url", "pathname"),
    )
    def _nav(pathname: str | None):
        current = (pathname or "/").strip("/") or views[0].id
        return ["jb-nav-link active" if v.id == current else "jb-nav-link" for v in views]


def render_page(
    ctx: DashboardContext,
    by_id: dict[str, View],
    views: list[View],
    pathname: str | None,
    search: str | None,
):
    key = (pathname or "/").strip("/") or views[0].id
    view = by_id.get(key)
    if view is None:
        return empty_state(
            f"There is no page `{pathname}`. Pick a view above.", title="Page not found"
        )
    params = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
    if not ctx.has_data():
        return html.Div([html.H2(view.title), empty_state()])
    return html.Div(
        [
            html.H2(view.title),
            html.P(view.description, className="jb-lead") if view.description else None,
            view.layout(ctx, params),
        ]
    )


def export_html(figure: dict, name: str) -> dict:
    """A self-contained HTML file of one figure (plotly.js inlined: it must open offline)."""
    html_text = go.Figure(figure).to_html(include_plotlyjs=True, full_html=True)
    return dict(content=html_text, filename=f"judgebench-{name}.html", type="text/html")


# --- serving ----------------------------------------------------------------------------------


def _check_port(host: str, port: int) -> None:
    """One-line errors where werkzeug would wrap the port (99999 → 34463) or print and exit."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port}: use 0 (any free port) to 65535", where="dashboard")
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --port",
                where="dashboard",
            ) from None


class DashboardServer:
    """The app behind a WSGI server, stoppable (CLI and browser tests).

    Loopback (a person on this machine): werkzeug's threaded server. Any other address:
    waitress, a production WSGI server (werkzeug's says it is for development only).
    """

    def __init__(self, app: dash.Dash, host: str = "127.0.0.1", port: int = 8050, threads: int = 8):
        from judgebench.dashboard.auth import is_loopback

        _check_port(host, port)
        self.app = app
        self.host = host
        self.production = not is_loopback(host)
        self._thread: threading.Thread | None = None
        if self.production:
            from waitress import create_server

            self._waitress = create_server(app.server, host=host, port=port, threads=threads)
            self.port = int(self._waitress.effective_port)
        else:
            from werkzeug.serving import make_server

            self._server = make_server(host, port, app.server, threaded=True)
            self.port = self._server.server_port

    @property
    def server_name(self) -> str:
        return "waitress" if self.production else "werkzeug"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        if self.production:
            self._waitress.run()
        else:
            self._server.serve_forever()

    def start(self) -> DashboardServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.production:
            self._waitress.close()
        else:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)


__all__ = ["DashboardServer", "create_app", "export_html", "model_label", "render_page"]
