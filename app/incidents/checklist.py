"""The playbook's steps as a checklist on the incident: who ticked what, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.models import ChecklistItem, Incident
from app.incidents.playbooks import Playbook
from app.incidents.service import record


def create_checklist(session: AsyncSession, incident: Incident, playbook: Playbook) -> None:
    for position, (section, text) in enumerate(playbook.checklist(), start=1):
        session.add(ChecklistItem(incident_id=incident.id, position=position, section=section, text=text))


async def checklist(session: AsyncSession, incident: Incident) -> list[ChecklistItem]:
    query = select(ChecklistItem).where(ChecklistItem.incident_id == incident.id).order_by(ChecklistItem.position)
    return list(await session.scalars(query))


async def tick(session: AsyncSession, incident: Incident, *, shown: set[int], ticked: set[int], by: str,
               now: datetime) -> list[ChecklistItem]:
    """Bring the items someone could see (`shown`) in line with what is ticked now; returns the changes."""
    changed = []
    for item in await checklist(session, incident):
        if item.id not in shown or (item.id in ticked) == item.is_done:
            continue
        if item.id in ticked:
            item.done_at, item.done_by = now, by
            record(session, incident, kind="checklist_ticked", actor=by, now=now, text=item.text)
        else:
            item.done_at, item.done_by = None, None
            record(session, incident, kind="checklist_unticked", actor=by, now=now, text=item.text)
        changed.append(item)
    return changed
