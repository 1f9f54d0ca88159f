"""received events: each Events API delivery takes effect once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_events",
        sa.Column("event_id", sa.String(length=64), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_received_events_received_at", "received_events", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_received_events_received_at", table_name="received_events")
    op.drop_table("received_events")
