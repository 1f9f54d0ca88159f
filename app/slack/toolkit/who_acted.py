"""The person who acted, resolved once per request by one Bolt middleware (registered by app/slack/app.py) and
handed to every listener as its `actor` argument: who they are, where they acted, and how each surface answers
them privately.

- a slash command: by its response_url, ephemeral;
- a button: by its response_url, ephemeral under the message it is on (or in its place: `replace_message`);
- a shortcut: by its response_url;
- any of these without a response_url (a button on the Home tab): by direct message;
- a submitted form: as its private_metadata says (`forms.form_metadata`): by the response_url the form carries
  (a form opened from a shortcut), else ephemeral in the channel it was opened in, else by direct message (a
  form opened elsewhere, or one that says "answer": "dm", as the declare form does).

Events are no one's request to answer: they get no actor. Nor does the bot declaring on its own (a health check,
an alert): it is no Slack request (app/slack/declaring/automatic.py builds its own).

Bolt's error handlers (app/slack/app.py) answer the same actor (`actor_after_failure`): the one this middleware
resolved, or, for a failure before it ran, the one it would have resolved."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from app.slack.toolkit.acting import Actor, Reply
from app.slack.toolkit.forms import FormMetadata
from app.slack.toolkit.messages import Message

log = logging.getLogger(__name__)

SHORTCUTS = ("shortcut", "message_action")  # a global shortcut, a message shortcut


async def who_acted(body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient,
                    next_: Callable[[], Awaitable[None]]) -> None:
    """Bolt's global middleware (it runs after the signature check): `context["actor"]`, for the listener."""
    actor = actor_of(body, context, client)
    if actor is not None:
        context["actor"] = actor
    await next_()


def actor_after_failure(body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> Actor | None:
    """For Bolt's error handlers: the actor this middleware resolved; when the failure came before it ran (in
    one of Bolt's own middleware, authorizing the request, say), resolved from the body now, the same way."""
    actor = context.get("actor")
    if isinstance(actor, Actor):
        return actor
    try:
        return actor_of(body, context, client)
    except Exception:  # broad on purpose: resolving may be what failed, and a failure's answer must not fail
        log.exception("Could not tell who sent a request that failed")
        return None


def actor_of(body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> Actor | None:
    """The person a request from Slack came from and how to answer them; None for what no person asked."""
    user = body.get("user")
    user_id = body.get("user_id") if body.get("command") else user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not user_id:
        return None
    if body.get("command"):
        return _typist(body, user_id, context, client)
    kind = body.get("type")
    if kind == "block_actions":
        return _presser(body, user_id, context, client)
    if kind in SHORTCUTS:
        return _shortcut_user(body, user_id, context, client)
    if kind == "view_submission":
        return _submitter(body, user_id, client)
    return None


def _typist(body: dict[str, Any], user_id: str, context: AsyncBoltContext, client: AsyncWebClient) -> Actor:
    return Actor(user_id=user_id, channel_id=body.get("channel_id"), reply=_responding(context, client, user_id),
                 trigger_id=body.get("trigger_id"), response_url=body.get("response_url"), typed=body.get("text"))


def _presser(body: dict[str, Any], user_id: str, context: AsyncBoltContext, client: AsyncWebClient) -> Actor:
    return Actor(user_id=user_id, channel_id=_channel(body),
                 reply=_responding(context, client, user_id, replace_original=False),
                 replace_message=_responding(context, client, user_id, replace_original=True),
                 trigger_id=body.get("trigger_id"), response_url=body.get("response_url"))


def _shortcut_user(body: dict[str, Any], user_id: str, context: AsyncBoltContext, client: AsyncWebClient) -> Actor:
    return Actor(user_id=user_id, channel_id=_channel(body),
                 reply=_responding(context, client, user_id, replace_original=False),
                 trigger_id=body.get("trigger_id"), response_url=body.get("response_url") or None)


def _submitter(body: dict[str, Any], user_id: str, client: AsyncWebClient) -> Actor:
    view = body.get("view")
    kept = FormMetadata.read(view.get("private_metadata") if isinstance(view, dict) else None)
    reply: Reply
    if kept.response_url:
        response_url = kept.response_url

        async def reply(message: Message) -> None:
            await AsyncWebhookClient(response_url).send(response_type="ephemeral", replace_original=False,
                                                        **message.as_kwargs())
    elif kept.channel and not kept.by_dm:
        channel = kept.channel

        async def reply(message: Message) -> None:
            await client.chat_postEphemeral(channel=channel, user=user_id, **message.as_kwargs())
    else:
        # A form has no response_url of its own: a direct message, the one place left to answer privately.
        reply = _direct_message(client, user_id)
    return Actor(user_id=user_id, channel_id=kept.channel, reply=reply, trigger_id=body.get("trigger_id"))


def _responding(context: AsyncBoltContext, client: AsyncWebClient, user_id: str, *,
                replace_original: bool | None = None) -> Reply:
    """Answered by the request's response_url, ephemeral; a request without one (a button on the Home tab or in
    a form) by direct message."""
    respond = context.respond
    if respond is None or not context.response_url:  # Bolt gives a respond that cannot, without one
        return _direct_message(client, user_id)

    async def reply(message: Message) -> None:
        await respond(response_type="ephemeral", replace_original=replace_original, **message.as_kwargs())

    return reply


def _direct_message(client: AsyncWebClient, user_id: str) -> Reply:
    async def reply(message: Message) -> None:
        await client.chat_postMessage(channel=user_id, **message.as_kwargs())

    return reply


def _channel(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    return channel_id if isinstance(channel_id, str) and channel_id else None
