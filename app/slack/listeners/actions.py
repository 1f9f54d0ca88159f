"""Buttons: Acknowledge and Post update on the kickoff; Post update and Snooze on a reminder; checklist ticks;
and an answer for any button none of our messages carries any more."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents.errors import IncidentResolved
from app.slack import payloads
from app.slack.flows import Actor, IncidentFlows
from app.slack.messages import Message
from app.slack.playbooks import ChecklistFlows
from app.slack.views import update_modal

MAX_SNOOZE_MINUTES = 24 * 60


def pressed_by(body: dict[str, Any], respond: AsyncRespond) -> Actor:
    async def reply(message: Message) -> None:
        await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())

    return Actor(user_id=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"), reply=reply)


def register(app: AsyncApp, flows: IncidentFlows, checklists: ChecklistFlows) -> None:
    @app.action("acknowledge")
    @flows.acks.first
    async def acknowledge(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = pressed_by(body, respond)
        await flows.guarded(flows.acknowledge(actor), actor, what="button")

    @app.action("snooze_reminder")
    @flows.acks.first
    async def snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = pressed_by(body, respond)

        async def snooze_as_pressed() -> None:
            minutes = payloads.number(action.get("value"), high=MAX_SNOOZE_MINUTES)
            await flows.snooze(actor, minutes, (body.get("message") or {}).get("ts"))

        await flows.guarded(snooze_as_pressed(), actor, what="button")

    @app.action("checklist_tick")
    @flows.acks.first
    async def checklist_tick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                             respond: AsyncRespond) -> None:
        await ack()
        actor = pressed_by(body, respond)

        async def tick_as_pressed() -> None:
            selected = [str(payloads.number((option or {}).get("value")))
                        for option in action.get("selected_options") or []]
            await checklists.tick(actor, message=body.get("message") or {},
                                  block_id=payloads.text(action.get("block_id")), selected=selected)

        await flows.guarded(tick_as_pressed(), actor, what="button")

    @app.action("post_update")
    @flows.acks.first
    async def post_update(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                          client: AsyncWebClient) -> None:
        await ack()
        actor = pressed_by(body, respond)

        async def open_update_form() -> None:
            async with flows.db.transaction() as session:
                incident = await flows.incident_here(session, actor)
            if incident.is_resolved:
                raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
            await client.views_open(trigger_id=body.get("trigger_id") or "",
                                    view=update_modal(flows, incident, channel_id=incident.channel_id or ""))

        await flows.guarded(open_update_form(), actor, what="button")


def register_fallback(app: AsyncApp, flows: IncidentFlows) -> None:
    """Registered last: a button from a message we no longer send (or never sent) is answered, not a 404."""

    @app.action(re.compile(".*"))
    @flows.acks.first
    async def unknown_button(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await pressed_by(body, respond).reply(flows.error_message(payloads.StaleInteraction()))
