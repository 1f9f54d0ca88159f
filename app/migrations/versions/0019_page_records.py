"""page records: each page sent, by which key, and who acknowledged it

Revision ID: 0019_page_records
Revises: 0018_reopened_by
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_page_records"
down_revision = "0018_reopened_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("page_key", sa.String(length=40), nullable=False),
        sa.Column("roles", sa.String(length=80), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=80), nullable=False),
        sa.Column("service", sa.String(length=80), nullable=True),
        sa.Column("routing_key_name", sa.String(length=64), nullable=True),
        sa.Column("dedup_key", sa.String(length=80), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=80), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_how", sa.String(length=40), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "page_key", "recipient", name="uq_pages_recipient"),
    )
    op.create_index("ix_pages_dedup_key", "pages", ["dedup_key"])


def downgrade() -> None:
    op.drop_index("ix_pages_dedup_key", table_name="pages")
    op.drop_table("pages")
