"""A named service's on-call paged (playbooks/services.yml `oncall`) by the same page records and acknowledgement
rules as the roles: SERVICE_PAGE due work keyed by the service (planned in app/incidents/affected.py), claimed by
one replica, the page written down before it goes out and each DM or alert sent once (a restart repeats only what
was not recorded). The person paged acknowledges it from the page's DM, the kickoff or PagerDuty; unanswered at
the severity's response time from when the service was named, the backup on-call is paged for it
(app/slack/clock/pages.py); it is resolved with the incident by the keys it went out with.

Who is paged, and how: a roster entry is the rotation's primary or backup, or a lead of oncall.yml, paged as the
roles are (the primary on the IC's pager, the backup on the backup's, a lead on their role's: oncall.yml
`paging`, by default PagerDuty with PAGERDUTY_ROUTING_KEY, else Slack); a PagerDuty service of its own is paged
through the key its `routing_key_env` holds, and its schedule finds the person."""

from __future__ import annotations

from datetime import datetime

from app.catalog.services import Service
from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import affected
from app.incidents.models import Incident
from app.oncall.pagers import Pager
from app.oncall.pages import BACKUP_PAGE, service_page_key
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.paging import page_of, recorder

PRIMARY_PAGER = "ic"  # the rotation's primary is paged on the on-call IC's pager (the plan's agentguard-oncall)


class ServicePaging:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """SERVICE_PAGE work."""
        key = attempt.work.key
        service = affected.still_affected(incident, key, self.deps.policy.services)
        if service is None:
            return Fired(outcome="cancelled")
        if incident.is_private:  # its people are the ones the incident needs: said, not paged
            return self._not_paged(key, "private")
        pager, people = self._oncall(service, now)
        if incident.declared_by in people:
            return self._not_paged(key, "declarer")  # here already, as the roles' pages skip the declarer
        if not people and not pager.reaches_service:
            return self._not_paged(key, "nobody")
        reason = self.deps.messages.text("service_page.txt.j2", catalog=self.deps.policy.services, for_service=key,
                                         not_paged=None)
        page = page_of(self.deps, incident, tuple(people), reason=reason, key=service_page_key(key))
        return Fired(events=[("page", await pager.trigger(page, attempt, recorder(self.deps, incident,
                                                                                  for_service=key)))])

    def _oncall(self, service: Service, now: datetime) -> tuple[Pager, list[str]]:
        """The pager that reaches the service's on-call, and who they are here (none: its own schedule decides)."""
        own = self.deps.integrations.service_pagers.get(service.key)
        if own is not None:
            return own, []
        pagers, roster, entry = self.deps.integrations.pagers, self.deps.roster, service.oncall.roster
        shift = roster.shift_at(now)
        if entry == "backup":
            return pagers.own.get(BACKUP_PAGE, pagers.default), [shift.backup] if shift.backup else []
        if entry == "primary" or entry is None:
            return pagers.route(PRIMARY_PAGER)[1], [shift.primary] if shift.primary else []
        lead = roster.leads.get(entry)
        return pagers.route(entry)[1], [lead] if lead else []

    def _not_paged(self, key: str, why: str) -> Fired:
        return Fired(outcome="skipped", events=[("page", self.deps.messages.text(
            "service_page.txt.j2", catalog=self.deps.policy.services, for_service=key, not_paged=why))])
