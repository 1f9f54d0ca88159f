"""Claiming a delivery: the first INSERT of its id wins, every retry and every other replica loses.
The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.inbox.models import ReceivedEvent

# Slack retries an event for about an hour (three retries, the last after ~5 minutes on top of backoff);
# a day is well past the last retry.
REMEMBERED_FOR = timedelta(days=1)


async def claim_event(session: AsyncSession, *, event_id: str, now: datetime) -> bool:
    """True if this delivery is the first with this id: it should take effect. Forgets ids older than a day."""
    await session.execute(delete(ReceivedEvent).where(ReceivedEvent.received_at < now - REMEMBERED_FOR))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(insert(ReceivedEvent).values(event_id=event_id, received_at=now)
                                   .on_conflict_do_nothing(index_elements=["event_id"]))
    return bool(result.rowcount)  # type: ignore[attr-defined]
