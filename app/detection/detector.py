"""Probing the configured health checks and declaring an incident when one keeps failing.

Each check gets an APScheduler job at its interval (in-memory job store; the database is what
replicas share). A probe is claimed in the database first, so replicas take turns rather than each
counting the same outage. The declaration goes through the same flow people use, given to the
detector as a port; the claim of the check rides in the transaction that stores the incident, so
when two replicas race, one incident commits and the other rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import Clock
from app.db import Database
from app.detection.config import HealthCheck
from app.detection.probe import ProbeResult, probe_once
from app.detection.service import Verdict, claim_declaration, claim_probe, record_probe
from app.incidents.models import Incident, Role, Severity

log = logging.getLogger(__name__)

Alongside = Callable[[AsyncSession, Incident], Awaitable[None]]


@dataclass(frozen=True)
class Declaration:
    """What a failing check asks to declare."""

    check: str
    title: str
    severity: Severity | None  # None: the playbook's default
    impact: str
    kind: str | None
    services: tuple[str, ...] = ()  # the catalog's services it affects (a check's `service`, an alert's label)


@dataclass(frozen=True)
class DeclaringAs:
    """Who an automatic declaration is made by, and who commands it: asked of the chat side before the
    declaration (and any lock its caller holds) starts."""

    declared_by: str
    roles: dict[Role, str]


class DeclareIncident(Protocol):
    """The declare flow: store the incident, run `alongside` in that same transaction, then set up its
    channel as due work (`set_up_later`: after returning, for a caller whose sender waits for its answer).
    Raising from `alongside` stores nothing."""

    async def ready(self) -> DeclaringAs:
        """Who declares and who commands: the only questions the chat side is asked, remembered for a while."""
        ...

    async def __call__(self, declaration: Declaration, alongside: Alongside,
                       declaring_as: DeclaringAs | None = None, *, set_up_later: bool = False) -> Incident: ...


class AlreadyDeclared(Exception):
    """Another replica declared this streak's incident first, or the check recovered meanwhile."""


@dataclass(frozen=True)
class Outcome:
    check: str
    result: ProbeResult
    verdict: Verdict
    declared: Incident | None = None  # the incident this probe declared


class Detector:
    def __init__(self, db: Database, clock: Clock, http: httpx.AsyncClient, checks: Sequence[HealthCheck],
                 declare: DeclareIncident) -> None:
        self.db = db
        self.clock = clock
        self.http = http
        self.checks = list(checks)
        self.declare = declare
        self.scheduler: AsyncIOScheduler | None = None

    def check(self, name: str) -> HealthCheck:
        found = next((c for c in self.checks if c.name == name), None)
        if found is None:
            raise KeyError(f"no health check named {name!r} in playbooks/detection.yml")
        return found

    async def probe_all(self) -> list[Outcome]:
        """Probe every check once, now (tests and rehearsals; the scheduler probes each at its interval)."""
        return list(await asyncio.gather(*(self.probe(check) for check in self.checks)))

    async def probe(self, check: HealthCheck) -> Outcome:
        """Probe once, count it, and declare if this failure completes a streak."""
        result = await probe_once(self.http, check, now=self.clock.now())
        async with self.db.transaction() as session:
            verdict = await record_probe(session, check, result)
        if not result.ok:
            log.warning("Health check %s failed (%s in a row needed): %s", check.name, check.failures,
                        result.describe())
        declared = await self._declare(check, result) if verdict is Verdict.DECLARE else None
        return Outcome(check.name, result, verdict, declared)

    async def probe_if_due(self, check: HealthCheck) -> Outcome | None:
        """The scheduled probe: skipped when another replica has just probed this check."""
        async with self.db.transaction() as session:
            mine = await claim_probe(session, check, now=self.clock.now())
        return await self.probe(check) if mine else None

    async def _declare(self, check: HealthCheck, result: ProbeResult) -> Incident | None:
        async def claim(session: AsyncSession, incident: Incident) -> None:
            if not await claim_declaration(session, check, incident, now=self.clock.now()):
                raise AlreadyDeclared(check.name)

        declaration = Declaration(check=check.name, title=check.title_for(result.status), severity=check.severity,
                                  impact=check.impact, kind=check.kind,
                                  services=(check.service,) if check.service else ())
        try:
            incident = await self.declare(declaration, claim)
        except AlreadyDeclared:
            log.info("Health check %s: its incident was declared elsewhere", check.name)
            return None
        log.warning("Health check %s failed %s times in a row: declared incident %s", check.name,
                    check.failures, incident.id)
        return incident

    # -- the schedule ---------------------------------------------------------------------------

    def start(self) -> None:
        if not self.checks:
            log.info("No health checks configured (playbooks/detection.yml)")
            return
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        for check in self.checks:
            self.scheduler.add_job(self._scheduled_probe, "interval", args=[check],
                                   seconds=check.interval.total_seconds(), next_run_time=datetime.now(UTC),
                                   max_instances=1, coalesce=True, id=f"health-check-{check.name}")
        self.scheduler.start()
        log.info("Probing %s health check(s): %s", len(self.checks), ", ".join(c.name for c in self.checks))

    async def _scheduled_probe(self, check: HealthCheck) -> None:
        try:
            await self.probe_if_due(check)
        except Exception:  # the job must survive a database or Slack blip; the next probe retries
            log.exception("Health check %s: probing or declaring failed; retrying at the next interval",
                          check.name)

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
