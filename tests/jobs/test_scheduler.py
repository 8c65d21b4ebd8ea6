"""Schedules: two scheduler processes run a due execution once; coalesced fire times are
recorded; each execution is its own run of the job, comparable over time."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from judgebench.db import Store
from judgebench.db.jobs import claim, list_claims

from judgebench.jobs.scheduler import add_schedule, execute, latest_fire_time, list_schedules
from tests.jobs.conftest import fresh_gateway, write_job

ROOT = Path(__file__).resolve().parents[2]


def test_two_schedulers_run_a_due_execution_once(tiny, tmp_path):
    data = tiny(pairwise=False)
    db = data["store"]
    job_file = write_job(tmp_path / "job.yaml", data)
    now = datetime.now(UTC)
    add_schedule(db, job_file, "0 2 * * *", "nightly", run_first_at=now - timedelta(seconds=5))
    assert [s["id"] for s in list_schedules(db)] == ["nightly"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "judgebench", "scheduler", "--db", db, "--once", "--max-s", "90"]
    procs = [subprocess.Popen(cmd, env=env, cwd=tmp_path, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    store = Store(db)
    claims = [c for c in list_claims(store, "nightly") if c["status"] != "coalesced"]
    assert len(claims) == 1 and claims[0]["status"] == "finished"
    assert claims[0]["fire_time"] == latest_fire_time("0 2 * * *").isoformat()
    runs = store.list_runs(job_name="tiny")
    assert len(runs) == 1 and runs[0].id == claims[0]["run_id"] and runs[0].status == "finished"
    # the schedule moved on to its next fire time
    assert list_schedules(db)[0]["next_run"] > now


def test_skipped_fire_times_are_coalesced_and_recorded(tiny, tmp_path):
    data = tiny(pairwise=False, reask="each_run")
    db = data["store"]
    job_file = write_job(tmp_path / "job.yaml", data)
    store = Store(db)
    cron = "* * * * *"
    latest = latest_fire_time(cron)
    claim(store, "minutely", (latest - timedelta(minutes=3)).isoformat(), "test", status="finished")
    gateway = fresh_gateway(store)
    outcome = execute("minutely", str(job_file), db, cron)
    assert outcome.startswith("finished"), outcome
    first_calls = gateway.stats.calls
    rows = {c["fire_time"]: c["status"] for c in list_claims(store, "minutely")}
    for k in (1, 2):
        assert rows[(latest - timedelta(minutes=k)).isoformat()] == "coalesced"
    assert execute("minutely", str(job_file), db, cron).startswith("skipped")

    # another fire time: a new run that re-asks the models (reask: each_run) but reuses the
    # PC² criteria, so it costs exactly responses + scorings
    gateway = fresh_gateway(store)
    outcome = execute("minutely", str(job_file), db, cron, fire_time="now:test")
    assert outcome.startswith("finished")
    ok = [j for j in store.get_judgments() if j.ok and j.run_id and j.run_id in outcome]
    repairs = sum(len(j.raw_replies) - 1 for j in ok)
    assert gateway.stats.calls == 3 * 12 + 3 * 12 + repairs < first_calls
    runs = store.list_runs(job_name="tiny")
    assert len(runs) == 2 and all(r.status == "finished" for r in runs)

    from judgebench.analysis import regression_report
    from judgebench.jobs.export import run_frames

    before, after = (run_frames(store, r.id) for r in runs)
    model = before["scores"][before["scores"].model == "sim/coder"][["query_id", "model", "score"]]
    later = after["scores"][after["scores"].model == "sim/coder"][["query_id", "model", "score"]]
    assert len(model) == len(later) == 12
    report = regression_report(model, later, before["membership"])
    assert len(report) > 0
