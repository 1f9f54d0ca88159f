"""The message shortcut "Add to incident timeline" (manifest.yml features.shortcuts) and the form it may open."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from app.slack.timeline.pins import TIMELINE_PICK_CALLBACK, ChosenMessage, TimelinePins
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import form_values
from app.slack.toolkit.messages import Message

TIMELINE_SHORTCUT = "add_to_timeline"


def answered_at(response_url: str | None, user_id: str, client: AsyncWebClient) -> Actor:
    """Someone who used the shortcut: answered privately where they used it (its response_url), else by DM."""

    async def reply(message: Message) -> None:
        if response_url:
            await AsyncWebhookClient(response_url).send(response_type="ephemeral", replace_original=False,
                                                        **message.as_kwargs())
        else:
            await client.chat_postMessage(channel=user_id, **message.as_kwargs())

    return Actor(user_id, None, reply)


def register(app: AsyncApp, deps: Deps, pins: TimelinePins) -> None:
    acting = Acting(deps)

    @app.shortcut(TIMELINE_SHORTCUT)
    @deps.acks.first
    async def add_to_timeline(ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        response_url = shortcut.get("response_url")
        actor = answered_at(response_url, shortcut["user"]["id"], client)

        async def add() -> None:
            message = await pins.chosen_message(shortcut["channel"]["id"], shortcut["message"])
            await pins.shortcut(actor, message, trigger_id=shortcut["trigger_id"], response_url=response_url)

        await acting.guarded(add(), actor, what="note")

    @app.view(TIMELINE_PICK_CALLBACK)
    @deps.acks.first
    async def incident_picked(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                              client: AsyncWebClient) -> None:
        chosen = interactions.chosen(form_values(view), "incident")
        if not chosen or not chosen.isdigit():
            await ack(response_action="errors",
                      errors={"incident": deps.messages.text("errors/modal_field.j2", problem="missing_incident")})
            return
        await ack()
        message, response_url = ChosenMessage.from_metadata(view["private_metadata"])
        actor = answered_at(response_url, body["user"]["id"], client)
        await acting.guarded(pins.picked(actor, message, int(chosen)), actor, what="note")
