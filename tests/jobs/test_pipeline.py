"""The pipelined engine: judgments start as soon as the responses they need exist, so a slow
model holds up only its own work (asserted from stored timestamps), with the same rows as the
staged engine."""

from __future__ import annotations

import asyncio

import pytest

from judgebench.db import Store
from judgebench.db.jobs import JobUsageRow, get_usage
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.runner import run_id_for
from tests.jobs.conftest import fresh_gateway, table_rows

FAST_S, SLOW_S = 0.1, 2.0  # the slow model is 20x slower
SLOW = "sim/small"


@pytest.fixture
def slow_small(monkeypatch):
    """Every simulated call takes FAST_S, except the slow model's, which take SLOW_S."""
    import judgebench.sim.backend as backend

    complete = backend.SimBackend.complete

    async def timed(self, model, messages, prompt, params):  # type: ignore[no-untyped-def]
        await asyncio.sleep(SLOW_S if model == SLOW else FAST_S)
        return await complete(self, model, messages, prompt, params)

    monkeypatch.setattr(backend.SimBackend, "complete", timed)


def _run(data: dict) -> Store:
    job = parse_job(data)
    store = Store(job.store)
    fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    assert result.status == "ok", result.reason
    return store


def _finish_times(store: Store) -> tuple[float, float]:
    """(when the other models' last judgment was made, when the slow model's first response
    came back), from the stored rows."""
    fast = max(j.created_at for j in store.get_judgments() if j.model != SLOW)
    slow = min(r.created_at for r in store.get_responses() if r.model == SLOW)
    return fast.timestamp(), slow.timestamp()


def test_a_slow_model_holds_up_only_the_judgments_that_need_it(tiny, slow_small):
    data = tiny("pipelined.db", pairwise=False, chunk_size=6, concurrency=16)
    store = _run(data)
    fast_done, slow_first = _finish_times(store)
    # every judgment of the fast models is stored long before the slow model's first response
    assert fast_done < slow_first - SLOW_S / 4, (fast_done, slow_first)
    slow_judged = [j for j in store.get_judgments() if j.model == SLOW]
    assert len(slow_judged) == 12 and all(j.ok for j in slow_judged)

    # the staged engine waits for every response first: the same rows, the other order
    staged = _run({**tiny("staged.db", pairwise=False, chunk_size=6), "engine": "staged"})
    fast_done, slow_first = _finish_times(staged)
    assert fast_done > slow_first
    assert table_rows(data["store"])["judgments"] == table_rows(staged.url)["judgments"]


@pytest.fixture
def gauged(monkeypatch):
    """Every simulated call takes 20 ms; yields {model: most calls it had in flight at once}."""
    import judgebench.sim.backend as backend

    complete = backend.SimBackend.complete
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def counted(self, model, messages, prompt, params):  # type: ignore[no-untyped-def]
        in_flight[model] = in_flight.get(model, 0) + 1
        peak[model] = max(peak.get(model, 0), in_flight[model])
        try:
            await asyncio.sleep(0.02)
            return await complete(self, model, messages, prompt, params)
        finally:
            in_flight[model] -= 1

    monkeypatch.setattr(backend.SimBackend, "complete", counted)
    return peak


def test_concurrency_caps_each_endpoint_across_every_stage_and_judge(tiny, gauged):
    """``concurrency`` is one cap per model endpoint shared by every stage: sim/judge serves
    PC² criteria, baseline critiques, PC² scorings and pairwise verdicts (two judges) and never
    has more than ``concurrency`` calls in flight, nor does any other model; a smaller
    ``max_concurrency`` in the provider settings wins for its model."""
    from judgebench.config import settings_from_dict
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway, set_gateway

    data = tiny("capped.db", chunk_size=4, concurrency=3)  # 12 queries: 3 chunks at once
    job = parse_job(data)
    store = Store(job.store)
    settings = settings_from_dict({"models": {"sim/large": {"max_concurrency": 2}}})
    gateway = Gateway(cache=SQLCallCache(store), settings=settings)
    set_gateway(gateway)
    assert JobRunner(job, store=store).run().status == "ok"
    judge, large = gauged.pop("sim/judge"), gauged.pop("sim/large")
    assert judge == 3  # saturated, never above the cap, whichever stage or judge asked
    assert large == 2  # the provider's smaller limit
    assert gauged and max(gauged.values()) <= 3, gauged
    # after the run the gateway's limits are the settings' again (default 32, sim/large 2)
    assert gateway.concurrency_of("sim/judge").capacity == 32
    assert gateway.concurrency_of("sim/large").capacity == 2


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    from tests.jobs.conftest import all_judges, job_dict, write_queries

    folder = tmp_path_factory.mktemp("pipeline_ref")
    queries = write_queries(folder / "queries.jsonl", 10)
    data = job_dict(f"sqlite:///{folder / 'ref.db'}", queries, judges=all_judges(), chunk_size=3)
    _run(data)
    return queries, data


@pytest.mark.slow
def test_kill_9_at_seeded_random_moments_then_rerun_equals_an_uninterrupted_run(
    reference_run, tmp_path
):
    """Five kills at rows-stored thresholds drawn from a seeded RNG, each in a fresh store;
    the rerun stores exactly the uninterrupted run's rows, and a budget holds across the kill."""
    import random

    from judgebench.db.models import JudgmentRow, ResponseRow
    from tests.jobs.conftest import job_dict, llm_call_rows, write_job
    from tests.jobs.test_resume import _kill_after

    queries, ref = reference_run
    expected = table_rows(ref["store"])
    rng = random.Random(16)
    for attempt in range(5):
        table = rng.choice([ResponseRow, JudgmentRow, JudgmentRow])
        total = len(expected["responses" if table is ResponseRow else "judgments"])
        n = rng.randint(3, total - 10)
        url = f"sqlite:///{tmp_path / f'killed{attempt}.db'}"
        data = job_dict(url, queries, judges=ref["judges"], chunk_size=3)
        assert _kill_after(write_job(tmp_path / f"job{attempt}.yaml", data), url, table, n) >= n
        assert table_rows(url) != expected  # killed before the end
        _run(data)
        assert table_rows(url) == expected, (attempt, table.__tablename__, n)
    # a cap holds across a kill: what was recorded plus the rerun stays within it (the calls
    # in flight at the kill, whose usage was never written, are all that can exceed it)
    url = f"sqlite:///{tmp_path / 'capped.db'}"
    capped = job_dict(url, queries, judges=ref["judges"], chunk_size=3, budget={"max_calls": 150})
    # killed once its first usage is written (rows: the run's and a part's), so the rerun
    # has recorded usage to honour
    _kill_after(write_job(tmp_path / "capped.yaml", capped), url, JobUsageRow, 2)
    job = parse_job(capped)
    store = Store(job.store)
    recorded = get_usage(store, run_id_for(job))["calls"]  # what the killed process wrote
    made = llm_call_rows(url)  # the killed process's calls whose replies reached the cache
    gateway = fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    assert result.status in ("stopped", "ok")
    # the rerun spends exactly what the recorded usage leaves
    assert recorded > 0 and gateway.stats.calls <= 150 - recorded
    # and every reply the killed process stored had its usage recorded first (the usage logs
    # are written before each write of the call cache), so the calls stored never exceed the
    # cap: what can exceed it is only calls whose replies were never stored — in flight at
    # the kill (at most `concurrency` per endpoint: test_concurrency_caps_each_endpoint_...)
    # or answered in the last tenth of a second before the cache's next write
    assert made <= recorded, (made, recorded)
    assert llm_call_rows(url) <= 150
