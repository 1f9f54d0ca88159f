"""Legal deadlines (the plan's Appendix D) on the reminder engine: reminded before each, met once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import rows_matched
from app.duework import service as duework
from app.duework.models import DueWork, WorkKind
from app.incidents.errors import NoChange, UsageError
from app.incidents.models import Incident
from app.incidents.playbooks import ComplianceClock, Playbook
from app.incidents.service import record

DUE = "due"


def work_key(clock: ComplianceClock, before: str) -> str:
    """Rows are keyed gdpr:86400 (a reminder 24 h before), gdpr:due (the deadline itself)."""
    return f"{clock.key}:{before}"


def deadline(incident: Incident, clock: ComplianceClock) -> datetime:
    return incident.started_at + clock.within


async def plan_compliance(session: AsyncSession, incident: Incident, playbook: Playbook, *, now: datetime,
                          fresh: duework.NewWork | None = None) -> None:
    """`fresh`: the incident was stored in this transaction (its rows, written together)."""
    for clock in playbook.compliance:
        due = deadline(incident, clock)
        for before in clock.remind_before:
            await duework.plan(session, incident.id, WorkKind.COMPLIANCE_DEADLINE, due - before, now=now,
                               key=work_key(clock, str(int(before.total_seconds()))), fresh=fresh)
        await duework.plan(session, incident.id, WorkKind.COMPLIANCE_DEADLINE, due, now=now,
                           key=work_key(clock, DUE), fresh=fresh)


def clock_for(playbook: Playbook | None, key: str) -> ComplianceClock:
    clock = next((c for c in (playbook.compliance if playbook else ()) if c.key == key), None)
    if clock is None:
        raise UsageError(subcommand="notified", problem="no_such_deadline", given=key,
                         deadlines=[c.key for c in playbook.compliance] if playbook else [])
    return clock


async def mark_notified(session: AsyncSession, incident: Incident, playbook: Playbook | None, key: str, *,
                        by: str, now: datetime) -> ComplianceClock:
    """Record that the notification was made: its reminders stop."""
    clock = clock_for(playbook, key)
    pending = DueWork.key.like(f"{clock.key}:%")
    cancelled = await session.execute(
        update(DueWork).where(DueWork.incident_id == incident.id, DueWork.kind == WorkKind.COMPLIANCE_DEADLINE,
                              pending, DueWork.done_at.is_(None))
        .values(done_at=now, outcome="met"))
    if not rows_matched(cancelled) and await _already_met(session, incident, clock):
        raise NoChange(reason="already_notified", deadline=clock.name)
    late = bool(clock.within) and now > deadline(incident, clock)  # "immediately" is never late, only done
    record(session, incident, kind="compliance_met", actor=by, now=now,
           text=f"{clock.name}: done{' (after the deadline)' if late else ''}")
    return clock


async def _already_met(session: AsyncSession, incident: Incident, clock: ComplianceClock) -> bool:
    query = select(DueWork.id).where(DueWork.incident_id == incident.id, DueWork.outcome == "met",
                                     DueWork.key.like(f"{clock.key}:%")).limit(1)
    return await session.scalar(query) is not None
