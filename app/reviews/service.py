"""The post-incident review: due after resolution, answered in a form, published as a document.
The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import compare_and_set
from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents.errors import AlreadyDone
from app.incidents.models import Incident
from app.incidents.service import record
from app.reviews.errors import ReviewNotYet
from app.reviews.followup import ReviewRules
from app.reviews.models import PostIncidentReview

REMINDER = "reminder"
DEADLINE = "deadline"


@dataclass(frozen=True)
class ReviewAnswers:
    """What the review form asks the team."""

    users_affected: str
    failed_requests: str
    revenue_impact: str | None
    went_well: str
    could_improve: str
    lessons_learned: str


def review_due_at(incident: Incident, rules: ReviewRules) -> datetime:
    assert incident.resolved_at is not None
    return incident.resolved_at + rules.due_within


def review_filename(incident: Incident) -> str:
    """post-incident-review-incident-20261125-1430.md, after the incident's channel."""
    name = incident.channel_name or f"incident-{incident.started_at:%Y%m%d-%H%M}"
    return f"post-incident-review-{name}.md"


async def schedule_review(session: AsyncSession, incident: Incident, rules: ReviewRules, *, now: datetime) -> None:
    """On resolution: the review falls due (playbooks/followup.yml), with a reminder before then."""
    resolved = incident.resolved_at or now
    await duework.plan(session, incident.id, WorkKind.REVIEW_DUE, resolved + rules.remind_after, now=now,
                       key=REMINDER)
    await duework.plan(session, incident.id, WorkKind.REVIEW_DUE, resolved + rules.due_within, now=now, key=DEADLINE)


async def saved_review(session: AsyncSession, incident: Incident) -> PostIncidentReview | None:
    """What was answered so far, if anything."""
    return await session.scalar(select(PostIncidentReview).where(PostIncidentReview.incident_id == incident.id))


def require_resolved(incident: Incident) -> None:
    if not incident.is_resolved:
        raise ReviewNotYet(title=incident.title)


async def answer_review(session: AsyncSession, incident: Incident, answers: ReviewAnswers, *,
                        seen: datetime | None, by: str, now: datetime) -> PostIncidentReview:
    """Store the team's answers, replacing the ones the form showed (`seen`: when those were answered, None
    for a first review). Of two submissions at once only the first is stored; the other is told whose was."""
    require_resolved(incident)
    fields = {"users_affected": answers.users_affected, "failed_requests": answers.failed_requests,
              "revenue_impact": answers.revenue_impact, "went_well": answers.went_well,
              "could_improve": answers.could_improve, "lessons_learned": answers.lessons_learned,
              "answered_by": by, "answered_at": now}
    review = await saved_review(session, incident)
    if review is None and seen is None:
        try:
            async with session.begin_nested():
                await session.execute(insert(PostIncidentReview).values(incident_id=incident.id, **fields))
        except IntegrityError:
            pass  # another submission stored the first answers: the one-review-per-incident constraint
        else:
            stored = await saved_review(session, incident)
            assert stored is not None
            return stored
    elif review is not None and seen is not None and await compare_and_set(
            session, review, PostIncidentReview.answered_at == seen, **fields):
        return review
    review = await saved_review(session, incident)
    if review is not None:
        await session.refresh(review)
    raise AlreadyDone(what="review", by=review.answered_by if review else None,
                      at=review.answered_at if review else None)


async def publish_review(session: AsyncSession, incident: Incident, *, document: str, filename: str, by: str,
                         now: datetime) -> PostIncidentReview:
    """The review document is out: keep it, and stop reminding anyone about it."""
    review = await saved_review(session, incident)
    assert review is not None, "answer_review comes first"
    again = review.is_published
    review.document, review.filename = document, filename
    review.published_by, review.published_at = by, now
    await duework.cancel(session, incident.id, [WorkKind.REVIEW_DUE], now=now)
    record(session, incident, kind="review_published", actor=by, now=now,
           text=f"Post-incident review {'updated' if again else 'published'}: {filename}")
    return review


async def published_review(session: AsyncSession, incident_id: int, *,
                           private_too: bool = False) -> PostIncidentReview | None:
    """The published review of this incident. A private incident's is never served publicly."""
    query = (select(PostIncidentReview).join(Incident, Incident.id == PostIncidentReview.incident_id)
             .where(Incident.id == incident_id, PostIncidentReview.published_at.is_not(None)))
    if not private_too:
        query = query.where(Incident.is_private.is_(False))
    return await session.scalar(query)


async def keep_document(session: AsyncSession, incident_id: int, document: str) -> None:
    """A published review regenerated (its action items changed): serve the new text."""
    review = await published_review(session, incident_id, private_too=True)
    if review is not None:
        review.document = document
