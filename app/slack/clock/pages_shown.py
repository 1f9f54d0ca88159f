"""The kickoff lists every page and who acknowledged it, and when. A press in Slack redraws it at once; a page
going out (due work) and an acknowledgement in PagerDuty (a webhook, answered before Slack is called) redraw it
through PAGES_SHOWN due work, planned in the transaction that wrote the page or its acknowledgement down, so a
redraw is never lost to a restart. An acknowledgement in PagerDuty is said in the channel too, as one in Slack is.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import select

from app.duework.attempt import Attempt, Problem
from app.duework.sweeper import Fired
from app.incidents import service
from app.incidents.models import Incident
from app.oncall.models import PageRecord
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.messages import Message
from app.slack.toolkit.paging import acknowledged_page
from app.slack.toolkit.posting import post_once

REDRAWS = 3  # a page written down while the kickoff was being redrawn is drawn by the next round


class PagesShown:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """PAGES_SHOWN work."""
        channel = incident.channel_id
        if not (channel and incident.kickoff_ts):
            # Paged while the declaration's setup was posting the kickoff: tried again until it is there.
            attempt.fail("wait for the kickoff", Problem("no kickoff yet", transient=True))
            return Fired()
        acknowledged = attempt.work.payload.get("acknowledged")
        if acknowledged:
            async with self.deps.db.transaction() as session:
                pages = list(await session.scalars(select(PageRecord).where(PageRecord.id.in_(acknowledged))
                                                   .order_by(PageRecord.id)))
            await post_once(self.deps.client, attempt, "post", channel, self.deps.messages.render(
                "acknowledged.j2", **self.deps.summary.context(
                    incident, actor=attempt.work.payload.get("by"),
                    acknowledged_pages=[acknowledged_page(page) for page in pages])))
        await self._redraw(attempt, incident.id, channel, incident.kickoff_ts)
        return Fired()

    async def _redraw(self, attempt: Attempt, incident_id: int, channel: str, kickoff_ts: str) -> None:
        """The kickoff as the pages stand now, drawn again while they change under it (a few rounds at most)."""
        drawn = None
        for _ in range(REDRAWS):
            async with self.deps.db.transaction() as session:
                incident = await service.get_incident(session, incident_id)
            shown = _pages_as_shown(incident)
            if shown == drawn:
                return
            kickoff = self.deps.summary.kickoff(incident)
            await attempt.once(f"redraw {shown}", partial(self._update, channel, kickoff_ts, kickoff))
            drawn = shown

    async def _update(self, channel: str, ts: str, message: Message) -> bool:
        await self.deps.client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
        return True


def _pages_as_shown(incident: Incident) -> str:
    """What of the pages the kickoff shows: each page, and whether it was acknowledged (and the incident)."""
    pages = ",".join(f"{page.id}{'+' if page.is_acknowledged else ''}" for page in incident.pages)
    return f"{pages}{'+' if incident.is_acknowledged else ''}"
