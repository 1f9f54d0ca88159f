"""Affected services (playbooks/services.yml): named at declaration (command, form, alert label, health check)
and later (`/incident services add|remove`), shown on the kickoff with owner and runbooks, a look-alike by
service, a typo stopping start-up, and a service removed from the catalog staying on its incidents."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.catalog.services import load_catalog
from app.detection.config import load_checks
from app.incidents.models import Incident, TimelineEvent
from app.main import start_runtime
from app.policy_files import PolicyError
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, pinned_kickoff, settled
from tests.test_alerts import ALERTMANAGER_TOKEN, send
from tests.test_clock import declare
from tests.test_detection import HealthEndpoint, api_check, bot_with, endpoint, probes  # noqa: F401 - a fixture
from tests.test_duplicates import buttons

ROOT = Path(__file__).resolve().parent.parent


async def incidents(slack: SlackDriver) -> list[Incident]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))


async def service_lines(slack: SlackDriver, incident_id: int) -> list[str]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent.text).where(
            TimelineEvent.incident_id == incident_id, TimelineEvent.kind == "services_changed")
            .order_by(TimelineEvent.id)))


# -- ways in --------------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_a_declaration_names_services_and_the_kickoff_shows_owner_and_runbooks(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 api,postgres Checkout failing | EU customers cannot pay")
    [incident] = await incidents(slack)
    assert incident.title == "Checkout failing" and incident.impact == "EU customers cannot pay"
    assert incident.service_keys == ["api", "postgres"]
    assert await service_lines(slack, incident.id) == ["Affected services: api, postgres"]
    text = pinned_kickoff(fake, channel).text
    assert "Affected services:" in text
    assert "*AgentGuard API* (`api`) — owner @engineering" in text
    assert "<https://dashboard.render.com/|Render dashboard>" in text
    assert "*AgentGuard database* (`postgres`)" in text


async def test_a_word_that_is_not_a_service_stays_in_the_title(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    await declare(slack, fake, people, "P2 Checkout api is slow")
    await declare(slack, fake, people, "P2 api", number=2)
    first, second = await incidents(slack)
    assert (first.title, first.service_keys) == ("Checkout api is slow", [])
    assert (second.title, second.service_keys) == ("api", [])  # the whole title is never taken


@pytest.mark.both_databases
async def test_services_are_added_and_removed_on_the_timeline_and_the_kickoff_and_list_filters_by_them(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 api Checkout failing")
    await declare(slack, fake, people, "P2 Search slow", number=2)
    reply = await slack.command("services add stripe, claude", user=people.alice, channel=channel)
    await settled(slack.runtime)
    assert reply.status == 200
    await fake.wait_for(lambda: "*Stripe* (`stripe`)" in pinned_kickoff(fake, channel).text)
    await slack.command("services remove api", user=people.alice, channel=channel)
    await settled(slack.runtime)
    # at risk now, not affected
    await fake.wait_for(lambda: "(`api`) — owner" not in pinned_kickoff(fake, channel).text)
    first, _ = await incidents(slack)
    assert first.service_keys == ["claude", "stripe"]
    assert await service_lines(slack, first.id) == [
        "Affected services: api", "Services added: stripe, claude", "Services removed: api"]
    assert any("named services this incident affects" in m.text for m in fake.messages_in(channel))

    again = await slack.command("services add stripe", user=people.alice, channel=channel)
    assert "already names `stripe`" in await again.text()
    unknown = await slack.command("services add checkout", user=people.alice, channel=channel)
    assert "`checkout` is not a service in the catalog" in unknown.ack_text

    listed = await slack.command("list service:stripe", user=people.bob, channel=people.general)
    text = await listed.text()
    assert "Checkout failing" in text and "Search slow" not in text
    nothing = await slack.command("list service:api", user=people.bob, channel=people.general)
    assert "No open incident names `api`" in await nothing.text()


@pytest.mark.both_databases
async def test_the_declare_form_offers_the_catalog_and_names_the_chosen_services(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    await slack.command("declare", user=people.alice, channel=people.general, trigger_id="trigger-form-1")
    await fake.wait_for(lambda: fake.views)
    view = fake.views[-1]["view"]
    block = next(b for b in view["blocks"] if b["block_id"] == "services")
    assert block["element"]["type"] == "multi_static_select"
    assert [o["value"] for o in block["element"]["options"]] == ["api", "postgres", "redis", "claude", "stripe"]

    response = await slack.interaction({
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": people.alice, "name": "alice", "team_id": fake.team_id},
        "view": {**view, "id": "V1", "state": {"values": {
            "title": {"value": {"type": "plain_text_input", "value": "Payments failing"}},
            "kind": {"value": {"type": "static_select", "selected_option": None}},
            "severity": {"value": {"type": "static_select", "selected_option": {"value": "P1"}}},
            "services": {"value": {"type": "multi_static_select",
                                   "selected_options": [{"value": "stripe"}, {"value": "api"}]}},
            "impact": {"value": {"type": "plain_text_input", "value": None}},
            "commander": {"value": {"type": "users_select", "selected_user": None}},
            "private": {"value": {"type": "checkboxes", "selected_options": []}},
        }}},
    })
    assert response.status_code == 200
    await fake.wait_for(lambda: fake.channel_by_name("incident-20261125-1430") is not None)
    await settled(slack.runtime)
    [incident] = await incidents(slack)
    assert incident.service_keys == ["api", "stripe"]  # named at once: in the order of their keys


@pytest.fixture
def alert_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, environment={"ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN})


@pytest.mark.both_databases
async def test_an_alert_names_the_services_its_rule_reads_from_a_label(
        alert_settings: Settings, fake: FakeSlack, clock: ManualClock) -> None:
    body = (ROOT / "tests" / "samples" / "alerts" / "alertmanager-firing.json").read_text()
    body = body.replace('"severity": "critical"', '"severity": "critical", "service": "api,unknown-thing"')
    async with running_bot(alert_settings, fake, clock) as bot:
        response = await send(bot, "alertmanager", body.encode())
        assert response.status_code == 200, response.text
        await settled(bot.runtime)
        [incident] = await incidents(bot)
        assert incident.service_keys == ["api"]  # a label value the catalog has not is left out


@pytest.mark.both_databases
async def test_a_health_check_names_its_service(settings: Settings, fake: FakeSlack, clock: ManualClock,
                                                endpoint: HealthEndpoint) -> None:  # noqa: F811 - the fixture
    async with bot_with(settings, fake, clock, api_check(endpoint.url, service="api")) as bot:
        endpoint.healthy = False
        await probes(bot, clock, 3)
        await settled(bot.runtime)
        [incident] = await incidents(bot)
        assert incident.service_keys == ["api"]


# -- look-alikes ----------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_two_declarations_naming_the_same_service_get_the_join_or_declare_choice(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 api Checkout failing")
    clock.advance(minutes=2)
    reply = await slack.command("declare P2 api Logins time out", user=people.bob, channel=people.general)
    offer = await reply.response()
    assert f"<#{channel}>" in offer["text"]
    assert set(buttons(offer)) == {"join_incident", "declare_anyway"}
    assert len(await incidents(slack)) == 1

    await slack.press("declare_anyway", buttons(offer)["declare_anyway"], user=people.bob, channel=people.general,
                      message_ts="1.2")
    await fake.wait_for(lambda: len([c for c in fake.channels.values() if c.name.startswith("incident-")]) == 2)
    await settled(slack.runtime)
    _, second = await incidents(slack)
    assert second.service_keys == ["api"]  # declared anyway, still naming its service

    await declare(slack, fake, people, "P2 stripe Logins time out again", number=3)  # another service: no choice


# -- the catalog as data --------------------------------------------------------------------------


async def test_a_typo_in_services_yml_stops_start_up_naming_the_file_and_the_key(settings: Settings) -> None:
    path = settings.playbooks_dir / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    catalog["services"]["api"]["ownr"] = catalog["services"]["api"].pop("owner")
    path.write_text(yaml.safe_dump(catalog))
    with pytest.raises(PolicyError) as stopped:
        await start_runtime(settings)
    assert "services.yml" in str(stopped.value)
    assert "services.api: unknown key 'ownr' (did you mean 'owner'?)" in str(stopped.value)


@pytest.mark.parametrize(("change", "problem"), [
    (lambda c: c["api"].update(depends_on=["postgress"]), "services.api.depends_on: 'postgress' is not a service"),
    (lambda c: c["postgres"].update(depends_on=["api"]), "a cycle ("),
    (lambda c: c.update(outage={"name": "x", "owner": "y"}), "services.outage: 'outage' is also an incident type"),
    (lambda c: c.update(Api={"name": "x", "owner": "y"}), "services.Api: a key is lower-case"),
    (lambda c: c["api"].update(oncall={"roster": "primary", "routing_key_env": "PD_KEY"}), "give either roster"),
])
def test_catalog_mistakes_name_the_file_and_the_key(tmp_path: Path, change, problem: str) -> None:  # type: ignore[no-untyped-def]
    catalog = yaml.safe_load((ROOT / "playbooks" / "services.yml").read_text())
    change(catalog["services"])
    (tmp_path / "services.yml").write_text(yaml.safe_dump(catalog))
    with pytest.raises(PolicyError, match=r"services\.yml") as stopped:
        load_catalog(tmp_path / "services.yml", kinds={"outage", "database"})
    assert problem in str(stopped.value)


def test_a_health_check_names_a_service_of_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "detection.yml").write_text(yaml.safe_dump({"checks": [
        {"name": "api", "url": "https://example.com/health", "severity": "P1", "service": "apii"}]}))
    with pytest.raises(PolicyError, match=r"detection.yml: check 1 \(api\): service 'apii' is not in"):
        load_checks(tmp_path / "detection.yml", kinds=(), services={"api"})


def test_the_shipped_catalog_is_the_plans_services() -> None:
    catalog = load_catalog(ROOT / "playbooks" / "services.yml",
                           kinds={p.stem for p in (ROOT / "playbooks" / "types").glob("*.yml")})
    assert list(catalog.keys()) == ["api", "postgres", "redis", "claude", "stripe"]
    assert {s.key for s in catalog.dependents("stripe")} == {"api"}


# -- a catalog change never breaks an open incident -----------------------------------------------


@pytest.mark.both_databases
async def test_a_service_removed_from_the_catalog_stays_on_its_incident_and_start_up_names_it(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, fake, people, "P1 stripe Payments failing")
    path = settings.playbooks_dir / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    del catalog["services"]["stripe"]
    catalog["services"]["api"]["depends_on"].remove("stripe")
    path.write_text(yaml.safe_dump(catalog))

    caplog.set_level(logging.WARNING, logger="app.main")
    async with running_bot(settings, fake, clock) as slack:
        [line] = [r.getMessage() for r in caplog.records if r.name == "app.main"]
        assert line == "Open incidents name services no longer in playbooks/services.yml: #1 (stripe)"
        await slack.command("services add api", user=people.alice, channel=channel)
        await settled(slack.runtime)
        await fake.wait_for(lambda: "`stripe` (no longer in the service catalog)" in pinned_kickoff(fake, channel).text)
        [incident] = await incidents(slack)
        assert sorted(incident.service_keys) == ["api", "stripe"]
        listed = await slack.command("list service:stripe", user=people.bob, channel=people.general)
        assert "Payments failing" in await listed.text()
        removed = await slack.command("services remove stripe", user=people.alice, channel=channel)
        assert removed.status == 200
        await fake.wait_for(lambda: "`stripe`" not in pinned_kickoff(fake, channel).text)
        [incident] = await incidents(slack)
        assert incident.service_keys == ["api"]
