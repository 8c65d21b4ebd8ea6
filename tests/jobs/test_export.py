"""Export of a run: CSV, Parquet and JSONL carry the same rows; frames feed the analysis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from judgebench.db import Store
from judgebench.errors import UserError
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.export import export_run, run_frames
from tests.jobs.conftest import fresh_gateway

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def finished(tiny):
    data = tiny(models=("sim/coder", "sim/writer"))
    job = parse_job(data)
    store = Store(job.store)
    fresh_gateway(store)
    return store, JobRunner(job, store=store).run()


def test_formats_hold_the_same_rows(finished, tmp_path):
    store, result = finished
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = {}
    for fmt in ("csv", "parquet", "jsonl"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "judgebench",
                "export",
                "--run",
                "tiny",
                "--format",
                fmt,
                "--db",
                store.url,
                "--out",
                str(tmp_path / fmt),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[fmt] = tmp_path / fmt
    judgments = {
        "csv": pd.read_csv(out["csv"] / "judgments.csv"),
        "parquet": pd.read_parquet(out["parquet"] / "judgments.parquet"),
        "jsonl": pd.read_json(out["jsonl"] / "judgments.jsonl", lines=True),
    }
    stored = {j.id: j.score for j in store.get_judgments(run_id=result.run_id)}
    for fmt, frame in judgments.items():
        assert dict(zip(frame["id"], frame["score"], strict=True)) == pytest.approx(
            stored, nan_ok=True
        ), fmt
    row = json.loads((out["jsonl"] / "judgments.jsonl").read_text().splitlines()[0])
    assert isinstance(row["raw_replies"], list) and row["template_hash"]
    assert len(pd.read_csv(out["csv"] / "responses.csv")) == 24
    with pytest.raises(UserError, match="unknown format 'xlsx'"):
        export_run(store, result.run_id, "xlsx", tmp_path / "x")
    with pytest.raises(UserError, match="no run 'nope'"):
        export_run(store, "nope", "csv", tmp_path / "x")
    missing = tmp_path / "typo.db"
    with pytest.raises(UserError, match="no store here"):
        export_run(str(missing), result.run_id, "csv", tmp_path / "x")
    assert not missing.exists()


def test_run_frames_feed_the_analysis(finished):
    from judgebench.analysis import FeedbackReport, win_rates

    store, result = finished
    frames = run_frames(store, result.run_id[:10])
    assert set(frames["scores"]["model"]) == {"sim/coder", "sim/writer"}
    assert len(frames["scores"]) + (frames["judgments"]["status"] != "ok").sum() >= 24
    assert set(frames["membership"]["query_id"]) == set(frames["queries"]["id"])
    report = FeedbackReport(frames["scores"][["query_id", "model", "score"]], frames["membership"])
    assert "*" in set(report.table["node_id"])
    assert len(win_rates(frames["pairs"].dropna(subset=["outcome"]))) == 2


def test_export_and_usage_reads_do_not_wait_for_a_writer(tmp_path):
    """Exports, usage and schedule listings read while a job writes: no write lock taken."""
    import threading

    from judgebench.db.jobs import add_usage, claim, get_usage, list_claims
    from judgebench.db.models import QueryRow
    from judgebench.jobs.export import resolve_run
    from judgebench.records import Run

    store = Store(tmp_path / "s.db")
    run = Run(kind="job", name="nightly", job_name="nightly")
    store.put_run(run)
    add_usage(store, run.id, {"calls": 2})
    claim(store, "nightly", "2026-11-26T02:00:00+00:00", "me")
    result: list[object] = []
    with store.session() as writer:  # BEGIN IMMEDIATE: the write lock is held until the end
        writer.add(
            QueryRow(id="x", text="pending", source="user", node_ids=[], provenance={}, meta={})
        )
        writer.flush()

        def read() -> None:
            result.append(resolve_run(store, "nightly") == run.id)
            result.append(get_usage(store, run.id)["calls"])
            result.append(len(list_claims(store, "nightly")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "a read waited for the writer's lock"
    assert result == [True, 2, 1]
