"""bench/taxonomy_assign.py on any labelled JSONL: headline lines and a real signal."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

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


def test_bench_on_a_labelled_jsonl(tmp_path, capsys):
    rows = []
    for label, topics in TOPICS.items():
        for topic in topics:
            rows.append({"text": f"Help me with a {topic}.", "label": label})
            rows.append({"text": f"I need a {topic}, thanks", "label": label})
    data = tmp_path / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    spec = importlib.util.spec_from_file_location("taxonomy_assign_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--data", str(data), "--encoders", "lexical"]) == 0
    out = capsys.readouterr().out
    lines = dict(
        line.split(": ", 1) for line in out.splitlines() if line.count(":") == 1 and ": " in line
    )
    assert float(lines["accuracy_lexical"]) > 0.6 > 0.4 > float(lines["majority_baseline"])
    assert float(lines["prompts_per_s"]) > 0
    assert "per class: code" in out
