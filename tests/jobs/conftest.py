"""Small jobs for the jobs tests: imported queries (no synthesis), simulated models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

TOPICS = [
    "Write a Python function that {x} and add unit tests.",
    "Explain to a beginner how {x} works, with one example.",
    "Write a short poem about {x}.",
    "Solve step by step: a shop sells {x}; how much do 7 cost?",
    "Debug this: my JavaScript code that handles {x} throws TypeError undefined.",
    "Compare two approaches to {x} and recommend one.",
]
THINGS = [
    "sorting a list of records by date",
    "the water cycle",
    "pens at 3 dollars each",
    "parsing CSV files with quotes",
    "caching web requests",
    "autumn in a mountain village",
]


def write_queries(path: Path, n: int) -> Path:
    rows = [
        {
            "text": TOPICS[i % len(TOPICS)].format(x=THINGS[(i // len(TOPICS)) % len(THINGS)])
            + f" (case {i})"
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def job_dict(
    store: str,
    queries: Path,
    *,
    models=("sim/coder", "sim/writer", "sim/small"),
    pairwise: bool = True,
    judges: list[dict] | None = None,
    chunk_size: int = 5,
    **extra,
) -> dict:
    if judges is None:
        judges = [
            {"kind": "pc2", "model": "sim/judge", "aux_models": ["sim/large", "sim/generalist"]}
        ]
        if pairwise:
            judges.append({"kind": "pairwise", "model": "sim/judge"})
    return {
        "name": "tiny",
        "store": store,
        "taxonomy": {"source": "default", "max_depth": 2},
        "queries": {"files": [str(queries)], "encoder": "lexical"},
        "models": [{"name": m, "params": {"temperature": 0, "max_tokens": 300}} for m in models],
        "judges": judges,
        "concurrency": 16,
        "chunk_size": chunk_size,
        **extra,
    }


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def all_judges(references: Path = EXAMPLES / "references.jsonl") -> list[dict]:
    """One judge of each built-in kind (every shape), on simulated models."""
    return [
        {"kind": "pc2", "model": "sim/judge", "aux_models": ["sim/large", "sim/generalist"]},
        {"kind": "rubric", "model": "sim/judge"},
        {"kind": "pairwise", "model": "sim/judge", "baseline": "sim/small"},
        {"kind": "prp", "model": "sim/judge"},
        {
            "kind": "meta_ranking",
            "model": "sim/judge",
            "references": str(references),
            "n_refs": 4,
            "calibrate": True,
        },
        {"kind": "trlm", "backend": "sim/large"},
    ]


def write_job(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path):
    """(job dict factory, tmp dir): 12 queries, 3 simulated models, PC² + pairwise."""
    queries = write_queries(tmp_path / "queries.jsonl", 12)

    def make(name: str = "store.db", **kwargs) -> dict:
        return job_dict(f"sqlite:///{tmp_path / name}", queries, **kwargs)

    return make


def fresh_gateway(store):
    """A gateway with the store's call cache, as `judgebench run` makes (fresh counters)."""
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway, set_gateway

    gateway = Gateway(cache=SQLCallCache(store))
    set_gateway(gateway)
    return gateway


def table_rows(url: str) -> dict[str, set]:
    """What a job stored, by natural key, with the decision each row holds."""
    from judgebench.db import Store

    store = Store(url)
    return {
        "queries": {(q.id, tuple(q.node_ids)) for q in store.get_queries()},
        "responses": {(r.id, r.text) for r in store.get_responses()},
        "judgments": {(j.id, j.status, j.score, j.verdict) for j in store.get_judgments()},
    }


def llm_call_rows(url: str) -> int:
    from sqlalchemy import func, select

    from judgebench.db import Store
    from judgebench.db.models import LLMCallRow

    with Store(url).session() as s:
        return int(s.scalar(select(func.count()).select_from(LLMCallRow)))
