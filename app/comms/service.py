"""Drafting, editing and approving communications. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.comms.errors import DraftAlreadyApproved, NotAnApprover, PrivateIncidentOffStatusPage
from app.comms.models import MAX_SUBJECT, Audience, CommsDraft, DraftStatus, Phase
from app.incidents.models import Incident, Role
from app.incidents.service import record


def check_audience(incident: Incident, audience: Audience) -> None:
    """A private incident is never drafted for, nor published on, the status page."""
    if audience is Audience.STATUSPAGE and incident.is_private:
        raise PrivateIncidentOffStatusPage(title=incident.title)


async def create_draft(session: AsyncSession, incident: Incident, *, audience: Audience, phase: Phase,
                       subject: str | None, body: str, by: str, now: datetime) -> CommsDraft:
    """Store a new draft, waiting for approval."""
    check_audience(incident, audience)
    subject = subject[:MAX_SUBJECT] if subject is not None else None
    draft = CommsDraft(incident_id=incident.id, audience=audience, phase=phase, subject=subject, body=body,
                       status=DraftStatus.DRAFT, created_by=by, created_at=now)
    session.add(draft)
    await session.flush()
    return draft


async def get_draft(session: AsyncSession, draft_id: int, *, lock: bool = False) -> CommsDraft:
    """The draft with this id; locked until the transaction ends when it is about to change
    (so two approvers pressing at once never both publish)."""
    query = select(CommsDraft).where(CommsDraft.id == draft_id)
    return (await session.scalars(query.with_for_update() if lock else query)).one()


def edit_draft(draft: CommsDraft, *, subject: str | None, body: str, by: str, now: datetime) -> None:
    """Replace the words of a draft that is not approved yet."""
    if draft.is_approved:
        raise DraftAlreadyApproved(approved_by=draft.approved_by, approved_at=draft.approved_at)
    if draft.audience is Audience.EMAIL and subject is not None:
        draft.subject = subject[:MAX_SUBJECT]
    draft.body = body
    draft.edited_by, draft.edited_at = by, now


def may_approve(incident: Incident, user_id: str) -> bool:
    return user_id in {incident.holder(Role.COMMS), incident.holder(Role.IC)}


def approve_draft(session: AsyncSession, incident: Incident, draft: CommsDraft, *, by: str,
                  now: datetime) -> None:
    """The Communications Lead or the IC approves: the draft may now be published, and the timeline says so."""
    if draft.is_approved:
        raise DraftAlreadyApproved(approved_by=draft.approved_by, approved_at=draft.approved_at)
    if not may_approve(incident, by):
        raise NotAnApprover(commander=incident.holder(Role.IC), comms_lead=incident.holder(Role.COMMS))
    check_audience(incident, draft.audience)
    draft.status, draft.approved_by, draft.approved_at = DraftStatus.APPROVED, by, now
    record(session, incident, kind="comms_approved", actor=by, now=now, text=_approved_line(draft))


def _approved_line(draft: CommsDraft) -> str:
    if draft.audience is Audience.EMAIL:
        return f"Customer e-mail ({draft.phase.value}) approved for sending. Subject: {draft.subject}\n{draft.body}"
    if draft.audience is Audience.STATUSPAGE:
        return f"Status page update ({draft.phase.value}) approved: {draft.body}"
    return f"Internal {draft.phase.value} message approved: {draft.body}"


async def statuspage_incident_id(session: AsyncSession, incident: Incident) -> str | None:
    """The id of this incident on Statuspage.io, once an update has created it there."""
    query = (select(CommsDraft.statuspage_incident_id)
             .where(CommsDraft.incident_id == incident.id, CommsDraft.statuspage_incident_id.is_not(None))
             .order_by(CommsDraft.id.desc()).limit(1))
    return await session.scalar(query)
