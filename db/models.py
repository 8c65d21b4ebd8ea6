"""Core tables: taxonomy versions and nodes, queries, responses, judgments, runs, LLM calls, errors.

Primary keys of queries, responses and judgments are the records' natural keys (content
hashes), so inserting the same record twice is a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.records import utcnow


class TaxonomyVersionRow(Base):
    __tablename__ = "taxonomy_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    parent_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TaxonomyNodeRow(Base):
    __tablename__ = "taxonomy_nodes"
    version_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_versions.id"), primary_key=True)
    path_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    depth: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class QueryRow(Base):
    __tablename__ = "queries"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200), index=True)
    reference: Mapped[str | None] = mapped_column(Text, nullable=True)
    node_ids: Mapped[list[Any]] = mapped_column(default=list)
    taxonomy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    node_confidence: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QueryNodeRow(Base):
    """Query ↔ node membership (leaf assignments), so per-node aggregation runs in SQL."""

    __tablename__ = "query_nodes"
    query_id: Mapped[str] = mapped_column(ForeignKey("queries.id"), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    taxonomy_version: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: not estimated
    __table_args__ = (Index("ix_query_nodes_node", "taxonomy_version", "node_id"),)


class ResponseRow(Base):
    __tablename__ = "responses"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    query_id: Mapped[str] = mapped_column(ForeignKey("queries.id"), index=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sample_index: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    # built from cached replies (cost: what they cost when bought); NULL: rows from before
    cached: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=False)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JudgmentRow(Base):
    __tablename__ = "judgments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    judge: Mapped[str] = mapped_column(String(200))
    judge_model: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    shape: Mapped[str | None] = mapped_column(String(16), nullable=True)
    query_id: Mapped[str] = mapped_column(String(64), index=True)
    response_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    response_b_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model_b: Mapped[str | None] = mapped_column(String(200), nullable=True)
    template_name: Mapped[str] = mapped_column(String(200))
    template_hash: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(8), nullable=True)
    criteria: Mapped[list[Any]] = mapped_column(default=list)
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw_replies: Mapped[list[Any]] = mapped_column(default=list)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    # built from cached replies (cost: what they cost when bought); NULL: rows from before
    cached: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=False)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    taxonomy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_judgments_judge_model", "judge", "model", "status"),)


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(300))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    job_name: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # a job run's outcome per stage: {stage: {ok, invalid, error, skipped}} (None: not a job)
    counts: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)


class RunItemRow(Base):
    """Which responses and judgments a run used (a rerun reuses rows; this links them)."""

    __tablename__ = "run_items"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_kind: Mapped[str] = mapped_column(
        String(16), primary_key=True
    )  # response | judgment | query
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class LLMCallRow(Base):
    """The gateway's persistent call cache and accounting. Requests never hold API keys."""

    __tablename__ = "llm_calls"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ErrorRow(Base):
    __tablename__ = "errors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stage: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
