"""What whoever runs the bot sees: /health and /ready, /metrics, the signed review links, JSON logs."""

from __future__ import annotations

import io
import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from app.incidents.models import Incident
from app.ops.logs import about, log_handler
from app.reviews.links import LIFETIME, ReviewLinks, link_key
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import START, ManualClock, SlackDriver
from tests.test_clock import declare, tick
from tests.test_processes import run
from tests.test_review import published, resolve, review_link

# -- /health and /ready ---------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_health_is_cheap_and_ready_checks_everything(slack: SlackDriver) -> None:
    health, ready = await slack.http.get("/health"), await slack.http.get("/ready")

    assert health.status_code == 200 and health.json() == {"status": "alive"}
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert set(ready.json()["checks"]) == {"database", "due_work", "sweeper", "slack"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_corrupted_sqlite_file_is_not_ready(slack: SlackDriver, database_url: str) -> None:
    assert (await slack.http.get("/ready")).status_code == 200
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))

    for file in (path, Path(f"{path}-wal")):  # the database's pages are in both, until a checkpoint
        if file.exists():
            file.write_bytes(os.urandom(file.stat().st_size))

    ready = await slack.http.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["failed"] == ["database"]
    assert "not a database" in ready.json()["checks"]["database"]["error"]
    assert (await slack.http.get("/health")).status_code == 200  # alive all the same: restarting will not help


async def test_due_work_left_overdue_is_not_ready_until_swept(slack: SlackDriver, fake: FakeSlack, people: People,
                                                             clock: ManualClock) -> None:
    await declare(slack, fake, people, "P1 Checkout errors")
    await tick(slack, clock, seconds=0)  # what is due at declaration (the page) is done
    assert (await slack.http.get("/ready")).status_code == 200
    clock.advance(minutes=31)  # the update reminder was due a minute ago, and nobody swept

    ready = await slack.http.get("/ready")
    assert ready.status_code == 503 and ready.json()["failed"] == ["due_work"]
    assert ready.json()["checks"]["due_work"]["oldest_overdue_seconds"] == 60.0

    await slack.runtime.sweeper.sweep_all()
    assert (await slack.http.get("/ready")).status_code == 200


async def test_a_revoked_token_is_not_ready_and_says_what_slack_answered(slack: SlackDriver, fake: FakeSlack,
                                                                        people: People, clock: ManualClock) -> None:
    await declare(slack, fake, people, "P2 Search is slow")
    fake.revoke()

    await tick(slack, clock, hours=1)  # the update reminder cannot be posted

    ready = await slack.http.get("/ready")
    assert ready.status_code == 503 and ready.json()["failed"] == ["slack"]
    assert ready.json()["checks"]["slack"]["last_error"]["error"] == "account_inactive"


# -- /metrics -------------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_after_declaring_acknowledging_and_resolving(slack: SlackDriver, fake: FakeSlack,
                                                                   people: People, clock: ManualClock) -> None:
    # Carol, the primary on-call, is the P1's IC: she is paged, and answers her page with an update 4 minutes
    # in. Alice declared the P2 as its IC: acknowledged by declaring, at once (playbooks/acknowledgement.yml).
    channel = await declare(slack, fake, people, f"P1 Checkout errors ic:<@{people.carol}|carol>")
    await declare(slack, fake, people, "P2 Search is slow", number=2)
    clock.advance(minutes=4)
    await slack.runtime.sweeper.sweep_all()  # Carol's page goes out
    await slack.command("update investigating Bad deploy suspected | Rolling back | 10 minutes",
                        user=people.carol, channel=channel)

    async def acknowledged() -> bool:
        async with slack.runtime.db.transaction() as session:
            return (await session.scalar(select(Incident).where(Incident.channel_id == channel))).acknowledged_at \
                is not None

    await fake.wait_for(acknowledged)
    clock.advance(minutes=40)  # the update reminder (30 min) falls due 14 min before this sweep
    await slack.runtime.sweeper.sweep_all()
    await resolve(slack, fake, people, channel)

    figures = samples((await slack.http.get("/metrics")).text)

    assert figures[("incidents_declared_total", ())] == 2
    assert figures[("incidents_resolved_total", ())] == 1
    assert figures[("incidents_open", (("severity", "P1"),))] == 0
    assert figures[("incidents_open", (("severity", "P2"),))] == 1
    assert figures[("incident_time_to_acknowledge_seconds_count", ())] == 2
    assert figures[("incident_time_to_acknowledge_seconds_sum", ())] == 240
    assert figures[("incident_time_to_acknowledge_seconds_bucket", (("le", "60.0"),))] == 1  # the P2, at once
    assert figures[("incident_time_to_acknowledge_seconds_bucket", (("le", "300.0"),))] == 2
    assert figures[("incident_time_to_resolve_seconds_sum", ())] == 44 * 60
    assert figures[("due_work_lag_seconds_count", (("kind", "update_reminder"),))] == 1
    assert figures[("due_work_lag_seconds_sum", (("kind", "update_reminder"),))] == 10 * 60
    assert figures[("slack_api_calls_total", (("method", "conversations.create"),))] == 2
    assert figures[("slack_events_request_seconds_count", ())] >= 4  # two declarations, an update, a resolution


async def test_metrics_count_slack_errors_and_429s_by_method(slack: SlackDriver, fake: FakeSlack,
                                                             people: People) -> None:
    fake.fail("conversations.create", status=429, retry_after=0)
    fake.fail("users.info", error="user_not_found")

    await declare(slack, fake, people, "P2 Search is slow")
    with pytest.raises(SlackApiError):
        await slack.runtime.client.users_info(user=people.alice)

    figures = samples((await slack.http.get("/metrics")).text)
    assert figures[("slack_api_ratelimited_total", (("method", "conversations.create"),))] == 1
    assert figures[("slack_api_errors_total", (("error", "user_not_found"), ("method", "users.info")))] == 1


# -- the review's signed link ---------------------------------------------------------------------


async def test_the_review_is_served_only_through_its_signed_link(slack: SlackDriver, fake: FakeSlack,
                                                                 people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await resolve(slack, fake, people, channel)
    document = await published(slack, fake, people, channel)
    link = review_link(fake, channel)
    path, query = urlsplit(link).path, parse_qs(urlsplit(link).query)
    expires, sig = query["expires"][0], query["sig"][0]
    other = slack.runtime.review_links.path(999, clock.now())

    served = await slack.http.get(link)

    assert served.status_code == 200 and served.text == document
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    for refused in (path, f"{path}?expires={expires}", f"{path}?expires={expires}&sig={flipped}",
                    f"{path}?expires={int(expires) + 1}&sig={sig}", f"{path}?expires=&sig={sig}",
                    path.replace(path.split("/")[2], str(int(path.split("/")[2]) + 1))
                    + f"?expires={expires}&sig={sig}",
                    other):
        assert (await slack.http.get(refused)).status_code == 404, refused
    clock.advance(seconds=LIFETIME.total_seconds() + 1)
    assert (await slack.http.get(link)).status_code == 404  # expired


async def test_with_public_url_the_bot_posts_the_full_link(settings: Settings, fake: FakeSlack, people: People,
                                                          clock: ManualClock) -> None:
    async with running_bot(replace(settings, public_url="https://incidents.example.com"), fake, clock) as slack:
        channel = await declare(slack, fake, people, "P2 Search is slow")
        await resolve(slack, fake, people, channel)
        await published(slack, fake, people, channel)

    [posted] = [m for m in fake.messages_in(channel) if m.files]
    assert "<https://incidents.example.com/incidents/" in posted.text and "PUBLIC_URL" not in posted.text


def test_link_keys_are_stable_and_link_secret_wins() -> None:
    derived = link_key(None, "8f742231b10e8888abcd99yyyzzz85a5")

    assert derived == link_key(None, "8f742231b10e8888abcd99yyyzzz85a5") != b"8f742231b10e8888abcd99yyyzzz85a5"
    assert link_key("s" * 32, "8f742231b10e8888abcd99yyyzzz85a5") == b"s" * 32
    assert ReviewLinks(derived, None).path(1, START) != ReviewLinks(link_key(None, "another"), None).path(1, START)


# -- logs -----------------------------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_with_what_the_line_is_about() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.json")
    logger.addHandler(log_handler("json", stream))
    logger.setLevel(logging.INFO)
    try:
        with about(incident_id=7, due_work_id=42), about(slack_method="chat.postMessage"):
            logger.warning("Slack said %s", "no")
        logger.info("plain")
    finally:
        logger.handlers.clear()

    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["message"] == "Slack said no" and first["level"] == "WARNING" and first["logger"] == "tests.json"
    assert (first["incident_id"], first["due_work_id"], first["slack_method"]) == (7, 42, "chat.postMessage")
    assert "incident_id" not in second


def test_log_format_json_from_the_environment(tmp_path: Path) -> None:
    finished = run("migrate", DATABASE_URL=f"sqlite:///{tmp_path / 'incidents.db'}", LOG_FORMAT="json")

    assert finished.returncode == 0, finished.stderr
    [line] = finished.stderr.strip().splitlines()
    assert json.loads(line)["message"].startswith("Migrated the SQLite database")


def test_a_bad_log_format_stops_start_up_in_one_line(tmp_path: Path) -> None:
    finished = run("migrate", DATABASE_URL=f"sqlite:///{tmp_path / 'incidents.db'}", LOG_FORMAT="xml")

    assert finished.returncode == 2 and "LOG_FORMAT" in finished.stderr and "'xml'" in finished.stderr
