"""The plan's clock for one incident: when the next update is due, when the IC must have
acknowledged, when management hears of it, who is paged. Kept as rows of due work."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import compare_and_set
from app.duework import service as duework
from app.duework.models import DueWork, WorkKind
from app.incidents import affected
from app.incidents.archiving import plan_archive
from app.incidents.errors import AlreadyDone, IncidentResolved, NoChange
from app.incidents.models import Incident
from app.incidents.policy import Policy
from app.incidents.service import last_event, record
from app.oncall import pages
from app.oncall.acknowledgement import AcknowledgementRules
from app.oncall.models import PageRecord
from app.reviews.service import published_review, schedule_review

ACKNOWLEDGED_IN_PAGERDUTY = "pagerduty-"  # + the first page's id: PAGES_SHOWN that also tells the channel
OPEN_WORK = (WorkKind.UPDATE_REMINDER, WorkKind.ACK_DEADLINE, WorkKind.ESCALATION, WorkKind.PAGE,
             WorkKind.SERVICE_PAGE, WorkKind.PAGES_SHOWN)


def next_update_due(incident: Incident, policy: Policy) -> datetime:
    return incident.last_update_at + policy.for_severity(incident.severity).update_every


async def plan_clock(session: AsyncSession, incident: Incident, policy: Policy, *, now: datetime,
                     page: bool = False, fresh: duework.NewWork | None = None) -> None:
    """Bring the incident's due work in line with its severity (at declaration and on a severity change).

    Escalation and acknowledgement count from the incident's start, so raising the severity can make
    them due at once. `page` asks for the severity's roles to be paged (declaration, or a raise).
    `fresh`: the incident was declared in this transaction and has no due work yet: its rows, written together.
    """
    rules = policy.for_severity(incident.severity)
    await duework.plan(session, incident.id, WorkKind.UPDATE_REMINDER, next_update_due(incident, policy), now=now,
                       fresh=fresh)
    # Pages going out need answers even when the IC has the incident in hand (they declared it).
    if not incident.is_acknowledged or (page and rules.page):
        await duework.plan(session, incident.id, WorkKind.ACK_DEADLINE, incident.started_at + rules.response_time,
                           now=now, fresh=fresh)
    target = rules.escalate_to or ""
    if rules.escalate_after is None:
        if fresh is None:
            await duework.cancel(session, incident.id, [WorkKind.ESCALATION], now=now)
    elif fresh is not None or not await duework.already_done(session, incident.id, WorkKind.ESCALATION, target):
        await duework.plan(session, incident.id, WorkKind.ESCALATION, incident.started_at + rules.escalate_after,
                           now=now, key=target, fresh=fresh)
    if page and rules.page and (fresh is not None or not await duework.already_done(
            session, incident.id, WorkKind.PAGE, incident.severity.value)):
        await duework.plan(session, incident.id, WorkKind.PAGE, now, now=now, key=incident.severity.value,
                           fresh=fresh)
    if page:
        await affected.page_oncall(session, incident, incident.service_keys, rules, now=now, fresh=fresh)


async def update_posted(session: AsyncSession, incident: Incident, policy: Policy, *, by: str,
                        now: datetime) -> None:
    """A real status update restarts the cadence, and counts as acknowledgement (of the poster's page too)."""
    await duework.plan(session, incident.id, WorkKind.UPDATE_REMINDER, next_update_due(incident, policy), now=now)
    if policy.acknowledgement.status_update:
        await acknowledge_page(session, incident, policy.acknowledgement, by=by, now=now, how="status update")
    await acknowledge(session, incident, by=by, now=now, how="status update")


async def acknowledge_page(session: AsyncSession, incident: Incident, rules: AcknowledgementRules, *, by: str,
                           now: datetime, how: str) -> list[PageRecord]:
    """The person paged has it: their open pages are acknowledged (the IC's press answers every page when the
    rule allows it), each on the timeline; the first acknowledgement is the incident's too."""
    for_anyone = rules.by == "person_paged_or_ic" and incident.commander == by
    acknowledged = await pages.acknowledge_pages(session, incident.id, by=by, now=now, how=how,
                                                 for_anyone=for_anyone)
    await _pages_acknowledged(session, incident, acknowledged, by=by, now=now, how=how)
    return acknowledged


async def acknowledge_in_pagerduty(session: AsyncSession, incident: Incident, dedup_key: str, *, by: str,
                                   now: datetime) -> list[PageRecord]:
    """PagerDuty says someone acknowledged the alert this bot raised (its webhook names them). The channel hears
    of it and the kickoff is redrawn, as for an acknowledgement in Slack: PAGES_SHOWN due work, since nothing
    here waits for Slack (the webhook's sender has its answer first)."""
    acknowledged = await pages.acknowledge_dedup_key(session, dedup_key, by=by, now=now, how="PagerDuty")
    await _pages_acknowledged(session, incident, acknowledged, by=by, now=now, how="in PagerDuty")
    if acknowledged:
        await duework.plan(session, incident.id, WorkKind.PAGES_SHOWN, now, now=now,
                           key=f"{ACKNOWLEDGED_IN_PAGERDUTY}{acknowledged[0].id}",
                           payload={"acknowledged": [page.id for page in acknowledged], "by": by})
    return acknowledged


async def pages_changed(session: AsyncSession, incident_id: int, *, now: datetime) -> None:
    """A page was written down as sent: the kickoff is redrawn to show it (one redraw for pages sent together)."""
    await duework.plan_at_least(session, incident_id, WorkKind.PAGES_SHOWN, now, now=now)


async def _pages_acknowledged(session: AsyncSession, incident: Incident, acknowledged: list[PageRecord], *,
                              by: str, now: datetime, how: str) -> None:
    for page in acknowledged:
        whose = "their own page" if page.recipient == by else f"the page to {page.who}"
        record(session, incident, kind="page_acknowledged", actor=by, now=now,
               text=f"Acknowledged {whose} ({page.roles}; {page.dedup_key or page.page_key}, {how})")
    if acknowledged:
        await acknowledge(session, incident, by=by, now=now, how=how)


async def acknowledge(session: AsyncSession, incident: Incident, *, by: str, now: datetime, how: str,
                      refuse: bool = False) -> bool:
    """The IC has the incident in hand: no backup page is needed. Returns False if it already was (or
    raises, with `refuse`, saying who acknowledged it and when); of two at once, only one acknowledges."""
    if not incident.is_acknowledged and not incident.is_resolved and await compare_and_set(
            session, incident, Incident.acknowledged_at.is_(None), Incident.resolved_at.is_(None),
            acknowledged_at=now, acknowledged_by=by):
        await _cancel_deadline_if_answered(session, incident, now=now)
        record(session, incident, kind="acknowledged", actor=by, now=now, text=f"Acknowledged ({how})")
        return True
    if incident.is_acknowledged and not incident.is_resolved:
        await _cancel_deadline_if_answered(session, incident, now=now)
    if not refuse:
        return False
    await session.refresh(incident)
    if incident.is_acknowledged:
        raise NoChange(reason="already_acknowledged", by=incident.acknowledged_by, at=incident.acknowledged_at)
    raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)


async def _cancel_deadline_if_answered(session: AsyncSession, incident: Incident, *, now: datetime) -> None:
    """No backup page is needed once every page is answered and none is still to go out."""
    if await pages.unanswered(session, incident.id):
        return
    if await duework.pending(session, incident.id, WorkKind.PAGE, incident.severity.value) is not None:
        return
    if await _service_pages_to_send(session, incident.id):
        return
    await duework.cancel(session, incident.id, [WorkKind.ACK_DEADLINE], now=now)


async def _service_pages_to_send(session: AsyncSession, incident_id: int) -> bool:
    return await session.scalar(select(DueWork.id).where(
        DueWork.incident_id == incident_id, DueWork.kind == WorkKind.SERVICE_PAGE, DueWork.done_at.is_(None))
        .limit(1)) is not None


async def acknowledged_by_declaring(session: AsyncSession, incident: Incident, rules: AcknowledgementRules, *,
                                    now: datetime) -> None:
    """A person who declares an incident and is its IC has acknowledged it by declaring (fresh incident:
    nothing to look up)."""
    if rules.declaring_ic and incident.commander == incident.declared_by:
        incident.acknowledged_at, incident.acknowledged_by = now, incident.declared_by
        record(session, incident, kind="acknowledged", actor=incident.declared_by, now=now,
               text="Acknowledged (declared it as IC)")


async def snooze_reminder(session: AsyncSession, incident: Incident, span: timedelta, *, reminder_ts: str | None,
                          by: str, now: datetime) -> datetime:
    """Postpone the next reminder, answering the reminder message `reminder_ts`. Each reminder is snoozed
    (or answered) once: it stops being the current reminder here, so a second press finds it taken."""
    if incident.is_resolved:
        raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
    if reminder_ts is None or not await compare_and_set(session, incident, Incident.reminder_ts == reminder_ts,
                                                        Incident.resolved_at.is_(None), reminder_ts=None):
        await session.refresh(incident)
        if incident.is_resolved:
            raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
        last = await last_event(session, incident, "reminder_snoozed", "status_update")
        if incident.reminder_ts is not None or last is None:
            raise AlreadyDone(what="reminder_superseded")
        what = "reminder_snoozed" if last.kind == "reminder_snoozed" else "reminder_answered"
        raise AlreadyDone(what=what, by=last.actor, at=last.at)
    due = now + span
    await duework.plan(session, incident.id, WorkKind.UPDATE_REMINDER, due, now=now)
    record(session, incident, kind="reminder_snoozed", actor=by, now=now,
           text=f"Update reminder snoozed for {int(span.total_seconds() // 60)} minutes")
    return due


async def stop_clock(session: AsyncSession, incident: Incident, policy: Policy, *, now: datetime) -> None:
    """A resolved incident is never nagged; anyone paged hears that it is over. Its review falls due."""
    await duework.cancel(session, incident.id, OPEN_WORK, now=now)
    await schedule_review(session, incident, policy.followup.review, now=now)
    await affected.restore_components(session, incident, policy.services, now=now)  # Statuspage.io's, if published
    if await published_review(session, incident.id, private_too=True) is not None:  # resolved again after a reopen
        await plan_archive(session, incident, policy.channel, now=now)
    # By what was recorded as sent (a page is written down before it goes out), not by which work finished: a
    # page sent by work that never settled is resolved too.
    if await pages.to_resolve(session, incident.id):
        await duework.plan(session, incident.id, WorkKind.PAGE_RESOLVE, now, now=now)


async def restart_clock(session: AsyncSession, incident: Incident, policy: Policy, *, now: datetime) -> None:
    """A reopened incident: the update reminders count again from now; its review and the channel's
    archiving wait for the next resolution."""
    await duework.cancel(session, incident.id, [WorkKind.REVIEW_DUE, WorkKind.ARCHIVE], now=now)
    await duework.plan(session, incident.id, WorkKind.UPDATE_REMINDER, next_update_due(incident, policy), now=now)
