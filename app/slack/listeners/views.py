"""Submitting a form: the declare modal and the status-update modal."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents.errors import UsageError
from app.slack import parsing, payloads
from app.slack.flows import Actor, IncidentFlows
from app.slack.messages import Message
from app.slack.views import DECLARE_CALLBACK, UPDATE_CALLBACK, form_values, read_declare_modal, read_update_modal


async def read_or_refuse(flows: IncidentFlows, ack: AsyncAck,
                         read: Callable[[dict[str, dict[str, Any]]], parsing.Command],
                         view: dict[str, Any]) -> parsing.Command | None:
    """The form's answers as a command; problems go back to the form, next to the fields they concern."""
    try:
        command = read(form_values(view))
    except UsageError as error:
        errors = {block: flows.messages.text("errors/modal_field.j2", problem=problem)
                  for block, problem in error.details["problems"].items()}
        await ack(response_action="errors", errors=errors)
        return None
    await ack()
    return command


def register(app: AsyncApp, flows: IncidentFlows) -> None:
    @app.view(DECLARE_CALLBACK)
    @flows.acks.first
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                                client: AsyncWebClient) -> None:
        command = await read_or_refuse(
            flows, ack, lambda values: read_declare_modal(values, flows.policy.playbooks.keys()), view)
        if command is None:
            return
        user_id = body["user"]["id"]

        async def reply(message: Message) -> None:
            # A modal has no response_url: the declarer hears back in a direct message.
            await client.chat_postMessage(channel=user_id, **message.as_kwargs())

        await flows.run(command, Actor(user_id, view.get("private_metadata") or None, reply))

    @app.view(UPDATE_CALLBACK)
    @flows.acks.first
    async def update_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                               client: AsyncWebClient) -> None:
        command = await read_or_refuse(flows, ack, read_update_modal, view)
        if command is None:
            return
        await flows.run(command, form_submitter(body, view, client))


def form_submitter(body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, *,
                   channel_id: str | None = None) -> Actor:
    """Who submitted a form opened from an incident channel (its private_metadata, unless the form keeps more
    there and says which): answered there, privately."""
    user_id = body["user"]["id"]
    channel_id = channel_id or view.get("private_metadata") or None

    async def reply(message: Message) -> None:
        if channel_id is None:  # nowhere to answer privately in a channel: a direct message
            await client.chat_postMessage(channel=user_id, **message.as_kwargs())
        else:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, **message.as_kwargs())

    return Actor(user_id, channel_id, reply)


def register_fallback(app: AsyncApp, flows: IncidentFlows) -> None:
    """Registered last: a form we no longer open (or never opened) is answered, not a 404."""

    @app.view(re.compile(".*"))
    @flows.acks.first
    async def unknown_form(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=body["user"]["id"],
                                      **flows.error_message(payloads.StaleInteraction()).as_kwargs())
