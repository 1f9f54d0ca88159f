"""Paging: the roles a severity pages when it is declared or raised (one page per pager: each role with a
PagerDuty service of its own is its own alert), the backup on-call when the IC has not acknowledged in time,
and every page resolved when the incident is. Paging through Slack is app/slack/clock/slack_pager.py."""

from __future__ import annotations

from datetime import datetime

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents.models import Incident, Role, Severity
from app.oncall.pagers import Page, Pager
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.people import find_people
from app.slack.toolkit.posting import post_once
from app.slack.toolkit.text import SLACK_CHANNEL_LINK

BACKUP_PAGE = "backup"


class Pages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.pagers = deps.integrations.pagers

    async def page_roles(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """PAGE work: one page per pager; the roles without one of their own share the default page."""
        rules = self.deps.policy.for_severity(incident.severity)
        primary = self.deps.roster.shift_at(incident.started_at).primary
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

    async def page_backup(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """ACK_DEADLINE work: the IC did not acknowledge in time; the backup on-call is paged."""
        rules = self.deps.policy.for_severity(incident.severity)
        configured = self.deps.roster.shift_at(now).backup
        backups = await find_people(self.deps.client, attempt, [configured]) if configured else []
        pager = self._backup_pager()
        paged = None
        if backups or pager.reaches_service:
            paged = await pager.trigger(self._page(incident, tuple(backups), reason="not acknowledged in time",
                                                   key=BACKUP_PAGE, roles=(BACKUP_PAGE,)), attempt)
        if incident.channel_id:
            await post_once(self.deps.client, attempt, "post", incident.channel_id, self.deps.messages.render(
                "ack_missed.j2", **self.deps.summary.context(
                    incident, backup=backups[0] if backups else None, configured=configured,
                    response_time=rules.response_time, failures=attempt.failures)))
        return Fired(events=[("ack_missed", paged or "Not acknowledged in time; no backup on-call configured")])

    async def resolve_pages(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """PAGE_RESOLVE work: every page the incident can have raised, on the pager that raised it. Resolving a
        page that was never raised changes nothing, so nothing needs to remember which ones were."""
        keys: dict[int, tuple[Pager, list[str]]] = {}
        for pager, key in self._page_keys():
            keys.setdefault(id(pager), (pager, []))[1].append(key)
        events = []
        for pager, pager_keys in keys.values():
            text = await pager.resolve(incident.id, incident.title, attempt, tuple(pager_keys))
            if text:
                events.append(("page_resolved", text))
        return Fired(events=events)

    def _page(self, incident: Incident, people: tuple[str, ...], *, reason: str, key: str,
              roles: tuple[str, ...]) -> Page:
        link = f"{SLACK_CHANNEL_LINK}{incident.channel_id}" if incident.channel_id else None
        return Page(incident_id=incident.id, severity=incident.severity.value, title=incident.title,
                    summary=self.deps.summary.kickoff(incident).text, reason=reason, people=people,
                    channel_id=incident.channel_id, key=key, channel_link=link, roles=roles)

    def _backup_pager(self) -> Pager:
        return self.pagers.own.get(BACKUP_PAGE, self.pagers.default)

    def _page_keys(self) -> list[tuple[Pager, str]]:
        """Every page an incident can raise, with its pager: for each severity that pages, each role's own
        page and the roles' shared one; and the backup's."""
        keys: list[tuple[Pager, str]] = []
        for severity in Severity:
            for role in self.deps.policy.for_severity(severity).page:
                name, pager = self.pagers.route(role.value)
                key = _page_key(name, severity)
                if (pager, key) not in keys:
                    keys.append((pager, key))
        return [*keys, (self._backup_pager(), BACKUP_PAGE)]


def _page_key(name: str, severity: Severity) -> str:
    """`roles-P1` for the roles without a pager of their own, `tech-P1` for one with its own. Keyed by
    severity: raising P1 to P0 pages the roles P0 adds as a new alert."""
    return f"{name}-{severity.value}"
