"""Reactions in incident channels: the timeline emoji (playbooks/channel.yml) adds or removes a message."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from app.slack.timeline.pins import TimelinePins
from app.slack.toolkit.deliveries import once_per_event
from app.slack.toolkit.deps import Deps


def register(app: AsyncApp, deps: Deps, pins: TimelinePins) -> None:
    once = once_per_event(deps)

    async def on_a_message_with_the_timeline_emoji(event: dict[str, Any]) -> bool:
        return event.get("reaction") == pins.reaction and (event.get("item") or {}).get("type") == "message"

    @app.event("reaction_added", matchers=[on_a_message_with_the_timeline_emoji], middleware=[once])
    @deps.acks.first
    async def reaction_added(event: dict[str, Any]) -> None:
        await pins.reaction_added(channel_id=event["item"]["channel"], message_ts=event["item"]["ts"],
                                  user_id=event["user"])

    @app.event("reaction_removed", matchers=[on_a_message_with_the_timeline_emoji], middleware=[once])
    @deps.acks.first
    async def reaction_removed(event: dict[str, Any]) -> None:
        await pins.reaction_removed(channel_id=event["item"]["channel"], message_ts=event["item"]["ts"],
                                    user_id=event["user"])

    # Other reactions are none of the bot's business; acknowledged without a warning.
    @app.event("reaction_added")
    @app.event("reaction_removed")
    @deps.acks.first
    async def other_reaction() -> None:
        return None
