"""Claiming a delivery: the first INSERT of its id wins, every retry and every other replica loses.
Receiving a declaration: written as soon as it is answered, settled exactly once (compare-and-set).
The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import rows_matched, table_of
from app.inbox.models import ReceivedDeclaration, ReceivedEvent

# Slack retries an event for about an hour (three retries, the last after ~5 minutes on top of backoff);
# a day is well past the last retry.
REMEMBERED_FOR = timedelta(days=1)


async def claim_event(session: AsyncSession, *, event_id: str, now: datetime) -> bool:
    """True if this delivery is the first with this id: it should take effect. Forgets ids older than a day."""
    await session.execute(delete(ReceivedEvent).where(ReceivedEvent.received_at < now - REMEMBERED_FOR))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(insert(ReceivedEvent).values(event_id=event_id, received_at=now)
                                   .on_conflict_do_nothing(index_elements=["event_id"]))
    return bool(rows_matched(result))


async def receive_declarations(session: AsyncSession, received: list[dict[str, Any]]) -> list[int]:
    """Write declarations as received (columns of ReceivedDeclaration); their ids, in the same order."""
    table = table_of(ReceivedDeclaration)  # Core, not the ORM's bulk path: a burst costs one cheap statement
    result = await session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), received)
    return list(result.scalars())


async def settle_declaration(session: AsyncSession, receipt: int, *, outcome: str, now: datetime,
                             incident_id: int | None = None) -> bool:
    """Mark a received declaration as dealt with; False if it already was (another worker won)."""
    result = await session.execute(
        update(ReceivedDeclaration)
        .where(ReceivedDeclaration.id == receipt, ReceivedDeclaration.settled_at.is_(None))
        .values(settled_at=now, outcome=outcome, incident_id=incident_id))
    return bool(rows_matched(result))


async def unsettled_declarations(session: AsyncSession, *, received_before: datetime,
                                 limit: int) -> list[ReceivedDeclaration]:
    """Declarations received a while ago and never settled: the bot stopped before storing them."""
    return list(await session.scalars(
        select(ReceivedDeclaration)
        .where(ReceivedDeclaration.settled_at.is_(None), ReceivedDeclaration.received_at < received_before)
        .order_by(ReceivedDeclaration.received_at).limit(limit)))


async def forget_settled_declarations(session: AsyncSession, *, before: datetime) -> None:
    await session.execute(delete(ReceivedDeclaration).where(ReceivedDeclaration.settled_at < before))
