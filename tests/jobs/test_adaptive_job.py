"""``sampling: adaptive`` in a job: fewer judgments than full, weights that reweight the sample
back to every query, the stop reason on the run, and a rerun that makes zero calls."""

from __future__ import annotations

import pytest

from judgebench.db import Store
from judgebench.db.adaptive import get_draws
from judgebench.errors import ConfigError
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.sampling import adaptive_lines
from tests.jobs.conftest import fresh_gateway, job_dict, write_queries

SAMPLING = {
    "mode": "adaptive",
    "batch_size": 15,
    "target": {"ranking_ci": "separated", "min_per_node": 2, "min_per_arm": 10},
}


@pytest.fixture
def adaptive_job(tmp_path):
    queries = write_queries(tmp_path / "queries.jsonl", 48)
    data = job_dict(
        f"sqlite:///{tmp_path / 'store.db'}",
        queries,
        models=("sim/small", "sim/large", "sim/coder"),
        pairwise=True,
        chunk_size=16,
        sampling=SAMPLING,
    )
    return data


def test_adaptive_job_judges_less_reweights_and_reruns_free(adaptive_job):
    job = parse_job(adaptive_job)
    store = Store(job.store)
    gateway = fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    assert result.status == "ok", result.reason
    first_calls = gateway.stats.calls
    reports = store.get_run(result.run_id).config["adaptive"]
    assert [r["judge"] for r in reports] == ["pc2:sim/judge", "pairwise:sim/judge"]
    draws = get_draws(store, result.run_id)
    for report in reports:
        assert report["stop_reason"] in ("target_met", "exhausted")
        assert report["full"] == 48 * 3  # three models, or three pairs
        assert report["judged"] + report["saved"] == report["full"]
        mine = [d for d in draws if d["judge"] == report["judge"]]
        assert len(mine) == report["judged"]
        # Horvitz–Thompson: each arm's weights add up to the queries it stands for
        for arm in report["estimates"]:
            assert sum(d["weight"] for d in mine if d["arm"] == arm) == pytest.approx(48)
    linked = [j for j in store.get_judgments(ids=[d["judgment_id"] for d in draws])]
    assert len(linked) == len(draws) and all(j.status == "ok" for j in linked)
    summary = result.summary
    scored = [m for m in summary["models"] if m.get("scores")]
    assert scored and all(next(iter(m["scores"].values()))["adaptive"] for m in scored)
    assert summary["adaptive"] == reports
    lines = adaptive_lines(summary)
    assert len(lines) == 2 and lines[0].startswith(
        f"adaptive pc2:sim/judge: {reports[0]['stop_reason']}"
    )
    rates = [m["win_rates"]["pairwise:sim/judge"] for m in summary["models"]]
    assert all(
        r["adaptive"] and 0 <= r["ci_low"] <= r["win_rate"] <= r["ci_high"] <= 100 for r in rates
    )
    # the dashboard's Runs page says the run sampled adaptively and what that saved
    from judgebench.dashboard.registry import DashboardContext
    from judgebench.dashboard.views import runs

    shown = runs.runs_table(DashboardContext(store)).iloc[0]["sampling"]
    judged = sum(r["judged"] for r in reports)
    assert shown.startswith(f"adaptive: {judged}/{48 * 6} judged")
    # a rerun replays the same rounds and finds every judgment done
    gateway = fresh_gateway(store)
    again = JobRunner(job, store=store).run()
    assert again.status == "ok" and gateway.stats.calls == 0 and first_calls > 0
    assert store.get_run(again.run_id).config["adaptive"] == reports


def test_adaptive_saves_judgments_when_models_differ(adaptive_job):
    job = parse_job(adaptive_job)
    store = Store(job.store)
    fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    for report in store.get_run(result.run_id).config["adaptive"]:
        assert report["judged"] < report["full"], report


def test_sampling_settings_are_validated(adaptive_job):
    assert parse_job({**adaptive_job, "sampling": "adaptive"}).sampling.mode == "adaptive"
    full = parse_job({**adaptive_job, "sampling": "full"})
    assert (
        full.identity()
        == parse_job({k: v for k, v in adaptive_job.items() if k != "sampling"}).identity()
    )
    bad = {**adaptive_job, "sampling": {"mode": "adaptive", "target": {"ranking_ci": None}}}
    with pytest.raises(ConfigError, match="sampling"):
        parse_job(bad)
    with pytest.raises(ConfigError, match="sampling"):
        parse_job({**adaptive_job, "sampling": "sometimes"})


def test_kill_9_mid_rounds_then_rerun_equals_an_uninterrupted_run(adaptive_job, tmp_path):
    """The draws depend only on the seed and the stored outcomes: a run killed in the middle of
    its rounds resumes into the same draws, rows and weights as one that was never stopped."""
    from judgebench.db.models import JudgmentRow
    from tests.jobs.conftest import table_rows, write_job
    from tests.jobs.test_resume import _kill_after

    reference = dict(adaptive_job, store=f"sqlite:///{tmp_path / 'reference.db'}")
    ref_store = Store(reference["store"])
    fresh_gateway(ref_store)
    ref = JobRunner(parse_job(reference), store=ref_store).run()
    killed_url = adaptive_job["store"]
    job_file = write_job(tmp_path / "job.yaml", adaptive_job)
    assert _kill_after(job_file, killed_url, JudgmentRow, 20) >= 20
    store = Store(killed_url)
    fresh_gateway(store)
    result = JobRunner(parse_job(adaptive_job), store=store).run()
    assert result.status == "ok"
    assert table_rows(killed_url) == table_rows(reference["store"])
    weights = {(d["judgment_id"], d["weight"]) for d in get_draws(store, result.run_id)}
    assert weights == {(d["judgment_id"], d["weight"]) for d in get_draws(ref_store, ref.run_id)}


def test_sampled_responses_are_asked_only_for_drawn_judgments(adaptive_job):
    sampled = {**adaptive_job, "sampling": {**SAMPLING, "responses": "sampled"}}
    job = parse_job(sampled)
    store = Store(job.store)
    fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    assert result.status == "ok", result.reason
    reports = store.get_run(result.run_id).config["adaptive"]
    drawn = {(d["arm"], d["query_id"]) for d in get_draws(store, result.run_id)}
    needed = {(m, q) for arm, q in drawn for m in arm.split(" vs ")}
    asked = {(r.model, r.query_id) for r in store.get_responses()}
    assert asked == needed and len(asked) < 48 * 3
    assert result.stages["responses"]["skipped"] == 0  # only what was needed was owed
    assert all(r["judged"] < r["full"] for r in reports)
    gateway = fresh_gateway(store)
    assert JobRunner(job, store=store).run().status == "ok" and gateway.stats.calls == 0
