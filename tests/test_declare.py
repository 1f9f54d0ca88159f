"""Declaring an incident: the channel, the people, the kickoff, the announcement."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.incidents.models import Incident, TimelineEvent
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver, eventually

pytestmark = pytest.mark.both_databases


async def declared_channel(fake: FakeSlack, name: str):  # type: ignore[no-untyped-def]
    """Wait until the channel exists and its kickoff is pinned, then return the channel."""
    await fake.wait_for(lambda: (c := fake.channel_by_name(name)) is not None and c.pins)
    return fake.channel_by_name(name)


async def test_declare_opens_channel_with_kickoff_and_announcement(slack: SlackDriver, fake: FakeSlack,
                                                                     people: People) -> None:
    reply = await slack.command("declare P1 Checkout errors above 5% | EU customers cannot pay",
                                user=people.alice, channel=people.general)

    assert reply.status == 200
    assert "Declaring" in reply.ack_text
    channel = await declared_channel(fake, "incident-20261125-1430")
    assert not channel.is_private
    assert people.alice in channel.members
    assert "P1" in channel.topic and "Investigating" in channel.topic and f"<@{people.alice}>" in channel.topic

    [kickoff] = fake.messages_in(channel.id)
    for line in ("Incident: Checkout errors above 5%", "*Severity:* P1 – High", "*Status:* Investigating",
                 "*Impact:* EU customers cannot pay", "*Started:* <!date^", f"*IC:* <@{people.alice}>"):
        assert line in kickoff.text
    assert kickoff.blocks and kickoff.blocks[0]["type"] == "section"
    assert channel.pins == {kickoff.ts}

    [announcement] = fake.messages_in(people.incidents)
    assert "INCIDENT DECLARED" in announcement.text
    assert f"<#{channel.id}>" in announcement.text
    assert "Checkout errors above 5%" in announcement.text

    told = await reply.text(1)
    assert f"<#{channel.id}>" in told and "Incident Commander" in told
    assert len(fake.calls) <= 8  # auth.test once per process, then at most 7 calls per incident


async def test_incident_is_stored_with_timeline(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    await slack.command(f"declare P2 Slow search ic:<@{people.bob}|bob>", user=people.alice, channel=people.general)
    channel = await declared_channel(fake, "incident-20261125-1430")
    assert {people.alice, people.bob} <= channel.members

    async def stored() -> Incident | None:
        async with slack.runtime.db.transaction() as session:
            return await session.scalar(select(Incident).where(Incident.channel_id.is_not(None)))

    await eventually(stored)
    async with slack.runtime.db.transaction() as session:
        incident = (await session.scalars(select(Incident))).one()
        events = list(await session.scalars(select(TimelineEvent).order_by(TimelineEvent.id)))
    assert incident.commander == people.bob
    assert incident.channel_id == channel.id
    assert [e.kind for e in events][:2] == ["declared", "channel_created"]
    assert all(e.at.tzinfo is not None for e in events)


@pytest.mark.parametrize("text, expected", [
    ("bogus", "is not an /incident command"),
    ("declare P7 Outage", "is not a severity"),
    ("declare P1", "needs a title"),
    ("declare P1 " + "x" * 201, "too long"),
    ("update fixed it works", "is not a status"),
    ("role boss <@U123>", "is not a role"),
    ("role ic bob", "is not a person"),
    ("resolve it was dns", "root cause and the resolution"),
    ("severity", "is not a severity"),
    ("list everything", "takes nothing after it"),
])
async def test_malformed_commands_get_a_private_answer_and_change_nothing(
        slack: SlackDriver, fake: FakeSlack, people: People, text: str, expected: str) -> None:
    reply = await slack.command(text, user=people.alice, channel=people.general)

    assert reply.status == 200
    assert expected in reply.ack_text
    assert reply.ack.get("response_type", "ephemeral") == "ephemeral"
    assert fake.calls_to("conversations.create") == []
    async with slack.runtime.db.transaction() as session:
        assert (await session.scalars(select(Incident))).all() == []
