"""What Slack sends the bot when a person acts, and how: slash commands, block_actions, view submissions and
events, built as Slack builds them, signed with the signing secret and posted to the bot's /slack/events.

The one driver of the bot from Slack's side. The sandbox needs it (app/sandbox/client.py, the person's Slack
client, remembers what Slack remembers on top of it), which is why it is product code, here; the tests
(tests/support.py) and the benchmarks (bench/) drive the bot through it too, rather than through copies that
would drift from it and from each other. It knows the fake Slack only for what Slack itself knows when it
builds a request: the team, the people's names, the channels' names and a message's content.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from app.main import trusted_certificates
from app.sandbox.fakeslack import FakeSlack

# Slack still sends the deprecated verification token in commands and interactions; the bot reads none.
VERIFICATION_TOKEN = "deprecated-verification-token"


def sign(body: bytes, *, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs a request with (X-Slack-Signature over the timestamp and the body)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    if signature is None:  # slack_sdk makes none only without a timestamp
        raise RuntimeError("slack_sdk made no signature for the request")
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


@dataclass
class Reply:
    """What Slack would show the person who typed a command: the HTTP acknowledgement, and anything sent to the
    command's response_url."""

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
    """Sends the bot at `url` what Slack sends it for the fake Slack's workspace, signed with `signing_secret`.

    `http` is the driver's own client (the bot's other routes are reached through it too); `transport`, when
    given, carries its requests (the sandbox's refuses any host but this machine)."""

    def __init__(self, url: str, fake: FakeSlack, signing_secret: str, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.fake = fake
        self.signing_secret = signing_secret
        self.http = httpx.AsyncClient(base_url=self.url, timeout=10, transport=transport,
                                      verify=trusted_certificates())  # one TLS context per process
        self._ids = itertools.count(1)

    async def close(self) -> None:
        await self.http.aclose()

    # the wire

    def sign(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        return sign(body, secret=self.signing_secret, timestamp=timestamp)

    async def post(self, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """Post to /slack/events, signed; `headers` instead of the signature, to send what Slack would not."""
        headers = {"Content-Type": content_type, **(self.sign(body) if headers is None else headers)}
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        """An interaction payload (block_actions, view_submission, message_action...), form-encoded as Slack
        sends it."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")

    # what a person does

    async def command(self, text: str, *, user: str, channel: str, command: str = "/incident",
                      trigger_id: str | None = None, response_url: str | None = None) -> Reply:
        """A slash command typed in `channel`; Slack gives each its own trigger_id and response_url."""
        response_url = response_url or self.fake.new_response_url()
        form = {"token": VERIFICATION_TOKEN, "team_id": self.fake.team_id, "team_domain": "sandbox",
                "channel_id": channel, "channel_name": self.channel_name(channel), "user_id": user,
                "user_name": self.fake.users[user].name, "command": command, "text": text,
                "api_app_id": self.fake.app_id, "response_url": response_url,
                "trigger_id": trigger_id or self.new_trigger_id()}
        response = await self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")
        ack = response.json() if response.content and response.headers.get("content-type", "").startswith(
            "application/json") else {"text": response.text}
        return Reply(response.status_code, ack, response_url, self.fake)

    async def act(self, action: dict[str, Any], *, user: str, channel: str, message_ts: str,
                  trigger_id: str | None = None, response_url: str | None = None) -> httpx.Response:
        """A button, menu or checkbox on a message (block_actions), with the message as Slack reports it."""
        conversation = self.fake.conversation(channel)
        message = conversation.message(message_ts) if conversation else None
        payload = {
            "type": "block_actions", "user": self.user(user), "api_app_id": self.fake.app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": trigger_id or self.new_trigger_id(), "team": {"id": self.fake.team_id, "domain": "sandbox"},
            "channel": {"id": channel, "name": self.channel_name(channel)},
            "message": {"type": "message", "user": message.user, "ts": message_ts, "text": message.text,
                        "blocks": message.blocks or []} if message else {"type": "message", "ts": message_ts},
            "response_url": response_url or self.fake.new_response_url(),
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        return await self.interaction(payload)

    async def press(self, action_id: str, value: str, *, user: str, channel: str, message_ts: str) -> httpx.Response:
        """Press a button on a message."""
        return await self.act({"type": "button", "action_id": action_id, "block_id": "b", "value": value},
                              user=user, channel=channel, message_ts=message_ts)

    def envelope(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """An event as the Events API delivers it: in its event_callback envelope."""
        return {"token": VERIFICATION_TOKEN, "team_id": self.fake.team_id, "enterprise_id": None,
                "api_app_id": self.fake.app_id, "type": "event_callback",
                "event_id": event_id or f"Ev{next(self._ids):08d}", "event_time": int(time.time()),
                "authorizations": [{"enterprise_id": None, "team_id": self.fake.team_id,
                                    "user_id": self.fake.bot_user_id, "is_bot": True,
                                    "is_enterprise_install": False}],
                "is_ext_shared_channel": False, "event_context": "", "context_team_id": self.fake.team_id,
                "context_enterprise_id": None, "event": {"event_ts": f"{time.time():.6f}", **event}}

    async def event(self, event: dict[str, Any], *, event_id: str | None = None,
                    retry: tuple[int, str] | None = None) -> httpx.Response:
        """Deliver an Events API event; `retry` = (X-Slack-Retry-Num, X-Slack-Retry-Reason)."""
        return await self.deliver(self.envelope(event, event_id=event_id), retry=retry)

    async def deliver(self, envelope: dict[str, Any], *, retry: tuple[int, str] | None = None) -> httpx.Response:
        body = json.dumps(envelope).encode()
        headers = self.sign(body)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry[0]), "X-Slack-Retry-Reason": retry[1]}
        return await self.post(body, "application/json", headers)

    # what Slack knows when it builds a request

    def new_trigger_id(self) -> str:
        """A trigger_id of its own: good for opening one form (the fake refuses it a second time, as Slack does)."""
        return f"{next(self._ids)}.{int(time.time())}.{time.monotonic_ns()}"

    def user(self, user: str) -> dict[str, str]:
        name = self.fake.users[user].name
        return {"id": user, "username": name, "name": name, "team_id": self.fake.team_id}

    def channel_name(self, channel: str) -> str:
        found = self.fake.conversation(channel)
        return found.name if found and found.name else "directmessage"
