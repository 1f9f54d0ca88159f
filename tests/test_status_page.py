"""The public status page (/status and /status.json) and Statuspage.io: only approved status-page updates
of incidents that are not private are ever published."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlalchemy import update as sql_update

from app.comms.models import CommsDraft
from app.comms.status_page import StatusPageRules
from app.incidents.models import Incident
from app.policy_files import PolicyError
from app.sandbox.fakeslack import FakeSlack
from app.settings import ConfigError, Settings
from app.statuspage.config import DEFAULT_API_URL
from app.statuspage.connect import connect
from app.statuspage.statuspage_io import StatuspageIo
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, eventually
from tests.test_comms import approve, approved, declare, draft, resolve, stored_draft, timeline, update

API_URL = "https://statuspage.test/v1"


COMPONENT_STATES = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")


@dataclass
class FakeStatuspageIo:
    """Statuspage.io's incidents API, as far as the bot uses it, behind httpx.MockTransport. The affected
    components are checked as the API documents them: `components` an object of component id to one of
    its states (each id a component of the page), `component_ids` an array of the page's component ids;
    a request that breaks that is answered 422, as Statuspage.io answers an invalid one. The page's
    components take the states sent."""

    requests: list[httpx.Request] = field(default_factory=list)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    failing: bool = False
    components: dict[str, str] = field(default_factory=dict)  # the page's components: id -> state

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failing:
            return httpx.Response(500, json={"error": "internal"})
        fields = json.loads(request.content)["incident"]
        problem = self._invalid_components(fields)
        if problem:
            return httpx.Response(422, json={"error": problem})
        self.components.update(fields.get("components") or {})
        if request.method == "POST":
            incident_id = f"sp-{len(self.incidents) + 1}"
            self.incidents[incident_id] = fields
            return httpx.Response(201, json={"id": incident_id, **fields})
        incident_id = request.url.path.rsplit("/", 1)[-1]
        self.incidents[incident_id].update(fields)
        return httpx.Response(200, json={"id": incident_id, **self.incidents[incident_id]})

    def _invalid_components(self, fields: dict[str, Any]) -> str | None:
        states = fields.get("components")
        if states is not None:
            if not isinstance(states, dict):
                return "components must be an object of component id to status"
            for component, state in states.items():
                if component not in self.components:
                    return f"component {component} is not on this page"
                if state not in COMPONENT_STATES:
                    return f"status {state!r} is not one of {', '.join(COMPONENT_STATES)}"
        ids = fields.get("component_ids")
        if ids is not None:
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                return "component_ids must be an array of strings"
            unknown = [i for i in ids if i not in self.components]
            if unknown:
                return f"component_ids: {', '.join(unknown)} not on this page"
        return None

    def sent(self) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        return [(r.method, str(r.url), r.headers.get("Authorization"), json.loads(r.content)) for r in self.requests]


STATUSPAGE_ENV = {"STATUSPAGE_API_KEY": "key-123", "STATUSPAGE_PAGE_ID": "page-9"}


def with_statuspage_io(settings: Settings) -> Settings:
    """Statuspage.io as playbooks/status_page.yml names it (its API the fake's), its secrets in the environment."""
    path = settings.playbooks_dir / "status_page.yml"
    rules = yaml.safe_load(path.read_text()) or {}
    rules["statuspage_io"] = {"api_url": API_URL}
    path.write_text(yaml.safe_dump(rules))
    return replace(settings, environment={**settings.environment, **STATUSPAGE_ENV})


@pytest.fixture
def statuspage_io() -> FakeStatuspageIo:
    return FakeStatuspageIo()


@pytest.fixture
async def bot(settings: Settings, fake: FakeSlack, clock: ManualClock,
              statuspage_io: FakeStatuspageIo) -> AsyncIterator[SlackDriver]:
    """The bot with Statuspage.io configured."""
    transport = httpx.MockTransport(statuspage_io.handle)
    async with running_bot(with_statuspage_io(settings), fake, clock, http_transport=transport) as driver:
        yield driver


async def published(slack: SlackDriver) -> dict[str, Any]:
    response = await slack.http.get("/status.json")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    return response.json()


async def page(slack: SlackDriver) -> str:
    response = await slack.http.get("/status")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    return response.text


# -- the bot's own page --------------------------------------------------------------------------

@pytest.mark.both_databases
async def test_the_status_page_shows_the_latest_approved_update_in_html_and_json(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, "P1 Checkout <errors> & refunds | Card payments fail")
    investigating = await draft(slack, fake, channel, "statuspage", user=people.alice)
    assert (await published(slack))["incidents"] == []
    assert "All systems operational." in await page(slack) and "Checkout" not in await page(slack)

    clock.advance(minutes=5)
    await approve(slack, fake, investigating, user=people.alice)
    body = (await approved(slack, investigating)).body

    [shown] = (await published(slack))["incidents"]
    assert shown == {"id": shown["id"], "title": "Checkout <errors> & refunds", "status": "investigating",
                     "severity": "P1", "started_at": "2026-11-25T14:30:00+00:00", "update": body,
                     "updated_at": "2026-11-25T14:35:00+00:00"}
    html = await page(slack)
    assert "Checkout &lt;errors&gt; &amp; refunds" in html and "<errors>" not in html
    assert "🔍 Investigating" in html and "Last updated 2026-11-25 14:35 UTC" in html
    assert "We are working on 1 incident." in html

    # A newer draft changes nothing until it is approved too.
    await update(slack, fake, channel, "identified Bad deploy | Rolling back", user=people.alice)
    identified = await draft(slack, fake, channel, "statuspage", user=people.alice)
    assert [i["status"] for i in (await published(slack))["incidents"]] == ["investigating"]
    clock.advance(minutes=10)
    await approve(slack, fake, identified, user=people.alice)
    await approved(slack, identified)
    [shown] = (await published(slack))["incidents"]
    assert shown["status"] == "identified" and shown["update"].startswith("We have identified the issue: Bad deploy")
    assert shown["updated_at"] == "2026-11-25T14:45:00+00:00"
    assert "🔎 Identified" in await page(slack)


async def test_a_resolved_update_shows_as_recently_resolved_for_a_day(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, people, "P2 Search is slow")
    investigating = await draft(slack, fake, channel, "statuspage", user=people.alice)
    await approve(slack, fake, investigating, user=people.alice)
    await approved(slack, investigating)
    clock.advance(minutes=30)
    await resolve(slack, fake, channel, "Stuck index rebuild | Restarted the indexer", user=people.alice)
    # Resolved inside, but the page keeps the approved words until the Resolved update is approved.
    assert [i["status"] for i in (await published(slack))["incidents"]] == ["investigating"]

    resolved = await draft(slack, fake, channel, "statuspage", user=people.alice)
    await approve(slack, fake, resolved, user=people.alice)
    await approved(slack, resolved)
    status = await published(slack)
    assert status["incidents"] == [] and [i["status"] for i in status["recently_resolved"]] == ["resolved"]
    html = await page(slack)
    assert "All systems operational." in html and "Recently resolved" in html and "✅ Resolved" in html

    clock.advance(hours=25)
    assert await published(slack) == {"incidents": [], "recently_resolved": [], "components": [
        {"name": name, "status": "operational"} for name in ("API", "Database", "Agent analysis", "Billing")],
        "generated_at": clock.now().isoformat()}


async def test_a_private_incident_never_appears_on_the_status_page(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    secret = await declare(slack, people, "private P1 Customer records exposed")
    reply = await slack.command("comms statuspage", user=people.alice, channel=secret)
    assert "never goes on the status page" in await reply.text()

    public = await declare(slack, people, "P1 Checkout errors")
    message = await draft(slack, fake, public, "statuspage", user=people.alice)
    await approve(slack, fake, message, user=people.alice)
    await approved(slack, message)
    assert [i["title"] for i in (await published(slack))["incidents"]] == ["Checkout errors"]
    assert "Customer records exposed" not in await page(slack)

    # An incident made private after its update went out leaves the page at once.
    async with slack.runtime.db.transaction() as session:
        await session.execute(sql_update(Incident).where(Incident.channel_id == public).values(is_private=True))
    assert (await published(slack))["incidents"] == []
    html = await page(slack)
    assert "Checkout errors" not in html and "Customer records exposed" not in html


# -- Statuspage.io -------------------------------------------------------------------------------

async def test_statuspage_io_gets_the_incident_created_then_updated(
        bot: SlackDriver, fake: FakeSlack, people: People, statuspage_io: FakeStatuspageIo) -> None:
    channel = await declare(bot, people, "P1 Checkout errors")
    first = await draft(bot, fake, channel, "statuspage", user=people.alice)
    assert statuspage_io.requests == []  # a draft is not published

    await approve(bot, fake, first, user=people.alice)
    await eventually(lambda: _statuspage_id(bot, first))
    body = (await stored_draft(bot, first)).body
    assert statuspage_io.sent() == [
        ("POST", f"{API_URL}/pages/page-9/incidents", "OAuth key-123",
         {"incident": {"name": "Checkout errors", "status": "investigating", "body": body}})]

    await update(bot, fake, channel, "monitoring Fix deployed", user=people.alice)
    second = await draft(bot, fake, channel, "statuspage", user=people.alice)
    await approve(bot, fake, second, user=people.alice)
    assert await eventually(lambda: _statuspage_id(bot, second)) == "sp-1"
    method, url, auth, sent = statuspage_io.sent()[-1]
    assert (method, url, auth) == ("PATCH", f"{API_URL}/pages/page-9/incidents/sp-1", "OAuth key-123")
    assert sent == {"incident": {"name": "Checkout errors", "status": "monitoring",
                                 "body": (await stored_draft(bot, second)).body}}
    assert len(statuspage_io.incidents) == 1 and statuspage_io.incidents["sp-1"]["status"] == "monitoring"

    async def both_on_the_timeline() -> bool:  # written when the publishing work settles, just after the id
        return len(await timeline(bot, "statuspage_published")) == 2

    assert await eventually(both_on_the_timeline)


async def test_emails_and_internal_messages_never_reach_statuspage_io(
        bot: SlackDriver, fake: FakeSlack, people: People, statuspage_io: FakeStatuspageIo) -> None:
    channel = await declare(bot, people, "P1 Checkout errors")
    for audience in ("email", "internal"):
        message = await draft(bot, fake, channel, audience, user=people.alice)
        await approve(bot, fake, message, user=people.alice)
        await approved(bot, message)
    assert statuspage_io.requests == [] and (await published(bot))["incidents"] == []


async def test_statuspage_io_failing_is_told_to_the_approver_once_and_published_when_it_is_back(
        bot: SlackDriver, fake: FakeSlack, people: People, statuspage_io: FakeStatuspageIo,
        clock: ManualClock) -> None:
    statuspage_io.failing = True
    channel = await declare(bot, people, "P1 Checkout errors")
    message = await draft(bot, fake, channel, "statuspage", user=people.alice)

    await approve(bot, fake, message, user=people.alice)

    warning = await fake.wait_for(lambda: [e["text"] for e in fake.ephemerals
                                           if "Statuspage.io did not take it" in e.get("text", "")])
    assert "HTTP 500" in warning[0] and "keep trying" in warning[0]
    [failure] = await eventually(lambda: timeline(bot, "clock_step_failed"))
    assert "statuspage: publish: HTTP 500" in failure.text
    assert [i["status"] for i in (await published(bot))["incidents"]] == ["investigating"]  # our own page

    clock.advance(seconds=30)
    await bot.runtime.sweeper.sweep_all()  # still down: retried, not told again
    assert len([e for e in fake.ephemerals if "Statuspage.io did not take it" in e.get("text", "")]) == 1

    statuspage_io.failing = False
    clock.advance(minutes=1)
    await bot.runtime.sweeper.sweep_all()
    assert await eventually(lambda: _statuspage_id(bot, message)) == "sp-1"
    assert [r.method for r in statuspage_io.requests] == ["POST", "POST", "POST"]
    [done] = await timeline(bot, "statuspage_published")
    assert "sp-1" in done.text


async def _statuspage_id(slack: SlackDriver, message: Any) -> str | None:
    async with slack.runtime.db.transaction() as session:
        return await session.scalar(select(CommsDraft.statuspage_incident_id)
                                    .where(CommsDraft.message_ts == message.ts))


async def test_statuspage_io_is_chosen_by_the_policy_file_and_the_variables_it_names(tmp_path: Path) -> None:
    path = tmp_path / "status_page.yml"
    async with httpx.AsyncClient() as http:
        # No statuspage_io: section: on when its default variables are set (both), as before the section existed.
        assert connect(StatusPageRules(), path, http, {}) is None
        on = connect(StatusPageRules(), path, http, STATUSPAGE_ENV)
        assert isinstance(on, StatuspageIo) and on.api_url == DEFAULT_API_URL and on.page_id == "page-9"
        with pytest.raises(PolicyError) as raised:
            connect(StatusPageRules(), path, http, {"STATUSPAGE_API_KEY": "key-123"})
        assert str(raised.value) == (f"{path}: statuspage_io.page_id_env names the environment variable "
                                     "STATUSPAGE_PAGE_ID, which is not set")

        # A section names the variables (its defaults unless given): each must be set.
        named = StatusPageRules.model_validate({"statuspage_io": {"api_key_env": "SP_KEY", "api_url": API_URL}})
        with pytest.raises(PolicyError, match=r"statuspage_io\.api_key_env names the environment variable SP_KEY"):
            connect(named, path, http, STATUSPAGE_ENV)
        chosen = connect(named, path, http, {"SP_KEY": "key-456", "STATUSPAGE_PAGE_ID": "page-1"})
        assert isinstance(chosen, StatuspageIo) and chosen.api_url == API_URL and chosen.page_id == "page-1"


def test_statuspage_io_api_url_is_read_from_the_policy_file_only() -> None:
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"}
    with pytest.raises(ConfigError, match=r"^STATUSPAGE_API_URL is no longer read: set statuspage_io\.api_url in "):
        Settings.from_env({**base, "STATUSPAGE_API_URL": API_URL})
