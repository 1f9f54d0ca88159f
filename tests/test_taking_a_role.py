"""Whoever takes a role themselves is said to have taken it, not to have been assigned it by themselves."""

from __future__ import annotations

from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver
from tests.test_lifecycle import declare


async def test_taking_a_role_yourself_says_you_took_it(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel, _ = await declare(slack, fake, people)
    fake.channels[channel.id].members.add(people.bob)

    await slack.command(f"role tech <@{people.bob}|bob>", user=people.bob, channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2)
    post = fake.messages_in(channel.id)[1]
    assert post.text == f":bust_in_silhouette: <@{people.bob}> took the role of *Technical Lead*."


async def test_a_role_given_by_someone_else_says_who_gave_it(slack: SlackDriver, fake: FakeSlack,
                                                             people: People) -> None:
    channel, _ = await declare(slack, fake, people)

    await slack.command(f"role tech <@{people.bob}|bob>", user=people.alice, channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2)
    post = fake.messages_in(channel.id)[1]
    assert post.text == (f":bust_in_silhouette: <@{people.bob}> is now *Technical Lead*, "
                         f"assigned by <@{people.alice}>.")
