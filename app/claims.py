"""Taking something once: a row INSERTed under a unique key, so the database decides which of several copies
(a sender's retries, the same request reaching two replicas) is first, on SQLite as on PostgreSQL; and the
claims older than they need be remembered forgotten now and then (`Forgetting`), not with a DELETE in every
request's transaction. Used by the webhooks' Ledger (app/webhooks/deliveries.py) and Slack's event claims
(app/inbox/service.py). The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Base, rows_matched

FORGET_EVERY = timedelta(hours=1)  # how often a process forgets old claims of a kind: not on every request


async def insert_once(session: AsyncSession, model: type[Base], key: Sequence[str], **values: Any) -> bool:
    """INSERT the row unless one with the same `key` columns (a primary key or unique constraint) is there or
    is being inserted by a concurrent transaction: True if this one was inserted (it was first)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=key))
    return rows_matched(result) == 1


class Forgetting:
    """When this process next forgets the old claims of each kind (a sender, say): `due` at most once every
    `every`. It is noted as done when due, before the DELETE runs: a forgetting rolled back with its request
    is only late, the rows waiting for the next one."""

    def __init__(self, every: timedelta = FORGET_EVERY) -> None:
        self.every = every
        self._next: dict[str, datetime] = {}

    def due(self, kind: str, now: datetime) -> bool:
        next_ = self._next.get(kind)
        if next_ is not None and now < next_:
            return False
        self._next[kind] = now + self.every
        return True
