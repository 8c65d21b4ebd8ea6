"""One run of a job at a time per store, and scheduled executions that survive their
scheduler's death: a second start of a running job exits (or waits) instead of repeating its
calls; a claimer killed with -9 mid-execution is taken over and the tick completes once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from judgebench.db import Store, leases
from judgebench.db.jobs import list_claims
from judgebench.db.models import ResponseRow
from judgebench.errors import RunBusy
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.runner import run_id_for
from judgebench.jobs.scheduler import add_schedule, claim_lease
from tests.jobs.conftest import fresh_gateway, table_rows, write_job
from tests.jobs.test_resume import _SLOW_SIM, _count

ROOT = Path(__file__).resolve().parents[2]


def _env(folder: Path, delay: float = 0.03, **extra: str) -> dict[str, str]:
    slow = folder / "slow_sim"
    slow.mkdir(exist_ok=True)
    code = _SLOW_SIM.replace("asyncio.sleep(0.03)", f"asyncio.sleep({delay})")
    (slow / "sitecustomize.py").write_text(code, encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(slow), str(ROOT)]), **extra}


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_second_start_of_a_running_job_exits_or_waits(tiny, tmp_path):
    # ~120 calls, 4 at a time, 0.3 s each: the first run lasts while the second is started
    data = tiny(pairwise=False, concurrency=4)
    job_file = write_job(tmp_path / "job.yaml", data)
    job = parse_job(data)
    name = f"job:{run_id_for(job)}"
    cmd = [sys.executable, "-m", "judgebench", "run", str(job_file), "--quiet", "--no-preflight"]
    first = subprocess.Popen(
        cmd, cwd=tmp_path, env=_env(tmp_path, delay=0.3), stderr=subprocess.PIPE
    )
    try:
        store = Store(data["store"])
        _wait_for(lambda: leases.read(store, name) is not None or first.poll() is not None)
        assert first.poll() is None, "the first run ended before the second started"
        second = subprocess.run(
            cmd, cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True
        )
        assert second.returncode == 1
        errors = [line for line in second.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "already running" in errors[0], second.stderr
        assert "Traceback" not in second.stderr
        assert f":{first.pid}:" in errors[0]  # names the running one
        with pytest.raises(RunBusy):
            JobRunner(job, store=store).run()
        bad = subprocess.run(
            [*cmd, "--if-running", "later"],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
        )
        assert bad.returncode == 2 and "--if-running" in bad.stderr
        gateway = fresh_gateway(store)
        # blocks until the first run released its lease (its process may still be exiting)
        waited = JobRunner(job, store=store, if_running="wait").run()
        first.wait(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
        first.wait()
    assert first.returncode == 0, first.stderr.read().decode()[-2000:] if first.stderr else ""
    assert waited.status == "ok" and gateway.stats.calls == 0
    assert leases.read(store, name) is None


def test_a_killed_schedulers_execution_is_taken_over_and_completes_once(tiny, tmp_path):
    data = tiny(pairwise=False)
    db = data["store"]
    job_file = write_job(tmp_path / "job.yaml", data)
    add_schedule(
        db, job_file, "0 3 * * *", "nightly", run_first_at=datetime.now(UTC) - timedelta(seconds=5)
    )
    env = _env(tmp_path, JUDGEBENCH_LEASE_TTL_S="3")
    cmd = [sys.executable, "-m", "judgebench", "scheduler", "--db", db, "--once", "--max-s", "120"]
    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
    store = Store(db)
    try:
        _wait_for(lambda: _count(db, ResponseRow) >= 6 or first.poll() is not None, timeout=90)
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL, "the execution finished before it could be killed"
    [orphan] = [c for c in list_claims(store, "nightly") if c["status"] == "running"]
    assert f":{first.pid}:" in orphan["owner"]
    second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stderr[-2000:]
    claims = [c for c in list_claims(store, "nightly") if c["fire_time"] == orphan["fire_time"]]
    assert len(claims) == 1 and claims[0]["status"] == "ok"
    assert f":{first.pid}:" not in claims[0]["owner"]
    runs = store.list_runs(job_name="tiny")
    assert len(runs) == 1 and runs[0].status == "ok"
    assert leases.read(store, claim_lease("nightly", orphan["fire_time"])) is None
    # the same rows as an uninterrupted run of the job
    reference = dict(data, store=f"sqlite:///{tmp_path / 'reference.db'}")
    ref_store = Store(reference["store"])
    fresh_gateway(ref_store)
    assert JobRunner(parse_job(reference), store=ref_store).run().status == "ok"
    assert table_rows(db) == table_rows(reference["store"])
