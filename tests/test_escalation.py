"""Escalation reaches management whatever happens to the user-group lookup: on a Free workspace
(no user groups), with the group given by handle or by ID, and with a group that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from app.incidents import service
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, is_reminder, pinned_kickoff
from tests.test_clock import declare, tick
from tests.test_clock_resilience import incident_in


def management(playbooks_dir: Path, *, usergroup: str | None, users: list[str]) -> None:
    path = playbooks_dir / "oncall.yml"
    roster = yaml.safe_load(path.read_text())
    roster["management"] = {"usergroup": usergroup, "users": users}
    path.write_text(yaml.safe_dump(roster))


def escalation_posts(fake: FakeSlack, channel: str) -> list[str]:
    return [m.text for m in fake.messages_in(channel) if "Escalated to management" in m.text]


async def failures(slack: SlackDriver, channel: str) -> list[str]:
    async with slack.runtime.db.transaction() as session:
        events = await service.timeline(session, await incident_in(slack, channel))
    return [e.text for e in events if e.kind == "clock_step_failed"]


@pytest.fixture
def cto(fake: FakeSlack) -> str:
    return fake.add_user("cto", real_name="Casey Officer", email="cto@example.com")


@pytest.mark.parametrize("fake_plan", ["free"])
async def test_without_user_groups_the_escalation_still_goes_out_and_says_why(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path, cto: str) -> None:
    management(playbooks_dir, usergroup="management", users=["cto@example.com"])
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, fake, people, "P1 Checkout errors")
        await tick(slack, clock, hours=1)
        [post] = escalation_posts(fake, channel)
        assert f"<@{cto}>" in post
        assert "could not read the `management` group: `plan_upgrade_required`" in post
        assert len([m for m in fake.dms_to(cto) if "Escalation" in m.text]) == 1
        await tick(slack, clock, hours=3)
        assert await failures(slack, channel) == ["escalation: read group management: plan_upgrade_required"]
        assert len(fake.calls_to("usergroups.list")) == 1  # a permanent answer is not asked again
        assert len(escalation_posts(fake, channel)) == 1


@pytest.mark.parametrize("fake_plan", ["free", "paid"])
async def test_a_group_given_by_id_is_mentioned_without_any_lookup(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    group = next(iter(fake.usergroups))
    management(playbooks_dir, usergroup=group, users=[])
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, fake, people, "P1 Checkout errors")
        await tick(slack, clock, hours=1)
        [post] = escalation_posts(fake, channel)
        assert f"<!subteam^{group}>" in post
        assert fake.calls_to("usergroups.list") == [] and fake.calls_to("usergroups.users.list") == []
        assert await failures(slack, channel) == []


async def test_a_group_by_handle_is_read_mentioned_and_its_members_told(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await tick(slack, clock, hours=1)
    [post] = escalation_posts(fake, channel)
    group = next(iter(fake.usergroups))
    assert f"<!subteam^{group}>" in post and f"<@{people.boss}>" in post
    assert len(fake.dms_to(people.boss)) == 1


@pytest.mark.parametrize("fake_plan", ["free", "paid"])
async def test_a_missing_group_is_reported_and_the_listed_people_still_told(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path, cto: str) -> None:
    management(playbooks_dir, usergroup="directors", users=[cto])
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, fake, people, "P1 Checkout errors")
        await tick(slack, clock, hours=1)
        [post] = escalation_posts(fake, channel)
        why = "no_such_group" if fake.plan == "paid" else "plan_upgrade_required"
        assert f"could not read the `directors` group: `{why}`" in post
        assert len(fake.dms_to(cto)) == 1


async def test_a_group_lookup_that_fails_for_a_while_is_retried_on_its_own(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    fake.fail("usergroups.list", status=503, times=3)  # slack-sdk retries twice, then the step fails
    await tick(slack, clock, hours=1)
    [post] = escalation_posts(fake, channel)
    assert "could not read the `management` group" in post
    assert fake.dms_to(people.boss) == []

    await tick(slack, clock, seconds=30)  # only the failed part comes round again
    assert len(fake.dms_to(people.boss)) == 1
    assert len(escalation_posts(fake, channel)) == 1


async def test_a_private_incident_runs_the_same_clock(slack: SlackDriver, fake: FakeSlack, people: People,
                                                    clock: ManualClock) -> None:
    """Reminder, backup page, escalation and the legal deadline, in a private channel."""
    channel = await declare(slack, fake, people, "data-breach P1 Customer emails exposed")
    assert fake.channels[channel].is_private
    await tick(slack, clock, seconds=0)  # the pages go out at declaration
    await tick(slack, clock, minutes=30)
    assert any(is_reminder(m) for m in fake.messages_in(channel))
    texts = [m.text for m in fake.messages_in(channel)]
    # Alice declared it as IC (acknowledged by declaring); Carol, the primary on-call paged as Technical Lead,
    # did not answer her page: the backup on-call is paged for it, and the channel is told whose page it was.
    assert any("Not acknowledged within" in t and f"<@{people.carol}>'s page" in t for t in texts)
    assert len([m for m in fake.dms_to(people.bob) if "You are paged" in m.text]) == 1  # the backup on-call
    # The kickoff says so too: Carol's page went unanswered and Bob's, just sent, awaits him.
    kickoff = pinned_kickoff(fake, channel).text
    assert re.search(rf"<@{people.carol}> \(tech\), paged at <!date[^>]+>: not acknowledged in time, so the backup "
                     "was paged", kickoff), kickoff
    assert re.search(rf"<@{people.bob}> \(backup\), paged at <!date[^>]+>: not acknowledged yet", kickoff), kickoff
    await tick(slack, clock, minutes=30)
    assert len(escalation_posts(fake, channel)) == 1 and len(fake.dms_to(people.boss)) == 1
    await tick(slack, clock, hours=48)
    assert any("Notify the supervisory authority" in m.text for m in fake.messages_in(channel))
    assert fake.scope_failures == []
