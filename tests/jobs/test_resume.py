"""kill -9 at several points, rerun: the rows equal an uninterrupted run's, and no call whose
reply was recorded is made again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from tests.jobs.conftest import (
    fresh_gateway,
    job_dict,
    llm_call_rows,
    table_rows,
    write_job,
    write_queries,
)

ROOT = Path(__file__).resolve().parents[2]


def _count(url: str, table) -> int:  # type: ignore[no-untyped-def]
    """Rows so far, read without taking SQLite's write lock (Store.session() begins IMMEDIATE)."""
    import sqlite3

    path = url.removeprefix("sqlite:///")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(f"SELECT count(*) FROM {table.__tablename__}").fetchone()[0]
    except sqlite3.Error:  # the file or the table is not there yet
        return 0


# Loaded by the child interpreter: every simulated call takes a little wall time, so the
# kill lands mid-job however fast the machine is (the replies themselves are unchanged).
_SLOW_SIM = """
import asyncio
import judgebench.sim.backend as _backend

_complete = _backend.SimBackend.complete


async def _slow(self, *args, **kwargs):
    await asyncio.sleep(0.03)
    return await _complete(self, *args, **kwargs)


_backend.SimBackend.complete = _slow
"""


def _kill_after(job_file: Path, url: str, table, n: int) -> int:  # type: ignore[no-untyped-def]
    slow = job_file.parent / "slow_sim"
    slow.mkdir(exist_ok=True)
    (slow / "sitecustomize.py").write_text(_SLOW_SIM, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(slow), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "judgebench", "run", str(job_file), "--quiet"],
        cwd=job_file.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if _count(url, table) >= n:
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the job finished before it could be killed"
    return _count(url, table)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref")
    queries = write_queries(folder / "queries.jsonl", 16)
    data = job_dict(f"sqlite:///{folder / 'ref.db'}", queries, chunk_size=4)
    job = parse_job(data)
    store = Store(job.store)
    fresh_gateway(store)
    assert JobRunner(job, store=store).run().status == "ok"
    return queries, data["store"]


@pytest.mark.parametrize(
    ("where", "n"),
    [("responses", 10), ("judgments", 8), ("judgments", 40)],
    ids=["during-responses", "early-judgments", "late-judgments"],
)
def test_kill_9_then_rerun_equals_an_uninterrupted_run(reference, tmp_path, where, n):
    from judgebench.db.models import JudgmentRow, ResponseRow

    queries, ref_url = reference
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    job_file = write_job(tmp_path / "job.yaml", job_dict(url, queries, chunk_size=4))
    table = ResponseRow if where == "responses" else JudgmentRow
    seen = _kill_after(job_file, url, table, n)
    assert seen >= n
    before = llm_call_rows(url)
    partial = table_rows(url)
    assert len(partial["judgments"]) < len(table_rows(ref_url)["judgments"])

    job = parse_job(job_dict(url, queries, chunk_size=4))
    store = Store(job.store)
    gateway = fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    assert result.status == "ok"
    # every call of the rerun was new: nothing whose reply was recorded was asked again
    assert gateway.stats.calls == llm_call_rows(url) - before
    assert table_rows(url) == table_rows(ref_url)
    assert llm_call_rows(url) == llm_call_rows(ref_url)
    runs = store.list_runs(kind="job")
    assert [r.status for r in runs] == ["ok"]
