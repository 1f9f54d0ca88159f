"""Claiming an Events API delivery: the first INSERT of its id wins, every retry and every other replica loses
(app/claims.py); ids older than a day are forgotten by each process at most once an hour.
Receiving a declaration: written as soon as it is answered, settled exactly once (compare-and-set).
The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import Forgetting, insert_once
from app.db import rows_matched, table_of
from app.inbox.models import ReceivedDeclaration, ReceivedEvent

# Slack retries an event for about an hour (three retries, the last after ~5 minutes on top of backoff);
# a day is well past the last retry.
REMEMBERED_FOR = timedelta(days=1)


class EventClaims:
    """The Events API deliveries this process claims, one instance per process (shared by every listener):
    each event_id taken once, and the claims older than REMEMBERED_FOR forgotten at most every FORGET_EVERY
    (app/claims.py) rather than with a DELETE on every event. Forgetting an hour late is harmless: nothing
    claimed within the last day (REMEMBERED_FOR, well past Slack's last retry) is forgotten."""

    def __init__(self) -> None:
        self._forgetting = Forgetting()

    async def claim(self, session: AsyncSession, *, event_id: str, now: datetime) -> bool:
        """True if this delivery is the first with this id: it should take effect."""
        if self._forgetting.due("events", now):
            await session.execute(delete(ReceivedEvent).where(ReceivedEvent.received_at < now - REMEMBERED_FOR))
        return await insert_once(session, ReceivedEvent, ("event_id",), event_id=event_id, received_at=now)


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
