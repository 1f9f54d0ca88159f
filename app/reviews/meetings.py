"""The plan's post-mortem meeting (Phase 4.1): scheduled once the incident is resolved, with its attendees
(IC, Technical Lead, the channel's members), and its reminders as due work. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents.models import Incident
from app.incidents.service import record
from app.reviews.errors import MeetingUsage
from app.reviews.followup import MeetingRules
from app.reviews.models import PostmortemMeeting
from app.reviews.service import require_resolved


def reminder_key(before: timedelta) -> str:
    """A reminder's key: how long before the meeting, in seconds (one pending row per offset)."""
    return str(int(before.total_seconds()))


async def meeting_of(session: AsyncSession, incident_id: int) -> PostmortemMeeting | None:
    return await session.scalar(select(PostmortemMeeting).where(PostmortemMeeting.incident_id == incident_id))


async def schedule_meeting(session: AsyncSession, incident: Incident, *, starts_at: datetime,
                           attendees: Iterable[str], rules: MeetingRules, by: str, now: datetime) -> PostmortemMeeting:
    """Set (or move) the meeting; its reminders move with it. A time already past is refused."""
    require_resolved(incident)
    if starts_at <= now:
        raise MeetingUsage(subcommand="meeting", problem="past_time", given=starts_at.isoformat())
    # One meeting per incident: hold the incident row so two schedulings at once move one meeting.
    await session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
    meeting = await meeting_of(session, incident.id)
    people = list(dict.fromkeys(attendees))
    moved = meeting is not None
    if meeting is None:
        meeting = PostmortemMeeting(incident_id=incident.id, starts_at=starts_at, ends_at=starts_at + rules.length,
                                    attendees=people, scheduled_by=by, scheduled_at=now, sequence=0)
        session.add(meeting)
    else:
        meeting.starts_at, meeting.ends_at, meeting.attendees = starts_at, starts_at + rules.length, people
        meeting.scheduled_by, meeting.scheduled_at, meeting.sequence = by, now, meeting.sequence + 1
    await session.flush()
    for before in rules.remind_before:
        key, when = reminder_key(before), starts_at - before
        if when > now:
            await duework.plan(session, incident.id, WorkKind.MEETING_REMINDER, when, now=now, key=key)
        elif (pending := await duework.pending(session, incident.id, WorkKind.MEETING_REMINDER, key)) is not None:
            pending.done_at, pending.outcome = now, "cancelled"
    record(session, incident, kind="meeting_scheduled", actor=by, now=now,
           text=f"Post-mortem meeting {'moved to' if moved else 'scheduled for'} "
                f"{starts_at.strftime('%Y-%m-%d %H:%M UTC')} with {', '.join(people)}")
    return meeting
