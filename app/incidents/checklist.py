"""The playbook's steps as a checklist on the incident: who ticked what, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import compare_and_set
from app.incidents.errors import AlreadyDone
from app.incidents.models import ChecklistItem, Incident
from app.incidents.playbooks import Playbook
from app.incidents.service import last_event, record


def create_checklist(session: AsyncSession, incident: Incident, playbook: Playbook) -> None:
    for position, (section, text) in enumerate(playbook.checklist(), start=1):
        session.add(ChecklistItem(incident_id=incident.id, position=position, section=section, text=text))


async def checklist(session: AsyncSession, incident: Incident) -> list[ChecklistItem]:
    query = select(ChecklistItem).where(ChecklistItem.incident_id == incident.id).order_by(ChecklistItem.position)
    return list(await session.scalars(query))


async def tick(session: AsyncSession, incident: Incident, *, seen: dict[int, bool], ticked: set[int], by: str,
               now: datetime) -> list[ChecklistItem]:
    """Someone changed the items they could see (`seen`: item id -> ticked as they saw it) to `ticked`;
    returns the changes. Each item changes only from the state it was seen in, so of two people ticking
    the same item at once, one ticks it and the other is told who did."""
    changed = []
    for item in await checklist(session, incident):
        if item.id not in seen or (item.id in ticked) == seen[item.id]:
            continue
        done = item.id in ticked
        values = {"done_at": now, "done_by": by} if done else {"done_at": None, "done_by": None}
        still = ChecklistItem.done_at.is_(None) if done else ChecklistItem.done_at.is_not(None)
        if not await compare_and_set(session, item, still, **values):
            await _refuse(session, incident, item, done=done)
        record(session, incident, kind="checklist_ticked" if done else "checklist_unticked", actor=by, now=now,
               text=item.text)
        changed.append(item)
    return changed


async def _refuse(session: AsyncSession, incident: Incident, item: ChecklistItem, *, done: bool) -> None:
    await session.refresh(item)
    if done:
        raise AlreadyDone(what="ticked", text=item.text, by=item.done_by, at=item.done_at)
    last = await last_event(session, incident, "checklist_unticked", text_starts=item.text)
    raise AlreadyDone(what="unticked", text=item.text, by=last.actor if last else None, at=last.at if last else None)
