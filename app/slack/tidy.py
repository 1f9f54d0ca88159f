"""Tidying up in Slack: a resolved incident's channel is told, then archived (due work, playbooks/channel.yml);
`/incident reopen` opens a resolved incident again and brings its channel back."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import archiving, deadlines, service
from app.incidents.archiving import is_notice
from app.incidents.models import Incident
from app.slack import parsing
from app.slack.flows import Actor, IncidentFlows
from app.slack.once import post_once
from app.slack.steps import run_step


class ChannelTidying:
    def __init__(self, flows: IncidentFlows) -> None:
        self.flows = flows
        self.client = flows.client

    async def reopen(self, command: parsing.Reopen, actor: Actor) -> None:
        """/incident reopen: one winner (the incident store decides), then the channel back and the news in it."""
        now = self.flows.clock.now()
        async with self.flows.db.transaction() as session:
            incident = await self.flows.incident_here(session, actor)
            await service.reopen_incident(session, incident, actor=actor.user_id, now=now)
            await deadlines.restart_clock(session, incident, self.flows.policy, now=now)
        if incident.channel_id:  # before anything is posted there: an archived channel takes no posts
            steps = await run_step("unarchive channel", self._unarchive(incident.channel_id))
            await self.flows.record_failures(incident, steps.failures)
        await self.flows.show_change(incident, actor, self.flows.messages.render(
            "reopened.j2", **self.flows.surfaces.context(incident, actor=actor.user_id)))

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

    async def _unarchive(self, channel: str) -> bool:
        try:
            await self.client.conversations_unarchive(channel=channel)
        except SlackApiError as error:
            if error.response.get("error") != "not_archived":  # not archived yet: nothing to bring back
                raise
        return True
