"""A named service's on-call paged (playbooks/services.yml `oncall`) by the roles' page records and acknowledgement
rules (issue 22): from each way a service is named, once per incident and service across two replicas and a
restart; acknowledged by the person paged (from the DM, or in PagerDuty, which redraws the kickoff); unanswered
at the response time counted from when the service was named, the backup on-call is paged for it; resolved by the
keys it went out with. On SQLite and PostgreSQL, against the fake Slack, PagerDuty faked with httpx.MockTransport."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from app.duework import service as duework
from app.duework.models import DueWork, WorkKind
from app.incidents import affected
from app.incidents.models import Incident, TimelineEvent
from app.main import start_runtime
from app.oncall.models import PageRecord
from app.policy_files import PolicyError
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, eventually, pinned_kickoff, settled
from tests.test_alerts import ALERTMANAGER_TOKEN, send
from tests.test_clock import declare, tick
from tests.test_detection import HealthEndpoint, api_check, bot_with, endpoint, probes  # noqa: F401 - a fixture
from tests.test_page_records import PAGERDUTY_SECRET, acknowledged_in_pagerduty, missed, signed_by_pagerduty
from tests.test_paging import PagerDutyInbox

DB_KEY = "D0123456789ABCDEF0123456789ABCDE"  # agentguard-db's Events API v2 integration key
ROOT = Path(__file__).resolve().parent.parent
STRIPE = "on call for Stripe, an affected service"  # the reason Bob's page gives
API = "on call for AgentGuard API, an affected service"


@pytest.fixture
def playbooks_dir(playbooks_dir: Path) -> Path:
    """The shipped catalog, Stripe's on-call being the rotation's backup (Bob); the others the primary (Carol)."""
    path = playbooks_dir / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    catalog["services"]["stripe"]["oncall"] = "backup"
    path.write_text(yaml.safe_dump(catalog))
    return playbooks_dir


def service_pages(fake: FakeSlack, person: str, reason: str) -> list[str]:
    """The page DMs sent to `person` that give this reason."""
    return [m.text for m in fake.dms_to(person) if "You are paged" in m.text and reason in m.text]


async def records(slack: SlackDriver, *, for_service: str | None = None) -> list[PageRecord]:
    async with slack.runtime.db.transaction() as session:
        query = select(PageRecord).order_by(PageRecord.id)
        if for_service is not None:
            query = query.where(PageRecord.for_service == for_service)
        return list(await session.scalars(query))


async def the_incident(slack: SlackDriver, number: int = 1) -> Incident:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))[number - 1]


async def page_lines(slack: SlackDriver) -> list[str]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent.text).where(TimelineEvent.kind == "page")
                                          .order_by(TimelineEvent.id)))


async def add(slack: SlackDriver, clock: ManualClock, keys: list[str], *, by: str, number: int = 1) -> None:
    """Name services as `/incident services add` does, in a transaction of the test's own."""
    async with slack.runtime.db.transaction() as session:
        incident = await session.get_one(Incident, (await the_incident(slack, number)).id)
        await affected.add_services(session, incident, keys, by=by, now=clock.now(),
                                    rules=slack.runtime.policy.for_severity(incident.severity))


# -- paged, acknowledged ----------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_declaration_pages_the_services_on_call_once_and_they_acknowledge_it_from_the_page(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 stripe Payments failing")
    await tick(slack, clock, seconds=1)
    [page] = [m for m in fake.dms_to(people.bob) if STRIPE in m.text]
    assert "*You are paged* for a *P1* incident: Payments failing" in page.text
    [record] = await records(slack, for_service="stripe")
    assert (record.recipient, record.page_key, record.via, record.roles) == (people.bob, "service-stripe", "slack", "")
    assert people.bob in fake.channels[channel].members  # invited, as a paged role holder is
    # The kickoff, redrawn once the page went out, lists it beside the roles' page (Carol, Technical Lead).
    assert re.search(rf"• <@{people.bob}> \(on call for Stripe\), paged at <!date\^\d+\^{{time}}\|[^>]+>: "
                     r"not acknowledged yet", pinned_kickoff(fake, channel).text), pinned_kickoff(fake, channel).text
    assert f"<@{people.carol}> (tech)" in pinned_kickoff(fake, channel).text

    for _ in range(3):  # the clock comes round: nobody is paged twice for the same service
        await tick(slack, clock, minutes=1)
    assert len(service_pages(fake, people.bob, STRIPE)) == 1 and len(await records(slack, for_service="stripe")) == 1

    [button] = [e for b in page.blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "acknowledge"]
    await slack.press("acknowledge", button["value"], user=people.bob, channel=page.channel, message_ts=page.ts)
    await fake.wait_for(lambda: any(f"<@{people.bob}> acknowledged their page (on call for Stripe)" in m.text
                                    for m in fake.messages_in(channel)))
    [record] = await records(slack, for_service="stripe")
    assert (record.acknowledged_by, record.acknowledged_how) == (people.bob, "pressed Acknowledge")
    assert re.search(rf"<@{people.bob}> \(on call for Stripe\), paged at <!date[^>]+>: acknowledged at",
                     pinned_kickoff(fake, channel).text), pinned_kickoff(fake, channel).text

    await tick(slack, clock, minutes=30)  # P1: 30 minutes. Carol never answered her page; Bob answered his.
    [missed_line] = missed(fake, channel)
    assert f"<@{people.carol}>'s page (tech" in missed_line and "Stripe" not in missed_line


@pytest.mark.both_databases
async def test_a_service_named_later_has_its_own_response_time_and_the_backup_is_paged_for_its_page(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout failing")  # Carol paged as Technical Lead
    await tick(slack, clock, seconds=1)
    await tick(slack, clock, minutes=10)
    reply = await slack.command("services add api", user=people.alice, channel=channel)
    assert reply.status == 200
    await eventually(lambda: _paged(slack, "api"))
    await tick(slack, clock, seconds=1)
    assert len(service_pages(fake, people.carol, API)) == 1

    await tick(slack, clock, minutes=20)  # 30 minutes from the declaration: the roles' page only
    [roles_missed] = missed(fake, channel)
    assert f"<@{people.carol}>'s page (tech" in roles_missed and "AgentGuard API" not in roles_missed
    await tick(slack, clock, minutes=9)
    assert len(missed(fake, channel)) == 1  # api's page has 30 minutes from when api was named
    await tick(slack, clock, minutes=1)
    api_missed = missed(fake, channel)[-1]
    assert f"<@{people.carol}>'s page (on call for AgentGuard API, sent" in api_missed
    assert f"Paged the backup on-call, <@{people.bob}>" in api_missed
    backup_pages = [r for r in await records(slack) if r.is_backup]
    assert [(r.page_key, r.recipient) for r in backup_pages] == [("backup", people.bob), ("backup-api", people.bob)]
    await tick(slack, clock, minutes=30)
    assert len(missed(fake, channel)) == 2  # each once


async def _paged(slack: SlackDriver, service: str) -> bool:
    return bool(await records(slack, for_service=service))


# -- PagerDuty: the service's own, acknowledged there, resolved by the recorded key ------------------------


@pytest.mark.both_databases
async def test_a_service_with_its_own_pagerduty_service_is_paged_there_acknowledged_there_and_resolved(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    path = playbooks_dir / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    catalog["services"]["postgres"]["oncall"] = {"pagerduty_service": "agentguard-db",
                                                 "routing_key_env": "PAGERDUTY_KEY_DB"}
    path.write_text(yaml.safe_dump(catalog))
    settings = dataclasses.replace(settings, environment={"PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET,
                                                          "PAGERDUTY_KEY_DB": DB_KEY})
    inbox = PagerDutyInbox()
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as slack:
        channel = await declare(slack, fake, people, "P1 postgres Database connections failing")
        await tick(slack, clock, seconds=1)
        [trigger] = inbox.events  # the roles' page (Carol) goes through Slack: no PAGERDUTY_ROUTING_KEY
        assert (trigger["routing_key"], trigger["dedup_key"]) == (DB_KEY, "incident-1-service-postgres")
        assert trigger["payload"]["custom_details"]["reason"] == "on call for AgentGuard database, an affected service"
        assert trigger["links"] == [{"href": f"https://slack.com/app_redirect?channel={channel}",
                                     "text": "Incident channel in Slack"}]
        [record] = await records(slack, for_service="postgres")
        assert (record.recipient, record.service, record.routing_key_name) == ("", "agentguard-db", "PAGERDUTY_KEY_DB")
        shown = pinned_kickoff(fake, channel).text
        assert "the agentguard-db schedule (on call for AgentGuard database), paged at" in shown

        body = acknowledged_in_pagerduty("incident-1-service-postgres", clock, by="Dina DBA")
        response = await slack.http.post("/alerts/pagerduty", content=body, headers=signed_by_pagerduty(body))
        assert response.status_code < 300
        await tick(slack, clock, seconds=1)  # the channel hears of it and the kickoff is redrawn (issue 20)
        assert any("Dina DBA acknowledged the pagerduty page (on call for AgentGuard database) in PagerDuty" in m.text
                   for m in fake.messages_in(channel))
        shown = pinned_kickoff(fake, channel).text
        assert re.search(r"the agentguard-db schedule \(on call for AgentGuard database\), paged at <!date[^>]+>: "
                         r"acknowledged by Dina DBA at <!date[^>]+> in PagerDuty", shown), shown
        await tick(slack, clock, minutes=30)
        assert not any("AgentGuard database" in line for line in missed(fake, channel))

        await slack.command("resolve Pool exhausted | Raised the pool size", user=people.alice, channel=channel)
        await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
        await tick(slack, clock, seconds=1)
        resolved = [(e["routing_key"], e["dedup_key"]) for e in inbox.events if e["event_action"] == "resolve"]
        assert resolved == [(DB_KEY, "incident-1-service-postgres")]
        await tick(slack, clock, minutes=5)
        assert len([e for e in inbox.events if e["event_action"] == "trigger"]) == 1


# -- once, across replicas and restarts --------------------------------------------------------------------


@pytest.mark.both_databases
async def test_two_replicas_sweeping_together_page_each_service_exactly_once(
        database_url: str, settings: Settings, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas share PostgreSQL; SQLite is the single-process store")
    async with running_bot(settings, fake, clock) as first, running_bot(settings, fake, clock) as second:
        await declare(first, fake, people, "P1 Checkout failing")
        await first.runtime.sweeper.sweep_all()  # the roles' page first
        for _ in range(3):  # named, swept by both at once, removed; named again: paged once all the same
            await add(first, clock, ["api", "stripe"], by=people.alice)
            await asyncio.gather(first.runtime.sweeper.sweep_all(), second.runtime.sweeper.sweep_all(),
                                 first.runtime.sweeper.sweep_all(), second.runtime.sweeper.sweep_all())
            async with first.runtime.db.transaction() as session:
                stored = await session.get_one(Incident, (await the_incident(first)).id)
                await affected.remove_services(session, stored, ["api", "stripe"], by=people.alice, now=clock.now())
        assert len(service_pages(fake, people.carol, API)) == 1
        assert len(service_pages(fake, people.bob, STRIPE)) == 1
        # one page record per service, in whichever order the two replicas wrote them
        assert sorted(r.for_service for r in await records(first) if r.for_service) == ["api", "stripe"]
        async with first.runtime.db.transaction() as session:
            rows = list(await session.scalars(select(DueWork).where(DueWork.kind == WorkKind.SERVICE_PAGE)))
        assert sorted((row.key, row.outcome) for row in rows) == [("api", "done"), ("stripe", "done")]


@pytest.mark.both_databases
async def test_a_restart_finishes_a_page_a_stopped_worker_left_once(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    async with running_bot(settings, fake, clock) as before_restart:
        await declare(before_restart, fake, people, "P1 Payments failing", user=people.carol)  # she is IC
        await add(before_restart, clock, ["stripe"], by=people.carol)
        async with before_restart.runtime.db.transaction() as session:  # a worker claims it, then stops
            [claimed] = await duework.claim_due(session, now=clock.now(), limit=5, worker="stopped",
                                                lease_until=clock.now() + timedelta(minutes=1),
                                                kinds=[WorkKind.SERVICE_PAGE])
            assert claimed.key == "stripe"
    clock.advance(minutes=2)
    async with running_bot(settings, fake, clock) as after_restart:
        await after_restart.runtime.sweeper.sweep_all()
        await after_restart.runtime.sweeper.sweep_all()
        assert len(service_pages(fake, people.bob, STRIPE)) == 1
        assert len(await records(after_restart, for_service="stripe")) == 1


@pytest.mark.both_databases
async def test_a_page_written_down_but_not_sent_before_a_restart_is_sent_once_after_it(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    async with running_bot(settings, fake, clock) as before_restart:
        channel = await declare(before_restart, fake, people, "P1 Payments failing", user=people.carol)
        await add(before_restart, clock, ["stripe"], by=people.carol)
        fake.fail("chat.postMessage", status=500, times=3)  # the DM fails, its retries too
        await before_restart.runtime.sweeper.sweep_all()
        assert len(await records(before_restart, for_service="stripe")) == 1  # written down before the DM
        assert service_pages(fake, people.bob, STRIPE) == []
    clock.advance(minutes=2)
    async with running_bot(settings, fake, clock) as after_restart:
        await after_restart.runtime.sweeper.sweep_all()
        await tick(after_restart, clock, minutes=5)
        assert len(service_pages(fake, people.bob, STRIPE)) == 1
        [record] = await records(after_restart, for_service="stripe")
        assert record.recipient == people.bob
        assert f"<@{people.bob}> (on call for Stripe), paged at" in pinned_kickoff(fake, channel).text


# -- the other ways a service is named, and when nobody is paged ------------------------------------------


async def test_an_alerts_service_label_pages_that_services_on_call(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    body = (ROOT / "tests" / "samples" / "alerts" / "alertmanager-firing.json").read_text()
    body = body.replace('"severity": "critical"', '"severity": "critical", "service": "stripe"')
    settings = dataclasses.replace(settings, environment={"ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN})
    async with running_bot(settings, fake, clock) as bot:
        response = await send(bot, "alertmanager", body.encode())
        assert response.status_code == 200, response.text
        await settled(bot.runtime)
        await tick(bot, clock, seconds=1)
        assert len(service_pages(fake, people.bob, STRIPE)) == 1


async def test_a_health_check_pages_its_services_on_call(settings: Settings, fake: FakeSlack, people: People,
                                                         clock: ManualClock,
                                                         endpoint: HealthEndpoint) -> None:  # noqa: F811 - fixture
    async with bot_with(settings, fake, clock, api_check(endpoint.url, service="stripe")) as bot:
        endpoint.healthy = False
        await probes(bot, clock, 3)
        await settled(bot.runtime)
        await tick(bot, clock, seconds=1)
        assert len(service_pages(fake, people.bob, STRIPE)) == 1


async def test_a_severity_that_pages_nobody_pages_no_on_call_until_it_is_raised(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 stripe Refunds slow")
    await tick(slack, clock, minutes=5)
    assert await records(slack) == []
    await slack.command("severity P1", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("to *P1" in m.text for m in fake.messages_in(channel)))
    await tick(slack, clock, seconds=1)  # paged with the roles P1 pages, by the next sweep
    assert len(service_pages(fake, people.bob, STRIPE)) == 1
    await slack.command("severity P0", user=people.alice, channel=channel)
    await tick(slack, clock, minutes=1)
    assert len(service_pages(fake, people.bob, STRIPE)) == 1  # raised again: paged once per incident


async def test_nobody_is_paged_for_a_private_incident_or_an_on_call_who_declared_it(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    await declare(slack, fake, people, "private P1 stripe Card data exposed")
    await declare(slack, fake, people, "P1 stripe Payouts failing", user=people.bob, number=2)
    await tick(slack, clock, seconds=1)
    assert service_pages(fake, people.bob, STRIPE) == []
    lines = await page_lines(slack)
    assert "On-call of Stripe not paged: the incident is private (page them if they need to know)." in lines
    assert "On-call of Stripe not paged: they declared the incident." in lines


async def test_a_services_routing_key_that_is_not_set_stops_start_up(settings: Settings, playbooks_dir: Path) -> None:
    path = playbooks_dir / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    catalog["services"]["postgres"]["oncall"] = {"pagerduty_service": "agentguard-db",
                                                 "routing_key_env": "PAGERDUTY_KEY_DB"}
    path.write_text(yaml.safe_dump(catalog))
    with pytest.raises(PolicyError, match=r"services.yml: postgres.oncall.routing_key_env names the environment "
                                          r"variable PAGERDUTY_KEY_DB, which is not set"):
        await start_runtime(settings)
