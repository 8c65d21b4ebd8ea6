"""The ``judgebench`` command line.

Start-up stays fast: sub-command modules import only typer at module level; litellm, torch,
dash and the store are imported inside the commands that need them.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import typer  # noqa: E402

from judgebench.cli import (  # noqa: E402
    dashboard_cmd,
    db_cmd,
    demo_cmd,
    export_cmd,
    import_cmd,
    jobs_cmd,
    judges_cmd,
    probe_cmd,
    router_cmd,
    sim_cmd,
    synth_cmd,
    taxonomy_cmd,
)
from judgebench.errors import RunBusy, UserError  # noqa: E402

app = typer.Typer(
    name="judgebench",
    help="Evaluate and judge LLMs: feedback across a task taxonomy, not just a leaderboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# One place registers every command group; each module owns its commands.
for _module in (
    db_cmd,
    sim_cmd,
    demo_cmd,
    taxonomy_cmd,
    synth_cmd,
    judges_cmd,
    import_cmd,
    jobs_cmd,
    export_cmd,
    dashboard_cmd,
    router_cmd,
    probe_cmd,
):
    _module.register(app)


def main() -> None:
    try:
        app()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except RunBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
