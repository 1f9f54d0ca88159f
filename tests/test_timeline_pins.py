"""A :pushpin: on a message in an incident channel puts it on the timeline, once, and in the review."""

from __future__ import annotations

import asyncio

from app.incidents.models import TimelineEvent
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver, eventually
from tests.test_review import declare, published, resolve, stored


def said(fake: FakeSlack, channel: str, user: str, text: str) -> str:
    """Someone writes in the channel; its ts."""
    fake.channels[channel].members.add(user)
    return fake.post(fake.channels[channel], user, text=text).ts


async def react(slack: SlackDriver, fake: FakeSlack, channel: str, ts: str, user: str, *, add: bool = True,
                reaction: str = "pushpin", event_id: str | None = None) -> None:
    fake.channels[channel].members.add(user)
    fake.react(channel, ts, user, reaction, add=add)
    answer = await slack.event({"type": "reaction_added" if add else "reaction_removed", "user": user,
                                "reaction": reaction, "item_user": user,
                                "item": {"type": "message", "channel": channel, "ts": ts}}, event_id=event_id)
    assert answer.status_code == 200


async def pinned(slack: SlackDriver, channel: str) -> list[TimelineEvent]:
    _, events = await stored(slack, channel)
    return [event for event in events if event.kind == "pinned"]


async def test_a_pinned_message_goes_on_the_timeline_once_however_many_pin_it(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    ts = said(fake, channel, people.bob, "Error rate drops after the rollback of <@U0000X|x> config")

    await react(slack, fake, channel, ts, people.bob)
    await react(slack, fake, channel, ts, people.carol)
    await react(slack, fake, channel, ts, people.carol, event_id="Ev00000002")  # Slack's retry of that one

    [event] = await eventually(lambda: pinned(slack, channel))
    assert event.actor == people.bob and event.source_ts == ts
    assert event.text.startswith("Error rate drops") and event.link and ts.replace(".", "") in event.link
    assert int(event.at.timestamp()) == int(float(ts))
    await fake.wait_for(lambda: any("Added to the timeline" in e["text"] for e in fake.ephemerals))
    await asyncio.sleep(0.1)
    assert len(await pinned(slack, channel)) == 1
    assert len([e for e in fake.ephemerals if "Added to the timeline" in e["text"]]) == 1


async def test_it_leaves_the_timeline_when_the_last_pushpin_goes(slack: SlackDriver, fake: FakeSlack,
                                                                 people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    ts = said(fake, channel, people.bob, "Rolled back")
    await react(slack, fake, channel, ts, people.bob)
    await react(slack, fake, channel, ts, people.carol)
    await eventually(lambda: pinned(slack, channel))

    await react(slack, fake, channel, ts, people.bob, add=False)
    await asyncio.sleep(0.2)
    assert len(await pinned(slack, channel)) == 1  # carol's is still on it

    await react(slack, fake, channel, ts, people.carol, add=False)
    await eventually(lambda: _none_pinned(slack, channel))


async def _none_pinned(slack: SlackDriver, channel: str) -> bool:
    return not await pinned(slack, channel)


async def test_other_reactions_and_other_channels_are_ignored(slack: SlackDriver, fake: FakeSlack,
                                                              people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    ts = said(fake, channel, people.bob, "lol")
    elsewhere = said(fake, people.general, people.bob, "Nothing to do with it")

    await react(slack, fake, channel, ts, people.bob, reaction="eyes")
    await react(slack, fake, people.general, elsewhere, people.bob)
    await asyncio.sleep(0.2)

    assert await pinned(slack, channel) == []
    assert not fake.calls_to("chat.getPermalink")


async def test_the_review_shows_pinned_messages_with_their_link(slack: SlackDriver, fake: FakeSlack,
                                                                people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    ts = said(fake, channel, people.bob, "Found it: the config push at 14:20")
    await react(slack, fake, channel, ts, people.carol)
    [event] = await eventually(lambda: pinned(slack, channel))
    await resolve(slack, fake, people, channel)

    document = await published(slack, fake, people, channel)

    assert (f"From the channel: Found it: the config push at 14:20 (by Bob Brown) ([message]({event.link}))"
            in document)
