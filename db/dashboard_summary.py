"""Pre-aggregated summary tables the dashboard reads (derived data, rebuilt from the core tables).

They hold sums, not means, so any filter combination (judge, run, model, node) is one small
``GROUP BY`` over a few thousand rows instead of a scan of every judgment. They are a cache:
``judgebench.db.queries.refresh_summary`` rebuilds them whenever the core tables changed, and
creates them on demand in a store migrated before they existed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.db.models import JudgmentRow
from judgebench.records import utcnow

ALL_RUNS = "*"  # the run_id of summary rows that cover every run

# The drill-down walks a model's judgments in score order (worst queries first).
JUDGMENTS_MODEL_SCORE = Index(
    "ix_dashboard_judgments_model_score", JudgmentRow.model, JudgmentRow.score
)


class DashboardNodeRow(Base):
    """A taxonomy node as the dashboard draws it (stored nodes plus ancestors derived from paths)."""

    __tablename__ = "dashboard_nodes"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(String(500), primary_key=True)  # "" is the root
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    depth: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    n_queries: Mapped[int] = mapped_column(Integer, default=0)
    # of those, confidently assigned (judgebench.db.taxonomy.confident_assignment at the
    # taxonomy's default min_confidence), rolled up the same way: each query once per node
    n_confident: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DashboardClosureRow(Base):
    """ancestor → node pairs (every node is its own ancestor; the root "" is everyone's)."""

    __tablename__ = "dashboard_closure"
    # key order (version, node_id, ancestor): the summary build joins assignments by node_id;
    # the drill-down looks nodes up by ancestor through the second index
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    ancestor: Mapped[str] = mapped_column(String(500), primary_key=True)
    __table_args__ = (Index("ix_dashboard_closure_ancestor", "version", "ancestor", "node_id"),)


class DashboardQueryNodeRow(Base):
    """query → every node it falls under (leaves and their ancestors), each pair once."""

    __tablename__ = "dashboard_query_nodes"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    query_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    __table_args__ = (Index("ix_dashboard_query_nodes_query", "version", "query_id", "node_id"),)


class DashboardNodeStatsRow(Base):
    """Sums per (node, model, judge, run): a query counts once per node however many leaves it has."""

    __tablename__ = "dashboard_node_stats"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    judge: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)  # judgments of any status
    n_invalid: Mapped[int] = mapped_column(Integer, default=0)
    n_error: Mapped[int] = mapped_column(Integer, default=0)
    n_scored: Mapped[int] = mapped_column(Integer, default=0)
    sum_score: Mapped[float] = mapped_column(Float, default=0.0)
    sum_sq: Mapped[float] = mapped_column(Float, default=0.0)
    n_pair: Mapped[int] = mapped_column(Integer, default=0)  # decided pairwise comparisons
    pair_points: Mapped[float] = mapped_column(Float, default=0.0)  # win 1, tie 0.5
    __table_args__ = (Index("ix_dashboard_node_stats_run_judge", "version", "run_id", "judge"),)


class DashboardJudgeStatsRow(Base):
    """Judge health sums per (judge, run, model)."""

    __tablename__ = "dashboard_judge_stats"
    judge: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    judge_model: Mapped[str] = mapped_column(String(200))
    n: Mapped[int] = mapped_column(Integer, default=0)
    n_invalid: Mapped[int] = mapped_column(Integer, default=0)
    n_error: Mapped[int] = mapped_column(Integer, default=0)
    n_pairwise: Mapped[int] = mapped_column(Integer, default=0)
    n_position_inconsistent: Mapped[int] = mapped_column(Integer, default=0)
    n_injection: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)


class DashboardScoreHistRow(Base):
    """Score distribution per judge: counts per rounded score."""

    __tablename__ = "dashboard_score_hist"
    judge: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class DashboardModelCostRow(Base):
    """Generation cost and volume per model (from responses)."""

    __tablename__ = "dashboard_model_costs"
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    n_responses: Mapped[int] = mapped_column(Integer, default=0)
    n_errors: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    n_costed: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)


class DashboardQueryScoreRow(Base):
    """Per (judge, run, model, query): count and sum of its ok scores, kept so intervals can be
    bootstrapped over queries (sums alone only give a normal approximation)."""

    __tablename__ = "dashboard_query_scores"
    judge: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    query_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    sum_score: Mapped[float] = mapped_column(Float, default=0.0)  # a sum: reused rows add in


class DashboardNodeBootRow(Base):
    """``judgebench.analysis.summary_report(...).table`` per (judge, run): bootstrap mean, CI
    and rank per node × model: the table the CLI summary's strengths and weaknesses come from."""

    __tablename__ = "dashboard_node_boot"
    judge: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(500), primary_key=True)  # "*" = overall
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    mean: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer, default=0)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank: Mapped[float] = mapped_column(Float)


class DashboardStateRow(Base):
    """What the summary was built from, so a reader can tell whether it is stale."""

    __tablename__ = "dashboard_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    build_s: Mapped[float] = mapped_column(Float, default=0.0)


SUMMARY_TABLES = [
    DashboardNodeRow,
    DashboardClosureRow,
    DashboardQueryNodeRow,
    DashboardNodeStatsRow,
    DashboardJudgeStatsRow,
    DashboardScoreHistRow,
    DashboardModelCostRow,
    DashboardQueryScoreRow,
    DashboardNodeBootRow,
    DashboardStateRow,
]
