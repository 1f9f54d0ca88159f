"""The post-incident review: due 48 hours after resolution with a reminder at 24, filled in through a
form, generated from the plan's template with the recorded timeline and the action items, uploaded
to the incident's channel and served at /incidents/<id>/review.md through the signed link the bot posts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from app.duework.models import DueWork, WorkKind
from app.incidents import service
from app.incidents.models import Incident, TimelineEvent
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Message
from tests.conftest import People
from tests.support import ManualClock, SlackDriver
from tests.test_clock import declare as declare_from_general
from tests.test_clock import tick

ANSWERS = {
    "users_affected": "About 30% of checkout users",
    "failed_requests": "~2,700 (estimated)",
    "revenue_impact": "",
    "went_well": "- Monitoring caught it\n- Rollback was quick",
    "could_improve": "1. Canary the config change",
    "lessons_learned": "Config changes deserve the same review as code",
}
FILENAME = "post-incident-review-incident-20261125-1430.md"


async def declare(slack: SlackDriver, fake: FakeSlack, people: People, text: str, number: int = 1) -> str:
    """Declare, and wait until the channel is set up (kickoff pinned), so later posts are this test's."""
    channel = await declare_from_general(slack, fake, people, text, number=number)
    await fake.wait_for(lambda: fake.channels[channel].pins)
    return channel


def review_link(fake: FakeSlack, channel: str) -> str:
    """The link to the served review, as the bot posted it with the upload (the path: PUBLIC_URL is unset)."""
    [posted] = [m for m in fake.messages_in(channel) if m.files][-1:]
    found = re.search(r"`(/incidents/\d+/review\.md\?expires=\d+&amp;sig=[0-9a-f]{64})`", posted.text)
    assert found, posted.text
    return found.group(1).replace("&amp;", "&")


async def stored(slack: SlackDriver, channel: str) -> tuple[Incident, list[TimelineEvent]]:
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None
        return incident, await service.timeline(session, incident)


async def review_work(slack: SlackDriver, incident_id: int) -> list[DueWork]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(DueWork).where(
            DueWork.incident_id == incident_id, DueWork.kind == WorkKind.REVIEW_DUE).order_by(DueWork.due_at)))


async def resolve(slack: SlackDriver, fake: FakeSlack, people: People, channel: str) -> None:
    await slack.command("resolve Bad config push | Rolled the config back", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))


async def open_review_form(slack: SlackDriver, fake: FakeSlack, people: People, channel: str,
                           trigger_id: str = "review-trigger-1") -> dict[str, Any]:
    await slack.command("review", user=people.alice, channel=channel, trigger_id=trigger_id)
    await fake.wait_for(lambda: any(v["trigger_id"] == trigger_id for v in fake.views))
    return next(v["view"] for v in fake.views if v["trigger_id"] == trigger_id)


async def submit_review(slack: SlackDriver, fake: FakeSlack, people: People, view: dict[str, Any],
                        answers: dict[str, str] = ANSWERS) -> dict[str, Any]:
    values = {block: {"value": {"type": "plain_text_input", "value": value or None}}
              for block, value in answers.items()}
    response = await slack.interaction({
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": people.alice, "name": "alice", "team_id": fake.team_id},
        "view": {**view, "id": "V1", "state": {"values": values}},
    })
    assert response.status_code == 200
    return response.json() if response.content else {}


async def published(slack: SlackDriver, fake: FakeSlack, people: People, channel: str, count: int = 1) -> str:
    """Fill in the review form and return the Markdown uploaded to the channel."""
    view = await open_review_form(slack, fake, people, channel, trigger_id=f"review-trigger-{count}")
    await submit_review(slack, fake, people, view)
    await fake.wait_for(lambda: len(fake.files) >= count)
    return fake.files[count - 1]["content"].decode()


def review_reminders(fake: FakeSlack, channel: str) -> list[Message]:
    return [m for m in fake.messages_in(channel)
            if (m.metadata or {}).get("event_payload", {}).get("kind") == WorkKind.REVIEW_DUE.value]


def table_rows(document: str, heading: str) -> list[list[str]]:
    section = document.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]  # the header row goes
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


async def test_the_review_is_due_48_hours_after_resolution_with_a_reminder_at_24(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    clock.advance(minutes=45)
    await resolve(slack, fake, people, channel)

    await tick(slack, clock, hours=23, minutes=59)
    assert review_reminders(fake, channel) == []
    await tick(slack, clock, minutes=1)
    [reminder] = review_reminders(fake, channel)
    assert f"<@{people.alice}>" in reminder.text and "`/incident review`" in reminder.text

    await tick(slack, clock, hours=24)
    first, due_now = review_reminders(fake, channel)
    assert first == reminder and "is due now" in due_now.text and "within 48 hours of resolution" in due_now.text
    await tick(slack, clock, hours=72)
    assert len(review_reminders(fake, channel)) == 2
    _incident, events = await stored(slack, channel)
    assert [e.kind for e in events].count("review_reminder") == 2


async def test_review_before_resolution_is_refused_privately(slack: SlackDriver, fake: FakeSlack,
                                                             people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    before = len(fake.messages_in(channel))

    answer = await (await slack.command("review", user=people.alice, channel=channel)).response()

    assert answer.get("response_type") == "ephemeral"
    assert "not resolved yet" in answer["text"] and "/incident resolve" in answer["text"]
    assert fake.views == [] and len(fake.messages_in(channel)) == before


@pytest.mark.both_databases
async def test_the_review_holds_every_timeline_event_in_order_and_the_action_items(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors | Some users can't pay")
    clock.advance(minutes=2)
    noted = await slack.command("note Error rate at 30% | checkout only", user=people.bob, channel=channel)
    await noted.text()  # recorded before the clock moves on (the command's work runs after its ack)
    clock.advance(minutes=10)
    await slack.command("update identified Bad config push | Rolling back | 15 minutes", user=people.alice,
                        channel=channel)
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel)))
    clock.advance(minutes=3)
    await slack.command(f"action add Canary config changes owner:<@{people.bob}|bob> priority:P1 due:2026-12-01",
                        user=people.alice, channel=channel)
    # Numbered in the order they are stored: the second is typed once the first is in.
    await fake.wait_for(lambda: len([m for m in fake.messages_in(channel) if "action item" in m.text]) == 1)
    await slack.command("action add Alert on checkout error rate priority:P0", user=people.alice, channel=channel)
    await fake.wait_for(lambda: len([m for m in fake.messages_in(channel) if "action item" in m.text]) == 2)
    await slack.command("action done 2", user=people.bob, channel=channel)
    await fake.wait_for(lambda: len([m for m in fake.messages_in(channel) if "finished action item" in m.text]))
    clock.advance(minutes=30)
    await resolve(slack, fake, people, channel)
    incident, events = await stored(slack, channel)

    view = await open_review_form(slack, fake, people, channel)
    assert view["callback_id"] == "post_incident_review" and json.loads(view["private_metadata"]) == {
        "channel": channel, "seen": None}
    assert [b.get("block_id") for b in view["blocks"] if b["type"] == "input"] == list(ANSWERS)
    await submit_review(slack, fake, people, view)
    await fake.wait_for(lambda: fake.files)

    [upload] = fake.files
    assert upload["filename"] == FILENAME and upload["channel_id"] == channel
    document = upload["content"].decode()
    [posted] = [m for m in fake.messages_in(channel) if m.files]
    assert "published the post-incident review" in posted.text and f"/incidents/{incident.id}/review.md" in posted.text

    for line in ("# Post-Incident Review: Checkout errors", "**Date**: 2026-11-25", "**Severity**: P1",
                 "**Duration**: 45 minutes", "**Incident Commander**: Alice Adams",
                 "Checkout errors: Some users can't pay. Root cause: Bad config push.",
                 "## Root Cause\n\nBad config push", "- **Users Affected**: About 30% of checkout users",
                 "- **Duration**: 45 minutes", "- **Failed Requests**: ~2,700 (estimated)",
                 "- **Revenue Impact**: Not estimated",
                 "## What Went Well\n\n1. Monitoring caught it\n2. Rollback was quick",
                 "## What Could Be Improved\n\n1. Canary the config change",
                 "## Lessons Learned\n\n1. Config changes deserve the same review as code",
                 "- Action items: 1 open of 2"):
        assert line in document, line

    timeline = table_rows(document, "Timeline")
    assert len(timeline) == len(events)
    for (time, text), event in zip(timeline, events, strict=True):
        assert time == event.at.strftime("%H:%M")
        if not re.search(r"\b[CUW][A-Z0-9]{8,}\b", event.text):  # Slack ids become names
            assert event.text.replace("|", "\\|") in text, (event.kind, text)
    kinds = [e.kind for e in events]
    assert kinds.index("declared") < kinds.index("note") < kinds.index("status_update") < kinds.index("resolved")
    assert "Declared P1: Checkout errors (ic=Alice Adams)" in timeline[0][1]
    assert timeline[kinds.index("note")] == ["14:32", "Note: Error rate at 30% \\| checkout only (by Bob Brown)"]

    assert table_rows(document, "Action Items") == [
        ["#1 Canary config changes", "Bob Brown", "P1", "2026-12-01", "📋"],
        ["#2 Alert on checkout error rate", "Unassigned", "P0", "Completed", "✅"],
    ]

    served = await slack.http.get(review_link(fake, channel))
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/markdown")
    assert served.text == document
    _, events = await stored(slack, channel)
    assert events[-1].kind == "review_published" and FILENAME in events[-1].text and events[-1].actor == people.alice


async def test_once_published_the_review_reminders_stop(slack: SlackDriver, fake: FakeSlack, people: People,
                                                        clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await resolve(slack, fake, people, channel)
    await tick(slack, clock, hours=3)
    await published(slack, fake, people, channel)

    await tick(slack, clock, hours=72)

    assert review_reminders(fake, channel) == []
    incident, _ = await stored(slack, channel)
    assert [(w.key, w.outcome) for w in await review_work(slack, incident.id)] == [
        ("reminder", "cancelled"), ("deadline", "cancelled")]


async def test_the_form_comes_back_with_the_saved_answers_and_a_second_submission_updates_the_review(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await resolve(slack, fake, people, channel)
    first = await published(slack, fake, people, channel)

    view = await open_review_form(slack, fake, people, channel, trigger_id="review-trigger-again")
    saved = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert saved == {**ANSWERS, "revenue_impact": None}
    await submit_review(slack, fake, people, view, {**ANSWERS, "revenue_impact": "$1,200 (estimated)"})
    await fake.wait_for(lambda: len(fake.files) == 2)

    second = fake.files[1]["content"].decode()
    assert "- **Revenue Impact**: Not estimated" in first and "- **Revenue Impact**: $1,200 (estimated)" in second
    _incident, events = await stored(slack, channel)
    assert [e.text.split(":")[0] for e in events if e.kind == "review_published"] == [
        "Post-incident review published", "Post-incident review updated"]
    assert (await slack.http.get(review_link(fake, channel))).text == second


async def test_an_empty_answer_goes_back_to_the_form(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await resolve(slack, fake, people, channel)
    view = await open_review_form(slack, fake, people, channel)

    answer = await submit_review(slack, fake, people, view, {**ANSWERS, "went_well": "  "})

    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["went_well"]
    assert fake.files == []


async def test_a_timeline_spanning_days_shows_the_date(slack: SlackDriver, fake: FakeSlack, people: People,
                                                      clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P3 Typo on the pricing page")
    clock.advance(hours=26)
    await resolve(slack, fake, people, channel)

    document = await published(slack, fake, people, channel)

    times = [row[0] for row in table_rows(document, "Timeline")]
    assert times[0] == "2026-11-25 14:30" and times[-1] == "2026-11-26 16:30"
    assert "**Duration**: 1 day 2 hours" in document


async def test_the_review_is_served_only_once_published_and_never_for_a_private_incident(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    links = slack.runtime.review_links
    assert (await slack.http.get(links.path(999, clock.now()))).status_code == 404
    channel = await declare(slack, fake, people, "P2 Search is slow")
    incident, _ = await stored(slack, channel)
    await resolve(slack, fake, people, channel)
    assert (await slack.http.get(links.path(incident.id, clock.now()))).status_code == 404

    async with slack.runtime.db.transaction() as session:  # as a data breach is declared
        (await service.get_incident(session, incident.id)).is_private = True
    document = await published(slack, fake, people, channel)

    assert document.startswith("# Post-Incident Review: Search is slow")
    [posted] = [m for m in fake.messages_in(channel) if m.files]
    assert "published the post-incident review" in posted.text and "review.md" not in posted.text
    assert (await slack.http.get(links.path(incident.id, clock.now()))).status_code == 404


async def test_peoples_words_in_the_review_are_text_not_markdown(slack: SlackDriver, fake: FakeSlack,
                                                                  people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    noted = await slack.command("note Saw it in the logs\n# Forged note | [y](data:text/html,boo)", user=people.bob,
                                channel=channel)
    await noted.text()
    await slack.command("resolve Bad config\n## Forged\n[x](javascript:alert(1)) | Rolled it back\n| x | y |",
                        user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
    view = await open_review_form(slack, fake, people, channel)
    await submit_review(slack, fake, people, view, {**ANSWERS, "users_affected": "Most\n## Forged impact\n| a | b |",
                                                    "went_well": "- Monitoring caught it\n- ## Forged point"})
    await fake.wait_for(lambda: fake.files)

    document = (await slack.http.get(review_link(fake, channel))).text

    assert document == fake.files[0]["content"].decode()
    headings = [line for line in document.splitlines() if line.lstrip().startswith("#")]
    assert headings == ["# Post-Incident Review: Search is slow", "## Summary", "## Timeline", "## Root Cause",
                        "## Impact", "## What Went Well", "## What Could Be Improved", "## Action Items",
                        "## Lessons Learned", "## Follow-Up"]
    _, events = await stored(slack, channel)
    events = [e for e in events if e.kind != "review_published"]  # recorded once the document was out
    rows = [line for line in document.splitlines() if line.lstrip().startswith("|")]
    assert len(rows) == 2 + len(events)  # the timeline's header, rule and one row per event; no action items
    assert len(table_rows(document, "Timeline")) == len(events)
    assert not re.search(r"(?<!\\)\[[xy](?<!\\)\]\(", document)  # no link made of people's words
    assert "## Root Cause\n\nBad config ## Forged \\[x\\](javascript:alert(1))\n" in document
    assert "**Resolution**: Rolled it back \\| x \\| y \\|\n" in document
    assert "- **Users Affected**: Most ## Forged impact \\| a \\| b \\|\n" in document
    assert "2. \\## Forged point\n" in document
    assert "Note: Saw it in the logs # Forged note \\| \\[y\\](data:text/html,boo) (by Bob Brown)" in document
