"""What people do to incidents. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import compare_and_set
from app.incidents.errors import AlreadyDone, IncidentResolved, NoChange, NotAnIncidentChannel
from app.incidents.models import Incident, Role, RoleAssignment, Severity, Status, TimelineEvent


@dataclass(frozen=True)
class StatusUpdate:
    status: Status
    findings: str
    action: str | None = None
    eta: str | None = None

    def summary(self) -> str:
        parts = [self.findings]
        if self.action:
            parts.append(f"Action: {self.action}")
        if self.eta:
            parts.append(f"ETA: {self.eta}")
        return " | ".join(parts)


async def declare_incident(
    session: AsyncSession,
    *,
    title: str,
    severity: Severity,
    impact: str,
    declared_by: str,
    roles: dict[Role, str],
    now: datetime,
    kind: str | None = None,
    private: bool = False,
) -> Incident:
    """Store a new incident; the declarer commands it unless someone else was named."""
    incident = new_incident(title=title, severity=severity, impact=impact, declared_by=declared_by, roles=roles,
                            now=now, kind=kind, private=private)
    add_incident(session, incident)
    await session.flush()
    return incident


def new_incident(*, title: str, severity: Severity, impact: str, declared_by: str, roles: dict[Role, str],
                 now: datetime, kind: str | None = None, private: bool = False) -> Incident:
    """A new incident, in no session yet; the declarer commands it unless someone else was named."""
    incident = Incident(
        kind=kind,
        is_private=private,
        title=title,
        severity=severity,
        status=Status.INVESTIGATING,
        impact=impact,
        declared_by=declared_by,
        started_at=now,
        last_update_at=now,
        roles=[],
        services=[],
    )
    holders = {Role.IC: declared_by, **roles}
    for role, user in holders.items():
        incident.roles.append(RoleAssignment(role=role, user_id=user, assigned_at=now))
    return incident


def add_incident(session: AsyncSession, incident: Incident) -> None:
    """A new incident into the session, its declaration on its timeline: both written at the next flush."""
    session.add(incident)
    names = ", ".join(f"{r.role.value}={r.user_id}" for r in incident.roles)
    label = " ".join(filter(None, ["private" if incident.is_private else "", incident.kind or "",
                                   incident.severity.value]))
    record(session, incident, kind="declared", actor=incident.declared_by, now=incident.started_at,
           text=f"Declared {label}: {incident.title} ({names})")


def record(session: AsyncSession, incident: Incident, *, kind: str, actor: str | None, now: datetime,
           text: str = "") -> TimelineEvent:
    """Add a line to the incident's timeline (a new incident's too, before its first flush: written after it)."""
    event = TimelineEvent(incident_id=incident.id, at=now, actor=actor, kind=kind, text=text)
    if incident.id is None:
        event.incident = incident
    session.add(event)
    return event


async def store_fields(session: AsyncSession, incident_id: int, **fields: Any) -> None:
    """Write these columns of the stored incident (what Slack gave back: ids, timestamps) in one UPDATE, without
    loading it and its roles, services and pages first."""
    if fields:
        await session.execute(update(Incident).where(Incident.id == incident_id).values(**fields)
                              .execution_options(synchronize_session=False))


async def get_incident(session: AsyncSession, incident_id: int) -> Incident:
    """The incident with this id (it must exist)."""
    return (await session.scalars(select(Incident).where(Incident.id == incident_id))).one()


async def find_incident(session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident with this number, if there is one."""
    return await session.scalar(select(Incident).where(Incident.id == incident_id))


async def incident_in_channel(session: AsyncSession, channel_id: str) -> Incident:
    """The incident whose channel this is, or NotAnIncidentChannel."""
    incident = await session.scalar(select(Incident).where(Incident.channel_id == channel_id))
    if incident is None:
        raise NotAnIncidentChannel()
    return incident


async def open_incidents(session: AsyncSession) -> list[Incident]:
    """Unresolved incidents, newest first."""
    query = select(Incident).where(Incident.resolved_at.is_(None)).order_by(Incident.started_at.desc(),
                                                                           Incident.id.desc())
    return list(await session.scalars(query))


async def timeline(session: AsyncSession, incident: Incident) -> list[TimelineEvent]:
    """Every event of the incident in the order it happened."""
    query = (select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
             .order_by(TimelineEvent.at, TimelineEvent.id))
    return list(await session.scalars(query))


async def last_event(session: AsyncSession, incident: Incident, *kinds: str,
                     text_starts: str | None = None) -> TimelineEvent | None:
    """The latest timeline line of these kinds: who last made a change, and when."""
    query = select(TimelineEvent).where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind.in_(kinds))
    if text_starts is not None:
        query = query.where(TimelineEvent.text.startswith(text_starts, autoescape=True))
    return await session.scalar(query.order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc()).limit(1))


def _require_open(incident: Incident) -> None:
    if incident.is_resolved:
        raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)


def post_status_update(session: AsyncSession, incident: Incident, update: StatusUpdate, *, author: str,
                       now: datetime) -> None:
    """Record a status update: it moves the status on and restarts the update clock."""
    _require_open(incident)
    if update.status is Status.RESOLVED:
        raise NoChange(reason="resolve_with_command")
    incident.status = update.status
    incident.latest_update = update.summary()
    incident.last_update_at = now
    record(session, incident, kind="status_update", actor=author, now=now,
           text=f"{update.status.value.capitalize()}: {update.summary()}")


async def change_severity(session: AsyncSession, incident: Incident, severity: Severity, *, actor: str,
                          now: datetime) -> Severity:
    """Set a new severity; returns the previous one. Two changes at once: the first wins, the other is told."""
    _require_open(incident)
    previous = incident.severity
    if severity is not previous and await compare_and_set(
            session, incident, Incident.severity == previous, Incident.resolved_at.is_(None), severity=severity):
        record(session, incident, kind="severity_changed", actor=actor, now=now,
               text=f"Severity {previous.value} → {severity.value}")
        return previous
    await session.refresh(incident)
    _require_open(incident)
    last = await last_event(session, incident, "severity_changed")
    by, at = (last.actor, last.at) if last else (None, None)
    if severity is incident.severity:
        raise NoChange(reason="same_severity", severity=severity.value, by=by, at=at)
    raise AlreadyDone(what="severity", severity=incident.severity.value, by=by, at=at)


def assign_role(session: AsyncSession, incident: Incident, role: Role, user_id: str, *, actor: str,
                now: datetime) -> str | None:
    """Give a role to someone; returns who held it before. For an incident nobody else can change yet
    (its declaration); a command uses hand_over_role."""
    _require_open(incident)
    current = next((r for r in incident.roles if r.role is role), None)
    if current is not None and current.user_id == user_id:
        raise NoChange(reason="same_holder", role=role.value, user=user_id)
    previous = current.user_id if current else None
    if current is None:
        incident.roles.append(RoleAssignment(role=role, user_id=user_id, assigned_at=now))
    else:
        current.user_id = user_id
        current.assigned_at = now
    record(session, incident, kind="role_assigned", actor=actor, now=now,
           text=f"{role.value} → {user_id}" + (f" (was {previous})" if previous else ""))
    return previous


def add_note(session: AsyncSession, incident: Incident, text: str, *, author: str, now: datetime) -> None:
    """Add a note to the timeline (allowed after resolution too: people remember things later)."""
    record(session, incident, kind="note", actor=author, now=now, text=text)


async def hand_over_role(session: AsyncSession, incident: Incident, role: Role, user_id: str, *, actor: str,
                         now: datetime) -> str | None:
    """Give a role to someone; returns who held it before. The role changes hands only from the holder
    this command saw (or from nobody, under the one-holder-per-role constraint): of two commands at once,
    one gives it and the other is told."""
    _require_open(incident)
    current = next((r for r in incident.roles if r.role is role), None)
    previous = current.user_id if current else None
    if previous != user_id:
        if current is not None:
            given = await compare_and_set(session, current, RoleAssignment.user_id == previous,
                                          user_id=user_id, assigned_at=now)
        else:
            given = await _first_holder(session, incident, role, user_id, now=now)
        if given:
            await session.refresh(incident, ["roles"])
            record(session, incident, kind="role_assigned", actor=actor, now=now,
                   text=f"{role.value} → {user_id}" + (f" (was {previous})" if previous else ""))
            return previous
    await session.refresh(incident)
    await session.refresh(incident, ["roles"])
    _require_open(incident)
    holder = incident.holder(role)
    last = await last_event(session, incident, "role_assigned", text_starts=f"{role.value} → {holder}")
    by, at = (last.actor, last.at) if last else (None, None)
    if holder == user_id:
        raise NoChange(reason="same_holder", role=role.value, user=user_id, by=by, at=at)
    raise AlreadyDone(what="role", role=role.value, holder=holder, by=by, at=at)


async def _first_holder(session: AsyncSession, incident: Incident, role: Role, user_id: str, *,
                        now: datetime) -> bool:
    """Nobody held the role: this insert gives it, unless another one got in first (the unique constraint)."""
    try:
        async with session.begin_nested():
            await session.execute(insert(RoleAssignment).values(incident_id=incident.id, role=role, user_id=user_id,
                                                                assigned_at=now))
    except IntegrityError:
        return False
    return True


async def resolve_incident(session: AsyncSession, incident: Incident, *, root_cause: str, resolution: str,
                           actor: str, now: datetime) -> None:
    """Close the incident with its root cause and what fixed it. Only the first of two resolutions does."""
    if not incident.is_resolved and await compare_and_set(
            session, incident, Incident.resolved_at.is_(None), status=Status.RESOLVED, resolved_at=now,
            root_cause=root_cause, resolution=resolution, last_update_at=now):
        record(session, incident, kind="resolved", actor=actor, now=now,
               text=f"Resolved. Root cause: {root_cause}. Resolution: {resolution}")
        return
    await session.refresh(incident)
    last = await last_event(session, incident, "resolved")
    raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at, by=last.actor if last else None)


async def reopen_incident(session: AsyncSession, incident: Incident, *, actor: str, now: datetime) -> None:
    """A resolved incident is back: open again, investigating, its update clock counting from now. Of two
    reopenings at once only the first does; the other (and anyone reopening an open incident) is told."""
    if incident.is_resolved and await compare_and_set(
            session, incident, Incident.resolved_at.is_not(None), status=Status.INVESTIGATING, resolved_at=None,
            root_cause=None, resolution=None, last_update_at=now, reopened_by=actor):
        record(session, incident, kind="reopened", actor=actor, now=now, text="Reopened")
        return
    await session.refresh(incident)
    last = await last_event(session, incident, "reopened")
    raise NoChange(reason="not_resolved", by=last.actor if last else None, at=last.at if last else None)
