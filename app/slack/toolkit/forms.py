"""Forms (Slack modals) as every feature reads them: the answers by block, typed text cleaned as it arrives,
problems sent back next to their fields, and the person who submitted one answered where it was opened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents.errors import UsageError
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Actor
from app.slack.toolkit.messages import Message, Messages
from app.slack.toolkit.text import clean


def form_values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A submitted form's element states by block (interactions.form_answers: never a crash on a shape our forms
    do not send), typed text cleaned as it arrives: newlines and tabs are kept only in the inputs the form
    made multi-line."""
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        blocks = []
    multiline = {block.get("block_id") for block in blocks
                 if isinstance(block, dict) and isinstance(block.get("element"), dict)
                 and block["element"].get("multiline")}
    values = {}
    for block, element in interactions.form_answers(view.get("state")).items():
        element = dict(element)
        if isinstance(element.get("value"), str):
            element["value"] = clean(element["value"], multiline=block in multiline)
        values[block] = element
    return values


async def read_or_refuse(messages: Messages, ack: AsyncAck, read: Callable[[dict[str, dict[str, Any]]], Any],
                         view: dict[str, Any]) -> Any | None:
    """The form's answers as a command; problems go back to the form, next to the fields they concern."""
    try:
        command = read(form_values(view))
    except UsageError as error:
        problems = error.details.get("problems")
        if not isinstance(problems, dict):
            raise TypeError(f"a form's problems are by block, not {problems!r}") from error
        errors = {block: messages.text("errors/modal_field.j2", problem=problem) for block, problem in problems.items()}
        await ack(response_action="errors", errors=errors)
        return None
    await ack()
    return command


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
