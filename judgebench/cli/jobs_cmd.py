"""``judgebench run``, ``judgebench schedule …`` and ``judgebench scheduler``: evaluation jobs.

Module level imports typer only (the CLI starts fast).
"""

from __future__ import annotations

from pathlib import Path

import typer

schedule_app = typer.Typer(
    help="Run jobs on a cron schedule (APScheduler, in the job's store).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
    app.add_typer(schedule_app, name="schedule")
    app.command("scheduler")(scheduler_cmd)


def run_job_and_report(
    job,
    *,
    executor: str = "local",
    ray_address: str | None = None,  # type: ignore[no-untyped-def]
    epoch: str | None = None,
    quiet: bool = False,
):
    """Run a loaded job with a progress display and print the summary table."""
    from rich.console import Console

    from judgebench.jobs.runner import JobRunner
    from judgebench.jobs.summary import summary_table

    exe = "local"
    if executor == "ray":
        from judgebench.jobs.executors import RayExecutor

        exe = RayExecutor(ray_address)
    elif executor != "local":
        from judgebench.errors import UserError

        raise UserError(f"unknown executor {executor!r}: use local or ray", where="--executor")
    console = Console()
    if not console.is_terminal and console.width < 130:  # logs and pipes: keep rows on one line
        console = Console(width=130)
    if quiet:
        result = JobRunner(job, executor=exe, epoch=epoch).run()
    else:
        from judgebench.jobs.progress import RichProgress

        with RichProgress() as progress:
            result = JobRunner(job, executor=exe, epoch=epoch, progress=progress).run()
    usage = result.usage
    color = {"ok": "green", "partial": "yellow"}.get(result.status, "red")
    console.print(
        f"run {result.run_id[:12]} [bold {color}]{result.status}[/bold {color}]"
        + (f" ({result.reason})" if result.reason else "")
        + f" · {result.queries} queries · LLM calls {usage.get('calls', 0)}"
        f" (cache hits {usage.get('cache_hits', 0)})"
    )
    from judgebench.jobs.outcome import counts_lines

    for line in counts_lines(result.stages):
        console.print(f"  {line}")
    if result.summary:
        console.print(summary_table(result.summary))
        if job.simulated:
            console.print(
                "[yellow]Models named sim/… are simulated: these results say nothing "
                "about real models.[/yellow]"
            )
    return result


def run_cmd(
    job_file: Path = typer.Argument(..., help="The job YAML."),
    executor: str = typer.Option("local", "--executor", help="local or ray (extra: ray)."),
    ray_address: str = typer.Option(
        None,
        "--ray-address",
        help="A running Ray cluster (default: start a local one on 127.0.0.1).",
    ),
    db: str = typer.Option(None, "--db", help="Override the job's store URL."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Run a job: taxonomy → queries → responses → judgments → summary. Rerun to resume."""
    from judgebench.jobs.config import load_job

    job = load_job(job_file)
    if db:
        job.store = db
    result = run_job_and_report(job, executor=executor, ray_address=ray_address, quiet=quiet)
    raise typer.Exit(exit_code(result.status))


def exit_code(status: str) -> int:
    """0 for a run that ended ok; 1 for partial, failed or stopped (2 is bad input, raised as
    a UserError before anything runs)."""
    return 0 if status == "ok" else 1


# --- scheduling --------------------------------------------------------------------------------


@schedule_app.command("add")
def schedule_add(
    job_file: Path = typer.Argument(..., help="The job YAML (its store holds the schedule)."),
    cron: str = typer.Option(..., "--cron", help='Cron expression, e.g. "0 2 * * *" (UTC).'),
    schedule_id: str = typer.Option(None, "--id", help="Schedule id (default: the job's name)."),
    db: str = typer.Option(None, "--db", help="Store URL (default: the job's)."),
) -> None:
    from judgebench.jobs.config import load_job
    from judgebench.jobs.scheduler import add_schedule

    job = load_job(job_file)
    info = add_schedule(db or job.store, job_file, cron, schedule_id or job.name)
    typer.echo(f"scheduled {info['id']}: {info['cron']} → next run {info['next_run']}")


@schedule_app.command("list")
def schedule_list(db: str = typer.Option("judgebench.db", "--db", help="Store URL.")) -> None:
    from rich.console import Console
    from rich.table import Table

    from judgebench.jobs.scheduler import list_schedules

    table = Table(title="schedules")
    for col in ("id", "cron", "job file", "next run", "last execution"):
        table.add_column(col)
    for s in list_schedules(db):
        table.add_row(s["id"], s["cron"], s["job_file"], str(s["next_run"]), s["last"] or "–")
    Console().print(table)


@schedule_app.command("remove")
def schedule_remove(
    schedule_id: str = typer.Argument(...), db: str = typer.Option("judgebench.db", "--db")
) -> None:
    from judgebench.jobs.scheduler import remove_schedule

    remove_schedule(db, schedule_id)
    typer.echo(f"removed {schedule_id}")


@schedule_app.command("run-now")
def schedule_run_now(
    schedule_id: str = typer.Argument(...), db: str = typer.Option("judgebench.db", "--db")
) -> None:
    """Run a scheduled job once, now, as a scheduled execution (its own run row)."""
    from judgebench.jobs.scheduler import run_now

    outcome = run_now(db, schedule_id)
    typer.echo(f"{schedule_id}: {outcome}")


def scheduler_cmd(
    db: str = typer.Option("judgebench.db", "--db", help="Store URL holding the schedules."),
    once: bool = typer.Option(False, "--once", help="Run what is due now, then exit."),
    poll_s: float = typer.Option(5.0, "--poll", help="Seconds between checks for new schedules."),
    max_s: float = typer.Option(None, "--max-s", help="Exit after this many seconds."),
) -> None:
    """Run due jobs until stopped. Several schedulers may share a store: each execution runs once."""
    from judgebench.jobs.scheduler import serve

    serve(db, once=once, poll_s=poll_s, max_s=max_s)
