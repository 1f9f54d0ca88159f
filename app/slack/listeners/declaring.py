"""The choice offered when a declaration looks like an incident already open: join it, or declare anyway."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from app.slack import parsing
from app.slack.declaring import Declarations
from app.slack.flows import Actor, IncidentFlows
from app.slack.messages import Message


def _chooser(body: dict[str, Any], respond: AsyncRespond) -> Actor:
    async def reply(message: Message) -> None:
        await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())

    return Actor(user_id=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"), reply=reply,
                 response_url=body.get("response_url"))


def register(app: AsyncApp, flows: IncidentFlows, declarations: Declarations) -> None:
    @app.action("join_incident")
    @flows.acks.first
    async def join(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = _chooser(body, respond)
        await flows.guarded(declarations.join(actor, int(action["value"])), actor)

    @app.action("declare_anyway")
    @flows.acks.first
    async def declare_anyway(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                             respond: AsyncRespond) -> None:
        await ack()
        actor = _chooser(body, respond)
        await flows.run(parsing.Declare.chosen(action["value"]), actor)
