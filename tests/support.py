"""Driving the real app over HTTP the way Slack does: signed requests to /slack/events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from app.duework.models import WorkKind
from app.main import Runtime, trusted_certificates
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Call, Message
from app.web import runner as http_runner

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
# Events API payloads from slackapi/java-slack-sdk's json-logs (MIT, tests/samples/LICENSE-java-slack-sdk), vendored.
EVENT_SAMPLES = Path(__file__).resolve().parent / "samples" / "events"
EVENT_SAMPLE = {"reaction_added": "ReactionAddedPayload.json", "reaction_removed": "ReactionAddedPayload.json",
                "member_joined_channel": "MemberJoinedChannelPayload.json",
                "app_home_opened": "AppHomeOpenedPayload.json"}
T = TypeVar("T")
START = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """Poll an async check (a database query, say) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.01)


class ManualClock:
    """The app's clock in tests: time moves only when the test says so."""

    def __init__(self, now: datetime = START) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


@dataclass
class Reply:
    """What Slack would show the person: the HTTP acknowledgement and anything sent to the response_url."""

    status: int
    ack: dict[str, Any]
    response_url: str
    fake: FakeSlack

    @property
    def ack_text(self) -> str:
        return str(self.ack.get("text", ""))

    def responses(self) -> list[dict[str, Any]]:
        return self.fake.responses_to(self.response_url)

    async def response(self, count: int = 1) -> dict[str, Any]:
        """Wait for the count-th message sent to the response_url and return it."""
        await self.fake.wait_for(lambda: len(self.responses()) >= count)
        return self.responses()[count - 1]

    async def text(self, count: int = 1) -> str:
        return str((await self.response(count)).get("text", ""))


class SlackDriver:
    """Sends what Slack sends: slash commands, view submissions and block actions, signed."""

    def __init__(self, url: str, fake: FakeSlack, runtime: Runtime) -> None:
        self.url = url
        self.fake = fake
        self.runtime = runtime
        self.http = httpx.AsyncClient(base_url=url, timeout=10, verify=trusted_certificates())

    async def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = {"Content-Type": content_type, **(sign(body) if headers is None else headers)}
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def command(self, text: str, *, user: str, channel: str,
                      trigger_id: str = "13345224609.738474920.8088930838d88f008e0") -> Reply:
        response_url = self.fake.new_response_url()
        form = {
            "token": "legacy", "team_id": self.fake.team_id, "team_domain": "acme", "channel_id": channel,
            "channel_name": self.fake.channels[channel].name if channel in self.fake.channels else "directmessage",
            "user_id": user, "user_name": self.fake.users[user].name, "command": "/incident", "text": text,
            "api_app_id": "A0001", "response_url": response_url, "trigger_id": trigger_id,
        }
        response = await self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")
        ack = response.json() if response.content and response.headers.get("content-type", "").startswith(
            "application/json") else {"text": response.text}
        return Reply(response.status_code, ack, response_url, self.fake)

    async def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")

    async def press(self, action_id: str, value: str, *, user: str, channel: str, message_ts: str) -> httpx.Response:
        """Press a button on a message, as Slack reports it (block_actions)."""
        payload = {
            "type": "block_actions", "team": {"id": self.fake.team_id}, "api_app_id": "A0001",
            "user": {"id": user, "name": self.fake.users[user].name, "team_id": self.fake.team_id},
            "channel": {"id": channel},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "message": {"ts": message_ts, "type": "message"}, "trigger_id": f"trigger-{time.monotonic_ns()}",
            "response_url": self.fake.new_response_url(),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": f"{time.time():.6f}"}],
        }
        return await self.interaction(payload)

    def envelope(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """An event as Slack delivers it: the event_callback envelope of the vendored sample around `event`."""
        sample = json.loads((EVENT_SAMPLES / EVENT_SAMPLE[event["type"]]).read_text())
        self._events = getattr(self, "_events", 0) + 1
        body = {**sample, "type": "event_callback", "team_id": self.fake.team_id, "api_app_id": self.fake.app_id,
                "enterprise_id": None, "event_id": event_id or f"Ev{self._events:08d}",
                "event_time": int(time.time()), "event_context": "", "is_ext_shared_channel": False,
                "authorizations": [{"enterprise_id": None, "team_id": self.fake.team_id,
                                    "user_id": self.fake.bot_user_id, "is_bot": True,
                                    "is_enterprise_install": False}]}
        body.pop("authed_users", None)
        body.pop("authed_teams", None)
        shape = {key: value for key, value in sample["event"].items() if key in event or key == "event_ts"}
        body["event"] = {**shape, "event_ts": f"{time.time():.6f}", **event}
        return body

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    retry: tuple[int, str] | None = None) -> httpx.Response:
        """Deliver an Events API event, signed; `retry` = (X-Slack-Retry-Num, X-Slack-Retry-Reason)."""
        return await self.deliver(self.envelope(event, event_id=event_id), retry=retry)

    async def deliver(self, envelope: dict[str, Any], *, retry: tuple[int, str] | None = None) -> httpx.Response:
        body = json.dumps(envelope).encode()
        headers = sign(body)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry[0]), "X-Slack-Retry-Reason": retry[1]}
        return await self.post(body, "application/json", headers)

    async def close(self) -> None:
        await self.http.aclose()


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = http_runner(app)  # served (and access-logged) as `python -m app` serves: tests/test_logs_private.py
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def settled(runtime: Runtime, timeout: float = 10.0) -> None:
    """Wait until every declaration's setup (channel, kickoff, announcement...) has been written down."""
    from sqlalchemy import func, select

    from app.duework.models import DueWork, WorkKind

    async def nothing_pending() -> bool:
        async with runtime.db.transaction() as session:
            pending = await session.scalar(select(func.count()).select_from(DueWork).where(
                DueWork.kind == WorkKind.SETUP, DueWork.done_at.is_(None), DueWork.due_at <= runtime.clock.now()))
        return pending == 0

    await eventually(nothing_pending, timeout)


def posted_by_work(item: Message | Call, kind: WorkKind) -> bool:
    """Whether a message (or a chat.postMessage call) was posted by due work of `kind`: known by the Slack
    message metadata every due-work post carries (app/slack/toolkit/posting.py), not by its words."""
    if isinstance(item, Call):
        if item.method != "chat.postMessage":
            return False
        metadata = item.args.get("metadata")
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    else:
        metadata = item.metadata
    return ((metadata or {}).get("event_payload") or {}).get("kind") == kind.value


def is_reminder(item: Message | Call) -> bool:
    """A status-update reminder (live or since superseded by a newer one)."""
    return posted_by_work(item, WorkKind.UPDATE_REMINDER)


def pinned_kickoff(fake: FakeSlack, channel: str) -> Message:
    """The incident channel's kickoff: its one pinned message."""
    [ts] = fake.channels[channel].pins
    message = fake.channels[channel].message(ts)
    assert message is not None
    return message
