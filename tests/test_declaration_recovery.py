"""A declaration always completes: the bot is killed (kill -9, a real process) right after Slack carried out
one step of setting up an incident and before the bot heard back, then started again. Every declaration
ends with one channel, one kickoff, one pin, one announcement, the declarer invited, nothing doubled.

One run per database serves every step: one declaration per step, each held by the fake Slack just after
its own step took effect, all of them in flight when the one kill comes; the next start finishes them all.
Each step's test then reads what became of its declaration."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.server import Hold
from app.sandbox.fakeslack.state import Call
from tests.app_process import Bot
from tests.conftest import People, _empty_tables, add_people, write_playbooks

# Every test of this module reads the one run of its database: on one worker (tests/conftest.py, SHARED_RUNS), so
# the run is made once.
pytestmark = [pytest.mark.both_databases, pytest.mark.processes]

CHANNEL_PREFIX = "incident-"
# Each step of the setup, as the call Slack receives for it.
STEPS: dict[str, Callable[[Call], bool]] = {
    "create channel": lambda call: call.method == "conversations.create",
    "invite": lambda call: call.method == "conversations.invite",
    "set topic": lambda call: call.method == "conversations.setTopic",
    "post kickoff": lambda call: call.method == "chat.postMessage" and "Incident:" in str(call.args.get("text")),
    "pin kickoff": lambda call: call.method == "pins.add",
    "announce": lambda call: call.method == "chat.postMessage" and "INCIDENT DECLARED" in str(call.args.get("text")),
}


def incident_channels(fake: FakeSlack) -> list[str]:
    return [c.id for c in fake.channels.values() if c.name.startswith(CHANNEL_PREFIX)]


def set_up(fake: FakeSlack, people: People) -> bool:
    channels = incident_channels(fake)
    return bool(channels) and all(fake.channels[c].pins and people.alice in fake.channels[c].members
                                  and fake.channels[c].topic for c in channels) \
        and len([m for m in fake.messages_in(people.incidents) if "INCIDENT DECLARED" in m.text]) >= len(channels)


def title(step: str) -> str:
    return f"Checkout errors, killed after {step}"


def declaration_set_up(fake: FakeSlack, people: People, declaration: str) -> bool:
    """The declaration titled `declaration` has a channel with its topic, a pin and the declarer, and is announced
    (whatever else there is: the tests count that)."""
    return any(declaration in fake.channels[c].topic and fake.channels[c].pins and people.alice in
               fake.channels[c].members for c in incident_channels(fake)) \
        and any(declaration in m.text for m in fake.messages_in(people.incidents) if "INCIDENT DECLARED" in m.text)


def held_at(fake: FakeSlack, step: str, known: set[str]) -> Callable[[Call], bool]:
    """The call doing `step` for the declaration titled title(step), declared when the channels `known` (every
    earlier declaration's among them) were all there: it names the title (the announcement), makes a channel
    (no other declaration is making one then), or is in an incident channel made since."""
    def concerns(call: Call) -> bool:
        if title(step) in str(call.args):
            return True
        channel = call.args.get("channel")
        if channel is None:
            return call.method == "conversations.create"
        return channel not in known and channel in fake.channels \
            and fake.channels[channel].name.startswith(CHANNEL_PREFIX)
    return lambda call: STEPS[step](call) and concerns(call)


@dataclass
class Restarted:
    """The fake Slack after the run: every declaration killed after its step, then finished by the next start."""

    fake: FakeSlack
    people: People


async def kill_after_each_step_and_restart(database_url: str, playbooks: Path) -> Restarted:
    fake = FakeSlack(bot_token="xoxb-test")
    await fake.start()
    people = add_people(fake)
    bot = Bot(fake, people, database_url, write_playbooks(playbooks, people))
    holds: list[Hold] = []
    try:
        await bot.start()
        for step in STEPS:
            holds.append(fake.hold(held_at(fake, step, known=set(fake.channels))))
            await bot.declare(fake, people, f"declare P1 {title(step)} | Card payments fail")
            try:
                await asyncio.wait_for(holds[-1].reached.wait(), timeout=20)
            except TimeoutError:
                raise AssertionError(f"the declaration never reached {step!r}:\n{bot.said()}") from None
        bot.kill()  # Slack did each declaration's step; the bot never heard back
        for held in holds:
            held.release.set()

        await bot.start()
        await fake.wait_for(lambda: all(declaration_set_up(fake, people, title(step)) for step in STEPS), timeout=30)
        await asyncio.sleep(1)  # a step repeated by mistake would show by now
    finally:
        for held in holds:
            held.release.set()
        bot.stop()
        await fake.stop()
    assert fake.violations == [], "calls Slack's API would reject"
    return Restarted(fake, people)


@pytest.fixture(scope="module")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path,
                 postgres_url: str | None) -> str:
    """The module's one database of each kind (tests/conftest.py parametrizes it), used by its one run."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("declaration_recovery") / "incidents.db"
        shutil.copyfile(migrated_sqlite, path)
        return f"sqlite+aiosqlite:///{path}"
    if postgres_url is None:
        pytest.skip("PostgreSQL is not reachable")
    asyncio.run(_empty_tables(postgres_url))
    return postgres_url


@pytest.fixture(scope="module")
def restarted(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Restarted:
    return asyncio.run(kill_after_each_step_and_restart(database_url, tmp_path_factory.mktemp("playbooks") / "p"))


@pytest.mark.parametrize("step", list(STEPS))
def test_a_declaration_killed_after_each_step_completes_once_restarted(step: str, restarted: Restarted) -> None:
    fake, people = restarted.fake, restarted.people
    assert len(incident_channels(fake)) == len(STEPS)
    assert len(fake.calls_to("conversations.create")) == len(STEPS)  # adopted after a restart, never made twice
    [channel] = [c for c in incident_channels(fake) if title(step) in fake.channels[c].topic]
    messages = fake.messages_in(channel)
    kickoffs = [m for m in messages if "Incident:" in m.text]
    assert len(kickoffs) == 1 and fake.channels[channel].pins == {kickoffs[0].ts}
    announcements = [m for m in fake.messages_in(people.incidents)
                     if "INCIDENT DECLARED" in m.text and title(step) in m.text]
    assert len(announcements) == 1 and f"<#{channel}>" in announcements[0].text
    assert people.alice in fake.channels[channel].members
