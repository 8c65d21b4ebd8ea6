"""`--executor ray` on a local Ray cluster bound to 127.0.0.1, writing to PostgreSQL: the same
rows as the local executor, with one judge of every kind."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from tests.jobs.conftest import all_judges, fresh_gateway, llm_call_rows, table_rows

pytestmark = [pytest.mark.ray, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def local_ray(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    # loopback only (ENVIRONMENT.md): no cloud-metadata probe, no dashboard, no usage stats
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "ray_bootstrap_config.yaml").write_text("provider: {type: local}\n")
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    temp_dir = tempfile.mkdtemp(prefix="jbray", dir="/tmp")  # Ray's socket paths must stay short
    from judgebench.jobs.executors import RayExecutor

    executor = RayExecutor(None, num_cpus=2, temp_dir=temp_dir, max_in_flight=4)
    yield executor
    import ray

    ray.shutdown()
    shutil.rmtree(temp_dir, ignore_errors=True)


def test_ray_executor_matches_the_local_executor(tiny, postgres_url, local_ray):
    from tests.pg import create_database

    ray_url = create_database(postgres_url, f"jobs_ray_{os.getpid()}")
    local_url = create_database(postgres_url, f"jobs_local_{os.getpid()}")
    for url, executor in ((ray_url, local_ray), (local_url, "local")):
        job = parse_job({**tiny(judges=all_judges()), "store": url})
        store = Store(job.store)
        fresh_gateway(store)
        result = JobRunner(job, store=store, executor=executor).run()
        assert result.status == "ok", result.reason
    import ray

    assert ray.is_initialized()
    nodes = ray.nodes()
    assert all(n["NodeManagerAddress"] == "127.0.0.1" for n in nodes)
    assert table_rows(ray_url) == table_rows(local_url)
    assert llm_call_rows(ray_url) == llm_call_rows(local_url)
    run = Store(ray_url).list_runs(kind="job")[0]
    assert run.status == "ok" and run.config["summary"]["models"]
    # a rerun on Ray finds everything done: no task makes a call
    job = parse_job({**tiny(judges=all_judges()), "store": ray_url})
    store = Store(job.store)
    again = JobRunner(job, store=store, executor=local_ray).run()
    assert again.status == "ok" and again.calls == 0
    # sampling: adaptive on Ray draws the same rounds and stores the same rows as locally
    adaptive = {"mode": "adaptive", "batch_size": 12, "target": {"min_per_arm": 5}}
    urls = []
    for name, executor in (("ray", local_ray), ("local", "local")):
        url = create_database(postgres_url, f"jobs_adaptive_{name}_{os.getpid()}")
        job = parse_job({**tiny(), "store": url, "sampling": adaptive})
        store = Store(job.store)
        fresh_gateway(store)
        result = JobRunner(job, store=store, executor=executor).run()
        assert result.status == "ok", result.reason
        urls.append(url)
    assert table_rows(urls[0]) == table_rows(urls[1])
    reports = [Store(u).list_runs(kind="job")[0].config["adaptive"] for u in urls]
    assert reports[0] == reports[1] and all(r["judged"] <= r["full"] for r in reports[0])
