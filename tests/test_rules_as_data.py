"""Every operational rule is data: change a policy file and the words and the behaviour follow it
(playbooks/followup.yml, status_page.yml, retries.yml)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest
import yaml

from app.main import load_plan
from app.policy_files import PolicyError, parse_duration
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from app.slack.toolkit.messages import duration
from tests.conftest import People, running_bot
from tests.support import ManualClock
from tests.test_clock import tick
from tests.test_comms import approve, approved, declare, draft, resolve
from tests.test_paging import ROUTING_KEY
from tests.test_status_page import published


def change(playbooks_dir: Path, name: str, **rules: object) -> None:
    """Set keys of a policy file (`review__due_within="72h"` sets review.due_within)."""
    path = playbooks_dir / name
    data = yaml.safe_load(path.read_text()) or {}
    for dotted, value in rules.items():
        *sections, key = dotted.split("__")
        place = data
        for section in sections:
            place = place[section]
        place[key] = value
    path.write_text(yaml.safe_dump(data))


def test_policy_durations_are_said_as_the_file_writes_them() -> None:
    assert [duration(parse_duration(text)) for text in ("48h", "72h", "2d", "1d", "90m", "1h", "30s")] == [
        "48 hours", "72 hours", "2 days", "1 day", "90 minutes", "1 hour", "30 seconds"]
    assert duration(parse_duration("48h") + parse_duration("1h")) == "2 days 1 hour"  # computed: spoken as before


async def test_the_resolution_and_the_help_say_what_followup_yml_says(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    change(playbooks_dir, "followup.yml", review__due_within="72h", action_items__remind_days_before=2)
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, people, "P2 Search is slow")
        early = await (await slack.command("review", user=people.alice, channel=channel)).response()
        assert "the review is then due within 72 hours" in early["text"]

        await resolve(slack, fake, channel, "Stuck index rebuild | Restarted the indexer", user=people.alice)
        [resolved] = [m for m in fake.messages_in(channel) if "INCIDENT RESOLVED" in m.text]
        assert "Post-mortem will be published within 72 hours." in resolved.text
        assert "48 hours" not in resolved.text

        statuspage = await draft(slack, fake, channel, "statuspage", user=people.alice)
        assert "We will publish a post-mortem within 72 hours." in statuspage.text

        help_text = (await (await slack.command("help", user=people.alice, channel=channel)).response())["text"]
        assert "its owner is reminded 2 days before its due date" in help_text


async def test_the_shipped_words_are_the_plans(settings: Settings, fake: FakeSlack, people: People,
                                               clock: ManualClock) -> None:
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, people, "P2 Search is slow")
        await resolve(slack, fake, channel, "Stuck index rebuild | Restarted the indexer", user=people.alice)
        [resolved] = [m for m in fake.messages_in(channel) if "INCIDENT RESOLVED" in m.text]
        assert "Post-mortem will be published within 48 hours." in resolved.text
        help_text = (await (await slack.command("help", user=people.alice, channel=channel)).response())["text"]
        assert "its owner is reminded the day before its due date" in help_text


async def test_the_status_page_keeps_a_resolved_incident_as_long_as_status_page_yml_says(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    change(playbooks_dir, "status_page.yml", recently_resolved="2h")
    async with running_bot(settings, fake, clock) as slack:
        channel = await declare(slack, people, "P2 Search is slow")
        await resolve(slack, fake, channel, "Stuck index rebuild | Restarted the indexer", user=people.alice)
        resolved = await draft(slack, fake, channel, "statuspage", user=people.alice)
        await approve(slack, fake, resolved, user=people.alice)
        await approved(slack, resolved)
        assert [i["status"] for i in (await published(slack))["recently_resolved"]] == ["resolved"]

        clock.advance(hours=1, minutes=59)
        assert len((await published(slack))["recently_resolved"]) == 1
        clock.advance(minutes=2)
        assert (await published(slack))["recently_resolved"] == []


@pytest.mark.parametrize("attempts", [2, 3])
async def test_one_off_work_gives_up_after_the_attempts_retries_yml_allows(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path,
        attempts: int) -> None:
    change(playbooks_dir, "retries.yml", attempts=attempts, first_backoff="1m", longest_backoff="2m")
    tries: list[dict] = []

    def down(request: httpx.Request) -> httpx.Response:
        tries.append(json.loads(request.content))
        return httpx.Response(503, json={})

    settings = dataclasses.replace(settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(down)) as slack:
        channel = await declare(slack, people, f"P1 Checkout errors tech:<@{people.bob}|bob>")
        await tick(slack, clock, seconds=1)
        assert len(tries) == 1
        await tick(slack, clock, seconds=59)
        assert len(tries) == 1  # first_backoff: 1m
        for _ in range(4):
            await tick(slack, clock, minutes=2)  # longest_backoff: 2m
        assert len(tries) == attempts
        gave_up = [m for m in fake.messages_in(channel) if m.text.startswith(":x: I could not finish the page")]
        assert len(gave_up) == 1 and f"after {attempts} tries" in gave_up[0].text


@pytest.mark.parametrize("name, rules, problem", [
    ("retries.yml", {"attempts": 0}, "attempts: Input should be greater than or equal to 1"),
    ("retries.yml", {"first_backoff": "10m", "longest_backoff": "5m"}, "longest_backoff must not be shorter"),
    ("retries.yml", {"attemps": 3}, "unknown key 'attemps' (did you mean 'attempts'?)"),
    ("status_page.yml", {"recently_resolve": "2h"}, "unknown key 'recently_resolve' (did you mean "
                                                    "'recently_resolved'?)"),
    ("status_page.yml", {"recently_resolved": "a day"}, "'a day' is not a duration"),
])
def test_the_new_policy_files_are_read_strictly(playbooks_dir: Path, name: str, rules: dict, problem: str) -> None:
    change(playbooks_dir, name, **rules)
    with pytest.raises(PolicyError) as raised:
        load_plan(Settings(slack_bot_token="xoxb-test", slack_signing_secret="8f742231b10e8888abcd99yyyzzz85a5",
                           playbooks_dir=playbooks_dir))
    assert str(raised.value).startswith(f"{playbooks_dir / name}: ") and problem in str(raised.value)


async def test_review_links_work_as_long_as_followup_yml_says(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock, playbooks_dir: Path) -> None:
    change(playbooks_dir, "followup.yml", review__link_valid_for="1d")
    async with running_bot(settings, fake, clock) as slack:
        links = slack.runtime.review_links
        query = dict(part.split("=") for part in links.path(1, clock.now()).split("?")[1].split("&"))
        assert int(query["expires"]) == int(clock.now().timestamp()) + 86400
        clock.advance(hours=23, minutes=59)
        assert links.allows(1, query, clock.now())
        clock.advance(minutes=2)
        assert not links.allows(1, query, clock.now())
