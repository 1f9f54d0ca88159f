"""Alembic environment. Migrations run on start-up through app.db.Database.migrate(), which hands
over its connection; `alembic` on the command line works too, with DATABASE_URL set."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

import app.duework.models  # noqa: F401  (registers the tables)
import app.incidents.models  # noqa: F401
import app.detection.models  # noqa: F401
import app.reviews.models  # noqa: F401
import app.comms.models  # noqa: F401
import app.alerts.models  # noqa: F401
import app.inbox.models  # noqa: F401
import app.home.models  # noqa: F401
import app.webhooks.models  # noqa: F401
import app.oncall.models  # noqa: F401
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
