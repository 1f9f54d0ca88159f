"""How the team did in a drill, measured against the plan: read from what the bot recorded."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.services import Catalog
from app.comms.status_page import StatusPageRules, components_of, public_status
from app.incidents.checklist import checklist
from app.incidents.models import Incident, TimelineEvent
from app.incidents.policy import SeverityPolicy
from app.oncall import pages as page_records
from app.oncall.pages import BACKUP_PAGE


@dataclass(frozen=True)
class FaultSeen:
    """A fault the drill injected in the fake Slack (its kind as in the drill file), and what became of it;
    messages/drill_report.j2 words it."""

    at: timedelta  # after the declaration, in the drill's time
    kind: str  # fail, rate_limits, latency, revoke, hold
    on: bool = True  # rate_limits and revoke: turned on (False: Slack back to itself)
    method: str | None = None  # fail, hold
    times: int = 1  # fail
    error: str | None = None  # fail: the error Slack answered (None: HTTP 500)
    latency: float = 0.0  # seconds, real ones
    hold_for: timedelta = timedelta(0)
    refused: int = 0  # calls of the bot's that Slack failed, turned away (or, for hold, held) because of it
    through_after: timedelta | None = None  # drill time until a call of the bot's went through again
    back_after: timedelta | None = None  # revoke: drill time until the token worked again

@dataclass(frozen=True)
class PageSeen:
    """A page the drill sent (its record, app/oncall/pages.py): who it was for, and who acknowledged it when."""

    recipient: str | None  # a Slack user; None: a PagerDuty service's schedule
    service: str | None
    roles: tuple[str, ...]
    sent_after: timedelta  # after the declaration
    acknowledged_by: str | None = None
    acknowledged_after: timedelta | None = None  # after the page went out; None: nobody acknowledged it
    how: str | None = None
    for_service: str | None = None  # the catalog's service whose on-call it paged (None: the roles)

    @property
    def is_backup(self) -> bool:
        return self.roles == (BACKUP_PAGE,)


@dataclass(frozen=True)
class DrillReport:
    drill: str
    acknowledge_within: timedelta  # the plan's response time for the severity
    acknowledged_after: timedelta | None  # None: nobody acknowledged
    update_every: timedelta  # the plan's cadence
    update_gaps: list[timedelta]  # declaration → first update → ... → resolution (or the drill's end)
    steps_done: list[str]
    steps_left: list[str]
    resolved_after: timedelta | None
    speed: float = 1.0  # drill seconds per wall-clock second
    faults: tuple[FaultSeen, ...] = ()
    pages: tuple[PageSeen, ...] = ()  # oldest first, the backup's among them
    # The status page at the drill's end: the components of the incident's services and what each showed, and
    # whether the page showed the incident at all (only an approved update puts it there).
    components: tuple[tuple[str, str], ...] = ()
    on_status_page: bool = False

    @property
    def unanswered(self) -> list[PageSeen]:
        """The pages (the backup's aside) nobody acknowledged: what the backup on-call was paged for."""
        return [page for page in self.pages if not page.is_backup and page.acknowledged_after is None]

    @property
    def lasted(self) -> timedelta:
        """The drill's own time, from the declaration to the end it reports."""
        return sum(self.update_gaps, timedelta(0))

    @property
    def wall_time(self) -> timedelta:
        return self.lasted / self.speed

    @property
    def acknowledged_in_time(self) -> bool:
        return self.acknowledged_after is not None and self.acknowledged_after <= self.acknowledge_within

    @property
    def late_updates(self) -> list[timedelta]:
        return [gap for gap in self.update_gaps if gap > self.update_every]

    @property
    def longest_gap(self) -> timedelta:
        return max(self.update_gaps, default=timedelta(0))


async def drill_report(session: AsyncSession, incident: Incident, policy: SeverityPolicy, *, drill: str,
                       ended_at: datetime, speed: float = 1.0, faults: tuple[FaultSeen, ...] = (),
                       status_page: StatusPageRules | None = None, catalog: Catalog | None = None) -> DrillReport:
    updates = await session.scalars(select(TimelineEvent.at).where(
        TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "status_update").order_by(TimelineEvent.at))
    end = incident.resolved_at or ended_at
    moments = [incident.started_at, *updates, end]
    items = await checklist(session, incident)
    pages = tuple(PageSeen(
        recipient=page.recipient or None, service=page.service, roles=tuple(page.roles.split(",")),
        sent_after=page.sent_at - incident.started_at, acknowledged_by=page.acknowledged_by,
        acknowledged_after=page.acknowledged_at - page.sent_at if page.acknowledged_at else None,
        how=page.acknowledged_how, for_service=page.for_service)
        for page in await page_records.pages_of(session, incident.id))
    components: tuple[tuple[str, str], ...] = ()
    shown = False
    if status_page is not None and catalog is not None:
        public = await public_status(session, now=ended_at, rules=status_page, catalog=catalog)
        mine = components_of(incident, catalog)
        components = tuple((c.name, c.state) for c in public.components if c.name in mine)
        shown = any(u.incident_id == incident.id for u in (*public.ongoing, *public.recently_resolved))
    return DrillReport(
        drill=drill,
        acknowledge_within=policy.response_time,
        acknowledged_after=_acknowledged_after(incident, pages),
        update_every=policy.update_every,
        update_gaps=[later - earlier for earlier, later in itertools.pairwise(moments)],
        steps_done=[i.text for i in items if i.done_at is not None],
        steps_left=[i.text for i in items if i.done_at is None],
        resolved_after=incident.resolved_at - incident.started_at if incident.resolved_at else None,
        speed=speed,
        faults=faults,
        pages=pages,
        components=components,
        on_status_page=shown,
    )


def _acknowledged_after(incident: Incident, pages: tuple[PageSeen, ...]) -> timedelta | None:
    """With pages sent, the slowest answer to one of them (None if one went unanswered): acknowledging is the
    person paged's. With none, the incident's own acknowledgement, from its declaration."""
    paged = [page for page in pages if not page.is_backup]
    if paged:
        answers = [page.acknowledged_after for page in paged]
        return None if any(a is None for a in answers) else max(a for a in answers if a is not None)
    return incident.acknowledged_at - incident.started_at if incident.acknowledged_at else None


def sample_drill_report() -> DrillReport:
    """For checking messages/drill_report.j2 at start-up."""
    return DrillReport(drill="outage", acknowledge_within=timedelta(minutes=15),
                       acknowledged_after=timedelta(minutes=4), update_every=timedelta(minutes=15),
                       update_gaps=[timedelta(minutes=10), timedelta(minutes=22)], steps_done=["Check logs"],
                       steps_left=["Roll back"], resolved_after=timedelta(minutes=32), speed=60.0,
                       pages=(PageSeen("U0SAMPLE3", None, ("tech",), timedelta(0), "U0SAMPLE3",
                                       timedelta(minutes=4), "pressed Acknowledge"),
                              PageSeen(None, "agentguard-comms", ("comms",), timedelta(0)),
                              PageSeen("U0SAMPLE4", None, ("",), timedelta(minutes=1), "U0SAMPLE4",
                                       timedelta(minutes=2), "page button", for_service="api"),
                              PageSeen("U0SAMPLE5", None, (BACKUP_PAGE,), timedelta(minutes=15))),
                       components=(("Billing", "partial_outage"),), on_status_page=True,
                       faults=(FaultSeen(timedelta(minutes=10), "fail", method="chat.postMessage", times=2,
                                         refused=2, through_after=timedelta(seconds=30)),
                               FaultSeen(timedelta(minutes=12), "rate_limits", refused=3,
                                         through_after=timedelta(minutes=1)),
                               FaultSeen(timedelta(minutes=13), "latency", latency=2.0),
                               FaultSeen(timedelta(minutes=14), "hold", method="chat.update",
                                         hold_for=timedelta(minutes=2), through_after=timedelta(minutes=2)),
                               FaultSeen(timedelta(minutes=15), "revoke", refused=4),
                               FaultSeen(timedelta(minutes=20), "revoke", on=False,
                                         through_after=timedelta(seconds=10))))
