"""alert grouping: the groups and the storm alerts fold into, and the source an incident was declared from

Revision ID: 0016_alert_grouping
Revises: 0015_webhook_deliveries
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_alert_grouping"
down_revision = "0015_webhook_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule", "key"),
    )
    op.create_index("ix_alert_groups_incident", "alert_groups", ["incident_id"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("alert_source", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("alert_link", sa.Text(), nullable=True))
        batch.add_column(sa.Column("alert_severity", sa.String(length=60), nullable=True))
    op.create_index("ix_incidents_alert_started", "incidents", ["alert_source", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_alert_started", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("alert_severity")
        batch.drop_column("alert_link")
        batch.drop_column("alert_source")
    op.drop_index("ix_alert_groups_incident", table_name="alert_groups")
    op.drop_table("alert_groups")
