"""Alerts answered as soon as they are stored, storms folded, and the kickoff linking back to the source: the
sample payloads of each sender, signed as each signs them, POSTed over HTTP to the real app; incidents set up in
the fake Slack. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, settled
from tests.test_alerts import FIRST, alert_settings, clock, incidents, sample, send, timeline  # noqa: F401 (fixtures)

LINKS = {
    "sentry": ("https://sentry.io/organizations/agentguard/issues/1117540176/events/"
               "e4874d664c3540c1a32eab185f12c5ab/", "error"),
    "alertmanager": ("http://prometheus.internal:9090/graph?g0.expr=probe_success+%3D%3D+0", "critical"),
    "pagerduty": ("https://agentguard.pagerduty.com/incidents/Q1R2S3T4U5V6W7", "high"),
}


def incident_channels(fake: FakeSlack) -> list[str]:
    return [c.id for c in fake.channels.values() if c.name.startswith("incident-")]


@pytest.fixture
async def bot(alert_settings: Settings, fake: FakeSlack, clock: ManualClock) -> AsyncIterator[SlackDriver]:
    async with running_bot(alert_settings, fake, clock) as driver:
        yield driver


@pytest.mark.both_databases
async def test_the_sender_is_answered_before_any_slack_call(bot: SlackDriver, fake: FakeSlack, people: People) -> None:
    fake.latency = 2.0  # every Slack call takes two seconds from now on
    started = time.monotonic()
    response = await send(bot, "alertmanager", sample("alertmanager-firing.json"))
    answered_in = time.monotonic() - started

    assert response.status_code == 200
    assert answered_in < fake.latency, f"answered in {answered_in:.2f}s: it waited for Slack"
    [incident] = await incidents(bot)
    assert response.json()["declared"] == [incident.id]
    assert incident.commander == people.carol and incident.channel_id is None
    assert incident_channels(fake) == []  # Slack has not yet answered the first call of its setup

    fake.latency = 0.0
    await bot.runtime.sweeper.sweep_all()  # the setup is due work: a sweep (or the task it started) finishes it
    await settled(bot.runtime, timeout=60)
    [channel] = incident_channels(fake)
    [stored] = await incidents(bot)
    assert stored.channel_id == channel
    assert any("APIDown" in m.text for m in fake.messages_in(channel))  # the kickoff


@pytest.mark.both_databases
@pytest.mark.parametrize("source", sorted(FIRST))
async def test_the_kickoff_links_to_the_alert_at_its_source_with_the_source_s_own_severity(
        bot: SlackDriver, fake: FakeSlack, source: str) -> None:
    link, severity = LINKS[source]
    response = await send(bot, source, sample(FIRST[source][0]))
    [incident] = await incidents(bot)
    assert response.json()["declared"] == [incident.id]
    await settled(bot.runtime)

    [channel] = incident_channels(fake)
    [kickoff] = [m for m in fake.messages_in(channel) if m.ts == (await incidents(bot))[0].kickoff_ts]
    assert f"*Alert:* <{link}|{source.capitalize()}> ({severity})" in kickoff.text
    [detected] = await timeline(bot, incident.id, "detected")
    assert link in detected.text and f"[{severity}]" in detected.text


# -- storms -----------------------------------------------------------------------------------------------

STORM_RULES = {
    "rules": [{"name": "critical", "source": "alertmanager", "match": {"severity": "critical"}, "severity": "P2",
               "title": "{alertname}: {summary}"}],
    "grouping": {"window": "10m", "group_by": ["alertname"],
                 "storm": {"threshold": 2, "window": "10m", "title": "Alert storm", "severity": "P1"}},
}


@pytest.fixture
async def storm_bot(alert_settings: Settings, playbooks_dir: Path, fake: FakeSlack,
                    clock: ManualClock) -> AsyncIterator[SlackDriver]:
    (playbooks_dir / "alerts.yml").write_text(yaml.safe_dump(STORM_RULES))
    async with running_bot(alert_settings, fake, clock) as driver:
        yield driver


def firing(alertname: str, group: str) -> bytes:
    """Alertmanager's notification of one group (its groupKey: the fingerprint) of alert `alertname`."""
    payload = json.loads(sample("alertmanager-firing.json"))
    payload["groupKey"] = f'{{}}:{{group="{group}"}}'
    payload["commonLabels"]["alertname"] = alertname
    payload["commonAnnotations"]["summary"] = f"{alertname} on the API hosts"
    for alert in payload["alerts"]:
        alert["labels"]["alertname"] = alertname
        alert["annotations"]["summary"] = f"{alertname} on the API hosts"
    return json.dumps(payload).encode()


@pytest.mark.both_databases
async def test_a_storm_folds_as_configured(storm_bot: SlackDriver, fake: FakeSlack, clock: ManualClock) -> None:
    async def alert(alertname: str, group: str) -> dict[str, list[int]]:
        response = await send(storm_bot, "alertmanager", firing(alertname, group))
        assert response.status_code == 200
        return response.json()

    disk = (await alert("DiskFull", "a"))["declared"]
    assert (await alert("DiskFull", "b"))["added"] == disk  # the same alertname within the window: one incident
    cpu = (await alert("CpuHigh", "c"))["declared"]  # the second incident from alerts in the window
    storm = (await alert("MemoryLow", "d"))["declared"]  # the threshold reached: the storm's incident
    assert (await alert("NetworkDown", "e"))["added"] == storm  # further alerts join the storm
    assert (await alert("MemoryLow", "d"))["added"] == storm  # a repeat goes where its fingerprint went
    assert (await alert("DiskFull", "f"))["added"] == disk  # its group is still open: not the storm's

    opened = await incidents(storm_bot)
    assert [i.id for i in opened] == disk + cpu + storm
    assert opened[2].title == "Alert storm"
    lines = [e.text for e in await timeline(storm_bot, storm[0], "detected", "alert")]
    assert len(lines) == 3 and "MemoryLow" in lines[0] and "NetworkDown" in lines[1]
    assert "Folded into the alert storm" in lines[1]
    grouped = [e.text for e in await timeline(storm_bot, disk[0], "alert")]
    assert len(grouped) == 2 and all("Grouped by the alert rule critical (alertname=DiskFull)" in t for t in grouped)
    await settled(storm_bot.runtime)
    assert len(incident_channels(fake)) == 3  # not one per alert

    clock.advance(minutes=11)  # past both windows: a new alert opens an incident of its own again
    assert (await alert("DiskFull", "g"))["declared"] not in ([], disk)
