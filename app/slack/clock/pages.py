"""Paging: the roles a severity pages when it is declared or raised (one page per pager: each role with a
PagerDuty service of its own is its own alert), the backup on-call for a page still unacknowledged at the
severity's response time, and each page recorded as sent resolved when the incident is (app/oncall/pages.py).
Paging through Slack is app/slack/clock/slack_pager.py."""

from __future__ import annotations

from datetime import datetime

from app.duework import service as duework
from app.duework.attempt import Attempt
from app.duework.models import WorkKind
from app.duework.sweeper import Fired
from app.incidents.models import Incident, Role, Severity
from app.oncall import pages as page_records
from app.oncall.models import PageRecord
from app.oncall.pagers import Page, Pager, RecordPage
from app.oncall.pages import BACKUP_PAGE, PAGES_RESOLVED, Sent
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.people import find_people
from app.slack.toolkit.posting import post_once
from app.slack.toolkit.text import SLACK_CHANNEL_LINK


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
            events.append(("page", await pager.trigger(page, attempt, self._recorder(incident))))
        return Fired(events=events or [("page", f"{incident.severity.value}: nobody to page beyond the declarer")])

    async def page_backup(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """ACK_DEADLINE work: the severity's response time is up; the backup on-call is paged for each page still
        unanswered (or, when nothing was paged and nobody acknowledged, for the incident itself)."""
        async with self.deps.db.transaction() as session:
            sent = await page_records.pages_of(session, incident.id)
            unanswered = await page_records.unanswered(session, incident.id)
            # Its pages not even sent yet (the sweep that fires them fires this too, after downtime): unanswered.
            not_yet = await duework.pending(session, incident.id, WorkKind.PAGE, incident.severity.value)
        if not_yet is None and ((sent and not unanswered) or (not sent and incident.is_acknowledged)):
            return Fired(outcome="skipped")  # every page was answered: nobody else is woken
        rules = self.deps.policy.for_severity(incident.severity)
        configured = self.deps.roster.shift_at(now).backup
        backups = await find_people(self.deps.client, attempt, [configured]) if configured else []
        pager = self._backup_pager()
        paged = None
        unanswered_for = ", ".join(dict.fromkeys(page.who for page in unanswered))
        reason = f"no acknowledgement from {unanswered_for}" if unanswered else "not acknowledged in time"
        if backups or pager.reaches_service:
            paged = await pager.trigger(self._page(
                incident, tuple(backups), reason=reason, key=BACKUP_PAGE, roles=(BACKUP_PAGE,)), attempt,
                self._recorder(incident))
        if incident.channel_id:
            await post_once(self.deps.client, attempt, "post", incident.channel_id, self.deps.messages.render(
                "ack_missed.j2", **self.deps.summary.context(
                    incident, backup=backups[0] if backups else None, configured=configured,
                    response_time=rules.response_time, failures=attempt.failures,
                    unanswered=[_unanswered(page) for page in unanswered])))
        return Fired(events=[("ack_missed", paged or f"Not acknowledged in time ({reason}); "
                                                       f"no backup on-call configured")])

    async def resolve_pages(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """PAGE_RESOLVE work: each page recorded as sent, on the pager holding the key it was sent with (by the
        key's recorded name): a routing change in playbooks/oncall.yml during the incident leaves no alert open."""
        async with self.deps.db.transaction() as session:
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

    def _page(self, incident: Incident, people: tuple[str, ...], *, reason: str, key: str,
              roles: tuple[str, ...]) -> Page:
        link = f"{SLACK_CHANNEL_LINK}{incident.channel_id}" if incident.channel_id else None
        return Page(incident_id=incident.id, severity=incident.severity.value, title=incident.title,
                    summary=self.deps.summary.kickoff(incident).text, reason=reason, people=people,
                    channel_id=incident.channel_id, key=key, channel_link=link, roles=roles)

    def _recorder(self, incident: Incident) -> RecordPage:
        """Writes a page down in a transaction of its own before the pager sends it: if the process dies after
        the DM or alert went out, the record is there to be acknowledged, waited for and resolved."""
        async def record(sent: Sent) -> None:
            async with self.deps.db.transaction() as session:
                await page_records.record_sent(session, incident.id, [sent], now=self.deps.clock.now())
        return record

    def _backup_pager(self) -> Pager:
        return self.pagers.own.get(BACKUP_PAGE, self.pagers.default)


def _page_key(name: str, severity: Severity) -> str:
    """`roles-P1` for the roles without a pager of their own, `tech-P1` for one with its own. Keyed by
    severity: raising P1 to P0 pages the roles P0 adds as a new alert."""
    return f"{name}-{severity.value}"


def _unanswered(page: PageRecord) -> dict[str, object]:
    return {"who": page.recipient or None, "service": page.service, "roles": page.roles.split(","),
            "sent_at": page.sent_at}
