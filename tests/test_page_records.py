"""Pages are records (issue 20): acknowledgement is per page, by the person paged (the page DM's button,
PagerDuty's incident.acknowledged for our own alert); a declarer who is IC has acknowledged by declaring; the
pages are resolved by the keys they went out with, whatever playbooks/oncall.yml says by then. On SQLite and
PostgreSQL, through signed HTTP, against the fake Slack and PagerDuty faked with httpx.MockTransport."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from app.incidents.models import Incident, TimelineEvent
from app.oncall.models import PageRecord
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, pinned_kickoff
from tests.test_clock import declare, tick
from tests.test_paging import APPENDIX_A, ROUTING_KEY, TECH_KEY, PagerDutyInbox, page_roles_on_their_own, with_role_keys

pytestmark = pytest.mark.both_databases
PAGERDUTY_SECRET = "pd-secret-ABCDEFGHIJKLMNOP0123"


async def page_records(slack: SlackDriver) -> list[PageRecord]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(PageRecord).order_by(PageRecord.id)))


async def the_incident(slack: SlackDriver) -> Incident:
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident))
    assert incident is not None
    return incident


async def timeline(slack: SlackDriver, kind: str) -> list[str]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent.text).where(TimelineEvent.kind == kind)))


def missed(fake: FakeSlack, channel: str) -> list[str]:
    return [m.text for m in fake.messages_in(channel) if "Not acknowledged within" in m.text
            or "Nobody acknowledged" in m.text]


async def test_the_person_paged_acknowledges_from_the_page_dm(slack: SlackDriver, fake: FakeSlack, people: People,
                                                              clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, f"P0 Complete API outage ic:<@{people.carol}|carol>")
    await tick(slack, clock, seconds=1)
    [page] = fake.dms_to(people.carol)
    [button] = [e for b in page.blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "acknowledge"]

    await slack.press("acknowledge", button["value"], user=people.carol, channel=page.channel, message_ts=page.ts)
    await fake.wait_for(lambda: any(f"<@{people.carol}> acknowledged their page" in m.text
                                    for m in fake.messages_in(channel)))
    [record] = await page_records(slack)
    assert (record.recipient, record.acknowledged_by) == (people.carol, people.carol)
    assert record.acknowledged_at is not None
    assert (await the_incident(slack)).acknowledged_by == people.carol
    assert any("Acknowledged their own page" in text for text in await timeline(slack, "page_acknowledged"))

    await tick(slack, clock, minutes=30)
    assert fake.dms_to(people.bob) == []  # the backup is not woken for a page that was answered
    assert missed(fake, channel) == []


def acknowledged_in_pagerduty(dedup_key: str, clock: ManualClock, *, by: str) -> bytes:
    """PagerDuty's v3 webhook for an incident someone acknowledged (the shape of its incident.triggered)."""
    return json.dumps({"event": {
        "id": "01DEN3C7UDHQ6V0V8V2F8AQZJE", "event_type": "incident.acknowledged", "resource_type": "incident",
        "occurred_at": clock.now().isoformat().replace("+00:00", "Z"),
        "agent": {"id": "PTUXL6G", "summary": by, "type": "user_reference"},
        "data": {"id": "Q1R2S3T4U5V6W8", "type": "incident", "number": 913, "status": "acknowledged",
                 "incident_key": dedup_key, "title": "[P0] Complete API outage",
                 "service": {"id": "PF9KMXH", "summary": "AgentGuard", "type": "service_reference"}},
    }}).encode()


def signed_by_pagerduty(body: bytes) -> dict[str, str]:
    digest = hmac.new(PAGERDUTY_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-PagerDuty-Signature": f"v1={digest}"}


async def test_acknowledging_our_page_in_pagerduty_acknowledges_it(settings: Settings, fake: FakeSlack,
                                                                   people: People, clock: ManualClock) -> None:
    inbox = PagerDutyInbox()
    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY,
                                   environment={"PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET})
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        channel = await declare(slack, fake, people, f"P0 Complete API outage ic:<@{people.carol}|carol>")
        await tick(slack, clock, seconds=1)
        [trigger] = inbox.events
        dedup_key = trigger["dedup_key"]
        # The page went out after the kickoff was posted: the kickoff was redrawn to show it.
        page_line = f"• <@{people.carol}> (ic, tech, comms), paged at <!date"
        shown = pinned_kickoff(fake, channel).text
        assert page_line in shown and "not acknowledged yet" in shown

        body = acknowledged_in_pagerduty(dedup_key, clock, by="Carol Chen")
        response = await slack.http.post("/alerts/pagerduty", content=body, headers=signed_by_pagerduty(body))
        assert response.status_code < 300
        # As when acknowledged in Slack, the channel hears of it and the kickoff shows it (issue 20), once the
        # sweep after the webhook's answer has run.
        await tick(slack, clock, seconds=1)
        assert any(f"Carol Chen acknowledged <@{people.carol}>'s page (ic, tech, comms) in PagerDuty." in m.text
                   for m in fake.messages_in(channel))
        assert re.search(r"paged at <!date[^>]+>: acknowledged by Carol Chen at <!date[^>]+> in PagerDuty",
                         pinned_kickoff(fake, channel).text), pinned_kickoff(fake, channel).text
        assert "Acknowledge" not in [e["text"]["text"] for b in (pinned_kickoff(fake, channel).blocks or [])
                                     if b["type"] == "actions" for e in b["elements"]]
        [record] = await page_records(slack)
        assert (record.dedup_key, record.acknowledged_by, record.acknowledged_how) == (
            dedup_key, "Carol Chen", "PagerDuty")
        assert (await the_incident(slack)).is_acknowledged
        assert any(dedup_key in text and "in PagerDuty" in text for text in await timeline(slack, "page_acknowledged"))

        await tick(slack, clock, minutes=30)
        assert [e["dedup_key"] for e in inbox.events if e["event_action"] == "trigger"] == [dedup_key]  # no backup
        assert fake.dms_to(people.bob) == []
        assert missed(fake, channel) == []


async def test_an_acknowledgement_in_pagerduty_of_an_alert_not_ours_changes_nothing(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    inbox = PagerDutyInbox()
    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY,
                                   environment={"PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET})
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        await declare(slack, fake, people, f"P0 Complete API outage ic:<@{people.carol}|carol>")
        await tick(slack, clock, seconds=1)
        for key in ("incident-2-roles-p0", "5fd7b0c0a3d14c3f9c4c1f7e0b2d6a11"):  # no page of ours; not ours at all
            body = acknowledged_in_pagerduty(key, clock, by="Mallory")
            response = await slack.http.post("/alerts/pagerduty", content=body, headers=signed_by_pagerduty(body))
            assert response.status_code < 300
        [record] = await page_records(slack)
        assert record.acknowledged_at is None and not (await the_incident(slack)).is_acknowledged

        await tick(slack, clock, minutes=15)
        assert [e["dedup_key"] for e in inbox.events if e["event_action"] == "trigger"] == [
            "incident-1-roles-p0", "incident-1-backup"]


async def test_a_declarer_who_is_ic_needs_no_acknowledgement(slack: SlackDriver, fake: FakeSlack, people: People,
                                                             clock: ManualClock) -> None:
    # Carol, the primary on-call, declares: she is IC and Technical Lead, so nobody is paged, and she has it.
    channel = await declare(slack, fake, people, "P0 Complete API outage", user=people.carol)
    await tick(slack, clock, seconds=1)
    assert await page_records(slack) == []
    incident = await the_incident(slack)
    assert (incident.commander, incident.acknowledged_by) == (people.carol, people.carol)

    await tick(slack, clock, minutes=30)
    assert fake.dms_to(people.bob) == []
    assert missed(fake, channel) == []


async def test_a_declarer_ic_does_not_answer_someone_elses_page(slack: SlackDriver, fake: FakeSlack,
                                                                people: People, clock: ManualClock) -> None:
    # Alice declares and is IC; Carol, the primary on-call, is paged as Technical Lead and never answers.
    channel = await declare(slack, fake, people, "P0 Complete API outage")
    await tick(slack, clock, seconds=1)
    assert [(r.recipient, r.roles) for r in await page_records(slack)] == [(people.carol, "tech,comms")]

    await tick(slack, clock, minutes=15)
    assert len(fake.dms_to(people.bob)) == 1
    [text] = missed(fake, channel)
    assert f"<@{people.carol}>'s page (tech, comms" in text


async def test_pages_are_resolved_by_the_keys_they_went_out_with(settings: Settings, fake: FakeSlack,
                                                                  people: People, clock: ManualClock,
                                                                  playbooks_dir: Path) -> None:
    """The Technical Lead was paged on agentguard-tech; during the incident playbooks/oncall.yml stops routing
    any role there. Resolving still closes that alert, with its own service's key and dedup key."""
    page_roles_on_their_own(playbooks_dir, APPENDIX_A)
    inbox = PagerDutyInbox()
    settings = with_role_keys(settings)
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        channel = await declare(slack, fake, people, f"P0 Complete API outage tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)
        sent = {(e["routing_key"], e["dedup_key"]) for e in inbox.events}
        assert sent == {(TECH_KEY, "incident-1-tech-p0")}

    roster = yaml.safe_load((playbooks_dir / "oncall.yml").read_text())
    roster["paging"] = {}  # every role on the default page now
    (playbooks_dir / "oncall.yml").write_text(yaml.safe_dump(roster))
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        await slack.command("resolve Bad deploy | Rolled back", user=people.alice, channel=channel)
        await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
        await tick(slack, clock, seconds=1)
        resolved = [(e["routing_key"], e["dedup_key"]) for e in inbox.events if e["event_action"] == "resolve"]
        assert resolved == [(TECH_KEY, "incident-1-tech-p0")]
        [record] = await page_records(slack)
        assert record.resolved_at is not None and record.routing_key_name == "PAGERDUTY_KEY_TECH"
        await tick(slack, clock, minutes=5)
        assert len([e for e in inbox.events if e["event_action"] == "resolve"]) == 1  # resolved once
