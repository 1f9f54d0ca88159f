"""/incident: parse, acknowledge at once, then hand over to the flows."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents.errors import UsageError
from app.slack import parsing
from app.slack.declaring import Declarations
from app.slack.flows import Actor, IncidentFlows
from app.slack.messages import Message
from app.slack.views import declare_modal


def register(app: AsyncApp, flows: IncidentFlows, declarations: Declarations) -> None:
    @app.command("/incident")
    @flows.acks.first
    async def incident_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                               client: AsyncWebClient) -> None:
        try:
            parsed = parsing.parse_command(command.get("text", ""), kinds=flows.policy.playbooks.keys())
        except UsageError as error:
            await ack(**flows.error_message(error).as_kwargs())
            return
        if isinstance(parsed, parsing.OpenDeclareModal):
            await ack()
            await client.views_open(trigger_id=command["trigger_id"],
                                    view=declare_modal(flows, channel_id=command.get("channel_id")))
            return
        if isinstance(parsed, parsing.Declare):
            await ack(**flows.messages.render("declaring.j2", command=parsed).as_kwargs())
        else:
            await ack()

        async def reply(message: Message) -> None:
            await respond(response_type="ephemeral", **message.as_kwargs())

        actor = Actor(user_id=command["user_id"], channel_id=command.get("channel_id"), reply=reply,
                      trigger_id=command.get("trigger_id"), response_url=command.get("response_url"),
                      typed=command.get("text"))
        if isinstance(parsed, parsing.Declare):
            # Written down at once (with the others of a burst, in one transaction), so the incident itself
            # can be stored after the burst is answered without a crash meanwhile losing it.
            await flows.guarded(declarations.receive(actor), actor, what="declare")
            if actor.receipt is None:
                return
        await flows.run(parsed, actor)
