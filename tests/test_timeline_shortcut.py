"""The message shortcut "Add to incident timeline": in an incident's channel it adds the message at once (the
same line a :pushpin: makes, once between them); elsewhere it asks which open incident, private ones listed
only to their members. The line is in the post-incident review."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver
from tests.test_review import declare, published, resolve
from tests.test_timeline_pins import pinned, react, said


async def use_shortcut(slack: SlackDriver, fake: FakeSlack, *, user: str, channel: str, ts: str,
                       trigger_id: str = "shortcut-trigger-1") -> tuple[httpx.Response, str]:
    """The message shortcut as Slack sends it (message_action); the response_url it carries."""
    message = fake.channels[channel].message(ts)
    assert message is not None
    response_url = fake.new_response_url()
    payload: dict[str, Any] = {
        "type": "message_action", "token": "legacy", "action_ts": f"{time.time():.6f}",
        "team": {"id": fake.team_id, "domain": "acme"},
        "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
        "channel": {"id": channel, "name": fake.channels[channel].name}, "is_enterprise_install": False,
        "enterprise": None, "callback_id": "add_to_timeline", "trigger_id": trigger_id,
        "response_url": response_url, "message_ts": ts,
        "message": {"type": "message", "user": message.user, "text": message.text, "ts": ts, "team": fake.team_id},
    }
    return await slack.interaction(payload), response_url


async def pick(slack: SlackDriver, fake: FakeSlack, view: dict[str, Any], user: str,
               incident_id: str | None) -> dict[str, Any]:
    option = {"selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": incident_id}} \
        if incident_id else {"selected_option": None}
    response = await slack.interaction({
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
        "view": {**view, "id": "V1", "state": {"values": {"incident": {"value": {"type": "static_select",
                                                                                 **option}}}}},
    })
    assert response.status_code == 200
    return response.json() if response.content else {}


def answers(fake: FakeSlack, response_url: str) -> list[str]:
    return [str(r.get("text", "")) for r in fake.responses_to(response_url)]


async def test_in_an_incident_channel_the_message_goes_on_the_timeline_at_once_and_once(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    ts = said(fake, channel, people.bob, "Error rate dropped after the rollback")

    response, url = await use_shortcut(slack, fake, user=people.carol, channel=channel, ts=ts)
    assert response.status_code == 200
    [answer] = await fake.wait_for(lambda: answers(fake, url))
    assert "Added to the timeline of *Checkout errors*" in answer and f"<@{people.bob}>" in answer
    [line] = await pinned(slack, channel)
    assert (line.actor, line.text, line.source_ts) == (people.bob, "Error rate dropped after the rollback", ts)
    assert line.link and ts.replace(".", "") in line.link

    # Again, and a :pushpin: on it too: still one line.
    _, again = await use_shortcut(slack, fake, user=people.alice, channel=channel, ts=ts, trigger_id="t-2")
    assert "already on the timeline" in (await fake.wait_for(lambda: answers(fake, again)))[0]
    await react(slack, fake, channel, ts, people.bob)
    await asyncio.sleep(0.1)
    assert len(await pinned(slack, channel)) == 1
    assert fake.views == []  # no form: the channel said which incident

    # It is in the review, with its link.
    await resolve(slack, fake, people, channel)
    document = await published(slack, fake, people, channel)
    assert "Error rate dropped after the rollback" in document


async def test_elsewhere_it_asks_which_open_incident_listing_private_ones_to_their_members(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    public = await declare(slack, fake, people, "P2 Search is slow")
    private = await declare(slack, fake, people, "private P1 Leaked keys", number=2)
    ts = said(fake, people.general, people.carol, "Seeing 500s from search in eu-west")

    # Bob is not in the private incident: he is offered the public one alone.
    calls_before = len(fake.calls)
    await use_shortcut(slack, fake, user=people.bob, channel=people.general, ts=ts, trigger_id="bob-trigger")
    bob_view = (await fake.wait_for(lambda: [v["view"] for v in fake.views if v["trigger_id"] == "bob-trigger"]))[0]
    # The form opens within the trigger's 3 seconds: the message's link is asked for once an incident is chosen.
    assert [c.method for c in fake.calls[calls_before:]] == ["conversations.members", "views.open"]
    bob_options = [o["text"]["text"] for o in bob_view["blocks"][1]["element"]["options"]]
    assert any("Search is slow" in o for o in bob_options) and not any("Leaked keys" in o for o in bob_options)
    # Alice declared both.
    _, alice_url = await use_shortcut(slack, fake, user=people.alice, channel=people.general, ts=ts,
                                      trigger_id="alice-trigger")
    view = (await fake.wait_for(lambda: [v["view"] for v in fake.views if v["trigger_id"] == "alice-trigger"]))[0]
    options = {o["text"]["text"]: o["value"] for o in view["blocks"][1]["element"]["options"]}
    assert any("Leaked keys" in o for o in options) and any("Search is slow" in o for o in options)

    assert (await pick(slack, fake, view, people.alice, None))["response_action"] == "errors"
    chosen = next(value for text, value in options.items() if "Leaked keys" in text)
    assert await pick(slack, fake, view, people.alice, chosen) == {}

    [answer] = await fake.wait_for(lambda: answers(fake, alice_url))
    assert "Added to the timeline of *Leaked keys*" in answer
    [line] = await pinned(slack, private)
    assert (line.actor, line.text, line.source_ts) == (people.carol, "Seeing 500s from search in eu-west",
                                                       f"{people.general}/{ts}")
    assert await pinned(slack, public) == []

    # Bob forging the private incident's number in the form learns nothing about it.
    _, bob_url = await use_shortcut(slack, fake, user=people.bob, channel=people.general, ts=ts, trigger_id="b2")
    await fake.wait_for(lambda: any(v["trigger_id"] == "b2" for v in fake.views))
    forged = {**bob_view, "private_metadata": next(v["view"] for v in fake.views
                                                   if v["trigger_id"] == "b2")["private_metadata"]}
    await pick(slack, fake, forged, people.bob, chosen)
    [refused] = await fake.wait_for(lambda: answers(fake, bob_url))
    assert "Leaked keys" not in refused and f"#{chosen}" in refused
    assert len(await pinned(slack, private)) == 1


async def test_with_no_open_incident_it_says_so(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    ts = said(fake, people.general, people.carol, "Is checkout down?")

    _, url = await use_shortcut(slack, fake, user=people.bob, channel=people.general, ts=ts)

    [answer] = await fake.wait_for(lambda: answers(fake, url))
    assert "no open incident" in answer
    assert fake.views == []


def test_the_form_carries_a_message_within_slacks_metadata_limit_however_its_text_escapes() -> None:
    from app.slack.timeline.pins import METADATA_LIMIT, ChosenMessage

    heavy = ChosenMessage("C1", "1700000000.000100", "U1", '"\\\n' * 2000, "https://acme.slack.com/archives/C1/p1")
    metadata = heavy.as_metadata("https://hooks.slack.com/actions/T1/1/" + "x" * 100)
    assert len(metadata) <= METADATA_LIMIT
    carried, response_url = ChosenMessage.from_metadata(metadata)
    assert carried.ts == heavy.ts and heavy.text.startswith(carried.text.rstrip("…")) and response_url
