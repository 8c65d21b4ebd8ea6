"""A listwise judge whose replies never parse ranks nobody: the run counts its rankings
invalid and ends failed, instead of an `ok` run whose win rates come from the input order."""

from __future__ import annotations

import pytest

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
    assert len(rankings) == 6
    assert all(j.score is None and j.reason and j.raw_replies for j in rankings)


@pytest.mark.parametrize("engine", ["pipelined", "staged"])
def test_a_ranking_whose_call_failed_is_an_error_for_every_candidate(tmp_path, engine):
    import json
    import sqlite3

    from judgebench.llm import LLMError

    def respond(prompt: str, model: str):  # type: ignore[no-untyped-def]
        if "(case 0)" in prompt:  # every comparison of the first query fails in transport
            return LLMError("upstream answered 500")
        return json.dumps({"preferred": "A", "reason": "it is better"})

    queries = write_queries(tmp_path / "q.jsonl", 2)
    judges = [{"kind": "prp", "model": "scripted/judge", "max_repairs": 0}]
    data = job_dict(
        f"sqlite:///{tmp_path / 'e.db'}",
        queries,
        models=("sim/coder", "sim/small", "sim/writer"),
        judges=judges,
        engine=engine,
    )
    store = Store(data["store"])
    fresh_gateway(store).register_backend("scripted", ScriptedBackend(responder=respond))
    run = store.get_run(JobRunner(parse_job(data), store=store).run().run_id)
    # three candidates could not be ranked: three errors, not one error and two "skipped"
    assert run.counts["judgments"] == {"ok": 3, "invalid": 0, "error": 3, "skipped": 0}
    rows = sqlite3.connect(tmp_path / "e.db").execute("select subject from errors").fetchall()
    assert sorted(r[0].split(" on ")[1].split(" query ")[0] for r in rows) == [
        "sim/coder",
        "sim/small",
        "sim/writer",
    ]
