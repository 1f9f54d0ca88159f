"""Recovery in seconds (real `python -m app` processes, killed with SIGKILL at the worst moment):
a dead worker's due work is taken over by a survivor within seconds, and a restarted single-process bot
(SQLite) takes over at once what its previous incarnation held. The history check keeps a takeover from
posting twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.db import Database
from app.duework.models import DueWork, WorkKind
from app.sandbox.fakeslack import FakeSlack
from tests.app_process import Bot
from tests.conftest import People
from tests.support import is_reminder
from tests.test_declaration_recovery import STEPS, incident_channels, set_up

pytestmark = [pytest.mark.both_databases, pytest.mark.processes]

CADENCE_SECONDS = 9  # P2 reminders in the rehearsal policy: the first falls due this long after declaring


class Replica(Bot):
    """`python -m app` with the default lease (what a deployment gets) unless given `lease_seconds`, given time
    to start on a busy machine: how long starting takes is not what these tests measure."""

    starting_within = 90.0  # three bots starting at once (each importing, migrating, checking templates)

    def __init__(self, fake: FakeSlack, people: People, database_url: str, playbooks: Path,
                 lease_seconds: float | None = None) -> None:
        super().__init__(fake, people, database_url, playbooks)
        self.env.pop("DUE_WORK_LEASE_SECONDS")
        if lease_seconds is not None:
            self.env["DUE_WORK_LEASE_SECONDS"] = str(lease_seconds)


async def test_a_restart_on_sqlite_takes_over_the_setup_at_once(
        fake: FakeSlack, people: People, tmp_path: Path, playbooks_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    bot = Replica(fake, people, url, playbooks_dir)
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


# Replicas share PostgreSQL; SQLite is the single-process store (its restart is the test above, with the
# default lease: a restart does not wait for it).
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
# The replicas' lease, shorter than the default 10 s so a takeover is not ten seconds of waiting: DUE_WORK_LEASE_SECONDS
# is what a deployment sets, and a lease of any length is taken over the same way once it runs out.
LEASE_SECONDS = 3
TAKEN_OVER_WITHIN = LEASE_SECONDS + 5  # seconds after the kill: the lease runs out, and a survivor's sweep


def page_dm(call: object) -> bool:
    return (getattr(call, "method", "") == "chat.postMessage"
            and "You are paged" in str(getattr(call, "args", {}).get("text")))


def escalation_dm(call: object) -> bool:
    return (getattr(call, "method", "") == "chat.postMessage"
            and "Escalation:" in str(getattr(call, "args", {}).get("text")))


def escalated_post(call: object) -> bool:
    return (getattr(call, "method", "") == "chat.postMessage"
            and "Escalated to management" in str(getattr(call, "args", {}).get("text")))


async def work_row(url: str, kind: WorkKind) -> DueWork | None:
    """The newest row of this kind (there is one incident)."""
    database = Database(url)
    try:
        async with database.transaction() as session:
            return await session.scalar(select(DueWork).where(DueWork.kind == kind).order_by(DueWork.id.desc()))
    finally:
        await database.close()


async def reminder_row(url: str) -> DueWork | None:
    database = Database(url)
    try:
        async with database.transaction() as session:
            return await session.scalar(select(DueWork).where(DueWork.kind == WorkKind.UPDATE_REMINDER,
                                                              DueWork.done_at.is_(None)))
    finally:
        await database.close()


async def kill_the_holder(replicas: list[Bot], url: str, kind: WorkKind) -> tuple[DueWork, int]:
    """SIGKILL the replica whose lease holds this kind of work (it is firing it): the row as it was, its pid."""
    row = await work_row(url, kind)
    assert row is not None and row.claimed_by is not None and row.done_at is None
    pid = int(row.claimed_by.rsplit("-", 2)[1])
    [holder] = [r for r in replicas if r.process is not None and r.process.pid == pid]
    holder.kill()
    return row, pid


async def finished_by_a_survivor(url: str, kind: WorkKind, pid: int, killed: float) -> tuple[DueWork, float]:
    """Wait (at most TAKEN_OVER_WITHIN s after the kill) until another replica wrote the work done."""
    while True:
        row = await work_row(url, kind)
        if row is not None and row.done_at is not None:
            taken_over_in = time.monotonic() - killed
            assert row.done_by is not None and f"-{pid}-" not in row.done_by, row.done_by
            assert row.outcome == "done", (row.outcome, row.last_error)
            return row, taken_over_in
        assert time.monotonic() - killed < TAKEN_OVER_WITHIN, f"no survivor finished the {kind.value} within " \
            f"{TAKEN_OVER_WITHIN} s"
        await asyncio.sleep(0.2)


@ON_POSTGRESQL
async def test_three_replicas_a_survivor_finishes_the_reminder_of_one_killed_after_slack_took_it(
        fake: FakeSlack, people: People, database_url: str, rehearsal_playbooks: Path) -> None:
    replicas = [Replica(fake, people, database_url, rehearsal_playbooks, LEASE_SECONDS) for _ in range(3)]
    held = fake.hold(is_reminder)
    try:
        await asyncio.gather(*(replica.start() for replica in replicas))
        await replicas[0].declare(fake, people, "declare P2 Search is slow | Results take 10 s")
        await fake.wait_for(lambda: set_up(fake, people), timeout=20)
        [channel] = incident_channels(fake)

        await asyncio.wait_for(held.reached.wait(), timeout=CADENCE_SECONDS + 15)  # posted: Slack has it
        row, pid = await kill_the_holder(replicas, database_url, WorkKind.UPDATE_REMINDER)
        killed = time.monotonic()
        held.release.set()

        async def survivor_finished() -> bool:
            now = await reminder_row(database_url)
            return now is not None and now.claimed_by is None and now.due_at > row.due_at
        while not await survivor_finished():
            assert time.monotonic() - killed < TAKEN_OVER_WITHIN, \
                f"no survivor took the reminder over within {TAKEN_OVER_WITHIN} s"
            await asyncio.sleep(0.2)
        taken_over_in = time.monotonic() - killed
        finished = await reminder_row(database_url)
        assert finished is not None and finished.done_by is not None and str(pid) not in finished.done_by
    finally:
        held.release.set()
        for replica in replicas:
            replica.stop()

    posted = [m for m in fake.messages_in(channel) if is_reminder(m)]
    assert len([c for c in fake.calls if is_reminder(c)]) == 1, "the reminder was posted twice"
    assert len(posted) == 1
    assert fake.calls_to("conversations.history"), "the survivor checked the channel before posting"
    print(f"reminder taken over {taken_over_in:.1f} s after the kill")


@pytest.fixture
def paging_playbooks(playbooks_dir: Path) -> Path:
    """P0 pages its roles at declaration; nothing else falls due while the test runs."""
    path = playbooks_dir / "severities.yml"
    severities = yaml.safe_load(path.read_text())
    severities["P0"].update(update_every="1d", response_time="1d")
    severities["P0"].pop("escalate_after", None)
    path.write_text(yaml.safe_dump(severities))
    return playbooks_dir


@ON_POSTGRESQL
async def test_three_replicas_a_survivor_finishes_the_page_of_one_killed_after_slack_took_it(
        fake: FakeSlack, people: People, database_url: str, paging_playbooks: Path) -> None:
    replicas = [Replica(fake, people, database_url, paging_playbooks, LEASE_SECONDS) for _ in range(3)]
    held = fake.hold(page_dm)  # the on-call primary's page: Slack delivered it, the replica never heard back
    try:
        await asyncio.gather(*(replica.start() for replica in replicas))
        await replicas[0].declare(fake, people, "declare P0 Checkout down | No payments at all")
        await asyncio.wait_for(held.reached.wait(), timeout=20)
        await fake.wait_for(lambda: set_up(fake, people), timeout=20)  # the channel to invite the paged to
        [channel] = incident_channels(fake)
        assert people.carol not in fake.channels[channel].members  # the page's own step, still to do
        _, pid = await kill_the_holder(replicas, database_url, WorkKind.PAGE)
        killed = time.monotonic()
        held.release.set()

        finished, taken_over_in = await finished_by_a_survivor(database_url, WorkKind.PAGE, pid, killed)
        await asyncio.sleep(0.5)  # a page sent again would show by now
    finally:
        held.release.set()
        for replica in replicas:
            replica.stop()

    assert len([c for c in fake.calls if page_dm(c)]) == 1, "the page was sent twice"
    assert len([m for m in fake.dms_to(people.carol) if "You are paged" in m.text]) == 1
    assert people.carol in fake.channels[channel].members  # the rest of the page, done by the survivor
    assert finished.steps[f"page {people.carol}"].get("result"), finished.steps  # adopted, found in the DM
    assert finished.steps["invite paged roles-P0"].get("result"), finished.steps
    assert fake.calls_to("conversations.history"), "the survivor checked the DM before paging"
    print(f"page taken over {taken_over_in:.1f} s after the kill")


ESCALATE_AFTER_SECONDS = 5  # the rehearsal's P2 escalation: after the channel is set up, well before the test ends


@pytest.fixture
def escalating_playbooks(playbooks_dir: Path) -> Path:
    """P2 escalates to management a few seconds after it is declared; nothing else falls due."""
    path = playbooks_dir / "severities.yml"
    severities = yaml.safe_load(path.read_text())
    severities["P2"].update(update_every="1d", response_time="1d", page=[],
                            escalate_after=f"{ESCALATE_AFTER_SECONDS}s", escalate_to="management")
    path.write_text(yaml.safe_dump(severities))
    return playbooks_dir


@ON_POSTGRESQL
async def test_three_replicas_a_survivor_finishes_the_escalation_of_one_killed_after_slack_took_it(
        fake: FakeSlack, people: People, database_url: str, escalating_playbooks: Path) -> None:
    replicas = [Replica(fake, people, database_url, escalating_playbooks, LEASE_SECONDS) for _ in range(3)]
    held = fake.hold(escalation_dm)  # the manager's DM: Slack delivered it, the replica never heard back
    try:
        await asyncio.gather(*(replica.start() for replica in replicas))
        await replicas[0].declare(fake, people, "declare P2 Search is slow | Results take 10 s")
        await fake.wait_for(lambda: set_up(fake, people), timeout=20)
        [channel] = incident_channels(fake)

        await asyncio.wait_for(held.reached.wait(), timeout=ESCALATE_AFTER_SECONDS + 15)
        _, pid = await kill_the_holder(replicas, database_url, WorkKind.ESCALATION)
        killed = time.monotonic()
        held.release.set()

        finished, taken_over_in = await finished_by_a_survivor(database_url, WorkKind.ESCALATION, pid, killed)
        await asyncio.sleep(0.5)  # a message sent again would show by now
    finally:
        held.release.set()
        for replica in replicas:
            replica.stop()

    assert len([c for c in fake.calls if escalation_dm(c)]) == 1, "management was told twice"
    assert len([m for m in fake.dms_to(people.boss) if "Escalation:" in m.text]) == 1
    # The channel's notice went out once: from the killed replica (in step with the DM) or from the survivor.
    assert len([c for c in fake.calls if escalated_post(c)]) == 1
    assert len([m for m in fake.messages_in(channel) if "Escalated to management" in m.text]) == 1
    assert finished.steps[f"dm {people.boss}"].get("result") and finished.steps["post"].get("result"), finished.steps
    assert fake.calls_to("conversations.history"), "the survivor checked before telling management"
    print(f"escalation taken over {taken_over_in:.1f} s after the kill")
