"""A command typed outside any incident channel, run for the incident the person then picks."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from app.slack import parsing
from app.slack.flows import Actor, IncidentFlows
from app.slack.messages import Message


def register(app: AsyncApp, flows: IncidentFlows) -> None:
    @app.action("run_for_incident")
    @flows.acks.first
    async def run_for_incident(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                               respond: AsyncRespond) -> None:
        await ack()

        async def reply(message: Message) -> None:
            # The answer takes the picker's place, so its buttons cannot run the command a second time.
            await respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())

        actor = Actor(user_id=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"), reply=reply,
                      trigger_id=body.get("trigger_id"), response_url=body.get("response_url"))

        async def run_it() -> None:
            await flows.run(parsing.chosen_for_incident(action["value"], flows.policy.playbooks.keys()), actor)

        await flows.guarded(run_it(), actor, what="button")
