"""Publishing an approved status-page update to the hosted status page (Statuspage.io), as due work: retried while
it is down, said once to the approver when it first fails, and reported in the channel if it never gets through.
Each update names the components of the incident's services (playbooks/services.yml `statuspage_id`) with the
state its severity gives; when the incident is resolved, they are set operational at once (`ComponentRestorer`),
before any Resolved update is approved."""

from __future__ import annotations

from datetime import datetime

from app.comms import service as comms
from app.comms.models import Phase
from app.comms.status_page import OPERATIONAL
from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents.models import Incident
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.messages import Message
from app.statuspage.hosted import HostedStatusPage


class StatuspagePublisher:
    def __init__(self, deps: Deps, statuspage: HostedStatusPage) -> None:
        self.deps = deps
        self.statuspage = statuspage

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        async with self.deps.db.transaction() as session:
            draft = await comms.get_draft(session, int(attempt.work.key))
            statuspage_id = await comms.statuspage_incident_id(session, incident)
        published = await attempt.once("publish", lambda: self.statuspage.publish(
            statuspage_id, name=incident.title, status=draft.phase.value, body=draft.body,
            components=self._components(incident, resolved=draft.phase is Phase.RESOLVED)))
        if published is None:
            failure = attempt.failures[-1].error
            approver = attempt.work.payload.get("approver")
            if approver and incident.channel_id:
                message = self.deps.messages.render("comms/statuspage_failed.j2", failure=failure,
                                                     retrying=attempt.retry)
                await attempt.once("tell approver", lambda: self._tell(incident.channel_id or "", approver, message),
                                   retry=False)
            return Fired()
        async with self.deps.db.transaction() as session:
            (await comms.get_draft(session, draft.id)).statuspage_incident_id = published
        return Fired(events=[("statuspage_published",
                              f"Published to {self.statuspage.label} (incident {published}, {draft.phase.value})")])

    def _components(self, incident: Incident, *, resolved: bool) -> dict[str, str]:
        """The Statuspage.io components of the incident's services (those with a `statuspage_id`), each with
        the state its severity gives (playbooks/status_page.yml); operational again with the Resolved update
        or once the incident is resolved."""
        rules = self.deps.policy.status_page
        state = OPERATIONAL if resolved else rules.component_state(incident)
        catalog = self.deps.policy.services
        return {service.statuspage_id: state for key in incident.service_keys
                if (service := catalog.get(key)) is not None and service.statuspage_id}

    async def _tell(self, channel_id: str, user_id: str, message: Message) -> bool:
        await self.deps.client.chat_postEphemeral(channel=channel_id, user=user_id, **message.as_kwargs())
        return True


class ComponentRestorer:
    """STATUSPAGE_COMPONENTS work: a resolved incident's Statuspage.io components operational again. Nothing to do
    without Statuspage.io, for an incident never published there, or one reopened meanwhile."""

    def __init__(self, deps: Deps, statuspage: HostedStatusPage | None) -> None:
        self.deps = deps
        self.statuspage = statuspage

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        statuspage = self.statuspage
        if statuspage is None or not incident.is_resolved:
            return Fired(outcome="cancelled")
        async with self.deps.db.transaction() as session:
            statuspage_id = await comms.statuspage_incident_id(session, incident)
        catalog = self.deps.policy.services
        components = {service.statuspage_id: OPERATIONAL for key in incident.service_keys
                      if (service := catalog.get(key)) is not None and service.statuspage_id}
        if statuspage_id is None or not components:
            return Fired(outcome="cancelled")
        done = await attempt.once("restore", lambda: statuspage.set_components(statuspage_id, components))
        if done is None:
            return Fired()
        return Fired(events=[("statuspage_published", f"{statuspage.label} components operational again "
                                                      f"(incident {statuspage_id}: {', '.join(components)})")])
