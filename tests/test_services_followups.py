"""What follows from services being affected, beyond their teams and the status page: the services that depend
on them listed as at risk on the kickoff, the review's affected services and their downtime, insights per
service and per owning team, and App Home's incidents touching a person's team's services."""

from __future__ import annotations

import pytest

from tests import test_review as review
from tests.conftest import People
from tests.fakeslack import FakeSlack
from tests.support import ManualClock, SlackDriver, settled
from tests.test_clock import declare
from tests.test_services import kickoff


@pytest.mark.both_databases
async def test_services_depending_on_an_affected_one_are_listed_at_risk_on_the_kickoff(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 postgres Database slow")
    text = kickoff(fake, channel)
    # The API depends on the database; nothing depends on the API.
    assert "*At risk* (they depend on an affected service): AgentGuard API (`api`)" in text

    await slack.command("services add api", user=people.alice, channel=channel)
    await settled(slack.runtime)
    await fake.wait_for(lambda: "(`api`) — owner" in kickoff(fake, channel))
    assert "At risk" not in kickoff(fake, channel)  # affected itself, so no longer merely at risk

    other = await declare(slack, fake, people, "P2 Search slow", number=2)
    assert "At risk" not in kickoff(fake, other)


@pytest.mark.both_databases
async def test_the_review_lists_the_affected_services_and_their_downtime(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await review.declare(slack, fake, people, "P1 api Checkout errors")
    clock.advance(minutes=20)
    await slack.command("services add stripe", user=people.alice, channel=channel)
    await fake.wait_for(lambda: "(`stripe`) — owner" in kickoff(fake, channel))
    clock.advance(minutes=25)
    await review.resolve(slack, fake, people, channel)
    document = await review.published(slack, fake, people, channel)
    assert "### Affected Services" in document
    section = document.split("### Affected Services\n", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in section.splitlines()
            if line.startswith("| ")][1:]
    assert rows == [["AgentGuard API (`api`)", "14:30", "45 minutes"], ["Stripe (`stripe`)", "14:50", "25 minutes"]]
