"""Playbooks in Slack: the interactive checklist, and the legal-deadline reminders of private incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import checklist as checklists
from app.incidents import compliance
from app.incidents.models import Incident
from app.slack.clockwork import SlackClockWorker
from app.slack.flows import Actor, IncidentFlows
from app.slack.once import post_once
from app.slack.payloads import StaleInteraction
from app.slack.steps import run_step


class ChecklistFlows:
    def __init__(self, flows: IncidentFlows) -> None:
        self.flows = flows

    async def show(self, actor: Actor) -> None:
        """/incident checklist: progress, privately."""
        async with self.flows.db.transaction() as session:
            incident = await self.flows.incident_here(session, actor)
            items = await checklists.checklist(session, incident)
        playbook = self.flows.policy.playbook(incident.kind)
        if playbook is None or not items:
            await actor.reply(self.flows.messages.render("no_checklist.j2", incident=incident,
                                                         kinds=sorted(self.flows.policy.playbooks)))
            return
        await actor.reply(self.flows.messages.render("checklist_progress.j2", incident=incident,
                                                     playbook=playbook, items=items))

    async def tick(self, actor: Actor, *, message: dict[str, Any], block_id: str, selected: list[str]) -> None:
        """Someone ticked or unticked items in one block of the checklist message."""
        # What the person saw: the block's options, and which of them the message showed ticked.
        elements = [element for block in message.get("blocks", []) if block.get("block_id") == block_id
                    for element in block.get("elements", [])]
        try:
            was_ticked = {int(option["value"]) for element in elements
                          for option in element.get("initial_options", [])}
            seen = {int(option["value"]): int(option["value"]) in was_ticked
                    for element in elements for option in element.get("options", [])}
        except (KeyError, TypeError, ValueError):
            raise StaleInteraction() from None  # not a checklist message of ours
        async with self.flows.db.transaction() as session:
            incident = await self.flows.incident_here(session, actor)
            if self.flows.policy.playbook(incident.kind) is None:
                raise StaleInteraction()  # no checklist was ever posted for this incident
            await checklists.tick(session, incident, seen=seen, ticked={int(v) for v in selected},
                                  by=actor.user_id, now=self.flows.clock.now())
            items = await checklists.checklist(session, incident)
        ts = message.get("ts") or incident.checklist_ts  # the message that was ticked is the checklist
        if incident.channel_id and ts:
            steps = await run_step("update checklist", self.flows.client.chat_update(
                channel=incident.channel_id, ts=ts, **self.flows.checklist_message(incident, items).as_kwargs()))
            await self.flows.record_failures(incident, steps.failures)

    async def notified(self, actor: Actor, key: str) -> None:
        """/incident notified gdpr|customers|hipaa|soc2: a legal notification was made."""
        async with self.flows.db.transaction() as session:
            incident = await self.flows.incident_here(session, actor)
            clock = await compliance.mark_notified(session, incident, self.flows.policy.playbook(incident.kind),
                                                   key, by=actor.user_id, now=self.flows.clock.now())
        post = self.flows.messages.render("compliance_met.j2", incident=incident, clock=clock, actor=actor.user_id)
        await self.flows.show_change(incident, actor, post)


class ComplianceReminders:
    """What a compliance row does when it falls due: remind the channel (guarded against repeats)."""

    def __init__(self, worker: SlackClockWorker, flows: IncidentFlows) -> None:
        self.worker = worker
        self.flows = flows

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        key, _, before = attempt.work.key.partition(":")
        clock = compliance.clock_for(self.flows.policy.playbook(incident.kind), key)
        due = compliance.deadline(incident, clock)
        message = self.flows.messages.render("compliance_reminder.j2", incident=incident, clock=clock, due=due,
                                             now=now, overdue=before == compliance.DUE)
        if incident.channel_id and await post_once(self.worker.client, attempt, "post", incident.channel_id,
                                                   message) is None:
            return Fired()  # the failure is on the attempt
        what = "deadline reached" if before == compliance.DUE else f"due in {due - now}"
        return Fired(events=[("compliance_reminder", f"{clock.name}: {what}")])
