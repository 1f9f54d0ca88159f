"""A service's owning team invited to the incident channel when the service is named (playbooks/services.yml):
at declaration in the setup's one invitation (one Web API call per team that is a user group), later as
SERVICE_OWNERS due work; exactly once per incident and service across two replicas and a restart; a Free
workspace (no user groups) said on the timeline, the listed people invited all the same."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.duework import service as duework
from app.duework.models import DueWork, WorkKind
from app.incidents import affected, service
from app.incidents.models import Incident, Severity, TimelineEvent
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, eventually, settled
from tests.test_clock import declare


@dataclasses.dataclass(frozen=True)
class Teams:
    platform: str  # the user group's ID
    payments: str  # its handle
    olga: str
    omar: str
    pat: str
    listed: str  # listed by ID beside the payments group


@pytest.fixture
def teams(fake: FakeSlack, people: People) -> Teams:
    olga = fake.add_user("olga", real_name="Olga Owens")
    omar = fake.add_user("omar", real_name="Omar Okafor")
    pat = fake.add_user("pat", real_name="Pat Payne")
    listed = fake.add_user("lee", real_name="Lee Listed")
    platform = fake.add_usergroup("platform", users=[olga, omar, people.alice])
    fake.add_usergroup("payments", users=[pat])
    return Teams(platform=platform, payments="payments", olga=olga, omar=omar, pat=pat, listed=listed)


@pytest.fixture
def playbooks_dir(playbooks_dir: Path, teams: Teams) -> Path:
    """The shipped catalog, its teams made the test workspace's: api and postgres owned by the platform group
    (by ID), stripe by the payments group (by handle) and a listed person, redis by listed people only."""
    path = playbooks_dir / "services.yml"
    catalog = yaml.safe_load(path.read_text())
    services = catalog["services"]
    services["api"]["owner"] = {"usergroup": teams.platform}
    services["postgres"]["owner"] = {"usergroup": teams.platform}
    services["stripe"]["owner"] = {"usergroup": teams.payments, "users": [teams.listed]}
    services["redis"]["owner"] = {"users": [teams.listed, teams.olga]}
    path.write_text(yaml.safe_dump(catalog))
    return playbooks_dir


async def incident_of(slack: SlackDriver, number: int = 1) -> Incident:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))[number - 1]


async def owner_lines(slack: SlackDriver, incident_id: int) -> list[str]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent.text).where(
            TimelineEvent.incident_id == incident_id, TimelineEvent.kind == "owners_invited")
            .order_by(TimelineEvent.id)))


def invited(fake: FakeSlack, channel: str) -> list[str]:
    """Everyone each conversations.invite to this channel named, in order (repeats kept)."""
    return [user for call in fake.calls_to("conversations.invite") if call.args.get("channel") == channel
            for user in str(call.args["users"]).split(",")]


def owner_invitations(fake: FakeSlack, teams: Teams) -> int:
    """The conversations.invite calls that brought in owners (a paged on-call's own invitation is the pager's)."""
    owners = {teams.olga, teams.omar, teams.pat, teams.listed}
    return sum(1 for call in fake.calls_to("conversations.invite") if owners & set(str(call.args["users"]).split(",")))


def group_reads(fake: FakeSlack) -> int:
    return len(fake.calls_to("usergroups.users.list")) + len(fake.calls_to("usergroups.list"))


@pytest.mark.both_databases
async def test_declaring_with_three_services_invites_their_teams_in_one_invitation(
        slack: SlackDriver, fake: FakeSlack, people: People, teams: Teams) -> None:
    before = len(fake.calls)
    channel = await declare(slack, fake, people, "P1 api,postgres,stripe Checkout failing")
    members = fake.channels[channel].members
    assert {teams.olga, teams.omar, teams.pat, teams.listed, people.alice} <= members
    # One read per team that is a user group (api and postgres share theirs: one read between them) ...
    assert [c.args.get("usergroup") for c in fake.calls_to("usergroups.users.list")] == [teams.platform]
    assert len(fake.calls_to("usergroups.list")) == 1  # stripe's group, by handle
    # ... and the one invitation the declaration makes anyway.
    assert len(fake.calls_to("conversations.invite")) == 1
    extra = {c.method for c in fake.calls[before:]} & {"conversations.members", "users.lookupByEmail"}
    assert not extra
    incident = await incident_of(slack)
    [line] = await owner_lines(slack, incident.id)
    assert "Owning team of api invited (3 people)" in line and "Owning team of stripe invited (2 people)" in line

    await slack.runtime.sweeper.sweep_all()  # nothing more to do for them (the on-call is paged and invited)
    assert group_reads(fake) == 2
    assert invited(fake, channel).count(teams.olga) == 1 and invited(fake, channel).count(teams.pat) == 1


@pytest.mark.both_databases
async def test_a_service_added_later_invites_its_team_once_and_not_those_already_there(
        slack: SlackDriver, fake: FakeSlack, people: People, teams: Teams) -> None:
    channel = await declare(slack, fake, people, "P1 api Checkout failing")
    first_invites = owner_invitations(fake, teams)
    reply = await slack.command("services add redis", user=people.alice, channel=channel)
    assert reply.status == 200
    incident = await incident_of(slack)
    await eventually(lambda: _lines(slack, incident.id, 2))
    # redis's people: Lee (new) and Olga (already invited with api's team): Olga is in, Lee is brought in.
    assert teams.listed in fake.channels[channel].members
    assert owner_invitations(fake, teams) == first_invites + 1
    lines = await owner_lines(slack, incident.id)
    assert lines[-1] == "Owning team of redis invited (1 person)."

    await slack.command("services add postgres", user=people.alice, channel=channel)
    await eventually(lambda: _lines(slack, incident.id, 3))
    # postgres is owned by the platform group, all of whom came with api's: no invitation at all.
    assert owner_invitations(fake, teams) == first_invites + 1
    assert (await owner_lines(slack, incident.id))[-1] == "Owning team of postgres: already in the channel."
    await slack.runtime.sweeper.sweep_all()
    assert len(await owner_lines(slack, incident.id)) == 3  # each once


async def _lines(slack: SlackDriver, incident_id: int, count: int) -> bool:
    return len(await owner_lines(slack, incident_id)) >= count


@pytest.mark.both_databases
async def test_two_replicas_sweeping_together_invite_a_team_exactly_once(
        database_url: str, settings: Settings, fake: FakeSlack, people: People, clock: ManualClock,
        teams: Teams) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas share PostgreSQL; SQLite is the single-process store")
    async with running_bot(settings, fake, clock) as first, running_bot(settings, fake, clock) as second:
        channel = await declare(first, fake, people, "P1 Checkout failing")
        incident = await incident_of(first)
        await first.runtime.sweeper.sweep_all()  # the on-call paged (and invited) first
        first_round = True  # after it, the teams are known to be there: no invitation
        for _ in range(3):  # three incidents' worth of chances to race, on one incident: add, sweep, remove
            async with first.runtime.db.transaction() as session:
                stored = await session.get_one(Incident, incident.id)
                await affected.add_services(session, stored, ["api", "stripe"], by=people.alice, now=clock.now(),
                                            rules=first.runtime.policy.for_severity(stored.severity))
            before = owner_invitations(fake, teams)
            reads = group_reads(fake)
            await asyncio.gather(first.runtime.sweeper.sweep_all(), second.runtime.sweeper.sweep_all(),
                                 first.runtime.sweeper.sweep_all(), second.runtime.sweeper.sweep_all())
            assert owner_invitations(fake, teams) == before + (2 if first_round else 0)  # one a service
            assert group_reads(fake) == reads + 2  # read each time the service is named
            first_round = False
            async with first.runtime.db.transaction() as session:
                stored = await session.get_one(Incident, incident.id)
                await affected.remove_services(session, stored, ["api", "stripe"], by=people.alice, now=clock.now())
        assert {teams.olga, teams.omar, teams.pat, teams.listed} <= fake.channels[channel].members
        lines = await owner_lines(first, incident.id)
        assert len(lines) == 6 and lines.count("Owning team of api: already in the channel.") == 2


@pytest.mark.both_databases
async def test_a_restart_finishes_an_invitation_a_stopped_worker_left_once(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, teams: Teams) -> None:
    async with running_bot(settings, fake, clock) as before_restart:
        channel = await declare(before_restart, fake, people, "P1 Checkout failing")
        incident = await incident_of(before_restart)
        async with before_restart.runtime.db.transaction() as session:
            stored = await session.get_one(Incident, incident.id)
            await affected.add_services(session, stored, ["api"], by=people.alice, now=clock.now(),
                                        rules=before_restart.runtime.policy.for_severity(stored.severity))
        async with before_restart.runtime.db.transaction() as session:  # a worker claims it, then stops
            [claimed] = await duework.claim_due(session, now=clock.now(), limit=5, worker="stopped",
                                                lease_until=clock.now() + timedelta(minutes=1),
                                                kinds=[WorkKind.SERVICE_OWNERS])
            assert claimed.kind is WorkKind.SERVICE_OWNERS
    clock.advance(minutes=2)
    async with running_bot(settings, fake, clock) as after_restart:
        await after_restart.runtime.sweeper.sweep_all()
        await after_restart.runtime.sweeper.sweep_all()
        assert {teams.olga, teams.omar} <= fake.channels[channel].members
        assert len(fake.calls_to("usergroups.users.list")) == 1
        assert await owner_lines(after_restart, incident.id) == ["Owning team of api invited (2 people)."]
        async with after_restart.runtime.db.transaction() as session:
            row = await session.scalar(select(DueWork).where(DueWork.kind == WorkKind.SERVICE_OWNERS))
            assert row is not None and row.outcome == "done"


@pytest.mark.parametrize("fake_plan", ["free"])
async def test_a_free_workspace_has_no_user_groups_said_on_the_timeline_and_listed_people_still_come(
        slack: SlackDriver, fake: FakeSlack, people: People, teams: Teams) -> None:
    channel = await declare(slack, fake, people, "P1 stripe Payments failing")
    assert teams.listed in fake.channels[channel].members and teams.pat not in fake.channels[channel].members
    incident = await incident_of(slack)
    [line] = await owner_lines(slack, incident.id)
    assert "user group payments was not read: user groups need a paid Slack plan" in line
    assert "(its listed people were invited)" in line
    await settled(slack.runtime)
    assert len(fake.calls_to("usergroups.list")) == 1  # not tried again


async def test_a_private_incident_invites_no_owning_team_and_says_so(
        slack: SlackDriver, fake: FakeSlack, people: People, teams: Teams) -> None:
    channel = await declare(slack, fake, people, "private P1 api Keys leaked")
    assert teams.olga not in fake.channels[channel].members and group_reads(fake) == 0
    incident = await incident_of(slack)
    assert await owner_lines(slack, incident.id) == [
        "Owning team of api not invited: the incident is private (invite them if they need to know)."]
    await slack.command("services add stripe", user=people.alice, channel=channel)
    await eventually(lambda: _lines(slack, incident.id, 2))
    assert teams.pat not in fake.channels[channel].members and group_reads(fake) == 0


@pytest.mark.both_databases
async def test_a_service_named_before_the_channel_exists_waits_for_it_and_is_invited_once_it_does(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, teams: Teams) -> None:
    async with slack.runtime.db.transaction() as session:  # stored, its channel not made yet
        incident = await service.declare_incident(session, title="Checkout failing", severity=Severity.P2,
                                                  impact="", declared_by=people.alice, roles={}, now=clock.now())
        await session.flush()
        await affected.add_services(session, incident, ["api"], by=people.alice, now=clock.now(),
                                    rules=slack.runtime.policy.for_severity(incident.severity))
    await slack.runtime.sweeper.sweep_all()
    assert group_reads(fake) == 0  # nothing to invite them to yet; tried again later, never given up
    async with slack.runtime.db.transaction() as session:
        row = await session.scalar(select(DueWork).where(DueWork.kind == WorkKind.SERVICE_OWNERS))
        assert row is not None and row.done_at is None and row.due_at > clock.now()
        stored = await session.get_one(Incident, incident.id)
        stored.channel_id = fake.add_channel("incident-late", members=[fake.bot_user_id, people.alice])
        await affected.owners_due_now(session, incident.id, now=clock.now())  # as the setup does once it is made
    await slack.runtime.sweeper.sweep_all()
    assert {teams.olga, teams.omar} <= fake.channels[stored.channel_id].members
    assert await owner_lines(slack, incident.id) == ["Owning team of api invited (2 people)."]
