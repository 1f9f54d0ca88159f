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

from app.duework.attempt import Attempt
from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import Fired
from app.incidents.deadlines import OPEN_WORK, next_update_due
from app.incidents.models import Incident, Role, Severity
from app.incidents.policy import Policy
from app.incidents.service import record
from app.oncall.pagers import Page, Pager, Pagers
from app.oncall.roster import Roster
from app.slack.messages import Message, Messages
from app.slack.once import classify, post_once
from app.slack.pacing import Pacer
from app.slack.people import Group, find_people, read_group
from app.slack.surfaces import Surfaces

log = logging.getLogger(__name__)
BACKUP_PAGE = "backup"
SLACK_CHANNEL_LINK = "https://slack.com/app_redirect?channel="  # opens the channel in the reader's workspace
REMINDER_STEP = "post reminder"
STALE_REMINDERS = "stale reminders"

Handler = Callable[[Attempt, Incident, datetime], Awaitable[Fired]]


class SlackClockWorker:
    classify = staticmethod(classify)

    def __init__(self, *, client: AsyncWebClient, messages: Messages, policy: Policy, roster: Roster,
                 pagers: Pagers, surfaces: Surfaces) -> None:
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
        rules = self.policy.for_severity(incident.severity)
        configured = self.roster.shift_at(now).backup
        backups = await find_people(self.client, attempt, [configured]) if configured else []
        pager = self._backup_pager()
        paged = None
        if backups or pager.reaches_service:
            paged = await pager.trigger(self._page(incident, tuple(backups), reason="not acknowledged in time",
                                                   key=BACKUP_PAGE, roles=(BACKUP_PAGE,)), attempt)
        if incident.channel_id:
            await post_once(self.client, attempt, "post", incident.channel_id, self.messages.render(
                "ack_missed.j2", **self.surfaces.context(
                    incident, backup=backups[0] if backups else None, configured=configured,
                    response_time=rules.response_time, failures=attempt.failures)))
        return Fired(events=[("ack_missed", paged or "Not acknowledged in time; no backup on-call configured")])

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
            events.append(("page", await pager.trigger(page, attempt)))
        return Fired(events=events or [("page", f"{incident.severity.value}: nobody to page beyond the declarer")])

    async def _resolve_pages(self, attempt: Attempt, incident: Incident) -> Fired:
        """Every page the incident can have raised, on the pager that raised it. Resolving a page that was
        never raised changes nothing, so nothing needs to remember which ones were."""
        keys: dict[int, tuple[Pager, list[str]]] = {}
        for pager, key in self._page_keys():
            keys.setdefault(id(pager), (pager, []))[1].append(key)
        events = []
        for pager, pager_keys in keys.values():
            text = await pager.resolve(incident.id, incident.title, attempt, tuple(pager_keys))
            if text:
                events.append(("page_resolved", text))
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

    def _page_keys(self) -> list[tuple[Pager, str]]:
        """Every page an incident can raise, with its pager: for each severity that pages, each role's own
        page and the roles' shared one; and the backup's."""
        keys: list[tuple[Pager, str]] = []
        for severity in Severity:
            for role in self.policy.for_severity(severity).page:
                name, pager = self.pagers.route(role.value)
                key = _page_key(name, severity)
                if (pager, key) not in keys:
                    keys.append((pager, key))
        return [*keys, (self._backup_pager(), BACKUP_PAGE)]


def _page_key(name: str, severity: Severity) -> str:
    """`roles-P1` for the roles without a pager of their own, `tech-P1` for one with its own. Keyed by
    severity: raising P1 to P0 pages the roles P0 adds as a new alert."""
    return f"{name}-{severity.value}"


def _told(managers: list[str], group: Group | None) -> str:
    names = [*managers]
    if group and group.mention_id and not group.members:
        names.append(f"the {group.name} group")
    return ", ".join(names) or "nobody (no management configured in playbooks/oncall.yml)"


async def _nothing() -> None:
    return None
