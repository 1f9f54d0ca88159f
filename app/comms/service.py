"""Drafting, editing and approving communications. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.comms.errors import (
    DraftAlreadyApproved,
    DraftChanged,
    NotAnApprover,
    NotAnEditor,
    PrivateIncidentOffStatusPage,
)
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


def may_speak_for(incident: Incident, user_id: str) -> bool:
    """Only the Communications Lead or the IC decide what is said: they edit drafts and approve them."""
    return user_id in {incident.holder(Role.COMMS), incident.holder(Role.IC)}


def check_editor(incident: Incident, user_id: str) -> None:
    if not may_speak_for(incident, user_id):
        raise NotAnEditor(commander=incident.holder(Role.IC), comms_lead=incident.holder(Role.COMMS))


def _holds(seen_edit: datetime | None) -> ColumnElement[bool]:
    """The draft still holds the words of this edit (None: as drafted)."""
    return CommsDraft.edited_at.is_(None) if seen_edit is None else CommsDraft.edited_at == seen_edit


async def edit_draft(session: AsyncSession, incident: Incident, draft: CommsDraft, *, seen_edit: datetime | None,
                     subject: str | None, body: str, by: str, now: datetime) -> None:
    """Replace the words of a draft that is not approved yet, as it was when the form opened (`seen_edit`:
    its last edit then): of two edits at once, or an edit and an approval, only the first counts."""
    refuse_approved(draft)
    check_editor(incident, by)
    # The edit time is the draft's version (an Approve button carries it): it must move on with every edit,
    # even two in the same microsecond, or an old button would approve newer words.
    edited_at = now if seen_edit is None or now > seen_edit else seen_edit + timedelta(microseconds=1)
    words: dict[str, object] = {"body": body, "edited_by": by, "edited_at": edited_at}
    if draft.audience is Audience.EMAIL and subject is not None:
        words["subject"] = subject[:MAX_SUBJECT]
    if await compare_and_set(session, draft, CommsDraft.status == DraftStatus.DRAFT, _holds(seen_edit), **words):
        return
    await session.refresh(draft)
    refuse_approved(draft)
    raise AlreadyDone(what="draft_edited", by=draft.edited_by, at=draft.edited_at)


async def approve_draft(session: AsyncSession, incident: Incident, draft: CommsDraft, *, seen_edit: datetime | None,
                        by: str, now: datetime) -> None:
    """The Communications Lead or the IC approves the draft as they were shown it (`seen_edit`: its last edit
    then): it may now be published, and the timeline says so. One conditional write decides against another
    approval or an edit at the same moment; an approval of words since replaced publishes nothing."""
    refuse_approved(draft)
    if not may_speak_for(incident, by):
        raise NotAnApprover(commander=incident.holder(Role.IC), comms_lead=incident.holder(Role.COMMS))
    check_audience(incident, draft.audience)
    if not await compare_and_set(session, draft, CommsDraft.status == DraftStatus.DRAFT, _holds(seen_edit),
                                 status=DraftStatus.APPROVED, approved_by=by, approved_at=now):
        await session.refresh(draft)
        refuse_approved(draft)
        raise DraftChanged(by=draft.edited_by, at=draft.edited_at, subject=draft.subject, body=draft.body,
                           channel=incident.channel_id)
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
