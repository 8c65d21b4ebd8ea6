"""Routed requests in the store: one row per request a router answered or failed to answer.

``SqlRoutingLog`` implements ``judgebench.routing.router.RoutingLog``: decisions are buffered
and written in one transaction per batch (the server flushes every half second and on shutdown;
the library default writes each one at once). The query functions below are what the dashboard
reads.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Float, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.db.store import Store
from judgebench.records import utcnow

if TYPE_CHECKING:  # the routing package pulls in the gateway; the schema must not
    from judgebench.routing.records import RoutingDecision


class RoutedRequestRow(Base):
    __tablename__ = "routed_requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    router: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    strategy: Mapped[str] = mapped_column(String(32))
    query_id: Mapped[str] = mapped_column(String(64), index=True)
    query_preview: Mapped[str] = mapped_column(Text, default="")
    final_model: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    n_stages: Mapped[int] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_s: Mapped[float] = mapped_column(Float)
    stages: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


def _row(d: RoutingDecision) -> dict[str, Any]:
    return dict(
        id=d.id,
        router=d.router,
        kind=d.kind,
        strategy=d.strategy,
        query_id=d.query_id,
        query_preview=d.query_preview,
        final_model=d.final_model,
        status=d.status,
        reason=d.reason,
        n_stages=len(d.stages),
        cost=d.cost,
        latency_s=d.latency_s,
        stages=[s.model_dump(mode="json") for s in d.stages],
        details=d.details,
        created_at=d.created_at,
    )


class SqlRoutingLog:
    """Routing decisions into ``routed_requests`` (insert-or-ignore by decision id); with
    ``keep_records`` (default) also the routed query, every stage's answer and every judgment
    (raw replies, template hash ...) into the ordinary tables, so each score can be audited."""

    def __init__(self, store: Store, flush_every: int = 1, keep_records: bool = True) -> None:
        self.store = store
        self.flush_every = flush_every
        self.keep_records = keep_records
        self._pending: list[dict[str, Any]] = []
        self._records: list[tuple[Any, list[Any], list[Any]]] = []
        self._lock = threading.Lock()
        self.written = 0

    def record(self, decision: RoutingDecision) -> None:
        with self._lock:
            self._pending.append(_row(decision))
            if self.keep_records and decision.query is not None:
                self._records.append((decision.query, decision.responses, decision.judgments))
            due = len(self._pending) >= self.flush_every
        if due:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            rows, self._pending = self._pending, []
            records, self._records = self._records, []
        if not rows:
            return 0
        try:
            with self.store.session() as s:  # the batch commits all or nothing
                if records:  # queries before the answers that point at them; insert-or-ignore
                    queries = {q.id: q for q, _, _ in records}.values()
                    self.store.put_queries(queries, session=s)
                    self.store.put_responses(
                        (r for _, responses, _ in records for r in responses), session=s
                    )
                    self.store.put_judgments(
                        (j for _, _, judgments in records for j in judgments), session=s
                    )
                new = self.store.insert_ignore(s, RoutedRequestRow, rows)
        except Exception:
            with self._lock:  # keep them for the next flush rather than lose them
                self._pending = rows + self._pending
                self._records = records + self._records
            raise
        self.written += new
        return new


# --- queries (dashboard, CLI) --------------------------------------------------------------------


def router_names(store: Store) -> list[str]:
    with store.read_session() as s:
        return sorted(s.scalars(select(RoutedRequestRow.router).distinct()))


def routed_requests(
    store: Store, router: str | None = None, limit: int | None = 500
) -> list[dict[str, Any]]:
    """The latest routed requests, newest first."""
    stmt = select(RoutedRequestRow).order_by(RoutedRequestRow.created_at.desc())
    if router:
        stmt = stmt.where(RoutedRequestRow.router == router)
    if limit:
        stmt = stmt.limit(limit)
    with store.read_session() as s:
        return [
            {c.name: getattr(r, c.name) for c in RoutedRequestRow.__table__.columns}
            for r in s.scalars(stmt)
        ]


def routing_summary(store: Store, router: str | None = None) -> list[dict[str, Any]]:
    """Per (router, final model): requests, share, mean stages tried, mean cost and latency,
    errors."""
    cols = (
        RoutedRequestRow.router,
        RoutedRequestRow.final_model,
        RoutedRequestRow.status,
        func.count(),
        func.avg(RoutedRequestRow.n_stages),
        func.avg(RoutedRequestRow.cost),
        func.avg(RoutedRequestRow.latency_s),
    )
    stmt = select(*cols).group_by(
        RoutedRequestRow.router, RoutedRequestRow.final_model, RoutedRequestRow.status
    )
    if router:
        stmt = stmt.where(RoutedRequestRow.router == router)
    with store.read_session() as s:
        rows = s.execute(stmt).all()
    totals: dict[str, int] = {}
    for r in rows:
        totals[r[0]] = totals.get(r[0], 0) + r[3]
    return [
        dict(
            router=r[0],
            final_model=r[1],
            status=r[2],
            requests=r[3],
            share=r[3] / totals[r[0]],
            mean_stages=float(r[4]),
            mean_cost=None if r[5] is None else float(r[5]),
            mean_latency_s=float(r[6]),
        )
        for r in sorted(rows, key=lambda r: (r[0], -r[3]))
    ]


def stage_scores(
    store: Store, router: str | None = None, limit: int = 5000
) -> list[dict[str, Any]]:
    """One row per judged stage (model, score, threshold, status): the cascade's score spread."""
    out = []
    for req in routed_requests(store, router, limit):
        for i, st in enumerate(req["stages"]):
            out.append(
                dict(
                    router=req["router"],
                    request=req["id"],
                    position=i,
                    model=st.get("model"),
                    status=st.get("status"),
                    score=st.get("score"),
                    threshold=st.get("threshold"),
                    weight=st.get("weight"),
                )
            )
    return out
