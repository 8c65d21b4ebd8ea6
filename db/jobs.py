"""Tables of evaluation jobs: per-run usage (budgets survive a resume) and scheduler claims.

``job_claims`` is the scheduler's lock: the first process to insert (schedule id, fire time)
runs that execution; every other process finds the row and skips it. Misfires are rows too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.db.engine import sqlite_cursor, sqlite_timestamp
from judgebench.records import utcnow


class JobUsageRow(Base):
    """LLM usage charged to a job run, summed over every invocation that worked on it."""

    __tablename__ = "job_usage"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    cache_hits: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    calls_without_price: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobClaimRow(Base):
    """One scheduled execution (or a recorded misfire) of a schedule."""

    __tablename__ = "job_claims"
    schedule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    fire_time: Mapped[str] = mapped_column(String(40), primary_key=True)  # ISO, UTC
    status: Mapped[str] = mapped_column(
        String(16)
    )  # running | ok | partial | failed | stopped | missed (finished: before outcomes)
    owner: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


_USAGE_FIELDS = (
    "calls",
    "cache_hits",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "calls_without_price",
)


def usage_of(account: Any) -> dict[str, Any]:
    """An accounting's usage (a :class:`judgebench.llm.Account`) as ``job_usage`` fields."""
    return {f: getattr(account, f) for f in _USAGE_FIELDS}


def part_usage_key(run_id: str, part: str) -> str:
    """The ``job_usage`` row of one part of a run (responses, judgments, synthesis): the
    run's own row holds the total that budgets read."""
    return f"{run_id}:{part}"


def get_usage(store: Any, run_id: str) -> dict[str, Any]:
    with store.read_session() as s:
        row = s.get(JobUsageRow, run_id)
        return {f: getattr(row, f) if row else 0 for f in _USAGE_FIELDS}


def add_usage(store: Any, run_id: str, delta: dict[str, Any]) -> None:
    """Add an invocation's usage since its last report (one transaction, concurrent-safe)."""
    add_usage_rows(store, [run_id], delta)


def add_usage_rows(store: Any, run_ids: Sequence[str], delta: dict[str, Any]) -> None:
    """Add the same usage to several distinct ``job_usage`` rows (a run's and its part's) in
    one transaction. A job reports usage before each write of its call cache (about one per
    query of a PC² job): on SQLite one upsert on a plain connection, as the ORM's insert and
    update cost more CPU than the calls they record."""
    if not run_ids or not any(delta.get(f) for f in _USAGE_FIELDS):
        return
    if store.dialect == "sqlite":
        _add_usage_sqlite(store, run_ids, delta)
        return
    with store.session() as s:
        store.insert_ignore(s, JobUsageRow, [dict(run_id=run_id) for run_id in run_ids])
        s.execute(
            update(JobUsageRow)
            .where(JobUsageRow.run_id.in_(list(run_ids)))
            .values(
                **{f: getattr(JobUsageRow, f) + (delta.get(f) or 0) for f in _USAGE_FIELDS},
                updated_at=utcnow(),
            )
        )


_UPSERT_USAGE = (
    f"INSERT INTO job_usage (run_id, {', '.join(_USAGE_FIELDS)}, updated_at)"
    f" VALUES ({', '.join('?' * (len(_USAGE_FIELDS) + 2))}) ON CONFLICT (run_id) DO UPDATE SET "
    + ", ".join(f"{f} = {f} + excluded.{f}" for f in _USAGE_FIELDS)
    + ", updated_at = excluded.updated_at"
)


def _add_usage_sqlite(store: Any, run_ids: Sequence[str], delta: dict[str, Any]) -> None:
    values = [delta.get(f) or 0 for f in _USAGE_FIELDS]
    now = sqlite_timestamp(utcnow())
    with sqlite_cursor(store.engine, write=True) as cursor:
        cursor.executemany(_UPSERT_USAGE, [(run_id, *values, now) for run_id in run_ids])


def linked_status_counts(store: Any, run_id: str, kind: str) -> dict[str, int]:
    """How many responses or judgments (``kind``) the run links, by row status."""
    from sqlalchemy import func

    from judgebench.db.models import JudgmentRow, ResponseRow, RunItemRow

    table = ResponseRow if kind == "response" else JudgmentRow
    stmt = (
        select(table.status, func.count())
        .join(RunItemRow, RunItemRow.item_id == table.id)
        .where(RunItemRow.run_id == run_id, RunItemRow.item_kind == kind)
        .group_by(table.status)
    )
    with store.read_session() as s:
        return {str(status): int(n) for status, n in s.execute(stmt)}


def invalid_judgments_by_judge(store: Any, run_id: str) -> dict[tuple[str, str], int]:
    """How many invalid judgments the run links, per (judge, judge model)."""
    from sqlalchemy import func

    from judgebench.db.models import JudgmentRow, RunItemRow

    stmt = (
        select(JudgmentRow.judge, JudgmentRow.judge_model, func.count())
        .join(RunItemRow, RunItemRow.item_id == JudgmentRow.id)
        .where(
            RunItemRow.run_id == run_id,
            RunItemRow.item_kind == "judgment",
            JudgmentRow.status == "invalid",
        )
        .group_by(JudgmentRow.judge, JudgmentRow.judge_model)
    )
    with store.read_session() as s:
        return {(str(j), str(m)): int(n) for j, m, n in s.execute(stmt)}


def claim(
    store: Any,
    schedule_id: str,
    fire_time: str,
    owner: str,
    status: str = "running",
    note: str | None = None,
) -> bool:
    """Insert-or-ignore the (schedule, fire time) row; True only for the one process that won."""
    row = dict(
        schedule_id=schedule_id,
        fire_time=fire_time,
        status=status,
        owner=owner,
        note=note,
        claimed_at=utcnow(),
    )
    with store.session() as s:
        return store.insert_ignore(s, JobClaimRow, [row]) == 1


def finish_claim(
    store: Any,
    schedule_id: str,
    fire_time: str,
    status: str,
    run_id: str | None = None,
    note: str | None = None,
) -> None:
    with store.session() as s:
        s.execute(
            update(JobClaimRow)
            .where(JobClaimRow.schedule_id == schedule_id, JobClaimRow.fire_time == fire_time)
            .values(status=status, run_id=run_id, note=note, finished_at=utcnow())
        )


def take_over_claim(
    store: Any, schedule_id: str, fire_time: str, owner: str, previous: str
) -> None:
    """Record that ``owner`` resumed a running execution whose claimer (``previous``) died."""
    with store.session() as s:
        s.execute(
            update(JobClaimRow)
            .where(JobClaimRow.schedule_id == schedule_id, JobClaimRow.fire_time == fire_time)
            .values(owner=owner, note=f"taken over from {previous}"[:500])
        )


def list_claims(store: Any, schedule_id: str | None = None) -> list[dict[str, Any]]:
    with store.read_session() as s:
        stmt = select(JobClaimRow).order_by(JobClaimRow.claimed_at)
        if schedule_id:
            stmt = stmt.where(JobClaimRow.schedule_id == schedule_id)
        return [
            {
                c: getattr(r, c)
                for c in (
                    "schedule_id",
                    "fire_time",
                    "status",
                    "owner",
                    "run_id",
                    "note",
                    "claimed_at",
                    "finished_at",
                )
            }
            for r in s.scalars(stmt)
        ]


# a scheduled execution that did not end ok (what the dashboard's overview shows)
NOT_OK = ("failed", "partial", "stopped")


def failed_scheduled_runs(store: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The latest scheduled executions that ended failed, partial or stopped, newest first:
    schedule id, fire time, status, note (the reason), run id and when it finished."""
    stmt = (
        select(JobClaimRow)
        .where(JobClaimRow.status.in_(NOT_OK))
        .order_by(JobClaimRow.claimed_at.desc())
        .limit(limit)
    )
    fields = ("schedule_id", "fire_time", "status", "note", "run_id", "finished_at")
    with store.read_session() as s:
        return [{f: getattr(r, f) for f in fields} for r in s.scalars(stmt)]
