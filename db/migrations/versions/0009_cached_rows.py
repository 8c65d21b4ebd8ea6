"""responses and judgments: ``cached``, set on rows built from replies the call cache served
(their cost is what the replies cost when first bought, issue 15 item 9); NULL on rows from
before

Revision ID: 0009cachedrows
Revises: 0008assignconf
Create Date: 2026-12-03 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009cachedrows"
down_revision = "0008assignconf"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("responses", "judgments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("cached", sa.Boolean(), nullable=True))


def downgrade() -> None:
    for table in ("judgments", "responses"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("cached")
