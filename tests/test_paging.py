"""Paging through PagerDuty's Events API v2 (faked with httpx.MockTransport), and surviving restarts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from app.duework.models import DueWork
from app.incidents.models import Severity, TimelineEvent
from app.oncall.connect import routing_keys
from app.oncall.roster import Roster
from app.policy_files import PolicyError
from app.sandbox.fakeslack import FakeSlack
from app.settings import ConfigError, Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock
from tests.test_clock import declare, reminders, tick

ROUTING_KEY = "R0123456789ABCDEF0123456789ABCDE"
ONCALL_KEY = "O0123456789ABCDEF0123456789ABCDE"  # the plan's Appendix A: agentguard-oncall
TECH_KEY = "T0123456789ABCDEF0123456789ABCDE"  # agentguard-tech
APPENDIX_A = {
    "ic": {"service": "agentguard-oncall", "routing_key_env": "PAGERDUTY_KEY_ONCALL"},
    "tech": {"service": "agentguard-tech", "routing_key_env": "PAGERDUTY_KEY_TECH"},
    "comms": {"via": "slack"},
}


class PagerDutyInbox:
    """What PagerDuty's Events API received."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v2/enqueue"
        self.events.append(json.loads(request.content))
        return httpx.Response(202, json={"status": "success", "message": "Event processed",
                                         "dedup_key": self.events[-1]["dedup_key"]})


@pytest.mark.both_databases
async def test_pagerduty_trigger_and_resolve(settings: Settings, fake: FakeSlack, people: People,
                                             clock: ManualClock) -> None:
    inbox = PagerDutyInbox()
    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        channel = await declare(slack, fake, people, f"P0 Complete API outage tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)

        [trigger] = inbox.events
        assert trigger["routing_key"] == ROUTING_KEY
        assert trigger["event_action"] == "trigger"
        assert trigger["dedup_key"] == "incident-1-roles-p0"
        assert trigger["links"] == [{"href": f"https://slack.com/app_redirect?channel={channel}",
                                     "text": "Incident channel in Slack"}]
        assert trigger["payload"]["severity"] == "critical"
        assert trigger["payload"]["summary"] == "[P0] Complete API outage"
        assert trigger["payload"]["source"]
        assert people.bob in trigger["payload"]["custom_details"]["people"]
        assert fake.dms_to(people.bob) == []  # PagerDuty pages them, not Slack

        await slack.command("resolve Bad deploy | Rolled back", user=people.alice, channel=channel)
        await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
        await tick(slack, clock, seconds=1)
        assert [e["event_action"] for e in inbox.events] == ["trigger", "resolve"]
        # the page recorded as sent, by the key it went out with (not every key the roster could raise)
        assert [e["dedup_key"] for e in inbox.events[1:]] == ["incident-1-roles-p0"]


async def test_the_backup_page_is_a_new_pagerduty_alert(settings: Settings, fake: FakeSlack, people: People,
                                                        clock: ManualClock) -> None:
    """PagerDuty folds a trigger with an open alert's dedup key into it and notifies nobody: the backup,
    who must be reached, gets an alert of their own."""
    inbox = PagerDutyInbox()
    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        await declare(slack, fake, people, f"P1 Checkout errors tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)
        await tick(slack, clock, minutes=31)  # P1: respond within 30 minutes; nobody acknowledged

        keys = [e["dedup_key"] for e in inbox.events if e["event_action"] == "trigger"]
        assert keys == ["incident-1-roles-p1", "incident-1-backup"]
        assert people.bob in inbox.events[-1]["payload"]["custom_details"]["people"]  # the backup on-call


async def test_pagerduty_outage_is_retried_by_the_next_sweeps(settings: Settings, fake: FakeSlack,
                                                              people: People, clock: ManualClock) -> None:
    answers = iter([503, 202])
    events: list[dict] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        events.append(json.loads(request.content))
        return httpx.Response(next(answers), json={})

    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(flaky)) as slack:
        await declare(slack, fake, people, f"P1 Checkout errors tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)
        assert len(events) == 1
        await tick(slack, clock, seconds=31)
        assert len(events) == 2
        await tick(slack, clock, minutes=5)
        assert len(events) == 2


@pytest.mark.both_databases
async def test_work_due_while_stopped_fires_once_after_restart(settings: Settings, fake: FakeSlack,
                                                               people: People, clock: ManualClock) -> None:
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, fake, people, "P0 Complete API outage")

    clock.advance(hours=2)  # the bot is down while four reminders' worth of time passes
    async with running_bot(settings, fake, clock) as slack:
        await slack.runtime.sweeper.sweep_all()
        assert len(reminders(fake, channel)) == 1  # coalesced: one reminder, not a burst
        await slack.runtime.sweeper.sweep_all()
        assert len(reminders(fake, channel)) == 1
        async with slack.runtime.db.transaction() as session:
            [pending] = await session.scalars(select(DueWork).where(DueWork.done_at.is_(None)))
        assert pending.due_at == clock.now() + slack.runtime.policy.for_severity(Severity.P0).update_every


def page_roles_on_their_own(playbooks_dir: Path, paging: dict, **rotation: list[str]) -> None:
    path = playbooks_dir / "oncall.yml"
    roster = yaml.safe_load(path.read_text())
    roster["paging"] = paging
    roster["rotation"].update(rotation)
    path.write_text(yaml.safe_dump(roster))


def with_role_keys(settings: Settings) -> Settings:
    return dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY,
                               environment={"PAGERDUTY_KEY_ONCALL": ONCALL_KEY, "PAGERDUTY_KEY_TECH": TECH_KEY})


async def test_each_role_is_paged_through_its_own_service_and_every_alert_is_resolved(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    """Appendix A: the Technical Lead's page goes to agentguard-tech, the backup on-call's to agentguard-oncall
    (as the IC's), the Communications Lead's through Slack; each alert links to the channel, and resolving the
    incident resolves every one, each with its own service's key."""
    page_roles_on_their_own(playbooks_dir, APPENDIX_A)
    inbox = PagerDutyInbox()
    async with running_bot(with_role_keys(settings), fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        channel = await declare(slack, fake, people,
                                f"P0 Complete API outage tech:<@{people.bob}|bob> comms:<@{people.carol}|carol>")
        await tick(slack, clock, seconds=1)

        [tech] = inbox.events  # the IC is the declarer, here already: not paged
        assert (tech["routing_key"], tech["dedup_key"]) == (TECH_KEY, "incident-1-tech-p0")
        assert tech["payload"]["custom_details"]["people"] == [people.bob]
        assert tech["payload"]["custom_details"]["roles"] == ["tech"]
        assert tech["links"] == [{"href": f"https://slack.com/app_redirect?channel={channel}",
                                  "text": "Incident channel in Slack"}]
        assert any(":pager:" in m.text for m in fake.dms_to(people.carol))  # comms: paged in Slack
        assert fake.dms_to(people.bob) == []

        await tick(slack, clock, minutes=15)  # P0: respond within 15 minutes; nobody acknowledged
        backup = inbox.events[-1]
        assert (backup["event_action"], backup["routing_key"], backup["dedup_key"]) == (
            "trigger", ONCALL_KEY, "incident-1-backup")  # a new alert, on the on-call service
        assert backup["links"] == tech["links"]

        await slack.command("resolve Bad deploy | Rolled back", user=people.alice, channel=channel)
        await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
        await tick(slack, clock, seconds=1)
        resolved = {(e["routing_key"], e["dedup_key"]) for e in inbox.events if e["event_action"] == "resolve"}
        triggered = {(e["routing_key"], e["dedup_key"]) for e in inbox.events if e["event_action"] == "trigger"}
        # exactly the pages recorded as sent, each with the key it went out with
        assert resolved == triggered == {(ONCALL_KEY, "incident-1-backup"), (TECH_KEY, "incident-1-tech-p0")}
        async with slack.runtime.db.transaction() as session:
            texts = list(await session.scalars(select(TimelineEvent.text)))
        assert any("incident-1-tech-p0 on agentguard-tech triggered" in text for text in texts)
        assert any("on agentguard-oncall resolved" in text for text in texts)


async def test_a_role_with_its_own_service_is_paged_though_nobody_here_holds_it(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    """Nobody on the roster and no Technical Lead named: agentguard-tech's own schedule finds the person."""
    page_roles_on_their_own(playbooks_dir, APPENDIX_A, primary=[])
    inbox = PagerDutyInbox()
    async with running_bot(with_role_keys(settings), fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        await declare(slack, fake, people, "P1 Checkout errors")
        await tick(slack, clock, seconds=1)

        [tech] = inbox.events
        assert (tech["routing_key"], tech["dedup_key"]) == (TECH_KEY, "incident-1-tech-p1")
        assert tech["payload"]["custom_details"]["people"] == []


async def test_roles_without_a_pager_of_their_own_share_the_default_page(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    page_roles_on_their_own(playbooks_dir, {"comms": {"service": "agentguard-comms",
                                                      "routing_key_env": "PAGERDUTY_KEY_TECH"}})
    inbox = PagerDutyInbox()
    async with running_bot(with_role_keys(settings), fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        await declare(slack, fake, people, f"P0 Complete API outage tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)

        assert sorted((e["routing_key"], e["dedup_key"], tuple(e["payload"]["custom_details"]["roles"]))
                      for e in inbox.events) == [(ROUTING_KEY, "incident-1-roles-p0", ("tech",)),
                                                 (TECH_KEY, "incident-1-comms-p0", ("comms",))]


def test_a_routing_key_variable_that_is_not_set_stops_start_up(settings: Settings, playbooks_dir: Path) -> None:
    page_roles_on_their_own(playbooks_dir, APPENDIX_A)
    roster = Roster.load(playbooks_dir / "oncall.yml")
    path = playbooks_dir / "oncall.yml"
    with pytest.raises(PolicyError) as raised:
        routing_keys(roster, path, {"PAGERDUTY_KEY_TECH": TECH_KEY})
    assert str(raised.value) == (f"{path}: paging.ic.routing_key_env names the environment variable "
                                 "PAGERDUTY_KEY_ONCALL, which is not set")

    with pytest.raises(ConfigError, match="PAGERDUTY_KEY_TECH is malformed"):
        routing_keys(roster, path, {"PAGERDUTY_KEY_ONCALL": ONCALL_KEY, "PAGERDUTY_KEY_TECH": "not a key"})

    from_env = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
                                  "PAGERDUTY_KEY_ONCALL": ONCALL_KEY, "PAGERDUTY_KEY_TECH": f" {TECH_KEY} "})
    assert routing_keys(roster, path, from_env.environment) == {"ic": ONCALL_KEY, "tech": TECH_KEY,
                                                                "backup": ONCALL_KEY}


@pytest.mark.parametrize("paging, problem", [
    ({"tech": {"routing_key_evn": "PAGERDUTY_KEY_TECH"}}, "unknown key 'routing_key_evn' (did you mean "
                                                          "'routing_key_env'?)"),
    ({"techie": {"via": "slack"}}, "unknown key 'techie' (did you mean 'tech'?)"),
    ({"tech": {"via": "slack", "routing_key_env": "PAGERDUTY_KEY_TECH"}}, "a role paged via slack has no PagerDuty"),
    ({"tech": {"routing_key_env": "the tech key"}}, "paging.tech.routing_key_env"),
])
def test_paging_is_read_strictly(playbooks_dir: Path, paging: dict, problem: str) -> None:
    page_roles_on_their_own(playbooks_dir, paging)
    with pytest.raises(PolicyError) as raised:
        Roster.load(playbooks_dir / "oncall.yml")
    assert problem in str(raised.value)
