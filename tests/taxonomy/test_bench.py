"""bench/taxonomy_assign.py on any labelled JSONL: headline lines and a real signal."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "taxonomy_assign.py"

TOPICS = {
    "code": [
        "python function",
        "javascript bug",
        "sql query",
        "rust compiler error",
        "java class",
        "bash script",
    ],
    "poem": [
        "sonnet about love",
        "haiku on snow",
        "limerick about a cat",
        "ballad of the sea",
        "ode to autumn",
        "free verse on rain",
    ],
    "math": [
        "integral of x squared",
        "solve the quadratic equation",
        "prove the triangle inequality",
        "derivative of sine",
        "probability of two dice",
        "matrix determinant",
    ],
}


def _bench():
    spec = importlib.util.spec_from_file_location("taxonomy_assign_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_on_a_labelled_jsonl(tmp_path, capsys):
    rows = []
    for label, topics in TOPICS.items():
        for topic in topics:
            rows.append({"text": f"Help me with a {topic}.", "label": label})
            rows.append({"text": f"I need a {topic}, thanks", "label": label})
    data = tmp_path / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    module = _bench()
    assert module.main(["--data", str(data), "--encoders", "lexical", "--cache-dir", ""]) == 0
    out = capsys.readouterr().out
    lines = dict(
        line.split(": ", 1) for line in out.splitlines() if line.count(":") == 1 and ": " in line
    )
    assert float(lines["accuracy_lexical"]) > 0.6 > 0.4 > float(lines["majority_baseline"])
    assert float(lines["prompts_per_s"]) > 0
    assert 0 < float(lines["coverage_at_p90"]) <= 1 and 0 < float(lines["macro_f1"]) <= 1
    assert "per class: code" in out and "logistic regression (lexical)" in out
    assert "clusters_accuracy" not in lines  # the cluster benchmark runs on Arena-Hard only


def test_metrics():
    module = _bench()
    correct = np.array([1, 1, 0, 1, 0], dtype=bool)
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    # most confident first: precision 1, 1, 2/3, 3/4, 3/5 → the largest prefix at >= 0.75 is 4
    assert module.coverage_at_precision(correct, confidence, 0.75) == 0.8
    assert module.coverage_at_precision(correct, confidence, 1.0) == 0.4
    assert module.coverage_at_precision(~correct & False, confidence, 0.5) == 0.0
    # bins 0.9, 0.8, 0.7, 0.6, 0.5 hold one query each: gaps .1 .2 .7 .4 .5, each weighted 1/5
    assert module.expected_calibration_error(correct, confidence) == pytest.approx(1.9 / 5)
    # per class F1: a = 2/3 (tp 1, fn 1), b = 2/3 (tp 1, fp 1) → macro 2/3
    assert module.macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)


@pytest.mark.real_data
def test_clusters_combined_beats_one_nearest_neighbour_lexical():
    module = _bench()
    if not module.ARENA_V01.is_file():
        pytest.skip(f"shared data absent: {module.ARENA_V01}")
    from judgebench.embed import LexicalEncoder

    results = module.clusters(
        {"lexical": LexicalEncoder()}, only={"lexical 1-NN", "combined (lexical only)"}
    )
    one_nn = results["lexical 1-NN"]["accuracy"]
    assert results["combined (lexical only)"]["accuracy"] > one_nn + 0.05
