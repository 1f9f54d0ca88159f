"""reopened by: who reopened an incident, so everything drawn of it afterwards still says it was reopened

Revision ID: 0018_reopened_by
Revises: 0017_incident_services
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_reopened_by"
down_revision = "0017_incident_services"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as table:
        table.add_column(sa.Column("reopened_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as table:
        table.drop_column("reopened_by")
