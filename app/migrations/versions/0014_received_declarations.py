"""received declarations: a /incident declare is written down once it is answered, settled when stored

Revision ID: 0014_received_declarations
Revises: 0013_followups
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_received_declarations"
down_revision = "0013_followups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_by", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_received_declarations_unsettled", "received_declarations", ["received_at"],
                    postgresql_where=sa.text("settled_at IS NULL"), sqlite_where=sa.text("settled_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_received_declarations_unsettled", table_name="received_declarations")
    op.drop_table("received_declarations")
