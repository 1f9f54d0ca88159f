"""The person who acted is resolved once per request (app/slack/toolkit/who_acted.py), and answered where the
surface they used answers: a form by what it carries (toolkit/forms.py FormMetadata), a request without a
response_url by direct message; also when what failed is no feature's to answer (Bolt's error handlers)."""

from __future__ import annotations

import json

import pytest
from slack_bolt.async_app import AsyncAck

from app.sandbox.fakeslack import FakeSlack
from app.slack.toolkit.forms import FormMetadata, form_metadata
from tests.conftest import People
from tests.support import SlackDriver
from tests.test_answers import UNEXPECTED, Answers

NOT_HERE = "This command works inside an incident's channel"


@pytest.mark.parametrize(("metadata", "expected"), [
    ("C123", FormMetadata("C123")),  # a form that keeps only its channel, or one opened before the convention
    ("", FormMetadata(None)),
    (form_metadata(channel="C123", draft=4), FormMetadata("C123")),
    (form_metadata(channel="C123", by_dm=True), FormMetadata("C123", by_dm=True)),
    (form_metadata(channel="C123", response_url="https://hooks.slack.com/x", by_dm=True),
     FormMetadata("C123", "https://hooks.slack.com/x", by_dm=True)),
    ('{"channel": 7, "response_url": ["x"], "answer": "DM"}', FormMetadata(None)),
    ("{not json", FormMetadata(None)),
    ('{"channel": "C1"', FormMetadata(None)),
    (None, FormMetadata(None)),
    (17, FormMetadata(None)),
])
def test_what_a_form_carries_is_read_whatever_its_shape(metadata: object, expected: FormMetadata) -> None:
    assert FormMetadata.read(metadata) == expected


def test_a_form_keeps_its_own_keys_beside_the_convention() -> None:
    assert json.loads(form_metadata(channel=None, draft=4, seen=None)) == {"channel": None, "draft": 4, "seen": None}


async def submit_update(slack: SlackDriver, user: str, metadata: str) -> None:
    response = await slack.interaction({
        "type": "view_submission", "team": {"id": slack.fake.team_id}, "api_app_id": "A0001",
        "user": {"id": user, "name": "someone", "team_id": slack.fake.team_id},
        "trigger_id": "13345224609.738474920.submit",
        "view": {"id": "V0001", "type": "modal", "callback_id": "post_status_update", "private_metadata": metadata,
                 "state": {"values": {
                     "status": {"value": {"type": "static_select", "selected_option": {"value": "identified"}}},
                     "findings": {"value": {"type": "plain_text_input", "value": "Pool exhausted"}}}}},
    })
    assert response.status_code == 200 and not response.content.strip()


@pytest.mark.parametrize(("carried", "in_channel"), [
    ("channel", True),
    ("plain", True),
    ("dm", False),
    ("none", False),
])
async def test_a_form_s_submitter_is_answered_where_the_form_says(slack: SlackDriver, fake: FakeSlack, people: People,
                                                                  carried: str, in_channel: bool) -> None:
    # The update form, submitted from a channel that is no incident's: refused, privately, exactly once.
    metadata = {"channel": form_metadata(channel=people.general), "plain": people.general,
                "dm": form_metadata(channel=people.general, by_dm=True), "none": form_metadata(channel=None)}[carried]
    answers = Answers(fake, people.alice)
    ephemerals, dms = len(fake.ephemerals), len(fake.dms_to(people.alice))

    await submit_update(slack, people.alice, metadata)

    [answer] = await answers.settled()
    assert NOT_HERE in answer and UNEXPECTED not in answer
    landed_in = [e["channel"] for e in fake.ephemerals[ephemerals:]]
    assert landed_in == ([people.general] if in_channel else [])
    assert len(fake.dms_to(people.alice)) - dms == (0 if in_channel else 1)


async def test_a_button_without_a_response_url_is_answered_by_direct_message(slack: SlackDriver, fake: FakeSlack,
                                                                            people: People) -> None:
    # A button on the Home tab (no response_url, no channel) that nothing handles any more.
    answers = Answers(fake, people.bob)

    response = await slack.interaction({
        "type": "block_actions", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": people.bob, "name": "bob", "team_id": fake.team_id},
        "container": {"type": "view", "view_id": "V1"}, "trigger_id": "home-trigger",
        "actions": [{"type": "button", "action_id": "from_an_old_home_tab", "block_id": "b", "action_ts": "1"}],
    })

    assert response.status_code == 200
    [answer] = await answers.settled()
    assert "not one I can act on" in answer and fake.dms_to(people.bob)


# -- what escapes every feature: Bolt's error handlers (app/slack/app.py) answer the same actor ----------------


def failing_form(slack: SlackDriver, *, acknowledged: bool) -> None:
    """A form whose listener fails unexpectedly, before acknowledging (Bolt's error handler answers) or after
    (the acknowledgements hand it on); registered as the features register theirs, ahead of the fallbacks."""
    app = slack.runtime.slack_app

    async def fails(ack: AsyncAck) -> None:
        if acknowledged:
            await ack()
        raise RuntimeError("a listener's own bug")

    app.view("breaks_on_purpose")(slack.runtime.slack.acks.first(fails) if acknowledged else fails)
    app._async_listeners.insert(0, app._async_listeners.pop())  # Bolt hands a form to the first that matches


def unexpected_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Unexpected error (ref")]


@pytest.mark.parametrize("acknowledged", [False, True], ids=["before the ack", "after the ack"])
async def test_a_failure_no_feature_answered_reaches_the_actor_where_the_form_says(
        slack: SlackDriver, fake: FakeSlack, people: People, caplog: pytest.LogCaptureFixture,
        acknowledged: bool) -> None:
    failing_form(slack, acknowledged=acknowledged)
    answers = Answers(fake, people.alice)
    ephemerals, dms = len(fake.ephemerals), len(fake.dms_to(people.alice))

    response = await slack.interaction({
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": fake.app_id,
        "user": slack.user(people.alice), "trigger_id": slack.new_trigger_id(),
        "view": {"id": "V0BROKEN", "type": "modal", "callback_id": "breaks_on_purpose",
                 "private_metadata": form_metadata(channel=people.general), "state": {"values": {}}}})

    assert response.status_code == 200
    [answer] = await answers.settled()
    assert UNEXPECTED in answer
    # As the form says (its channel, ephemeral), the way every listener answers its actor; not by DM.
    assert [e["channel"] for e in fake.ephemerals[ephemerals:]] == [people.general]
    assert len(fake.dms_to(people.alice)) == dms
    # Logged with who and where: the form's channel, which only the resolved actor knows (the body has none).
    [logged] = unexpected_errors(caplog)
    assert logged.endswith(f"for {people.alice} in {people.general}")


async def test_a_failure_before_the_actor_is_resolved_is_answered_from_the_request(
        slack: SlackDriver, fake: FakeSlack, people: People, caplog: pytest.LogCaptureFixture) -> None:
    # Slack unreachable on the bot's first request: Bolt's own authorization (auth.test, before any middleware
    # of ours) fails, so no actor was resolved; the command is answered in its acknowledgement all the same.
    await fake.stop()

    reply = await slack.command("status", user=people.alice, channel=people.general)

    assert reply.status == 200 and UNEXPECTED in reply.ack_text
    [logged] = unexpected_errors(caplog)
    reference = logged.split("(ref ", 1)[1].split(")", 1)[0]
    assert f"`{reference}`" in reply.ack_text
    assert logged.endswith(f"for {people.alice} in {people.general}")
