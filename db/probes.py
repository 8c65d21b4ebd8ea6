"""Tables and read functions for representation probes (the Language Ranker).

A run is one (model, corpus, settings) combination; its id is a content hash of those, so
rerunning the same probe finds the same run and only adds languages it does not have yet.
Scores are stored per (run, language, layer); ``layer = 0`` holds the language score over the
run's layer set (the embedding layer is never probed, so 0 is free), ``layer ≥ 1`` per layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.records import utcnow

AGGREGATE_LAYER = 0


class ProbeRunRow(Base):
    __tablename__ = "probe_runs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    probe: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(500), index=True)
    corpus: Mapped[str] = mapped_column(String(500), index=True)
    corpus_fingerprint: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    n_layers: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LanguageScoreRow(Base):
    __tablename__ = "probe_language_scores"
    run_id: Mapped[str] = mapped_column(ForeignKey("probe_runs.id"), primary_key=True)
    language: Mapped[str] = mapped_column(String(64), primary_key=True)
    layer: Mapped[int] = mapped_column(Integer, primary_key=True)
    language_name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(500), index=True)
    corpus: Mapped[str] = mapped_column(String(500))
    raw: Mapped[float] = mapped_column(Float)
    raw_ci_low: Mapped[float] = mapped_column(Float)
    raw_ci_high: Mapped[float] = mapped_column(Float)
    baseline: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    n_pairs: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


SCORE_COLUMNS = (
    "language",
    "language_name",
    "layer",
    "score",
    "ci_low",
    "ci_high",
    "raw",
    "raw_ci_low",
    "raw_ci_high",
    "baseline",
    "n_pairs",
)


def language_ranker_runs(store: Any) -> list[dict[str, Any]]:
    """Every Language Ranker run, newest first, with how many languages it holds."""
    from sqlalchemy import func

    with store.session() as session:
        counts = dict(
            session.execute(
                select(LanguageScoreRow.run_id, func.count())
                .where(LanguageScoreRow.layer == AGGREGATE_LAYER)
                .group_by(LanguageScoreRow.run_id)
            ).all()
        )
        runs = session.scalars(
            select(ProbeRunRow)
            .where(ProbeRunRow.probe == "language_ranker")
            .order_by(ProbeRunRow.created_at.desc())
        ).all()
        return [
            dict(
                id=r.id,
                model=r.model,
                corpus=r.corpus,
                settings=r.settings,
                n_layers=r.n_layers,
                languages=counts.get(r.id, 0),
                created_at=r.created_at,
            )
            for r in runs
        ]


def language_ranker_scores(
    store: Any, run_id: str, *, layer: int | None = AGGREGATE_LAYER
) -> list[dict[str, Any]]:
    """Score rows of one run, best first (``layer=None`` returns every layer)."""
    with store.session() as session:
        stmt = select(LanguageScoreRow).where(LanguageScoreRow.run_id == run_id)
        if layer is not None:
            stmt = stmt.where(LanguageScoreRow.layer == layer)
        rows = session.scalars(
            stmt.order_by(LanguageScoreRow.layer, LanguageScoreRow.score.desc())
        ).all()
        return [{c: getattr(r, c) for c in SCORE_COLUMNS} for r in rows]
