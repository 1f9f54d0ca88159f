"""Recovery in seconds (real `python -m app` processes, killed with SIGKILL at the worst moment):
a dead worker's due work is taken over by a survivor within seconds, and a restarted single-process bot
(SQLite) takes over at once what its previous incarnation held. The history check keeps a takeover from
posting twice."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.db import Database
from app.duework.models import DueWork, WorkKind
from tests.conftest import People
from tests.fakeslack import FakeSlack
from tests.test_declaration_recovery import STEPS, Bot, incident_channels, set_up

CADENCE_SECONDS = 12  # P2 reminders in the rehearsal policy: the first falls due this long after declaring


def without_lease_setting(bot: Bot) -> Bot:
    bot.env.pop("DUE_WORK_LEASE_SECONDS")  # the default lease: what a deployment gets
    return bot


async def test_a_restart_on_sqlite_takes_over_the_setup_at_once(
        fake: FakeSlack, people: People, tmp_path: Path, playbooks_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    bot = without_lease_setting(Bot(fake, people, url, playbooks_dir))
    held = fake.hold(STEPS["create channel"])
    try:
        await bot.start()
        await bot.declare(fake, people, "declare P1 Checkout errors | Card payments fail")
        await asyncio.wait_for(held.reached.wait(), timeout=20)
        bot.kill()  # Slack made the channel; the bot never heard back, and its lease was renewed until then
        held.release.set()

        await bot.start()
        restarted = time.monotonic()
        await fake.wait_for(lambda: set_up(fake, people), timeout=10)
        assert time.monotonic() - restarted < 10
        print(f"set up {time.monotonic() - restarted:.1f} s after the restart")
        await asyncio.sleep(0.5)  # a step repeated by mistake would show by now
    finally:
        held.release.set()
        bot.stop()

    [channel] = incident_channels(fake)
    assert len(fake.calls_to("conversations.create")) == 1  # adopted, not made again
    assert len([m for m in fake.messages_in(channel) if "Incident:" in m.text]) == 1


@pytest.fixture
def rehearsal_playbooks(playbooks_dir: Path) -> Path:
    """P2 updates every few seconds, nothing else due (no pages, no escalation)."""
    path = playbooks_dir / "severities.yml"
    severities = yaml.safe_load(path.read_text())
    severities["P2"].update(update_every=f"{CADENCE_SECONDS}s", response_time="1d", page=[])
    severities["P2"].pop("escalate_after", None)
    path.write_text(yaml.safe_dump(severities))
    return playbooks_dir


def reminder(call: object) -> bool:
    return getattr(call, "method", "") == "chat.postMessage" and ":alarm_clock:" in str(getattr(call, "args", {}).get("text"))


async def reminder_row(url: str) -> DueWork | None:
    database = Database(url)
    try:
        async with database.transaction() as session:
            return await session.scalar(select(DueWork).where(DueWork.kind == WorkKind.UPDATE_REMINDER,
                                                              DueWork.done_at.is_(None)))
    finally:
        await database.close()


async def test_three_replicas_a_survivor_finishes_the_reminder_of_one_killed_after_slack_took_it(
        fake: FakeSlack, people: People, database_url: str, rehearsal_playbooks: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share PostgreSQL; SQLite is the single-process store")
    replicas = [without_lease_setting(Bot(fake, people, database_url, rehearsal_playbooks)) for _ in range(3)]
    held = fake.hold(reminder)
    try:
        await asyncio.gather(*(replica.start() for replica in replicas))
        await replicas[0].declare(fake, people, "declare P2 Search is slow | Results take 10 s")
        await fake.wait_for(lambda: set_up(fake, people), timeout=20)
        [channel] = incident_channels(fake)

        await asyncio.wait_for(held.reached.wait(), timeout=CADENCE_SECONDS + 15)  # posted: Slack has it
        row = await reminder_row(database_url)
        assert row is not None and row.claimed_by is not None
        pid = int(row.claimed_by.rsplit("-", 2)[1])
        [holder] = [r for r in replicas if r.process is not None and r.process.pid == pid]
        holder.kill()
        killed = time.monotonic()
        held.release.set()

        async def survivor_finished() -> bool:
            now = await reminder_row(database_url)
            return now is not None and now.claimed_by is None and now.due_at > row.due_at
        while not await survivor_finished():
            assert time.monotonic() - killed < 15, "no survivor took the reminder over within 15 s"
            await asyncio.sleep(0.2)
        taken_over_in = time.monotonic() - killed
        finished = await reminder_row(database_url)
        assert finished is not None and finished.done_by is not None and str(pid) not in finished.done_by
    finally:
        held.release.set()
        for replica in replicas:
            replica.stop()

    posted = [m for m in fake.messages_in(channel) if ":alarm_clock:" in m.text]
    assert len([c for c in fake.calls if reminder(c)]) == 1, "the reminder was posted twice"
    assert len(posted) == 1
    assert fake.calls_to("conversations.history"), "the survivor checked the channel before posting"
    print(f"taken over {taken_over_in:.1f} s after the kill")
