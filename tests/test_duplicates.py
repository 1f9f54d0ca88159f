"""Ten people see the same outage: the second declaration is offered the first incident's channel
before anything is created, and may still declare anyway."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from app.incidents.duplicates import likeness
from app.incidents.models import Incident
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, settled
from tests.test_clock import declare


@pytest.fixture
def shipped_duplicate_rules(playbooks_dir: Path) -> Path:
    path = playbooks_dir / "declaring.yml"
    rules = yaml.safe_load(path.read_text())
    rules["duplicates"].update(within="30m", similarity=0.6)
    path.write_text(yaml.safe_dump(rules))
    return playbooks_dir


@pytest.fixture
async def bot(settings: Settings, fake: FakeSlack, clock: ManualClock, shipped_duplicate_rules: Path):  # type: ignore[no-untyped-def]
    async with running_bot(settings, fake, clock) as driver:
        yield driver


async def incident_count(slack: SlackDriver) -> int:
    async with slack.runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Incident)) or 0)


def buttons(response: dict) -> dict[str, str]:
    return {e["action_id"]: e["value"] for b in response.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]}


def test_likeness_of_titles() -> None:
    assert likeness("Checkout errors for EU cards", "checkout errors, EU cards!") >= 0.9
    assert likeness("Checkout down", "Search is slow") < 0.6
    assert likeness("", "anything") == 0.0


async def test_a_look_alike_declaration_is_offered_the_open_incident_and_can_join_it(
        bot: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(bot, fake, people, "P1 Checkout errors for EU cards")
    clock.advance(minutes=2)
    reply = await bot.command("declare P1 checkout errors EU cards", user=people.bob, channel=people.general)
    offer = await reply.response()
    assert offer["response_type"] == "ephemeral" and f"<#{channel}>" in offer["text"]
    assert "2 minutes ago" in offer["text"] and f"<@{people.alice}>" in offer["text"]
    assert set(buttons(offer)) == {"join_incident", "declare_anyway"}
    assert await incident_count(bot) == 1  # nothing created

    await bot.press("join_incident", buttons(offer)["join_incident"], user=people.bob, channel=people.general,
                    message_ts="1.2")
    await fake.wait_for(lambda: people.bob in fake.channels[channel].members)
    assert await incident_count(bot) == 1


async def test_declare_anyway_makes_a_second_incident(bot: SlackDriver, fake: FakeSlack, people: People,
                                                     clock: ManualClock) -> None:
    await declare(bot, fake, people, "P1 Checkout errors for EU cards")
    reply = await bot.command("declare P2 Checkout errors for EU cards | only Amex", user=people.bob,
                              channel=people.general)
    offer = await reply.response()
    await bot.press("declare_anyway", buttons(offer)["declare_anyway"], user=people.bob, channel=people.general,
                    message_ts="1.2")
    await fake.wait_for(lambda: len([c for c in fake.channels.values() if c.name.startswith("incident-")]) == 2)
    await settled(bot.runtime)
    async with bot.runtime.db.transaction() as session:
        second = (await session.scalars(select(Incident).order_by(Incident.id.desc()))).first()
    assert second is not None and second.declared_by == people.bob and second.impact == "only Amex"
    assert second.severity.value == "P2" and second.channel_name and second.channel_name.endswith("-2")


async def test_different_or_older_incidents_are_not_offered(bot: SlackDriver, fake: FakeSlack, people: People,
                                                            clock: ManualClock) -> None:
    await declare(bot, fake, people, "P1 Checkout errors for EU cards")
    await declare(bot, fake, people, "P2 Search is slow", user=people.bob, number=2)
    clock.advance(minutes=31)
    await declare(bot, fake, people, "P1 Checkout errors for EU cards", user=people.carol, number=3)
    assert await incident_count(bot) == 3


async def test_the_question_takes_the_place_of_declaring(bot: SlackDriver, fake: FakeSlack, people: People,
                                                          clock: ManualClock) -> None:
    # Whether it looks like an open incident is known after the acknowledgement: the question replaces it.
    await declare(bot, fake, people, "P1 Checkout errors for EU cards")
    reply = await bot.command("declare P1 checkout errors EU cards", user=people.bob, channel=people.general)
    offer = await reply.response()

    assert reply.ack_text.startswith(":hourglass_flowing_sand: Declaring")
    assert offer["replace_original"] is True and offer["response_type"] == "ephemeral"
    assert "Join it, or declare" in offer["text"] and set(buttons(offer)) == {"join_incident", "declare_anyway"}
    await settled(bot.runtime)
    assert len(reply.responses()) == 1  # the question alone: no "Declared", nothing else
