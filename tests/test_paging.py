"""Paging through PagerDuty's Events API v2 (faked with httpx.MockTransport), and surviving restarts."""

from __future__ import annotations

import dataclasses
import json

import httpx
from sqlalchemy import select

from app.duework.models import DueWork
from app.incidents.models import Severity
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.fakeslack import FakeSlack
from tests.support import ManualClock
from tests.test_clock import declare, reminders, tick

ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE"


class PagerDutyInbox:
    """What PagerDuty's Events API received."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v2/enqueue"
        self.events.append(json.loads(request.content))
        return httpx.Response(202, json={"status": "success", "message": "Event processed",
                                         "dedup_key": self.events[-1]["dedup_key"]})


async def test_pagerduty_trigger_and_resolve(settings: Settings, fake: FakeSlack, people: People,
                                             clock: ManualClock) -> None:
    inbox = PagerDutyInbox()
    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        channel = await declare(slack, fake, people, f"P0 Complete API outage tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)

        [trigger] = inbox.events
        assert trigger["routing_key"] == ROUTING_KEY
        assert trigger["event_action"] == "trigger"
        assert trigger["dedup_key"] == "incident-1-roles-p0"
        assert trigger["links"] == [{"href": f"https://slack.com/app_redirect?channel={channel}",
                                     "text": "Incident channel in Slack"}]
        assert trigger["payload"]["severity"] == "critical"
        assert trigger["payload"]["summary"] == "[P0] Complete API outage"
        assert trigger["payload"]["source"]
        assert people.bob in trigger["payload"]["custom_details"]["people"]
        assert fake.dms_to(people.bob) == []  # PagerDuty pages them, not Slack

        await slack.command("resolve Bad deploy | Rolled back", user=people.alice, channel=channel)
        await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
        await tick(slack, clock, seconds=1)
        assert [e["event_action"] for e in inbox.events] == ["trigger", "resolve", "resolve", "resolve"]
        # every page the incident can raise: the roles of P0 and of P1, and the backup
        assert [e["dedup_key"] for e in inbox.events[1:]] == [
            "incident-1-roles-p0", "incident-1-roles-p1", "incident-1-backup"]


async def test_the_backup_page_is_a_new_pagerduty_alert(settings: Settings, fake: FakeSlack, people: People,
                                                        clock: ManualClock) -> None:
    """PagerDuty folds a trigger with an open alert's dedup key into it and notifies nobody: the backup,
    who must be reached, gets an alert of their own."""
    inbox = PagerDutyInbox()
    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        await declare(slack, fake, people, f"P1 Checkout errors tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)
        await tick(slack, clock, minutes=31)  # P1: respond within 30 minutes; nobody acknowledged

        keys = [e["dedup_key"] for e in inbox.events if e["event_action"] == "trigger"]
        assert keys == ["incident-1-roles-p1", "incident-1-backup"]
        assert people.bob in inbox.events[-1]["payload"]["custom_details"]["people"]  # the backup on-call


async def test_pagerduty_outage_is_retried_by_the_next_sweeps(settings: Settings, fake: FakeSlack,
                                                              people: People, clock: ManualClock) -> None:
    answers = iter([503, 202])
    events: list[dict] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        events.append(json.loads(request.content))
        return httpx.Response(next(answers), json={})

    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(flaky)) as slack:
        await declare(slack, fake, people, f"P1 Checkout errors tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)
        assert len(events) == 1
        await tick(slack, clock, seconds=31)
        assert len(events) == 2
        await tick(slack, clock, minutes=5)
        assert len(events) == 2


async def test_work_due_while_stopped_fires_once_after_restart(settings: Settings, fake: FakeSlack,
                                                               people: People, clock: ManualClock) -> None:
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, fake, people, "P0 Complete API outage")

    clock.advance(hours=2)  # the bot is down while four reminders' worth of time passes
    async with running_bot(settings, fake, clock) as slack:
        await slack.runtime.sweeper.sweep_all()
        assert len(reminders(fake, channel)) == 1  # coalesced: one reminder, not a burst
        await slack.runtime.sweeper.sweep_all()
        assert len(reminders(fake, channel)) == 1
        async with slack.runtime.db.transaction() as session:
            [pending] = await session.scalars(select(DueWork).where(DueWork.done_at.is_(None)))
        assert pending.due_at == clock.now() + slack.runtime.policy.for_severity(Severity.P0).update_every
