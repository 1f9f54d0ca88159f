"""timeline events taken from channel messages: their ts (once per incident) and permalink

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("link", sa.Text(), nullable=True))
        batch_op.create_unique_constraint("uq_timeline_source", ["incident_id", "source_ts"])


def downgrade() -> None:
    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_timeline_source", type_="unique")
        batch_op.drop_column("link")
        batch_op.drop_column("source_ts")
