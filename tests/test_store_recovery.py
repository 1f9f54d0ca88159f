"""A database that goes away and comes back under the running bot: the answer meanwhile is one clear
"not recorded", and the first command after it is back works (the connections that failed are thrown away)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.settings import Settings
from tests.conftest import People, running_bot
from tests.fakeslack import FakeSlack
from tests.support import ManualClock, SlackDriver, eventually
from tests.test_clock import declare


async def test_an_unusable_sqlite_file_gets_one_clear_answer_and_a_restored_one_is_used_again(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the file itself is made unusable")
    path = Path(database_url.split("///", 1)[1])
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    saved = unusable(path)
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

def unusable(path: Path) -> bytes:
    """Overwrite the SQLite file in place (as a bad copy or a full disk would); returns what it held."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file, to restore it
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


async def test_a_database_outage_is_a_few_log_lines_naming_it_and_one_when_it_is_back(
        settings: Settings, fake: FakeSlack, clock: ManualClock, database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the database server goes away (behind a proxy the test cuts)")
    url = make_url(database_url)
    proxy = Cuttable(url.port or 5432)
    await proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    settings = dataclasses.replace(settings, database_url=proxied, sweep_seconds=0.1)
    async with running_bot(settings, fake, clock) as bot:
        bot.runtime.sweeper.start()
        await asyncio.sleep(0.5)
        caplog.clear()
        caplog.set_level(logging.INFO)

        await proxy.cut()
        await asyncio.sleep(4)  # some forty sweeps fail meanwhile
        during = [r for r in caplog.records if r.levelno >= logging.WARNING]
        await proxy.start()
        await eventually(lambda: _async(any("is back after" in r.getMessage() for r in caplog.records)), timeout=5)
        bot.runtime.sweeper.stop()
        await asyncio.sleep(0.2)
    await proxy.cut()

    lines = [r.getMessage() for r in during]
    assert 1 <= len(lines) <= 5, lines
    assert not [r for r in during if r.exc_info], "no traceback for an outage"
    assert any(f"{url.database!r} on 127.0.0.1:{proxy.port}" in line for line in lines), lines
    [back] = [r.getMessage() for r in caplog.records if "is back after" in r.getMessage()]
    assert back.startswith("The database is back after")


async def _async(value: object) -> object:
    return value
