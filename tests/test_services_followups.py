"""What follows from services being affected, beyond their teams and the status page: the services that depend
on them listed as at risk on the kickoff, the review's affected services and their downtime, insights per
service and per owning team, and App Home's incidents touching a person's team's services."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from app.db import Database
from app.incidents import affected, deadlines, service
from app.incidents.models import Severity
from app.incidents.policy import Policy
from app.insights.figures import insights
from app.insights.policy import Window
from app.sandbox.fakeslack import FakeSlack
from app.settings import PROJECT_ROOT
from tests import test_app_home as home
from tests import test_review as review
from tests.conftest import People
from tests.support import START, ManualClock, SlackDriver, pinned_kickoff, settled
from tests.test_clock import declare


@pytest.mark.both_databases
async def test_services_depending_on_an_affected_one_are_listed_at_risk_on_the_kickoff(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 postgres Database slow")
    text = pinned_kickoff(fake, channel).text
    # The API depends on the database; nothing depends on the API.
    assert "*At risk* (they depend on an affected service): AgentGuard API (`api`)" in text

    await slack.command("services add api", user=people.alice, channel=channel)
    await settled(slack.runtime)
    await fake.wait_for(lambda: "(`api`) — owner" in pinned_kickoff(fake, channel).text)
    assert "At risk" not in pinned_kickoff(fake, channel).text  # affected itself, so no longer merely at risk

    other = await declare(slack, fake, people, "P2 Search slow", number=2)
    assert "At risk" not in pinned_kickoff(fake, other).text


@pytest.mark.both_databases
async def test_the_review_lists_the_affected_services_and_their_downtime(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await review.declare(slack, fake, people, "P1 api Checkout errors")
    clock.advance(minutes=20)
    await slack.command("services add stripe", user=people.alice, channel=channel)
    await fake.wait_for(lambda: "(`stripe`) — owner" in pinned_kickoff(fake, channel).text)
    clock.advance(minutes=25)
    await review.resolve(slack, fake, people, channel)
    document = await review.published(slack, fake, people, channel)
    assert "### Affected Services" in document
    section = document.split("### Affected Services\n", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in section.splitlines()
            if line.startswith("| ")][1:]
    assert rows == [["AgentGuard API (`api`)", "14:30", "45 minutes"], ["Stripe (`stripe`)", "14:50", "25 minutes"]]


@pytest.mark.both_databases
async def test_insights_break_counts_mtta_and_mttr_down_per_service_and_per_owning_team(
        database_url: str, tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "playbooks", tmp_path / "playbooks")
    path = tmp_path / "playbooks" / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    catalog["services"]["stripe"]["owner"] = {"usergroup": "payments"}
    path.write_text(yaml.safe_dump(catalog))
    policy = Policy.load(tmp_path / "playbooks")
    now = START + timedelta(days=2)
    db = Database(database_url)
    await db.migrate()
    try:
        async with db.transaction() as session:
            async def incident(keys: list[str], ago: timedelta, *, ack: timedelta, resolved: timedelta | None,
                               private: bool = False) -> None:
                started = now - ago
                stored = await service.declare_incident(session, title="x", severity=Severity.P1, impact="",
                                                        declared_by="U0ALICE", roles={}, now=started, private=private)
                affected.name_at_declaration(session, stored, keys, by="U0ALICE", now=started)
                await deadlines.acknowledge(session, stored, by="U0ALICE", now=started + ack, how="button")
                if resolved is not None:
                    await service.resolve_incident(session, stored, root_cause="x", resolution="y",
                                                   actor="U0ALICE", now=started + resolved)

            await incident(["api", "postgres"], timedelta(days=5), ack=timedelta(minutes=4),
                           resolved=timedelta(hours=1))
            await incident(["api"], timedelta(days=3), ack=timedelta(minutes=8), resolved=timedelta(hours=3))
            await incident(["stripe"], timedelta(days=2), ack=timedelta(minutes=2), resolved=None)
            await incident(["retired-service"], timedelta(days=1), ack=timedelta(minutes=1), resolved=None)
            await incident(["stripe"], timedelta(hours=5), ack=timedelta(minutes=30), resolved=None, private=True)
            await incident(["api"], timedelta(days=40), ack=timedelta(minutes=1), resolved=None)  # outside
        async with db.transaction() as session:
            figures = await insights(session, Window("30d", timedelta(days=30)), now=now, catalog=policy.services)
    finally:
        await db.close()

    by_service = {row.service: row for row in figures.by_service}
    assert list(by_service) == ["api", "postgres", "retired-service", "stripe"]  # most incidents first, then by key
    api = by_service["api"]
    assert (api.service_name, api.incidents, api.acknowledged, api.resolved) == ("AgentGuard API", 2, 2, 2)
    assert (api.mtta, api.mttr) == (timedelta(minutes=6), timedelta(hours=2))
    assert by_service["postgres"].mttr == timedelta(hours=1)
    assert by_service["retired-service"].service_name is None  # no longer in the catalog: still counted
    stripe = by_service["stripe"]
    assert (stripe.incidents, stripe.mtta, stripe.mttr) == (1, timedelta(minutes=2), None)  # the private one left out

    by_team = {row.team: row for row in figures.by_team}
    # engineering owns api and postgres: the incident naming both counts once.
    assert (by_team["engineering"].incidents, by_team["engineering"].mtta) == (2, timedelta(minutes=6))
    assert (by_team["payments"].incidents, by_team["payments"].resolved) == (1, 0)
    assert list(by_team) == ["engineering", "payments"]


async def test_stats_answer_shows_the_service_breakdown(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 api,stripe Checkout failing")
    await slack.command("resolve Bad deploy | Rolled back", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
    clock.advance(minutes=1)  # the window ends before now
    reply = await slack.command("stats", user=people.alice, channel=people.general)
    text = await reply.text()
    assert "*By service* (private incidents left out)" in text
    assert "AgentGuard API (`api`): 1" in text and "Stripe (`stripe`): 1" in text
    assert "*By owning team*" in text and "engineering: 1" in text


@pytest.mark.both_databases
async def test_app_home_shows_a_person_the_open_incidents_touching_their_teams_services(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    fake.add_usergroup("engineering", users=[people.bob])  # the shipped catalog's owning group
    checkout = await declare(slack, fake, people, "P1 api,stripe Checkout failing")
    await declare(slack, fake, people, "P2 Search slow", number=2)
    await declare(slack, fake, people, "private P1 postgres Records exposed", number=3)

    await home.open_home(slack, fake, people.bob)
    [view] = await fake.wait_for(lambda: home.published_for(fake, people.bob))
    shown = home.texts(view)
    assert "My team's services (1)" in shown
    section = shown.split("My team's services (1)", 1)[1].split("On call", 1)[0]
    assert f"<#{checkout}> *P1* Checkout failing — AgentGuard API, Stripe" in section
    assert "Search slow" not in section and "Records exposed" not in section  # not his, and private
    assert len(view["blocks"]) <= 100

    await home.open_home(slack, fake, people.carol)  # in no owning team
    [other] = await fake.wait_for(lambda: home.published_for(fake, people.carol))
    assert "My team's services" not in home.texts(other)
