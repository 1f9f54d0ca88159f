"""Joining an incident's channel: a private summary with status, severity, roles, last update, how to help."""

from __future__ import annotations

import asyncio

from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver
from tests.test_review import declare


async def joins(slack: SlackDriver, fake: FakeSlack, channel: str, user: str, event_id: str | None = None) -> None:
    fake.channels[channel].members.add(user)
    answer = await slack.event({"type": "member_joined_channel", "user": user, "channel": channel,
                                "channel_type": "C", "team": fake.team_id, "inviter": ""}, event_id=event_id)
    assert answer.status_code == 200


async def test_a_newcomer_gets_the_summary_privately_once(slack: SlackDriver, fake: FakeSlack,
                                                          people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await slack.command("update identified Bad config push | Rolling back", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel)))

    await joins(slack, fake, channel, people.carol, event_id="Ev0JOINED")
    await joins(slack, fake, channel, people.carol, event_id="Ev0JOINED")  # Slack's retry

    await fake.wait_for(lambda: [e for e in fake.ephemerals if e["user"] == people.carol])
    await asyncio.sleep(0.1)
    [summary] = [e for e in fake.ephemerals if e["user"] == people.carol]
    assert summary["channel"] == channel
    for words in ("Checkout errors", "*Severity:* P1", "*Status:* Identified", f"*IC:* <@{people.alice}>",
                  "Bad config push", "How to help"):
        assert words in summary["text"], words


async def test_joining_another_channel_or_the_bot_joining_says_nothing(slack: SlackDriver, fake: FakeSlack,
                                                                       people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    before = len(fake.ephemerals)

    await joins(slack, fake, people.general, people.carol)
    await joins(slack, fake, channel, fake.bot_user_id)
    await asyncio.sleep(0.2)

    assert len(fake.ephemerals) == before
