"""Determinism holds across processes (no dependence on Python's per-process hash seed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from judgebench.sim import SimBackend
from tests.sim.conftest import QUERIES

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
from judgebench.sim import SimBackend
from judgebench.sim.criteria import derive_criteria
queries = json.loads(sys.stdin.read())
b = SimBackend()
out = []
for q in queries:
    a = b.complete_now("sim/noisy-judge", [{"role": "user", "content": q}], None, {"temperature": 0.9, "sample_index": 2}).text
    t = b.complete_now("sim/small", None, a + q, {"echo": True, "logprobs": 2, "max_tokens": 3})
    out.append([a, t.text, [x.logprob for x in t.logprobs], [c.name for c in derive_criteria(q, [a, q])]])
print(json.dumps(out))
"""


def _run(queries: list[str], hash_seed: str) -> list:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout)


def test_same_replies_in_processes_with_different_hash_seeds():
    queries = [qs[0] for qs in QUERIES.values()]
    first, second = _run(queries, "1"), _run(queries, "987")
    assert first == second
    here = SimBackend().complete_now(
        "sim/noisy-judge",
        [{"role": "user", "content": queries[0]}],
        None,
        {"temperature": 0.9, "sample_index": 2},
    )
    assert here.text == first[0][0]
