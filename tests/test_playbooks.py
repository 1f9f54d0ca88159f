"""The plan's six incident types: checklists anyone can tick, private data breaches, legal deadlines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.incidents import service
from app.incidents.models import Incident, Role, TimelineEvent
from app.incidents.playbooks import load_playbooks
from app.incidents.policy import PolicyError
from app.sandbox.fakeslack import FakeSlack
from app.settings import PROJECT_ROOT
from tests.conftest import People
from tests.support import ManualClock, SlackDriver, eventually
from tests.test_clock import declare, tick

PLAYBOOKS = load_playbooks(PROJECT_ROOT / "playbooks")


def checklist_message(fake: FakeSlack, channel: str):  # type: ignore[no-untyped-def]
    return next(m for m in fake.messages_in(channel) if "checklist" in m.text.lower() and m.blocks
                and any(b["type"] == "actions" and b["elements"][0]["type"] == "checkboxes" for b in m.blocks))


async def stored(slack: SlackDriver, channel: str) -> Incident:
    """The incident as stored once its channel is recorded, with its timeline."""
    async def load() -> Incident | None:
        async with slack.runtime.db.transaction() as session:
            incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
            if incident is not None:
                incident.events_loaded = await service.timeline(session, incident)  # type: ignore[attr-defined]
            return incident

    return await eventually(load)


@pytest.mark.parametrize("kind", sorted(PLAYBOOKS))
async def test_each_playbook_declares_with_its_checklist_and_ticks_are_recorded(
        slack: SlackDriver, fake: FakeSlack, people: People, kind: str) -> None:
    playbook = PLAYBOOKS[kind]
    channel = await declare(slack, fake, people, f"{kind} Something is wrong")
    incident = await stored(slack, channel)
    assert incident.kind == kind and incident.severity is playbook.default_severity
    assert incident.is_private is playbook.private
    assert fake.channels[channel].is_private is playbook.private

    message = checklist_message(fake, channel)
    options = [o for b in message.blocks if b["type"] == "actions" for o in b["elements"][0]["options"]]
    assert [o["text"]["text"] for o in options] == [text[:75] for _, text in playbook.checklist()]

    block = next(b for b in message.blocks if b["type"] == "actions")
    first = block["elements"][0]["options"][0]
    payload_message = {"ts": message.ts, "blocks": message.blocks}
    response = await slack.interaction({
        "type": "block_actions", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": people.bob, "name": "bob", "team_id": fake.team_id}, "channel": {"id": channel},
        "container": {"type": "message", "message_ts": message.ts, "channel_id": channel},
        "message": payload_message, "trigger_id": "t1", "response_url": fake.new_response_url(),
        "actions": [{"type": "checkboxes", "action_id": "checklist_tick", "block_id": block["block_id"],
                     "selected_options": [first], "action_ts": "1.0"}],
    })
    assert response.status_code == 200
    await fake.wait_for(lambda: "1 of" in fake.channels[channel].message(message.ts).text)
    updated = fake.channels[channel].message(message.ts)
    ticked = [o for b in updated.blocks if b["type"] == "actions" for o in b["elements"][0].get("initial_options", [])]
    assert [o["value"] for o in ticked] == [first["value"]]

    incident = await stored(slack, channel)
    [event] = [e for e in incident.events_loaded if e.kind == "checklist_ticked"]  # type: ignore[attr-defined]
    assert event.actor == people.bob and event.text == playbook.checklist()[0][1]

    reply = await slack.command("checklist", user=people.alice, channel=channel)
    text = await reply.text()
    assert f"1 of {len(playbook.checklist())} done" in text and f"<@{people.bob}>" in text


async def test_an_incident_without_a_type_has_no_checklist(slack: SlackDriver, fake: FakeSlack,
                                                           people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Something small")
    reply = await slack.command("checklist", user=people.alice, channel=channel)
    assert "without an incident type" in await reply.text()


async def test_a_data_breach_stays_out_of_every_public_surface(slack: SlackDriver, fake: FakeSlack,
                                                               people: People, playbooks_dir: Path) -> None:
    channel = await declare(slack, fake, people, "data-breach Customer table exposed | PII of EU customers")
    assert fake.channels[channel].is_private

    [announcement] = fake.messages_in(people.incidents)
    assert "PRIVATE INCIDENT" in announcement.text
    assert "Customer table" not in announcement.text and "PII" not in announcement.text
    assert channel not in announcement.text

    outsider = await slack.command("list", user=people.carol, channel=people.general)
    assert "Customer table" not in await outsider.text()
    member = await slack.command("list", user=people.alice, channel=people.general)
    assert "Customer table exposed" in await member.text()


async def test_a_data_breach_brings_in_the_security_lead(settings, fake: FakeSlack, people: People,  # type: ignore[no-untyped-def]
                                                         clock: ManualClock, playbooks_dir: Path) -> None:
    import dataclasses

    from tests.conftest import running_bot

    roster = yaml.safe_load((playbooks_dir / "oncall.yml").read_text())
    roster["leads"] = {"security": people.carol}
    (playbooks_dir / "oncall.yml").write_text(yaml.safe_dump(roster))
    async with running_bot(dataclasses.replace(settings, playbooks_dir=playbooks_dir), fake, clock) as slack:
        channel = await declare(slack, fake, people, "data-breach Leaked API keys")
        incident = await stored(slack, channel)
        assert incident.holder(Role.SECURITY) == people.carol
        assert people.carol in fake.channels[channel].members
        outsider = await slack.command("list", user=people.carol, channel=people.general)
        assert "Leaked API keys" in await outsider.text()


async def test_legal_deadlines_remind_once_each_and_stop_when_met(slack: SlackDriver, fake: FakeSlack,
                                                                  people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "data-breach Customer table exposed")
    await slack.command("update identified Scoped | Containing", user=people.alice, channel=channel)

    def legal(key: str) -> list[str]:
        return [m.text for m in fake.messages_in(channel)
                if ("is due" in m.text or "Deadline reached" in m.text) and key in m.text]

    await tick(slack, clock, hours=47, minutes=59)
    assert legal("GDPR") == [] and legal("affected customers") == []
    await tick(slack, clock, minutes=1)  # 24 h before the 72 h deadline
    assert len(legal("GDPR")) == 1 and len(legal("affected customers")) == 1
    await tick(slack, clock, minutes=30)
    assert len(legal("GDPR")) == 1

    reply = await slack.command("notified gdpr", user=people.alice, channel=channel)
    assert reply.status == 200
    await fake.wait_for(lambda: any("recorded" in m.text and "GDPR" in m.text for m in fake.messages_in(channel)))
    await tick(slack, clock, hours=24)  # past 4 h before and the deadline itself
    assert len(legal("GDPR")) == 1
    assert len(legal("affected customers")) == 3  # 24 h before, 4 h before, and the deadline itself
    assert any("Deadline reached" in m.text and "affected customers" in m.text for m in fake.messages_in(channel))

    again = await slack.command("notified gdpr", user=people.alice, channel=channel)
    assert "already recorded" in await again.text()
    unknown = await slack.command("notified hipaa", user=people.alice, channel=channel)
    assert "no `hipaa` deadline" in await unknown.text()
    incident = await stored(slack, channel)
    met = [e for e in incident.events_loaded if e.kind == "compliance_met"]  # type: ignore[attr-defined]
    assert len(met) == 1 and "GDPR" in met[0].text


async def test_declare_private_without_a_type(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "private P1 Suspicious logins")
    assert fake.channels[channel].is_private
    assert "Suspicious" not in fake.messages_in(people.incidents)[0].text


async def test_type_with_explicit_severity_overrides_the_default(slack: SlackDriver, fake: FakeSlack,
                                                                 people: People) -> None:
    channel = await declare(slack, fake, people, "performance P2 Search is slow")
    incident = await stored(slack, channel)
    assert incident.kind == "performance" and incident.severity.value == "P2"


def test_a_malformed_playbook_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "playbooks", tmp_path / "playbooks")
    broken = tmp_path / "playbooks" / "types" / "ddos.yml"
    data = yaml.safe_load(broken.read_text())
    del data["immediate_actions"]
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError, match=r"ddos\.yml: missing 'immediate_actions'"):
        load_playbooks(tmp_path / "playbooks")

    data["immediate_actions"] = ["x"]
    data["default_severity"] = "P9"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError, match=r"ddos\.yml"):
        load_playbooks(tmp_path / "playbooks")


async def test_the_soc2_auditor_is_due_at_the_declaration_and_stops_when_notified(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "data-breach Customer table exposed")

    def soc2() -> list[str]:
        return [m.text for m in fake.messages_in(channel) if "SOC 2 auditor" in m.text and "immediately" in m.text]

    await tick(slack, clock, seconds=1)
    assert len(soc2()) == 1
    reply = await slack.command("notified soc2", user=people.alice, channel=channel)
    assert reply.status == 200
    await fake.wait_for(lambda: any("recorded" in m.text and "SOC 2" in m.text for m in fake.messages_in(channel)))
    await tick(slack, clock, hours=80)
    assert len(soc2()) == 1
    async with slack.runtime.db.transaction() as session:
        events = await session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "compliance_met"))
        assert [e.text for e in events] == ["Notify the SOC 2 auditor (incident details, impact on controls): done"]


def test_a_deadline_due_immediately_has_no_reminders(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "playbooks", tmp_path / "playbooks")
    broken = tmp_path / "playbooks" / "types" / "data-breach.yml"
    data = yaml.safe_load(broken.read_text())
    data["compliance"][-1]["remind_before"] = ["1h"]
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(PolicyError, match="a deadline due immediately has no reminders"):
        load_playbooks(tmp_path / "playbooks")


def test_every_shipped_playbook_has_the_plan_s_parts() -> None:
    assert set(PLAYBOOKS) == {"outage", "data-breach", "ddos", "database", "external-api", "performance"}
    for playbook in PLAYBOOKS.values():
        assert playbook.symptoms and playbook.immediate_actions and playbook.resolution_steps
    assert {c.key for c in PLAYBOOKS["data-breach"].compliance} == {"gdpr", "customers", "soc2"}  # HIPAA: opt-in


async def test_the_declare_form_takes_a_type_and_privacy(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    await slack.command("declare", user=people.alice, channel=people.general, trigger_id="trigger-form-1")
    await fake.wait_for(lambda: fake.views)
    view = fake.views[-1]["view"]
    kinds = next(b for b in view["blocks"] if b["block_id"] == "kind")["element"]["options"]
    assert {o["value"] for o in kinds} == set(PLAYBOOKS)

    response = await slack.interaction({
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": people.alice, "name": "alice", "team_id": fake.team_id},
        "view": {**view, "id": "V1", "state": {"values": {
            "title": {"value": {"type": "plain_text_input", "value": "Card numbers in logs"}},
            "kind": {"value": {"type": "static_select", "selected_option": {"value": "database"}}},
            "severity": {"value": {"type": "static_select", "selected_option": None}},
            "impact": {"value": {"type": "plain_text_input", "value": None}},
            "commander": {"value": {"type": "users_select", "selected_user": None}},
            "private": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
        }}},
    })
    assert response.status_code == 200
    await fake.wait_for(lambda: fake.channel_by_name("incident-20261125-1430") is not None)
    channel = fake.channel_by_name("incident-20261125-1430")
    assert channel.is_private
    incident = await stored(slack, channel.id)
    assert incident.kind == "database" and incident.severity.value == "P0" and incident.is_private
