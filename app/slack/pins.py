"""The timeline from the conversation: a :pushpin: (playbooks/channel.yml) on a message in an incident's
channel puts that message on the timeline, with its author, time, text and permalink; when the last
:pushpin: is taken off it, so is the line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.incidents import pinned, service
from app.incidents.errors import NotAnIncidentChannel
from app.incidents.models import Incident
from app.slack.flows import IncidentFlows


class TimelinePins:
    def __init__(self, flows: IncidentFlows) -> None:
        self.flows = flows

    @property
    def reaction(self) -> str:
        return self.flows.policy.channel.timeline.reaction

    async def _incident(self, channel_id: str) -> Incident | None:
        async with self.flows.db.transaction() as session:
            try:
                return await service.incident_in_channel(session, channel_id)
            except NotAnIncidentChannel:
                return None

    async def reaction_added(self, *, channel_id: str, message_ts: str, user_id: str) -> None:
        incident = await self._incident(channel_id)
        if incident is None:
            return
        message = await self._message(channel_id, message_ts)
        if message is None:
            return
        link = (await self.flows.client.chat_getPermalink(channel=channel_id, message_ts=message_ts))["permalink"]
        async with self.flows.db.transaction() as session:
            added = await pinned.pin_message(
                session, incident, message_ts=message_ts, author=message.get("user"),
                said_at=datetime.fromtimestamp(float(message_ts), UTC), text=message.get("text") or "", link=link)
        if added:
            await self.flows.client.chat_postEphemeral(
                channel=channel_id, user=user_id, **self.flows.messages.render(
                    "timeline_pinned.j2", incident=incident, author=message.get("user"), link=link).as_kwargs())

    async def reaction_removed(self, *, channel_id: str, message_ts: str, user_id: str) -> None:
        incident = await self._incident(channel_id)
        if incident is None:
            return
        answer = await self.flows.client.reactions_get(channel=channel_id, timestamp=message_ts, full=True)
        remaining = next((r.get("count", 0) for r in (answer.get("message") or {}).get("reactions", [])
                          if r.get("name") == self.reaction), 0)
        if remaining:
            return
        async with self.flows.db.transaction() as session:
            removed = await pinned.unpin_message(session, incident, message_ts=message_ts)
        if removed:
            await self.flows.client.chat_postEphemeral(
                channel=channel_id, user=user_id,
                **self.flows.messages.render("timeline_unpinned.j2", incident=incident).as_kwargs())

    async def _message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """The message itself (a channel message; a thread reply is read from its thread)."""
        history = await self.flows.client.conversations_history(channel=channel_id, latest=ts, oldest=ts,
                                                                inclusive=True, limit=1)
        found = [m for m in history.get("messages", []) if m.get("ts") == ts]
        if found:
            return found[0]
        replies = await self.flows.client.conversations_replies(channel=channel_id, ts=ts, latest=ts, oldest=ts,
                                                                inclusive=True, limit=1)
        return next((m for m in replies.get("messages", []) if m.get("ts") == ts), None)
