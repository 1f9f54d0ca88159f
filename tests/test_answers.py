"""Every command, button and form gets exactly one private answer, also when the incident store is down."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.incidents.models import Incident
from app.sandbox.fakeslack import Channel, FakeSlack
from tests.conftest import POSTGRES_URL, People
from tests.support import SlackDriver
from tests.test_lifecycle import declare

pytestmark = pytest.mark.both_databases

UNREACHABLE = "The incident store is unreachable; {what} was not recorded. Try again in a minute."
UNEXPECTED = "Something went wrong on my side"
ACK_LIMIT = 3.0


# -- counting what reaches a person ---------------------------------------------------------------


class Answers:
    """Everything private that reaches one person after a point: acknowledgements, response_url posts,
    ephemeral messages and direct messages."""

    def __init__(self, fake: FakeSlack, user: str) -> None:
        self.fake, self.user = fake, user
        self.acks: list[str] = []
        self.response_urls: list[str] = []
        self._ephemerals = len(fake.ephemerals)
        self._dms = len(fake.dms_to(user))

    def texts(self) -> list[str]:
        return [*[a for a in self.acks if a],
                *[str(r.get("text", "")) for url in self.response_urls for r in self.fake.responses_to(url)],
                *[e["text"] for e in self.fake.ephemerals[self._ephemerals:] if e["user"] == self.user],
                *[m.text for m in self.fake.dms_to(self.user)[self._dms:]]]

    async def settled(self) -> list[str]:
        """Wait for the first answer, then long enough for a second one to show up if there were one."""
        await self.fake.wait_for(self.texts)
        await asyncio.sleep(0.3)
        return self.texts()


async def command(slack: SlackDriver, answers: Answers, text_: str, *, channel: str) -> float:
    started = time.monotonic()
    reply = await slack.command(text_, user=answers.user, channel=channel)
    elapsed = time.monotonic() - started
    assert reply.status == 200
    answers.acks.append(reply.ack_text)
    answers.response_urls.append(reply.response_url)
    return elapsed


async def press(slack: SlackDriver, answers: Answers, action_id: str, value: str, *, channel: Channel) -> float:
    payload = {
        "type": "block_actions", "team": {"id": slack.fake.team_id}, "api_app_id": "A0001",
        "user": {"id": answers.user, "name": "someone", "team_id": slack.fake.team_id},
        "channel": {"id": channel.id}, "message": {"ts": "1.000001", "type": "message"},
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel.id},
        "trigger_id": "13345224609.738474920.press", "response_url": slack.fake.new_response_url(),
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                     "action_ts": f"{time.time():.6f}"}],
    }
    answers.response_urls.append(payload["response_url"])
    started = time.monotonic()
    response = await slack.interaction(payload)
    assert response.status_code == 200
    return time.monotonic() - started


async def submit_update_form(slack: SlackDriver, answers: Answers, *, channel: Channel) -> float:
    payload = {
        "type": "view_submission", "team": {"id": slack.fake.team_id}, "api_app_id": "A0001",
        "user": {"id": answers.user, "name": "someone", "team_id": slack.fake.team_id},
        "trigger_id": "13345224609.738474920.submit",
        "view": {"id": "V0001", "type": "modal", "callback_id": "post_status_update", "private_metadata": channel.id,
                 "state": {"values": {
                     "status": {"value": {"type": "static_select", "selected_option": {"value": "identified"}}},
                     "findings": {"value": {"type": "plain_text_input", "value": "Pool exhausted"}}}}},
    }
    started = time.monotonic()
    response = await slack.interaction(payload)
    assert response.status_code == 200 and not response.content.strip()
    return time.monotonic() - started


# -- the incident store goes away -----------------------------------------------------------------


@asynccontextmanager
async def store_down(slack: SlackDriver, database_url: str) -> AsyncIterator[None]:
    """Make the running bot's database unusable, the same way every time.

    SQLite: the file (and its WAL) is replaced by a directory, so opening it fails, and the pool is
    emptied so no connection keeps reading the old file. PostgreSQL: the database stops accepting
    connections and its backends are terminated, so the pool's connections fail their pre-ping and
    reconnecting is refused; afterwards it accepts connections again."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        path.mkdir()
        await slack.runtime.db.engine.dispose()
        try:
            yield
        finally:
            shutil.rmtree(path, ignore_errors=True)
        return
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    name = url.database
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            await connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                          "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        yield
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        await admin.dispose()


async def test_with_the_store_down_every_command_says_what_was_not_recorded(
        slack: SlackDriver, fake: FakeSlack, people: People, database_url: str) -> None:
    channel, _ = await declare(slack, fake, people)
    typed = [("update identified Pool exhausted | Restarting | 10 minutes", "your update"),
             ("note Rolled back deploy 1234", "your note"),
             ("resolve Pool too small | Raised the limit", "your resolution"),
             ("severity P0", "your severity change"),
             (f"role tech <@{people.bob}>", "your role change")]

    async with store_down(slack, database_url):
        for text_, what in typed:
            answers = Answers(fake, people.alice)
            elapsed = await command(slack, answers, text_, channel=channel.id)
            assert elapsed < ACK_LIMIT
            assert await answers.settled() == [f":warning: {UNREACHABLE.format(what=what)}"], text_

        answers = Answers(fake, people.alice)
        assert await command(slack, answers, "declare P2 Search is slow", channel=people.general) < ACK_LIMIT
        # "Declaring…" in the acknowledgement, then what became of it.
        declaring, outcome = await answers.settled()
        assert "Declaring" in declaring and outcome.endswith(UNREACHABLE.format(what="your declaration"))

        for action_id, value in (("acknowledge", "1"), ("snooze_reminder", "15"), ("post_update", "")):
            answers = Answers(fake, people.alice)
            assert await press(slack, answers, action_id, value, channel=channel) < ACK_LIMIT
            assert await answers.settled() == [f":warning: {UNREACHABLE.format(what='your button press')}"]

        answers = Answers(fake, people.alice)
        assert await submit_update_form(slack, answers, channel=channel) < ACK_LIMIT
        assert await answers.settled() == [f":warning: {UNREACHABLE.format(what='your update')}"]

        answers = Answers(fake, people.alice)
        await command(slack, answers, "status", channel=channel.id)
        [shown] = await answers.settled()
        assert "The incident store is unreachable, so I can't show this incident's status" in shown

        assert (await slack.http.get("/ready")).status_code == 503  # /health is liveness: the process still serves

    # Nothing was half-recorded: back up, the incident is as it was.
    await slack.runtime.db.engine.dispose()
    if make_url(database_url).get_backend_name() == "postgresql":
        async with slack.runtime.db.transaction() as session:
            [incident] = list(await session.scalars(select(Incident)))
        assert incident.status.value == "investigating" and incident.severity.value == "P1"


# -- one answer per command -----------------------------------------------------------------------


async def test_each_refusal_reaches_the_person_exactly_once(slack: SlackDriver, fake: FakeSlack,
                                                              people: People) -> None:
    channel, _ = await declare(slack, fake, people)
    cases = [
        ("update", channel.id, "is not a status"),
        ("update nonsense", channel.id, "is not a status"),
        ("severity P9", channel.id, "is not a severity"),
        ("update identified Still broken", people.general, "isn't one"),
        ("status", people.general, "isn't one"),
        ("role tech <@U0NOBODY1|ghost>", channel.id, "I can't find"),
        (f"role tech <@{people.gone}>", channel.id, "deactivated"),
        ("severity P1", channel.id, "already P1"),
        ("review", channel.id, "not resolved yet"),
        ("frobnicate", channel.id, "is not an /incident command"),
    ]
    for text_, where, expected in cases:
        answers = Answers(fake, people.alice)
        await command(slack, answers, text_, channel=where)
        [answer] = await answers.settled()
        assert expected in answer, (text_, answer)

    answers = Answers(fake, people.bob)  # not paged for it: acknowledging is the person paged's (issue 20)
    await press(slack, answers, "acknowledge", "1", channel=channel)
    [answer] = await answers.settled()
    assert "You were not paged for this incident" in answer

    answers = Answers(fake, people.alice)
    await command(slack, answers, "resolve Pool too small | Raised the limit", channel=channel.id)
    await fake.wait_for(lambda: any("RESOLVED" in m.text.upper() for m in fake.messages_in(channel.id)[1:]))
    for text_ in ("update identified It is back", "severity P0"):
        answers = Answers(fake, people.alice)
        await command(slack, answers, text_, channel=channel.id)
        [answer] = await answers.settled()
        assert "was resolved" in answer, (text_, answer)

    for action_id, value in (("snooze_reminder", "15"), ("no_such_button", "x"), ("snooze_reminder", "-3"),
                             ("comms_approve", "99999"), ("checklist_tick", "")):
        answers = Answers(fake, people.alice)
        await press(slack, answers, action_id, value, channel=channel)
        [answer] = await answers.settled()
        assert UNEXPECTED not in answer, (action_id, value, answer)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_form_we_never_opened_is_answered_not_refused(slack: SlackDriver, fake: FakeSlack,
                                                              people: People) -> None:
    payload = {"type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
               "user": {"id": people.alice, "name": "alice", "team_id": fake.team_id},
               "view": {"id": "V1", "type": "modal", "callback_id": "from_an_old_version",
                        "state": {"values": {}}}}
    answers = Answers(fake, people.alice)

    response = await slack.interaction(payload)

    assert response.status_code == 200
    [answer] = await answers.settled()
    assert "not one I can act on" in answer
