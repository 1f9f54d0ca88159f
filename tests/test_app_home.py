"""The App Home tab: published on app_home_opened (once per event, whatever Slack's retries), showing the open
incidents (private ones only to their members), my incidents and roles, who is on call, my open action items
and a Declare button; within Block Kit's 100 blocks however many incidents are open."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from app.incidents import service
from app.incidents.models import Role, Severity
from app.reviews.action_items import ActionItemFields, add_action_item
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import ManualClock, SlackDriver
from tests.test_fake_slack import slack_error
from tests.test_review import declare


async def open_home(slack: SlackDriver, fake: FakeSlack, user: str, *, event_id: str | None = None,
                    retry: tuple[int, str] | None = None) -> None:
    dm = fake.open_dm([user]).id
    answer = await slack.event({"type": "app_home_opened", "user": user, "channel": dm, "tab": "home"},
                               event_id=event_id, retry=retry)
    assert answer.status_code == 200


def published_for(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    return [v["view"] for v in fake.views if v["method"] == "views.publish" and v.get("user_id") == user]


def home_drawing(slack: SlackDriver) -> bool:
    """A command's work is still under way (each listener runs as a task of its own after its answer,
    app/slack/acks.py), or a redrawing of the Home tabs it asked for (app/slack/home.py)."""
    return bool(slack.runtime.slack.acks.working) or any(
        getattr(task.get_coro(), "__qualname__", "").endswith("HomeTab._draw_until_current")
        for task in asyncio.all_tasks() if not task.done())


def texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


@pytest.mark.both_databases
async def test_home_shows_incidents_roles_on_call_and_action_items(slack: SlackDriver, fake: FakeSlack,
                                                                    people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    secret = await declare(slack, fake, people, "private P2 Leaked keys", number=2)
    await slack.command(f"role tech <@{people.bob}|bob>", user=people.alice, channel=channel)
    await slack.command(f"action add Canary config changes owner:<@{people.bob}|bob> priority:p1 due:2026-12-01",
                        user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("Canary" in m.text for m in fake.messages_in(channel)) or
                        any("Canary" in str(r["payload"]) for r in fake.responses))

    await fake.wait_for(lambda: not home_drawing(slack))  # the changes above are done, and redrew nobody's tab

    # Slack sends the event, retries it (not acknowledged in time, it thinks), and a copy arrives again.
    await open_home(slack, fake, people.bob, event_id="EvHOME0001")
    await open_home(slack, fake, people.bob, event_id="EvHOME0001", retry=(1, "http_timeout"))
    await open_home(slack, fake, people.bob, event_id="EvHOME0001")
    [view] = await fake.wait_for(lambda: published_for(fake, people.bob))
    await asyncio.sleep(0.2)
    assert len(published_for(fake, people.bob)) == 1

    shown = texts(view)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "*P1* Checkout errors" in shown and f"<#{channel}>" in shown and "Investigating" in shown
    assert f"IC <@{people.alice}>" in shown and "^{ago}|" in shown
    assert "Leaked keys" not in shown and secret not in shown  # bob is not in the private incident
    assert "Technical Lead" in shown  # his role
    assert f"primary <@{people.carol}>" in shown and f"backup <@{people.bob}>" in shown
    assert "Canary config changes" in shown and "due 2026-12-01" in shown

    # Alice declared both: she sees the private one, and both in her incidents.
    await open_home(slack, fake, people.alice)
    [mine] = await fake.wait_for(lambda: published_for(fake, people.alice))
    assert "Leaked keys" in texts(mine) and "Incident Commander" in texts(mine)

    # A change is drawn again at once for everyone who opened the tab lately.
    await slack.command("resolve Bad config | Reverted", user=people.alice, channel=channel)
    await fake.wait_for(lambda: len(published_for(fake, people.bob)) == len(published_for(fake, people.alice)) == 2)
    for user in (people.alice, people.bob):
        assert "Checkout errors" not in texts(published_for(fake, user)[-1]).split("My open action items")[0]
    assert "Leaked keys" in texts(published_for(fake, people.alice)[-1])
    assert "Leaked keys" not in texts(published_for(fake, people.bob)[-1])
    # A later opening is a new event: published again.
    await open_home(slack, fake, people.bob)
    await fake.wait_for(lambda: len(published_for(fake, people.bob)) == 3)
    # A declaration appears too, once its channel is set up.
    await declare(slack, fake, people, "P3 Typo on the pricing page", number=3)
    await fake.wait_for(lambda: "Typo on the pricing page" in texts(published_for(fake, people.bob)[-1]))
    # And an action item given to someone, or done.
    await slack.command(f"action add Rotate the pricing cache owner:<@{people.bob}|bob>", user=people.alice,
                        channel=channel)
    await fake.wait_for(lambda: "Rotate the pricing cache" in texts(published_for(fake, people.bob)[-1]))
    await slack.command("action done 1", user=people.alice, channel=channel)
    await fake.wait_for(lambda: "Canary config changes" not in texts(published_for(fake, people.bob)[-1]))


async def test_the_declare_button_opens_the_declare_form(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    await open_home(slack, fake, people.bob)
    [view] = await fake.wait_for(lambda: published_for(fake, people.bob))
    [button] = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]

    response = await slack.interaction({
        "type": "block_actions", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": people.bob, "name": "bob", "team_id": fake.team_id},
        "container": {"type": "view", "view_id": "V1"}, "trigger_id": "home-trigger", "view": view,
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b", "action_ts": "1"}],
    })

    assert response.status_code == 200
    [form] = await fake.wait_for(lambda: [v["view"] for v in fake.views if v["trigger_id"] == "home-trigger"])
    assert form["callback_id"] == "declare_incident"


async def test_more_than_a_hundred_incidents_are_summarised_within_the_block_limit(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    async with slack.runtime.db.transaction() as session:
        for number in range(105):
            incident = await service.declare_incident(
                session, title=f"Incident {number}", severity=Severity.P3, impact="", declared_by=people.alice,
                roles={Role.IC: people.alice}, now=clock.now() + timedelta(minutes=number))
            await add_action_item(session, incident, ActionItemFields(text=f"Follow up {number}", owner=people.alice),
                                  by=people.alice, rules=slack.runtime.policy.followup.action_items,
                                  now=clock.now())

    await open_home(slack, fake, people.alice)

    [view] = await fake.wait_for(lambda: published_for(fake, people.alice))
    shown = texts(view)
    assert len(view["blocks"]) <= 100
    assert "Open incidents (105)" in shown and "Incident 104" in shown  # newest first
    assert "and 65 more" in shown and "and 85 more" in shown  # incidents; roles and action items
    assert "My open action items (105)" in shown


async def test_the_fake_refuses_a_home_tab_of_more_than_100_blocks(slack: SlackDriver, people: People) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": str(n)}} for n in range(101)]

    refused = await slack_error(slack.runtime.client.views_publish(user_id=people.bob,
                                                                   view={"type": "home", "blocks": blocks}))

    assert refused == "invalid_arguments"
