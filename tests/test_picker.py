"""A command typed outside any incident channel offers the open incidents to run it for."""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from app.incidents.models import TimelineEvent
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver
from tests.test_lifecycle import declare


async def pick(slack: SlackDriver, fake: FakeSlack, button: dict, *, user: str, channel: str) -> str:
    """Press a picker button on the private answer, as Slack reports it; returns the press's response_url."""
    response_url = fake.new_response_url()
    payload = {
        "type": "block_actions", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
        "channel": {"id": channel}, "container": {"type": "message", "is_ephemeral": True, "channel_id": channel},
        "trigger_id": f"trigger-{time.monotonic_ns()}", "response_url": response_url,
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b",
                     "value": button["value"], "action_ts": f"{time.time():.6f}"}],
    }
    response = await slack.interaction(payload)
    assert response.status_code == 200
    return response_url


def buttons(answer: dict) -> list[dict]:
    return [e for block in answer.get("blocks", []) if block["type"] == "actions" for e in block["elements"]]


async def test_a_command_typed_elsewhere_runs_for_the_incident_picked(slack: SlackDriver, fake: FakeSlack,
                                                                        people: People) -> None:
    _channel, _ = await declare(slack, fake, people)
    second = await slack.command("declare P3 Search results are stale", user=people.bob, channel=people.general)
    await fake.wait_for(lambda: len([c for c in fake.channels.values() if c.name.startswith("incident-")]) == 2)

    reply = await slack.command("note Rolled back the 14:00 deploy", user=people.alice, channel=people.general)
    answer = await reply.response()
    assert "isn't one" in answer["text"]
    offered = buttons(answer)
    assert [json.loads(b["value"])["text"] for b in offered] == ["note Rolled back the 14:00 deploy"] * 2
    assert all(b["action_id"] == "run_for_incident" and len(b["text"]["text"]) <= 75 for b in offered)
    [for_first] = [b for b in offered if b["text"]["text"].startswith("#1 ")]

    response_url = await pick(slack, fake, for_first, user=people.alice, channel=people.general)
    await fake.wait_for(lambda: fake.responses_to(response_url))
    [answer] = fake.responses_to(response_url)
    assert "Added to the timeline of *Checkout errors above 5%*: Rolled back the 14:00 deploy" in answer["text"]
    async with slack.runtime.db.transaction() as session:
        notes = list(await session.scalars(select(TimelineEvent.incident_id).where(TimelineEvent.kind == "note")))
    assert notes == [1]  # the first incident's, not the second's
    assert second.status == 200


async def test_a_picked_command_that_no_longer_parses_is_explained(slack: SlackDriver, fake: FakeSlack,
                                                                   people: People) -> None:
    await declare(slack, fake, people)
    value = json.dumps({"incident": 1, "text": "severity P9"})
    response_url = await pick(slack, fake, {"action_id": "run_for_incident", "value": value},
                              user=people.alice, channel=people.general)
    await fake.wait_for(lambda: fake.responses_to(response_url))
    [answer] = fake.responses_to(response_url)
    assert "is not a severity" in answer["text"]


async def test_a_command_too_long_for_a_button_gets_the_numbers_only(slack: SlackDriver, fake: FakeSlack,
                                                                     people: People) -> None:
    await declare(slack, fake, people)
    reply = await slack.command("note " + "x" * 2100, user=people.alice, channel=people.general)
    answer = await reply.response()
    assert "isn't one" in answer["text"] and not buttons(answer)
