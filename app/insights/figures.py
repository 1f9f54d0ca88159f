"""The figures of how incidents went over a window: each defined here once, for `/incident stats` and the page.

Every figure is about the incidents declared in the window ([until - span, until)):

- time to acknowledge: for an incident that paged someone (its page records, app/oncall/pages.py), from each
  page to its acknowledgement by the person paged (the page's Acknowledge, PagerDuty, their status update);
  for an incident that paged nobody, as before: from declaration to `acknowledged_at` (the declarer-IC at once,
  the IC pressing Acknowledge, taking the IC role, or the first status update). MTTA is the mean of those
  spans: every acknowledged page, and every acknowledged incident without pages. `acknowledged` counts the
  incidents with an acknowledgement (of the incident or of one of its pages);
- time to resolve: from declaration to `resolved_at`; MTTR is its mean over the incidents resolved;
- per severity (the incident's severity now, after any change) and per type (its playbook; private incidents
  are counted together, so the page never tells which kind of private incident there was);
- incidents per week: UTC weeks starting on Monday, the first and last ones cut by the window;
- reminders that had to nag: the update reminders the clock sent (timeline `reminder`), and how many incidents
  got at least one;
- escalations: to management (timeline `escalated`) and backup pages for an incident not acknowledged in time
  (`ack_missed`);
- follow-ups: the action items of those incidents; open ones (not done) are overdue once their due date is past;
- per service (playbooks/services.yml: the services an incident named, by key, even one since removed from the
  catalog) and per owning team (the user group, else the people listed, of each service it named; an incident
  naming two services of one team counts once for it). Private incidents are left out of both, so the figures
  never tell which service a private incident touched.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.services import Catalog, Owner
from app.incidents.models import AffectedService, Incident, Severity, TimelineEvent
from app.insights.policy import Window
from app.oncall.models import PageRecord
from app.reviews.models import ActionItem, ActionStatus

REMINDER, ESCALATED, BACKUP_PAGED = "reminder", "escalated", "ack_missed"  # timeline kinds the clock records
NAGS = (REMINDER, ESCALATED, BACKUP_PAGED)


@dataclass(frozen=True)
class ResponseTimes:
    """MTTA and MTTR of a group of incidents: one severity, one type, or all of them."""

    severity: Severity | None = None
    kind: str | None = None  # the playbook's key; None: declared without a type
    private: bool = False  # every private incident, whatever its type
    service: str | None = None  # a service's key (by_service)
    service_name: str | None = None  # its name in the catalog (None: no longer in it)
    team: str | None = None  # an owning team (by_team): its user group, else its people, comma-separated
    incidents: int = 0
    acknowledged: int = 0
    resolved: int = 0
    mtta: timedelta | None = None  # None: none acknowledged
    mttr: timedelta | None = None  # None: none resolved


@dataclass(frozen=True)
class Week:
    starts: date  # a Monday
    by_severity: dict[Severity, int]

    @property
    def incidents(self) -> int:
        return sum(self.by_severity.values())


@dataclass(frozen=True)
class Nagging:
    """What the clock had to do for one severity's incidents (or all, `severity` None)."""

    severity: Severity | None
    reminders: int = 0
    incidents_reminded: int = 0
    escalations: int = 0
    backup_pages: int = 0


@dataclass(frozen=True)
class FollowUps:
    total: int = 0
    done: int = 0
    open: int = 0  # not done, overdue or not
    overdue: int = 0  # not done, due date past

    @property
    def on_time(self) -> int:
        """Open and not overdue."""
        return self.open - self.overdue


@dataclass(frozen=True)
class Insights:
    window: Window
    since: datetime
    until: datetime
    overall: ResponseTimes
    by_severity: list[ResponseTimes]  # every severity, P0 first, even without incidents
    by_type: list[ResponseTimes]  # the types that had incidents, most incidents first
    weeks: list[Week]
    nagging: list[Nagging]  # every severity
    nagging_overall: Nagging
    follow_ups: FollowUps
    by_service: list[ResponseTimes] = field(default_factory=list)  # most incidents first
    by_team: list[ResponseTimes] = field(default_factory=list)  # most incidents first

    @property
    def incidents(self) -> int:
        return self.overall.incidents

    @property
    def still_open(self) -> int:
        return self.overall.incidents - self.overall.resolved


@dataclass(frozen=True)
class _Row:
    id: int
    severity: Severity
    kind: str | None
    private: bool
    started_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    pages: tuple[tuple[datetime, datetime | None], ...] = ()  # each page: sent, acknowledged (None: not)

    def to_acknowledge(self) -> list[timedelta]:
        """From each page to its acknowledgement; with no page, from declaration to the incident's."""
        if self.pages:
            return [acknowledged - sent for sent, acknowledged in self.pages if acknowledged is not None]
        return [self.acknowledged_at - self.started_at] if self.acknowledged_at is not None else []


async def insights(session: AsyncSession, window: Window, *, now: datetime,
                   catalog: Catalog | None = None) -> Insights:
    """The figures for the incidents declared in the window that ends now."""
    since = now - window.span
    declared = (Incident.started_at >= since, Incident.started_at < now)
    pages: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for incident_id, sent_at, acknowledged_at in (await session.execute(
            select(PageRecord.incident_id, PageRecord.sent_at, PageRecord.acknowledged_at)
            .join(Incident, Incident.id == PageRecord.incident_id).where(*declared))).all():
        pages[incident_id].append((sent_at, acknowledged_at))
    rows = [_Row(*row, pages=tuple(pages.get(row[0], ()))) for row in (await session.execute(
        select(Incident.id, Incident.severity, Incident.kind, Incident.is_private, Incident.started_at,
               Incident.acknowledged_at, Incident.resolved_at).where(*declared))).all()]
    nags = (await session.execute(
        select(TimelineEvent.incident_id, TimelineEvent.kind, func.count())
        .join(Incident, Incident.id == TimelineEvent.incident_id)
        .where(*declared, TimelineEvent.kind.in_(NAGS))
        .group_by(TimelineEvent.incident_id, TimelineEvent.kind))).all()
    items = (await session.execute(
        select(ActionItem.status, ActionItem.due_on)
        .join(Incident, Incident.id == ActionItem.incident_id).where(*declared))).all()
    named = (await session.execute(
        select(AffectedService.incident_id, AffectedService.service)
        .join(Incident, Incident.id == AffectedService.incident_id)
        .where(*declared, Incident.is_private.is_(False)))).all()

    severity_of = {row.id: row.severity for row in rows}
    counted: dict[tuple[Severity, str], int] = Counter()
    reminded: dict[Severity, set[int]] = defaultdict(set)
    for incident_id, kind, count in nags:
        if incident_id not in severity_of:  # declared between the two reads (another replica's clock is behind)
            continue
        counted[severity_of[incident_id], kind] += count
        if kind == REMINDER:
            reminded[severity_of[incident_id]].add(incident_id)

    by_type: dict[tuple[bool, str | None], list[_Row]] = defaultdict(list)
    for row in rows:
        by_type[(True, None) if row.private else (False, row.kind)].append(row)

    nagging = [Nagging(severity, reminders=counted[severity, REMINDER], incidents_reminded=len(reminded[severity]),
                       escalations=counted[severity, ESCALATED], backup_pages=counted[severity, BACKUP_PAGED])
               for severity in Severity]
    return Insights(
        window=window, since=since, until=now,
        overall=_response_times(rows, ResponseTimes()),
        by_severity=[_response_times([r for r in rows if r.severity is s], ResponseTimes(severity=s))
                     for s in Severity],
        by_type=sorted((_response_times(group, ResponseTimes(kind=kind, private=private))
                        for (private, kind), group in by_type.items()),
                       key=lambda t: (-t.incidents, t.private, t.kind or "~")),
        weeks=_weeks(rows, since, now),
        nagging=nagging,
        nagging_overall=Nagging(None, reminders=sum(n.reminders for n in nagging),
                                incidents_reminded=sum(n.incidents_reminded for n in nagging),
                                escalations=sum(n.escalations for n in nagging),
                                backup_pages=sum(n.backup_pages for n in nagging)),
        follow_ups=_follow_ups(items, today=now.date()),
        **_by_service_and_team(rows, named, catalog),
    )


def team_of(owner: Owner) -> str:
    """How an owning team is known in the figures: its user group, else its people."""
    return owner.usergroup or ", ".join(owner.users)


def _by_service_and_team(rows: list[_Row], named: Iterable[tuple[int, str]],
                         catalog: Catalog | None) -> dict[str, list[ResponseTimes]]:
    row_of = {row.id: row for row in rows if not row.private}
    services: dict[str, list[_Row]] = defaultdict(list)
    teams: dict[str, dict[int, _Row]] = defaultdict(dict)
    for incident_id, key in named:
        row = row_of.get(incident_id)
        if row is None:  # private, or declared between the reads
            continue
        services[key].append(row)
        service = catalog.get(key) if catalog is not None else None
        if service is not None:
            teams[team_of(service.owner)][row.id] = row

    def most_first(times: ResponseTimes) -> tuple[int, str]:
        return -times.incidents, times.service or times.team or ""

    by_service = [_response_times(group, ResponseTimes(
        service=key, service_name=(found.name if catalog is not None and (found := catalog.get(key)) else None)))
        for key, group in services.items()]
    by_team = [_response_times(list(group.values()), ResponseTimes(team=team)) for team, group in teams.items()]
    return {"by_service": sorted(by_service, key=most_first), "by_team": sorted(by_team, key=most_first)}


def _response_times(rows: list[_Row], group: ResponseTimes) -> ResponseTimes:
    """The group's figures from its incidents (`group` says which group it is)."""
    to_acknowledge = [span for r in rows for span in r.to_acknowledge()]
    acknowledged = sum(1 for r in rows if r.acknowledged_at is not None or r.to_acknowledge())
    to_resolve = [r.resolved_at - r.started_at for r in rows if r.resolved_at is not None]
    return replace(group, incidents=len(rows), acknowledged=acknowledged, resolved=len(to_resolve),
                   mtta=_mean(to_acknowledge), mttr=_mean(to_resolve))


def _mean(spans: list[timedelta]) -> timedelta | None:
    if not spans:
        return None
    return sum(spans, timedelta(0)) / len(spans)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(rows: Iterable[_Row], since: datetime, until: datetime) -> list[Week]:
    """Every week the window touches, in order, with the incidents declared in each by severity."""
    counts: dict[date, Counter[Severity]] = {}
    week = monday(since.date())
    while datetime.combine(week, datetime.min.time(), since.tzinfo) < until:
        counts[week] = Counter()
        week += timedelta(days=7)
    for row in rows:
        counts[monday(row.started_at.date())][row.severity] += 1
    return [Week(starts, {s: counter[s] for s in Severity}) for starts, counter in counts.items()]


def _follow_ups(items: Iterable[tuple[ActionStatus, date | None]], *, today: date) -> FollowUps:
    total = done = open_ = overdue = 0
    for status, due_on in items:
        total += 1
        if status is ActionStatus.DONE:
            done += 1
            continue
        open_ += 1
        if due_on is not None and due_on < today:
            overdue += 1
    return FollowUps(total=total, done=done, open=open_, overdue=overdue)
