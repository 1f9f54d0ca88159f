"""Property: whatever arrives signed at /slack/events (any /incident text, any button, any form) gets a 200
within Slack's 3 seconds and a helpful private answer, and never leaves an incident without its channel."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.incidents.models import Incident
from app.sandbox.fakeslack import FakeSlack
from bench.fuzzing import UNEXPECTED, Fuzzer, command_text, interaction, send
from tests.conftest import People
from tests.support import ManualClock, SlackDriver

ACK_LIMIT = 3.0
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


async def no_half_made_incident(slack: SlackDriver) -> None:
    async with slack.runtime.db.transaction() as session:
        orphans = list(await session.scalars(select(Incident).where(Incident.channel_id.is_(None))))
    assert orphans == [], [o.title for o in orphans]


def check(outcome: Any, example: Any) -> None:
    assert outcome.status == 200, example
    assert outcome.ack_seconds < ACK_LIMIT, example
    assert outcome.answered, (example, outcome)
    assert not any(UNEXPECTED in answer for answer in outcome.answers), (example, outcome.answers)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(text=command_text())
async def test_any_incident_command_gets_a_helpful_private_answer(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, text: str) -> None:
    clock.advance(minutes=1)  # each declaration gets a channel name of its own
    outcome = await Fuzzer(slack, fake, user=people.alice, channel=people.general).command(text)
    check(outcome, text)
    await no_half_made_incident(slack)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(data=st.data())
async def test_any_button_or_form_gets_a_helpful_private_answer(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, data: st.DataObject) -> None:
    example = data.draw(interaction(people.general))
    clock.advance(minutes=1)
    outcome = await send(Fuzzer(slack, fake, user=people.alice, channel=people.general), example)
    check(outcome, example)
    await no_half_made_incident(slack)
