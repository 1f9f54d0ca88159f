"""The update reminder: posted in the incident channel when no update came in time (playbooks/severity.yml
`update_every`), one live at a time (older ones marked superseded), answered by the next update, and
snoozed with its Snooze button."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import deadlines
from app.incidents.models import Incident
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.calls import run_step
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.due_work import REMINDER_STEP
from app.slack.toolkit.messages import Message
from app.slack.toolkit.pacing import Pacer
from app.slack.toolkit.posting import post_once

STALE_REMINDERS = "stale reminders"
MAX_SNOOZE_MINUTES = 24 * 60


class UpdateReminders:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.pacer: Pacer | None = getattr(deps.client, "pacer", None)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """UPDATE_REMINDER work."""
        if not incident.channel_id:
            return Fired(outcome="skipped")
        who = incident.commander or incident.declared_by
        message = self.deps.messages.render("reminder.j2", **self.deps.summary.context(incident, who=who, now=now))
        posted, _ = await asyncio.gather(
            post_once(self.deps.client, attempt, REMINDER_STEP, incident.channel_id, message,
                      newer_than=incident.reminder_ts),
            self._supersede(attempt, incident.channel_id, incident.reminder_ts))
        if posted is None:
            return Fired()  # the failure is on the attempt: the reminder comes round again soon
        return Fired(events=[("reminder", f"Update reminder sent to {who}")])

    async def _supersede(self, attempt: Attempt, channel_id: str, previous: str | None) -> None:
        """Mark older reminders superseded, so one is live at a time. The edit is cosmetic: when Slack's
        budget for chat.update is spent (a hundred reminders at once), it waits for the next round
        instead of holding up the reminder itself."""
        stale = [*attempt.carried(STALE_REMINDERS, []), *([previous] if previous else [])]
        superseded = self.deps.messages.render("reminder_superseded.j2")
        waiting = []
        for ts in dict.fromkeys(stale):
            if not self.pacer or self.pacer.has_room("chat.update"):
                await attempt.once(f"supersede {ts}", partial(self._edit, channel_id, ts, superseded),
                                   retry=False)
            else:
                waiting.append(ts)
        attempt.carry(STALE_REMINDERS, waiting)

    async def _edit(self, channel_id: str, ts: str, message: Message) -> bool:
        await self.deps.client.chat_update(channel=channel_id, ts=ts, **message.as_kwargs())
        return True

    async def snooze(self, actor: Actor, minutes: int, reminder_ts: str | None) -> None:
        """Someone pressed Snooze on an update reminder."""
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            until = await deadlines.snooze_reminder(session, incident, timedelta(minutes=minutes),
                                                    reminder_ts=reminder_ts, by=actor.user_id,
                                                    now=self.deps.clock.now())
        snoozed = self.deps.messages.render("reminder_snoozed.j2", **self.deps.summary.context(
            incident, actor=actor.user_id, until=until))
        if reminder_ts and incident.channel_id:
            steps = await run_step("mark reminder snoozed", self.deps.client.chat_update(
                channel=incident.channel_id, ts=reminder_ts, **snoozed.as_kwargs()))
            await self.acting.record_failures(incident, steps.failures)

    def register(self, app: AsyncApp) -> None:
        @app.action("snooze_reminder")
        @self.deps.acks.first
        async def snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], actor: Actor) -> None:
            await ack()

            async def snooze_as_pressed() -> None:
                minutes = interactions.number(action.get("value"), high=MAX_SNOOZE_MINUTES)
                await self.snooze(actor, minutes, (body.get("message") or {}).get("ts"))

            await self.acting.guarded(snooze_as_pressed(), actor, what="button")
