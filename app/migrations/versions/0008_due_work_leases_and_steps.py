"""due work: leases, steps done, unsure attempts, payload; channel names unique

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unsure", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("steps", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_incidents_channel_name", ["channel_name"])


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint("uq_incidents_channel_name", type_="unique")
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        for column in ("payload", "last_error", "steps", "unsure", "claimed_until", "claimed_by"):
            batch_op.drop_column(column)
