"""The incident channel's bookmarks that wait for something: the review's, once it is published.
The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents.models import Incident

REVIEW = "review"


async def plan_review_bookmark(session: AsyncSession, incident: Incident, *, now: datetime) -> bool:
    """Bookmark the published review in the channel, once however often it is published again. A private
    incident's review is never served, so it gets none. True if the bookmark was planned now."""
    if incident.is_private or await duework.pending(session, incident.id, WorkKind.BOOKMARK, REVIEW) is not None \
            or await duework.already_done(session, incident.id, WorkKind.BOOKMARK, REVIEW):
        return False
    await duework.plan(session, incident.id, WorkKind.BOOKMARK, now, now=now, key=REVIEW)
    return True
