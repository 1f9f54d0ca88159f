"""Acting from the pinned kickoff: Post update, Change severity, Take a role and Resolve."""

from __future__ import annotations

from typing import Any

from app.incidents.models import Role, Severity
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver, eventually
from tests.test_review import declare, resolve, stored


def buttons(fake: FakeSlack, channel: str) -> dict[str, str]:
    [ts] = fake.channels[channel].pins
    kickoff = fake.channels[channel].message(ts)
    return {e["action_id"]: e["value"] for b in kickoff.blocks if b["type"] == "actions" for e in b["elements"]}


async def press(slack: SlackDriver, fake: FakeSlack, channel: str, action: str, user: str) -> dict[str, Any] | None:
    """Press a kickoff button; the form it opened, if any."""
    [ts] = fake.channels[channel].pins
    opened = len(fake.views)
    await slack.press(action, buttons(fake, channel).get(action, "1"), user=user, channel=channel, message_ts=ts)
    try:
        await fake.wait_for(lambda: len(fake.views) > opened, timeout=1)
    except AssertionError:
        return None
    return fake.views[-1]["view"]


async def submit(slack: SlackDriver, fake: FakeSlack, user: str, view: dict[str, Any],
                 values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    response = await slack.interaction({
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
        "view": {**view, "id": "V1", "state": {"values": values}},
    })
    assert response.status_code == 200
    return response.json() if response.content else {}


def chosen(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "static_select", "selected_option": {"value": value} if value else None}}


def typed(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value or None}}


async def test_the_kickoff_carries_every_action(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")

    # The declarer is its IC and acknowledged by declaring (playbooks/acknowledgement.yml): no Acknowledge button.
    assert list(buttons(fake, channel)) == ["post_update", "change_severity", "take_role", "resolve_incident"]


async def test_change_severity_from_the_kickoff(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    view = await press(slack, fake, channel, "change_severity", people.alice)
    assert view is not None and view["callback_id"] == "change_severity"

    assert await submit(slack, fake, people.alice, view, {"severity": chosen(None)}) == {
        "response_action": "errors",
        "errors": {"severity": "Choose a severity, or an incident type (it has a default)."}}
    assert await submit(slack, fake, people.alice, view, {"severity": chosen("P0")}) == {}

    async def raised() -> bool:
        incident, _ = await stored(slack, channel)
        return incident.severity is Severity.P0
    await eventually(raised)
    await fake.wait_for(lambda: "P0" in fake.channels[channel].topic)


async def test_take_a_role_from_the_kickoff(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    fake.channels[channel].members.add(people.bob)
    view = await press(slack, fake, channel, "take_role", people.bob)
    assert view is not None and [o["value"] for o in view["blocks"][1]["element"]["options"]] == [
        "ic", "tech", "comms", "security"]

    assert await submit(slack, fake, people.bob, view, {"role": chosen("tech")}) == {}

    async def taken() -> bool:
        incident, _ = await stored(slack, channel)
        return incident.holder(Role.TECH) == people.bob
    await eventually(taken)


async def test_resolve_from_the_kickoff_needs_both_answers(slack: SlackDriver, fake: FakeSlack,
                                                          people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    view = await press(slack, fake, channel, "resolve_incident", people.alice)
    assert view is not None

    refused = await submit(slack, fake, people.alice, view, {"root_cause": typed(""), "resolution": typed("  ")})
    assert refused["response_action"] == "errors" and set(refused["errors"]) == {"root_cause", "resolution"}
    await submit(slack, fake, people.alice, view,
                 {"root_cause": typed("Stuck index rebuild"), "resolution": typed("Restarted the indexer")})

    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
    incident, _ = await stored(slack, channel)
    assert incident.root_cause == "Stuck index rebuild" and incident.resolution == "Restarted the indexer"
    assert buttons(fake, channel) == {}  # the resolved kickoff has no buttons left


async def test_a_button_on_a_resolved_incident_says_so_privately(slack: SlackDriver, fake: FakeSlack,
                                                                 people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    [ts] = fake.channels[channel].pins
    await resolve(slack, fake, people, channel)

    for count, action in enumerate(("change_severity", "take_role", "resolve_incident", "post_update"), 1):
        opened = len(fake.views)
        await slack.press(action, "1", user=people.alice, channel=channel, message_ts=ts)
        await fake.wait_for(lambda: sum("was resolved" in r["payload"].get("text", "")
                                        for r in fake.responses) >= count)
        assert len(fake.views) == opened
    said = [r["payload"] for r in fake.responses if "was resolved" in r["payload"].get("text", "")]
    assert len(said) == 4 and all(p.get("response_type") == "ephemeral" for p in said)
