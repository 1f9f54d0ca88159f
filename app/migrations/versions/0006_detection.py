"""detection: health checks' shared state and the failed probes of the current streak

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_checks",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_probed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=200), nullable=True),
        sa.Column("open_incident_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["open_incident_id"], ["incidents.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "health_check_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_name", sa.String(length=60), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["check_name"], ["health_checks.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_health_check_failures_check", "health_check_failures", ["check_name", "at"])


def downgrade() -> None:
    op.drop_index("ix_health_check_failures_check", table_name="health_check_failures")
    op.drop_table("health_check_failures")
    op.drop_table("health_checks")
