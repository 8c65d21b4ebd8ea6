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


def _print_version(value: bool) -> None:
    if value:
        from judgebench import __version__

        typer.echo(f"judgebench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Evaluate and judge LLMs: feedback across a task taxonomy, not just a leaderboard."""


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
        code = app(standalone_mode=False)  # bad flags come here, to be printed as one line
    except typer.TyperException as exc:
        message = exc.format_message()
        if "\n" in message:  # no arguments: the help text
            print(message, file=sys.stderr)
        else:
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            print(f"error: {where}{message}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        print("aborted", file=sys.stderr)
        raise SystemExit(1) from None
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except RunBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    # typer.Exit(n) comes back as n; a command's own return value is not an exit code
    raise SystemExit(code if isinstance(code, int) and not isinstance(code, bool) else 0)
