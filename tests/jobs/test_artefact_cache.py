"""The job's PC² artefact cache (stages._CacheFirst over the SQL criteria store): what it reads
from the store, and that a concurrent writer's row still wins."""

from __future__ import annotations

from typing import Any

from judgebench.db import Store
from judgebench.db.criteria import SqlCriteriaStore
from judgebench.jobs.stages import _CacheFirst


class CountingStore:
    """A SqlCriteriaStore that counts its reads."""

    def __init__(self, inner: SqlCriteriaStore) -> None:
        self.inner = inner
        self.reads = 0

    def get_criteria(self, key: str) -> Any:
        self.reads += 1
        return self.inner.get_criteria(key)

    def put_criteria(self, *args: Any) -> bool:
        return self.inner.put_criteria(*args)


def test_put_criteria_says_whether_its_row_was_stored(tmp_path):
    criteria = SqlCriteriaStore(Store(tmp_path / "s.db"))
    assert criteria.put_criteria("k", "q1", "sim/judge", {"v": 1}) is True
    assert criteria.put_criteria("k", "q1", "sim/judge", {"v": 2}) is False
    assert criteria.get_criteria("k") == {"v": 1}  # the first row stays


def test_cache_reads_a_key_once_and_serves_what_it_stored(tmp_path):
    counting = CountingStore(SqlCriteriaStore(Store(tmp_path / "s.db")))
    cache = _CacheFirst(counting)
    assert cache.get_criteria("k") is None
    assert cache.get_criteria("k") is None  # PC²'s re-check under its lock: remembered miss
    assert counting.reads == 1
    cache.put_criteria("k", "q1", "sim/judge", {"v": 1})
    assert cache.get_criteria("k") == {"v": 1}
    assert counting.reads == 1  # its own row, not read back
    assert counting.inner.get_criteria("k") == {"v": 1}


def test_a_concurrent_writers_row_wins(tmp_path):
    store = Store(tmp_path / "s.db")
    counting = CountingStore(SqlCriteriaStore(store))
    cache = _CacheFirst(counting)
    assert cache.get_criteria("k") is None
    SqlCriteriaStore(store).put_criteria("k", "q1", "sim/judge", {"v": "other"})
    cache.put_criteria("k", "q1", "sim/judge", {"v": "mine"})  # ignored: the key is taken
    assert cache.get_criteria("k") == {"v": "other"}
    assert counting.reads == 2


def test_rows_written_on_sqlite_read_the_same_through_the_orm(tmp_path):
    """SQLite reads and writes criteria without the ORM: the rows are the ORM's rows."""
    from sqlalchemy import select

    from judgebench.db.criteria import PC2CriteriaRow

    store = Store(tmp_path / "s.db")
    criteria = SqlCriteriaStore(store)
    payload = {"criteria": [{"name": "Genauigkeit — ß", "weight": 60}], "score": 0.1 + 0.2}
    criteria.put_criteria("k", "q1", "sim/judge", payload)
    assert criteria.get_criteria("k") == payload
    assert criteria.for_query("q1") == [payload]
    with store.read_session() as s:
        row = s.scalars(select(PC2CriteriaRow)).one()
    assert (row.key, row.query_id, row.judge_model, row.payload) == (
        "k",
        "q1",
        "sim/judge",
        payload,
    )
    assert row.created_at.year >= 2024  # a datetime the ORM parses
    with store.session() as s:  # a row the ORM wrote reads the same the other way
        s.add(PC2CriteriaRow(key="k2", query_id="q2", judge_model="m", payload={"x": [1, None]}))
    assert criteria.get_criteria("k2") == {"x": [1, None]}
    assert criteria.get_criteria("missing") is None
