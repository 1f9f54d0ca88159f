"""Buttons: Acknowledge and Post update on the kickoff; Post update and Snooze on a reminder."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents import service
from app.incidents.errors import IncidentError, IncidentResolved
from app.slack.flows import Actor, IncidentFlows
from app.slack.messages import Message
from app.slack.playbooks import ChecklistFlows
from app.slack.views import update_modal


def _actor(body: dict[str, Any], respond: AsyncRespond) -> Actor:
    async def reply(message: Message) -> None:
        await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())

    return Actor(user_id=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"), reply=reply)


def register(app: AsyncApp, flows: IncidentFlows, checklists: ChecklistFlows) -> None:
    @app.action("acknowledge")
    async def acknowledge(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = _actor(body, respond)
        await flows.guarded(flows.acknowledge(actor), actor)

    @app.action("snooze_reminder")
    async def snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = _actor(body, respond)
        reminder_ts = (body.get("message") or {}).get("ts")
        await flows.guarded(flows.snooze(actor, int(action["value"]), reminder_ts), actor)

    @app.action("checklist_tick")
    async def checklist_tick(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                             respond: AsyncRespond) -> None:
        await ack()
        actor = _actor(body, respond)
        selected = [option["value"] for option in action.get("selected_options", [])]
        await flows.guarded(checklists.tick(actor, message=body.get("message") or {}, block_id=action["block_id"],
                                            selected=selected), actor)

    @app.action("post_update")
    async def post_update(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                          client: AsyncWebClient) -> None:
        await ack()
        actor = _actor(body, respond)
        try:
            async with flows.db.transaction() as session:
                incident = await service.incident_in_channel(session, actor.channel_id or "")
            if incident.is_resolved:
                raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
        except IncidentError as error:
            await actor.reply(flows.error_message(error))
            return
        await client.views_open(trigger_id=body["trigger_id"],
                                view=update_modal(flows, incident, channel_id=incident.channel_id or ""))
