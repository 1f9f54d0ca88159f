"""A service named after the declaration's setup has its owning team invited to the incident's channel, as due
work keyed by the service: claimed by one replica, each step done once (a restart repeats only what was not
recorded), retried while Slack refuses. Two Web API calls at most: the team's user group read, the invitation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.duework.attempt import Attempt, Problem
from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import Fired
from app.incidents import affected
from app.incidents.models import Incident
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.owners import Owners, read_owners


class OwnerInvitations:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        key = attempt.work.key
        service = affected.still_affected(incident, key, self.deps.policy.services)
        if service is None:
            return Fired(outcome="cancelled")
        channel = incident.channel_id
        if not channel:
            # Named while the declaration's setup was making the channel: tried again (never given up on);
            # the setup makes it due at once when the channel is there.
            attempt.fail("wait for the channel", Problem("no channel yet", transient=True))
            return Fired()
        if incident.is_private:  # its channel is for the people the incident needs: said, not invited
            return Fired(events=[("owners_invited", self.deps.messages.text(
                "owners_invited.txt.j2", owners=[Owners(key, missing="private")], catalog=self.deps.policy.services))])
        owners = await read_owners(self.deps.client, attempt, service)
        there = set(incident.role_holders().values()) | {incident.declared_by} | await self._invited(incident.id)
        newcomers = [person for person in owners.members if person not in there]
        if newcomers:
            await attempt.once("invite", lambda: self._invite(channel, newcomers))
        if attempt.retry:
            return Fired()  # the group or the invitation comes round again; said once it is done
        owners.members = newcomers
        return Fired(events=[("owners_invited", self.deps.messages.text(
            "owners_invited.txt.j2", owners=[owners], catalog=self.deps.policy.services))])

    async def _invite(self, channel: str, people: list[str]) -> list[str]:
        await self.deps.summary.invite(channel, people)
        return people

    async def _invited(self, incident_id: int) -> set[str]:
        """Who the bot has brought in as an owning team already (the setup's and earlier services' steps):
        not invited again, and no Web API call spent to find out."""
        async with self.deps.db.transaction() as session:
            done = await session.scalars(select(DueWork.steps).where(
                DueWork.incident_id == incident_id, DueWork.kind.in_([WorkKind.SETUP, WorkKind.SERVICE_OWNERS]),
                DueWork.outcome == "done"))
            found: set[str] = set()
            for steps in done:
                for step in ("owners invited", "invite"):
                    result = (steps or {}).get(step, {}).get("result")
                    if isinstance(result, list):
                        found.update(result)
        return found
