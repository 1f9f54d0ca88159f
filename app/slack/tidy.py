"""Tidying up in Slack: a resolved incident's channel is told, then archived (due work, playbooks/channel.yml);
`/incident reopen` opens a resolved incident again, in its channel, or, once that is archived, in a new one:
Slack lets no bot token unarchive a channel (api.slack.com/methods/conversations.unarchive)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents import archiving, channels, deadlines, service
from app.incidents.archiving import is_notice
from app.incidents.models import Incident
from app.slack import parsing
from app.slack.flows import Actor, IncidentFlows
from app.slack.once import post_once


class ChannelTidying:
    def __init__(self, flows: IncidentFlows) -> None:
        self.flows = flows
        self.client = flows.client

    async def reopen(self, command: parsing.Reopen, actor: Actor) -> None:
        """/incident reopen: one winner (the incident store decides), then the news in its channel; an archived
        channel is followed by a new one, set up like a declaration's (due work: it always completes)."""
        now = self.flows.clock.now()
        async with self.flows.db.transaction() as session:
            incident = await self.flows.incident_here(session, actor)
            await service.reopen_incident(session, incident, actor=actor.user_id, now=now)
            await deadlines.restart_clock(session, incident, self.flows.policy, now=now)
        if incident.channel_id and await self._archived(incident.channel_id):
            await self._move_to_new_channel(incident, actor, now)
            return
        await self.flows.show_change(incident, actor, self.flows.messages.render(
            "reopened.j2", **self.flows.surfaces.context(incident, actor=actor.user_id)))

    async def _archived(self, channel: str) -> bool:
        try:
            return bool((await self.client.conversations_info(channel=channel))["channel"].get("is_archived"))
        except SlackApiError:
            return False  # cannot tell: the news goes to the channel, and a refusal is reported there

    async def _move_to_new_channel(self, incident: Incident, actor: Actor, now: datetime) -> None:
        async with self.flows.db.transaction() as session:
            stored = await service.get_incident(session, incident.id)
            archived = stored.channel_name
            stored.channel_id = stored.kickoff_ts = stored.checklist_ts = None
            stored.channel_name = await channels.next_free_name(session, stored, after=archived)
            service.record(session, stored, kind="channel_replaced", actor=actor.user_id, now=now,
                           text=f"#{archived} is archived: the reopened incident continues in #{stored.channel_name}")
            await duework.plan(session, stored.id, WorkKind.SETUP, now, now=now,
                               payload={"declarer": actor.user_id, "response_url": actor.response_url, "bot": False,
                                        "reopened_by": actor.user_id})
        if self.flows.fire_now is not None:
            await self.flows.fire_now(incident.id, [WorkKind.SETUP])

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """ARCHIVE work: the notice, or the archiving itself."""
        if not incident.is_resolved:
            return Fired(outcome="cancelled")  # reopened meanwhile
        if not incident.channel_id:
            return Fired(outcome="skipped")
        channel = incident.channel_id
        if is_notice(attempt.work.key):
            async with self.flows.db.transaction() as session:
                archive_at = await archiving.noticed(session, incident, self.flows.policy.channel,
                                                     noticed_at=max(attempt.work.due_at, now), now=now)
            notice = self.flows.messages.render("archive_notice.j2", incident=incident, archive_at=archive_at)
            if await post_once(self.client, attempt, "post notice", channel, notice) is None:
                return Fired()
            return Fired(events=[("archive_notice", "Told the channel it will be archived")])
        async with self.flows.db.transaction() as session:  # reopened since this work was claimed?
            if not (await service.get_incident(session, incident.id)).is_resolved:
                return Fired(outcome="cancelled")
        if await attempt.once("archive channel", lambda: self._archive(channel)) is None:
            return Fired()
        return Fired(events=[("channel_archived", f"Channel #{incident.channel_name} archived")])

    async def _archive(self, channel: str) -> bool:
        try:
            await self.client.conversations_archive(channel=channel)
        except SlackApiError as error:
            if error.response.get("error") != "already_archived":  # someone archived it by hand: done
                raise
        return True
