"""The bundled demo job and its seed queries (``judgebench demo``)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
DEMO_JOB = HERE / "demo.yaml"
DEMO_SEEDS = HERE / "seeds.jsonl"


def demo_job(db: str, *, fast: bool = False):
    """The demo job, storing into ``db``; ``fast``: one query per leaf."""
    from judgebench.jobs.config import load_job

    job = load_job(DEMO_JOB)
    job.store = db
    if fast and job.queries.synth is not None:
        job.queries.synth.settings["per_node"] = 1
    return job
