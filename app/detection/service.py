"""The health checks' shared state: counting failures, and claiming the one declaration a streak
earns. The caller owns the transaction; nothing here commits."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.detection.config import HealthCheck
from app.detection.models import FailedProbe, HealthCheckState
from app.detection.probe import ProbeResult, describe
from app.incidents.models import Incident
from app.incidents.service import record

MAX_KEPT = 20  # failed probes of one streak kept for the timeline; later ones are only counted


class Verdict(enum.StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"  # not yet enough failures in a row
    DECLARE = "declare"  # enough, and no incident open for this check: declare one
    DECLARED = "declared"  # failing, and its incident is open already


async def claim_probe(session: AsyncSession, check: HealthCheck, *, now: datetime) -> bool:
    """Take this interval's probe of the check; False if another replica probed it within the last
    half interval (so replicas share the work and each probe counts once)."""
    await _ensure(session, check.name)
    claimed = cast(CursorResult[Any], await session.execute(
        update(HealthCheckState)
        .where(HealthCheckState.name == check.name,
               or_(HealthCheckState.last_probed_at.is_(None),
                   HealthCheckState.last_probed_at <= now - check.interval / 2))
        .values(last_probed_at=now)
        .execution_options(synchronize_session=False)))
    return claimed.rowcount == 1


async def record_probe(session: AsyncSession, check: HealthCheck, result: ProbeResult) -> Verdict:
    """Count the probe: a success ends the streak, a failure lengthens it."""
    state = await _locked(session, check.name)
    incident = await _open_incident(session, state)
    state.last_probed_at = result.at
    state.last_status = (result.error or result.status)[:200]
    if result.ok:
        if incident is not None and state.consecutive_failures:
            record(session, incident, kind="health_check_recovered", actor=None, now=result.at,
                   text=f"{check.name}: answered {result.status} again after "
                        f"{state.consecutive_failures} failed probe(s)")
        state.consecutive_failures = 0
        await _forget_failures(session, check.name)
        return Verdict.HEALTHY
    state.consecutive_failures += 1
    if incident is not None:
        if state.consecutive_failures == 1:  # failing again after recovering: worth a line, not every probe
            record(session, incident, kind="health_check_failed", actor=None, now=result.at,
                   text=f"{check.name}: {result.describe()}")
        return Verdict.DECLARED
    if state.consecutive_failures <= MAX_KEPT:
        session.add(FailedProbe(check_name=check.name, at=result.at, status_code=result.status_code,
                                error=result.error, excerpt=result.excerpt))
    return Verdict.DECLARE if state.consecutive_failures >= check.failures else Verdict.FAILING


async def claim_declaration(session: AsyncSession, check: HealthCheck, incident: Incident, *,
                            now: datetime) -> bool:
    """In the transaction that stores the incident: make it the check's open incident and put the
    streak's failed probes on its timeline. False if another replica's declaration already won (or
    the check recovered meanwhile); the caller then rolls back."""
    claimed = cast(CursorResult[Any], await session.execute(
        update(HealthCheckState)
        .where(HealthCheckState.name == check.name, HealthCheckState.open_incident_id.is_(None),
               HealthCheckState.consecutive_failures >= check.failures)
        .values(open_incident_id=incident.id)
        .execution_options(synchronize_session=False)))
    if claimed.rowcount != 1:
        return False
    streak = await session.scalar(select(HealthCheckState.consecutive_failures)
                                  .where(HealthCheckState.name == check.name))
    failures = await session.scalars(select(FailedProbe).where(FailedProbe.check_name == check.name)
                                     .order_by(FailedProbe.at, FailedProbe.id))
    for failure in failures:
        record(session, incident, kind="health_check_failed", actor=None, now=failure.at,
               text=f"{check.name}: {describe(failure.status_code, failure.error, failure.excerpt)}")
    record(session, incident, kind="detected", actor=None, now=now,
           text=f"Declared by the health check {check.name}: GET {check.url} failed {streak} times in a row")
    await _forget_failures(session, check.name)
    return True


async def _ensure(session: AsyncSession, name: str) -> None:
    """The check's row exists (several replicas may create it at once). Being a write, this also
    takes SQLite's write lock, so the read that follows cannot go stale."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(HealthCheckState).values(name=name, consecutive_failures=0)
                          .on_conflict_do_nothing(index_elements=["name"]))


async def _locked(session: AsyncSession, name: str) -> HealthCheckState:
    await _ensure(session, name)
    query = (select(HealthCheckState).where(HealthCheckState.name == name).with_for_update()
             .execution_options(populate_existing=True))
    return (await session.scalars(query)).one()


async def _open_incident(session: AsyncSession, state: HealthCheckState) -> Incident | None:
    if state.open_incident_id is None:
        return None
    incident = await session.get(Incident, state.open_incident_id)
    if incident is not None and not incident.is_resolved:
        return incident
    # Its incident is over: a new streak has to build up before the next one is declared.
    state.open_incident_id = None
    state.consecutive_failures = 0
    return None


async def _forget_failures(session: AsyncSession, name: str) -> None:
    await session.execute(delete(FailedProbe).where(FailedProbe.check_name == name))
