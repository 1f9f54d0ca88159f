"""What the clock does in Slack when work falls due: remind, page, escalate.

Channel posts carry the work's id in Slack message metadata. Before posting, the worker looks
for that id in the channel's recent history: if a crash after sending made the row come round
again, the post is not repeated, and the repeat is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import Fired
from app.incidents.deadlines import OPEN_WORK, next_update_due
from app.incidents.models import Incident, Role
from app.incidents.policy import Policy
from app.incidents.service import record
from app.oncall.pagers import Page, Pager
from app.oncall.roster import Roster
from app.slack.messages import Message, Messages
from app.slack.people import resolve_people, usergroup_members
from app.slack.steps import run_steps
from app.slack.surfaces import Surfaces

log = logging.getLogger(__name__)
GUARD_EVENT = "incident_clock"
GUARD_LOOKBACK = 20


class SlackClockWorker:
    def __init__(self, *, client: AsyncWebClient, messages: Messages, policy: Policy, roster: Roster,
                 pager: Pager, surfaces: Surfaces) -> None:
        # Other features (reviews, action items, compliance clocks) add what their due work does.
        self.handlers: dict[WorkKind, Callable[[DueWork, Incident, datetime], Awaitable[Fired]]] = {}
        self.client = client
        self.messages = messages
        self.policy = policy
        self.roster = roster
        self.pager = pager
        self.surfaces = surfaces

    async def fire(self, work: DueWork, incident: Incident, now: datetime) -> Fired:
        if work.kind is WorkKind.PAGE_RESOLVE:
            text = await self.pager.resolve(incident.id, incident.title)
            return Fired(events=[("page_resolved", text)] if text else [])
        if incident.is_resolved and work.kind in OPEN_WORK:
            return Fired(outcome="cancelled")
        if incident.channel_id and await self._already_posted(incident.channel_id, work.id):
            log.warning("Due work %s was already posted in %s before a crash; not repeating it",
                        work.id, incident.channel_id)
            return Fired(events=[("clock_repeat_skipped", f"{work.kind.value} was already sent")])
        match work.kind:
            case WorkKind.UPDATE_REMINDER:
                return await self._remind(work, incident, now)
            case WorkKind.ACK_DEADLINE:
                return await self._page_backup(work, incident, now)
            case WorkKind.ESCALATION:
                return await self._escalate(work, incident, now)
            case WorkKind.PAGE:
                return await self._page_roles(work, incident)
        if work.kind in self.handlers:
            return await self.handlers[work.kind](work, incident, now)
        raise AssertionError(f"no handler for due work {work.kind}")

    async def settle(self, session: AsyncSession, work: DueWork, incident: Incident, fired: Fired,
                     now: datetime) -> None:
        for kind, text in fired.events:
            record(session, incident, kind=kind, actor=None, now=now, text=text)
        if work.kind is WorkKind.UPDATE_REMINDER and fired.outcome == "done":
            if fired.message_ts:
                incident.reminder_ts = fired.message_ts
            # Coalesced: after downtime the next reminder counts from now, not from the missed ones.
            # The claimed row was this incident's only pending reminder, so the next one is simply added
            # (no lookup, no flush per row: a sweep of 100 reminders stays a handful of statements).
            cadence = self.policy.for_severity(incident.severity).update_every
            session.add(DueWork(incident_id=incident.id, kind=WorkKind.UPDATE_REMINDER, key="",
                                due_at=now + cadence, created_at=now, attempts=0))

    # -- the kinds of work --------------------------------------------------------------------

    async def _remind(self, work: DueWork, incident: Incident, now: datetime) -> Fired:
        if not incident.channel_id:
            return Fired(outcome="skipped")
        who = incident.commander or incident.declared_by
        message = self.messages.render("reminder.j2", **self.surfaces.context(
            incident, who=who, overdue_since=next_update_due(incident, self.policy), now=now))
        calls: dict[str, Any] = {"post reminder": self.post_guarded(incident.channel_id, message, work)}
        if incident.reminder_ts:
            superseded = self.messages.render("reminder_superseded.j2", **self.surfaces.context(incident))
            calls["supersede reminder"] = self.client.chat_update(
                channel=incident.channel_id, ts=incident.reminder_ts, **superseded.as_kwargs())
        steps = await run_steps(calls)
        posted = steps.ok("post reminder")
        if posted is None:
            raise RuntimeError(f"reminder not posted: {steps.failures}")
        return Fired(events=[("reminder", f"Update reminder sent to {who}")], message_ts=posted["ts"])

    async def _page_backup(self, work: DueWork, incident: Incident, now: datetime) -> Fired:
        rules = self.policy.for_severity(incident.severity)
        backup = self.roster.shift_at(now).backup
        paged = None
        if backup:
            paged = await self.pager.trigger(self._page(incident, (backup,), reason="not acknowledged in time"))
        message = self.messages.render("ack_missed.j2", **self.surfaces.context(
            incident, backup=(await resolve_people(self.client, [backup]))[0] if backup else None,
            response_time=rules.response_time))
        if incident.channel_id:
            await self.post_guarded(incident.channel_id, message, work)
        return Fired(events=[("ack_missed", paged or "Not acknowledged in time; no backup on-call configured")])

    async def _escalate(self, work: DueWork, incident: Incident, now: datetime) -> Fired:
        managers = await self._management()
        context = self.surfaces.context(incident, managers=managers, now=now)
        dm = self.messages.render("escalation_dm.j2", **context)
        calls: dict[str, Any] = {f"dm {m}": self.client.chat_postMessage(channel=m, **dm.as_kwargs())
                                 for m in managers}
        if incident.channel_id:
            calls["post"] = self.post_guarded(incident.channel_id, self.messages.render("escalated.j2", **context), work)
        steps = await run_steps(calls)
        if steps.failures and not steps.results:
            raise RuntimeError(f"escalation not delivered: {steps.failures}")
        told = ", ".join(managers) or "nobody (no management configured in playbooks/oncall.yml)"
        return Fired(events=[("escalated", f"Escalated to {work.key or 'management'}: {told}")])

    async def _page_roles(self, work: DueWork, incident: Incident) -> Fired:
        rules = self.policy.for_severity(incident.severity)
        primary = self.roster.shift_at(incident.started_at).primary
        people: list[str] = []
        for role in rules.page:
            person = incident.holder(role) or (primary if role in (Role.IC, Role.TECH) else None)
            if person and person != incident.declared_by and person not in people:
                people.append(person)
        if not people:
            return Fired(events=[("page", f"{incident.severity.value}: nobody to page beyond the declarer")])
        text = await self.pager.trigger(self._page(incident, tuple(people), reason=f"{incident.severity.value} declared"))
        return Fired(events=[("page", text)])

    # -- helpers ------------------------------------------------------------------------------

    def _page(self, incident: Incident, people: tuple[str, ...], *, reason: str) -> Page:
        return Page(incident_id=incident.id, severity=incident.severity.value, title=incident.title,
                    summary=self.surfaces.kickoff(incident).text, reason=reason, people=people,
                    channel_id=incident.channel_id)

    async def _management(self) -> list[str]:
        people = list(self.roster.management_users)
        if self.roster.management_group:
            people += await usergroup_members(self.client, self.roster.management_group)
        return await resolve_people(self.client, people)

    async def post_guarded(self, channel_id: str, message: Message, work: DueWork) -> Any:
        """Post in the channel with the work's id in the message metadata (the idempotency guard)."""
        metadata = {"event_type": GUARD_EVENT, "event_payload": {"work_id": work.id, "kind": work.kind.value}}
        return await self.client.chat_postMessage(channel=channel_id, metadata=metadata, **message.as_kwargs())

    async def _already_posted(self, channel_id: str, work_id: int) -> bool:
        history = await self.client.conversations_history(channel=channel_id, limit=GUARD_LOOKBACK,
                                                          include_all_metadata=True)
        return any((m.get("metadata") or {}).get("event_payload", {}).get("work_id") == work_id
                   for m in history.get("messages", []))
