"""`/incident reopen` opens a resolved incident again, in its channel, or, once that is archived, in a new one:
Slack lets no bot token unarchive a channel (api.slack.com/methods/conversations.unarchive)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError

from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents import channels, deadlines, service
from app.incidents.models import Incident
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps


class Reopening:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.client = deps.client

    async def reopen(self, command: command_line.Reopen, actor: Actor) -> None:
        """/incident reopen: one winner (the incident store decides), then the news in its channel; an archived
        channel is followed by a new one, set up like a declaration's (due work: it always completes)."""
        now = self.deps.clock.now()
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            await service.reopen_incident(session, incident, actor=actor.user_id, now=now)
            await deadlines.restart_clock(session, incident, self.deps.policy, now=now)
        if incident.channel_id and await self._archived(incident.channel_id):
            await self._move_to_new_channel(incident, actor, now)
            return
        await self.acting.show_change(incident, actor, self.deps.messages.render(
            "reopened.j2", **self.deps.summary.context(incident, actor=actor.user_id)))

    async def _archived(self, channel: str) -> bool:
        try:
            return bool((await self.client.conversations_info(channel=channel))["channel"].get("is_archived"))
        except SlackApiError:
            return False  # cannot tell: the news goes to the channel, and a refusal is reported there

    async def _move_to_new_channel(self, incident: Incident, actor: Actor, now: datetime) -> None:
        async with self.deps.db.transaction() as session:
            stored = await service.get_incident(session, incident.id)
            archived = stored.channel_name
            stored.channel_id = stored.kickoff_ts = stored.checklist_ts = None
            stored.channel_name = await channels.next_free_name(session, stored, after=archived)
            service.record(session, stored, kind="channel_replaced", actor=actor.user_id, now=now,
                           text=f"#{archived} is archived: the reopened incident continues in #{stored.channel_name}")
            await duework.plan(session, stored.id, WorkKind.SETUP, now, now=now,
                               payload={"declarer": actor.user_id, "response_url": actor.response_url, "bot": False,
                                        "reopened_by": actor.user_id})
        await self.deps.fire_now(incident.id, [WorkKind.SETUP])
