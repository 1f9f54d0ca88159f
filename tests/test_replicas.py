"""Three replicas sweeping one PostgreSQL database: every reminder exactly once, even when one dies."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from app.duework.models import DueWork
from app.incidents import deadlines, service
from app.incidents.models import Severity
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, eventually, is_reminder

pytestmark = [pytest.mark.both_databases, pytest.mark.processes]

INCIDENTS = 200
CADENCE_SECONDS = 30
LEASE_SECONDS = 10  # shorter than the cadence, so work taken over from the dead replica is due with the rest


@pytest.fixture
def rehearsal_playbooks(playbooks_dir: Path) -> Path:
    """A rehearsal policy: P2 updates every 30 s, nothing else due (the plan says durations may be short)."""
    path = playbooks_dir / "severities.yml"
    severities = yaml.safe_load(path.read_text())
    severities["P2"].update(update_every=f"{CADENCE_SECONDS}s", response_time="1d", page=[])
    severities["P2"].pop("escalate_after")
    path.write_text(yaml.safe_dump(severities))
    return playbooks_dir


async def open_incidents(slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock,
                         count: int = INCIDENTS) -> list[str]:
    """`count` open P2 incidents with channels, stored as the declare flow stores them (without the slash
    commands); their clock planned, so their first reminders fall due together."""
    channels = []
    async with slack.runtime.db.transaction() as session:
        for number in range(count):
            incident = await service.declare_incident(
                session, title=f"Rehearsal {number}", severity=Severity.P2, impact="", declared_by=people.alice,
                roles={}, now=clock.now())
            incident.channel_id = fake.add_channel(f"rehearsal-{number}", members=[fake.bot_user_id, people.alice])
            incident.acknowledged_at = clock.now()
            channels.append(incident.channel_id)
            await deadlines.plan_clock(session, incident, slack.runtime.policy, now=clock.now())
    return channels


def reminder_count(fake: FakeSlack, channels: list[str]) -> Counter[str]:
    return Counter(m.channel for c in channels for m in fake.messages_in(c) if is_reminder(m))


async def nothing_due(slack: SlackDriver, clock: ManualClock) -> bool:
    async with slack.runtime.db.transaction() as session:
        due = await session.scalar(select(func.count()).select_from(DueWork).where(
            DueWork.done_at.is_(None), DueWork.due_at <= clock.now()))
    return due == 0


async def test_three_replicas_send_every_reminder_exactly_once(
        database_url: str, settings: Settings, fake: FakeSlack, people: People, clock: ManualClock,
        rehearsal_playbooks: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas share PostgreSQL; SQLite is the single-process store")
    settings = dataclasses.replace(settings, playbooks_dir=rehearsal_playbooks, sweep_seconds=0.1,
                                   lease_seconds=LEASE_SECONDS)
    async with AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(running_bot(settings, fake, clock)) for _ in range(3)]
        channels = await open_incidents(replicas[0], fake, people, clock)
        for replica in replicas:
            replica.runtime.sweeper.start()  # each its own APScheduler, engine and connections

        for rounds in range(1, 4):
            clock.advance(seconds=CADENCE_SECONDS)
            if rounds == 2:
                # One replica dies mid-run: what it was firing is cut off, and its connections go away.
                await asyncio.sleep(0.05)
                await replicas[2].runtime.sweeper.shutdown(timeout=0)
                await replicas[2].runtime.db.close()
                clock.advance(seconds=LEASE_SECONDS + 1)  # its leases run out: the others take its work over
            await eventually(lambda: nothing_due(replicas[0], clock), timeout=60)
            await eventually(lambda: _settled(replicas[0]), timeout=10)
            counts = reminder_count(fake, channels)
            assert sum(counts.values()) == INCIDENTS * rounds, "a reminder was missed or sent twice"
            assert set(counts.values()) == {rounds}

        for replica in replicas[:2]:
            replica.runtime.sweeper.stop()
        workers = {row for row in await _done_by(replicas[0])}
        assert len(workers) >= 2, "the work should have been shared"


async def _settled(slack: SlackDriver) -> bool:
    """No sweep is holding claimed rows open (rows due now are all marked done and committed)."""
    async with slack.runtime.db.transaction() as session:
        pending = await session.scalar(select(func.count()).select_from(DueWork).where(DueWork.done_at.is_(None)))
    return pending == INCIDENTS


async def _done_by(slack: SlackDriver) -> list[str]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(DueWork.done_by).where(DueWork.done_by.is_not(None)).distinct()))
