"""judgments: the shape of the judge that produced each row (pointwise, pairwise, listwise,
reliability, likelihood); rows stored before judges declared shapes get it from their kind

Revision ID: 0007judgeshape
Revises: 0006leases
Create Date: 2026-12-03 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007judgeshape"
down_revision = "0006leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("judgments") as batch:
        batch.add_column(sa.Column("shape", sa.String(length=16), nullable=True))
    # PRP's comparisons are kind pairwise but come from a listwise judge
    op.execute(
        "UPDATE judgments SET shape = CASE"
        " WHEN judge = 'prp' THEN 'listwise'"
        " WHEN kind = 'ranking' THEN 'listwise'"
        " WHEN kind = 'reverse' THEN 'likelihood'"
        " ELSE kind END"
    )


def downgrade() -> None:
    with op.batch_alter_table("judgments") as batch:
        batch.drop_column("shape")
