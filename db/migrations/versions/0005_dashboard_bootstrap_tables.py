"""dashboard: per-query scores and the stored bootstrap node table (derived, rebuilt by
judgebench.db.queries.refresh_summary)

Revision ID: d4sh0005boot
Revises: 0004runcounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d4sh0005boot"
down_revision = "0004runcounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # refresh_summary may have created these caches on demand before this ran: keep them
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "dashboard_query_scores" not in existing:
        op.create_table(
            "dashboard_query_scores",
            sa.Column("judge", sa.String(length=200), nullable=False),
            sa.Column("run_id", sa.String(length=64), nullable=False),
            sa.Column("model", sa.String(length=200), nullable=False),
            sa.Column("query_id", sa.String(length=64), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.Column("sum_score", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint(
                "judge", "run_id", "model", "query_id", name=op.f("pk_dashboard_query_scores")
            ),
        )
    if "dashboard_node_boot" not in existing:
        op.create_table(
            "dashboard_node_boot",
            sa.Column("judge", sa.String(length=200), nullable=False),
            sa.Column("run_id", sa.String(length=64), nullable=False),
            sa.Column("node_id", sa.String(length=500), nullable=False),
            sa.Column("model", sa.String(length=200), nullable=False),
            sa.Column("mean", sa.Float(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.Column("ci_low", sa.Float(), nullable=True),
            sa.Column("ci_high", sa.Float(), nullable=True),
            sa.Column("rank", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint(
                "judge", "run_id", "node_id", "model", name=op.f("pk_dashboard_node_boot")
            ),
        )


def downgrade() -> None:
    op.drop_table("dashboard_node_boot")
    op.drop_table("dashboard_query_scores")
