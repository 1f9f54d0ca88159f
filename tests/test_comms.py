"""Stakeholder communications: `/incident comms` drafts the plan's templates from the incident's data,
Edit changes a draft, and only the Communications Lead or the IC can approve what goes out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from app.comms.models import Audience, CommsDraft, DraftStatus, Phase
from app.incidents.models import Incident, TimelineEvent
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Message
from tests.conftest import People
from tests.support import ManualClock, SlackDriver, eventually, settled


async def declare(slack: SlackDriver, people: People, text: str, *, user: str | None = None) -> str:
    """Declare from #general; the new incident channel's id once its announcement is out."""
    async with slack.runtime.db.transaction() as session:
        before = await session.scalar(select(func.max(Incident.id))) or 0
    await slack.command(f"declare {text}", user=user or people.alice, channel=people.general)

    async def ready() -> str | None:
        async with slack.runtime.db.transaction() as session:
            incident = await session.scalar(select(Incident).where(Incident.id > before))
        return incident.channel_id if incident and incident.announcement_ts else None

    channel = await eventually(ready)
    await settled(slack.runtime)
    return channel


def drafts_in(fake: FakeSlack, channel: str) -> list[Message]:
    return [m for m in fake.messages_in(channel)
            if m.text.startswith((":memo: *Draft", ":white_check_mark: *Approved"))]


def buttons(message: Message) -> dict[str, str]:
    """The message's buttons: action_id -> value."""
    return {e["action_id"]: e["value"] for b in message.blocks or [] if b["type"] == "actions" for e in b["elements"]}


async def draft(slack: SlackDriver, fake: FakeSlack, channel: str, audience: str, *, user: str) -> Message:
    """Type `/incident comms <audience>` in the incident channel; the draft it posts there."""
    before = len(drafts_in(fake, channel))
    await slack.command(f"comms {audience}", user=user, channel=channel)
    await fake.wait_for(lambda: len(drafts_in(fake, channel)) > before)
    message = drafts_in(fake, channel)[-1]

    async def stored() -> bool:
        async with slack.runtime.db.transaction() as session:
            return await session.scalar(select(CommsDraft.id).where(CommsDraft.message_ts == message.ts)) is not None

    await eventually(stored)
    return message


async def stored_drafts(slack: SlackDriver) -> list[CommsDraft]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(CommsDraft).order_by(CommsDraft.id)))


async def stored_draft(slack: SlackDriver, message: Message) -> CommsDraft:
    async with slack.runtime.db.transaction() as session:
        return (await session.scalars(select(CommsDraft).where(CommsDraft.message_ts == message.ts))).one()


async def approve(slack: SlackDriver, fake: FakeSlack, message: Message, *, user: str,
                  value: str | None = None) -> None:
    """Press Approve on the draft: the button as shown now, or as it was (`value`); once the buttons are gone,
    as a stale Slack client still shows them."""
    stored = await stored_draft(slack, message)
    value = value or buttons(message).get("comms_approve") or f"{stored.id}:{stored.version}"
    response = await slack.press("comms_approve", value, user=user, channel=message.channel, message_ts=message.ts)
    assert response.status_code == 200


async def approved(slack: SlackDriver, message: Message) -> CommsDraft:
    async def check() -> CommsDraft | None:
        stored = await stored_draft(slack, message)
        return stored if stored.is_approved else None

    return await eventually(check)


async def timeline(slack: SlackDriver, kind: str) -> list[TimelineEvent]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == kind)
                                          .order_by(TimelineEvent.id)))


async def update(slack: SlackDriver, fake: FakeSlack, channel: str, text: str, *, user: str) -> None:
    await slack.command(f"update {text}", user=user, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text and not m.text.startswith(":memo:")
                                    for m in fake.messages_in(channel)))


async def resolve(slack: SlackDriver, fake: FakeSlack, channel: str, text: str, *, user: str) -> None:
    await slack.command(f"resolve {text}", user=user, channel=channel)
    await fake.wait_for(lambda: any(m.text.startswith(":white_check_mark: *INCIDENT RESOLVED")
                                    for m in fake.messages_in(channel)))


# -- drafting each template with the incident's data ----------------------------------------------

@pytest.mark.both_databases
async def test_internal_messages_follow_the_incident_from_start_to_resolution(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, "P1 Checkout errors | Card payments fail for 20% of users")

    start = await draft(slack, fake, channel, "internal", user=people.bob)
    assert "*INCIDENT DECLARED*" in start.text and "*Title:* Checkout errors" in start.text
    assert "*Impact:* Card payments fail for 20% of users" in start.text
    assert f"*IC:* <@{people.alice}>" in start.text and f"*Channel:* <#{channel}>" in start.text
    assert set(buttons(start)) == {"comms_edit", "comms_approve"}

    await update(slack, fake, channel, "identified Bad deploy 1234 | Rolling back | 10 minutes", user=people.alice)
    progress = await draft(slack, fake, channel, "internal", user=people.bob)
    assert "*INCIDENT UPDATE: Checkout errors*" in progress.text and "*Status:* Identified" in progress.text
    assert "*Findings:* Bad deploy 1234" in progress.text and "*Action:* Rolling back" in progress.text
    assert "*ETA:* 10 minutes" in progress.text and "Next update in 30 minutes" in progress.text

    clock.advance(minutes=45)
    await resolve(slack, fake, channel, "Connection pool exhausted | Raised the pool to 50", user=people.alice)
    resolution = await draft(slack, fake, channel, "internal", user=people.bob)
    assert "*INCIDENT RESOLVED: Checkout errors*" in resolution.text and "*Duration:* 45 minutes" in resolution.text
    assert "*Root Cause:* Connection pool exhausted" in resolution.text
    assert "*Resolution:* Raised the pool to 50" in resolution.text

    stored = await stored_drafts(slack)
    assert [(d.audience, d.phase, d.status, d.created_by) for d in stored] == [
        (Audience.INTERNAL, phase, DraftStatus.DRAFT, people.bob)
        for phase in (Phase.START, Phase.UPDATE, Phase.RESOLUTION)]


async def test_customer_emails_are_the_notification_then_the_resolution_in_utc(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, "P0 Complete API outage | All API endpoints returning 503")

    notification = await draft(slack, fake, channel, "email", user=people.alice)
    [stored] = await stored_drafts(slack)
    assert stored.phase is Phase.NOTIFICATION
    assert stored.subject == "Service Disruption - AgentGuard API: Complete API outage"
    assert "Dear AgentGuard Customer," in stored.body
    assert "Impact: All API endpoints returning 503" in stored.body
    assert "Started: November 25, 2026 at 14:30 UTC" in stored.body and "Status: Investigating" in stored.body
    assert "every 15 minutes" in stored.body and "<!date" not in stored.body
    assert "*Subject:* Service Disruption - AgentGuard API: Complete API outage" in notification.text

    clock.advance(minutes=45)
    await resolve(slack, fake, channel, "DB pool exhausted | Increased pool capacity", user=people.alice)
    await draft(slack, fake, channel, "e-mail", user=people.alice)
    resolution = (await stored_drafts(slack))[-1]
    assert resolution.phase is Phase.RESOLUTION
    assert resolution.subject == "Resolved - Service Disruption - AgentGuard API: Complete API outage"
    assert "Duration: 45 minutes (14:30 - 15:15 UTC, November 25, 2026)" in resolution.body
    assert "Root Cause: DB pool exhausted" in resolution.body
    assert "Resolution: Increased pool capacity" in resolution.body


async def test_status_page_updates_follow_the_incident_status(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, "P1 Search is down | Search returns errors")
    await draft(slack, fake, channel, "statuspage", user=people.alice)
    await update(slack, fake, channel, "identified The search index is corrupt. | Rebuilding it", user=people.alice)
    identified = await draft(slack, fake, channel, "status-page", user=people.alice)
    await slack.command("update monitoring Index rebuilt", user=people.alice, channel=channel)
    await eventually(lambda: _status_is(slack, "monitoring"))
    await draft(slack, fake, channel, "statuspage", user=people.alice)
    await resolve(slack, fake, channel, "Corrupt index | Rebuilt it", user=people.alice)
    await draft(slack, fake, channel, "statuspage", user=people.alice)

    stored = await stored_drafts(slack)
    assert [d.phase for d in stored] == [Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.MONITORING, Phase.RESOLVED]
    assert stored[0].body.startswith("We are investigating an issue: Search is down.")
    assert "Impact: Search returns errors" in stored[0].body
    assert stored[1].body == "We have identified the issue: The search index is corrupt. We are implementing a fix."
    assert stored[2].body.startswith("A fix has been deployed and we are monitoring the situation.")
    assert stored[3].body.startswith("The incident has been resolved. All services are operating normally.")
    assert ":mag_right: Identified" in identified.text and stored[1].body in identified.text
    assert all(d.subject is None for d in stored)


async def _status_is(slack: SlackDriver, status: str) -> bool:
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident))
    return incident is not None and incident.status.value == status


# -- approval ------------------------------------------------------------------------------------

async def test_nothing_goes_out_before_approval(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, people, "P1 Checkout errors")
    for audience in ("internal", "email", "statuspage"):
        await draft(slack, fake, channel, audience, user=people.alice)

    assert all(d.status is DraftStatus.DRAFT for d in await stored_drafts(slack))
    assert [m for m in fake.messages_in(people.incidents) if m.thread_ts] == []
    assert not any("approved for sending" in m.text for m in fake.messages_in(channel))
    assert (await slack.http.get("/status.json")).json()["incidents"] == []
    assert await timeline(slack, "comms_approved") == []


async def test_approval_by_someone_who_is_neither_comms_lead_nor_ic_is_refused(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, people, f"P1 Checkout errors comms:<@{people.bob}|bob>")
    message = await draft(slack, fake, channel, "statuspage", user=people.carol)

    await approve(slack, fake, message, user=people.carol)

    refusal = await fake.wait_for(lambda: [r["payload"] for r in fake.responses
                                           if "can approve this draft" in r["payload"].get("text", "")])
    assert refusal[0]["response_type"] == "ephemeral"
    assert f"<@{people.bob}>" in refusal[0]["text"] and f"<@{people.alice}>" in refusal[0]["text"]
    assert (await stored_draft(slack, message)).status is DraftStatus.DRAFT
    assert set(buttons(fake.channels[channel].message(message.ts))) == {"comms_edit", "comms_approve"}
    assert (await slack.http.get("/status.json")).json()["incidents"] == []
    assert await timeline(slack, "comms_approved") == []


async def test_the_ics_approval_posts_the_internal_message_under_the_announcement(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, "P1 Checkout errors")
    message = await draft(slack, fake, channel, "internal", user=people.bob)
    clock.advance(minutes=3)

    await approve(slack, fake, message, user=people.alice)

    stored = await approved(slack, message)
    assert stored.approved_by == people.alice and stored.approved_at == clock.now()
    [announcement] = [m for m in fake.messages_in(people.incidents) if not m.thread_ts]
    reply = await fake.wait_for(lambda: [m for m in fake.messages_in(people.incidents) if m.thread_ts])
    assert reply[0].thread_ts == announcement.ts and "*INCIDENT DECLARED*" in reply[0].text
    shown = await fake.wait_for(lambda: fake.channels[channel].message(message.ts).edited
                                and fake.channels[channel].message(message.ts))
    assert shown.text.startswith(":white_check_mark: *Approved internal message*") and buttons(shown) == {}
    assert f"Approved by <@{people.alice}>" in shown.text
    [event] = await timeline(slack, "comms_approved")
    assert event.actor == people.alice and event.at == clock.now()
    assert event.text.startswith("Internal start message approved: ")


async def test_the_comms_leads_approval_posts_the_email_for_sending_and_keeps_it_on_the_timeline(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, people, f"P0 Complete API outage comms:<@{people.bob}|bob>")
    message = await draft(slack, fake, channel, "email", user=people.carol)

    await approve(slack, fake, message, user=people.bob)

    await approved(slack, message)
    final = await fake.wait_for(lambda: [m for m in fake.messages_in(channel) if "approved for sending" in m.text])
    assert f"by <@{people.bob}>" in final[0].text
    assert "*Subject:* Service Disruption - AgentGuard API: Complete API outage" in final[0].text
    assert "Dear AgentGuard Customer," in final[0].text
    [event] = await timeline(slack, "comms_approved")
    assert event.actor == people.bob
    assert "Subject: Service Disruption - AgentGuard API: Complete API outage" in event.text
    assert "Dear AgentGuard Customer," in event.text


async def test_an_approved_draft_is_not_approved_or_edited_again(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, people, "P1 Checkout errors")
    message = await draft(slack, fake, channel, "email", user=people.alice)
    await approve(slack, fake, message, user=people.alice)
    await approved(slack, message)

    await approve(slack, fake, message, user=people.alice)
    await slack.press("comms_edit", str((await stored_draft(slack, message)).id), user=people.alice,
                      channel=channel, message_ts=message.ts)

    refusals = await fake.wait_for(lambda: len(_texts_with(fake, "already approved")) == 2
                                   and _texts_with(fake, "already approved"))
    assert all("can't be changed or approved again" in text for text in refusals)
    assert len(await timeline(slack, "comms_approved")) == 1
    assert len([m for m in fake.messages_in(channel) if "approved for sending" in m.text]) == 1
    assert fake.views == []


def _texts_with(fake: FakeSlack, words: str) -> list[str]:
    return [r["payload"]["text"] for r in fake.responses if words in r["payload"].get("text", "")]


# -- editing -------------------------------------------------------------------------------------

def edit_submission(fake: FakeSlack, user: str, view: dict[str, Any], **answers: str) -> dict[str, Any]:
    return {
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
        "view": {**view, "id": "V1", "state": {"values": {
            block: {"value": {"type": "plain_text_input", "value": value}} for block, value in answers.items()}}},
    }


async def test_the_edit_form_changes_the_draft_and_the_posted_message(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, f"P1 Checkout errors comms:<@{people.carol}|carol>")
    message = await draft(slack, fake, channel, "email", user=people.alice)
    original = await stored_draft(slack, message)

    await slack.press("comms_edit", buttons(message)["comms_edit"], user=people.carol, channel=channel,
                      message_ts=message.ts)
    await fake.wait_for(lambda: fake.views)
    view = fake.views[-1]["view"]
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["subject"]["initial_value"] == original.subject
    assert fields["body"]["initial_value"] == original.body

    clock.advance(minutes=2)
    response = await slack.interaction(edit_submission(
        fake, people.carol, view, subject="Checkout problems", body="Dear customer,\nCard payments & refunds fail."))
    assert response.status_code == 200

    async def edited() -> CommsDraft | None:
        stored = await stored_draft(slack, message)
        return stored if stored.edited_by else None

    stored = await eventually(edited)
    assert (stored.subject, stored.body) == ("Checkout problems", "Dear customer,\nCard payments & refunds fail.")
    assert stored.edited_at == clock.now() and stored.status is DraftStatus.DRAFT
    shown = await fake.wait_for(lambda: fake.channels[channel].message(message.ts).edited
                                and fake.channels[channel].message(message.ts))
    assert "*Subject:* Checkout problems" in shown.text and "refunds fail" in shown.text
    assert "&amp; refunds" in shown.text  # Slack markup escaped; the stored e-mail is not
    assert f"edited by <@{people.carol}>" in shown.text and "comms_approve" in buttons(shown)

    await approve(slack, fake, shown, user=people.alice)
    final = await fake.wait_for(lambda: [m for m in fake.messages_in(channel) if "approved for sending" in m.text])
    assert "*Subject:* Checkout problems" in final[0].text and "Card payments &amp; refunds fail." in final[0].text


async def test_an_empty_edit_goes_back_to_the_form(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, people, "P1 Checkout errors")
    message = await draft(slack, fake, channel, "internal", user=people.alice)
    await slack.press("comms_edit", buttons(message)["comms_edit"], user=people.alice, channel=channel,
                      message_ts=message.ts)
    await fake.wait_for(lambda: fake.views)
    view = fake.views[-1]["view"]
    assert "subject" not in {b.get("block_id") for b in view["blocks"]}

    response = await slack.interaction(edit_submission(fake, people.alice, view, body="   "))

    assert response.json() == {"response_action": "errors", "errors": {"body": "Write the message; it can't be empty."}}
    assert (await stored_draft(slack, message)).edited_by is None


# -- approval binds to what was seen -------------------------------------------------------------

def answers_with(fake: FakeSlack, words: str) -> list[dict[str, Any]]:
    """Private answers (response_url posts and ephemerals) containing these words."""
    answers = [r["payload"] for r in fake.responses] + fake.ephemerals
    return [a for a in answers if words in a.get("text", "")]


async def open_editor(slack: SlackDriver, fake: FakeSlack, message: Message, *, user: str) -> dict[str, Any]:
    before = len(fake.views)
    await slack.press("comms_edit", buttons(message)["comms_edit"], user=user, channel=message.channel,
                      message_ts=message.ts)
    await fake.wait_for(lambda: len(fake.views) > before)
    return fake.views[-1]["view"]


async def test_a_bystander_may_not_edit_a_draft(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, people, f"P1 Checkout errors comms:<@{people.carol}|carol>")
    message = await draft(slack, fake, channel, "statuspage", user=people.alice)
    original = await stored_draft(slack, message)
    fake.channels[channel].members.add(people.bob)  # in the channel, with no role
    # A form the Communications Lead opened, submitted as Bob (forged, or Bob lost the role meanwhile).
    view = await open_editor(slack, fake, message, user=people.carol)

    await slack.press("comms_edit", buttons(message)["comms_edit"], user=people.bob, channel=channel,
                      message_ts=message.ts)
    response = await slack.interaction(edit_submission(fake, people.bob, view, body="Bob's words"))

    assert response.status_code == 200
    refusals = await fake.wait_for(lambda: len(answers_with(fake, "can edit this draft")) == 2
                                   and answers_with(fake, "can edit this draft"))
    for refusal in refusals:
        assert f"<@{people.carol}>" in refusal["text"] and f"<@{people.alice}>" in refusal["text"]
    assert refusals[0]["response_type"] == "ephemeral" and fake.ephemerals[-1]["user"] == people.bob
    assert len(fake.views) == 1  # only Carol's form was opened
    stored = await stored_draft(slack, message)
    assert (stored.body, stored.edited_by) == (original.body, None)
    await approve(slack, fake, message, user=people.alice)
    await approved(slack, message)
    assert (await slack.http.get("/status.json")).json()["incidents"][0]["update"] == original.body


async def test_an_approve_pressed_on_words_since_edited_publishes_nothing(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, f"P1 Checkout errors comms:<@{people.bob}|bob>")
    message = await draft(slack, fake, channel, "statuspage", user=people.alice)
    seen = buttons(message)["comms_approve"]  # Alice reads the draft as first posted
    view = await open_editor(slack, fake, message, user=people.bob)
    clock.advance(minutes=1)
    await slack.interaction(edit_submission(fake, people.bob, view, body="Bob's words"))
    edited = await fake.wait_for(lambda: fake.channels[channel].message(message.ts).edited
                                 and fake.channels[channel].message(message.ts))
    assert f"edited by <@{people.bob}>" in edited.text and "Bob's words" in edited.text
    assert buttons(edited)["comms_approve"] != seen

    await approve(slack, fake, message, user=people.alice, value=seen)

    [answer] = await fake.wait_for(lambda: answers_with(fake, "after you saw it"))
    assert answer["response_type"] == "ephemeral" and f"edited by <@{people.bob}>" in answer["text"]
    assert "nothing was published" in answer["text"] and "Bob's words" in answer["text"]
    assert f"<#{channel}>" in answer["text"]
    assert (await stored_draft(slack, message)).status is DraftStatus.DRAFT
    assert (await slack.http.get("/status.json")).json()["incidents"] == []
    assert await timeline(slack, "comms_approved") == []

    # The updated message's button approves the words it shows.
    await approve(slack, fake, message, user=people.alice, value=buttons(edited)["comms_approve"])
    stored = await approved(slack, message)
    assert stored.approved_by == people.alice and stored.body == "Bob's words"
    assert (await slack.http.get("/status.json")).json()["incidents"][0]["update"] == "Bob's words"


async def test_a_button_without_a_version_approves_nothing(slack: SlackDriver, fake: FakeSlack,
                                                          people: People) -> None:
    channel = await declare(slack, people, "P1 Checkout errors")
    message = await draft(slack, fake, channel, "statuspage", user=people.alice)

    await approve(slack, fake, message, user=people.alice, value=buttons(message)["comms_edit"])  # "<id>" alone

    await fake.wait_for(lambda: answers_with(fake, "not one I can act on"))
    assert (await stored_draft(slack, message)).status is DraftStatus.DRAFT


async def test_an_edit_and_an_approval_at_once_publish_the_seen_words_or_nothing(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, f"P1 Checkout errors comms:<@{people.bob}|bob>")
    for round_ in range(1, 5):
        message = await draft(slack, fake, channel, "statuspage", user=people.alice)
        original = await stored_draft(slack, message)
        seen = buttons(message)["comms_approve"]
        view = await open_editor(slack, fake, message, user=people.bob)
        clock.advance(seconds=1)

        responses = await asyncio.gather(
            slack.interaction(edit_submission(fake, people.bob, view, body=f"Bob's words {round_}")),
            slack.press("comms_approve", seen, user=people.alice, channel=channel, message_ts=message.ts))

        assert {r.status_code for r in responses} == {200}
        # The loser hears so: Bob that it was approved, or Alice that it changed after she saw it.
        await fake.wait_for(lambda: len(answers_with(fake, "already approved")) + len(
            answers_with(fake, "after you saw it")) == round_)
        await asyncio.sleep(0.2)  # room for a double effect to show
        stored = await stored_draft(slack, message)
        published = (await slack.http.get("/status.json")).json()["incidents"]
        if stored.is_approved:
            assert (stored.body, stored.edited_by, stored.approved_by) == (original.body, None, people.alice)
            assert published[0]["update"] == original.body
        else:
            assert (stored.body, stored.edited_by) == (f"Bob's words {round_}", people.bob)
        assert not any("Bob's words" in update["update"] for update in published)
    assert len(await timeline(slack, "comms_approved")) == len(answers_with(fake, "already approved"))


# -- refusals ------------------------------------------------------------------------------------

async def test_a_private_incident_gets_no_status_page_draft(slack: SlackDriver, fake: FakeSlack,
                                                            people: People) -> None:
    channel = await declare(slack, people, "private P1 Customer records exposed")

    reply = await slack.command("comms statuspage", user=people.alice, channel=channel)

    assert "is a private incident: it never goes on the status page" in await reply.text()
    assert await stored_drafts(slack) == [] and drafts_in(fake, channel) == []
    email = await draft(slack, fake, channel, "email", user=people.alice)
    assert email.text.startswith(":memo: *Draft customer e-mail*")
    internal = await draft(slack, fake, channel, "internal", user=people.alice)
    await approve(slack, fake, internal, user=people.alice)
    await approved(slack, internal)
    # Its internal message stays in its own channel, not under an announcement in the incidents channel.
    await fake.wait_for(lambda: [m for m in fake.messages_in(channel)
                                 if m.text.startswith(":rotating_light: *INCIDENT DECLARED*")])
    assert [m for m in fake.messages_in(people.incidents) if m.thread_ts] == []


@pytest.mark.parametrize("text", ["comms", "comms sms"])
async def test_comms_needs_an_audience(slack: SlackDriver, people: People, text: str) -> None:
    reply = await slack.command(text, user=people.alice, channel=people.general)
    assert "`/incident comms <internal|email|statuspage>`" in reply.ack_text
