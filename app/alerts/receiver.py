"""What happens to an alert: onto its open incident's timeline, or, if it has none and a rule takes it,
a new incident declared through the same flow people use (the detection port). The claim of the
fingerprint rides in the transaction that stores the incident, so when replicas race over a burst of
the same alert, one incident commits and the others roll back and add their alert to it."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service
from app.alerts.alert import Alert
from app.alerts.routing import AlertRules, Route
from app.clock import Clock
from app.db import Database
from app.detection.detector import Declaration, DeclareIncident
from app.incidents.models import Incident

log = logging.getLogger(__name__)


class Fate(enum.StrEnum):
    DECLARED = "declared"  # it made a new incident
    ADDED = "added"  # it went on its open incident's timeline
    IGNORED = "ignored"  # no open incident, and no rule takes it (or it says its problem is over)


@dataclass(frozen=True)
class Received:
    alert: Alert
    fate: Fate
    incident_id: int | None = None


class FingerprintTaken(Exception):
    """Another declaration (another request, another replica) holds this fingerprint now."""


class AlertReceiver:
    def __init__(self, db: Database, clock: Clock, rules: AlertRules, declare: DeclareIncident) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules
        self.declare = declare
        # Within a process, a burst of one fingerprint waits for its first alert rather than racing it to
        # the database; across replicas the database's unique key decides.
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiting: Counter[tuple[str, str]] = Counter()

    async def receive(self, alerts: list[Alert]) -> list[Received]:
        return [await self.receive_one(alert) for alert in alerts]

    async def receive_one(self, alert: Alert) -> Received:
        key = (alert.source, alert.fingerprint)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with lock:
                return await self._receive(alert)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def _receive(self, alert: Alert) -> Received:
        added = await self._add_to_open(alert)
        if added is not None:
            return added
        route = None if alert.is_resolved else self.rules.route(alert)
        if route is None:
            log.info("Alert %s/%s (%s) has no open incident and makes none: %s", alert.source, alert.fingerprint,
                     alert.status.value, alert.summary)
            return Received(alert, Fate.IGNORED)
        try:
            incident = await self._declare(alert, route)
        except FingerprintTaken:
            added = await self._add_to_open(alert)
            if added is None:  # its incident was declared and resolved in between: unlikely, and harmless
                return Received(alert, Fate.IGNORED)
            return added
        log.warning("Alert %s/%s declared incident %s by rule %s", alert.source, alert.fingerprint, incident.id,
                    route.rule)
        return Received(alert, Fate.DECLARED, incident.id)

    async def _add_to_open(self, alert: Alert) -> Received | None:
        async with self.db.transaction() as session:
            incident = await service.open_incident_for(session, alert)
            if incident is None:
                return None
            service.add_alert(session, incident, alert, now=self.clock.now())
        return Received(alert, Fate.ADDED, incident.id)

    async def _declare(self, alert: Alert, route: Route) -> Incident:
        async def claim(session: AsyncSession, incident: Incident) -> None:
            if not await service.claim(session, alert, incident, rule=route.rule, now=self.clock.now()):
                raise FingerprintTaken(alert.fingerprint)

        declaration = Declaration(check=f"{alert.source} alert rule {route.rule}", title=route.title,
                                  severity=route.severity, impact=route.impact, kind=route.kind)
        return await self.declare(declaration, claim)
