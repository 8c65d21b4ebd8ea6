"""A listwise judge whose replies never parse ranks nobody: the run counts its rankings
invalid and ends failed, instead of an `ok` run whose win rates come from the input order."""

from __future__ import annotations

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from judgebench.llm.scripted import ScriptedBackend
from tests.jobs.conftest import fresh_gateway, job_dict, write_queries


def test_a_prp_judge_that_never_parses_fails_the_run_with_invalid_rankings(tmp_path):
    queries = write_queries(tmp_path / "q.jsonl", 3)
    judges = [{"kind": "prp", "model": "scripted/judge", "max_repairs": 0}]
    data = job_dict(
        f"sqlite:///{tmp_path / 'x.db'}", queries, models=("sim/coder", "sim/small"), judges=judges
    )
    store = Store(data["store"])
    fresh_gateway(store).register_backend(
        "scripted", ScriptedBackend(responder=lambda prompt, model: "It depends on the reader.")
    )
    result = JobRunner(parse_job(data), store=store).run()
    run = store.get_run(result.run_id)
    assert run.status == "failed"
    assert run.counts["judgments"] == {"ok": 0, "invalid": 6, "error": 0, "skipped": 0}
    assert all("win_rates" not in m for m in result.summary["models"])
    rankings = [j for j in store.get_judgments(judge="prp") if j.kind == "ranking"]
    assert len(rankings) == 6 and all(j.score is None and j.reason for j in rankings)
