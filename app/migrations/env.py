"""Alembic environment. Migrations run on start-up through app.db.Database.migrate(), which hands
over its connection; `alembic` on the command line works too, with DATABASE_URL set."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

# Imported for their side effect: each models module registers its tables on Base.metadata.
import app.alerts.models
import app.comms.models
import app.detection.models
import app.duework.models
import app.home.models
import app.inbox.models
import app.incidents.models
import app.oncall.models
import app.reviews.models
import app.webhooks.models  # noqa: F401 - registers its tables, like the imports above
from app.db import Base, Database
from app.settings import database_url

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_environment() -> None:
    database = Database(database_url(os.environ.get("DATABASE_URL")))  # libpq's ?sslmode=... translated too
    async with database.engine.begin() as connection:
        await connection.run_sync(run_with)
    await database.close()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_from_environment())
