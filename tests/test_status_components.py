"""The status page's components (playbooks/services.yml `status_page`, states by severity in
playbooks/status_page.yml): shown on the bot's page (/status, /status.json) and sent to Statuspage.io
(`components` and `component_ids`, checked by the loopback fake as the API documents them), restored to
operational when the incident is resolved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, eventually
from tests.test_comms import approve, approved, declare, draft, resolve, stored_draft
from tests.test_status_page import API_URL, FakeStatuspageIo, page, published, with_statuspage_io


def components(status: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in status["components"]}


async def announce(slack: SlackDriver, fake: FakeSlack, people: People, text: str) -> str:
    """Declare, and approve its first status-page update: the incident is on the page."""
    channel = await declare(slack, people, text)
    message = await draft(slack, fake, channel, "statuspage", user=people.alice)
    await approve(slack, fake, message, user=people.alice)
    await approved(slack, message)
    return channel


@pytest.mark.both_databases
async def test_the_bot_page_shows_affected_components_by_severity_and_restores_them_at_resolution(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    quiet = components(await published(slack))
    assert quiet == {"API": "operational", "Database": "operational", "Agent analysis": "operational",
                     "Billing": "operational"}

    # Not on the page until an update is approved: no component marked.
    unannounced = await declare(slack, people, "P0 postgres Database down")
    assert components(await published(slack))["Database"] == "operational"

    checkout = await announce(slack, fake, people, "P1 api,stripe Checkout failing")
    shown = components(await published(slack))
    assert shown == {"API": "partial_outage", "Database": "operational", "Agent analysis": "operational",
                     "Billing": "partial_outage"}
    html = await page(slack)
    assert '<span class="name">API</span> <span class="state partial_outage">Partial outage</span>' in html

    # A P2 on the same component does not make it look better; a P3 elsewhere is degraded performance.
    await announce(slack, fake, people, "P3 claude Slow analysis")
    await announce(slack, fake, people, "P2 redis Cache misses")
    shown = components(await published(slack))
    assert shown["API"] == "partial_outage" and shown["Agent analysis"] == "degraded_performance"

    clock.advance(minutes=20)
    await resolve(slack, fake, checkout, "Bad deploy | Rolled back", user=people.alice)
    shown = components(await published(slack))
    assert shown["Billing"] == "operational"  # at once, before any Resolved update is approved
    assert shown["API"] == "degraded_performance"  # the open P2 on redis (the API component) remains
    assert "Degraded performance" in await page(slack)
    assert unannounced  # declared, never shown


@pytest.fixture
def statuspage_playbooks(playbooks_dir: Path) -> Path:
    path = playbooks_dir / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    catalog["services"]["api"]["status_page"] = {"component": "API", "statuspage_id": "cmp-api"}
    catalog["services"]["stripe"]["status_page"] = {"component": "Billing", "statuspage_id": "cmp-billing"}
    path.write_text(yaml.safe_dump(catalog))
    return playbooks_dir


@pytest.fixture
async def bot(settings: Settings, fake: FakeSlack, clock: ManualClock, statuspage_playbooks: Path,
              statuspage_io: FakeStatuspageIo) -> AsyncIterator[SlackDriver]:
    statuspage_io.components.update({"cmp-api": "operational", "cmp-billing": "operational",
                                     "cmp-other": "operational"})
    configured = with_statuspage_io(replace(settings, playbooks_dir=statuspage_playbooks))
    async with running_bot(configured, fake, clock, http_transport=httpx.MockTransport(statuspage_io.handle)) as driver:
        yield driver


@pytest.fixture
def statuspage_io() -> FakeStatuspageIo:
    return FakeStatuspageIo()


async def _published_id(slack: SlackDriver, message: Any) -> str | None:
    return (await stored_draft(slack, message)).statuspage_incident_id


@pytest.mark.both_databases
async def test_statuspage_io_gets_the_components_with_their_states_and_operational_at_resolution(
        bot: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock,
        statuspage_io: FakeStatuspageIo) -> None:
    channel = await declare(bot, people, "P0 api,stripe,postgres Everything down")
    first = await draft(bot, fake, channel, "statuspage", user=people.alice)
    await approve(bot, fake, first, user=people.alice)
    assert await eventually(lambda: _published_id(bot, first)) == "sp-1"
    method, url, _, sent = statuspage_io.sent()[-1]
    assert (method, url) == ("POST", f"{API_URL}/pages/page-9/incidents")
    # postgres has no Statuspage.io component: only the two that have one are named.
    assert sent["incident"]["components"] == {"cmp-api": "major_outage", "cmp-billing": "major_outage"}
    assert sent["incident"]["component_ids"] == ["cmp-api", "cmp-billing"]
    assert statuspage_io.components == {"cmp-api": "major_outage", "cmp-billing": "major_outage",
                                        "cmp-other": "operational"}

    clock.advance(minutes=30)
    await resolve(bot, fake, channel, "Disk full | Freed space", user=people.alice)
    # Resolved: the components are operational again at once, before any Resolved words are approved.
    await bot.runtime.sweeper.sweep_all()
    method, url, _, sent = statuspage_io.sent()[-1]
    assert (method, url) == ("PATCH", f"{API_URL}/pages/page-9/incidents/sp-1")
    assert sent == {"incident": {"components": {"cmp-api": "operational", "cmp-billing": "operational"},
                                 "component_ids": ["cmp-api", "cmp-billing"]}}
    assert set(statuspage_io.components.values()) == {"operational"}
    assert statuspage_io.incidents["sp-1"]["status"] == "investigating"  # the words wait for approval
    requests = len(statuspage_io.requests)
    await bot.runtime.sweeper.sweep_all()
    assert len(statuspage_io.requests) == requests  # once

    resolved = await draft(bot, fake, channel, "statuspage", user=people.alice)
    await approve(bot, fake, resolved, user=people.alice)
    await eventually(lambda: _published_id(bot, resolved))
    method, url, _, sent = statuspage_io.sent()[-1]
    assert (method, url) == ("PATCH", f"{API_URL}/pages/page-9/incidents/sp-1")
    assert sent["incident"]["status"] == "resolved"
    assert sent["incident"]["components"] == {"cmp-api": "operational", "cmp-billing": "operational"}
    assert set(statuspage_io.components.values()) == {"operational"}
    assert len(statuspage_io.incidents) == 1


async def test_the_statuspage_fake_refuses_components_the_api_would_refuse(statuspage_io: FakeStatuspageIo) -> None:
    statuspage_io.components["cmp-api"] = "operational"
    transport = httpx.MockTransport(statuspage_io.handle)
    async with httpx.AsyncClient(transport=transport) as http:
        url = f"{API_URL}/pages/page-9/incidents"
        for fields in ({"components": {"cmp-api": "on_fire"}}, {"components": {"cmp-nope": "major_outage"}},
                       {"components": ["cmp-api"]}, {"component_ids": "cmp-api"}, {"component_ids": ["cmp-nope"]}):
            response = await http.post(url, json={"incident": {"name": "x", "status": "investigating", **fields}})
            assert response.status_code == 422, fields
        ok = await http.post(url, json={"incident": {"name": "x", "status": "investigating",
                                                     "components": {"cmp-api": "partial_outage"},
                                                     "component_ids": ["cmp-api"]}})
        assert ok.status_code == 201 and statuspage_io.components["cmp-api"] == "partial_outage"


async def test_without_statuspage_io_resolving_an_incident_with_components_does_nothing_more(
        slack: SlackDriver, fake: FakeSlack, people: People, statuspage_playbooks: Path) -> None:
    del statuspage_playbooks  # the slack fixture's playbooks are the shipped ones; this names no Statuspage.io
    channel = await declare(slack, people, "P1 api Checkout failing")
    await resolve(slack, fake, channel, "Bad deploy | Rolled back", user=people.alice)
    assert await slack.runtime.sweeper.sweep_all() >= 0  # nothing is left without a handler
