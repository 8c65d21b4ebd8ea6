"""Usage reaches job_usage as calls are made, so a shard killed mid-way keeps its calls' usage.

A worker process runs a job whose models are served by a sim-server in this process. The
server answers the first K requests and then holds every later one, so the worker is stuck in
its first shard with exactly K calls made; after a moment it is killed with SIGKILL (what
happens to a Ray shard's worker). Every one of the K calls must be in job_usage — before usage
was written per call, a shard that never finished recorded none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from judgebench.db import Store
from judgebench.db.jobs import get_usage
from judgebench.jobs import parse_job
from judgebench.jobs.runner import run_id_for
from judgebench.jobs.usage import DEFAULT_INTERVAL_S
from judgebench.sim.server import FaultConfig, ServerThread, SimServer

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys, yaml
from judgebench.jobs import JobRunner, parse_job
JobRunner(parse_job(yaml.safe_load(open(sys.argv[1])))).run()
"""


@pytest.mark.parametrize("answered", [3, 11])
def test_a_killed_shard_keeps_the_usage_of_every_call_it_made(tiny, tmp_path, answered):
    server = SimServer(faults=FaultConfig(script=["ok"] * answered + ["hang"] * 64, hang_s=60))
    thread = ServerThread(server)
    thread.start()
    try:
        settings = tmp_path / "judgebench.yaml"
        settings.write_text(
            yaml.safe_dump({"models": {"sim/*": {"api_base": server.url, "max_retries": 0}}}),
            encoding="utf-8",
        )
        data = tiny(models=("sim/coder", "sim/small"), chunk_size=50)
        data["concurrency"] = 4
        job_file = tmp_path / "job.yaml"
        job_file.write_text(yaml.safe_dump(data), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(ROOT), "JUDGEBENCH_CONFIG": str(settings)}
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(job_file)], cwd=tmp_path, env=env
        )
        try:
            deadline = time.monotonic() + 60
            while server.stats["requests"] <= answered:  # answered all, now holding one
                assert worker.poll() is None, "the worker ended before it was killed"
                assert time.monotonic() < deadline, "the worker never reached the held calls"
                time.sleep(0.05)
            time.sleep(3 * DEFAULT_INTERVAL_S)  # a quiet spell: nothing completes
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
    finally:
        thread.stop()
    usage = get_usage(Store(data["store"]), run_id_for(parse_job(data)))
    assert usage["calls"] == answered  # every answered call, none of the held ones
    assert usage["prompt_tokens"] > 0 and usage["cost"] > 0
