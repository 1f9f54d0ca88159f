"""Pages as records: writing down what was sent, acknowledging a page, what is still unanswered.

The caller owns the transaction. Acknowledging is one conditional UPDATE per page (WHERE acknowledged_at
IS NULL), so of two acknowledgements at once (the DM's button and PagerDuty's app) one wins and the
other changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.models import Incident
from app.oncall.models import BACKUP_ROLE, PageRecord

BACKUP_PAGE = BACKUP_ROLE  # the page key of the backup on-call's page for the roles' pages
SERVICE_PAGE = "service-"  # + the service's key: the page of a catalog service's on-call
# The pages a resolving attempt closed, kept in its results and written down when its outcome is settled.
PAGES_RESOLVED = "pages resolved"


@dataclass(frozen=True)
class Sent:
    """What one page is to reach, as the pager reports it just before sending it (a page is written down
    before it goes out)."""

    page_key: str
    roles: tuple[str, ...]
    via: str  # slack | pagerduty
    recipients: tuple[str, ...]  # the people reached; for PagerDuty naming nobody, SERVICE_SCHEDULE
    service: str | None = None
    routing_key_name: str | None = None
    dedup_key: str | None = None
    for_service: str | None = None  # the catalog's service whose on-call it pages


def service_page_key(service: str) -> str:
    """The page of a catalog service's on-call (`service-api`): one per incident and service."""
    return f"{SERVICE_PAGE}{service}"


def service_backup_key(service: str) -> str:
    """The backup on-call's page for a service's unanswered page: an alert of its own, not folded into the
    backup's page for the roles (PagerDuty notifies nobody of a trigger with an open alert's dedup key)."""
    return f"{BACKUP_PAGE}-{service}"


async def record_sent(session: AsyncSession, incident_id: int, sent: Iterable[Sent], *, now: datetime) -> None:
    """Write down each recipient of each page once, before the page goes out: a page tried again (one DM of
    three failed) adds only recipients not written down before. Only the due work's lease holder pages, so the
    read is safe."""
    for page in sent:
        known = set((await session.scalars(select(PageRecord.recipient).where(
            PageRecord.incident_id == incident_id, PageRecord.page_key == page.page_key))).all())
        for recipient in page.recipients:
            if recipient not in known:
                session.add(PageRecord(
                    incident_id=incident_id, page_key=page.page_key, roles=",".join(page.roles)[:80], via=page.via,
                    recipient=recipient, service=page.service, routing_key_name=page.routing_key_name,
                    dedup_key=page.dedup_key, sent_at=now, for_service=page.for_service))
    await session.flush()


async def pages_of(session: AsyncSession, incident_id: int) -> list[PageRecord]:
    """Every page of the incident, oldest first."""
    return list((await session.scalars(select(PageRecord).where(PageRecord.incident_id == incident_id)
                                       .order_by(PageRecord.sent_at, PageRecord.id))).all())


async def unanswered(session: AsyncSession, incident_id: int) -> list[PageRecord]:
    """The pages nobody acknowledged (the backup's own pages aside): what the backup on-call is paged for."""
    return [page for page in await pages_of(session, incident_id)
            if not page.is_acknowledged and page.resolved_at is None and not page.is_backup]


async def acknowledge_pages(session: AsyncSession, incident_id: int, *, by: str, now: datetime, how: str,
                            for_anyone: bool = False) -> list[PageRecord]:
    """Acknowledge the open pages sent to `by` (with `for_anyone`, every open page: the IC answering for
    them). Returns the pages this call acknowledged; none if they all were already."""
    mine = [PageRecord.recipient == by]
    if for_anyone:
        mine.append(PageRecord.incident_id == incident_id)
    return await _acknowledge(session, [PageRecord.incident_id == incident_id, or_(*mine)], by=by, now=now, how=how)


async def acknowledge_dedup_key(session: AsyncSession, dedup_key: str, *, by: str, now: datetime,
                                how: str) -> list[PageRecord]:
    """Acknowledge the page PagerDuty knows by this dedup key (every recipient it named)."""
    return await _acknowledge(session, [PageRecord.dedup_key == dedup_key], by=by, now=now, how=how)


async def _acknowledge(session: AsyncSession, which: list[ColumnElement[bool]], *, by: str, now: datetime,
                       how: str) -> list[PageRecord]:
    ids = list((await session.scalars(
        update(PageRecord).where(*which, PageRecord.acknowledged_at.is_(None), PageRecord.resolved_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=by, acknowledged_how=how)
        .returning(PageRecord.id).execution_options(synchronize_session=False))).all())
    if not ids:
        return []
    pages = list((await session.scalars(select(PageRecord).where(PageRecord.id.in_(ids))
                                        .execution_options(populate_existing=True))).all())
    return sorted(pages, key=lambda page: page.id)


async def incident_paged_as(session: AsyncSession, dedup_key: str) -> Incident | None:
    """The incident a PagerDuty alert of ours (by its dedup key) paged for."""
    incident_id = await session.scalar(select(PageRecord.incident_id).where(PageRecord.dedup_key == dedup_key)
                                       .limit(1))
    return None if incident_id is None else await session.get(Incident, incident_id)


async def to_resolve(session: AsyncSession, incident_id: int) -> bool:
    """Whether a page of the incident went out to a pager that keeps state (PagerDuty) and is not resolved."""
    return await session.scalar(select(PageRecord.id).where(
        PageRecord.incident_id == incident_id, PageRecord.dedup_key.is_not(None), PageRecord.resolved_at.is_(None))
        .limit(1)) is not None


async def mark_resolved(session: AsyncSession, incident_id: int, dedup_keys: Iterable[str], *, now: datetime) -> None:
    keys = list(dedup_keys)
    if keys:
        await session.execute(update(PageRecord).where(
            PageRecord.incident_id == incident_id, PageRecord.dedup_key.in_(keys), PageRecord.resolved_at.is_(None))
            .values(resolved_at=now).execution_options(synchronize_session=False))
