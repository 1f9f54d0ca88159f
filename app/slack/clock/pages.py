"""Paging: the roles a severity pages when it is declared or raised (one page per pager: each role with a
PagerDuty service of its own is its own alert), the backup on-call for a page still unacknowledged at the
severity's response time (the roles' pages, or a service's on-call's page: app/slack/services/paging.py), and
each page recorded as sent resolved when the incident is (app/oncall/pages.py). Paging through Slack is
app/slack/clock/slack_pager.py."""

from __future__ import annotations

from datetime import datetime

from app.duework import service as duework
from app.duework.attempt import Attempt
from app.duework.models import WorkKind
from app.duework.sweeper import Fired
from app.incidents.models import Incident, Role, Severity
from app.oncall import pages as page_records
from app.oncall.models import PageRecord
from app.oncall.pagers import Pager
from app.oncall.pages import BACKUP_PAGE, PAGES_RESOLVED, service_backup_key
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.paging import page_of, recorder
from app.slack.toolkit.people import find_people
from app.slack.toolkit.posting import post_once


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
            page = page_of(self.deps, incident, tuple(people), reason=f"{incident.severity.value} declared",
                           key=_page_key(name, incident.severity), roles=tuple(roles))
            events.append(("page", await pager.trigger(page, attempt, recorder(self.deps, incident))))
        return Fired(events=events or [("page", f"{incident.severity.value}: nobody to page beyond the declarer")])

    async def page_backup(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """ACK_DEADLINE work: the response time is up; the backup on-call is paged for each page still unanswered.
        Keyed "": the roles' pages (or, when nothing was paged and nobody acknowledged, the incident itself).
        Keyed by a service: that service's on-call's page, whose response time runs from when it was named."""
        service = attempt.work.key or None
        if service is not None and service not in incident.service_keys:
            return Fired(outcome="cancelled")  # no longer named: nobody is woken for it
        async with self.deps.db.transaction() as session:
            sent = [page for page in await page_records.pages_of(session, incident.id)
                    if page.for_service == service and not page.is_backup]
            unanswered = [page for page in await page_records.unanswered(session, incident.id)
                          if page.for_service == service]
            # Its pages not even sent yet (the sweep that fires them fires this too, after downtime): unanswered.
            not_yet = await duework.pending(session, incident.id, *(
                (WorkKind.PAGE, incident.severity.value) if service is None else (WorkKind.SERVICE_PAGE, service)))
        if not_yet is None and not unanswered and (sent or service is not None or incident.is_acknowledged):
            return Fired(outcome="skipped")  # every page was answered (or none went out): nobody else is woken
        rules = self.deps.policy.for_severity(incident.severity)
        configured = self.deps.roster.shift_at(now).backup
        backups = await find_people(self.deps.client, attempt, [configured]) if configured else []
        pager = self._backup_pager()
        paged = None
        unanswered_for = ", ".join(dict.fromkeys(page.who for page in unanswered))
        reason = f"no acknowledgement from {unanswered_for}" if unanswered else "not acknowledged in time"
        if backups or pager.reaches_service:
            paged = await pager.trigger(page_of(
                self.deps, incident, tuple(backups), reason=reason,
                key=BACKUP_PAGE if service is None else service_backup_key(service), roles=(BACKUP_PAGE,)), attempt,
                recorder(self.deps, incident))
        if incident.channel_id:
            await post_once(self.deps.client, attempt, "post", incident.channel_id, self.deps.messages.render(
                "ack_missed.j2", **self.deps.summary.context(
                    incident, backup=backups[0] if backups else None, configured=configured,
                    response_time=rules.response_time, failures=attempt.failures, for_service=service,
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

    def _backup_pager(self) -> Pager:
        return self.pagers.own.get(BACKUP_PAGE, self.pagers.default)


def _page_key(name: str, severity: Severity) -> str:
    """`roles-P1` for the roles without a pager of their own, `tech-P1` for one with its own. Keyed by
    severity: raising P1 to P0 pages the roles P0 adds as a new alert."""
    return f"{name}-{severity.value}"


def _unanswered(page: PageRecord) -> dict[str, object]:
    return {"who": page.recipient or None, "service": page.service, "roles": page.roles.split(","),
            "for_service": page.for_service, "sent_at": page.sent_at}
