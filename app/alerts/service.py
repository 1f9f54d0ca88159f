"""Alerts and their incidents in the database. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CompoundSelect,
    CursorResult,
    Select,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.alert import Alert
from app.alerts.models import AlertClaim, AlertGroup
from app.alerts.routing import STORM
from app.db import table_of
from app.incidents.models import Incident, TimelineEvent

LAST_AT_EVERY = timedelta(seconds=30)


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


@dataclass(frozen=True)
class Held:
    """The incident a fingerprint's claim, or a group's row, names: as read."""

    incident_id: int
    resolved: bool
    last_at: datetime | None = None  # a group's latest alert


@dataclass(frozen=True)
class Joinable:
    """What an alert could join: the incident its fingerprint claimed, and those of the groups asked about."""

    claim: Held | None
    groups: dict[tuple[str, str], Held]


async def joinable(session: AsyncSession, alert: Alert, *, groups: Sequence[tuple[str, str]]) -> Joinable:
    """The fingerprint's claim and the rows of `groups` ((rule, key) each), with their incidents' state: one
    query, as it runs while SQLite's one writer waits for the batch it is in."""
    parameters = {"source": alert.source, "fingerprint": alert.fingerprint}
    for number, (rule, key) in enumerate(groups):
        parameters |= {f"rule_{number}": rule, f"key_{number}": key}
    claim, found = None, {}
    for row in await session.execute(_joinable(len(groups)), parameters):
        held = Held(row.incident_id, row.resolved_at is not None, row.last_at)
        if row.kind == "claim":
            claim = held
        else:
            found[(row.rule, row.key)] = held
    return Joinable(claim, found)


@functools.cache
def _joinable(groups: int) -> Select[Any] | CompoundSelect[Any]:
    """joinable's query for this many groups, built once: a storm's alerts build no statement each."""
    of_claim = (select(literal("claim").label("kind"), literal("").label("rule"), literal("").label("key"),
                       AlertClaim.incident_id, type_coerce(None, AlertGroup.last_at.type).label("last_at"),
                       Incident.resolved_at)
                .join(Incident, Incident.id == AlertClaim.incident_id)
                .where(AlertClaim.source == bindparam("source"), AlertClaim.fingerprint == bindparam("fingerprint")))
    if not groups:
        return of_claim
    return union_all(of_claim, select(
        literal("group"), AlertGroup.rule, AlertGroup.key, AlertGroup.incident_id, AlertGroup.last_at,
        Incident.resolved_at).join(Incident, Incident.id == AlertGroup.incident_id)
        .where(or_(*(and_(AlertGroup.rule == bindparam(f"rule_{number}"), AlertGroup.key == bindparam(f"key_{number}"))
                     for number in range(groups)))))


async def open_incident_for(session: AsyncSession, alert: Alert, claimed: Held | None) -> int | None:
    """The number of the open incident this alert's fingerprint belongs to (`claimed`: its claim, as read).
    A claim whose incident is resolved is released here, so the next alert declares a new incident."""
    if claimed is None:
        return None
    if not claimed.resolved:
        return claimed.incident_id
    await session.execute(delete(AlertClaim).where(AlertClaim.source == alert.source,
                                                   AlertClaim.fingerprint == alert.fingerprint,
                                                   AlertClaim.incident_id == claimed.incident_id))
    return None


async def claim(session: AsyncSession, alert: Alert, incident_id: int, *, now: datetime) -> bool:
    """Make incident `incident_id` the fingerprint's open incident, in the transaction that stores the incident or
    joins the alert to it. False if another declaration holds the fingerprint already (the database decides: a
    unique key); the caller then rolls back and adds the alert to that one instead."""
    claimed = cast(CursorResult[Any], await session.execute(_claiming(session.get_bind().dialect.name), {
        "source": alert.source, "fingerprint": alert.fingerprint, "incident_id": incident_id, "claimed_at": now}))
    return claimed.rowcount == 1


@functools.cache
def _claiming(dialect: str) -> Any:
    """claim's INSERT for this database, built once (of the table: the ORM would take a row of values as a bulk
    insert, which counts no rows)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table_of(AlertClaim)).values(
        source=bindparam("source"), fingerprint=bindparam("fingerprint"), incident_id=bindparam("incident_id"),
        claimed_at=bindparam("claimed_at")).on_conflict_do_nothing(index_elements=["source", "fingerprint"])


async def group_incident(session: AsyncSession, rule: str, key: str, group: Held | None, *, since: datetime,
                         now: datetime) -> int | None:
    """The number of the open incident of this group (`group`: its row, as read) if its last alert came after
    `since`; the alert joining it makes `now` its last (written at most every LAST_AT_EVERY: a storm's row is
    not a lock every alert queues for). None: no such group (none yet, its incident resolved, or quiet for
    too long)."""
    if group is None or group.resolved or group.last_at is None or group.last_at < since:
        return None
    if group.last_at < now - LAST_AT_EVERY:
        await session.execute(update(AlertGroup).where(AlertGroup.rule == rule, AlertGroup.key == key,
                                                       AlertGroup.last_at < now).values(last_at=now))
    return group.incident_id


async def open_group(session: AsyncSession, rule: str, key: str, incident: Incident, *, since: datetime,
                     now: datetime) -> bool:
    """In the transaction that stores `incident`: make it the group's. A row of an earlier group gives way if
    its incident is resolved or its last alert came before `since`; False if the group is open (another
    declaration opened it meanwhile: the unique key decides), and the caller rolls back and joins that one."""
    earlier = await session.get(AlertGroup, (rule, key), populate_existing=True)
    if earlier is not None:
        resolved = await session.scalar(select(Incident.resolved_at).where(Incident.id == earlier.incident_id))
        if earlier.last_at >= since and resolved is None:
            return False
        await session.execute(delete(AlertGroup).where(AlertGroup.rule == rule, AlertGroup.key == key,
                                                       AlertGroup.incident_id == earlier.incident_id,
                                                       AlertGroup.last_at == earlier.last_at))
    opened = cast(CursorResult[Any], await session.execute(
        _insert(session)(AlertGroup).values(rule=rule, key=key, incident_id=incident.id, opened_at=now,
                                            last_at=now)
        .on_conflict_do_nothing(index_elements=["rule", "key"])))
    return opened.rowcount == 1


async def declared_from_alerts(session: AsyncSession, *, since: datetime) -> int:
    """How many incidents alerts declared since then, storms apart: what the storm threshold counts."""
    storms = select(AlertGroup.incident_id).where(AlertGroup.rule == STORM)
    return int(await session.scalar(select(func.count()).select_from(Incident).where(
        Incident.alert_source.is_not(None), Incident.started_at >= since, Incident.id.not_in(storms))) or 0)


def from_alert(incident: Incident, alert: Alert) -> None:
    """The incident an alert declared remembers where it came from, for its kickoff."""
    incident.alert_source = alert.source
    incident.alert_link = alert.url
    incident.alert_severity = (alert.severity or "")[:60] or None


def add_alert(session: AsyncSession, incident_id: int, alert: Alert, *, text: str, now: datetime,
              kind: str | None = None) -> TimelineEvent:
    """The alert's line on the incident's timeline (its words, with the sender's link, from
    messages/alert_line.txt.j2). A resolved alert is only written down: whether the incident is over is for
    people to say. By the incident's number: joining an alert to an incident does not load the incident."""
    event = TimelineEvent(incident_id=incident_id, at=now, actor=None, text=text,
                          kind=kind or ("alert_resolved" if alert.is_resolved else "alert"))
    session.add(event)
    return event
