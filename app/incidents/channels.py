"""An incident's channel name: incident-YYYYMMDD-HHMM from its start (UTC), then -2, -3, ... when several
start in the same minute. Decided from the names already stored, before Slack is asked, and stored with
the incident: a retry or a restart creates (or adopts) that one channel, never a second."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.models import Incident

PREFIX = "incident-"


def base_name(incident: Incident) -> str:
    return PREFIX + incident.started_at.strftime("%Y%m%d-%H%M")


def with_suffix(base: str, number: int) -> str:
    return base if number == 1 else f"{base}-{number}"


async def next_free_name(session: AsyncSession, incident: Incident, *, after: str | None = None) -> str:
    """The next name for the incident's minute after those stored incidents hold (and past `after`, a name
    Slack said is taken by a channel the bot did not make). Counting on from the highest, not filling gaps:
    a name Slack refused once (an archived channel, someone else's) is never tried again by the next
    declaration, so n declarations in a minute cost at most n + 1 conversations.create calls."""
    base = base_name(incident)
    taken = set(await session.scalars(select(Incident.channel_name).where(Incident.channel_name.like(f"{base}%"),
                                                                         Incident.id != incident.id)))
    suffix = re.compile(re.escape(base) + r"(?:-(\d+))?")
    numbers = {int(m.group(1) or 1) for name in taken if name and (m := suffix.fullmatch(name))}
    if after and (m := suffix.fullmatch(after)):
        numbers.add(int(m.group(1) or 1))
    return with_suffix(base, max(numbers, default=0) + 1)
