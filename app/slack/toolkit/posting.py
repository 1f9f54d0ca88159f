"""Posting once: Slack posts of due work, each done once however often the work is tried.

A post carries its work id and step in Slack message metadata. Only when an earlier attempt may
have posted without writing it down (it died, or the request timed out) does the next one read the
conversation's recent history for that post, and adopt it instead of posting again. In the normal
case nothing is read: conversations.history is Tier 3, and a hundred reminders fall due together.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from app.duework.attempt import Attempt
from app.slack.toolkit.messages import Message
from app.slack.toolkit.people import USER_ID

GUARD_EVENT = "incident_clock"
GUARD_LOOKBACK = 30


async def post_once(client: AsyncWebClient, attempt: Attempt, step: str, channel: str, message: Message,
                    newer_than: str | None = None, **extra: Any) -> dict[str, str] | None:
    """Post `message` in `channel` (a user id: their DM) unless this work's step already did. Recurring work
    posts under the same work id every round: `newer_than` (the previous round's post) keeps an earlier
    round's post from being taken for this one's."""
    metadata = {"event_type": GUARD_EVENT,
                "event_payload": {"work_id": attempt.work.id, "kind": attempt.work.kind.value, "step": step}}

    async def post() -> dict[str, str]:
        response = await client.chat_postMessage(channel=channel, metadata=metadata, unfurl_links=False,
                                                 **message.as_kwargs(), **extra)
        return {"channel": response["channel"], "ts": response["ts"]}

    async def recover() -> dict[str, str] | None:
        return await find_post(client, channel, attempt.work.id, step, newer_than=newer_than)

    return await attempt.once(step, post, recover)


async def find_post(client: AsyncWebClient, channel: str, work_id: int, step: str, *,
                    newer_than: str | None = None) -> dict[str, str] | None:
    """This work's post for `step` among the conversation's recent messages (after `newer_than`), if it is there."""
    conversation = channel
    if USER_ID.match(channel):
        conversation = (await client.conversations_open(users=channel))["channel"]["id"]
    history = await client.conversations_history(channel=conversation, limit=GUARD_LOOKBACK, include_all_metadata=True)
    messages: list[dict[str, Any]] = history.get("messages", [])
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("work_id") == work_id and payload.get("step") == step and (
                newer_than is None or float(message["ts"]) > float(newer_than)):
            return {"channel": conversation, "ts": message["ts"]}
    return None
