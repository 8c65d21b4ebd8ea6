"""The store behaves the same on SQLite and PostgreSQL: idempotent writes, round trips,
transactions, migrations that match the models, and concurrent writers that lose nothing."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import select

from judgebench.db import Store
from judgebench.db.models import LLMCallRow, QueryRow
from judgebench.errors import ConfigError
from judgebench.records import CriterionScore, ErrorRecord, Judgment, Query, Response, Run

BACKENDS = pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)


def _records(n: int = 3):
    queries = [
        Query(text=f"question {i}", node_ids=["coding/python"], taxonomy_version=1)
        for i in range(n)
    ]
    responses = [
        Response(query_id=q.id, model="sim/coder", text=f"answer {i}")
        for i, q in enumerate(queries)
    ]
    judgments = [
        Judgment(
            judge="rubric",
            judge_model="sim/judge",
            query_id=r.query_id,
            response_id=r.id,
            model=r.model,
            template_name="judges:rubric",
            template_hash="abc",
            score=float(i + 1),
            criteria=[CriterionScore(name="accuracy", weight=60, score=4)],
            raw_replies=['{"score": 1}'],
        )
        for i, r in enumerate(responses)
    ]
    return queries, responses, judgments


@BACKENDS
def test_writes_are_idempotent_and_round_trip(store_url):
    store = Store(store_url)
    queries, responses, judgments = _records()
    assert store.put_queries(queries) == 3
    assert store.put_queries(queries) == 0
    assert store.put_responses(responses) == 3
    assert store.put_responses(responses + responses) == 0
    assert store.put_judgments(judgments) == 3
    assert store.put_judgments(judgments) == 0

    got = {j.id: j for j in store.get_judgments(judge="rubric")}
    assert got == {
        j.id: j.model_copy(update={"created_at": got[j.id].created_at}) for j in judgments
    }
    assert sorted(q.text for q in store.get_queries()) == sorted(q.text for q in queries)
    assert {r.id for r in store.get_responses(model="sim/coder")} == {r.id for r in responses}
    assert store.existing_ids(QueryRow, [q.id for q in queries] + ["nope"]) == {
        q.id for q in queries
    }


def test_reads_by_id_lists_longer_than_one_chunk(tmp_path):
    store = Store(tmp_path / "s.db")
    queries, responses, judgments = _records(520)  # past the 500-parameter chunk
    store.put_queries(queries)
    store.put_responses(responses)
    store.put_judgments(judgments)
    query_ids = [q.id for q in queries]
    assert len(store.get_queries(ids=query_ids + ["nope"])) == 520
    assert {r.id for r in store.get_responses(query_ids=query_ids[-510:])} == {
        r.id for r in responses[-510:]
    }
    assert {r.id for r in store.get_responses(ids=[r.id for r in responses[:3]])} == {
        r.id for r in responses[:3]
    }
    assert len(store.get_judgments(query_ids=query_ids)) == 520
    assert store.get_responses(ids=[]) == []


@BACKENDS
def test_invalid_judgments_keep_raw_reply_and_reason(store_url):
    store = Store(store_url)
    q = Query(text="q")
    bad = Judgment(
        judge="rubric",
        judge_model="sim/judge",
        query_id=q.id,
        template_name="t",
        template_hash="h",
        status="invalid",
        reason="no score found after 2 retries",
        raw_replies=["It depends...", "I cannot say."],
    )
    store.put_judgments([bad])
    (back,) = store.get_judgments(status="invalid")
    assert back.score is None and back.reason == bad.reason and back.raw_replies == bad.raw_replies


@BACKENDS
def test_runs_errors_and_rollback(store_url):
    store = Store(store_url)
    run = Run(kind="job", name="nightly", job_name="nightly")
    store.put_run(run)
    store.put_run(run)  # upsert, not a duplicate
    store.finish_run(run.id, "stopped", "budget cap: max_calls=10")
    (back,) = store.list_runs(job_name="nightly")
    assert back.status == "stopped" and back.reason.startswith("budget") and back.finished_at

    store.record_error(
        ErrorRecord(
            stage="responses", subject="q1/sim/x", message="timeout after 3 tries", run_id=run.id
        )
    )
    assert [e.message for e in store.get_errors(run_id=run.id)] == ["timeout after 3 tries"]

    queries, _, _ = _records(1)
    with pytest.raises(RuntimeError), store.session() as s:
        row = dict(id=queries[0].id, text="x", source="user", node_ids=[], provenance={}, meta={})
        assert store.insert_ignore(s, QueryRow, [row]) == 1
        raise RuntimeError("boom")
    assert store.get_queries() == []  # the failed transaction left nothing


@BACKENDS
def test_migrations_match_models(store_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import judgebench.db.tables  # noqa: F401
    from judgebench.db.base import Base
    from judgebench.db.migrate import upgrade

    upgrade(store_url)
    store = Store(store_url, create=False)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models changed without a migration: {diff}"


def test_bad_urls_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="unsupported store URL scheme: mysql"):
        Store("mysql://x/y")
    with pytest.raises(ConfigError, match="does not exist"):
        Store(tmp_path / "missing" / "dir" / "x.db")


def _increment(url: str, n: int, start: mp.Event) -> None:
    store = Store(url, create=False)
    start.wait()
    for _ in range(n):
        # read-then-write in one transaction: lost updates would show as a short count
        # (SQLite: BEGIN IMMEDIATE takes the write lock; PostgreSQL: SELECT ... FOR UPDATE)
        with store.session() as s:
            row = s.get(LLMCallRow, "counter", with_for_update=True)  # PostgreSQL row lock
            row.hits = row.hits + 1
    for i in range(n):
        q = Query(text=f"from {mp.current_process().name} {i}")
        store.put_queries([q, Query(text=f"shared {i}")])


@BACKENDS
def test_two_processes_writing_at_once_lose_nothing(store_url):
    store = Store(store_url)
    with store.session() as s:
        s.add(LLMCallRow(key="counter", model="-", request={}, response={}, hits=0))
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    n = 60
    procs = [
        ctx.Process(target=_increment, args=(store_url, n, start), name=f"w{i}") for i in range(2)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    with store.session() as s:
        assert s.scalar(select(LLMCallRow.hits).where(LLMCallRow.key == "counter")) == 2 * n
    texts = [q.text for q in store.get_queries()]
    assert len(texts) == len(set(texts)) == 2 * n + n  # each process's own + the shared ones once


def test_judgments_without_responses_are_told_apart_by_model(tmp_path):
    store = Store(tmp_path / "s.db")
    common = dict(
        judge="import:x", judge_model="human", query_id="q1", template_name="t", template_hash="h"
    )
    a = Judgment(**common, model="model-a", score=1.0)
    b = Judgment(**common, model="model-b", score=0.0)
    assert a.id != b.id
    assert store.put_judgments([a, b]) == 2
    with_response = Judgment(**common, response_id="r1", model="model-a", score=1.0)
    assert with_response.id == Judgment.natural_key("import:x", "human", "h", {}, "q1", "r1")


def test_readers_do_not_wait_for_a_writer(tmp_path):
    """A job holding the SQLite write lock must not stall the dashboard's reads."""
    import threading

    store = Store(tmp_path / "s.db")
    store.put_queries([Query(text="already there")])
    result: list[int] = []
    with store.session() as writer:  # BEGIN IMMEDIATE: the write lock is held until the end
        writer.add(
            QueryRow(id="x", text="pending", source="user", node_ids=[], provenance={}, meta={})
        )
        writer.flush()

        def read() -> None:
            result.append(len(store.get_queries()))
            with store.read() as conn:
                result.append(conn.execute(select(QueryRow.id)).all().__len__())

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "a read waited for the writer's lock"
    assert result == [1, 1]  # the uncommitted row is not visible
    assert len(store.get_queries()) == 2


def test_taxonomy_and_criteria_reads_do_not_wait_for_a_writer(tmp_path):
    """Taxonomy versions and PC² criteria are read on read-only connections too."""
    import threading

    from judgebench.db.criteria import SqlCriteriaStore
    from judgebench.db.taxonomy import (
        find_version,
        list_taxonomy_versions,
        load_taxonomy_version,
        node_query_counts,
        save_taxonomy_version,
    )
    from judgebench.taxonomy import Taxonomy

    store = Store(tmp_path / "s.db")
    tree = Taxonomy("tiny")
    tree.add(tree.add("", "Coding", "code"), "Python", "scripts")
    version, _ = save_taxonomy_version(store, tree)
    criteria = SqlCriteriaStore(store)
    criteria.put_criteria("k1", "q1", "sim/judge", {"criteria": ["accuracy"]})
    result: list[object] = []
    with store.session() as writer:  # BEGIN IMMEDIATE: the write lock is held until the end
        writer.add(
            QueryRow(id="x", text="pending", source="user", node_ids=[], provenance={}, meta={})
        )
        writer.flush()

        def read() -> None:
            result.append(len(list_taxonomy_versions(store)))
            result.append(load_taxonomy_version(store).content_hash() == tree.content_hash())
            result.append(find_version(store, tree))
            result.append(node_query_counts(store, tree, version))
            result.append(criteria.get_criteria("k1"))
            result.append(len(criteria.for_query("q1")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "a read waited for the writer's lock"
    assert result == [1, True, version, {}, {"criteria": ["accuracy"]}, 1]
