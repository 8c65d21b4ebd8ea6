"""Synthesis is part of the job: its calls go through the job's gateway, budget and counts.

The simulated models are served by a sim-server on 127.0.0.1, so "requests made" is what the
server counted, not what the gateway believes it did.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from judgebench.config import settings_from_dict
from judgebench.db import Store
from judgebench.db.jobs import get_usage
from judgebench.jobs.config import JobConfig
from judgebench.jobs.runner import JobRunner
from judgebench.sim.server import ServerThread, SimServer


@pytest.fixture
def served() -> Iterator[SimServer]:
    server = SimServer()
    thread = ServerThread(server)
    thread.start()
    yield server
    thread.stop()


def synth_job(store: str, max_calls: int | None, *, every_kind: bool = False) -> JobConfig:
    """A job that synthesizes its queries; ``every_kind``: also LLM assignment of synthesized
    queries and a PC² judge (auxiliary answers, criteria), so every kind of call a job makes
    is in it."""
    judges: list[dict[str, object]] = [{"kind": "pairwise", "model": "sim/judge"}]
    if every_kind:
        judges.append(
            {"kind": "pc2", "model": "sim/judge", "aux_models": ["sim/large", "sim/coder"]}
        )
    return JobConfig.model_validate(
        {
            "name": "synth-budget",
            "store": store,
            "taxonomy": {"source": "default", "max_depth": 3},
            "queries": {
                "encoder": "lexical",
                "synth": {
                    "under": ["coding/task-types"],
                    "settings": {
                        "generators": ["sim/large"],
                        "judge": "sim/judge",
                        "per_node": 2,
                        "seed": 3,
                        "reassign": "llm" if every_kind else "none",
                    },
                },
            },
            "models": [
                {"name": "sim/small", "params": {"temperature": 0, "max_tokens": 200}},
                {"name": "sim/coder", "params": {"temperature": 0, "max_tokens": 200}},
            ],
            "judges": judges,
            "concurrency": 8,
            "budget": {"max_calls": max_calls} if max_calls else {},
        }
    )


def served_gateway(server: SimServer, store_url: str):  # type: ignore[no-untyped-def]
    """The gateway `judgebench run` makes (the store's call cache), every sim model served."""
    from judgebench.db import Store
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway, set_gateway

    settings = settings_from_dict({"models": {"sim/*": {"api_base": server.url, "max_retries": 0}}})
    gateway = Gateway(settings=settings, cache=SQLCallCache(Store(store_url)))
    set_gateway(gateway)
    return gateway


@pytest.mark.parametrize("every_kind", [False, True], ids=["synth+pairwise", "every-kind"])
@pytest.mark.parametrize("max_calls", [5, 20, 45, 90])
def test_max_calls_holds_across_synthesis_and_stages(served, tmp_path, max_calls, every_kind):
    store = f"sqlite:///{tmp_path / 'jobs.db'}"
    served_gateway(served, store)
    result = JobRunner(synth_job(store, max_calls, every_kind=every_kind)).run()
    made = served.stats["requests"]
    assert 0 < made <= max_calls  # budgets reserve before the call: in-flight calls included
    assert result.usage["calls"] == made  # what the run reports is what the server saw
    assert result.status != "ok"  # this job needs far more calls than any of these caps


@pytest.mark.parametrize("every_kind", [False, True], ids=["synth+pairwise", "every-kind"])
def test_reported_calls_equal_requests_without_a_cap(served, tmp_path, every_kind):
    store = f"sqlite:///{tmp_path / 'jobs.db'}"
    served_gateway(served, store)
    result = JobRunner(synth_job(store, None, every_kind=every_kind)).run()
    made = served.stats["requests"]
    assert made > 90 and result.usage["calls"] == made
    stored = get_usage(Store(store), result.run_id)  # written per call, once each
    assert stored["calls"] == made and stored["cost"] == pytest.approx(result.usage["cost"])
    # a rerun of the finished job asks the server nothing: synthesis reads the call cache too
    served_gateway(served, store)
    again = JobRunner(synth_job(store, None, every_kind=every_kind)).run()
    assert served.stats["requests"] == made and again.usage.get("calls", 0) == 0


@pytest.mark.slow
@pytest.mark.parametrize(("max_calls", "probe"), [(20, True)])
def test_cli_reports_every_request_it_made(served, tmp_path, max_calls, probe):
    """`judgebench run` (a subprocess): the calls it prints, plus the pre-flight probes it
    says it made, are the requests the server counted."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    registry = {"models": {"sim/*": {"api_base": served.url, "max_retries": 0}}}
    (tmp_path / "judgebench.yaml").write_text(yaml.safe_dump(registry), encoding="utf-8")
    job = synth_job(f"sqlite:///{tmp_path / 'jobs.db'}", max_calls).model_dump(mode="json")
    job = {k: v for k, v in job.items() if v not in (None, [], {})}
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    env.pop("JUDGEBENCH_CONFIG", None)
    args = [
        sys.executable,
        "-m",
        "judgebench",
        "run",
        "job.yaml",
        *([] if probe else ["--no-probe"]),
    ]
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == (1 if max_calls else 0), proc.stderr[-2000:]
    calls = int(re.search(r"LLM calls (\d+)", proc.stdout).group(1))  # type: ignore[union-attr]
    probes = re.search(r"pre-flight: (\d+) probe call", proc.stderr)
    probed = int(probes.group(1)) if probes else 0
    assert probed == (1 if probe else 0)  # every sim/* model shares one endpoint
    assert calls + probed == served.stats["requests"]
    if max_calls:
        assert calls <= max_calls
