"""What happens to an alert: onto its open incident's timeline, or, if it has none and a rule takes it,
a new incident declared through the same flow people use (the detection port). The claim of the
fingerprint rides in the transaction that stores the incident, so when replicas race over a burst of
the same alert, one incident commits and the others roll back and add their alert to it. So does the
delivery's (app/webhooks/deliveries.py): a copy of a delivery that acted, however late, does nothing."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service
from app.alerts.alert import Alert, AlertStatus
from app.alerts.routing import AlertRules, Route
from app.clock import Clock
from app.db import Database
from app.detection.detector import Declaration, DeclareIncident
from app.incidents import deadlines
from app.incidents.models import Incident
from app.oncall import pages
from app.oncall.acknowledgement import AcknowledgementRules
from app.webhooks.deliveries import AlreadyReceived, Delivery, Ledger

log = logging.getLogger(__name__)


class Fate(enum.StrEnum):
    DECLARED = "declared"  # it made a new incident
    ADDED = "added"  # it went on its open incident's timeline
    IGNORED = "ignored"  # no open incident, and no rule takes it (or it says its problem is over)
    ALREADY_RECEIVED = "already_received"  # a copy of a delivery that acted already: it does nothing


@dataclass(frozen=True)
class Received:
    alert: Alert
    fate: Fate
    incident_id: int | None = None


class FingerprintTaken(Exception):
    """Another declaration (another request, another replica) holds this fingerprint now."""


class AlertReceiver:
    def __init__(self, db: Database, clock: Clock, rules: AlertRules, declare: DeclareIncident,
                 acknowledging: AcknowledgementRules | None = None) -> None:
        self.db = db
        self.acknowledging = acknowledging or AcknowledgementRules()
        self.clock = clock
        self.rules = rules
        self.declare = declare
        self.deliveries = Ledger(rules.deliveries)
        # Within a process, a burst of one fingerprint waits for its first alert rather than racing it to
        # the database; across replicas the database's unique key decides.
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiting: Counter[tuple[str, str]] = Counter()

    async def receive(self, alerts: list[Alert], delivery: Delivery | None = None) -> list[Received]:
        """Each alert's fate. A delivery is taken in the transaction of what its alert does; the senders that
        name their deliveries send one alert in each, and a delivery of several is taken before them."""
        if delivery is not None and len(alerts) > 1:
            try:
                async with self.db.transaction() as session:
                    await self._take(session, delivery)
            except AlreadyReceived:
                return [Received(alert, Fate.ALREADY_RECEIVED) for alert in alerts]
            delivery = None
        return [await self.receive_one(alert, delivery) for alert in alerts]

    async def receive_one(self, alert: Alert, delivery: Delivery | None = None) -> Received:
        key = (alert.source, alert.fingerprint)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with lock:
                return await self._receive(alert, delivery)
        except AlreadyReceived:
            log.info("Alert %s/%s: a copy of a delivery already taken, ignored", alert.source, alert.fingerprint)
            return Received(alert, Fate.ALREADY_RECEIVED)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._locks[key]

    async def _take(self, session: AsyncSession, delivery: Delivery | None) -> None:
        if delivery is not None and not await self.deliveries.take(session, delivery, now=self.clock.now()):
            raise AlreadyReceived()

    async def _receive(self, alert: Alert, delivery: Delivery | None) -> Received:
        if alert.status is AlertStatus.ACKNOWLEDGED:
            return await self._acknowledge_page(alert, delivery)
        added = await self._add_to_open(alert, delivery)
        if added is not None:
            return added
        route = None if alert.is_resolved else self.rules.route(alert)
        if route is None:
            # Nothing done, so nothing to take: a copy of it does nothing either.
            # Not its summary: the sender's words may name what a private incident would (no incident yet).
            log.info("Alert %s/%s (%s) has no open incident and makes none", alert.source, alert.fingerprint,
                     alert.status.value)
            return Received(alert, Fate.IGNORED)
        try:
            incident = await self._declare(alert, route, delivery)
        except FingerprintTaken:
            added = await self._add_to_open(alert, delivery)
            if added is None:  # its incident was declared and resolved in between: unlikely, and harmless
                return Received(alert, Fate.IGNORED)
            return added
        log.warning("Alert %s/%s declared incident %s by rule %s", alert.source, alert.fingerprint, incident.id,
                    route.rule)
        return Received(alert, Fate.DECLARED, incident.id)

    async def _acknowledge_page(self, alert: Alert, delivery: Delivery | None) -> Received:
        """PagerDuty's incident.acknowledged for a page this bot sent (the fingerprint is its dedup key)."""
        async with self.db.transaction() as session:
            incident = await pages.incident_paged_as(session, alert.fingerprint)
            if incident is None or incident.is_resolved or not self.acknowledging.pagerduty:
                log.info("Alert %s/%s: acknowledged in PagerDuty, no open page of ours", alert.source,
                         alert.fingerprint)
                return Received(alert, Fate.IGNORED)
            await self._take(session, delivery)
            by = alert.fields.get("acknowledged_by", "PagerDuty")[:32]
            await deadlines.acknowledge_in_pagerduty(session, incident, alert.fingerprint, by=by,
                                                     now=self.clock.now())
        return Received(alert, Fate.ADDED, incident.id)

    async def _add_to_open(self, alert: Alert, delivery: Delivery | None) -> Received | None:
        async with self.db.transaction() as session:
            incident = await service.open_incident_for(session, alert)
            if incident is None:
                return None
            await self._take(session, delivery)
            service.add_alert(session, incident, alert, now=self.clock.now())
        return Received(alert, Fate.ADDED, incident.id)

    async def _declare(self, alert: Alert, route: Route, delivery: Delivery | None) -> Incident:
        async def claim(session: AsyncSession, incident: Incident) -> None:
            await self._take(session, delivery)  # raising stores nothing: no incident, no channel, no page
            if not await service.claim(session, alert, incident, rule=route.rule, now=self.clock.now()):
                raise FingerprintTaken(alert.fingerprint)

        declaration = Declaration(check=f"{alert.source} alert rule {route.rule}", title=route.title,
                                  severity=route.severity, impact=route.impact, kind=route.kind)
        return await self.declare(declaration, claim)
