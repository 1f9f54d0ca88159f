"""The timeline from the conversation: a :pushpin: (playbooks/channel.yml) on a message in an incident's
channel puts that message on the timeline, with its author, time, text and permalink; when the last
:pushpin: is taken off it, so is the line. The message shortcut "Add to incident timeline" does the same
from any channel: at once in an incident's channel, elsewhere after asking which open incident."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError

from app.incidents import pinned, service
from app.incidents.errors import NoSuchIncident, NotAnIncidentChannel
from app.incidents.models import Incident
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import form_metadata
from app.slack.toolkit.text import fit

TIMELINE_PICK_CALLBACK = "timeline_pick_incident"
KEPT_TEXT = 1500  # of the message, carried in the form's private_metadata ...
METADATA_LIMIT = 3000  # ... which Slack keeps up to this many characters, JSON escapes included
LISTED = 100  # a static_select's options


@dataclass(frozen=True)
class ChosenMessage:
    """The message a shortcut was used on, as Slack sent it with the shortcut."""

    channel: str
    ts: str
    author: str | None
    text: str
    link: str | None

    def source(self, incident: Incident) -> str:
        """What the timeline knows it by: its ts in the incident's own channel (as a :pushpin: does, so the two
        add it once between them), else its channel and ts (a ts is unique only within a channel)."""
        return self.ts if self.channel == incident.channel_id else f"{self.channel}/{self.ts}"

    def as_metadata(self, response_url: str | None) -> str:
        """The message for the form to carry, with where its submitter is answered (the shortcut's response_url,
        else a direct message: toolkit/forms.py FormMetadata); its text cut until the whole fits (quotes,
        backslashes and newlines grow when JSON escapes them)."""
        kept = KEPT_TEXT
        while True:
            message = {**asdict(self), "text": fit(self.text, kept)}
            metadata = form_metadata(channel=message.pop("channel"), response_url=response_url, by_dm=True,
                                     **message)
            if len(metadata) <= METADATA_LIMIT or kept == 0:
                return metadata
            kept = max(0, kept - (len(metadata) - METADATA_LIMIT) - 1)

    @classmethod
    def from_metadata(cls, metadata: str) -> tuple[ChosenMessage, str | None]:
        data = json.loads(metadata)
        response_url = data.pop("response_url", None)
        data.pop("answer", None)
        return cls(**data), response_url


class TimelinePins:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    @property
    def reaction(self) -> str:
        return self.deps.policy.channel.timeline.reaction

    async def _incident(self, channel_id: str) -> Incident | None:
        async with self.deps.db.transaction() as session:
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
        link = (await self.deps.client.chat_getPermalink(channel=channel_id, message_ts=message_ts))["permalink"]
        async with self.deps.db.transaction() as session:
            added = await pinned.pin_message(
                session, incident, message_ts=message_ts, author=message.get("user"),
                said_at=datetime.fromtimestamp(float(message_ts), UTC), text=message.get("text") or "", link=link)
        if added:
            await self.deps.client.chat_postEphemeral(
                channel=channel_id, user=user_id, **self.deps.messages.render(
                    "timeline_pinned.j2", incident=incident, author=message.get("user"), link=link).as_kwargs())

    async def reaction_removed(self, *, channel_id: str, message_ts: str, user_id: str) -> None:
        incident = await self._incident(channel_id)
        if incident is None:
            return
        answer = await self.deps.client.reactions_get(channel=channel_id, timestamp=message_ts, full=True)
        remaining = next((r.get("count", 0) for r in (answer.get("message") or {}).get("reactions", [])
                          if r.get("name") == self.reaction), 0)
        if remaining:
            return
        async with self.deps.db.transaction() as session:
            removed = await pinned.unpin_message(session, incident, message_ts=message_ts)
        if removed:
            await self.deps.client.chat_postEphemeral(
                channel=channel_id, user=user_id,
                **self.deps.messages.render("timeline_unpinned.j2", incident=incident).as_kwargs())

    async def _message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """The message itself (a channel message; a thread reply is read from its thread)."""
        history = await self.deps.client.conversations_history(channel=channel_id, latest=ts, oldest=ts,
                                                                inclusive=True, limit=1)
        messages: list[dict[str, Any]] = history.get("messages", [])
        found = [m for m in messages if m.get("ts") == ts]
        if found:
            return found[0]
        replies = await self.deps.client.conversations_replies(channel=channel_id, ts=ts, latest=ts, oldest=ts,
                                                                inclusive=True, limit=1)
        in_thread: list[dict[str, Any]] = replies.get("messages", [])
        return next((m for m in in_thread if m.get("ts") == ts), None)

    # -- the message shortcut ------------------------------------------------------------------

    async def chosen_message(self, channel_id: str, message: dict[str, Any]) -> ChosenMessage:
        """The message as the shortcut gave it; its link is asked for when it is added (after any form has
        opened: the shortcut's trigger_id lasts 3 seconds)."""
        return ChosenMessage(channel=channel_id, ts=str(message["ts"]), author=message.get("user"),
                             text=message.get("text") or "", link=None)

    async def _permalink(self, message: ChosenMessage) -> str | None:
        try:
            return str((await self.deps.client.chat_getPermalink(channel=message.channel,
                                                                  message_ts=message.ts))["permalink"])
        except SlackApiError:  # a private conversation the bot is not in: the line goes without its link
            return None

    async def shortcut(self, actor: Actor, message: ChosenMessage) -> None:
        """The shortcut on a message: in an incident's channel it goes on that timeline now; elsewhere a form
        asks which open incident (private ones only for the people in them)."""
        incident = await self._incident(message.channel)
        if incident is not None:
            await self.add(actor, incident, message)
            return
        async with self.deps.db.transaction() as session:
            open_now = await service.open_incidents(session)
        incidents = await self.acting.visible_to(actor, open_now)  # Slack calls: outside the transaction
        if not incidents:
            await actor.reply(self.deps.messages.render("timeline_added.j2", incident=None, added=False,
                                                         message=message))
            return
        view = self.deps.messages.view("views/timeline_pick.yml.j2", incidents=incidents[:LISTED], message=message)
        view["callback_id"] = TIMELINE_PICK_CALLBACK
        view["private_metadata"] = message.as_metadata(actor.response_url)
        await self.deps.client.views_open(trigger_id=actor.trigger_id or "", view=view)

    async def picked(self, actor: Actor, message: ChosenMessage, incident_id: int) -> None:
        """The form's answer: the incident chosen, checked again (it may be private, or gone)."""
        async with self.deps.db.transaction() as session:
            incident = await service.find_incident(session, incident_id)
        if incident is None or (incident.is_private and not await self.acting.may_see(actor, incident)):
            raise NoSuchIncident(number=incident_id)
        await self.add(actor, incident, message)

    async def add(self, actor: Actor, incident: Incident, message: ChosenMessage) -> None:
        if message.link is None:
            message = replace(message, link=await self._permalink(message))
        async with self.deps.db.transaction() as session:
            added = await pinned.pin_message(
                session, incident, message_ts=message.source(incident), author=message.author,
                said_at=datetime.fromtimestamp(float(message.ts), UTC), text=message.text, link=message.link)
        await actor.reply(self.deps.messages.render("timeline_added.j2", incident=incident, added=added,
                                                     message=message))
