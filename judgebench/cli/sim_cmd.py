"""``judgebench sim-server``: the simulated models over an OpenAI-compatible API on loopback."""

from __future__ import annotations

import typer

from judgebench.cli import checks


def register(app: typer.Typer) -> None:
    app.command("sim-server")(sim_server_cmd)


def sim_server_cmd(
    port: int = typer.Option(
        8000, "--port", callback=checks.port, help="TCP port on the host (0: any free port)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to bind."),
    latency_ms: float = typer.Option(
        0.0, "--latency-ms", help="Reply latency (the median for lognormal)."
    ),
    latency_dist: str = typer.Option(
        "fixed", "--latency-dist", help="fixed | lognormal (long tail)."
    ),
    latency_sigma: float = typer.Option(0.8, "--latency-sigma", help="Lognormal shape."),
    fault_429: float = typer.Option(0.0, "--fault-429", help="Rate of 429 with Retry-After."),
    fault_429_no_retry_after: float = typer.Option(
        0.0, "--fault-429-no-retry-after", help="Rate of bare 429."
    ),
    retry_after_s: float = typer.Option(
        1.0, "--retry-after", help="Retry-After seconds sent with 429."
    ),
    fault_500: float = typer.Option(0.0, "--fault-500", help="Rate of HTTP 500."),
    fault_503: float = typer.Option(0.0, "--fault-503", help="Rate of HTTP 503."),
    fault_hang: float = typer.Option(
        0.0, "--fault-hang", help="Rate of requests that hang (client timeout)."
    ),
    hang_s: float = typer.Option(600.0, "--hang-s", help="How long a hanging request hangs."),
    fault_drop: float = typer.Option(
        0.0, "--fault-drop", help="Rate of connections dropped mid-response."
    ),
    fault_truncate: float = typer.Option(0.0, "--fault-truncate", help="Rate of bodies cut short."),
    fault_malformed: float = typer.Option(
        0.0, "--fault-malformed", help="Rate of non-JSON bodies."
    ),
    fault_empty_choices: float = typer.Option(
        0.0, "--fault-empty-choices", help="Rate of empty 'choices'."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the fault and latency draws."),
    fixed_reply: str | None = typer.Option(
        None,
        "--fixed-reply",
        help="Answer every chat call with this text (measures transport only).",
    ),
    api_key_env: str | None = typer.Option(
        None, "--api-key-env", help="Require the key in this environment variable (Bearer auth)."
    ),
) -> None:
    """Serve the simulated models (sim/<profile>) over an OpenAI-compatible HTTP API."""
    import asyncio
    import ipaddress
    import os

    from judgebench.errors import UserError
    from judgebench.sim.server import FaultConfig, SimServer, serve_forever

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UserError(f"--host {host}: the sim-server binds loopback addresses only")
    if not 0 <= port <= 65535:  # the socket layer would fail with a traceback
        raise UserError(f"--port {port}: use 0 (any free port) to 65535")
    if latency_dist not in ("fixed", "lognormal"):
        raise UserError(f"--latency-dist {latency_dist}: use fixed or lognormal")
    try:
        faults = FaultConfig(
            latency_ms=latency_ms,
            latency_dist=latency_dist,  # type: ignore[arg-type]
            latency_sigma=latency_sigma,
            rate_429=fault_429,
            rate_429_no_retry_after=fault_429_no_retry_after,
            retry_after_s=retry_after_s,
            rate_500=fault_500,
            rate_503=fault_503,
            rate_hang=fault_hang,
            hang_s=hang_s,
            rate_drop=fault_drop,
            rate_truncate=fault_truncate,
            rate_malformed=fault_malformed,
            rate_empty_choices=fault_empty_choices,
            seed=seed,
        )
    except ValueError as exc:
        raise UserError(f"sim-server faults: {exc}") from None
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not api_key:
        raise UserError(f"--api-key-env {api_key_env}: the variable is not set")
    server = SimServer(
        faults=faults, fixed_reply=fixed_reply, api_key=api_key, host=host, port=port
    )
    try:
        asyncio.run(serve_forever(server))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise UserError(
            f"sim-server cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
