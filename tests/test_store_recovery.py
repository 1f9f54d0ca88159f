"""A database that goes away and comes back under the running bot: the answer meanwhile is one clear
"not recorded", and the first command after it is back works (the connections that failed are thrown away).
Due work a sweep claimed when the database went is written down once it is back, not done again; what it
had not claimed yet is done by the next sweep."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import AT_ONCE
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, is_reminder
from tests.test_clock import declare
from tests.test_replicas import open_incidents

pytestmark = pytest.mark.both_databases


# Each test here needs one store: the file itself is made unusable, or the server goes away.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ON_SQLITE
async def test_an_unusable_sqlite_file_gets_one_clear_answer_and_a_restored_one_is_used_again(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, database_url: str) -> None:
    path = Path(database_url.split("///", 1)[1])
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    saved = await unusable(path)
    broken = await slack.command("update investigating Looking at the logs", user=people.alice, channel=channel)
    answer = await broken.text()
    await asyncio.sleep(0.5)  # a second answer would show by now

    assert [r["text"] for r in broken.responses()] == [answer]
    assert answer.count(":warning:") == 1 and "your update was not recorded" in answer, answer
    assert not [m for m in fake.messages_in(channel) if "Looking at the logs" in m.text]

    path.write_bytes(saved)  # restored in place
    fixed = await slack.command("update identified Bad deploy | Rolling back", user=people.alice, channel=channel)

    await fake.wait_for(lambda: any("Bad deploy" in m.text for m in fake.messages_in(channel)), timeout=5)
    assert fixed.responses() == []

async def unusable(path: Path) -> bytes:
    """Overwrite the SQLite file in place (as a bad copy or a full disk would); returns what it held.

    Everything is checkpointed into the main file first, and only a checkpoint that completed counts (one
    the bot's open read blocks says busy): otherwise the frames left in the WAL would be checkpointed into
    the broken file as the bot's connections close, and the copy restored later would lack them."""
    for _ in range(100):
        with sqlite3.connect(path) as connection:
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            break
        await asyncio.sleep(0.05)  # the bot's reads finish
    else:
        raise AssertionError("the WAL could not be checkpointed: a reader held it for 5 s")
    saved = path.read_bytes()
    path.write_bytes(b"this is not a database: it was overwritten by mistake\n" * 200)
    return saved


class Cuttable:
    """A TCP proxy to PostgreSQL that the test cuts (every connection dropped, new ones refused) and
    restores: an outage of the database without touching the shared server."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._proxy, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()
        await self._server.wait_closed()

    async def _proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._open.update({writer, upstream_writer})

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def behind_a_proxy(database_url: str) -> tuple[Cuttable, str]:
    """A started proxy to the test's PostgreSQL database, and the database's URL through it."""
    url = make_url(database_url)
    proxy = Cuttable(url.port or 5432)
    await proxy.start()
    return proxy, url.set(port=proxy.port).render_as_string(hide_password=False)


FAILED_SWEEPS = 40
BETWEEN_SWEEPS = 2.0  # seconds on the app's clock: forty failed sweeps span more than the minute between summaries


@ON_POSTGRESQL
async def test_a_database_outage_is_a_few_log_lines_naming_it_and_one_when_it_is_back(
        settings: Settings, fake: FakeSlack, clock: ManualClock, database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    url = make_url(database_url)
    proxy, proxied = await behind_a_proxy(database_url)
    settings = dataclasses.replace(settings, database_url=proxied)
    async with running_bot(settings, fake, clock) as bot:
        sweeper = bot.runtime.sweeper
        await sweeper.scheduled_sweep()
        caplog.clear()
        caplog.set_level(logging.INFO)

        await proxy.cut()
        for _ in range(FAILED_SWEEPS):
            clock.advance(seconds=BETWEEN_SWEEPS)
            await sweeper.scheduled_sweep()
        during = [r for r in caplog.records if r.levelno >= logging.WARNING]
        await proxy.start()
        clock.advance(seconds=BETWEEN_SWEEPS)
        await sweeper.scheduled_sweep()
    await proxy.cut()

    lines = [r.getMessage() for r in during]
    assert 1 <= len(lines) <= 5, lines
    assert not [r for r in during if r.exc_info], "no traceback for an outage"
    assert any(f"{url.database!r} on 127.0.0.1:{proxy.port}" in line for line in lines), lines
    # One line when it starts, one a minute of the app's clock while it lasts (the sweeps span 80 s).
    assert len([line for line in lines if line.startswith("The database is failing")]) == 1, lines
    assert len([line for line in lines if line.startswith("The database still failing after 60 s")]) == 1, lines
    [back] = [r.getMessage() for r in caplog.records if "is back after" in r.getMessage()]
    assert back.startswith(f"The database is back after {FAILED_SWEEPS * BETWEEN_SWEEPS:.1f} s "
                           f"({FAILED_SWEEPS} failure(s) meanwhile)"), back


REMINDERS = AT_ONCE + 5  # more than a sweep claims at once: some are claimed when the database goes, some not yet
CADENCE_SECONDS = 60


@pytest.fixture
def rehearsal_playbooks(playbooks_dir: Path) -> Path:
    """P2 reminders and nothing else due (no pages, no escalation, no acknowledgement deadline)."""
    path = playbooks_dir / "severities.yml"
    severities = yaml.safe_load(path.read_text())
    severities["P2"].update(update_every=f"{CADENCE_SECONDS}s", response_time="1d", page=[])
    severities["P2"].pop("escalate_after", None)
    path.write_text(yaml.safe_dump(severities))
    return playbooks_dir


async def reminders_pending(bot: SlackDriver, clock: ManualClock) -> int:
    """Reminders due now that are not written down as sent (each sent one comes round a cadence later)."""
    async with bot.runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(DueWork).where(
            DueWork.kind == WorkKind.UPDATE_REMINDER, DueWork.done_at.is_(None), DueWork.due_at <= clock.now())) or 0)


@ON_POSTGRESQL
async def test_reminders_due_when_the_database_is_cut_mid_sweep_are_all_sent_once_a_sweep_after_it_is_back(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, database_url: str,
        rehearsal_playbooks: Path, caplog: pytest.LogCaptureFixture) -> None:
    proxy, proxied = await behind_a_proxy(database_url)
    settings = dataclasses.replace(settings, database_url=proxied)
    caplog.set_level(logging.INFO, logger="app.duework")
    try:
        async with running_bot(settings, fake, clock) as bot:
            sweeper = bot.runtime.sweeper
            channels = await open_incidents(bot, fake, people, clock, count=REMINDERS)
            held = fake.hold(is_reminder)
            clock.advance(seconds=CADENCE_SECONDS)  # every reminder falls due at once
            cut_off = asyncio.ensure_future(sweeper.sweep())
            try:
                # The sweep has claimed its batch (committed) and is posting it: the database goes now.
                await asyncio.wait_for(held.reached.wait(), timeout=10)
                await proxy.cut()
            finally:
                held.release.set()
            assert await cut_off == AT_ONCE, "the cut-off sweep claimed a batch, and keeps its outcomes"
            for _ in range(3):  # the sweeps meanwhile claim nothing
                await sweeper.scheduled_sweep()
            sent_during = len([c for c in fake.calls if is_reminder(c)])

            await proxy.start()
            await sweeper.scheduled_sweep()
            sent_by_one_sweep = {c: reminder_count(fake, c) for c in channels}
            pending = await reminders_pending(bot, clock)
            # A row still leased, or given back, would be taken over by now (unsure) and a reminder sent again.
            clock.advance(seconds=sweeper.lease.total_seconds() + 1)
            assert [await sweeper.sweep(), await sweeper.sweep()] == [0, 0]
    finally:
        await proxy.cut()

    assert sent_during <= AT_ONCE, "work was claimed while the database was away"
    assert sent_during < REMINDERS, "the cut came after the sweep had claimed everything: nothing was left to claim"
    assert sent_by_one_sweep == {c: 1 for c in channels}, "not all sent by the first sweep after it was back"
    assert pending == 0, "not all written down by the first sweep after it was back"
    assert len([c for c in fake.calls if is_reminder(c)]) == REMINDERS, "a reminder was sent twice"
    assert {c: reminder_count(fake, c) for c in channels} == {c: 1 for c in channels}
    # What the cut-off sweep sent was written down after the database came back, not sent again.
    assert any("outcome(s) of due work that the database had not taken" in r.getMessage() for r in caplog.records)


def reminder_count(fake: FakeSlack, channel: str) -> int:
    return len([m for m in fake.messages_in(channel) if is_reminder(m)])

