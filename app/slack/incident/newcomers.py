"""Someone joins an incident's channel: a private summary so they can help without asking what's going on."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from app.incidents import service
from app.incidents.errors import NotAnIncidentChannel
from app.slack.toolkit.deliveries import once_per_event
from app.slack.toolkit.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("member_joined_channel", middleware=[once_per_event(deps)])
    @deps.acks.first
    async def member_joined(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("user") == context.bot_user_id:
            return
        async with deps.db.transaction() as session:
            try:
                incident = await service.incident_in_channel(session, event["channel"])
            except NotAnIncidentChannel:
                return
        summary = deps.messages.render("newcomer.j2", **deps.summary.context(incident))
        await deps.client.chat_postEphemeral(channel=event["channel"], user=event["user"], **summary.as_kwargs())
