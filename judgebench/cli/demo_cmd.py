"""``judgebench demo``: the whole pipeline on a bundled job of simulated models, in SQLite.

Module level imports typer only (the CLI starts fast).
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)


def demo_cmd(
    db: str = typer.Option("judgebench-demo.db", "--db", help="The SQLite file (or store URL)."),
    fast: bool = typer.Option(False, "--fast", help="A smaller job (one query per leaf)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Taxonomy → synthesized queries → 4 simulated models → PC² and pairwise judges → summary."""
    import os
    import time

    os.environ.setdefault("JUDGEBENCH_ENCODER", "lexical")  # the core install: no torch needed

    from judgebench.cli.jobs_cmd import run_job_and_report
    from judgebench.jobs.demo import demo_job

    job = demo_job(db, fast=fast)
    start = time.perf_counter()
    result = run_job_and_report(job, quiet=quiet)
    typer.echo(f"demo {result.status} in {time.perf_counter() - start:.1f} s · store: {job.store}")
    typer.echo(f"open the dashboard:  judgebench dashboard --db {job.store}")
    from judgebench.cli.jobs_cmd import exit_code

    raise typer.Exit(exit_code(result.status))
