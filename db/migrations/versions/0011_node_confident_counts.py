"""dashboard_nodes.n_confident: per node, how many of its queries are confidently assigned
(derived, filled by judgebench.db.queries.refresh_summary; issue 19)

Revision ID: 0011nodeconfident
Revises: 0010adaptive
Create Date: 2026-12-03 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011nodeconfident"
down_revision = "0010adaptive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dashboard_nodes") as batch:
        batch.add_column(sa.Column("n_confident", sa.Integer(), nullable=False, server_default="0"))
    # the summary is a cache rebuilt only when the core tables change: forget what it was built
    # from, so the next refresh fills the new column instead of showing 0 confident everywhere
    op.execute(sa.text("DELETE FROM dashboard_state"))


def downgrade() -> None:
    with op.batch_alter_table("dashboard_nodes") as batch:
        batch.drop_column("n_confident")
