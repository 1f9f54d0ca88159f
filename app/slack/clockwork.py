"""What the clock does in Slack when work falls due: remind, page, escalate.

Each firing is a few steps (see app/duework/attempt.py): the post in the incident channel is the
essential one, and a lookup, DM or page that fails never keeps it from going out. The failure is
said in the post and on the timeline, once, and only the part that failed is tried again.
Posts go out once however often the work is tried (app/slack/once.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.duework.attempt import Attempt
from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import Fired
from app.incidents.deadlines import OPEN_WORK, next_update_due
from app.incidents.models import Incident, Role, Severity
from app.incidents.policy import Policy
from app.incidents.service import record
from app.oncall import pages as page_records
from app.oncall.models import PageRecord
from app.oncall.pagers import Page, Paged, Pager, Pagers
from app.oncall.pages import BACKUP_PAGE, Sent
from app.oncall.roster import Roster
from app.slack.messages import Message, Messages
from app.slack.once import classify, post_once
from app.slack.pacing import Pacer
from app.slack.people import Group, find_people, read_group
from app.slack.surfaces import Surfaces

log = logging.getLogger(__name__)
PAGES_SENT = "pages sent"
PAGES_RESOLVED = "pages resolved"  # what this attempt's pages reached, recorded when its outcome is settled
SLACK_CHANNEL_LINK = "https://slack.com/app_redirect?channel="  # opens the channel in the reader's workspace
REMINDER_STEP = "post reminder"
STALE_REMINDERS = "stale reminders"

Handler = Callable[[Attempt, Incident, datetime], Awaitable[Fired]]


class SlackClockWorker:
    classify = staticmethod(classify)

    def __init__(self, *, db: Database, client: AsyncWebClient, messages: Messages, policy: Policy, roster: Roster,
                 pagers: Pagers, surfaces: Surfaces) -> None:
        self.db = db
        # Other features (reviews, action items, compliance clocks) add what their due work does.
        self.handlers: dict[WorkKind, Handler] = {}
        # Recurring work other than update reminders, and how often it comes round (resolved or not).
        self.cadences: dict[WorkKind, timedelta] = {}
        self.client = client
        self.messages = messages
        self.policy = policy
        self.roster = roster
        self.pagers = pagers
        self.surfaces = surfaces
        self.pacer: Pacer | None = getattr(client, "pacer", None)

    def cadence(self, work: DueWork, incident: Incident) -> timedelta | None:
        if work.kind in self.cadences:
            return self.cadences[work.kind]
        if work.is_recurring and not incident.is_resolved:
            return self.policy.for_severity(incident.severity).update_every
        return None

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        work = attempt.work
        if work.kind is WorkKind.PAGE_RESOLVE:
            return await self._resolve_pages(attempt, incident)
        if incident.is_resolved and work.kind in OPEN_WORK:
            return Fired(outcome="cancelled")
        match work.kind:
            case WorkKind.UPDATE_REMINDER:
                return await self._remind(attempt, incident, now)
            case WorkKind.ACK_DEADLINE:
                return await self._page_backup(attempt, incident, now)
            case WorkKind.ESCALATION:
                return await self._escalate(attempt, incident, now)
            case WorkKind.PAGE:
                return await self._page_roles(attempt, incident)
        if work.kind in self.handlers:
            return await self.handlers[work.kind](attempt, incident, now)
        raise AssertionError(f"no handler for due work {work.kind}")

    async def settle(self, session: AsyncSession, attempt: Attempt, incident: Incident, fired: Fired,
                     now: datetime) -> None:
        for kind, text in fired.events:
            record(session, incident, kind=kind, actor=None, now=now, text=text)
        sent = attempt.results.get(PAGES_SENT)
        if sent:  # the page's record rides in the transaction that writes down that the page went out
            await page_records.record_sent(session, incident.id, [Sent.from_json(s) for s in sent], now=now)
        resolved = attempt.results.get(PAGES_RESOLVED)
        if resolved:
            await page_records.mark_resolved(session, incident.id, resolved, now=now)
        posted = attempt.results.get(REMINDER_STEP) if attempt.work.kind is WorkKind.UPDATE_REMINDER else None
        if posted:
            # The newest reminder (or one adopted after an interruption) is the one the next supersedes.
            incident.reminder_ts = posted["ts"]

    async def gave_up(self, attempt: Attempt, incident: Incident) -> None:
        """One-off work failed for the last time: say so where the responders are."""
        if not incident.channel_id:
            return
        message = self.messages.render("clock_gave_up.j2", incident=incident, work=attempt.work,
                                       failures=attempt.failures)
        await post_once(self.client, attempt, "gave up", incident.channel_id, message)

    # -- the kinds of work --------------------------------------------------------------------

    async def _remind(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        if not incident.channel_id:
            return Fired(outcome="skipped")
        who = incident.commander or incident.declared_by
        message = self.messages.render("reminder.j2", **self.surfaces.context(
            incident, who=who, overdue_since=next_update_due(incident, self.policy), now=now))
        posted, _ = await asyncio.gather(
            post_once(self.client, attempt, REMINDER_STEP, incident.channel_id, message,
                      newer_than=incident.reminder_ts),
            self._supersede(attempt, incident.channel_id, incident.reminder_ts))
        if posted is None:
            return Fired()  # the failure is on the attempt: the reminder comes round again soon
        return Fired(events=[("reminder", f"Update reminder sent to {who}")])

    async def _supersede(self, attempt: Attempt, channel_id: str, previous: str | None) -> None:
        """Mark older reminders superseded, so one is live at a time. The edit is cosmetic: when Slack's
        budget for chat.update is spent (a hundred reminders at once), it waits for the next round
        instead of holding up the reminder itself."""
        stale = [*attempt.carried(STALE_REMINDERS, []), *([previous] if previous else [])]
        superseded = self.messages.render("reminder_superseded.j2")
        waiting = []
        for ts in dict.fromkeys(stale):
            if not self.pacer or self.pacer.has_room("chat.update"):
                await attempt.once(f"supersede {ts}", lambda ts=ts: self._edit(channel_id, ts, superseded),
                                   retry=False)
            else:
                waiting.append(ts)
        attempt.carry(STALE_REMINDERS, waiting)

    async def _edit(self, channel_id: str, ts: str, message: Message) -> bool:
        await self.client.chat_update(channel=channel_id, ts=ts, **message.as_kwargs())
        return True

    async def _page_backup(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """The severity's response time is up: the backup on-call is paged for each page still unanswered
        (or, when nothing was paged and nobody acknowledged, for the incident itself)."""
        async with self.db.transaction() as session:
            sent = await page_records.pages_of(session, incident.id)
            unanswered = await page_records.unanswered(session, incident.id)
        if (sent and not unanswered) or (not sent and incident.is_acknowledged):
            return Fired(outcome="skipped")  # every page was answered: nobody else is woken
        rules = self.policy.for_severity(incident.severity)
        configured = self.roster.shift_at(now).backup
        backups = await find_people(self.client, attempt, [configured]) if configured else []
        pager = self._backup_pager()
        paged = None
        unanswered_for = ", ".join(dict.fromkeys(page.who for page in unanswered))
        reason = f"no acknowledgement from {unanswered_for}" if unanswered else "not acknowledged in time"
        if backups or pager.reaches_service:
            paged = self._sent(attempt, await pager.trigger(self._page(
                incident, tuple(backups), reason=reason, key=BACKUP_PAGE, roles=(BACKUP_PAGE,)), attempt))
        if incident.channel_id:
            await post_once(self.client, attempt, "post", incident.channel_id, self.messages.render(
                "ack_missed.j2", **self.surfaces.context(
                    incident, backup=backups[0] if backups else None, configured=configured,
                    response_time=rules.response_time, failures=attempt.failures,
                    unanswered=[_unanswered(page) for page in unanswered])))
        return Fired(events=[("ack_missed", paged or f"Not acknowledged in time ({reason}); "
                                                       f"no backup on-call configured")])

    async def _escalate(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        listed = await find_people(self.client, attempt, self.roster.management_users)
        group = (await read_group(self.client, attempt, self.roster.management_group)
                 if self.roster.management_group else None)
        managers = list(dict.fromkeys([*listed, *(group.members if group else [])]))
        context = self.surfaces.context(incident, managers=managers, group=group, now=now,
                                        failures=list(attempt.failures))
        dm = self.messages.render("escalation_dm.j2", **context)
        steps = [post_once(self.client, attempt, f"dm {manager}", manager, dm) for manager in managers]
        if incident.channel_id:
            steps.append(post_once(self.client, attempt, "post", incident.channel_id,
                                   self.messages.render("escalated.j2", **context)))
        await asyncio.gather(*steps)
        return Fired(events=[("escalated", f"Escalated to {attempt.work.key or 'management'}: "
                                           f"{_told(managers, group)}")])

    async def _page_roles(self, attempt: Attempt, incident: Incident) -> Fired:
        """One page per pager: each role with its own (a PagerDuty service per role, the plan's Appendix A)
        is its own alert; the roles without one share the default page."""
        rules = self.policy.for_severity(incident.severity)
        primary = self.roster.shift_at(incident.started_at).primary
        pages: dict[str, tuple[Pager, list[str], list[str]]] = {}  # page → its pager, roles, people
        for role in rules.page:
            person = incident.holder(role) or (primary if role in (Role.IC, Role.TECH) else None)
            if person == incident.declared_by:
                continue  # the declarer is here already
            name, pager = self.pagers.route(role.value)
            _, roles, people = pages.setdefault(name, (pager, [], []))
            roles.append(role.value)
            if person and person not in people:
                people.append(person)
        events = []
        for name, (pager, roles, people) in pages.items():
            if not people and not pager.reaches_service:
                continue
            page = self._page(incident, tuple(people), reason=f"{incident.severity.value} declared",
                              key=_page_key(name, incident.severity),
                              roles=tuple(roles))
            events.append(("page", self._sent(attempt, await pager.trigger(page, attempt))))
        return Fired(events=events or [("page", f"{incident.severity.value}: nobody to page beyond the declarer")])

    async def _resolve_pages(self, attempt: Attempt, incident: Incident) -> Fired:
        """Each page recorded as sent, on the pager holding the key it was sent with (by the key's recorded
        name): a routing change in playbooks/oncall.yml during the incident leaves no alert open."""
        async with self.db.transaction() as session:
            sent = [page for page in await page_records.pages_of(session, incident.id)
                    if page.dedup_key and page.resolved_at is None]
        by_name: dict[str | None, list[str]] = {}
        for page in sent:
            keys = by_name.setdefault(page.routing_key_name, [])
            if page.dedup_key not in keys:
                keys.append(page.dedup_key or "")
        events, resolved = [], []
        for name, dedup_keys in by_name.items():
            pager = self.pagers.for_key_name(name)
            if pager is None:
                events.append(("page_resolved", f"PagerDuty alerts {', '.join(dedup_keys)} could not be resolved: "
                                                f"{name} is no longer set; resolve them in PagerDuty"))
                continue
            text = await pager.resolve(incident.id, incident.title, attempt, tuple(dedup_keys))
            failed = {f.step for f in attempt.failures}
            resolved += [key for key in dedup_keys if f"pagerduty resolve {key}" not in failed]
            if text:
                events.append(("page_resolved", text))
        attempt.results[PAGES_RESOLVED] = resolved
        return Fired(events=events)

    # -- helpers ------------------------------------------------------------------------------

    def _page(self, incident: Incident, people: tuple[str, ...], *, reason: str, key: str,
              roles: tuple[str, ...]) -> Page:
        link = f"{SLACK_CHANNEL_LINK}{incident.channel_id}" if incident.channel_id else None
        return Page(incident_id=incident.id, severity=incident.severity.value, title=incident.title,
                    summary=self.surfaces.kickoff(incident).text, reason=reason, people=people,
                    channel_id=incident.channel_id, key=key, channel_link=link, roles=roles)

    def _backup_pager(self) -> Pager:
        return self.pagers.own.get(BACKUP_PAGE, self.pagers.default)

    @staticmethod
    def _sent(attempt: Attempt, paged: Paged) -> str:
        """Keep what a page reached for settling, and give the timeline its words."""
        if paged.sent is not None:
            attempt.results.setdefault(PAGES_SENT, []).append(paged.sent.as_json())
        return paged.text


def _page_key(name: str, severity: Severity) -> str:
    """`roles-P1` for the roles without a pager of their own, `tech-P1` for one with its own. Keyed by
    severity: raising P1 to P0 pages the roles P0 adds as a new alert."""
    return f"{name}-{severity.value}"


def _unanswered(page: PageRecord) -> dict[str, object]:
    return {"who": page.recipient or None, "service": page.service, "roles": page.roles.split(","),
            "sent_at": page.sent_at}


def _told(managers: list[str], group: Group | None) -> str:
    names = [*managers]
    if group and group.mention_id and not group.members:
        names.append(f"the {group.name} group")
    return ", ".join(names) or "nobody (no management configured in playbooks/oncall.yml)"


async def _nothing() -> None:
    return None
