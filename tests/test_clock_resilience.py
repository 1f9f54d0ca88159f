"""The clock against a Slack that fails, throttles and is slow: nothing is lost, nothing is doubled,
no database lock is held while Slack makes us wait, and a reminder never gives up."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.duework import service as duework
from app.duework.attempt import Attempt
from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import LEASE
from app.incidents import service
from app.incidents.models import Incident
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import ManualClock, SlackDriver, eventually
from tests.test_clock import acknowledge_page, declare, reminders, tick


async def incident_in(slack: SlackDriver, channel: str) -> Incident:
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None
        return incident


async def reminder_row(slack: SlackDriver, incident_id: int) -> DueWork:
    async with slack.runtime.db.transaction() as session:
        row = await duework.pending(session, incident_id, WorkKind.UPDATE_REMINDER)
        assert row is not None
        return row


async def test_a_normal_reminder_costs_two_calls_and_reads_no_history(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P0 Complete API outage")
    await tick(slack, clock, seconds=1)  # the pages and the escalation due at declaration
    # Alice declared it as IC (acknowledged by declaring); Carol, paged as Technical Lead, answers her page:
    # nothing is left unanswered, so no backup page joins the reminder.
    await acknowledge_page(slack, fake, people.carol, channel)
    before = len(fake.calls)
    await tick(slack, clock, minutes=15)
    first = [c.method for c in fake.calls[before:] if c.args.get("channel") == channel]
    assert first == ["chat.postMessage"]

    before = len(fake.calls)
    await tick(slack, clock, minutes=15)
    second = sorted(c.method for c in fake.calls[before:] if c.args.get("channel") == channel)
    assert second == ["chat.postMessage", "chat.update"]  # the new reminder, and the old one superseded
    assert fake.calls_to("conversations.history") == []


@pytest.mark.both_databases
async def test_a_reminder_interrupted_after_posting_is_adopted_not_repeated(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    runtime = slack.runtime
    incident = await incident_in(slack, channel)

    # A replica claims the reminder, commits its lease, posts to Slack... and dies before writing it down.
    clock.advance(hours=1)
    async with runtime.db.transaction() as session:
        [claimed] = await duework.claim_due(session, now=clock.now(), limit=10, worker="dead-replica",
                                            lease_until=clock.now() + LEASE)
    await runtime.sweeper.worker.fire(Attempt(claimed, runtime.sweeper.worker.classify), incident, clock.now())
    [posted] = reminders(fake, channel)

    await tick(slack, clock, seconds=LEASE.total_seconds() / 2)
    assert reminders(fake, channel) == [posted]  # leased: nobody else touches it meanwhile
    await tick(slack, clock, minutes=10)  # the lease ran out: another worker takes it over
    assert reminders(fake, channel) == [posted]  # found in the channel, not posted again
    assert len(fake.calls_to("conversations.history")) == 1
    assert (await incident_in(slack, channel)).reminder_ts == posted.ts  # adopted as the current reminder

    await tick(slack, clock, hours=1)
    [current] = reminders(fake, channel)
    assert current.ts != posted.ts
    assert "superseded" in fake.channels[channel].message(posted.ts).text  # the adopted one was superseded
    assert len(fake.calls_to("conversations.history")) == 1  # normal sweeps read nothing


async def test_slack_down_for_longer_than_every_backoff_then_every_incident_is_reminded_again(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channels = [await declare(slack, fake, people, f"P1 Checkout errors {n}", number=n) for n in (1, 2, 3)]
    await tick(slack, clock, seconds=1)
    # Slack is down. The first call is answered HTTP 500, which slack-sdk itself retries twice (about 2.5 s of its
    # own backoff: tests/test_escalation.py proves those retries); every later one is the ok:false internal_error
    # Slack's API answers when its backend fails, which the clock alone retries, so 30 failed attempts take no sleeps.
    fake.fail("chat.postMessage", status=500, times=3)
    fake.fail("chat.postMessage", error="internal_error", times=100_000)
    for _ in range(10):  # 30 s, 1, 2, 4, 8, 15, 15, ... minutes: longer than the old five tries
        await tick(slack, clock, minutes=15)
    assert all(reminders(fake, c) == [] for c in channels)
    for channel in channels:
        row = await reminder_row(slack, (await incident_in(slack, channel)).id)
        assert row.attempts >= 8 and row.last_error and "internal_error" in row.last_error

    fake._failures.clear()  # Slack is back
    await tick(slack, clock, minutes=15)
    assert all(len(reminders(fake, c)) == 1 for c in channels)
    await tick(slack, clock, minutes=30)
    assert all(len(reminders(fake, c)) == 1 for c in channels)  # each new one supersedes the last
    assert all(len([m for m in fake.messages_in(c) if "superseded" in m.text]) == 1 for c in channels)


async def test_a_429_is_waited_out_not_failed(slack: SlackDriver, fake: FakeSlack, people: People,
                                              clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await tick(slack, clock, seconds=1)
    fake.fail("chat.postMessage", status=429, retry_after=1, times=2)
    await tick(slack, clock, minutes=30)
    assert len(reminders(fake, channel)) == 1  # in this very sweep, after waiting Retry-After twice
    async with slack.runtime.db.transaction() as session:
        events = await service.timeline(session, await incident_in(slack, channel))
    assert not [e for e in events if e.kind == "clock_step_failed"]


async def test_an_update_is_recorded_at_once_while_a_sweep_waits_on_slow_slack(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    first = await declare(slack, fake, people, "P0 Complete API outage", number=1)
    second = await declare(slack, fake, people, "P0 Checkout down", number=2)
    await tick(slack, clock, seconds=1)
    clock.advance(minutes=15)  # both reminders are due
    fake.latency = 1.5
    sweep = asyncio.ensure_future(slack.runtime.sweeper.sweep())
    await eventually(lambda: _async(any(c.method == "chat.postMessage" for c in fake.calls[-5:])))

    async def recorded() -> bool:
        async with slack.runtime.db.transaction() as session:
            events = await service.timeline(session, await incident_in(slack, second))
        return any(e.kind == "status_update" for e in events)

    await slack.command("update identified Bad deploy | Rolling back", user=people.alice, channel=second)
    await eventually(recorded, timeout=1.0)
    assert not sweep.done()  # the update did not wait for the sweep's Slack calls
    await sweep
    fake.latency = 0
    updated = await incident_in(slack, second)
    row = await reminder_row(slack, updated.id)
    assert row.due_at == updated.last_update_at + slack.runtime.policy.for_severity(updated.severity).update_every
    assert len(reminders(fake, first)) == 1


async def _async(value: object) -> object:
    return value
