"""The services an incident affects (playbooks/services.yml), named at declaration or later. Every change is
on the timeline. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.errors import NoChange
from app.incidents.models import AffectedService, Incident
from app.incidents.service import record


def name_at_declaration(session: AsyncSession, incident: Incident, keys: Sequence[str], *, by: str | None,
                        now: datetime) -> None:
    """A new incident's services (nobody else can change it yet), on its timeline."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return
    incident.services.extend(AffectedService(service=key, named_at=now, named_by=by) for key in keys)
    record(session, incident, kind="services_changed", actor=by, now=now, text=f"Affected services: {', '.join(keys)}")


async def add_services(session: AsyncSession, incident: Incident, keys: Sequence[str], *, by: str,
                       now: datetime) -> list[str]:
    """Name more services; returns the ones this call added. Two people adding the same one at once: the
    database's key decides, and the second is told it is there already."""
    added = []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for key in dict.fromkeys(keys):
        result = cast(CursorResult[Any], await session.execute(
            insert(AffectedService).values(incident_id=incident.id, service=key, named_at=now, named_by=by)
            .on_conflict_do_nothing(index_elements=["incident_id", "service"])))
        if result.rowcount == 1:
            added.append(key)
    await session.refresh(incident, ["services"])
    if not added:
        raise NoChange(reason="services_named", services=list(keys))
    record(session, incident, kind="services_changed", actor=by, now=now, text=f"Services added: {', '.join(added)}")
    return added


async def remove_services(session: AsyncSession, incident: Incident, keys: Sequence[str], *, by: str,
                          now: datetime) -> list[str]:
    """No longer name these services; returns the ones this call removed."""
    removed = []
    for key in dict.fromkeys(keys):
        result = cast(CursorResult[Any], await session.execute(
            delete(AffectedService).where(AffectedService.incident_id == incident.id, AffectedService.service == key)))
        if result.rowcount == 1:
            removed.append(key)
    await session.refresh(incident, ["services"])
    if not removed:
        raise NoChange(reason="services_not_named", services=list(keys))
    record(session, incident, kind="services_changed", actor=by, now=now,
           text=f"Services removed: {', '.join(removed)}")
    return removed


async def open_incidents_naming(session: AsyncSession, keys: Sequence[str], *, since: datetime) -> list[int]:
    """The open incidents declared since then that name any of these services, newest first."""
    if not keys:
        return []
    query = (select(Incident.id).join(AffectedService, AffectedService.incident_id == Incident.id)
             .where(Incident.resolved_at.is_(None), Incident.started_at >= since, AffectedService.service.in_(keys))
             .order_by(Incident.started_at.desc(), Incident.id.desc()))
    return list(dict.fromkeys(await session.scalars(query)))


async def open_incidents_naming_unknown(session: AsyncSession, known: Sequence[str]) -> dict[int, list[str]]:
    """The open incidents that name services the catalog no longer has, with those keys."""
    query = (select(AffectedService.incident_id, AffectedService.service)
             .join(Incident, AffectedService.incident_id == Incident.id)
             .where(Incident.resolved_at.is_(None), AffectedService.service.not_in(known))
             .order_by(AffectedService.incident_id, AffectedService.service))
    found: dict[int, list[str]] = {}
    for incident_id, key in await session.execute(query):
        found.setdefault(incident_id, []).append(key)
    return found
