"""What reaches the app over HTTP: signatures, the declare modal, and the health check."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from sqlalchemy import select

from app.incidents.models import Incident, Role, Severity
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SlackDriver, sign

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
# slackapi/java-slack-sdk's json-logs sample (MIT, tests/samples/LICENSE-java-slack-sdk), vendored.
SAMPLE_SUBMISSION = Path(__file__).resolve().parent / "samples" / "app-backend" / "ViewSubmissionPayload.json"
TRIGGER = "13345224609.738474920.8088930838d88f008e0"


async def incidents(slack: SlackDriver) -> list[Incident]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident)))


def declare_form(fake: FakeSlack, people: People, response_url: str) -> bytes:
    form = {
        "token": "legacy", "team_id": fake.team_id, "team_domain": "acme", "channel_id": people.general,
        "channel_name": "general", "user_id": people.alice, "user_name": "alice", "command": "/incident",
        "text": "declare P0 Forged outage", "api_app_id": "A0001", "response_url": response_url,
        "trigger_id": TRIGGER,
    }
    return urlencode(form).encode()


# -- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: sign(body, secret="0" * 32), id="forged"),
    pytest.param(lambda body: {}, id="missing"),
    pytest.param(lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))}, id="timestamp-only"),
    pytest.param(lambda body: sign(body, timestamp=int(time.time()) - 6 * 60), id="stale"),
])
async def test_unsigned_or_stale_requests_are_refused_and_change_nothing(
        slack: SlackDriver, fake: FakeSlack, people: People, headers: Any) -> None:
    response_url = fake.new_response_url()
    body = declare_form(fake, people, response_url)

    response = await slack.post(body, "application/x-www-form-urlencoded", headers=headers(body))

    assert response.status_code == 401
    # A signed request afterwards is served, which shows the refused one left nothing behind.
    listed = await slack.command("list", user=people.alice, channel=people.general)
    assert "No open incidents" in await listed.text()
    assert await incidents(slack) == []
    assert fake.calls_to("conversations.create") == [] and fake.calls_to("chat.postMessage") == []
    assert fake.responses_to(response_url) == []


async def test_a_signature_from_the_future_is_refused_too(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    body = declare_form(fake, people, fake.new_response_url())

    response = await slack.post(body, "application/x-www-form-urlencoded",
                                headers=sign(body, timestamp=int(time.time()) + 6 * 60))

    assert response.status_code == 401
    assert await incidents(slack) == []


# -- the declare modal ----------------------------------------------------------------------------


async def open_modal(slack: SlackDriver, fake: FakeSlack, people: People) -> dict[str, Any]:
    reply = await slack.command("declare", user=people.alice, channel=people.general, trigger_id=TRIGGER)
    assert reply.status == 200
    await fake.wait_for(lambda: fake.views)
    [opened] = fake.views
    assert opened["method"] == "views.open" and opened["trigger_id"] == TRIGGER
    return fake.open_views[opened["view_id"]]


def submission(fake: FakeSlack, people: People, view: dict[str, Any], *, title: str, severity: str | None,
               impact: str = "", commander: str | None = None) -> dict[str, Any]:
    """A view_submission payload shaped like Slack's sample, answering the modal that was opened."""
    payload = json.loads(SAMPLE_SUBMISSION.read_text())
    payload.update(
        team={"id": fake.team_id, "domain": "acme"},
        user={"id": people.alice, "username": "alice", "name": "alice", "team_id": fake.team_id},
        api_app_id=fake.app_id, token="legacy", trigger_id="13345224609.738474920.submission",
    )
    payload.pop("function_data")
    payload.pop("interactivity")
    option = None if severity is None else {"text": {"type": "plain_text", "text": severity}, "value": severity}
    payload["view"] = {**payload["view"], **view, "state": {"values": {
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "severity": {"value": {"type": "static_select", "selected_option": option}},
        "impact": {"value": {"type": "plain_text_input", "value": impact}},
        "commander": {"value": {"type": "users_select", "selected_user": commander}},
    }}}
    return payload


async def test_declare_without_arguments_opens_the_modal_with_the_plans_severities(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    view = await open_modal(slack, fake, people)

    assert view["type"] == "modal" and view["callback_id"] == "declare_incident"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert {"title", "severity", "impact", "commander"} <= set(blocks)
    options = blocks["severity"]["element"]["options"]
    plan = yaml.safe_load((PLAYBOOKS / "severities.yml").read_text())
    assert [o["value"] for o in options] == list(plan)
    for option, (severity, entry) in zip(options, plan.items(), strict=True):
        assert option["text"]["text"].startswith(f"{severity} – {entry['name']}")
        assert option["description"]["text"] == entry["description"][:75]
    assert await incidents(slack) == []


async def test_submitting_the_modal_declares_the_incident(slack: SlackDriver, fake: FakeSlack,
                                                          people: People) -> None:
    view = await open_modal(slack, fake, people)

    response = await slack.interaction(submission(fake, people, view, title="  Payments   failing ", severity="P0",
                                                  impact="Nobody can pay", commander=people.bob))

    assert response.status_code == 200
    await fake.wait_for(lambda: (c := fake.channel_by_name("incident-20261125-1430")) is not None and c.pins)
    channel = fake.channel_by_name("incident-20261125-1430")
    assert channel is not None and {people.alice, people.bob} <= channel.members
    [kickoff] = fake.messages_in(channel.id)
    assert "Incident: Payments failing" in kickoff.text and "*Severity:* P0 – Critical" in kickoff.text
    assert "*Impact:* Nobody can pay" in kickoff.text and f"*IC:* <@{people.bob}>" in kickoff.text

    await fake.wait_for(lambda: fake.dms_to(people.alice))
    [told] = fake.dms_to(people.alice)
    assert f"<#{channel.id}>" in told.text and "Payments failing" in told.text
    [incident] = await incidents(slack)
    assert incident.severity is Severity.P0 and incident.declared_by == people.alice
    assert incident.role_holders()[Role.IC] == people.bob


async def test_a_modal_without_a_title_is_sent_back_with_the_field_marked(slack: SlackDriver, fake: FakeSlack,
                                                                          people: People) -> None:
    view = await open_modal(slack, fake, people)

    response = await slack.interaction(submission(fake, people, view, title="   ", severity="P1"))

    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"title"} and answer["errors"]["title"]
    assert await incidents(slack) == []
    assert fake.calls_to("conversations.create") == [] and fake.dms_to(people.alice) == []


# -- health ---------------------------------------------------------------------------------------


async def test_ready_reports_the_database(slack: SlackDriver) -> None:
    response = await slack.http.get("/ready")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["checks"]["database"] == {"ok": True, "open_incidents": 0}


async def test_bolt_tries_the_incident_command_before_any_other_listener(slack: SlackDriver, people: People) -> None:
    """Bolt hands a request to the first listener whose matchers accept it, building each one's arguments on
    the way: /incident, what a burst of declarations is made of, comes first (app/slack/bootstrap.py), not
    after some thirty buttons and forms, on every acknowledgement's path."""
    from slack_bolt import BoltResponse
    from slack_bolt.request.async_request import AsyncBoltRequest

    body = urlencode({"command": "/incident", "text": "declare P1 Checkout errors", "user_id": people.alice,
                      "channel_id": people.general, "team_id": "T0001",
                      "response_url": "https://hooks.slack.com/commands/T0001/1/x", "trigger_id": "1.2.3"})
    request = AsyncBoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded"})
    first = slack.runtime.slack_app._async_listeners[0]
    assert await first.async_matches(req=request, resp=BoltResponse(status=200))
