"""runs: per-stage counts (ok / invalid / error / skipped) of a job run's outcome

Revision ID: 0004runcounts
Revises: 5d41641fa172
Create Date: 2026-12-03 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004runcounts"
down_revision = "5d41641fa172"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("counts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("counts")
