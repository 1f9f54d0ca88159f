"""Playing a drill in the sandbox: declare as the drill says (a person's command, or its first alert), then on
each tick of the drill's clock post what Monitoring reports, send the alerts, play the people's commands and
presses, and inject the faults that are due; when the incident is resolved (or the drill's time is up) the bot
posts the drill report in the incident's channel."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.clock import Clock
from app.incidents.models import Incident
from app.sandbox.drills.model import AlertSent, Drill, Fault, Step
from app.sandbox.drills.report import FaultSeen, drill_report
from app.sandbox.fakeslack.server import FakeSlack, Hold
from app.sandbox.run import Sandbox

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25  # real seconds between ticks


class CompressedClock:
    """The drill's time: `speed` times faster than the wall clock, from the moment it was made."""

    def __init__(self, speed: float, *, start: datetime | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.speed = speed
        self.start = start or datetime.now(UTC)
        self._monotonic = monotonic
        self._began = monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(self._monotonic() - self._began) * self.speed)


@dataclass
class Watched:
    """A fault injected, watched tick by tick for how the bot came through it."""

    seen: FaultSeen
    injected_at: datetime
    calls_from: int  # the fake's calls before it: what came after is the bot's answer to it
    restored_from: int | None = None  # revoke: calls before the token worked again
    hold: Hold | None = None  # hold: the call held

    def watch(self, fake: FakeSlack, now: datetime, held: bool) -> None:
        seen, calls = self.seen, fake.calls[self.calls_from:]
        if seen.kind == "fail":
            tried = [c for c in calls if c.method == seen.method]
            refused, through = min(seen.times, len(tried)), any(c.status == 200 for c in tried[seen.times:])
        elif seen.kind == "rate_limits":
            refused = sum(c.status == 429 for c in calls)
            # on: turned away at least once, and the latest call went through; off: any call since
            through = (refused > 0 and calls[-1].status == 200) if seen.on else bool(calls)
        elif seen.kind == "revoke" and seen.on:
            if not fake.revoked and self.restored_from is None:
                self.restored_from = len(fake.calls)
            refused = len(calls) if fake.revoked else seen.refused
            through = self.restored_from is not None and len(fake.calls) > self.restored_from
            if not fake.revoked and seen.back_after is None:
                seen = replace(seen, back_after=now - self.injected_at)
        elif seen.kind == "hold":
            reached = self.hold is not None and self.hold.reached.is_set()
            refused, through = int(reached), reached and not held
        else:  # latency, or the token back: any call answered since is one that went through
            refused, through = 0, any(c.status == 200 for c in calls)
        if seen.through_after is None and through:
            seen = replace(seen, through_after=now - self.injected_at)
        self.seen = replace(seen, refused=refused)


class DrillRun:
    def __init__(self, sandbox: Sandbox, drill: Drill, name: str, clock: Clock) -> None:
        self.sandbox = sandbox
        self.drill = drill
        self.name = name
        self.clock = clock
        self.to_play: list[Step] = sorted(drill.script, key=lambda step: step.at)
        self.held: list[tuple[datetime, Hold]] = []
        self.faults: list[Watched] = []
        self.declared_at: datetime | None = None
        self.incident: Incident | None = None
        self.incident_id: int | None = None  # the incident the drill's alert declared
        self.ended = False

    async def declare(self) -> None:
        if self.drill.by_alert:  # its first alert declares it, on the drill's clock from now
            self.declared_at = self.clock.now()
            return
        workspace = self.sandbox.workspace
        severity = self.drill.severity.value if self.drill.severity else ""
        text = " ".join(f"declare {self.drill.type} {severity} {self.drill.title}".split())
        if self.drill.impact:
            text += f" | {self.drill.impact}"
        self.declared_at = self.clock.now()
        await self.sandbox.client.command(workspace.people[self.drill.declared_by], workspace.incidents, text)

    async def tick(self) -> bool:
        """Do what is due; False once the drill has ended."""
        if self.ended or self.declared_at is None:
            return not self.ended
        now = self.clock.now()
        incident = await self._incident()
        while self.to_play and self.declared_at + self.to_play[0].at <= now:
            step = self.to_play[0]
            if step.alert is None and step.to == "incident" and (incident is None or incident.channel_id is None):
                break  # its channel is not there yet: play it once it is
            await self._play(self.to_play.pop(0), incident, now)
            if step.alert is not None:
                incident = await self._incident()
        for release_at, hold in [h for h in self.held if h[0] <= now]:
            hold.release.set()
            self.held.remove((release_at, hold))
        for watched in self.faults:
            watched.watch(self.sandbox.fake, now, held=any(h is watched.hold for _, h in self.held))
        if incident is not None and incident.channel_id and (
                incident.resolved_at is not None or now - self.declared_at >= self.drill.ends_after):
            await self._end(incident, now)
        return not self.ended

    async def run(self) -> None:
        await self.declare()
        while await self.tick():  # noqa: ASYNC110 - the drill's clock ticking, not a wait for an event
            await asyncio.sleep(TICK_SECONDS)

    async def _play(self, step: Step, incident: Incident | None, now: datetime) -> None:
        fake, workspace = self.sandbox.fake, self.sandbox.workspace
        if step.post is not None:
            channel = incident.channel_id if step.to == "incident" and incident else workspace.incidents
            conversation = fake.conversation(channel)
            if conversation is None:
                raise LookupError(f"drill {self.name}: no conversation {channel} to post step {step.post!r} in")
            fake.post(conversation, workspace.monitoring, text=step.post)
        if step.fault is not None:
            self._inject(step.fault, now)
        if step.acknowledge is not None:
            await self._acknowledge(workspace.people[step.acknowledge])
        if step.alert is not None:
            await self._alert(step.alert, now)
        if step.command is not None and incident is not None and incident.channel_id:
            await self.sandbox.client.command(workspace.people[step.command.by], incident.channel_id,
                                              step.command.text)
        if step.approve is not None and incident is not None and incident.channel_id:
            await self._approve(workspace.people[step.approve], incident.channel_id)

    async def _alert(self, alert: AlertSent, now: datetime) -> None:
        """Alertmanager's webhook (version 4), as its notification of one alert reads; the first that declares
        is the drill's incident."""
        labels, started = alert.labels, now.isoformat().replace("+00:00", "Z")
        group = "{}:{" + ",".join(f'{name}="{value}"' for name, value in sorted(labels.items())) + "}"
        payload = {"version": "4", "groupKey": group, "status": alert.status, "receiver": "incident-coordinator",
                   "groupLabels": {"alertname": labels["alertname"]}, "commonLabels": labels,
                   "commonAnnotations": alert.annotations, "externalURL": "http://alertmanager.sandbox:9093",
                   "alerts": [{"status": alert.status, "labels": labels, "annotations": alert.annotations,
                               "startsAt": started, "endsAt": "0001-01-01T00:00:00Z"}]}
        answer = await self.sandbox.client.http.post(
            f"{self.sandbox.url}/alerts/alertmanager", json=payload,
            headers={"Authorization": f"Bearer {self.sandbox.alert_token}"})
        answer.raise_for_status()
        declared = answer.json().get("declared") or []
        if declared and self.incident_id is None:
            self.incident_id = declared[0]

    async def _approve(self, person: str, channel: str) -> None:
        """The person presses Approve on the newest draft in the channel (none: nothing to press)."""
        for message in reversed(self.sandbox.fake.messages_in(channel)):
            button = next((e for b in message.blocks or [] if b.get("type") == "actions"
                           for e in b.get("elements", []) if e.get("action_id") == "comms_approve"), None)
            if button is not None:
                await self.sandbox.client.press(person, channel, message.ts, {
                    "type": "button", "action_id": "comms_approve", "block_id": "draft", "value": button["value"]})
                return
        log.warning("Drill %s: no draft in the channel for %s to approve", self.name, person)

    async def _acknowledge(self, person: str) -> None:
        """The person presses Acknowledge on the newest page DM they were sent (none sent: nothing to press)."""
        for page in reversed(self.sandbox.fake.dms_to(person)):
            button = next((e for b in page.blocks or [] if b.get("type") == "actions" for e in b.get("elements", [])
                           if e.get("action_id") == "acknowledge"), None)
            if button is not None:
                await self.sandbox.client.press(person, page.channel, page.ts, {
                    "type": "button", "action_id": "acknowledge", "block_id": "page", "value": button["value"]})
                return
        log.warning("Drill %s: %s was sent no page to acknowledge", self.name, person)

    def _inject(self, fault: Fault, now: datetime) -> None:
        fake = self.sandbox.fake
        assert self.declared_at is not None
        kind = next(k for k in ("fail", "rate_limits", "latency", "revoke", "hold") if getattr(fault, k) is not None)
        seen = FaultSeen(at=now - self.declared_at, kind=kind, on=bool(fault.rate_limits if kind == "rate_limits"
                                                                      else fault.revoke if kind == "revoke" else True),
                         method=fault.fail or fault.hold, times=fault.times, error=fault.error,
                         latency=fault.latency or 0.0, hold_for=fault.hold_for)
        watched = Watched(seen, now, len(fake.calls))
        self.faults.append(watched)
        if fault.fail is not None:
            fake.fail(fault.fail, status=500, times=fault.times, error=fault.error)
        elif fault.rate_limits is not None:
            fake.rate_limits(fault.rate_limits, speed=self.drill.speed)  # Slack's minute is a drill minute
        elif fault.latency is not None:
            fake.latency = fault.latency
        elif fault.revoke is not None:
            fake.revoked = fault.revoke
        elif fault.hold is not None:
            method = fault.hold
            watched.hold = fake.hold(lambda call: call.method == method)
            self.held.append((now + fault.hold_for, watched.hold))

    async def _incident(self) -> Incident | None:
        runtime = self.sandbox.runtime
        async with runtime.db.transaction() as session:
            if self.drill.by_alert:
                self.incident = (await session.get(Incident, self.incident_id, populate_existing=True)
                                 if self.incident_id is not None else None)
            else:
                self.incident = await session.scalar(select(Incident).where(Incident.title == self.drill.title)
                                                     .order_by(Incident.id.desc()).limit(1))
        return self.incident

    async def _end(self, incident: Incident, now: datetime) -> None:
        self.ended = True
        for _, hold in self.held:
            hold.release.set()
        fake = self.sandbox.fake
        fake.revoked, fake.latency = False, 0.0
        fake.rate_limits(False)
        runtime = self.sandbox.runtime
        async with runtime.db.transaction() as session:
            report = await drill_report(session, incident, runtime.policy.for_severity(incident.severity),
                                        drill=self.name, ended_at=now, speed=self.drill.speed,
                                        faults=tuple(w.seen for w in self.faults),
                                        status_page=runtime.policy.status_page, catalog=runtime.policy.services)
        message = runtime.messages.render("drill_report.j2", incident=incident, drill=report,
                                          catalog=runtime.policy.services)
        if incident.channel_id is None:
            raise RuntimeError(f"drill {self.name}: incident {incident.id} has no channel for its report")
        await runtime.client.chat_postMessage(channel=incident.channel_id, **message.as_kwargs())
