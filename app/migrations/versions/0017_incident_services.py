"""incident services: the catalog's services each incident affects, by key

Revision ID: 0017_incident_services
Revises: 0016_alert_grouping
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_incident_services"
down_revision = "0016_alert_grouping"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The key is text, not a reference to the catalog (a file): a service removed from it stays named.
    op.create_table(
        "incident_services",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("named_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("incident_id", "service"),
    )
    op.create_index("ix_incident_services_service", "incident_services", ["service"])


def downgrade() -> None:
    op.drop_index("ix_incident_services_service", table_name="incident_services")
    op.drop_table("incident_services")
