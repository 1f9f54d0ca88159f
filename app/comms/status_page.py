"""What the public status page shows: public incidents and their latest approved status-page update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import utc
from app.comms.models import Audience, CommsDraft, DraftStatus, Phase
from app.incidents.models import Incident
from app.policy_files import PositiveDuration, StrictModel


class StatusPageRules(StrictModel):
    """playbooks/status_page.yml."""

    # A resolved update stays on the page this long; an incident resolved for longer leaves the page even
    # if nobody approved a "Resolved" update for it, so a forgotten one does not read "Monitoring" forever.
    recently_resolved: PositiveDuration = timedelta(hours=24)


@dataclass(frozen=True)
class PublishedUpdate:
    incident_id: int
    title: str
    severity: str
    status: Phase
    started_at: datetime
    body: str
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.incident_id, "title": self.title, "status": self.status.value,
                "severity": self.severity, "started_at": utc(self.started_at).isoformat(),
                "update": self.body, "updated_at": utc(self.updated_at).isoformat()}


@dataclass(frozen=True)
class PublicStatus:
    ongoing: list[PublishedUpdate]
    recently_resolved: list[PublishedUpdate]
    generated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"incidents": [u.as_json() for u in self.ongoing],
                "recently_resolved": [u.as_json() for u in self.recently_resolved],
                "generated_at": utc(self.generated_at).isoformat()}


async def public_status(session: AsyncSession, *, now: datetime, rules: StatusPageRules) -> PublicStatus:
    """Only approved updates of incidents that are not private; nothing else ever reaches the page."""
    query = (select(CommsDraft, Incident).join(Incident, Incident.id == CommsDraft.incident_id)
             .where(CommsDraft.audience == Audience.STATUSPAGE, CommsDraft.status == DraftStatus.APPROVED,
                    Incident.is_private.is_(False),
                    or_(Incident.resolved_at.is_(None), Incident.resolved_at >= now - rules.recently_resolved))
             .order_by(CommsDraft.approved_at.desc(), CommsDraft.id.desc()))
    latest: dict[int, PublishedUpdate] = {}
    for draft, incident in await session.execute(query):
        if incident.id not in latest and draft.approved_at is not None:
            latest[incident.id] = PublishedUpdate(incident.id, incident.title, incident.severity.value, draft.phase,
                                                  incident.started_at, draft.body, draft.approved_at)
    updates = sorted(latest.values(), key=lambda u: (u.started_at, u.incident_id), reverse=True)
    since = now - rules.recently_resolved
    return PublicStatus(
        ongoing=[u for u in updates if u.status is not Phase.RESOLVED],
        recently_resolved=[u for u in updates if u.status is Phase.RESOLVED and u.updated_at >= since],
        generated_at=now,
    )
