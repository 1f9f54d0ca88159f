"""Home tab viewers. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.home.models import HomeViewer


async def opened(session: AsyncSession, user_id: str, *, now: datetime) -> None:
    """They opened the Home tab now (one row per person: an upsert, so two openings at once are fine)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(HomeViewer).values(user_id=user_id, opened_at=now)
                          .on_conflict_do_update(index_elements=["user_id"], set_={"opened_at": now}))


async def recent_viewers(session: AsyncSession, *, since: timedelta, now: datetime, limit: int) -> list[str]:
    """The people who opened the Home tab within `since`, most recent first."""
    query = (select(HomeViewer.user_id).where(HomeViewer.opened_at >= now - since)
             .order_by(HomeViewer.opened_at.desc()).limit(limit))
    return list(await session.scalars(query))
