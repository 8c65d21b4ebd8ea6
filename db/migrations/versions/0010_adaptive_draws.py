"""adaptive_draws: every judged draw of an adaptive run with its Horvitz–Thompson weight

Revision ID: 0010adaptive
Revises: 0009cachedrows
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010adaptive"
down_revision = "0009cachedrows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adaptive_draws",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("judgment_id", sa.String(length=64), nullable=False),
        sa.Column("judge", sa.String(length=200), nullable=False),
        sa.Column("arm", sa.String(length=400), nullable=False),
        sa.Column("query_id", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=300), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "judgment_id"),
    )


def downgrade() -> None:
    op.drop_table("adaptive_draws")
