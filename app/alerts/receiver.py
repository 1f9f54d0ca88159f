"""What happens to an alert: onto its open incident's timeline; else, if a rule takes it, onto the open
incident of its group (alerts of the rule sharing its `group_by` fields) or of the storm; else a new incident,
declared through the same flow people use (the detection port).

The sender is answered once what its alert does is committed, and no Slack call is made before that or while
the fingerprint's lock is held: the alert's line, its fingerprint's claim, its delivery taken, and the incident
it declares (with the due work of setting that incident up in Slack, which runs after the sender has its
answer). An alert joining an open incident is written with the others arriving meanwhile, in one transaction
(app/alerts/batches.py): under a storm the answers wait for a few commits, not for one per alert. When
replicas race over a burst, the database's unique keys decide: one claim of a fingerprint, one incident per
group, one storm commits; the others roll back and join the one that did. A copy of a delivery that acted,
however late, does nothing (app/webhooks/deliveries.py)."""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service
from app.alerts.alert import Alert, AlertStatus
from app.alerts.batches import Batches
from app.alerts.routing import STORM, AlertRules, Route
from app.alerts.words import AlertWords
from app.clock import Clock
from app.db import Database
from app.detection.detector import Declaration, DeclareIncident, DeclaringAs
from app.incidents import deadlines
from app.incidents.models import Incident
from app.oncall import pages
from app.oncall.acknowledgement import AcknowledgementRules
from app.webhooks.deliveries import AlreadyReceived, Delivery, Ledger

log = logging.getLogger(__name__)
ATTEMPTS = 10  # join or declare, each time another declaration got there first
WRITING_AT_ONCE = 4  # batches of alerts written at once on PostgreSQL (SQLite has one writer)


class Fate(enum.StrEnum):
    DECLARED = "declared"  # it made a new incident
    ADDED = "added"  # it went on an open incident's timeline: its own, its group's, or the storm's
    IGNORED = "ignored"  # no open incident, and no rule takes it (or it says its problem is over)
    ALREADY_RECEIVED = "already_received"  # a copy of a delivery that acted already: it does nothing


@dataclass(frozen=True)
class Received:
    alert: Alert
    fate: Fate
    incident_id: int | None = None


class Taken(Exception):
    """Another declaration (another request, another replica) took this fingerprint, group or storm first."""


class StormNow(Exception):
    """Past the storm threshold: this alert starts the storm's incident rather than one of its own."""


class AlertReceiver:
    def __init__(self, db: Database, clock: Clock, rules: AlertRules, declare: DeclareIncident,
                 words: AlertWords, acknowledging: AcknowledgementRules | None = None) -> None:
        self.db = db
        self.acknowledging = acknowledging or AcknowledgementRules()
        self.clock = clock
        self.rules = rules
        self.declare = declare
        self.words = words
        self.deliveries = Ledger(rules.deliveries)
        # Within a process, a burst of one fingerprint waits for its first alert rather than racing it to
        # the database, and new incidents are decided one at a time (the storm's count is then exact here);
        # across replicas the database's unique keys decide. Neither is held across a Slack call.
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiting: Counter[tuple[str, str]] = Counter()
        self._declaring = asyncio.Lock()
        self._joins: Batches[Received | None] = Batches(db, at_once=1 if db.dialect == "sqlite" else WRITING_AT_ONCE)

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
        if alert.status is AlertStatus.ACKNOWLEDGED:
            try:
                return await self._acknowledge_page(alert, delivery)
            except AlreadyReceived:
                return Received(alert, Fate.ALREADY_RECEIVED)
        route = None if alert.is_resolved else self.rules.route(alert)
        # What a declaration needs from Slack (who declares, who commands) is asked before any lock is taken;
        # it is remembered, so a burst asks once.
        declaring_as = await self.declare.ready() if route is not None else None
        key = (alert.source, alert.fingerprint)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with lock:
                return await self._receive(alert, route, delivery, declaring_as)
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

    async def _receive(self, alert: Alert, route: Route | None, delivery: Delivery | None,
                       declaring_as: DeclaringAs | None) -> Received:
        for _ in range(ATTEMPTS):
            try:
                joined = await self._join(alert, route, delivery)
                if joined is not None:
                    return joined
                if route is None or declaring_as is None:
                    # Nothing done, so nothing to take: a copy of it does nothing either.
                    # Not its summary: the sender's words may name what a private incident would (no incident).
                    log.info("Alert %s/%s (%s) has no open incident and makes none", alert.source,
                             alert.fingerprint, alert.status.value)
                    return Received(alert, Fate.IGNORED)
                async with self._declaring:
                    # What was declared while this one waited its turn (its group's, the storm's) is joined.
                    joined = await self._join(alert, route, delivery)
                    if joined is not None:
                        return joined
                    try:
                        incident = await self._declare(alert, route, delivery, declaring_as, storm=False)
                    except StormNow:
                        incident = await self._declare(alert, route, delivery, declaring_as, storm=True)
            except Taken:
                continue  # the one that got there first is joined next time round
            log.warning("Alert %s/%s declared incident %s by rule %s", alert.source, alert.fingerprint,
                        incident.id, route.rule)
            return Received(alert, Fate.DECLARED, incident.id)
        raise RuntimeError(f"alert {alert.source}/{alert.fingerprint}: {ATTEMPTS} declarations in a row lost a race")

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

    async def _join(self, alert: Alert, route: Route | None, delivery: Delivery | None) -> Received | None:
        """Onto the open incident of its fingerprint, else of its group, else of the storm; None if none is open.
        Written with the other alerts joining meanwhile, in one transaction (app/alerts/batches.py)."""
        return await self._joins.run(lambda session: self._join_in(session, alert, route, delivery))

    async def _join_in(self, session: AsyncSession, alert: Alert, route: Route | None,
                       delivery: Delivery | None) -> Received | None:
        grouping = self.rules.grouping
        now = self.clock.now()
        groups = [(route.rule, route.group)] if route is not None and route.group is not None else []
        if route is not None and grouping.folds is not None:
            groups.append((STORM, ""))
        found = await service.joinable(session, alert, groups=groups)
        incident_id = await service.open_incident_for(session, alert, found.claim)
        how = "added"
        if incident_id is None and route is not None:
            if route.group is not None:
                incident_id = await service.group_incident(session, route.rule, route.group,
                                                           found.groups.get((route.rule, route.group)),
                                                           since=now - grouping.window, now=now)
                how = "grouped"
            if incident_id is None and grouping.folds is not None:
                incident_id = await service.group_incident(session, STORM, "", found.groups.get((STORM, "")),
                                                           since=now - grouping.folds.window, now=now)
                how = "storm"
            if incident_id is None:
                return None
            if not await service.claim(session, alert, incident_id, now=now):
                raise Taken()
        elif incident_id is None:
            return None
        await self._take(session, delivery)
        service.add_alert(session, incident_id, alert, now=now, text=self.words.line(
            alert, how=how, rule=route.rule if route else None, group=route.group if route else None))
        return Received(alert, Fate.ADDED, incident_id)

    async def _declare(self, alert: Alert, route: Route, delivery: Delivery | None, declaring_as: DeclaringAs,
                       *, storm: bool) -> Incident:
        storm_rule = self.rules.grouping.folds

        async def alongside(session: AsyncSession, incident: Incident) -> None:
            assert storm_rule is not None or not storm
            await self._take(session, delivery)  # raising stores nothing: no incident, no channel, no page
            now = self.clock.now()
            if not await service.claim(session, alert, incident.id, now=now):
                raise Taken()
            if storm_rule is not None and not storm and await service.declared_from_alerts(
                    session, since=now - storm_rule.window) >= storm_rule.threshold:
                raise StormNow()
            service.from_alert(incident, alert)
            if storm_rule is not None and storm and not await service.open_group(
                    session, STORM, "", incident, now=now, since=now - storm_rule.window):
                raise Taken()
            if not storm and route.group is not None and not await service.open_group(
                    session, route.rule, route.group, incident, now=now, since=now - self.rules.grouping.window):
                raise Taken()
            service.add_alert(session, incident.id, alert, now=now, kind="detected", text=self.words.line(
                alert, how="storm_declared" if storm else "declared", rule=route.rule, group=route.group))

        if storm:
            assert storm_rule is not None
            declaration = Declaration(check=f"alert storm ({alert.source} alert rule {route.rule})",
                                      title=storm_rule.title, severity=storm_rule.severity,
                                      impact=storm_rule.impact, kind=storm_rule.type)
        else:
            declaration = Declaration(check=f"{alert.source} alert rule {route.rule}", title=route.title,
                                      severity=route.severity, impact=route.impact, kind=route.kind,
                                      services=route.services)
        return await self.declare(declaration, alongside, declaring_as, set_up_later=True)
