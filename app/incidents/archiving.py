"""Tidying up after an incident: its channel is archived a while after resolution (playbooks/channel.yml),
never while the post-incident review is unpublished, with a notice the day before. Reopening stops it.
The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents.channel_rules import ChannelRules
from app.incidents.models import Incident

NOTICE = "notice"
ARCHIVE = "archive"


def archive_keys(incident: Incident) -> tuple[str, str]:
    """The notice's and the archiving's keys, per resolution: a reopened and resolved again incident is
    archived afresh, whatever was done after its first resolution."""
    assert incident.resolved_at is not None
    stamp = int(incident.resolved_at.timestamp())
    return f"{NOTICE}@{stamp}", f"{ARCHIVE}@{stamp}"


async def plan_archive(session: AsyncSession, incident: Incident, rules: ChannelRules, *, now: datetime) -> None:
    """The review is published and the incident resolved: the channel is told it will be archived, so that
    it is archived `archive_after` after the resolution, and never sooner than `archive_notice` from now."""
    if not incident.is_resolved:
        return
    notice_key, _ = archive_keys(incident)
    if await duework.pending(session, incident.id, WorkKind.ARCHIVE, notice_key) is not None or \
            await duework.already_done(session, incident.id, WorkKind.ARCHIVE, notice_key):
        return  # planned already (a review published again changes nothing)
    assert incident.resolved_at is not None
    archive_at = max(incident.resolved_at + rules.archive_after, now + rules.archive_notice)
    await duework.plan(session, incident.id, WorkKind.ARCHIVE, archive_at - rules.archive_notice, now=now,
                       key=notice_key)


async def noticed(session: AsyncSession, incident: Incident, rules: ChannelRules, *, noticed_at: datetime,
                  now: datetime) -> datetime:
    """The notice went out (at noticed_at, later than planned after downtime): the archiving falls due
    `archive_notice` after it, so the channel always has its day. Returns when."""
    _, archive_key = archive_keys(incident)
    planned = await duework.pending(session, incident.id, WorkKind.ARCHIVE, archive_key)
    if planned is not None:  # a notice retried after an interruption: the time stands
        return planned.due_at
    archive_at = noticed_at + rules.archive_notice
    if not await duework.already_done(session, incident.id, WorkKind.ARCHIVE, archive_key):
        await duework.plan(session, incident.id, WorkKind.ARCHIVE, archive_at, now=now, key=archive_key)
    return archive_at


def is_notice(key: str) -> bool:
    return key.startswith(f"{NOTICE}@")
