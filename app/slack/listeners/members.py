"""Someone joins an incident's channel: a private summary so they can help without asking what's going on."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from app.incidents import service
from app.incidents.errors import NotAnIncidentChannel
from app.slack.deliveries import once_per_event
from app.slack.flows import IncidentFlows


def register(app: AsyncApp, flows: IncidentFlows) -> None:
    @app.event("member_joined_channel", middleware=[once_per_event(flows)])
    @flows.acks.first
    async def member_joined(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("user") == context.bot_user_id:
            return
        async with flows.db.transaction() as session:
            try:
                incident = await service.incident_in_channel(session, event["channel"])
            except NotAnIncidentChannel:
                return
        summary = flows.messages.render("newcomer.j2", **flows.surfaces.context(incident))
        await flows.client.chat_postEphemeral(channel=event["channel"], user=event["user"], **summary.as_kwargs())
