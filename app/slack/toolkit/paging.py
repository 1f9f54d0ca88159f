"""What every feature that pages shares (the roles' pages in app/slack/clock, a service's on-call in
app/slack/services): the page built from the incident, and the page written down before it goes out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.incidents import deadlines
from app.incidents.models import Incident
from app.oncall import pages as page_records
from app.oncall.models import PageRecord
from app.oncall.pagers import Page, RecordPage
from app.oncall.pages import Sent
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.text import SLACK_CHANNEL_LINK


def page_of(deps: Deps, incident: Incident, people: tuple[str, ...], *, reason: str, key: str,
            roles: tuple[str, ...] = ()) -> Page:
    """A page of the incident: `key` tells it from the incident's other pages (each its own alert)."""
    link = f"{SLACK_CHANNEL_LINK}{incident.channel_id}" if incident.channel_id else None
    return Page(incident_id=incident.id, severity=incident.severity.value, title=incident.title,
                summary=deps.summary.kickoff(incident).text, reason=reason, people=people,
                channel_id=incident.channel_id, key=key, channel_link=link, roles=roles)


def recorder(deps: Deps, incident: Incident, *, for_service: str | None = None) -> RecordPage:
    """Writes a page down in a transaction of its own before the pager sends it: if the process dies after
    the DM or alert went out, the record is there to be acknowledged, waited for and resolved. The kickoff's
    redraw to show it is planned in the same transaction (PAGES_SHOWN), so it is never lost either."""
    async def record(sent: Sent) -> None:
        async with deps.db.transaction() as session:
            now = deps.clock.now()
            await page_records.record_sent(session, incident.id, [replace(sent, for_service=for_service)], now=now)
            await deadlines.pages_changed(session, incident.id, now=now)
    return record


def acknowledged_page(page: PageRecord) -> dict[str, Any]:
    """A page just acknowledged, as messages/acknowledged.j2 tells the channel of it."""
    return {"who": page.recipient or None, "roles": page.roles.split(","), "via": page.via,
            "how": page.acknowledged_how, "for_service": page.for_service}
