"""What the log holds at INFO after a whole incident's life: nothing a reader of the log should not have.

No signing secret, no bot token, no link's signature (`sig=`: a capability valid for weeks), no private
incident's title (a person's or one an alert rule declared), in text lines or in JSON ones.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from app.ops.logs import QUIET, log_handler
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import SIGNING_SECRET, ManualClock, SlackDriver, settled
from tests.test_alerts import ALERTMANAGER_TOKEN, sample, send
from tests.test_clock import declare
from tests.test_insights import stats_link
from tests.test_review import published, resolve, review_link

PRIVATE_TITLE = "Customer records of Initech exposed"
ALERTED_TITLE = "Exfiltration suspected: The AgentGuard API is not answering"  # the rule below, on the sample


@pytest.fixture
def logs() -> Iterator[dict[str, io.StringIO]]:
    """Everything logged at INFO and above, as `python -m app` writes it: in text and in JSON."""
    streams = {"text": io.StringIO(), "json": io.StringIO()}
    root = logging.getLogger()
    handlers = [log_handler(fmt, stream) for fmt, stream in streams.items()]
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    root.setLevel(logging.INFO)
    for name in QUIET:  # as configure_logging does (httpx's lines would also be the test client's own)
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield streams
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def alerting(settings: Settings, playbooks_dir: Path) -> Settings:
    """Alertmanager's alerts declare a data breach (playbooks/types/data-breach.yml: a private incident)."""
    rules = yaml.safe_load((playbooks_dir / "alerts.yml").read_text())
    rules["rules"].insert(0, {"name": "exfiltration", "source": "alertmanager", "match": {"alertname": "*"},
                              "type": "data-breach", "severity": "P1", "title": "Exfiltration suspected: {summary}"})
    (playbooks_dir / "alerts.yml").write_text(yaml.safe_dump(rules))
    return dataclasses.replace(settings, environment={"ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN})


async def update_and_resolve(slack: SlackDriver, fake: FakeSlack, people: People, channel: str) -> None:
    await slack.command("update identified Bad config push | Rolling back", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel)))
    await resolve(slack, fake, people, channel)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_whole_incident_leaves_no_secret_link_or_private_title_in_the_log(
        alerting: Settings, fake: FakeSlack, people: People, clock: ManualClock,
        logs: dict[str, io.StringIO]) -> None:
    async with running_bot(alerting, fake, clock) as slack:
        public = await declare(slack, fake, people, "P2 Search is slow")
        private = await declare(slack, fake, people, f"private P1 {PRIVATE_TITLE}", number=2)
        assert fake.channels[private].is_private
        assert (await send(slack, "alertmanager", sample("alertmanager-firing.json"))).status_code == 200
        await settled(slack.runtime)
        for channel in (public, private):
            await update_and_resolve(slack, fake, people, channel)
        await published(slack, fake, people, public)  # a private incident's review gets no link
        review = review_link(fake, public)
        assert (await slack.http.get(review)).status_code == 200
        stats = (await (await slack.command("stats", user=people.bob, channel=people.general)).response())["text"]
        insights = stats_link(stats)
        assert (await slack.http.get(insights, timeout=60)).status_code == 200

    incidents_seen = {c.name for c in fake.channels.values() if c.is_private}
    assert len(incidents_seen) == 2, "the person's private incident and the alert's"
    signatures = [parse_qs(urlsplit(link).query)["sig"][0] for link in (review, insights)]
    secrets = {"signing secret": SIGNING_SECRET, "bot token": alerting.slack_bot_token,
               "alertmanager token": ALERTMANAGER_TOKEN, "review sig": signatures[0], "insights sig": signatures[1],
               "private title": PRIVATE_TITLE, "alert's private title": ALERTED_TITLE}
    for fmt, stream in logs.items():
        written = stream.getvalue()
        # The log was written (the access log names the links' paths, without their query).
        assert urlsplit(review).path in written and "/insights" in written, written[-2000:]
        if fmt == "json":
            assert all(json.loads(line) for line in written.splitlines())
        leaked = [name for name, secret in secrets.items() if secret in written]
        assert leaked == [], (fmt, leaked, [line for line in written.splitlines()
                                            if any(s in line for s in secrets.values())][:5])
        assert "sig=" not in written


async def test_a_path_no_route_serves_is_not_written_into_the_access_log(
        slack: SlackDriver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    response = await slack.http.get("/nowhere-Forged-Line-In-The-Log/%0A%0Dstill-forged")
    served = await slack.http.get("/health")

    assert (response.status_code, served.status_code) == (404, 200)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("aiohttp.access")]
    assert any(line.startswith("GET ? 404 ") for line in lines), lines
    assert any(line.startswith("GET /health 200 ") for line in lines), lines
    bots = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test's
    assert not any("orged" in line for line in bots), bots
