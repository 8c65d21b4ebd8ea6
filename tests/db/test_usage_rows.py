"""add_usage_rows: one report adds to the run's row and its part's row together."""

from __future__ import annotations

from judgebench.db import Store
from judgebench.db.jobs import add_usage, add_usage_rows, get_usage, part_usage_key


def test_a_report_adds_to_every_row_and_accumulates(tmp_path):
    store = Store(tmp_path / "s.db")
    part = part_usage_key("run1", "judgments")
    add_usage_rows(store, ["run1", part], {"calls": 3, "cost": 0.25, "prompt_tokens": 40})
    add_usage_rows(store, ["run1", part], {"calls": 2, "cache_hits": 1, "cost": 0.5})
    add_usage(store, "run1", {"calls": 1})  # the one-row form adds to its row only
    assert get_usage(store, "run1") | {"cost": 0} == {
        "calls": 6,
        "cache_hits": 1,
        "errors": 0,
        "prompt_tokens": 40,
        "completion_tokens": 0,
        "cost": 0,
        "calls_without_price": 0,
    }
    assert get_usage(store, "run1")["cost"] == 0.75
    assert get_usage(store, part)["calls"] == 5
    assert get_usage(store, "other")["calls"] == 0


def test_an_empty_report_writes_nothing(tmp_path):
    store = Store(tmp_path / "s.db")
    add_usage_rows(store, ["run1"], {"calls": 0, "cost": 0.0})
    with store.read_session() as s:
        from judgebench.db.jobs import JobUsageRow

        assert s.query(JobUsageRow).count() == 0


def test_rows_written_on_sqlite_load_through_the_orm(tmp_path):
    """SQLite adds usage with one plain upsert: the ORM loads those rows (timestamps included)."""
    from datetime import datetime

    from judgebench.db.jobs import JobUsageRow

    store = Store(tmp_path / "s.db")
    add_usage_rows(store, ["run1", "run1:responses"], {"calls": 1, "calls_without_price": 1})
    with store.read_session() as s:
        rows = {r.run_id: r for r in s.query(JobUsageRow)}
    assert set(rows) == {"run1", "run1:responses"}
    assert all(isinstance(r.updated_at, datetime) for r in rows.values())
    assert [(r.calls, r.calls_without_price, r.cost) for r in rows.values()] == [(1, 1, 0.0)] * 2
