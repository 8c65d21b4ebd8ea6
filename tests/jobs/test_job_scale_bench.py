"""bench/job_scale.py at a tiny size: the headline block, with its same-run gateway baseline."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "job_scale.py"


@pytest.mark.timeout(180)
def test_job_scale_prints_a_raw_gateway_baseline_and_the_overhead_ratio():
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--n", "8", "--latency-ms", "2", "--concurrency", "16"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    headline = dict(re.findall(r"^(\w+): ([\d.]+)$", proc.stdout, flags=re.M))
    for name in ("wall_s", "calls_per_s", "peak_rss_mb", "second_run_calls"):
        assert name in headline  # the names BENCH.md asks for stay
    job_rate = float(headline["calls_per_s"])
    raw_rate = float(headline["raw_gateway_calls_per_s"])
    assert raw_rate > 0 and job_rate > 0
    assert float(headline["job_overhead_ratio"]) == pytest.approx(job_rate / raw_rate, rel=0.01)
    # the baseline sends as many calls as the big job made
    job_calls = re.search(r"N=\s*8: [\d.]+ s, (\d+) calls", proc.stdout)
    raw_calls = re.search(r"raw gateway \(no job\): (\d+) calls", proc.stdout)
    assert job_calls and raw_calls and job_calls.group(1) == raw_calls.group(1)
    # the baseline sends the job's mix: the same calls per endpoint (model), in the same total
    mix = re.search(r"calls per endpoint \(N=8\): (\{.*\})", proc.stdout)
    assert mix, proc.stdout
    per_model = ast.literal_eval(mix.group(1))
    assert sum(per_model.values()) == int(raw_calls.group(1))
    assert per_model["sim/judge"] == 6 * 8  # PC²: criteria, baseline critique, 4 scorings
    # the sampled calls in flight (a 0.1 s gauge may see none at 2 ms): both sides under the
    # same cap, 16 per endpoint, a peak never below its mean
    cap = 16 * len(per_model)
    assert float(headline["raw_peak_in_flight"]) <= cap
    assert float(headline["job_peak_in_flight"]) <= cap
    assert float(headline["job_peak_in_flight"]) >= float(headline["job_mean_in_flight"])
    for name in ("job_cpu_share", "raw_cpu_share", "server_cpu_share_job"):
        assert float(headline[name]) > 0
