"""What people type, end to end: Slack's escaped entities (`<@U1|bob>`, `<#C1|general>`,
`<!subteam^S1|@oncall>`) stay whole through declare, update and resolve; control characters never reach
Slack; and topics and sections fit Slack's limits, counted in UTF-16 code units, without a broken entity."""

from __future__ import annotations

import json
import re

import pytest

from app.incidents.models import Status
from app.sandbox.fakeslack import Channel, FakeSlack
from app.slack.toolkit.messages import MAX_SECTION, escape
from app.slack.toolkit.summary import MAX_TOPIC
from app.slack.toolkit.text import ELLIPSIS, utf16_length
from tests.conftest import People
from tests.support import SlackDriver
from tests.test_lifecycle import announcement_of, declare, kickoff_of, stored_incident
from tests.test_requests import open_modal, submission

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What may legitimately hold `<`, `>` or `&` in text we send: whole entities.
ENTITY = re.compile(r"<[^<>]*>|&(?:amp|lt|gt);")


def entities(people: People) -> dict[str, str]:
    """Each kind of entity as Slack sends it in a slash command's text when should_escape is on."""
    return {"mention": f"<@{people.bob}|bob>", "channel": f"<#{people.general}|general>",
            "user group": "<!subteam^S0ONCALL|@oncall>"}


def no_broken_entity(text: str) -> bool:
    return not re.search(r"[<>&]", ENTITY.sub("", text))


def everything_sent(channel: Channel) -> list[str]:
    shown = [channel.topic]
    for message in channel.messages:
        shown += [message.text, json.dumps(message.blocks)]
    return shown


# -- entities stay whole --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mention", "channel", "user group"])
async def test_an_entity_in_the_title_and_impact_stays_whole(slack: SlackDriver, fake: FakeSlack, people: People,
                                                             kind: str) -> None:
    entity = entities(people)[kind]

    channel, reply = await declare(slack, fake, people, f"P2 Checkout down for {entity} | {entity} sees 5% of carts"
                                                        f" fail ic:<@{people.carol}|carol>")

    incident = await stored_incident(slack, channel.id)
    assert incident is not None
    assert incident.title == f"Checkout down for {entity}"
    assert incident.impact == f"{entity} sees 5% of carts fail"
    assert incident.commander == people.carol
    kickoff = kickoff_of(channel)
    # Shown escaped, as all people's text is (nobody is pinged by a title), but whole.
    assert f"Incident: Checkout down for {escape(entity)}*" in kickoff.text
    assert f"*Impact:* {escape(entity)} sees 5% of carts fail" in kickoff.text
    assert f"Checkout down for {escape(entity)}" in announcement_of(fake, people, channel).text
    assert channel.topic.endswith(f"| Checkout down for {escape(entity)}")
    assert f"Checkout down for {escape(entity)}" in reply.ack_text


async def test_entities_in_an_update_and_a_resolution_stay_whole(slack: SlackDriver, fake: FakeSlack,
                                                                 people: People) -> None:
    bob, general, oncall = entities(people).values()
    channel, _ = await declare(slack, fake, people, "P1 Checkout down")

    await slack.command(f"update identified Pool in {general} exhausted, ask {bob} | Paging {oncall} | 15 minutes",
                        user=people.alice, channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2)
    update = fake.messages_in(channel.id)[1]
    for line in (f"*Findings:* Pool in {escape(general)} exhausted, ask {escape(bob)}",
                 f"*Action:* Paging {escape(oncall)}", "*ETA:* 15 minutes"):
        assert line in update.text

    await slack.command(f"resolve Deploy by {bob} | Rolled back, told {oncall}", user=people.alice,
                        channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 3 and "Resolved" in channel.topic)
    resolved = fake.messages_in(channel.id)[2]
    assert f"*Root Cause:* Deploy by {escape(bob)}" in resolved.text
    assert f"*Resolution:* Rolled back, told {escape(oncall)}" in resolved.text
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.status is Status.RESOLVED
    assert incident.root_cause == f"Deploy by {bob}" and incident.resolution == f"Rolled back, told {oncall}"


# -- control characters ---------------------------------------------------------------------------


async def test_control_characters_typed_in_a_command_never_reach_slack(slack: SlackDriver, fake: FakeSlack,
                                                                       people: People) -> None:
    channel, reply = await declare(slack, fake, people, "P1 Check\x00out\x07 down\x1b[2J | Carts\x9b fail\x00")

    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.title == "Checkout down[2J" and incident.impact == "Carts fail"
    assert "Incident: Checkout down[2J" in kickoff_of(channel).text
    await slack.command("update monitoring Error rate\x07 falling\x1b", user=people.alice, channel=channel.id)
    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2)
    assert "*Findings:* Error rate falling" in fake.messages_in(channel.id)[1].text
    for shown in [*everything_sent(channel), reply.ack_text, await reply.text()]:
        assert not CONTROL.search(shown), shown


async def test_control_characters_typed_in_the_declare_form_never_reach_slack(slack: SlackDriver, fake: FakeSlack,
                                                                              people: People) -> None:
    view = await open_modal(slack, fake, people)

    await slack.interaction(submission(fake, people, view, title="Pay\x00ments\tfailing\x1b", severity="P0",
                                       impact="Nobody\x07 can pay\nin the EU\x9b"))

    await fake.wait_for(lambda: (c := fake.channel_by_name("incident-20261125-1430")) is not None and c.pins)
    channel = fake.channel_by_name("incident-20261125-1430")
    assert channel is not None
    incident = await stored_incident(slack, channel.id)
    assert incident is not None
    assert incident.title == "Payments failing" and incident.impact == "Nobody can pay\nin the EU"
    for shown in everything_sent(channel):
        assert not CONTROL.search(shown.replace("\n", "")), shown


# -- Slack's limits -------------------------------------------------------------------------------


async def test_a_long_title_full_of_markup_makes_a_topic_within_the_limit(slack: SlackDriver, fake: FakeSlack,
                                                                         people: People) -> None:
    title = ("Refunds & <!channel> fail " * 10)[:200].strip()

    channel, _ = await declare(slack, fake, people, f"P1 {title}")

    assert all(c.status == 200 for c in fake.calls_to("conversations.setTopic"))
    topic = channel.topic
    assert topic.startswith(f"P1 | Investigating | IC: <@{people.alice}> | Refunds &amp; @channel fail")
    assert utf16_length(topic) <= MAX_TOPIC and topic.endswith(ELLIPSIS)
    assert no_broken_entity(topic) and "<!channel>" not in topic


async def test_a_title_of_200_emoji_makes_a_topic_slack_accepts(slack: SlackDriver, fake: FakeSlack,
                                                                people: People) -> None:
    title = "🔥" * 200  # within the parser's 200 characters, but 400 UTF-16 code units

    channel, _ = await declare(slack, fake, people, f"P1 {title}")

    await fake.wait_for(lambda: channel.topic)
    assert [c.status for c in fake.calls_to("conversations.setTopic")] == [200]
    assert channel.topic.startswith("P1 | Investigating | IC:") and channel.topic.endswith("🔥" + ELLIPSIS)
    assert utf16_length(channel.topic) <= MAX_TOPIC
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.title == title


async def test_long_findings_make_sections_within_the_limit_without_a_broken_entity(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel, _ = await declare(slack, fake, people, "P1 Checkout down")

    await slack.command("update identified " + "Cache & <db> 💥 " * 400, user=people.alice, channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2 and kickoff_of(channel).edited)
    for message in (fake.messages_in(channel.id)[1], kickoff_of(channel)):
        texts = [message.text] + [b["text"]["text"] for b in message.blocks or [] if b["type"] == "section"]
        assert any(t.endswith(ELLIPSIS) for t in texts)
        for text in texts:
            assert utf16_length(text) <= MAX_SECTION and no_broken_entity(text)
