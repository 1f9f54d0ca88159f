"""Action items and their issues in the tracker: filing, closing and checking are due work, so a tracker
that is down delays them and never loses one. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents.models import Incident
from app.reviews.models import ActionItem, ActionStatus
from app.trackers.issues import Filed

SYNC_KEY = ""


def marker(incident_id: int, number: int) -> str:
    """The label that names the item in the tracker (labels have no spaces in Jira)."""
    return f"incident-{incident_id}-action-{number}"


async def plan_filing(session: AsyncSession, item: ActionItem, *, now: datetime) -> None:
    await duework.plan(session, item.incident_id, WorkKind.TRACKER_FILE, now, now=now, key=str(item.number))


async def plan_closing(session: AsyncSession, item: ActionItem, *, now: datetime) -> None:
    """Done in Slack: close its issue too (if it is not filed yet, filing closes it once it is)."""
    if item.tracker_key:
        await duework.plan(session, item.incident_id, WorkKind.TRACKER_CLOSE, now, now=now, key=str(item.number))


async def plan_update(session: AsyncSession, item: ActionItem, *, now: datetime) -> None:
    """Edited in Slack: edit its issue to match (not filed yet: filing takes the item as it is then)."""
    if item.tracker_key:
        await duework.plan(session, item.incident_id, WorkKind.TRACKER_UPDATE, now, now=now, key=str(item.number))


async def plan_sync(session: AsyncSession, incident_id: int, *, every: timedelta, now: datetime) -> None:
    """Check the incident's open issues every `every` (a pending check keeps its time). Two items filed at once
    would both find no check pending: hold the incident row so the second sees the first's."""
    await session.execute(select(Incident.id).where(Incident.id == incident_id).with_for_update())
    if await duework.pending(session, incident_id, WorkKind.TRACKER_SYNC, SYNC_KEY) is None:
        await duework.plan(session, incident_id, WorkKind.TRACKER_SYNC, now + every, now=now, key=SYNC_KEY)


async def item_numbered(session: AsyncSession, incident_id: int, key: str) -> ActionItem | None:
    if not key.isdigit():
        return None
    return await session.scalar(select(ActionItem).where(ActionItem.incident_id == incident_id,
                                                         ActionItem.number == int(key)))


async def record_filed(session: AsyncSession, item: ActionItem, tracker: str, filed: Filed, *, sync_every: timedelta,
                       now: datetime) -> None:
    item.tracker, item.tracker_key, item.tracker_url = tracker, filed.key, filed.url
    if item.is_done:
        await plan_closing(session, item, now=now)
    else:
        await plan_sync(session, item.incident_id, every=sync_every, now=now)


async def item_filed_as(session: AsyncSession, tracker: str, key: str) -> ActionItem | None:
    return await session.scalar(select(ActionItem).where(ActionItem.tracker == tracker, ActionItem.tracker_key == key))


async def open_filed_items(session: AsyncSession, incident_id: int, tracker: str) -> list[ActionItem]:
    query = (select(ActionItem).where(ActionItem.incident_id == incident_id, ActionItem.tracker == tracker,
                                      ActionItem.status != ActionStatus.DONE)
             .order_by(ActionItem.number))
    return list(await session.scalars(query))
