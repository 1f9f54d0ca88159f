"""follow-ups: action items filed in a tracker, and the post-mortem meeting

Revision ID: 0013_followups
Revises: 0012_home_viewers
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_followups"
down_revision = "0012_home_viewers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("tracker", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("tracker_key", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("tracker_url", sa.Text(), nullable=True))
    op.create_index("ix_action_items_tracker_key", "action_items", ["tracker", "tracker_key"])
    op.create_table(
        "postmortem_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("scheduled_by", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id"),
    )


def downgrade() -> None:
    op.drop_table("postmortem_meetings")
    op.drop_index("ix_action_items_tracker_key", table_name="action_items")
    with op.batch_alter_table("action_items") as batch:
        batch.drop_column("tracker_url")
        batch.drop_column("tracker_key")
        batch.drop_column("tracker")
