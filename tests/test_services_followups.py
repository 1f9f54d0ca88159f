"""What follows from services being affected, beyond their teams and the status page: the services that depend
on them listed as at risk on the kickoff, the review's affected services and their downtime, insights per
service and per owning team, and App Home's incidents touching a person's team's services."""

from __future__ import annotations

import pytest

from tests.conftest import People
from tests.fakeslack import FakeSlack
from tests.support import SlackDriver, settled
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
