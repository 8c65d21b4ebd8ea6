"""``judgebench dashboard``: serve the Dash dashboard over a store. Module level imports typer only."""

from __future__ import annotations

import typer

from judgebench.cli import checks


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def dashboard(
        db: str = typer.Option(
            "judgebench.db", "--db", envvar="JUDGEBENCH_DB", help="Store URL or SQLite file path."
        ),
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            help="Address to bind. Anything but loopback needs --token or --basic-auth.",
        ),
        port: int = typer.Option(
            8050, "--port", callback=checks.port, help="Port to listen on (0 picks a free one)."
        ),
        token: str | None = typer.Option(
            None,
            "--token",
            envvar="JUDGEBENCH_DASHBOARD_TOKEN",
            help="Require this token (open /?token=… once, or send 'Authorization: Bearer …').",
        ),
        basic_auth: str | None = typer.Option(
            None,
            "--basic-auth",
            envvar="JUDGEBENCH_DASHBOARD_BASIC_AUTH",
            help="Require HTTP basic auth, as USER:PASSWORD.",
        ),
        refresh_only: bool = typer.Option(
            False,
            "--refresh-only",
            help="Rebuild the summary tables and exit (e.g. after a bulk import).",
        ),
    ) -> None:
        """Browse models' strengths and weaknesses across the taxonomy in a web dashboard."""
        from judgebench.dashboard.auth import check_bind

        check_bind(host, token, basic_auth)
        from judgebench.db import Store
        from judgebench.db.engine import existing_store
        from judgebench.db.queries import refresh_summary, summary_state

        store = Store(existing_store(db))
        if refresh_only:
            rebuilt = refresh_summary(store, force=True)
            state = summary_state(store) or {}
            typer.echo(
                f"summary {'rebuilt' if rebuilt else 'up to date'} in {state.get('build_s', 0):.2f} s"
            )
            return
        from judgebench.dashboard.app import DashboardServer, create_app

        server = DashboardServer(
            create_app(store, token=token, basic_auth=basic_auth), host=host, port=port
        )
        auth = " (token required)" if token else " (basic auth required)" if basic_auth else ""
        typer.echo(
            f"judgebench dashboard on {server.url}{auth} ({server.server_name}) — Ctrl+C to stop"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            typer.echo("stopped")
