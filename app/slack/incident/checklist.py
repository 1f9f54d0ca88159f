"""The playbook's checklist in Slack: `/incident checklist` (progress, privately) and the ticks on the checklist
message posted at setup."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from app.incidents import checklist as checklists
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.calls import run_step
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.interactions import StaleInteraction


class Checklists:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    async def show(self, actor: Actor) -> None:
        """/incident checklist: progress, privately."""
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            items = await checklists.checklist(session, incident)
        playbook = self.deps.policy.playbook(incident.kind)
        if playbook is None or not items:
            await actor.reply(self.deps.messages.render("no_checklist.j2", incident=incident,
                                                         kinds=sorted(self.deps.policy.playbooks)))
            return
        await actor.reply(self.deps.messages.render("checklist_progress.j2", incident=incident,
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
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            if self.deps.policy.playbook(incident.kind) is None:
                raise StaleInteraction()  # no checklist was ever posted for this incident
            await checklists.tick(session, incident, seen=seen, ticked={int(v) for v in selected},
                                  by=actor.user_id, now=self.deps.clock.now())
            items = await checklists.checklist(session, incident)
        ts = message.get("ts") or incident.checklist_ts  # the message that was ticked is the checklist
        if incident.channel_id and ts:
            steps = await run_step("update checklist", self.deps.client.chat_update(
                channel=incident.channel_id, ts=ts, **self.acting.checklist_message(incident, items).as_kwargs()))
            await self.acting.record_failures(incident, steps.failures)

    def register(self, app: AsyncApp) -> None:
        @app.action("checklist_tick")
        @self.deps.acks.first
        async def checklist_tick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], actor: Actor) -> None:
            await ack()

            async def tick_as_pressed() -> None:
                selected = [str(interactions.number((option or {}).get("value")))
                            for option in action.get("selected_options") or []]
                await self.tick(actor, message=body.get("message") or {},
                                block_id=interactions.text(action.get("block_id")), selected=selected)

            await self.acting.guarded(tick_as_pressed(), actor, what="button")
