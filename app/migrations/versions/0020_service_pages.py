"""service pages: a page may be for a catalog service's on-call, and its key names the service

Revision ID: 0020_service_pages
Revises: 0019_page_records
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_service_pages"
down_revision = "0019_page_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as table:
        # service-<key> and backup-<key>: a service's key is up to 40 characters
        table.alter_column("page_key", existing_type=sa.String(length=40), type_=sa.String(length=60),
                           existing_nullable=False)
        table.add_column(sa.Column("for_service", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages") as table:
        table.drop_column("for_service")
        table.alter_column("page_key", existing_type=sa.String(length=60), type_=sa.String(length=40),
                           existing_nullable=False)
