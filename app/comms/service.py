"""Drafting, editing and approving communications. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.comms.errors import DraftAlreadyApproved, NotAnApprover, PrivateIncidentOffStatusPage
from app.comms.models import MAX_SUBJECT, Audience, CommsDraft, DraftStatus, Phase
from app.db import compare_and_set
from app.incidents.errors import AlreadyDone
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


async def get_draft(session: AsyncSession, draft_id: int) -> CommsDraft:
    """The draft with this id."""
    return (await session.scalars(select(CommsDraft).where(CommsDraft.id == draft_id))).one()


def refuse_approved(draft: CommsDraft) -> None:
    if draft.is_approved:
        raise DraftAlreadyApproved(approved_by=draft.approved_by, approved_at=draft.approved_at)


async def edit_draft(session: AsyncSession, draft: CommsDraft, *, seen_edit: datetime | None, subject: str | None,
                     body: str, by: str, now: datetime) -> None:
    """Replace the words of a draft that is not approved yet, as it was when the form opened (`seen_edit`:
    its last edit then): of two edits at once, or an edit and an approval, only the first counts."""
    refuse_approved(draft)
    words = {"body": body, "edited_by": by, "edited_at": now}
    if draft.audience is Audience.EMAIL and subject is not None:
        words["subject"] = subject[:MAX_SUBJECT]
    as_seen = CommsDraft.edited_at.is_(None) if seen_edit is None else CommsDraft.edited_at == seen_edit
    if await compare_and_set(session, draft, CommsDraft.status == DraftStatus.DRAFT, as_seen, **words):
        return
    await session.refresh(draft)
    refuse_approved(draft)
    raise AlreadyDone(what="draft_edited", by=draft.edited_by, at=draft.edited_at)


def may_approve(incident: Incident, user_id: str) -> bool:
    return user_id in {incident.holder(Role.COMMS), incident.holder(Role.IC)}


async def approve_draft(session: AsyncSession, incident: Incident, draft: CommsDraft, *, by: str,
                        now: datetime) -> None:
    """The Communications Lead or the IC approves: the draft may now be published, and the timeline says so.
    Only the first of two approvals at once does; the other is told who approved it."""
    refuse_approved(draft)
    if not may_approve(incident, by):
        raise NotAnApprover(commander=incident.holder(Role.IC), comms_lead=incident.holder(Role.COMMS))
    check_audience(incident, draft.audience)
    if not await compare_and_set(session, draft, CommsDraft.status == DraftStatus.DRAFT,
                                 status=DraftStatus.APPROVED, approved_by=by, approved_at=now):
        await session.refresh(draft)
        refuse_approved(draft)
        raise AssertionError(f"draft {draft.id} changed but is not approved")
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
