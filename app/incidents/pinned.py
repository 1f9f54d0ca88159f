"""Messages from the incident's channel that people put on the timeline. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import rows_matched
from app.incidents.models import Incident, TimelineEvent

PINNED = "pinned"


async def pin_message(session: AsyncSession, incident: Incident, *, message_ts: str, author: str | None,
                      said_at: datetime, text: str, link: str | None) -> bool:
    """Put a channel message on the timeline at the time it was said; False if it is there already.
    One INSERT under (incident, message): two people pinning at once add it once."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(TimelineEvent)
        .values(incident_id=incident.id, at=said_at, actor=author, kind=PINNED, text=text, source_ts=message_ts,
                link=link)
        .on_conflict_do_nothing(index_elements=["incident_id", "source_ts"]))
    return bool(rows_matched(result))


async def unpin_message(session: AsyncSession, incident: Incident, *, message_ts: str) -> bool:
    """Take a channel message off the timeline; False if it was not on it."""
    result = await session.execute(delete(TimelineEvent).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.source_ts == message_ts,
        TimelineEvent.kind == PINNED))
    return bool(rows_matched(result))
