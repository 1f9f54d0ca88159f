"""Storing a declaration: one transaction, before anything is asked of Slack. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents import affected, channels, compliance, deadlines, duplicates, service
from app.incidents import checklist as checklists
from app.incidents.models import Incident, Role, Severity
from app.incidents.policy import Policy


class LooksAlike(Exception):
    """An open incident declared a moment ago looks like this one: raised inside the transaction, so nothing
    is stored; the declarer chooses to join that one or declare anyway."""

    def __init__(self, incident_id: int) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id


async def store_declaration(session: AsyncSession, policy: Policy, *, title: str, severity: Severity, impact: str,
                            declared_by: str, roles: dict[Role, str], kind: str | None, private: bool,
                            look_alike: bool, setup: dict[str, Any], now: datetime,
                            alongside: Callable[[AsyncSession, Incident], Awaitable[None]] | None = None,
                            services: Sequence[str] = ()) -> Incident:
    """The incident, its channel's name, the work of setting it up (`setup`: who to tell), its clock and its
    playbook's checklist and compliance deadlines. `look_alike`: raise LooksAlike first if it is one (a title
    alike enough, or any of the same `services`, the catalog's keys it affects)."""
    if look_alike:
        existing = await duplicates.likely_duplicate(session, title, policy.declaring.duplicates, now=now,
                                                     services=services)
        if existing is not None:
            raise LooksAlike(existing.id)
    incident = service.new_incident(title=title, severity=severity, impact=impact, declared_by=declared_by,
                                    roles=roles, now=now, kind=kind, private=private)
    # Its name read before it is in the session, and all it starts with set before its first flush: one INSERT each
    # for it, its roles, its services, and no UPDATE after.
    incident.channel_name = await channels.next_free_name(session, incident)
    service.add_incident(session, incident)
    affected.name_at_declaration(session, incident, services, by=declared_by, now=now)
    if not setup.get("bot"):  # the bot declaring from an alert has acknowledged nothing
        await deadlines.acknowledged_by_declaring(session, incident, policy.acknowledgement, now=now)
    await session.flush()
    work = duework.NewWork(incident.id, now=now)  # its due work, written in one statement
    work.add(WorkKind.SETUP, now, payload=setup)
    await deadlines.plan_clock(session, incident, policy, now=now, page=True, fresh=work)
    playbook = policy.playbook(kind)
    if playbook:
        checklists.create_checklist(session, incident, playbook)
        await compliance.plan_compliance(session, incident, playbook, now=now, fresh=work)
    await work.write(session)
    if alongside is not None:
        await alongside(session, incident)
    return incident
