"""The SQL side of PC²'s per-query artefacts: :class:`SqlCriteriaStore` on ``pc2_criteria``.

Implements the :class:`judgebench.judges.criteria_store.CriteriaStore` protocol on plain JSON
payloads (the store never imports the judges; PC2Judge validates what it reads). The key is PC2Judge's
content hash of (query, judge model, auxiliary models, baseline, templates, scale, params), so a
later evaluated model — in this process or a later run — reuses the criteria, auxiliary answers
and baseline critique and costs one judge call per query. Insert-or-ignore: concurrent writers
of the same key keep the first row.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.db.engine import sqlite_cursor, sqlite_timestamp
from judgebench.db.store import Store
from judgebench.records import utcnow


class PC2CriteriaRow(Base):
    __tablename__ = "pc2_criteria"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    query_id: Mapped[str] = mapped_column(String(64), index=True)
    judge_model: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SqlCriteriaStore:
    """PC² criteria kept in a :class:`Store` (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sqlite = store.dialect == "sqlite"

    def get_criteria(self, key: str) -> dict[str, Any] | None:
        if self._sqlite:  # a job asks once per query: a plain read without the ORM's cost
            with sqlite_cursor(self.store.engine) as cursor:
                cursor.execute("SELECT payload FROM pc2_criteria WHERE key = ?", (key,))
                row = cursor.fetchone()
            return json.loads(row[0]) if row is not None else None
        with self.store.read_session() as s:
            return s.scalar(select(PC2CriteriaRow.payload).where(PC2CriteriaRow.key == key))

    def put_criteria(
        self, key: str, query_id: str, judge_model: str, payload: dict[str, Any]
    ) -> bool:
        """Store the payload unless the key is there; True when this row was the one stored."""
        if self._sqlite:  # as in get_criteria
            with sqlite_cursor(self.store.engine, write=True) as cursor:
                cursor.execute(
                    "INSERT OR IGNORE INTO pc2_criteria"
                    " (key, query_id, judge_model, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                    (key, query_id, judge_model, json.dumps(payload), sqlite_timestamp(utcnow())),
                )
                return bool(cursor.rowcount == 1)
        row = dict(
            key=key,
            query_id=query_id,
            judge_model=judge_model,
            payload=payload,
            created_at=utcnow(),
        )
        with self.store.session() as s:
            return self.store.insert_ignore(s, PC2CriteriaRow, [row]) == 1

    def for_query(self, query_id: str) -> list[dict[str, Any]]:
        """Every stored criteria payload of one query (any judge model or configuration)."""
        with self.store.read_session() as s:
            return list(
                s.scalars(select(PC2CriteriaRow.payload).where(PC2CriteriaRow.query_id == query_id))
            )
