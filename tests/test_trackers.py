"""Action items in the tracker: filed in Jira (REST v3) or GitHub Issues with their priority, due date and
owner, shown in Slack with their key; finished there (a signed webhook, or the periodic sync) is done here,
and done here closes them there. A tracker that is down delays an item and never loses or doubles it.
The trackers are stateful fakes on loopback (tests/faketrackers)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.incidents.policy import PolicyError
from app.main import start_runtime
from app.reviews.models import ActionStatus
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People
from tests.faketrackers import FakeGitHub, FakeJira
from tests.support import ManualClock, SlackDriver, eventually, serve
from tests.test_action_items import answer, items_of, posts, timeline_texts
from tests.test_clock import tick
from tests.test_review import declare, published, resolve

BOB_EMAIL = "bob@acme.test"


@pytest.fixture
async def jira() -> AsyncIterator[FakeJira]:
    fake = FakeJira()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub()
    await fake.start()
    yield fake
    await fake.stop()


def jira_rules(jira: FakeJira) -> dict[str, Any]:
    return {"tracker": "jira", "sync_every": "15m",
            "jira": {"base_url": jira.base_url, "project": "OPS", "email_env": "JIRA_EMAIL",
                     "token_env": "JIRA_API_TOKEN", "webhook_secret_env": "JIRA_WEBHOOK_SECRET"}}


def jira_env(jira: FakeJira) -> dict[str, str]:
    return {"JIRA_EMAIL": jira.email, "JIRA_API_TOKEN": jira.token, "JIRA_WEBHOOK_SECRET": jira.webhook_secret}


def github_rules(github: FakeGitHub, people: People) -> dict[str, Any]:
    return {"tracker": "github", "sync_every": "15m",
            "github": {"api_url": github.base_url, "repo": github.repo, "logins": {people.bob: "bob-brown"}}}


def github_env(github: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_TOKEN": github.token, "GITHUB_WEBHOOK_SECRET": github.webhook_secret}


@asynccontextmanager
async def bot_with(settings: Settings, fake: FakeSlack, clock: ManualClock, rules: dict[str, Any],
                   environ: dict[str, str]) -> AsyncIterator[SlackDriver]:
    (settings.playbooks_dir / "trackers.yml").write_text(yaml.safe_dump(rules))
    runtime = await start_runtime(dataclasses.replace(settings, environment=environ), clock=clock)
    runner, url = await serve(runtime.web_app)
    driver = SlackDriver(url, fake, runtime)
    try:
        yield driver
    finally:
        await driver.close()
        await runner.cleanup()
        await runtime.close()


@pytest.fixture
async def with_jira(settings: Settings, fake: FakeSlack, people: People, clock: ManualClock,
                    jira: FakeJira) -> AsyncIterator[SlackDriver]:
    fake.users[people.bob].email = BOB_EMAIL
    jira.add_user("someone.else@acme.test", "Someone Else")
    jira.add_user(BOB_EMAIL, "Bob Brown")
    async with bot_with(settings, fake, clock, jira_rules(jira), jira_env(jira)) as driver:
        yield driver


@pytest.fixture
async def with_github(settings: Settings, fake: FakeSlack, people: People, clock: ManualClock,
                      github: FakeGitHub) -> AsyncIterator[SlackDriver]:
    github.assignable.add("bob-brown")
    async with bot_with(settings, fake, clock, github_rules(github, people), github_env(github)) as driver:
        yield driver


async def webhook(slack: SlackDriver, name: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await slack.http.post(f"/trackers/{name}", content=body, headers=headers)


async def quiet(slack: SlackDriver) -> None:
    """Wait until no due work is being fired (an attempt started by a command settles before time moves)."""
    from sqlalchemy import func, select

    from app.duework.models import DueWork

    async def nothing_claimed() -> bool:
        async with slack.runtime.db.transaction() as session:
            return not await session.scalar(select(func.count()).select_from(DueWork)
                                            .where(DueWork.claimed_by.is_not(None), DueWork.done_at.is_(None)))

    await eventually(nothing_claimed)


async def add_item(slack: SlackDriver, fake: FakeSlack, people: People, channel: str, text: str) -> None:
    count = len(posts(fake, channel, "added action item"))
    await slack.command(f"action add {text}", user=people.alice, channel=channel)
    await fake.wait_for(lambda: len(posts(fake, channel, "added action item")) > count)


# -- Jira -------------------------------------------------------------------------------------


async def test_an_item_is_filed_in_jira_with_its_fields_and_shown_with_its_key(
        with_jira: SlackDriver, fake: FakeSlack, people: People, jira: FakeJira) -> None:
    slack = with_jira
    channel = await declare(slack, fake, people, "P1 Checkout errors")

    await add_item(slack, fake, people, channel,
                   f"Add pool monitoring owner:<@{people.bob}|bob> priority:P1 due:2026-12-10")
    [filed] = await fake.wait_for(lambda: posts(fake, channel, "is <"))

    issue = jira.issues["OPS-1"]["fields"]
    assert issue["summary"] == "Add pool monitoring"
    assert issue["priority"] == {"name": "High"} and issue["duedate"] == "2026-12-10"
    assert issue["assignee"] == {"accountId": jira.users[1]["accountId"]}  # Bob, found by his Slack e-mail
    assert issue["labels"] == ["incident-follow-up", "incident-1-action-1"]
    description = issue["description"]
    assert description["type"] == "doc" and description["version"] == 1
    texts = [node for block in description["content"] for node in block["content"]]
    assert any("Checkout errors" in node["text"] for node in texts)
    [back] = [node for node in texts if node.get("marks")]
    assert back["marks"][0]["attrs"]["href"] == f"https://slack.com/app_redirect?channel={channel}"
    assert f"<{jira.base_url}/browse/OPS-1|OPS-1> in Jira" in filed.text
    [item] = await items_of(slack, channel)
    assert (item.tracker, item.tracker_key, item.tracker_url) == ("jira", "OPS-1", f"{jira.base_url}/browse/OPS-1")
    assert await eventually(lambda: timeline_texts(slack, channel, "action_item_filed")) == [
        "Action item #1 filed in Jira as OPS-1"]

    listed = await answer(await slack.command("actions", user=people.bob, channel=channel))
    assert f"<{jira.base_url}/browse/OPS-1|OPS-1>" in listed

    await resolve(slack, fake, people, channel)
    document = await published(slack, fake, people, channel)
    assert f"#1 Add pool monitoring ([OPS-1]({jira.base_url}/browse/OPS-1))" in document


async def test_jira_down_keeps_the_item_and_files_it_once_when_back(
        with_jira: SlackDriver, fake: FakeSlack, people: People, jira: FakeJira, clock: ManualClock) -> None:
    slack = with_jira
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    jira.down = True

    await add_item(slack, fake, people, channel, "Update the runbook")
    await fake.wait_for(lambda: jira.calls("POST", "/rest/api/3/issue") == 1)  # tried at once
    await quiet(slack)
    await tick(slack, clock, seconds=31)
    await tick(slack, clock, minutes=1, seconds=1)
    assert jira.issues == {} and jira.calls("POST", "/rest/api/3/issue") == 3
    [item] = await items_of(slack, channel)
    assert item.tracker_key is None and item.text == "Update the runbook"

    jira.down = False
    await tick(slack, clock, minutes=5)
    await fake.wait_for(lambda: posts(fake, channel, "is <"))
    assert list(jira.issues) == ["OPS-1"]
    [item] = await items_of(slack, channel)
    assert item.tracker_key == "OPS-1"
    # The outage is on the timeline once, however many tries it took.
    assert await timeline_texts(slack, channel, "clock_step_failed") == [
        "tracker_file: file: create issue: HTTP 503"]


async def test_done_in_jira_by_signed_webhook_is_done_in_slack_and_nothing_else(
        with_jira: SlackDriver, fake: FakeSlack, people: People, jira: FakeJira, clock: ManualClock) -> None:
    slack = with_jira
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await add_item(slack, fake, people, channel, "Add pool monitoring")
    await fake.wait_for(lambda: "OPS-1" in jira.issues)
    body = jira.finish("OPS-1")

    forged = await webhook(slack, "jira", body, {**jira.webhook_headers(body), "X-Hub-Signature": "sha256=" + "0" * 64})
    unsigned = await webhook(slack, "jira", body, {"Content-Type": "application/json"})
    wrong_tracker = await webhook(slack, "github", body, jira.webhook_headers(body))
    assert [forged.status_code, unsigned.status_code, wrong_tracker.status_code] == [401, 401, 401]
    [item] = await items_of(slack, channel)
    assert item.status is ActionStatus.OPEN

    delivered = await webhook(slack, "jira", body, jira.webhook_headers(body))
    again = await webhook(slack, "jira", body, jira.webhook_headers(body))
    # Jira keeps a delivery's identifier across its retries: the copy is answered 200 and does nothing.
    assert delivered.json() == {"done": ["OPS-1"]} and again.json() == {"done": [], "already_received": True}
    [item] = await items_of(slack, channel)
    assert item.status is ActionStatus.DONE and item.done_by is None
    [shown] = posts(fake, channel, "was closed in Jira")
    assert "so it is done here too" in shown.text and "OPS-1" in shown.text
    assert await timeline_texts(slack, channel, "action_item_done") == [
        "Action item #1 done: Add pool monitoring (closed in Jira as OPS-1)"]
    await tick(slack, clock, minutes=20)
    assert jira.calls("POST", "/transitions") == 0  # finished there: nothing to close back


async def test_done_in_slack_moves_the_jira_issue_to_done(
        with_jira: SlackDriver, fake: FakeSlack, people: People, jira: FakeJira, clock: ManualClock) -> None:
    slack = with_jira
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await add_item(slack, fake, people, channel, "Add pool monitoring")
    await fake.wait_for(lambda: "OPS-1" in jira.issues)
    await quiet(slack)
    jira.down = True

    await slack.command("action done 1", user=people.bob, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "finished action item"))
    await fake.wait_for(lambda: jira.calls("GET", "/rest/api/3/issue/OPS-1"))  # tried at once, while down
    await quiet(slack)
    await tick(slack, clock, seconds=31)
    assert jira.issues["OPS-1"]["fields"]["status"]["name"] == "To Do"
    jira.down = False
    await tick(slack, clock, minutes=2)

    assert jira.issues["OPS-1"]["fields"]["status"]["statusCategory"]["key"] == "done"
    assert await timeline_texts(slack, channel, "action_item_closed") == [
        "Closed OPS-1 in Jira: action item #1 was done in Slack"]


async def test_an_edit_in_slack_edits_the_jira_issue(
        with_jira: SlackDriver, fake: FakeSlack, people: People, jira: FakeJira) -> None:
    slack = with_jira
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await add_item(slack, fake, people, channel, "Add pool monitoring priority:P3")
    await fake.wait_for(lambda: "OPS-1" in jira.issues)
    await quiet(slack)

    await slack.command(f"action edit 1 owner:<@{people.bob}|bob> priority:P0 due:2026-12-24", user=people.alice,
                        channel=channel)
    await fake.wait_for(lambda: jira.issues["OPS-1"]["fields"].get("duedate") == "2026-12-24")

    fields = jira.issues["OPS-1"]["fields"]
    assert fields["priority"] == {"name": "Highest"} and fields["summary"] == "Add pool monitoring"
    assert fields["assignee"] == {"accountId": jira.users[1]["accountId"]}
    assert fields["labels"] == ["incident-follow-up", "incident-1-action-1"]  # an edit keeps the labels
    assert await eventually(lambda: timeline_texts(slack, channel, "action_item_updated")) == [
        "Updated OPS-1 in Jira to match action item #1"]


async def test_the_periodic_sync_notices_an_issue_finished_in_jira_without_a_webhook(
        with_jira: SlackDriver, fake: FakeSlack, people: People, jira: FakeJira, clock: ManualClock) -> None:
    slack = with_jira
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await add_item(slack, fake, people, channel, "Add pool monitoring")
    await fake.wait_for(lambda: len(jira.issues) == 1)
    await add_item(slack, fake, people, channel, "Update the runbook")
    await fake.wait_for(lambda: len(jira.issues) == 2)

    async def both_written_down() -> bool:  # Jira made the issue a moment before the bot wrote its key down
        return [i.tracker_key for i in await items_of(slack, channel)] == ["OPS-1", "OPS-2"]

    await eventually(both_written_down)
    jira.finish("OPS-2")  # the webhook is lost

    await tick(slack, clock, minutes=14)
    assert [i.status for i in await items_of(slack, channel)] == [ActionStatus.OPEN, ActionStatus.OPEN]
    await tick(slack, clock, minutes=1, seconds=1)
    assert [i.status for i in await items_of(slack, channel)] == [ActionStatus.OPEN, ActionStatus.DONE]
    assert posts(fake, channel, "was closed in Jira")

    jira.down = True  # a sync during an outage changes nothing and comes round again
    await tick(slack, clock, minutes=15, seconds=1)
    jira.down = False
    jira.finish("OPS-1")
    await tick(slack, clock, minutes=15)
    assert [i.status for i in await items_of(slack, channel)] == [ActionStatus.DONE, ActionStatus.DONE]


# -- GitHub -----------------------------------------------------------------------------------


async def test_github_issue_filed_assigned_closed_both_ways(
        with_github: SlackDriver, fake: FakeSlack, people: People, github: FakeGitHub, clock: ManualClock) -> None:
    slack = with_github
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    github.down = True
    await add_item(slack, fake, people, channel,
                   f"Add pool monitoring owner:<@{people.bob}|bob> priority:P0 due:2026-12-10")
    await fake.wait_for(lambda: github.calls("POST", "/issues") == 1)
    await add_item(slack, fake, people, channel, f"Update the runbook owner:<@{people.carol}|carol>")
    await fake.wait_for(lambda: github.calls("POST", "/issues") == 2)
    await quiet(slack)
    await tick(slack, clock, seconds=31)
    assert github.issues == {}
    github.down = False
    await tick(slack, clock, minutes=1, seconds=1)
    await fake.wait_for(lambda: len(posts(fake, channel, "is <")) == 2)

    # Both retried in the same sweep: GitHub numbers them in whichever order they arrived.
    first, second = sorted(github.issues.values(), key=lambda issue: issue["title"])
    assert first["title"] == "Add pool monitoring" and [a["login"] for a in first["assignees"]] == ["bob-brown"]
    assert [label["name"] for label in first["labels"]] == ["incident-follow-up", "incident-1-action-1",
                                                           "priority: P0"]
    assert "Due: 2026-12-10" in first["body"] and f"(https://slack.com/app_redirect?channel={channel})" in first["body"]
    assert second["assignees"] == []  # Carol has no GitHub login in playbooks/trackers.yml
    assert [i.tracker_key for i in await items_of(slack, channel)] == [
        f"acme/incidents#{first['number']}", f"acme/incidents#{second['number']}"]

    body = github.close(second["number"])
    bad = await webhook(slack, "github", body, {**github.webhook_headers(body),
                                                "X-Hub-Signature-256": github.signature(body + b" ")})
    assert bad.status_code == 401
    ping = await webhook(slack, "github", b'{"zen": "Keep it logically awesome."}',
                         github.webhook_headers(b'{"zen": "Keep it logically awesome."}', event="ping"))
    assert ping.json() == {"done": []}
    closed = await webhook(slack, "github", body, github.webhook_headers(body))
    assert closed.json() == {"done": [f"acme/incidents#{second['number']}"]}
    assert [i.status for i in await items_of(slack, channel)] == [ActionStatus.OPEN, ActionStatus.DONE]
    assert posts(fake, channel, "was closed in GitHub")

    await slack.command("action edit 1 priority:P2", user=people.bob, channel=channel)
    await fake.wait_for(lambda: "priority: P2" in [label["name"] for label in first["labels"]])
    assert [a["login"] for a in first["assignees"]] == ["bob-brown"]
    await slack.command("action done 1", user=people.bob, channel=channel)
    await fake.wait_for(lambda: first["state"] == "closed")
    assert first["state_reason"] == "completed"


async def test_a_login_github_cannot_assign_still_files_the_item_unassigned(
        with_github: SlackDriver, fake: FakeSlack, people: People, github: FakeGitHub) -> None:
    slack = with_github
    github.assignable.clear()  # bob-brown lost access to the repository
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await add_item(slack, fake, people, channel, f"Add pool monitoring owner:<@{people.bob}|bob>")

    await fake.wait_for(lambda: posts(fake, channel, "is <"))
    assert [issue["assignees"] for issue in github.issues.values()] == [[]]
    assert github.calls("POST", "/issues") == 2


async def test_an_issue_created_but_not_recorded_is_found_not_made_twice(
        with_github: SlackDriver, fake: FakeSlack, people: People, github: FakeGitHub, clock: ManualClock) -> None:
    """A worker died after GitHub created the issue: the next attempt finds it by the item's label."""
    slack = with_github
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    github.down = True
    await add_item(slack, fake, people, channel, "Add pool monitoring")
    await fake.wait_for(lambda: github.calls("POST", "/issues") == 1)
    await quiet(slack)
    github.issues[1] = {"number": 1, "title": "Add pool monitoring", "state": "open", "state_reason": None,
                        "html_url": f"https://github.com/{github.repo}/issues/1", "assignees": [],
                        "labels": [{"name": "incident-follow-up"}, {"name": "incident-1-action-1"}]}
    from sqlalchemy import update

    from app.duework.models import DueWork, WorkKind
    async with slack.runtime.db.transaction() as session:  # the lost attempt: claimed, never settled
        await session.execute(update(DueWork).where(DueWork.kind == WorkKind.TRACKER_FILE)
                              .values(steps={"file": {"error": "create issue: ReadTimeout", "unsure": True}}))
    github.down = False
    await tick(slack, clock, minutes=1)

    assert list(github.issues) == [1]
    assert [i.tracker_key for i in await items_of(slack, channel)] == ["acme/incidents#1"]


# -- the policy file --------------------------------------------------------------------------


def test_trackers_yml_is_strict_and_keeps_secrets_out(tmp_path: Path) -> None:
    from app.trackers.config import load_tracker_rules

    path = tmp_path / "trackers.yml"
    cases = {
        "tracker: jira\njira: {base_url: https://x.atlassian.net, project: OPS, projekt: OPS}":
            "unknown key 'projekt' (did you mean 'project'?)",
        "tracker: jira": "there is no jira: section",
        "tracker: github\ngithub: {repo: acme/incidents, token_env: ghp_abc123secret}": "is not the name of an "
                                                                                      "environment variable",
        "tracker: github\ngithub: {repo: not-a-repo}": "is not owner/name",
        "tracker: trello": "tracker",
    }
    for text, problem in cases.items():
        path.write_text(text)
        with pytest.raises(PolicyError, match=re.escape(problem)):
            load_tracker_rules(path)


async def test_a_webhook_secret_the_file_names_must_be_set_and_one_left_to_its_default_may_not_be(
        settings: Settings, clock: ManualClock) -> None:
    path = settings.playbooks_dir / "trackers.yml"
    github = {"repo": "acme/incidents", "webhook_secret_env": "ACME_GITHUB_HOOK"}
    path.write_text(yaml.safe_dump({"tracker": "github", "github": github}))
    environ = {"GITHUB_TOKEN": "ghp_token", "GITHUB_WEBHOOK_SECRET": "github-webhook-secret-0123456789"}
    with pytest.raises(PolicyError) as raised:
        await start_runtime(dataclasses.replace(settings, environment=environ), clock=clock)
    assert str(raised.value) == (f"{path}: github.webhook_secret_env names the environment variable ACME_GITHUB_HOOK, "
                                 "which is not set")

    del github["webhook_secret_env"]  # left to its default, GITHUB_WEBHOOK_SECRET: the webhook is on only if it is set
    path.write_text(yaml.safe_dump({"tracker": "github", "github": github}))
    runtime = await start_runtime(dataclasses.replace(settings, environment={"GITHUB_TOKEN": "ghp_token"}),
                                  clock=clock)
    try:
        assert runtime.slack.integrations.tracker is not None
    finally:
        await runtime.close()


async def test_a_tracker_whose_token_is_not_set_stops_start_up(settings: Settings, clock: ManualClock) -> None:
    (settings.playbooks_dir / "trackers.yml").write_text(yaml.safe_dump(
        {"tracker": "github", "github": {"repo": "acme/incidents"}}))
    with pytest.raises(PolicyError, match=r"github\.token_env names the environment variable GITHUB_TOKEN, which is "
                                          "not set"):
        await start_runtime(settings, clock=clock)
