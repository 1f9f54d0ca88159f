"""A database that goes away and comes back under the running bot: the answer meanwhile is one clear
"not recorded", and the first command after it is back works (the connections that failed are thrown away)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import People
from tests.fakeslack import FakeSlack
from tests.support import ManualClock, SlackDriver
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
