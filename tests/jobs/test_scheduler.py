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
    assert len(claims) == 1 and claims[0]["status"] == "ok"
    assert claims[0]["fire_time"] == latest_fire_time("0 2 * * *").isoformat()
    runs = store.list_runs(job_name="tiny")
    assert len(runs) == 1 and runs[0].id == claims[0]["run_id"] and runs[0].status == "ok"
    # the schedule moved on to its next fire time
    assert list_schedules(db)[0]["next_run"] > now


def outcome_fire_time(rows: dict, latest: datetime) -> str:
    ran = [t for t, status in rows.items() if status == "ok" and t >= latest.isoformat()]
    assert len(ran) == 1, rows
    return ran[0]


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
    assert outcome.startswith("ok"), outcome
    first_calls = gateway.stats.calls
    rows = {c["fire_time"]: c["status"] for c in list_claims(store, "minutely")}
    ran = datetime.fromisoformat(outcome_fire_time(rows, latest))
    skipped = (ran - latest).seconds // 60 + 2  # a minute may have turned since `latest`
    for k in range(1, skipped + 1):
        assert rows[(ran - timedelta(minutes=k)).isoformat()] == "coalesced"
    again = execute("minutely", str(job_file), db, cron, fire_time=ran.isoformat())
    assert again == f"skipped: {ran.isoformat()} already claimed"

    # another fire time: a new run that re-asks the models (reask: each_run) and scores the new
    # responses, reusing the PC² criteria. Simulated models at temperature 0 answer the same
    # text again, so the judge's identical prompts are served by the call cache.
    gateway = fresh_gateway(store)
    outcome = execute("minutely", str(job_file), db, cron, fire_time="now:test")
    assert outcome.startswith("ok")
    ok = [j for j in store.get_judgments() if j.ok and j.run_id and j.run_id in outcome]
    assert len(ok) + len(store.get_judgments(status="invalid")) >= 12
    repairs = sum(len(j.raw_replies) - 1 for j in ok)
    asked = gateway.stats.calls + gateway.stats.cache_hits
    assert asked == 3 * 12 + 3 * 12 + repairs
    assert 3 * 12 <= gateway.stats.calls < first_calls  # every response was asked again
    assert len({r.sample_index for r in store.get_responses(model="sim/coder")}) == 2
    runs = store.list_runs(job_name="tiny")
    assert len(runs) == 2 and all(r.status == "ok" for r in runs)

    from judgebench.analysis import regression_report
    from judgebench.jobs.export import run_frames

    before, after = (run_frames(store, r.id) for r in runs)
    model = before["scores"][before["scores"].model == "sim/coder"][["query_id", "model", "score"]]
    later = after["scores"][after["scores"].model == "sim/coder"][["query_id", "model", "score"]]
    assert len(model) == len(later) == 12
    report = regression_report(model, later, before["membership"])
    assert len(report) > 0


def test_reading_schedules_of_a_missing_store_is_a_one_line_error(tmp_path):
    import pytest

    from judgebench.errors import DataError
    from judgebench.jobs.scheduler import remove_schedule, run_now

    missing = str(tmp_path / "typo.db")
    for call in (list_schedules, lambda db: remove_schedule(db, "n"), lambda db: run_now(db, "n")):
        with pytest.raises(DataError, match="no store here"):
            call(missing)
    assert not (tmp_path / "typo.db").exists()
