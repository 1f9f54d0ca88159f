"""Noticing that an incident is being declared twice: the same outage seen by several people at once.
The rules come from playbooks/declaring.yml."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from difflib import SequenceMatcher

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents import affected
from app.incidents.models import Incident
from app.policy_files import PositiveDuration, StrictModel

_WORD = re.compile(r"[a-z0-9]+")


class DuplicateRules(StrictModel):
    within: PositiveDuration
    similarity: float = Field(ge=0, le=1)


class Declaring(StrictModel):
    """playbooks/declaring.yml."""

    duplicates: DuplicateRules


def likeness(one: str, other: str) -> float:
    """How alike two titles are, 0 to 1: the better of their spelling and their words in common."""
    a, b = _WORD.findall(one.lower()), _WORD.findall(other.lower())
    if not a or not b:
        return 0.0
    spelling = SequenceMatcher(None, " ".join(a), " ".join(b)).ratio()
    words = len(set(a) & set(b)) / len(set(a) | set(b))
    return max(spelling, words)


async def likely_duplicate(session: AsyncSession, title: str, rules: DuplicateRules, *,
                           now: datetime, services: Sequence[str] = ()) -> Incident | None:
    """The open incident declared within the window that names one of the same services (the latest), else the
    one whose title is most like this one, if alike enough."""
    same_service = await affected.open_incidents_naming(session, services, since=now - rules.within)
    if same_service:
        return await session.get(Incident, same_service[0])
    query = select(Incident.id, Incident.title).where(Incident.resolved_at.is_(None),
                                                       Incident.started_at >= now - rules.within)
    best, score = None, rules.similarity
    for incident_id, other in await session.execute(query):  # titles only: a burst makes many candidates
        alike = likeness(title, other)
        if alike >= score:
            best, score = incident_id, alike
    return None if best is None else await session.get(Incident, best)
