"""Archiving a resolved incident's channel, as due work (playbooks/channel.yml `archive_after`): the channel is
told first, then archived; reopened meanwhile, nothing is archived."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import archiving, service
from app.incidents.archiving import is_notice
from app.incidents.models import Incident
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.posting import post_once


class ChannelArchiving:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.client = deps.client

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """ARCHIVE work: the notice, or the archiving itself."""
        if not incident.is_resolved:
            return Fired(outcome="cancelled")  # reopened meanwhile
        if not incident.channel_id:
            return Fired(outcome="skipped")
        channel = incident.channel_id
        if is_notice(attempt.work.key):
            async with self.deps.db.transaction() as session:
                archive_at = await archiving.noticed(session, incident, self.deps.policy.channel,
                                                     noticed_at=max(attempt.work.due_at, now), now=now)
            notice = self.deps.messages.render("archive_notice.j2", incident=incident, archive_at=archive_at)
            if await post_once(self.client, attempt, "post notice", channel, notice) is None:
                return Fired()
            return Fired(events=[("archive_notice", "Told the channel it will be archived")])
        async with self.deps.db.transaction() as session:  # reopened since this work was claimed?
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
