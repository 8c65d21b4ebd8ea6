"""A references file big enough for the input check but with too few references for one
query (all of them on that query, which a judgment never compares with): that query's
judgments are stored ``invalid`` with the reason, the run is ``partial``, and a rerun keeps
them (no error row, no retry) since a rerun cannot change the file."""

from __future__ import annotations

import json
import sqlite3

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from tests.jobs.conftest import fresh_gateway, job_dict, write_queries

MODELS = ("sim/coder", "sim/small", "sim/writer")


def test_a_query_without_other_queries_references_is_invalid_and_kept(tmp_path):
    queries = write_queries(tmp_path / "q.jsonl", 2)
    own = json.loads(queries.read_text("utf-8").splitlines()[0])["text"]
    refs = tmp_path / "refs.jsonl"  # both references are on query 0: it has none to compare
    refs.write_text(
        "".join(
            json.dumps({"query": own, "response": f"Answer {i}.", "correct": i == 0}) + "\n"
            for i in range(2)
        ),
        "utf-8",
    )
    judges = [{"kind": "meta_ranking", "model": "sim/judge", "references": str(refs), "n_refs": 2}]
    data = job_dict(f"sqlite:///{tmp_path / 'm.db'}", queries, models=MODELS, judges=judges)
    store = Store(data["store"])

    def run():  # type: ignore[no-untyped-def]
        gateway = fresh_gateway(store)
        result = JobRunner(parse_job(data), store=store).run()
        return store.get_run(result.run_id), gateway.stats.calls

    first, _ = run()
    assert first.status == "partial"
    assert first.counts["judgments"] == {"ok": 3, "invalid": 3, "error": 0, "skipped": 0}
    invalid = [j for j in store.get_judgments(judge="meta_ranking") if j.status == "invalid"]
    assert sorted(j.model for j in invalid) == sorted(MODELS)
    assert all("only 0 references from other queries" in (j.reason or "") for j in invalid)
    assert all(j.score is None and "too_few_references" in j.flags for j in invalid)

    again, calls = run()
    assert calls == 0  # nothing re-asked, nothing retried
    assert again.counts == first.counts and again.status == "partial"
    errors = sqlite3.connect(tmp_path / "m.db").execute("select count(*) from errors").fetchone()
    assert errors == (0,)
