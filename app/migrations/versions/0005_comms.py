"""stakeholder communications: drafts, approval and the Statuspage.io incident id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comms_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Enum("internal", "email", "statuspage", name="audience", native_enum=False,
                                     length=20), nullable=False),
        sa.Column("phase", sa.Enum("start", "update", "resolution", "notification", "investigating", "identified",
                                   "monitoring", "resolved", name="phase", native_enum=False, length=20),
                  nullable=False),
        sa.Column("subject", sa.String(length=250), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Enum("draft", "approved", name="draftstatus", native_enum=False, length=20),
                  nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=32), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edited_by", sa.String(length=32), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("statuspage_incident_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("comms_drafts", schema=None) as batch_op:
        batch_op.create_index("ix_comms_drafts_incident", ["incident_id", "channel", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comms_drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_comms_drafts_incident")
    op.drop_table("comms_drafts")
