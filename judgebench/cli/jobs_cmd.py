"""``judgebench run``, ``judgebench schedule …`` and ``judgebench scheduler``: evaluation jobs.

Module level imports typer only (the CLI starts fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from judgebench.cli import checks

if TYPE_CHECKING:  # annotations only: the modules load when a command runs
    from judgebench.jobs.assertions import AssertSpec
    from judgebench.jobs.config import JobConfig
    from judgebench.jobs.runner import JobResult

schedule_app = typer.Typer(
    help="Run jobs on a cron schedule (APScheduler, in the job's store).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)
    app.command("check")(check_cmd)
    app.add_typer(schedule_app, name="schedule")
    app.command("scheduler")(scheduler_cmd)


def run_job_and_report(
    job,
    *,
    executor: str = "local",
    ray_address: str | None = None,
    epoch: str | None = None,
    quiet: bool = False,
    if_running: str = "exit",
):
    """Run a loaded job with a progress display and print the summary table."""
    from rich.console import Console

    from judgebench.jobs.runner import JobRunner
    from judgebench.jobs.summary import summary_table

    exe: object = "local"  # or a RayExecutor
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
        result = JobRunner(job, executor=exe, epoch=epoch, if_running=if_running).run()
    else:
        from judgebench.jobs.progress import RichProgress

        with RichProgress() as progress:
            result = JobRunner(
                job, executor=exe, epoch=epoch, progress=progress, if_running=if_running
            ).run()
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
        from judgebench.jobs.summary import cost_lines

        for line in cost_lines(result.summary):
            console.print(line)
        from judgebench.jobs.sampling import adaptive_lines

        for line in adaptive_lines(result.summary):
            console.print(line, markup=False)
        from judgebench.analysis.confidence import assignment_lines

        for line in assignment_lines(result.summary.get("assignment") or {}):
            console.print(line, markup=False)
        if job.simulated:
            console.print(
                "[yellow]Models named sim/… are simulated: these results say nothing "
                "about real models.[/yellow]"
            )
    return result


CONFIG_HELP = (
    "The settings file (model registry). Default: $JUDGEBENCH_CONFIG, else judgebench.yaml "
    "next to the job file, else in the current directory."
)


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
    if_running: str = typer.Option(
        "exit",
        "--if-running",
        help="When the same job already runs on this store: exit (one line, exit 1) or wait.",
    ),
    config: Path = typer.Option(None, "--config", help=CONFIG_HELP),
    no_preflight: bool = typer.Option(
        False, "--no-preflight", help="Skip the pre-flight checks (see judgebench check)."
    ),
    no_probe: bool = typer.Option(False, "--no-probe", help="Pre-flight without probe calls."),
    asserts: list[str] = typer.Option(
        None,
        "--assert",
        help="An assertion as YAML, e.g. 'min_win_rate: {sim/small: 0.5}' (repeatable; "
        "over the job's assert: block). See docs/jobs.md.",
    ),
    junit: Path = typer.Option(
        None,
        "--junit",
        callback=checks.output_file,
        help="Write the run status and assertions as JUnit XML here.",
    ),
) -> None:
    """Run a job: taxonomy → queries → responses → judgments → summary. Rerun to resume.

    Exit code 0: the run ended ok (and every assertion held); 1: partial, failed or stopped,
    or an assertion failed; 2: bad input."""
    if if_running not in ("exit", "wait"):
        from judgebench.errors import UserError

        raise UserError(f"expected exit or wait, got {if_running!r}", where="--if-running")
    from judgebench.jobs.assertions import AssertSpec, parse_cli_assertions

    job = load_for_command(job_file, config, db)
    spec = (job.assert_ or AssertSpec()).merged(parse_cli_assertions(asserts or []))
    try:
        spec.check_models([m.name for m in job.models])
    except ValueError as exc:
        from judgebench.errors import ConfigError

        raise ConfigError(str(exc), where="--assert") from None
    if not no_preflight:
        check_or_exit(job, job_file, probe=not no_probe, verbose=False)
    result = run_job_and_report(
        job, executor=executor, ray_address=ray_address, quiet=quiet, if_running=if_running
    )
    failed = report_assertions(job, result, spec, junit)
    raise typer.Exit(max(exit_code(result.status), 1 if failed else 0))


def report_assertions(
    job: JobConfig, result: JobResult, spec: AssertSpec, junit: Path | None
) -> bool:
    """Check, print and (``junit``) write the assertions; True when one failed."""
    from judgebench.db import Store
    from judgebench.jobs.assertions import Outcome, check, junit_xml

    if spec.empty and junit is None:
        return False
    why = f" ({result.reason})" if result.reason else ""
    status = Outcome("run status", result.status == "ok", f"run {result.status}{why}")
    if result.summary:
        outcomes = check(spec, result.summary, Store(job.store), result.run_id)
    elif not spec.empty:  # a stopped run has no summary to check
        outcomes = [Outcome("assertions", False, f"not checked: the run {result.status}")]
    else:
        outcomes = []
    for o in outcomes:
        mark = {True: "pass", False: "FAIL", None: "skip"}[o.passed]
        typer.echo(f"assert {o.name}: {mark} · {o.message}")
    if junit is not None:
        junit.write_text(junit_xml([status, *outcomes], f"judgebench.{job.name}"), encoding="utf-8")
        typer.echo(f"JUnit XML: {junit}")
    return any(o.failed for o in outcomes)


def check_cmd(
    job_file: Path = typer.Argument(..., help="The job YAML."),
    config: Path = typer.Option(None, "--config", help=CONFIG_HELP),
    db: str = typer.Option(None, "--db", help="Override the job's store URL."),
    no_probe: bool = typer.Option(False, "--no-probe", help="No probe calls to the endpoints."),
) -> None:
    """Pre-flight a job without running it: every model resolves to a backend, API key
    variables are set, one tiny probe call per endpoint answers. Exit 2 on any problem."""
    job = load_for_command(job_file, config, db)
    check_or_exit(job, job_file, probe=not no_probe, verbose=True)
    typer.echo("ready to run")


def load_for_command(job_file: Path, config: Path | None, db: str | None) -> JobConfig:
    """The job, with the settings file discovered (and made this process's) and printed."""
    from judgebench.config import discover_config, use_config
    from judgebench.jobs.config import load_job

    job = load_job(job_file)
    if db:
        job.store = db
    found = discover_config(config, job_file)
    use_config(found)
    typer.echo(f"settings: {found or 'none found (built-in defaults)'}", err=True)
    return job


def check_or_exit(job: JobConfig, job_file: Path, *, probe: bool, verbose: bool) -> None:
    """Pre-flight ``job``: one line per problem on stderr and exit 2, before anything runs."""
    from judgebench.jobs.preflight import preflight, report_lines

    report = preflight(job, probe=probe)
    if verbose:
        for line in report_lines(report)[1:]:
            typer.echo(line)
    for problem in report.problems:
        typer.echo(f"error: {job_file.name}: {problem}", err=True)
    if not report.ok:
        raise typer.Exit(2)
    probes = sum(1 for outcome in report.probed.values() if outcome == "ok")
    if probes and not verbose:  # requests made outside the run: say so, so the counts add up
        typer.echo(f"· pre-flight: {probes} probe call(s), not part of the run's usage", err=True)


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
    """Run a job on a cron schedule (the schedule lives in the store; see judgebench scheduler)."""
    from judgebench.jobs.config import load_job
    from judgebench.jobs.scheduler import add_schedule

    job = load_job(job_file)
    info = add_schedule(db or job.store, job_file, cron, schedule_id or job.name)
    typer.echo(f"scheduled {info['id']}: {info['cron']} → next run {info['next_run']}")


@schedule_app.command("list")
def schedule_list(db: str = typer.Option("judgebench.db", "--db", help="Store URL.")) -> None:
    """The schedules of a store: cron, job file, next run and the last execution's status."""
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
    """Remove a schedule (its past executions and runs stay in the store)."""
    from judgebench.jobs.scheduler import remove_schedule

    remove_schedule(db, schedule_id)
    typer.echo(f"removed {schedule_id}")


@schedule_app.command("run-now")
def schedule_run_now(
    schedule_id: str = typer.Argument(...), db: str = typer.Option("judgebench.db", "--db")
) -> None:
    """Run a scheduled job once, now, as a scheduled execution (its own run row). Exit code 1
    when the run ended partial, failed or stopped, as for judgebench run."""
    from judgebench.jobs.scheduler import run_now

    outcome = run_now(db, schedule_id)
    typer.echo(f"{schedule_id}: {outcome}")
    if outcome.split(" ", 1)[0] in ("partial", "failed", "stopped"):
        raise typer.Exit(1)


def scheduler_cmd(
    db: str = typer.Option("judgebench.db", "--db", help="Store URL holding the schedules."),
    once: bool = typer.Option(False, "--once", help="Run what is due now, then exit."),
    poll_s: float = typer.Option(
        5.0, "--poll", min=0.01, help="Seconds between checks for new schedules."
    ),
    max_s: float = typer.Option(None, "--max-s", min=0, help="Exit after this many seconds."),
) -> None:
    """Run due jobs until stopped. Several schedulers may share a store: each execution runs once."""
    from judgebench.jobs.scheduler import serve

    serve(db, once=once, poll_s=poll_s, max_s=max_s)
