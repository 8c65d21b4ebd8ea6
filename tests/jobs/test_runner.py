"""The runner in-process: stages, idempotent reruns (zero calls), adding a model, budgets."""

from __future__ import annotations

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from tests.jobs.conftest import fresh_gateway, llm_call_rows, table_rows


def run(data: dict, **kwargs):
    job = parse_job(data)
    store = Store(job.store)
    gateway = fresh_gateway(store)
    result = JobRunner(job, store=store, **kwargs).run()
    return result, gateway, store


def test_job_runs_every_stage_and_a_rerun_makes_zero_calls(tiny):
    data = tiny()
    result, gateway, store = run(data)
    assert result.status == "ok"
    assert result.queries == 12
    # 3 models × 12 responses; PC² 12 × 3 judgments; pairwise 3 pairs × 12
    judgments = store.get_judgments()
    assert len(store.get_responses()) == 36
    assert sum(j.judge == "pc2" for j in judgments) == 36
    assert sum(j.judge == "pairwise" for j in judgments) == 36
    assert all(j.run_id == result.run_id for j in judgments)
    assert all(q.node_ids for q in store.get_queries()), "imported queries are assigned to nodes"
    run_row = store.get_run(result.run_id)
    assert run_row.status == "ok" and run_row.job_name == "tiny"
    models = {m["model"]: m for m in run_row.config["summary"]["models"]}
    assert set(models) == {"sim/coder", "sim/writer", "sim/small"}
    for m in models.values():
        score = m["scores"]["pc2:sim/judge"]
        assert score["ci_low"] <= score["mean"] <= score["ci_high"] and score["n"] == 12
        assert 0 <= m["invalid_rate"] <= 1 and m["simulated"]
    assert gateway.stats.calls == result.calls > 0

    again, gateway2, _ = run(data)
    assert again.run_id == result.run_id and again.status == "ok"
    assert gateway2.stats.calls == 0 and gateway2.stats.cache_hits == 0  # rows, not the cache


def test_adding_a_model_costs_only_its_responses_and_judgments(tiny):
    data = tiny(models=("sim/coder", "sim/writer"))
    first, _, store = run(data)
    calls_before = llm_call_rows(data["store"])
    data["models"].append({"name": "sim/small", "params": {"temperature": 0, "max_tokens": 300}})
    second, gateway, store = run(data)
    assert second.run_id != first.run_id and second.status == "ok"
    # 12 responses + 12 PC² scorings (criteria reused) + 2 new pairs × 2 orders × 12
    ok = [j for j in store.get_judgments(model="sim/small") if j.ok]
    repairs = sum(len(j.raw_replies) - (2 if j.kind == "pairwise" else 1) for j in ok)
    assert gateway.stats.calls == 12 + 12 + 2 * 2 * 12 + repairs
    assert llm_call_rows(data["store"]) - calls_before == gateway.stats.calls
    # the new run links every row it used, old ones included
    assert second.summary["models"][0]["responses"] == 12


def test_budget_stops_before_the_crossing_call_and_a_resume_finishes(tiny, tmp_path):
    data = tiny(budget={"max_calls": 40})
    stopped, gateway, store = run(data)
    assert stopped.status == "stopped"
    assert "max_calls=" in stopped.reason
    assert gateway.stats.calls <= 40
    row = store.get_run(stopped.run_id)
    assert row.status == "stopped" and "budget" in row.reason

    # the cap holds across invocations: a rerun with the same cap makes no call
    again, gateway2, _ = run(data)
    assert again.status == "stopped" and gateway2.stats.calls == 0

    data["budget"] = {"max_calls": 100000}
    done, gateway3, _ = run(data)
    assert done.status == "ok" and done.run_id == stopped.run_id

    reference = tiny(name="reference.db")
    run(reference)
    assert table_rows(data["store"]) == table_rows(reference["store"])
    assert llm_call_rows(data["store"]) == llm_call_rows(reference["store"])
