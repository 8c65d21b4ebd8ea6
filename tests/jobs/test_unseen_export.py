"""`judgebench export` carries everything a run's counts are made of: a listwise judge's
comparisons (the evidence behind its rankings) and the run's error rows, so the exported files
agree with the store and with the run's own counts."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.export import export_run
from tests.jobs.conftest import fresh_gateway, job_dict, write_queries


def _lines(path) -> list[dict]:  # type: ignore[no-untyped-def]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp_path = tmp_path_factory.mktemp("finished")  # one run read by every test here
    queries = write_queries(tmp_path / "q.jsonl", 3)
    judges = [
        {"kind": "prp", "model": "sim/judge", "method": "allpairs"},
        {"kind": "rubric", "model": "sim/does-not-exist"},  # every call of this judge fails
    ]
    data = job_dict(
        f"sqlite:///{tmp_path / 'x.db'}", queries, models=("sim/coder", "sim/small"), judges=judges
    )
    store = Store(data["store"])
    fresh_gateway(store)
    result = JobRunner(parse_job(data), store=store).run()
    return store, result


def test_export_holds_the_comparisons_and_the_errors_the_run_counted(finished, tmp_path):
    store, result = finished
    assert result.status == "failed"  # the rubric judge produced nothing
    counts = store.get_run(result.run_id).counts["judgments"]
    out = tmp_path / "out"
    written = {p.name for p in export_run(store, result.run_id, "jsonl", out)}
    assert {"comparisons.jsonl", "errors.jsonl", "judgments.jsonl"} <= written

    errors = _lines(out / "errors.jsonl")
    assert len(errors) == counts["error"] == 6  # 3 queries x 2 models, one row per failed call
    assert {e["stage"] for e in errors} == {"job.judgments"}
    assert all("sim/does-not-exist" in e["message"] for e in errors)

    comparisons = _lines(out / "comparisons.jsonl")
    assert len(comparisons) == 3  # one pair per query
    assert all(c["judge"] == "prp" and c["kind"] == "pairwise" for c in comparisons)
    assert all(c["raw_replies"] for c in comparisons)
    judgments = _lines(out / "judgments.jsonl")
    assert {j["kind"] for j in judgments} == {"ranking"}  # comparisons are not mixed in
    assert len(judgments) == counts["ok"] + counts["invalid"]

    csv_out = tmp_path / "csv"
    export_run(store, result.run_id, "csv", csv_out)
    assert len(pd.read_csv(csv_out / "errors.csv")) == len(errors)
    assert len(pd.read_csv(csv_out / "comparisons.csv")) == len(comparisons)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_exported_queries_read_back_as_a_job_queries_file(finished, tmp_path, fmt):
    from judgebench.records import Query
    from judgebench.synth import load_seed_file

    store, result = finished
    export_run(store, result.run_id, fmt, tmp_path / fmt)
    stored = {q.id: q for q in store.get_queries()}
    again = load_seed_file(tmp_path / fmt / f"queries.{fmt}")
    assert len(again) == len(stored)
    for q in again:
        original = stored[q.metadata["seed_file_id"]]
        assert Query.natural_key(q.text, "import") == original.id
        # CSV writes node_ids as a JSON list: it was read back as one node '["a/b"]'
        assert q.node_ids == original.node_ids and q.node_ids


def test_a_table_with_no_row_is_exported_with_its_header(tmp_path):
    queries = write_queries(tmp_path / "q.jsonl", 2)
    data = job_dict(
        f"sqlite:///{tmp_path / 'clean.db'}",
        queries,
        models=("sim/coder",),
        judges=[{"kind": "rubric", "model": "sim/judge"}],
    )
    store = Store(data["store"])
    fresh_gateway(store)
    result = JobRunner(parse_job(data), store=store).run()
    assert result.status == "ok"
    export_run(store, result.run_id, "csv", tmp_path / "csv")
    errors = pd.read_csv(tmp_path / "csv" / "errors.csv")  # was an empty file: EmptyDataError
    assert errors.empty and {"stage", "subject", "message", "run_id"} <= set(errors.columns)
    assert "raw_replies" in pd.read_csv(tmp_path / "csv" / "comparisons.csv").columns
    pytest.importorskip("pyarrow")
    export_run(store, result.run_id, "parquet", tmp_path / "pq")
    assert "message" in pd.read_parquet(tmp_path / "pq" / "errors.parquet").columns
