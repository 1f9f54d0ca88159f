"""The HTTP routes outside Slack's (alerts, trackers, signed links, the status page and the operator's routes)
trust nothing they are sent: a request that proves nothing is 401 before its body is read, malformed input
is a 4xx and never a 500, and a copy of a webhook delivery does nothing, across replicas and restarts.
Every refusal is one bounded log line. The real app over HTTP, the fake Slack on loopback, SQLite and
PostgreSQL (the property tests: SQLite)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from app.webhooks.models import WebhookDelivery
from bench.fuzzing import JSONISH
from tests.conftest import People, running_bot
from tests.faketrackers import FakeGitHub, FakeJira
from tests.support import ManualClock, SlackDriver, settled
from tests.test_alerts import SENT, alert_settings, another, bot, clock, incidents, sample, send, signed  # noqa: F401
from tests.test_clock import tick
from tests.test_paging import ROUTING_KEY, PagerDutyInbox
from tests.test_trackers import bot_with, github, github_env, github_rules, jira, jira_env, jira_rules  # noqa: F401

FUZZ = hypothesis_settings(max_examples=60, deadline=None, database=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError on this, not ValueError
NOT_UTF8 = b'{"version": "4", "alerts": ["\xff\xfe"]}'
REFUSED = "app.refused"


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == REFUSED]


def slack_calls(fake: FakeSlack) -> int:
    return len(fake.calls)


def incident_channels(fake: FakeSlack) -> list[str]:
    return [c.id for c in fake.channels.values() if c.name.startswith("incident-")]


# -- alerts: malformed is a 4xx ---------------------------------------------------------------------


def unsigned(source: str) -> dict[str, str]:
    return {}


def non_ascii(source: str) -> dict[str, Any]:
    """Header values as bytes: httpx sends them as they are (a str must be ASCII)."""
    return {"sentry": {"Sentry-Hook-Signature": "é".encode() * 32, "Sentry-Hook-Timestamp": str(int(SENT.timestamp()))},
            "alertmanager": {"Authorization": b"Bearer " + "tökén".encode()},
            "pagerduty": {"X-PagerDuty-Signature": b"v1=" + "²".encode() * 32}}[source]


MALFORMED_ALERTS = [
    # (what, body, headers for (source, body), content type, status)
    ("unsigned, not JSON", b"not json at all", lambda s, b: unsigned(s), "application/json", 401),
    ("unsigned, nested 100k deep", DEEP, lambda s, b: unsigned(s), "application/json", 401),
    ("unsigned, not UTF-8", NOT_UTF8, lambda s, b: unsigned(s), "application/json", 401),
    ("non-ASCII credential", b"{}", lambda s, b: non_ascii(s), "application/json", 401),
    ("signed, not JSON", b"not json at all", signed, "application/json", 400),
    ("signed, nested 100k deep", DEEP, signed, "application/json", 400),
    ("signed, not UTF-8", NOT_UTF8, signed, "application/json", 400),
    ("signed, not JSON's media type", b"{}", signed, "text/plain", 415),
    ("signed, a list", b"[1, 2]", signed, "application/json", 400),
]


@pytest.mark.parametrize("source", ["sentry", "alertmanager", "pagerduty"])
@pytest.mark.parametrize("what, body, headers, content_type, status", MALFORMED_ALERTS,
                         ids=[case[0] for case in MALFORMED_ALERTS])
async def test_malformed_alerts_are_refused_with_a_4xx_and_one_log_line(
        bot: SlackDriver, fake: FakeSlack, caplog: pytest.LogCaptureFixture, source: str, what: str, body: bytes,
        headers: Any, content_type: str, status: int) -> None:
    calls = slack_calls(fake)
    response = await bot.http.post(f"/alerts/{source}", content=body,
                                   headers={"Content-Type": content_type, **headers(source, body)})

    assert response.status_code == status, (what, response.text)
    assert await incidents(bot) == [] and slack_calls(fake) == calls
    [line] = refusals(caplog)
    assert line.startswith("Refused POST /alerts/{source}: ") and f"({status}, body {len(body)} bytes)" in line
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("entry", [{"labels": [1, 2]}, {"annotations": "x"}, {"labels": {"a": "b"}, "annotations": 7}])
async def test_a_signed_alertmanager_body_of_the_wrong_shape_is_a_400(
        bot: SlackDriver, fake: FakeSlack, caplog: pytest.LogCaptureFixture, entry: dict[str, Any]) -> None:
    payload = json.loads(sample("alertmanager-firing.json"))
    payload["alerts"][0].update(entry)
    body = json.dumps(payload).encode()

    response = await send(bot, "alertmanager", body)

    assert response.status_code == 400 and response.json() == {"error": "bad request"}
    assert await incidents(bot) == [] and incident_channels(fake) == []
    [line] = refusals(caplog)
    assert "alertmanager: alerts[1]." in line and "is not an object" in line


async def test_a_refusal_logs_neither_body_nor_credentials(bot: SlackDriver, caplog: pytest.LogCaptureFixture) -> None:
    body = b'{"secret-looking": "BODY-MARKER-4711"}'
    await send(bot, "sentry", body, {"Sentry-Hook-Signature": "CREDENTIAL-MARKER-0815"})
    await send(bot, "sentry", b"BODY-MARKER-4711", signed("sentry", b"BODY-MARKER-4711"))

    assert len(refusals(caplog)) == 2
    assert "MARKER" not in caplog.text


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6), timedelta(days=-400)])
async def test_a_sentry_delivery_dated_outside_the_window_is_refused(
        bot: SlackDriver, fake: FakeSlack, caplog: pytest.LogCaptureFixture, offset: timedelta) -> None:
    body = sample("sentry-event-alert.json")
    headers = signed("sentry", body, **{"Sentry-Hook-Timestamp": str(int((SENT + offset).timestamp()))})

    response = await send(bot, "sentry", body, headers)

    assert response.status_code == 401
    assert await incidents(bot) == [] and incident_channels(fake) == []
    assert "sentry: dated outside the delivery window" in refusals(caplog)[0]


@pytest.mark.parametrize("timestamp", ["", "soon", "１７６５２８８９３１", "9" * 30])  # noqa: RUF001 - fullwidth digits, on purpose
async def test_a_sentry_delivery_without_a_readable_date_is_a_400(bot: SlackDriver, timestamp: str) -> None:
    body = sample("sentry-event-alert.json")
    headers = {**signed("sentry", body), "Sentry-Hook-Timestamp": timestamp.encode()}
    assert (await send(bot, "sentry", body, headers)).status_code == 400  # type: ignore[arg-type]
    assert await incidents(bot) == []


# -- alerts: a copy of a delivery does nothing ------------------------------------------------------------


@pytest.fixture
async def paged_bot(alert_settings: Settings, fake: FakeSlack,
                    clock: ManualClock) -> AsyncIterator[tuple[SlackDriver, PagerDutyInbox]]:
    inbox = PagerDutyInbox()
    settings = dataclasses.replace(alert_settings, pagerduty_routing_key=ROUTING_KEY)
    async with running_bot(settings, fake, clock, httpx.MockTransport(inbox.handle)) as driver:
        yield driver, inbox


async def declared_and_resolved(bot: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock,
                                source: str, body: bytes, headers: dict[str, str]) -> None:
    first = await send(bot, source, body, headers)
    assert first.status_code == 200 and len(first.json()["declared"]) == 1, first.text
    await settled(bot.runtime)
    await tick(bot, clock, seconds=1)  # the pages
    [channel] = incident_channels(fake)
    await bot.command("resolve Bad deploy | Rolled back", user=people.carol, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
    await tick(bot, clock, seconds=1)


@pytest.mark.parametrize("source, name", [("pagerduty", "pagerduty-incident-triggered.json"),
                                          ("sentry", "sentry-event-alert.json")])
async def test_a_delivery_replayed_after_its_incident_is_resolved_declares_nothing_and_pages_nobody(
        paged_bot: tuple[SlackDriver, PagerDutyInbox], fake: FakeSlack, people: People, clock: ManualClock,
        source: str, name: str) -> None:
    bot, inbox = paged_bot
    body = sample(name)
    headers = signed(source, body)
    await declared_and_resolved(bot, fake, people, clock, source, body, headers)
    channels, pages, calls = incident_channels(fake), list(inbox.events), slack_calls(fake)
    assert [e["event_action"] for e in pages].count("trigger") >= (1 if source == "pagerduty" else 0)

    replayed = await send(bot, source, body, headers)  # the captured request, as it was

    assert replayed.status_code == 200
    assert replayed.json() == {"declared": [], "added": [], "ignored": 0, "already_received": True}
    await tick(bot, clock, seconds=1)
    assert len(await incidents(bot)) == 1
    assert incident_channels(fake) == channels and inbox.events == pages and slack_calls(fake) == calls


@pytest.mark.both_databases
async def test_a_later_replay_is_refused_by_its_date_or_known_by_its_signed_body(
        paged_bot: tuple[SlackDriver, PagerDutyInbox], fake: FakeSlack, people: People, clock: ManualClock) -> None:
    bot, inbox = paged_bot
    sentry_body, pagerduty_body = sample("sentry-event-alert.json"), sample("pagerduty-incident-triggered.json")
    await declared_and_resolved(bot, fake, people, clock, "sentry", sentry_body, signed("sentry", sentry_body))
    first = await send(bot, "pagerduty", pagerduty_body)
    assert len(first.json()["declared"]) == 1
    await settled(bot.runtime)  # answered once stored: its channel is set up after the answer
    clock.advance(minutes=10)
    channels, pages = incident_channels(fake), list(inbox.events)

    # PagerDuty's date is inside what it signs: too old now.
    late = await send(bot, "pagerduty", pagerduty_body)
    # Sentry's date and Request-ID are outside what it signs: given afresh, and still the same signed body.
    fresh = signed("sentry", sentry_body, **{"Sentry-Hook-Timestamp": str(int(clock.now().timestamp())),
                                             "Request-ID": str(uuid.uuid4())})
    copied = await send(bot, "sentry", sentry_body, fresh)

    assert late.status_code == 401
    assert copied.status_code == 200 and copied.json()["already_received"] is True
    assert len(await incidents(bot)) == 2 and incident_channels(fake) == channels and inbox.events == pages


@pytest.mark.both_databases
async def test_one_delivery_sent_to_two_replicas_at_once_acts_once(
        alert_settings: Settings, fake: FakeSlack, clock: ManualClock) -> None:
    body = sample("pagerduty-incident-triggered.json")
    async with AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(running_bot(alert_settings, fake, clock)) for _ in range(2)]
        responses = await asyncio.gather(*(send(replicas[n % 2], "pagerduty", body) for n in range(10)))

        assert {r.status_code for r in responses} == {200}
        assert sum(len(r.json()["declared"]) for r in responses) == 1
        assert sum(1 for r in responses if r.json().get("already_received")) == 9
        await settled(replicas[0].runtime)
        assert len(incident_channels(fake)) == 1
        async with replicas[0].runtime.db.transaction() as session:
            taken = list(await session.scalars(select(WebhookDelivery)))
        assert [(t.source, t.delivery_id) for t in taken] == [("pagerduty", "event:01DEN3C7UDHQ6V0V8V2F8AQZJD")]


async def test_a_new_delivery_of_the_same_alert_still_goes_on_the_timeline(bot: SlackDriver) -> None:
    body = sample("pagerduty-incident-triggered.json")
    [declared] = (await send(bot, "pagerduty", body)).json()["declared"]
    assert (await send(bot, "pagerduty", another("pagerduty", body))).json() == {
        "declared": [], "added": [declared], "ignored": 0}


# -- trackers ---------------------------------------------------------------------------------------


@pytest.fixture
async def jira_bot(settings: Settings, fake: FakeSlack, clock: ManualClock,
                   jira: FakeJira) -> AsyncIterator[SlackDriver]:
    async with bot_with(settings, fake, clock, jira_rules(jira), jira_env(jira)) as driver:
        yield driver


@pytest.fixture
async def github_bot(settings: Settings, fake: FakeSlack, people: People, clock: ManualClock,
                     github: FakeGitHub) -> AsyncIterator[SlackDriver]:
    async with bot_with(settings, fake, clock, github_rules(github, people), github_env(github)) as driver:
        yield driver


def jira_done(key: str) -> bytes:
    return json.dumps({"timestamp": 1, "webhookEvent": "jira:issue_updated",
                       "issue": {"key": key, "fields": {"status": {"statusCategory": {"key": "done"}}}}}).encode()


def jira_headers(jira: FakeJira, body: bytes, identifier: str = "4711") -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature": jira.signature(body),
            "X-Atlassian-Webhook-Identifier": identifier}


MALFORMED_TRACKER = [
    ("unsigned, not JSON", b"nope", False, "application/json", 401),
    ("unsigned, nested 100k deep", DEEP, False, "application/json", 401),
    ("unsigned, not UTF-8", NOT_UTF8, False, "application/json", 401),
    ("signed, not JSON", b"nope", True, "application/json", 400),
    ("signed, nested 100k deep", DEEP, True, "application/json", 400),
    ("signed, not UTF-8", NOT_UTF8, True, "application/json", 400),
    ("signed, form-encoded", b"payload=%7B%7D", True, "application/x-www-form-urlencoded", 415),
    ("signed, no issue", b'{"webhookEvent": "jira:issue_updated"}', True, "application/json", 400),
]


@pytest.mark.parametrize("what, body, sign, content_type, status", MALFORMED_TRACKER,
                         ids=[case[0] for case in MALFORMED_TRACKER])
async def test_malformed_tracker_webhooks_are_refused_with_a_4xx(
        jira_bot: SlackDriver, jira: FakeJira, fake: FakeSlack, caplog: pytest.LogCaptureFixture,
        what: str, body: bytes, sign: bool, content_type: str, status: int) -> None:
    headers = {**jira_headers(jira, body), "Content-Type": content_type} if sign else {"Content-Type": content_type}
    calls = slack_calls(fake)

    response = await jira_bot.http.post("/trackers/jira", content=body, headers=headers)

    assert response.status_code == status, (what, response.text)
    assert slack_calls(fake) == calls
    [line] = refusals(caplog)
    assert line.startswith("Refused POST /trackers/{name}: ") and f"({status}, body {len(body)} bytes)" in line


@pytest.mark.parametrize("headers", [
    {"X-Hub-Signature": "sha256=" + "é" * 64}, {"X-Hub-Signature": "sha256=²"},
    {"X-Atlassian-Webhook-Identifier": "é"}, {"X-Atlassian-Webhook-Identifier": ""}])
async def test_non_ascii_or_malformed_tracker_credentials_and_ids_are_refused(
        jira_bot: SlackDriver, jira: FakeJira, headers: dict[str, str]) -> None:
    body = jira_done("OPS-1")
    encoded = {k: v.encode() for k, v in headers.items()}
    response = await jira_bot.http.post("/trackers/jira", content=body,
                                        headers={**jira_headers(jira, body), **encoded})
    assert response.status_code == (401 if "X-Hub-Signature" in headers else 400)


async def test_a_signed_jira_body_of_an_odd_shape_is_not_a_500(jira_bot: SlackDriver, jira: FakeJira) -> None:
    for payload in ({"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-1", "fields": [1]}},
                    {"webhookEvent": "jira:issue_updated", "issue": {"key": ["OPS-1"], "fields": {"status": {
                        "statusCategory": {"key": "done"}}}}}):
        body = json.dumps(payload).encode()
        response = await jira_bot.http.post("/trackers/jira", content=body,
                                            headers=jira_headers(jira, body, str(uuid.uuid4().int)))
        assert response.status_code in (200, 400), response.text


async def taken(slack: SlackDriver) -> list[tuple[str, str]]:
    async with slack.runtime.db.transaction() as session:
        return sorted((t.source, t.delivery_id) for t in await session.scalars(select(WebhookDelivery)))


async def test_a_jira_delivery_is_taken_once_and_forgotten_after_remembered_for(
        jira_bot: SlackDriver, jira: FakeJira, clock: ManualClock) -> None:
    body = jira_done("OPS-9")

    first = await jira_bot.http.post("/trackers/jira", content=body, headers=jira_headers(jira, body, "1001"))
    retried = await jira_bot.http.post("/trackers/jira", content=body, headers=jira_headers(jira, body, "1001"))
    renamed = await jira_bot.http.post("/trackers/jira", content=body, headers=jira_headers(jira, body, "1002"))

    assert first.json() == {"done": []}  # no item is filed as OPS-9: nothing to finish, but it is taken
    assert retried.json() == renamed.json() == {"done": [], "already_received": True}
    digest = "body:" + hashlib.sha256(body).hexdigest()
    assert await taken(jira_bot) == [("jira", digest), ("jira", "identifier:1001")]

    clock.advance(days=7, seconds=1)  # playbooks/trackers.yml: remembered_for 7d
    later = await jira_bot.http.post("/trackers/jira", content=body, headers=jira_headers(jira, body, "1003"))
    assert later.json() == {"done": []}
    assert await taken(jira_bot) == [("jira", digest), ("jira", "identifier:1003")]


async def test_old_delivery_ids_are_forgotten_now_and_then_not_on_every_request(
        jira_bot: SlackDriver, jira: FakeJira, clock: ManualClock) -> None:
    deletes: list[str] = []

    def count_deletes(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM WEBHOOK_DELIVERIES"):
            deletes.append(statement)

    engine = jira_bot.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_deletes)
    try:
        for number in range(5):
            body = jira_done(f"OPS-{number}")
            response = await jira_bot.http.post("/trackers/jira", content=body,
                                                headers=jira_headers(jira, body, str(2000 + number)))
            assert response.json() == {"done": []}
            clock.advance(seconds=60)
        assert len(deletes) == 1  # the first request forgets; the next four, within the hour, do not
        clock.advance(hours=1)
        body = jira_done("OPS-99")
        await jira_bot.http.post("/trackers/jira", content=body, headers=jira_headers(jira, body, "2099"))
        assert len(deletes) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count_deletes)


async def test_a_github_delivery_is_taken_once(github_bot: SlackDriver, github: FakeGitHub) -> None:
    body = json.dumps({"action": "closed", "issue": {"number": 5},
                       "repository": {"full_name": github.repo}}).encode()
    headers = github.webhook_headers(body)

    first = await github_bot.http.post("/trackers/github", content=body, headers=headers)
    again = await github_bot.http.post("/trackers/github", content=body, headers=headers)
    no_id = await github_bot.http.post("/trackers/github", content=body,
                                       headers={k: v for k, v in headers.items() if k != "X-GitHub-Delivery"})

    assert first.json() == {"done": []} and again.json() == {"done": [], "already_received": True}
    assert no_id.status_code == 400
    assert ("github", f"delivery:{headers['X-GitHub-Delivery']}") in await taken(github_bot)


# -- signed links -------------------------------------------------------------------------------------


BAD_QUERIES = ["expires=²&sig=" + "0" * 64, "expires=٣٣٣٣٣٣٣٣٣٣&sig=" + "0" * 64, "expires=9999999999&sig=" + "é" * 64,
               "expires=9999999999&sig=%ff%fe", "expires=-1&sig=x", "expires=1e10&sig=x", "expires=&sig=",
               "expires=99999999999999999999999&sig=" + "0" * 64, "sig=" + "0" * 64, ""]


@pytest.mark.parametrize("query", BAD_QUERIES)
async def test_bad_review_and_insights_link_parameters_are_404(
        slack: SlackDriver, caplog: pytest.LogCaptureFixture, query: str) -> None:
    for path in ("/incidents/1/review.md?", "/insights?window=30d&", "/insights?window=%ED%A0%80&",
                 "/insights?window=²&"):
        url = path + query
        response = await slack.http.get(url)
        assert response.status_code == 404, (url, response.text)
    assert len(refusals(caplog)) == 4


@pytest.mark.parametrize("path", ["/incidents/x/review.md", "/incidents/١/review.md", "/incidents/9999999999/review.md"])  # noqa: RUF001, E501
async def test_a_review_link_with_no_number_for_an_id_is_404(slack: SlackDriver, path: str) -> None:
    assert (await slack.http.get(path)).status_code == 404


# -- properties: no 5xx, no Slack call ----------------------------------------------------------------


HEADER_NAMES = ["Content-Type", "Authorization", "Sentry-Hook-Signature", "Sentry-Hook-Timestamp",
                "Sentry-Hook-Resource", "Request-ID", "X-PagerDuty-Signature", "X-Hub-Signature",
                "X-Hub-Signature-256", "X-GitHub-Event", "X-GitHub-Delivery", "X-Atlassian-Webhook-Identifier",
                "Accept", "If-None-Match", "Cookie"]
# What a client can send at all: no control characters, no whitespace around a value.
HEADER_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=80).map(str.strip)
HEADER_VALUES = st.one_of(HEADER_TEXT, st.sampled_from(["application/json", "text/plain", "Bearer x", "v1=", "sha256=",
                                                        "event_alert", "issue", "issues", "ping", "0", "-1", "²"]))
HEADERS = st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUES, max_size=6)
SAMPLES = ["sentry-event-alert.json", "sentry-issue-resolved.json", "alertmanager-firing.json",
           "alertmanager-resolved.json", "pagerduty-incident-triggered.json", "pagerduty-incident-resolved.json"]


@st.composite
def mutated(draw: st.DrawFn, payload: Any) -> Any:
    """The payload with a few values, anywhere in it, replaced by arbitrary JSON."""
    for _ in range(draw(st.integers(1, 3))):
        node = payload
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            if not isinstance(node[key], (dict, list)) or not node[key] or draw(st.integers(0, 3)) == 0:
                node[key] = draw(JSONISH)
                break
            node = node[key]
    return payload


@st.composite
def body(draw: st.DrawFn, samples: list[dict[str, Any]]) -> bytes:
    kind = draw(st.sampled_from(["sample", "sample", "json", "bytes", "deep", "not utf-8"]))
    if kind == "sample":
        return json.dumps(draw(mutated(json.loads(json.dumps(draw(st.sampled_from(samples))))))).encode()
    if kind == "json":
        return json.dumps(draw(JSONISH)).encode()
    if kind == "deep":
        return draw(st.sampled_from([DEEP, b"[" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000]))
    if kind == "not utf-8":
        return b'{"x": "\xc3\x28"}'
    return draw(st.binary(max_size=200))


def encode(headers: dict[str, str]) -> dict[str, bytes]:
    return {name: value.encode() for name, value in headers.items()}


@pytest.fixture
def no_alert_rules(playbooks_dir: Any) -> None:
    """No rule declares: whatever the fuzzer sends, signed or not, may only be logged, never reach Slack."""
    path = playbooks_dir / "alerts.yml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "rules": []}))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(data=st.data())
async def test_property_alerts_never_answer_5xx_nor_call_slack(
        no_alert_rules: None, bot: SlackDriver, fake: FakeSlack, clock: ManualClock,
        data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(["sentry", "alertmanager", "pagerduty", "nagios"]))
    content = data.draw(body([json.loads(sample(name)) for name in SAMPLES]))
    headers = encode(data.draw(HEADERS))
    if data.draw(st.booleans()) and source != "nagios":  # signed, and dated now: on to the parsing
        headers = {**headers, **encode(signed(source, content))}
        if data.draw(st.booleans()):
            headers["Content-Type"] = b"application/json"
    calls = slack_calls(fake)

    response = await bot.http.post(f"/alerts/{source}", content=content, headers=headers)

    assert response.status_code < 500, (source, content[:200], headers)
    assert slack_calls(fake) == calls


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(data=st.data())
async def test_property_tracker_webhooks_never_answer_5xx_nor_call_slack(
        jira_bot: SlackDriver, jira: FakeJira, fake: FakeSlack, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(["jira", "jira", "github", "x"]))
    issue = {"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-1", "fields": {"status": {
        "statusCategory": {"key": "done"}}}}}
    content = data.draw(body([issue]))
    headers = encode(data.draw(HEADERS))
    if data.draw(st.booleans()):
        headers["X-Hub-Signature"] = jira.signature(content).encode()
        headers.setdefault("X-Atlassian-Webhook-Identifier", str(uuid.uuid4().int).encode())
        if data.draw(st.booleans()):
            headers["Content-Type"] = b"application/json"
    calls = slack_calls(fake)

    response = await jira_bot.http.post(f"/trackers/{name}", content=content, headers=headers)

    assert response.status_code < 500, (name, content[:200], headers)
    assert slack_calls(fake) == calls


QUERY_TEXT = st.one_of(st.text(max_size=30), st.sampled_from(["²", "٣", "9999999999", "1" * 13, "-1", "0x10", " 1",
                                                              "0" * 64, "é" * 64, "30d", "90d", "%ff", "%ED%A0%80"]))


@st.composite
def query(draw: st.DrawFn, names: list[str]) -> str:
    """A query string: parameters encoded as browsers do, or raw (stray %, invalid escapes)."""
    params = draw(st.dictionaries(st.sampled_from(names), QUERY_TEXT, max_size=4))
    if draw(st.booleans()):
        return str(httpx.QueryParams(params))
    return "&".join(f"{k}={quote(v, safe='%+=&;')}" for k, v in params.items())  # stray % kept as they are


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(data=st.data())
async def test_property_signed_links_never_answer_5xx_nor_call_slack(
        slack: SlackDriver, fake: FakeSlack, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(["/incidents/1/review.md", "/incidents/123456789/review.md", "/insights"]))
    names = ["expires", "sig", "window", "x", "expires"]
    url = f"{path}?{data.draw(query(names))}"
    calls = slack_calls(fake)

    response = await slack.http.get(url, headers=encode(data.draw(HEADERS)))

    assert response.status_code < 500, url
    assert slack_calls(fake) == calls


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(data=st.data())
async def test_property_status_metrics_and_health_never_answer_5xx_nor_call_slack(
        slack: SlackDriver, fake: FakeSlack, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(["/status", "/status.json", "/metrics", "/health", "/ready"]))
    url = f"{path}?{data.draw(query(['format', 'since', 'x', 'callback']))}"
    calls = slack_calls(fake)

    response = await slack.http.get(url, headers=encode(data.draw(HEADERS)))

    assert response.status_code < 500, url
    assert slack_calls(fake) == calls
