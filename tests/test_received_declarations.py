"""A `/incident declare` is written down as received at once (a burst in one transaction), settled in the
transaction that stores its incident, and declared by the next sweep when the bot stopped in between."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from app.inbox.models import ReceivedDeclaration
from app.incidents.models import Incident
from app.sandbox.fakeslack import FakeSlack
from tests.app_process import Bot
from tests.conftest import People
from tests.support import ManualClock, SlackDriver, eventually, settled
from tests.test_declaration_recovery import incident_channels, set_up

pytestmark = pytest.mark.both_databases


@contextmanager
def transactions_writing(table: str, slack: SlackDriver) -> Iterator[list[int]]:
    """How many transactions the bot commits meanwhile that wrote into `table` (one item each)."""
    committed: list[int] = []

    def executing(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            conn.info["test_wrote"] = conn.info.get("test_wrote", 0) + 1

    def committing(conn: Any) -> None:
        if wrote := conn.info.pop("test_wrote", 0):
            committed.append(wrote)

    engine = slack.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", executing)
    event.listen(engine, "commit", committing)
    try:
        yield committed
    finally:
        event.remove(engine, "before_cursor_execute", executing)
        event.remove(engine, "commit", committing)


async def received(slack: SlackDriver) -> list[ReceivedDeclaration]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(ReceivedDeclaration).order_by(ReceivedDeclaration.id)))


async def incidents(slack: SlackDriver) -> list[Incident]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))


async def test_a_burst_of_declarations_is_written_down_together_and_each_settled_by_its_incident(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    burst = 12
    with transactions_writing("received_declarations", slack) as writes:
        answers = await asyncio.gather(*(slack.command(f"declare P2 Burst {n} of the search cluster", user=people.alice,
                                                       channel=people.general) for n in range(burst)))
        await eventually(lambda: _count(slack, burst))
        await settled(slack.runtime)
    assert all("Declaring" in answer.ack_text for answer in answers)
    assert 1 <= len(writes) < burst  # a group commit: those that arrived together share one transaction

    stored = await incidents(slack)
    rows = await received(slack)
    assert len(stored) == len(rows) == burst
    assert all(row.outcome == "declared" and row.settled_at is not None for row in rows)
    assert sorted(row.incident_id for row in rows) == [incident.id for incident in stored]  # one each, none twice
    assert {row.text for row in rows} == {f"declare P2 Burst {n} of the search cluster" for n in range(burst)}


async def _count(slack: SlackDriver, wanted: int) -> bool:
    rows = await received(slack)
    return len(rows) == wanted and all(row.settled_at is not None for row in rows)


async def test_a_declaration_received_but_never_stored_is_declared_once_by_the_next_sweeps(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    """As a bot killed between writing a declaration down and storing it leaves it; two replicas sweep at once."""
    response_url = fake.new_response_url()
    async with slack.runtime.db.transaction() as session:
        session.add(ReceivedDeclaration(received_at=clock.now(), declared_by=people.alice, channel_id=people.general,
                                        text="declare P1 Checkout errors | Card payments fail",
                                        response_url=response_url))
    assert await slack.runtime.sweeper.sweep_all() == 0  # too recent: the request that wrote it may be storing it

    clock.advance(seconds=slack.runtime.sweeper.lease.total_seconds() + 1)
    await asyncio.gather(slack.runtime.sweeper.sweep_all(), slack.runtime.sweeper.sweep_all())
    await settled(slack.runtime)

    [incident] = await incidents(slack)
    assert (incident.title, incident.severity.value, incident.declared_by) == ("Checkout errors", "P1", people.alice)
    [row] = await received(slack)
    assert (row.outcome, row.incident_id) == ("declared", incident.id)
    [channel] = incident_channels(fake)
    assert people.alice in fake.channels[channel].members
    told = " ".join(str(r.get("text")) for r in fake.responses_to(response_url))
    assert f"<#{channel}>" in told  # the declarer hears where it is, through the command's response_url
    assert await slack.runtime.sweeper.sweep_all() == 0


async def test_a_received_declaration_that_looks_like_an_open_incident_is_offered_once(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    await slack.command("declare P1 Checkout errors", user=people.bob, channel=people.general)
    await eventually(lambda: _count(slack, 1))
    await settled(slack.runtime)
    response_url = fake.new_response_url()
    async with slack.runtime.db.transaction() as session:
        session.add(ReceivedDeclaration(received_at=clock.now(), declared_by=people.alice, channel_id=people.general,
                                        text="declare P1 Checkout errors", response_url=response_url))
    clock.advance(seconds=slack.runtime.sweeper.lease.total_seconds() + 1)
    await slack.runtime.sweeper.sweep_all()
    await slack.runtime.sweeper.sweep_all()

    assert len(await incidents(slack)) == 1
    assert [row.outcome for row in await received(slack)] == ["declared", "looks_alike"]
    offers = [r for r in fake.responses_to(response_url) if "This looks like" in str(r.get("text"))]
    assert len(offers) == 1


@pytest.mark.processes
async def test_a_declaration_killed_after_it_was_written_down_is_declared_after_the_restart(
        fake: FakeSlack, people: People, database_url: str, playbooks_dir: object) -> None:
    """kill -9 between writing the declaration down and storing its incident. PostgreSQL only: the test holds
    the due-work table locked, so the bot is stopped exactly there (SQLite locks the whole file)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("needs a table lock that lets the received declaration through (PostgreSQL)")
    bot = Bot(fake, people, database_url, playbooks_dir)  # type: ignore[arg-type]
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    locker = await asyncpg.connect(plain)
    try:
        await bot.start()
        lock = locker.transaction()
        await lock.start()
        # Reads pass, writes wait: the storing transaction plans the channel's setup there. (Not `incidents`: the
        # received copy's foreign key takes a share lock on it.)
        await locker.execute("LOCK TABLE due_work IN EXCLUSIVE MODE")
        await bot.declare(fake, people, "declare P1 Checkout errors | Card payments fail")

        async def written_down() -> bool:
            return bool(await locker.fetchval("SELECT count(*) FROM received_declarations WHERE settled_at IS NULL"))

        await eventually(written_down)
        await asyncio.sleep(0.5)  # the bot is inside the storing transaction, waiting for the lock
        bot.kill()
        await lock.rollback()
        assert await locker.fetchval("SELECT count(*) FROM incidents") == 0

        await bot.start()
        await fake.wait_for(lambda: set_up(fake, people), timeout=30)
        await asyncio.sleep(1)  # a second incident would show by now
        assert await locker.fetchval("SELECT count(*) FROM incidents") == 1
        assert await locker.fetchval("SELECT outcome FROM received_declarations") == "declared"
    finally:
        bot.stop()
        await locker.close()
    assert len(incident_channels(fake)) == 1
    assert len(fake.calls_to("conversations.create")) == 1
