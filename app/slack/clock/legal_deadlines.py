"""Legal deadlines of private incidents (a playbook's compliance clocks: GDPR, customers, HIPAA, SOC 2): the
reminders as each deadline nears and passes, and `/incident notified <clock>` when the notification is made."""

from __future__ import annotations

from datetime import datetime

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import compliance
from app.incidents.models import Incident
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.posting import post_once


class LegalDeadlines:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    async def notified(self, command: command_line.Notified, actor: Actor) -> None:
        """/incident notified gdpr|customers|hipaa|soc2: a legal notification was made."""
        key = command.deadline
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            clock = await compliance.mark_notified(session, incident, self.deps.policy.playbook(incident.kind),
                                                   key, by=actor.user_id, now=self.deps.clock.now())
        post = self.deps.messages.render("compliance_met.j2", incident=incident, clock=clock, actor=actor.user_id)
        await self.acting.show_change(incident, actor, post)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """COMPLIANCE_DEADLINE work: remind the channel (guarded against repeats)."""
        key, _, before = attempt.work.key.partition(":")
        clock = compliance.clock_for(self.deps.policy.playbook(incident.kind), key)
        due = compliance.deadline(incident, clock)
        message = self.deps.messages.render("compliance_reminder.j2", incident=incident, clock=clock, due=due,
                                             now=now, overdue=before == compliance.DUE)
        if incident.channel_id and await post_once(self.deps.client, attempt, "post", incident.channel_id,
                                                   message) is None:
            return Fired()  # the failure is on the attempt
        what = "deadline reached" if before == compliance.DUE else f"due in {due - now}"
        return Fired(events=[("compliance_reminder", f"{clock.name}: {what}")])
