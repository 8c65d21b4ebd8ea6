"""Synthesis progress in the store: one row per attempt, seed assignments, and kept queries.

``StoreJournal`` implements ``judgebench.synth.journal.SynthJournal``; kept queries go to the
ordinary ``queries`` table (source ``synth``, provenance attached) through ``Store.put_queries``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.db.store import Store
from judgebench.records import ErrorRecord, Query, utcnow

if TYPE_CHECKING:  # the synth package pulls in the gateway; the schema must not
    from judgebench.synth.journal import Attempt


class SynthAttemptRow(Base):
    __tablename__ = "synth_attempts"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), index=True)
    node_id: Mapped[str] = mapped_column(String(500))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32), index=True)
    query_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SynthSeedNodesRow(Base):
    __tablename__ = "synth_seed_nodes"
    run_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    query_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_ids: Mapped[list[Any]] = mapped_column(default=list)


class StoreJournal:
    """The synthesis journal on a :class:`~judgebench.db.Store` (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load_attempts(self, run_key: str) -> list[Attempt]:
        from judgebench.synth.journal import Attempt

        with self.store.session() as s:
            rows = s.scalars(select(SynthAttemptRow.data).where(SynthAttemptRow.run_key == run_key))
            return [Attempt.model_validate(data) for data in rows]

    def save(self, attempts: list[Attempt], kept: list[Query]) -> None:
        rows = [
            dict(
                key=a.key,
                run_key=a.run_key,
                node_id=a.node_id,
                attempt=a.index,
                status=a.status,
                query_id=a.query_id,
                data=a.model_dump(mode="json"),
                updated_at=utcnow(),
            )
            for a in attempts
        ]
        # Queries first, then the attempts that point at them: a crash in between leaves the
        # attempts "checked", and the rerun re-decides them (no LLM call) into the same query ids.
        if kept:
            self.store.put_queries(kept)
        if rows:
            with self.store.session() as s:
                self.store.upsert(s, SynthAttemptRow, rows, keys=["key"])
        for attempt in attempts:  # transport failures also land with every other part's errors
            if attempt.status == "error":
                self.store.record_error(
                    ErrorRecord(
                        stage="synth",
                        subject=f"{attempt.node_id}#{attempt.index} ({attempt.generator})",
                        message=attempt.reason or "error",
                    )
                )

    def load_seed_nodes(self, run_key: str) -> dict[str, list[str]]:
        with self.store.session() as s:
            rows = s.execute(
                select(SynthSeedNodesRow.query_id, SynthSeedNodesRow.node_ids).where(
                    SynthSeedNodesRow.run_key == run_key
                )
            )
            return {query_id: list(nodes or []) for query_id, nodes in rows}

    def save_seed_nodes(self, run_key: str, nodes: dict[str, list[str]]) -> None:
        rows = [dict(run_key=run_key, query_id=q, node_ids=n) for q, n in nodes.items()]
        with self.store.session() as s:
            self.store.insert_ignore(s, SynthSeedNodesRow, rows)

    def load_kept(self, run_key: str) -> list[Query]:
        with self.store.session() as s:
            ids = list(
                s.scalars(
                    select(SynthAttemptRow.query_id).where(
                        SynthAttemptRow.run_key == run_key, SynthAttemptRow.status == "kept"
                    )
                )
            )
        return self.store.get_queries(ids=[i for i in ids if i])

    def status_counts(self, run_key: str | None = None) -> dict[str, int]:
        """Attempts per status (for reports and the dashboard)."""
        from sqlalchemy import func

        with self.store.session() as s:
            stmt = select(SynthAttemptRow.status, func.count()).group_by(SynthAttemptRow.status)
            if run_key:
                stmt = stmt.where(SynthAttemptRow.run_key == run_key)
            return {status: int(n) for status, n in s.execute(stmt)}
