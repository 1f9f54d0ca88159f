"""Someone given a role is brought into the incident's channel and sent the plan's duties for it, as due
work: planned with the handover, each step done once, retried while Slack refuses."""

from __future__ import annotations

from datetime import datetime

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents.models import Incident, Role
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.posting import post_once


class RoleDuties:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        payload = attempt.work.payload
        role, holder = Role(payload["role"]), payload["holder"]
        if incident.holder(role) != holder:
            return Fired(outcome="cancelled")  # handed on again before this was done: the newer holder's turn
        channel = incident.channel_id
        if channel:  # before the channel exists, its setup invites every role holder
            await attempt.once("invite", lambda: self._invite(channel, holder))
        context = self.deps.summary.context(incident, role=self.deps.policy.roles[role], holder=holder,
                                              previous_holder=payload.get("previous"), actor=payload.get("actor"))
        await post_once(self.deps.client, attempt, "duties", holder,
                        self.deps.messages.render("role_duties.j2", **context))
        return Fired()

    async def _invite(self, channel: str, holder: str) -> bool:
        await self.deps.summary.invite(channel, [holder])
        return True
