"""queries and query_nodes: the assigner's calibrated confidence per assigned node (issue 19);
NULL on rows assigned before (or by hand / by an LLM): unknown, which reports count as confident

Revision ID: 0008assignconf
Revises: 0007judgeshape
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008assignconf"
down_revision = "0007judgeshape"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queries") as batch:
        batch.add_column(sa.Column("node_confidence", sa.JSON(), nullable=True))
    with op.batch_alter_table("query_nodes") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("query_nodes") as batch:
        batch.drop_column("confidence")
    with op.batch_alter_table("queries") as batch:
        batch.drop_column("node_confidence")
