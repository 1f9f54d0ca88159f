"""Two people doing the same thing at the same moment: the database picks exactly one winner. The winner
alone posts, edits and writes the timeline; everyone else is told privately who was first. Each race
fires its requests together through the real HTTP endpoint, and is run a few times (races are chancy)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from app.comms.models import CommsDraft
from app.incidents.models import ChecklistItem, Incident, Role, Severity, TimelineEvent
from app.reviews.models import ActionItem, ActionStatus, PostIncidentReview
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Message
from tests.conftest import People
from tests.support import ManualClock, Reply, SlackDriver, eventually

pytestmark = pytest.mark.both_databases

ROUNDS = 3
ANSWERS = {"users_affected": "About 2,000", "failed_requests": "12,000", "revenue_impact": "",
           "went_well": "Fast rollback", "could_improve": "Alerting", "lessons_learned": "Review configs"}


# -- helpers --------------------------------------------------------------------------------------

async def declare(slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, text: str) -> Incident:
    """Declare from #general (a minute after the previous one, so channel names differ); the incident
    once its channel, pinned kickoff and announcement are all stored."""
    clock.advance(minutes=1)
    async with slack.runtime.db.transaction() as session:
        before = await session.scalar(select(func.max(Incident.id))) or 0
    await slack.command(f"declare {text}", user=people.alice, channel=people.general)

    async def ready() -> Incident | None:
        async with slack.runtime.db.transaction() as session:
            incident = await session.scalar(select(Incident).where(Incident.id > before))
        done = incident and incident.kickoff_ts and incident.announcement_ts and fake.channels[incident.channel_id].pins
        return incident if done and (not incident.kind or incident.checklist_ts) else None

    return await eventually(ready)


async def events(slack: SlackDriver, incident: Incident, kind: str) -> list[TimelineEvent]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent).where(
            TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind).order_by(TimelineEvent.id)))


def answers_with(fake: FakeSlack, words: str) -> list[str]:
    """Private answers (response_url posts and ephemerals) containing these words."""
    texts = [r["payload"].get("text", "") for r in fake.responses] + [e["text"] for e in fake.ephemerals]
    return [text for text in texts if words in text]


def posts_with(fake: FakeSlack, channel: str, words: str) -> list[Message]:
    return [m for m in fake.messages_in(channel) if words in m.text]


async def settled(fake: FakeSlack, *conditions: Any) -> None:
    """Wait until every condition holds; then give a double effect the chance to show up."""
    await fake.wait_for(lambda: all(condition() for condition in conditions))
    await asyncio.sleep(0.2)


async def at_once(*requests: Any) -> list[Any]:
    return list(await asyncio.gather(*requests))


def button_value(message: Message, action_id: str) -> str:
    return next(e["value"] for b in message.blocks or [] if b["type"] == "actions" for e in b["elements"]
                if e.get("action_id") == action_id)


# -- the incident's own state ---------------------------------------------------------------------

async def test_two_presses_of_acknowledge_acknowledge_once(slack: SlackDriver, fake: FakeSlack, people: People,
                                                           clock: ManualClock) -> None:
    # Acknowledging is the person paged's (issue 20): Carol, the primary on-call and IC, presses Acknowledge on
    # her page's DM three times at once.
    for round_ in range(ROUNDS):
        incident = await declare(slack, fake, people, clock,
                                 f"P1 Checkout errors {round_} ic:<@{people.carol}|carol>")
        channel = incident.channel_id
        await slack.runtime.sweeper.sweep_all()  # her page goes out
        page = [m for m in fake.dms_to(people.carol) if "You are paged" in m.text][-1]
        value = button_value(page, "acknowledge")
        assert value == str(incident.id)
        refusals = len(answers_with(fake, f"already acknowledged by <@{people.carol}>"))

        responses = await at_once(*(slack.press("acknowledge", value, user=people.carol, channel=page.channel,
                                                message_ts=page.ts) for _ in range(3)))

        assert {r.status_code for r in responses} == {200}
        await settled(fake, lambda: posts_with(fake, channel, "acknowledged their page"),
                      lambda: len(answers_with(fake, f"already acknowledged by <@{people.carol}>")) == refusals + 2)
        assert len(posts_with(fake, channel, "acknowledged their page")) == 1
        assert len(await events(slack, incident, "page_acknowledged")) == 1
        assert len(await events(slack, incident, "acknowledged")) == 1
        assert "<!date^" in answers_with(fake, "already acknowledged by")[-1]


async def test_two_severity_changes_at_once_change_it_once(slack: SlackDriver, fake: FakeSlack, people: People,
                                                           clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, "P2 Search is slow")
    channel = incident.channel_id
    for round_, severity in enumerate(["P0", "P3", "P1"], start=1):
        replies: list[Reply] = await at_once(
            slack.command(f"severity {severity}", user=people.alice, channel=channel),
            slack.command(f"severity {severity}", user=people.bob, channel=channel))

        await settled(fake, lambda: len(posts_with(fake, channel, "changed the severity")) >= round_,
                      lambda: any(r.responses() for r in replies))
        assert len(posts_with(fake, channel, "changed the severity")) == round_
        assert len(await events(slack, incident, "severity_changed")) == round_
        [loser] = [r for r in replies if r.responses()]
        text = await loser.text()
        assert f"already {severity}" in text and "changed it <!date^" in text
        winner = next(r for r in replies if r is not loser)
        assert not winner.responses()
    async with slack.runtime.db.transaction() as session:
        assert (await session.get(Incident, incident.id)).severity is Severity.P1


async def test_two_people_giving_the_same_role_at_once_give_it_once(slack: SlackDriver, fake: FakeSlack,
                                                                     people: People, clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, "P2 Search is slow")
    channel = incident.channel_id
    # Nobody holds comms (the first holder is an insert under the one-holder constraint); tech changes hands
    # (a conditional update from the holder seen); then ic.
    for round_, (role, person) in enumerate([("comms", people.bob), ("tech", people.carol), ("tech", people.bob),
                                             ("ic", people.carol)], start=1):
        replies: list[Reply] = await at_once(
            slack.command(f"role {role} <@{person}>", user=people.alice, channel=channel),
            slack.command(f"role {role} <@{person}>", user=person, channel=channel))

        await settled(fake, lambda: len(posts_with(fake, channel, ":bust_in_silhouette:")) >= round_,
                      lambda: any(r.responses() for r in replies))
        assert len(posts_with(fake, channel, ":bust_in_silhouette:")) == round_
        assert len(await events(slack, incident, "role_assigned")) == round_
        [loser] = [r for r in replies if r.responses()]
        text = await loser.text()
        assert f"<@{person}> already holds the {role} role, given by <@" in text and "<!date^" in text
    async with slack.runtime.db.transaction() as session:
        stored = await session.get(Incident, incident.id)
        assert stored.role_holders() == {Role.IC: people.carol, Role.TECH: people.bob, Role.COMMS: people.bob}


async def test_two_resolutions_at_once_resolve_once(slack: SlackDriver, fake: FakeSlack, people: People,
                                                    clock: ManualClock) -> None:
    for round_ in range(2):
        incident = await declare(slack, fake, people, clock, f"P1 Checkout errors {round_}")
        channel = incident.channel_id
        replies: list[Reply] = await at_once(
            slack.command("resolve Bad config | Reverted it", user=people.alice, channel=channel),
            slack.command("resolve Bad deploy | Rolled back", user=people.bob, channel=channel))

        await settled(fake, lambda: posts_with(fake, channel, "INCIDENT RESOLVED"),
                      lambda: any(r.responses() for r in replies))
        assert len(posts_with(fake, channel, "INCIDENT RESOLVED")) == 1
        [event] = await events(slack, incident, "resolved")
        [loser] = [r for r in replies if r.responses()]
        text = await loser.text()
        assert f"was resolved by <@{event.actor}> <!date^" in text
        assert len(await events(slack, incident, "review_published")) == 0


async def test_two_snoozes_of_one_reminder_snooze_it_once(slack: SlackDriver, fake: FakeSlack, people: People,
                                                          clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, "P0 Complete API outage")
    channel = incident.channel_id
    for round_ in range(1, ROUNDS + 1):
        clock.advance(minutes=31 if round_ > 1 else 15)
        await slack.runtime.sweeper.sweep_all()

        async def current_reminder() -> str | None:
            async with slack.runtime.db.transaction() as session:
                return (await session.get(Incident, incident.id)).reminder_ts

        reminder_ts = await eventually(current_reminder)
        responses = await at_once(*(slack.press("snooze_reminder", "30", user=user, channel=channel,
                                                message_ts=reminder_ts) for user in (people.bob, people.carol)))

        assert {r.status_code for r in responses} == {200}
        await settled(fake, lambda: "snoozed" in fake.channels[channel].message(reminder_ts).text,
                      lambda: len(answers_with(fake, "already snoozed by")) == round_)
        assert len(await events(slack, incident, "reminder_snoozed")) == round_
        assert len(fake.channels[channel].message(reminder_ts).history) == 1  # edited once
        assert "<!date^" in answers_with(fake, "already snoozed by")[-1]


# -- the checklist --------------------------------------------------------------------------------

def checklist_press(fake: FakeSlack, people: People, message: Message, user: str,
                    selected: list[dict[str, Any]], block: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "block_actions", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
        "channel": {"id": message.channel},
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        "message": {"ts": message.ts, "blocks": json.loads(json.dumps(message.blocks))}, "trigger_id": "t1",
        "response_url": fake.new_response_url(),
        "actions": [{"type": "checkboxes", "action_id": "checklist_tick", "block_id": block["block_id"],
                     "selected_options": selected, "action_ts": "1.0"}],
    }


async def test_two_people_ticking_the_same_item_at_once_tick_it_once(slack: SlackDriver, fake: FakeSlack,
                                                                     people: People, clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, "outage Everything is down")
    channel = incident.channel_id
    message = fake.channels[channel].message(incident.checklist_ts)
    for round_ in range(ROUNDS):
        block = next(b for b in message.blocks if b["type"] == "actions")
        options = block["elements"][0]["options"]
        ticked = block["elements"][0].get("initial_options", [])
        wanted = [*ticked, options[round_]]
        edits = len(message.history)

        responses = await at_once(*(slack.interaction(checklist_press(fake, people, message, user, wanted, block))
                                    for user in (people.bob, people.carol)))

        assert {r.status_code for r in responses} == {200}
        await settled(fake, lambda: len(message.history) > edits,
                      lambda: len(answers_with(fake, "was already ticked by")) == round_ + 1)
        assert len(message.history) == edits + 1
        assert len(await events(slack, incident, "checklist_ticked")) == round_ + 1
        assert f"{round_ + 1} of" in message.text
    async with slack.runtime.db.transaction() as session:
        done = list(await session.scalars(select(ChecklistItem).where(ChecklistItem.incident_id == incident.id,
                                                                      ChecklistItem.done_at.is_not(None))))
    assert len(done) == ROUNDS
    assert "<!date^" in answers_with(fake, "was already ticked by")[-1]


# -- communications -------------------------------------------------------------------------------

async def post_draft(slack: SlackDriver, fake: FakeSlack, channel: str, audience: str, user: str) -> Message:
    before = {m.ts for m in fake.messages_in(channel)}
    await slack.command(f"comms {audience}", user=user, channel=channel)
    message = await fake.wait_for(lambda: next((m for m in fake.messages_in(channel)
                                                if m.ts not in before and m.text.startswith(":memo:")), None))

    async def stored() -> bool:
        async with slack.runtime.db.transaction() as session:
            return await session.scalar(select(CommsDraft.id).where(CommsDraft.message_ts == message.ts)) is not None

    await eventually(stored)
    return message


async def test_two_approvals_at_once_publish_once(slack: SlackDriver, fake: FakeSlack, people: People,
                                                  clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, f"P1 Checkout errors comms:<@{people.carol}>")
    channel = incident.channel_id
    for round_ in range(1, ROUNDS + 1):
        message = await post_draft(slack, fake, channel, "internal", people.bob)
        value, draft_id = button_value(message, "comms_approve"), int(button_value(message, "comms_edit"))

        responses = await at_once(*(slack.press("comms_approve", value, user=user, channel=channel,
                                                message_ts=message.ts) for user in (people.alice, people.carol)))

        assert {r.status_code for r in responses} == {200}
        published = lambda: [m for m in fake.messages_in(people.incidents) if m.thread_ts]  # noqa: E731
        await settled(fake, lambda: len(published()) >= round_,
                      lambda: len(answers_with(fake, "already approved by")) == round_)
        assert len(published()) == round_
        assert len(fake.channels[channel].message(message.ts).history) == 1  # shown approved once
        async with slack.runtime.db.transaction() as session:
            stored = await session.get(CommsDraft, draft_id)
            approvals = await session.scalar(select(func.count()).select_from(TimelineEvent).where(
                TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "comms_approved"))
        assert approvals == round_ and stored.approved_by in (people.alice, people.carol)
        assert f"already approved by <@{stored.approved_by}> <!date^" in answers_with(fake, "already approved by")[-1]


async def test_two_edits_at_once_save_one_and_tell_the_other(slack: SlackDriver, fake: FakeSlack, people: People,
                                                             clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, f"P1 Checkout errors comms:<@{people.bob}>")
    channel = incident.channel_id
    message = await post_draft(slack, fake, channel, "internal", people.bob)
    draft_id = int(button_value(message, "comms_edit"))
    seen = None
    for round_ in range(1, ROUNDS + 1):
        def submission(user: str) -> dict[str, Any]:
            return {"type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
                    "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
                    "view": {"id": "V1", "type": "modal", "callback_id": "edit_comms_draft",
                             "private_metadata": json.dumps({"draft": draft_id, "channel": channel,
                                                             "edited_at": seen}),
                             "state": {"values": {"body": {"value": {"type": "plain_text_input",
                                                                     "value": f"Words of {user}, round {round_}"}}}}}}

        edits = len(message.history)
        responses = await at_once(*(slack.interaction(submission(user)) for user in (people.alice, people.bob)))

        assert {r.status_code for r in responses} == {200}
        await settled(fake, lambda: len(message.history) > edits,
                      lambda: len(answers_with(fake, "while you had it open")) == round_)
        assert len(message.history) == edits + 1
        async with slack.runtime.db.transaction() as session:
            stored = await session.get(CommsDraft, draft_id)
        assert stored.body == f"Words of {stored.edited_by}, round {round_}" and stored.body in message.text
        refusal = answers_with(fake, "while you had it open")[-1]
        assert f"edited by <@{stored.edited_by}> <!date^" in refusal
        [ephemeral] = [e for e in fake.ephemerals if e["text"] == refusal]
        assert ephemeral["user"] != stored.edited_by
        seen = stored.edited_at.isoformat()  # the next round's forms are opened on this edit
        clock.advance(seconds=1)


# -- the review and action items ------------------------------------------------------------------

async def test_two_review_submissions_at_once_publish_once(slack: SlackDriver, fake: FakeSlack, people: People,
                                                           clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, f"P1 Checkout errors tech:<@{people.bob}>")
    channel = incident.channel_id
    await slack.command("resolve Bad config | Reverted it", user=people.alice, channel=channel)
    await fake.wait_for(lambda: posts_with(fake, channel, "INCIDENT RESOLVED"))
    seen = None
    for round_ in range(1, ROUNDS + 1):
        def submission(user: str) -> dict[str, Any]:
            values = {block: {"value": {"type": "plain_text_input", "value": f"{value} ({user})" if value else None}}
                      for block, value in ANSWERS.items()}
            return {"type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
                    "user": {"id": user, "name": fake.users[user].name, "team_id": fake.team_id},
                    "view": {"id": "V1", "type": "modal", "callback_id": "post_incident_review",
                             "private_metadata": json.dumps({"channel": channel, "seen": seen}),
                             "state": {"values": values}}}

        responses = await at_once(*(slack.interaction(submission(user)) for user in (people.alice, people.bob)))

        assert {r.status_code for r in responses} == {200}
        await settled(fake, lambda: len(fake.files) >= round_,
                      lambda: len(answers_with(fake, "while you had the form open")) == round_)
        assert len(fake.files) == round_
        assert len(await events(slack, incident, "review_published")) == round_
        async with slack.runtime.db.transaction() as session:
            review = await session.scalar(select(PostIncidentReview).where(
                PostIncidentReview.incident_id == incident.id))
        assert review.went_well == f"Fast rollback ({review.answered_by})"
        assert review.published_by == review.answered_by
        refusal = answers_with(fake, "while you had the form open")[-1]
        assert f"submitted by <@{review.answered_by}> <!date^" in refusal
        seen = review.answered_at.isoformat()
        clock.advance(seconds=1)


async def test_two_people_finishing_or_starting_an_item_at_once_do_it_once(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    incident = await declare(slack, fake, people, clock, "P2 Search is slow")
    channel = incident.channel_id
    for number in range(1, ROUNDS + 1):
        await slack.command(f"action add Fix thing {number}", user=people.alice, channel=channel)
        await fake.wait_for(lambda: posts_with(fake, channel, f"added action item *#{number}*"))

    def posts_about(number: int) -> list[Message]:
        return posts_with(fake, channel, f"action item *#{number}*")

    for number in range(1, ROUNDS + 1):
        for posts, (command, kind, refusal) in enumerate((("start", "action_item_started", "was already started by"),
                                                          ("done", "action_item_done", "is already done")), start=2):
            replies: list[Reply] = await at_once(
                slack.command(f"action {command} {number}", user=people.alice, channel=channel),
                slack.command(f"action {command} {number}", user=people.bob, channel=channel))

            await settled(fake, lambda: any(r.responses() for r in replies), lambda: len(posts_about(number)) >= posts)
            assert len(posts_about(number)) == posts
            [loser] = [r for r in replies if r.responses()]
            text = await loser.text()
            assert refusal in text and "<!date^" in text
            assert len([e for e in await events(slack, incident, kind) if f"#{number} " in e.text]) == 1
    async with slack.runtime.db.transaction() as session:
        items = list(await session.scalars(select(ActionItem).where(ActionItem.incident_id == incident.id)))
    assert {item.status for item in items} == {ActionStatus.DONE}
