"""Alerts and their incidents in the database. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.alert import Alert
from app.alerts.models import AlertClaim
from app.incidents.models import Incident
from app.incidents.service import record


async def open_incident_for(session: AsyncSession, alert: Alert) -> Incident | None:
    """The open incident this alert's fingerprint belongs to. A claim whose incident is resolved is
    released here, so the next alert declares a new incident."""
    claim = await session.get(AlertClaim, (alert.source, alert.fingerprint), populate_existing=True)
    if claim is None:
        return None
    incident = await session.get(Incident, claim.incident_id)
    if incident is not None and not incident.is_resolved:
        return incident
    await session.execute(delete(AlertClaim).where(AlertClaim.source == alert.source,
                                                   AlertClaim.fingerprint == alert.fingerprint,
                                                   AlertClaim.incident_id == claim.incident_id))
    return None


async def claim(session: AsyncSession, alert: Alert, incident: Incident, *, rule: str, now: datetime) -> bool:
    """In the transaction that stores the incident: make it the fingerprint's open incident. False if
    another declaration holds the fingerprint already (the database decides: a unique key); the caller
    then rolls back and adds the alert to that one instead."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    claimed = cast(CursorResult[Any], await session.execute(
        insert(AlertClaim).values(source=alert.source, fingerprint=alert.fingerprint, incident_id=incident.id,
                                  claimed_at=now)
        .on_conflict_do_nothing(index_elements=["source", "fingerprint"])))
    if claimed.rowcount != 1:
        return False
    record(session, incident, kind="detected", actor=None, now=now,
           text=f"Declared by the {alert.source} alert rule {rule}: {alert.describe()}")
    return True


def add_alert(session: AsyncSession, incident: Incident, alert: Alert, *, now: datetime) -> None:
    """The alert on the incident's timeline. A resolved alert is only written down: whether the incident
    is over is for people to say."""
    record(session, incident, kind="alert_resolved" if alert.is_resolved else "alert", actor=None, now=now,
           text=alert.describe())
