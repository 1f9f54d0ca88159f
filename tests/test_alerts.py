"""Alerts in: the sample payloads of each sender (tests/samples/alerts/, written from their public docs),
signed or authorised as each signs them, POSTed over HTTP to the real app; incidents declared through
the real flow into the fake Slack. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from app.alerts.connect import connect as connect_alert_sources
from app.alerts.models import AlertClaim
from app.alerts.routing import load_alert_rules
from app.incidents.models import Incident, Severity, TimelineEvent
from app.policy_files import PolicyError
from app.sandbox.fakeslack import FakeSlack
from app.settings import ConfigError, Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, settled

SAMPLES = Path(__file__).parent / "samples" / "alerts"
SENTRY_SECRET = "5e1c0d9f6a7b4c3d8e2f1a0b9c8d7e6f"
ALERTMANAGER_TOKEN = "am-token-0123456789abcdef"
PAGERDUTY_SECRET = "pd-secret-ABCDEFGHIJKLMNOP0123"
# Each sender's secret, in the variable playbooks/alerts.yml reads it from when it names none.
ALERT_SECRETS = {"SENTRY_CLIENT_SECRET": SENTRY_SECRET, "ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN,
                 "PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET}
# The samples were sent a minute or two before this (PagerDuty's event.occurred_at is 14:03:22).
SENT = datetime(2026, 12, 9, 14, 4, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SENT)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def signed(source: str, body: bytes, **headers: str) -> dict[str, str]:
    """The headers each sender adds, computed as its docs say."""
    if source == "sentry":
        digest = hmac.new(SENTRY_SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {"Sentry-Hook-Signature": digest, "Sentry-Hook-Resource": "event_alert",
                "Sentry-Hook-Timestamp": str(int(SENT.timestamp())), "Request-ID": str(uuid.uuid4()), **headers}
    if source == "alertmanager":
        return {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}", **headers}
    digest = hmac.new(PAGERDUTY_SECRET.encode(), body, hashlib.sha256).hexdigest()
    # While a secret is rotated, PagerDuty signs with each: any one that matches is enough.
    return {"X-PagerDuty-Signature": f"v1={'0' * 64},v1={digest}", **headers}


@pytest.fixture
def alert_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, environment=ALERT_SECRETS)


@pytest.fixture
async def bot(alert_settings: Settings, fake: FakeSlack, clock: ManualClock) -> AsyncIterator[SlackDriver]:
    async with running_bot(alert_settings, fake, clock) as driver:
        yield driver


def another(source: str, body: bytes) -> bytes:
    """The same alert in a delivery of its own (Sentry's next event of the issue, PagerDuty's next event)."""
    payload = json.loads(body)
    if source == "sentry":
        payload["data"]["event"]["event_id"] = uuid.uuid4().hex
    elif source == "pagerduty":
        payload["event"]["id"] = uuid.uuid4().hex.upper()[:26]
    return json.dumps(payload).encode()


async def send(bot: SlackDriver, source: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    headers = signed(source, body) if headers is None else headers
    return await bot.http.post(f"/alerts/{source}", content=body,
                               headers={"Content-Type": "application/json", **headers})


async def incidents(bot: SlackDriver) -> list[Incident]:
    async with bot.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))


async def timeline(bot: SlackDriver, incident_id: int, *kinds: str) -> list[TimelineEvent]:
    async with bot.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent).where(
            TimelineEvent.incident_id == incident_id, TimelineEvent.kind.in_(kinds))
            .order_by(TimelineEvent.at, TimelineEvent.id)))


FIRST = {
    "sentry": ("sentry-event-alert.json", "performance", Severity.P2,
               "Sentry: OperationalError: connection pool exhausted"),
    "alertmanager": ("alertmanager-firing.json", "outage", Severity.P1,
                     "APIDown: The AgentGuard API is not answering"),
    "pagerduty": ("pagerduty-incident-triggered.json", "outage", Severity.P1,
                  "PagerDuty: Checkout latency above 5s (Checkout)"),
}
RESOLVED = {
    "sentry": ("sentry-issue-resolved.json", {"Sentry-Hook-Resource": "issue"}),
    "alertmanager": ("alertmanager-resolved.json", {}),
    "pagerduty": ("pagerduty-incident-resolved.json", {}),
}


@pytest.mark.both_databases
@pytest.mark.parametrize("source", sorted(FIRST))
async def test_an_alert_declares_an_incident_and_its_repeats_and_resolution_go_on_its_timeline(
        bot: SlackDriver, fake: FakeSlack, people: People, source: str) -> None:
    name, kind, severity, title = FIRST[source]
    response = await send(bot, source, sample(name))

    assert response.status_code == 200, response.text
    [incident] = await incidents(bot)
    assert response.json() == {"declared": [incident.id], "added": [], "ignored": 0}
    assert (incident.kind, incident.severity, incident.title) == (kind, severity, title)
    assert incident.commander == people.carol  # the primary on-call commands what the bot declares
    await settled(bot.runtime)
    [channel] = [c for c in fake.channels.values() if c.name.startswith("incident-")]
    assert any(title in m.text for m in fake.messages_in(channel.id))  # the kickoff

    again = await send(bot, source, another(source, sample(name)))
    assert again.json() == {"declared": [], "added": [incident.id], "ignored": 0}

    resolved_name, extra = RESOLVED[source]
    body = sample(resolved_name)
    over = await send(bot, source, body, signed(source, body, **extra))
    assert over.json() == {"declared": [], "added": [incident.id], "ignored": 0}

    [still_open] = await incidents(bot)
    assert not still_open.is_resolved  # people say when it is over, not the alert
    [detected] = await timeline(bot, incident.id, "detected")
    assert f"{source} alert" in detected.text
    [_repeat] = await timeline(bot, incident.id, "alert")
    [resolution] = await timeline(bot, incident.id, "alert_resolved")
    assert "resolved" in resolution.text


@pytest.mark.parametrize("source, forgery", [
    (source, forgery) for source in sorted(FIRST) for forgery in ("unsigned", "wrong secret", "body changed")
    if not (source == "alertmanager" and forgery == "body changed")  # a bearer token does not sign the body
])
async def test_an_alert_that_does_not_prove_its_sender_is_refused_and_creates_nothing(
        bot: SlackDriver, source: str, forgery: str) -> None:
    body = sample(FIRST[source][0])
    if forgery == "unsigned":
        headers: dict[str, str] = {}
    elif forgery == "wrong secret":
        headers = {"sentry": {"Sentry-Hook-Signature": hmac.new(b"guess", body, hashlib.sha256).hexdigest()},
                   "alertmanager": {"Authorization": "Bearer guess"},
                   "pagerduty": {"X-PagerDuty-Signature": "v1=" + hmac.new(b"guess", body, hashlib.sha256).hexdigest()},
                   }[source]
    else:
        headers = signed(source, body)
        body = body.replace(b"firing", b"FIRING").replace(b"triggered", b"TRIGGERED ")

    response = await send(bot, source, body, headers)

    assert response.status_code == 401
    assert await incidents(bot) == []


async def test_a_source_without_a_secret_and_an_unknown_source_are_refused(
        settings: Settings, fake: FakeSlack, clock: ManualClock) -> None:
    async with running_bot(settings, fake, clock) as bot:  # no alert secrets set
        body = sample("alertmanager-firing.json")
        assert (await send(bot, "alertmanager", body)).status_code == 401
        assert (await send(bot, "nagios", body, {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"})).status_code == 401
        assert await incidents(bot) == []


@pytest.mark.both_databases
async def test_a_burst_of_one_alert_across_two_replicas_makes_one_incident(
        alert_settings: Settings, fake: FakeSlack, clock: ManualClock) -> None:
    body = sample("alertmanager-firing.json")
    async with AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(running_bot(alert_settings, fake, clock)) for _ in range(2)]
        # One client per replica, with room for the whole burst at once (httpx pools 100 by default).
        limits = httpx.Limits(max_connections=500)
        clients = [await stack.enter_async_context(httpx.AsyncClient(base_url=r.url, limits=limits, timeout=120))
                   for r in replicas]
        started = time.monotonic()
        responses = await asyncio.gather(*(clients[n % 2].post(
            "/alerts/alertmanager", content=body, headers={"Content-Type": "application/json",
                                                           **signed("alertmanager", body)}) for n in range(500)))
        print(f"500 alerts over HTTP to 2 replicas: {time.monotonic() - started:.1f}s")

        assert {r.status_code for r in responses} == {200}
        [incident] = await incidents(replicas[0])
        assert sum(len(r.json()["declared"]) for r in responses) == 1
        assert sum(len(r.json()["added"]) for r in responses) == 499
        assert len(await timeline(replicas[0], incident.id, "alert")) == 499
        await settled(replicas[0].runtime)
        assert len([c for c in fake.channels.values() if c.name.startswith("incident-")]) == 1


async def test_after_its_incident_is_resolved_the_same_alert_declares_a_new_one(
        bot: SlackDriver, fake: FakeSlack, people: People) -> None:
    body = sample("alertmanager-firing.json")
    first = (await send(bot, "alertmanager", body)).json()["declared"][0]
    await settled(bot.runtime)
    [channel] = [c.id for c in fake.channels.values() if c.name.startswith("incident-")]
    await bot.command("resolve Bad deploy | Rolled back", user=people.carol, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))

    second = (await send(bot, "alertmanager", body)).json()

    assert second["declared"] and second["declared"][0] != first
    async with bot.runtime.db.transaction() as session:
        [claim] = list(await session.scalars(select(AlertClaim)))
    assert claim.incident_id == second["declared"][0]


async def test_an_alert_no_rule_takes_and_a_page_of_our_own_make_no_incident(bot: SlackDriver) -> None:
    info = json.loads(sample("alertmanager-firing.json"))
    info["groupKey"] = '{}:{alertname="DiskAlmostFull"}'
    for alert in info["alerts"]:
        alert["labels"] = {"alertname": "DiskAlmostFull", "severity": "info"}
    info["commonLabels"] = {"alertname": "DiskAlmostFull", "severity": "info"}
    ours = json.loads(sample("pagerduty-incident-triggered.json"))
    ours["event"]["data"]["incident_key"] = "incident-7-page-2"  # PagerDuty paging someone for our incident 7

    for source, payload in (("alertmanager", info), ("pagerduty", ours)):
        response = await send(bot, source, json.dumps(payload).encode())
        assert response.status_code == 200
        assert response.json()["declared"] == []

    assert await incidents(bot) == []


async def test_a_malformed_payload_from_a_genuine_sender_is_a_400(bot: SlackDriver,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps({"version": "4", "alerts": "none"}).encode()
    response = await send(bot, "alertmanager", body)
    assert response.status_code == 400
    assert response.json() == {"error": "bad request"}
    assert "Refused POST /alerts/{source}: alertmanager: alerts is not a list (400" in caplog.text


# -- the policy file and the settings ---------------------------------------------------------------


def write_rules(directory: Path, rules: list[dict[str, Any]]) -> Path:
    path = directory / "alerts.yml"
    path.write_text(yaml.safe_dump({"rules": rules}))
    return path


@pytest.mark.parametrize("rule, problem", [
    ({"name": "db", "type": "database", "mathc": {"service": "db"}}, "unknown key 'mathc' (did you mean 'match'?)"),
    ({"name": "db", "type": "databse"}, "type 'databse' is not a playbook"),
    ({"name": "db"}, "give a severity (P0-P3), a type"),
    ({"name": "db", "severity": "P5"}, "rules[1].severity"),
    ({"name": "db", "source": "nagios", "severity": "P1"}, "rules[1].source"),
])
def test_a_malformed_alerts_file_names_the_problem(tmp_path: Path, rule: dict[str, Any], problem: str) -> None:
    with pytest.raises(PolicyError, match=None) as error:
        load_alert_rules(write_rules(tmp_path, [rule]), kinds=["database", "outage"])
    assert problem in str(error.value) and "alerts.yml" in str(error.value)


def test_without_a_sources_section_each_sender_whose_default_variable_is_set_is_accepted(tmp_path: Path) -> None:
    path = write_rules(tmp_path, [])

    accepted = connect_alert_sources(load_alert_rules(path, kinds=[]).sources, path, ALERT_SECRETS)
    assert sorted(accepted) == ["alertmanager", "pagerduty", "sentry"]
    assert list(connect_alert_sources(None, path, {"ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN})) == [
        "alertmanager"]
    assert connect_alert_sources(None, path, {"SENTRY_CLIENT_SECRET": " "}) == {}  # empty is unset
    with pytest.raises(ConfigError, match=r"^ALERTMANAGER_WEBHOOK_TOKEN is malformed"):
        connect_alert_sources(None, path, {"ALERTMANAGER_WEBHOOK_TOKEN": "short"})


def test_a_sources_section_accepts_the_senders_it_lists_with_the_secrets_it_names(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_text(yaml.safe_dump({"sources": {"alertmanager": {"webhook_secret_env": "GRAFANA_TOKEN"},
                                                "sentry": None}}))
    sources = load_alert_rules(path, kinds=[]).sources
    environ = {**ALERT_SECRETS, "GRAFANA_TOKEN": "grafana-token-0123456789"}

    accepted = connect_alert_sources(sources, path, environ)
    assert sorted(accepted) == ["alertmanager", "sentry"]  # PagerDuty's secret is set, but the file leaves it out
    assert accepted["alertmanager"].authentic({"Authorization": "Bearer grafana-token-0123456789"}, b"{}")
    with pytest.raises(PolicyError) as raised:
        connect_alert_sources(sources, path, {**environ, "GRAFANA_TOKEN": ""})
    assert str(raised.value) == (f"{path}: sources.alertmanager.webhook_secret_env names the environment variable "
                                 "GRAFANA_TOKEN, which is not set")
    path.write_text(yaml.safe_dump({"sources": {"datadog": None}}))
    with pytest.raises(PolicyError, match="sources"):
        load_alert_rules(path, kinds=[])


