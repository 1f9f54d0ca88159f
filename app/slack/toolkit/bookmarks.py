"""Bookmarks in the incident channel: the status page and the plan at setup (app/slack/declaring/channel_setup.py), the
post-incident review once it is published (due work). Each is added once; one that cannot be made (no
PUBLIC_URL, no plan_url in playbooks/channel.yml, a private incident) is left out."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents.models import Incident
from app.slack.toolkit.acting import Acting
from app.slack.toolkit.deps import Deps

STATUS_PATH = "/status"  # app/statuspage/page.py


class ChannelBookmarks:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    @property
    def public_url(self) -> str | None:
        links = self.deps.links.reviews
        return links.public_url if links is not None else None

    def at_setup(self, incident: Incident) -> dict[str, str]:
        """What the channel is given when it is made: which bookmark (bookmark.txt.j2's `what`) -> its URL."""
        wanted = {}
        if self.public_url and not incident.is_private:  # a private incident is never on the status page
            wanted["status_page"] = f"{self.public_url}{STATUS_PATH}"
        if self.deps.policy.channel.bookmarks.plan_url:
            wanted["plan"] = self.deps.policy.channel.bookmarks.plan_url
        return wanted

    async def add_at_setup(self, attempt: Attempt, incident: Incident, channel: str) -> None:
        for what, url in self.at_setup(incident).items():
            await attempt.once(f"bookmark {what}", partial(self._add, channel, what, url),
                               retry=False)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """BOOKMARK work (the review's): the signed link to the published review."""
        links = self.deps.links.reviews
        if not incident.channel_id or incident.is_private or links is None or not links.public_url:
            return Fired(outcome="skipped")  # Slack bookmarks need a full URL: without PUBLIC_URL there is none
        url = links.url(incident.id, now)
        if await attempt.once("bookmark review", lambda: self._add(incident.channel_id or "", "review", url)) is None:
            return Fired()
        return Fired(events=[("bookmarked", "Post-incident review bookmarked in the channel")])

    async def _add(self, channel: str, what: str, url: str) -> bool:
        title = self.deps.messages.text("bookmark.txt.j2", what=what)
        await self.deps.client.bookmarks_add(channel_id=channel, title=title, type="link", link=url)
        return True
