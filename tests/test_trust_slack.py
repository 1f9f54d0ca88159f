"""The door of /slack/events: nothing Slack did not sign is parsed, logged or acted on (issue 17).

A refused request is a 401 and one bounded log line (app.refused); the Slack workspace (the fake) hears
nothing, and no `response_url` the body names is ever called.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest

from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, serve, sign

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
A_SIGNATURE = "v0=" + "a" * 64  # well-formed, but not the body's


class Catcher:
    """A loopback server standing in for wherever a forged `response_url` points: it records what it is sent."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def record(self, request: web.Request) -> web.Response:
        self.received.append(await request.read())
        return web.Response(text="ok")


@pytest.fixture
async def catcher() -> AsyncIterator[tuple[Catcher, str]]:
    target = Catcher()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", target.record)
    runner, url = await serve(app)
    yield target, f"{url}/hooks/forged"
    await runner.cleanup()


def block_actions(people: People, response_url: str) -> bytes:
    payload = {
        "type": "block_actions", "team": {"id": "T0001"}, "api_app_id": "A0001",
        "user": {"id": people.alice, "name": "alice", "team_id": "T0001"}, "channel": {"id": people.general},
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": people.general},
        "message": {"ts": "1.000001", "type": "message"}, "trigger_id": "1.2.3", "response_url": response_url,
        "actions": [{"type": "button", "action_id": "no_such_action", "block_id": "b", "value": "x",
                     "action_ts": f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def view_submission(people: People) -> bytes:
    payload = {"type": "view_submission", "team": {"id": "T0001"}, "api_app_id": "A0001",
               "user": {"id": people.alice, "name": "alice", "team_id": "T0001"}, "trigger_id": "1.2.3",
               "view": {"id": "V1", "callback_id": "no_such_view", "state": {"values": {}}}}
    return urlencode({"payload": json.dumps(payload)}).encode()


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "app.refused"]


async def nothing_reached(fake: FakeSlack, catcher: Catcher) -> None:
    await asyncio.sleep(0.2)  # what the error handler would have sent goes out after the answer
    assert fake.calls == [] and fake.responses == []
    assert catcher.received == []


# -- headers the verifier chokes on ---------------------------------------------------------------


@SQLITE
@pytest.mark.parametrize("form", ["block_actions", "view_submission"])
async def test_a_timestamp_that_is_not_a_number_is_refused_and_nobody_is_told_anything(
        slack: SlackDriver, fake: FakeSlack, people: People, catcher: tuple[Catcher, str], form: str,
        caplog: pytest.LogCaptureFixture) -> None:
    target, forged_url = catcher
    body = block_actions(people, forged_url) if form == "block_actions" else view_submission(people)
    caplog.set_level(logging.INFO)

    response = await slack.post(body, "application/x-www-form-urlencoded",
                                headers={"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": A_SIGNATURE})

    assert response.status_code == 401
    await nothing_reached(fake, target)
    [refused] = refusals(caplog)
    assert refused.getMessage() == (f"Refused POST /slack/events: timestamp not a number "
                                    f"(401, body {len(body)} bytes)")
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a refusal"


@SQLITE
@pytest.mark.parametrize("signature", ["v0=" + "é" * 64, "v0=" + "a" * 63 + "ü", "v0=ａ" + "a" * 63])  # noqa: RUF001 - a fullwidth a, on purpose
async def test_a_signature_that_is_not_ascii_is_refused(slack: SlackDriver, fake: FakeSlack, people: People,
                                                       catcher: tuple[Catcher, str], signature: str) -> None:
    target, forged_url = catcher
    body = block_actions(people, forged_url)
    headers = {"X-Slack-Request-Timestamp": str(int(time.time())),
               "X-Slack-Signature": signature.encode()}  # type: ignore[dict-item]  # its UTF-8 bytes, on the wire

    response = await slack.post(body, "application/x-www-form-urlencoded", headers=headers)

    assert response.status_code == 401
    await nothing_reached(fake, target)


@SQLITE
async def test_a_signed_request_still_gets_through(slack: SlackDriver, people: People) -> None:
    reply = await slack.command("list", user=people.alice, channel=people.general)

    assert reply.status == 200 and "No open incidents" in await reply.text()


# -- bodies: nothing is read into the log, nothing is parsed before the signature -----------------------


@SQLITE
async def test_a_900_kb_body_with_a_bad_signature_adds_one_bounded_line_to_the_log(
        slack: SlackDriver, fake: FakeSlack, people: People, caplog: pytest.LogCaptureFixture) -> None:
    body = ("payload=" + "A" * 900_000).encode()
    caplog.set_level(logging.DEBUG)

    response = await slack.post(body, "application/x-www-form-urlencoded",
                                headers=sign(body, secret="0" * 32))

    assert response.status_code == 401
    [refused] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert refused.name == "app.refused"
    assert refused.getMessage() == f"Refused POST /slack/events: bad signature (401, body {len(body)} bytes)"
    # Besides it, at most the access log's line for the request: all of it bounded, none of it the body.
    served = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test's client
    assert len(served) <= 2 and all(len(r.getMessage()) < 300 for r in served), [r.getMessage()[:300] for r in served]
    assert not any("AAAA" in r.getMessage() or "v0=" in r.getMessage() for r in served)
    assert fake.calls == []


UNSIGNED_BODIES = {
    "not json": (b"{not json", "application/json"),
    "nested 100k deep": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "nested form payload": (b"payload=" + b"%5B" * 100_000, "application/x-www-form-urlencoded"),
    "not utf-8": (b"payload=\xff\xfe\xfd" + bytes(range(128, 256)), "application/x-www-form-urlencoded"),
    "not utf-8 json": (b'{"type": "\xff"}', "application/json; charset=utf-8"),
    "bad form": (b"%%%=&&&=%zz", "application/x-www-form-urlencoded"),
    "unknown type": (b"\x00\x01\x02", "application/octet-stream"),
}


@SQLITE
@pytest.mark.parametrize("name", list(UNSIGNED_BODIES))
@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: {}, id="unsigned"),
    pytest.param(lambda body: {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": A_SIGNATURE},
                 id="wrong-signature"),
])
async def test_bodies_nobody_signed_are_refused_never_a_500(slack: SlackDriver, fake: FakeSlack, name: str,
                                                           headers: Any, caplog: pytest.LogCaptureFixture) -> None:
    body, content_type = UNSIGNED_BODIES[name]

    response = await slack.post(body, content_type, headers=headers(body))

    assert response.status_code == 401
    assert fake.calls == []
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a refusal"


@SQLITE
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_corrupt_compressed_body_is_refused_without_a_traceback(
        slack: SlackDriver, fake: FakeSlack, encoding: str, caplog: pytest.LogCaptureFixture) -> None:
    body = b"\x1f\x8b\x08\x00" + b"garbage" * 100 if encoding == "gzip" else b"\x78\x9c\x01\xff\xff" + b"x" * 500
    caplog.set_level(logging.INFO)

    response = await slack.post(body, "application/json", headers={"Content-Encoding": encoding})
    await asyncio.sleep(0.2)  # aiohttp drains an unread body after the answer

    assert response.status_code == 401
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    assert [r.getMessage() for r in refusals(caplog)] == [f"Refused POST /slack/events: no timestamp "
                                                          f"(401, body {len(body)} bytes)"]
    assert fake.calls == []


# -- the error handler itself ------------------------------------------------------------------------


@SQLITE
async def test_the_error_handler_never_acts_on_a_request_that_was_not_verified(
        slack: SlackDriver, fake: FakeSlack, people: People, catcher: tuple[Catcher, str]) -> None:
    """Past the door (as if it were not there), Bolt's own check raising still leads nowhere."""
    target, forged_url = catcher
    body = block_actions(people, forged_url).decode()
    request = AsyncBoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded",
                                                   "x-slack-request-timestamp": "abc",
                                                   "x-slack-signature": A_SIGNATURE})

    answer = await slack.runtime.slack_app.async_dispatch(request)

    assert answer.status == 401
    await nothing_reached(fake, target)


@SQLITE
async def test_bolts_own_check_behind_the_door_never_logs_a_body(
        settings: Settings, fake: FakeSlack, people: People, clock: ManualClock,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # before the app is built: Bolt's loggers take the root's level then
    async with running_bot(settings, fake, clock) as slack:
        body = block_actions(people, "https://attacker.example/hook").decode()
        request = AsyncBoltRequest(body=body, headers={"content-type": "application/x-www-form-urlencoded",
                                                       "x-slack-request-timestamp": str(int(time.time())),
                                                       "x-slack-signature": A_SIGNATURE})

        answer = await slack.runtime.slack_app.async_dispatch(request)

    assert answer.status == 401
    assert "attacker.example" not in caplog.text and A_SIGNATURE not in caplog.text
    assert fake.calls == []


# -- property: whatever arrives unsigned ------------------------------------------------------------


header_values = st.one_of(st.text(max_size=80), st.from_regex(r"v0=[0-9a-f]{64}", fullmatch=True),
                          st.integers(-2**40, 2**40).map(str), st.just(str(int(time.time()))))
bodies = st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(str.encode),
                   st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                           max_size=4),
                                max_leaves=30).map(lambda v: json.dumps(v).encode()),
                   st.dictionaries(st.sampled_from(["payload", "command", "response_url", "user_id", "text"]),
                                   st.text(max_size=100), max_size=5).map(lambda d: urlencode(d).encode()))


def on_the_wire(value: str) -> bytes:
    """What an HTTP client can send of this text as a header value: its UTF-8 bytes, minus control characters and
    the whitespace around them (RFC 9110 leaves it out of the value; h11 refuses a value of a lone tab)."""
    return bytes(b for b in value.encode("utf-8", "surrogatepass") if b == 9 or (b >= 32 and b != 127)).strip(b" \t")


@SQLITE
@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies,
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain",
                                     "application/x-www-form-urlencoded; charset=latin-1", ""]),
       timestamp=st.none() | header_values, signature=st.none() | header_values)
async def test_no_unsigned_request_gets_a_5xx_or_makes_the_bot_speak(
        slack: SlackDriver, fake: FakeSlack, body: bytes, content_type: str, timestamp: str | None,
        signature: str | None) -> None:
    headers: dict[str, Any] = {}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = on_the_wire(timestamp)
    if signature is not None:
        headers["X-Slack-Signature"] = on_the_wire(signature)

    response = await slack.post(body, content_type, headers=headers)

    assert response.status_code == 401, (response.status_code, response.text[:200])
    assert fake.calls == [] and fake.responses == []

