"""`judgebench demo` end to end (the CLI, in a subprocess): what it stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from judgebench.db import Store

ROOT = Path(__file__).resolve().parents[2]


def test_demo_stores_four_simulated_models_judged_by_both_judges(tmp_path):
    db = tmp_path / "demo.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}
    env.pop("JUDGEBENCH_ENCODER", None)
    proc = subprocess.run(
        [sys.executable, "-m", "judgebench", "demo", "--db", str(db), "--fast", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"judgebench dashboard --db {db}" in proc.stdout
    assert "(simulated)" in proc.stdout

    store = Store(db)
    runs = store.list_runs(kind="job")
    assert len(runs) == 1 and runs[0].status == "ok" and runs[0].job_name == "demo"
    queries = store.get_queries(source="synth")
    assert len(queries) >= 30 and all(q.node_ids for q in queries)
    assert {n.split("/")[0] for q in queries for n in q.node_ids} == {
        "writing",
        "roleplay",
        "knowledge",
        "coding",
        "mathematics",
        "reasoning",
    }
    responses = store.get_responses()
    models = {r.model for r in responses}
    assert models == {"sim/coder", "sim/writer", "sim/generalist", "sim/small"}
    judgments = store.get_judgments(run_id=runs[0].id)
    pc2 = [j for j in judgments if j.judge == "pc2"]
    pairwise = [j for j in judgments if j.judge == "pairwise"]
    assert len(pc2) == 4 * len(queries) and len(pairwise) == 6 * len(queries)
    assert all(100 <= j.score <= 500 for j in pc2 if j.ok)
    assert all(j.raw_replies and j.template_hash for j in judgments)
    summary = runs[0].config["summary"]
    assert all(m["simulated"] for m in summary["models"])
    scores = {m["model"]: m["scores"]["pc2:sim/judge"]["mean"] for m in summary["models"]}
    # the skill profiles show: the sloppy small model trails the others
    assert scores["sim/small"] == min(scores.values())
    assert_printed_cost_is_every_stored_call(proc.stdout, store)


def assert_printed_cost_is_every_stored_call(stdout: str, store) -> None:  # type: ignore[no-untyped-def]
    """The printed total is the sum of every call the run stored (synthesis, responses,
    auxiliary answers, criteria, judgments), and its parts add up to it."""
    import re

    from sqlalchemy import func, select

    from judgebench.db.models import LLMCallRow

    printed = {
        label.strip(): float(cost)
        for label, cost in re.findall(r"^\s*([a-z][^$\n]*?):? \$([0-9.]+) \(", stdout, re.M)
    }
    with store.read_session() as s:
        stored = float(s.scalar(select(func.sum(LLMCallRow.cost))))
    assert printed["total cost"] == pytest.approx(stored, abs=6e-5)  # printed to 4 decimals
    parts = [v for k, v in printed.items() if k != "total cost"]
    assert len(parts) == 3 and all(v > 0 for v in parts)
    assert sum(parts) == pytest.approx(printed["total cost"], abs=2e-4)
