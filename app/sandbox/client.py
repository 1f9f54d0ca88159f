"""The person's Slack client in the sandbox: what they do (type a command, press a button, react, submit a
form) sent to the bot as Slack sends it, through the one driver of the bot from Slack's side
(app/sandbox/slack_driver.py); and what Slack remembers for them: which response_url answers whom, which
trigger_id opened which modal, and the modal each person has open.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from app.sandbox.fakeslack import Channel, FakeSlack
from app.sandbox.sealed import LoopbackOnly
from app.sandbox.slack_driver import VERIFICATION_TOKEN, SlackDriver


@dataclass
class Private:
    """A message only one person sees: an ephemeral answer, in the channel where they acted."""

    user: str
    channel: str
    text: str
    blocks: list | None
    ts: str  # on the fake's clock of message ts, so private answers fall in place among the channel's messages


class Client:
    def __init__(self, fake: FakeSlack, bot_url: str, signing_secret: str) -> None:
        self.fake = fake
        # the bot and the fake, both on this machine
        self.slack = SlackDriver(bot_url, fake, signing_secret, transport=LoopbackOnly())
        self.answered_to: dict[str, tuple[str, str]] = {}  # response_url -> (user, channel)
        self.triggers: dict[str, str] = {}  # trigger_id -> user
        self.closed: set[str] = set()  # view ids the person submitted or closed
        self.errors: dict[str, dict[str, str]] = {}  # view id -> field errors of its last submission
        self.acks: list[Private] = []  # what the bot answered in the HTTP acknowledgement itself
        self.acked_at: dict[str, str] = {}  # an acknowledgement's ts -> the response_url that may replace it

    @property
    def http(self) -> httpx.AsyncClient:
        return self.slack.http

    async def close(self) -> None:
        await self.slack.close()

    # what a person does

    async def command(self, user: str, channel: str, text: str, command: str = "/incident") -> None:
        response_url = self._response_url(user, channel)
        reply = await self.slack.command(text, user=user, channel=channel, command=command,
                                         trigger_id=self._trigger(user), response_url=response_url)
        self._acked(user, channel, reply.ack, response_url)

    def _conversation(self, channel: str) -> Channel:
        conversation = self.fake.conversation(channel)
        if conversation is None:
            raise LookupError(f"no conversation {channel} in the fake Slack")
        return conversation

    async def press(self, user: str, channel: str, message_ts: str, action: dict[str, Any]) -> None:
        """A button or checkbox on a message (block_actions), as Slack reports it."""
        self._conversation(channel)
        await self.slack.act(action, user=user, channel=channel, message_ts=message_ts,
                             trigger_id=self._trigger(user), response_url=self._response_url(user, channel))

    async def react(self, user: str, channel: str, message_ts: str, name: str, *, add: bool) -> None:
        """A reaction added (or taken back) in the client: the message changes, and the bot hears
        reaction_added / reaction_removed, as Slack sends them to an app subscribed to them."""
        message = self._conversation(channel).message(message_ts)
        if message is None:
            raise ValueError(f"no message {message_ts} in {channel}")
        had = user in message.reactions.get(name, [])
        if had == add:
            return  # Slack sends nothing for a reaction that is already (or no longer) there
        self.fake.react(channel, message_ts, user, name, add=add)
        await self.event({"type": "reaction_added" if add else "reaction_removed", "user": user, "reaction": name,
                          "item_user": message.user, "item": {"type": "message", "channel": channel,
                                                              "ts": message_ts}})

    async def shortcut(self, user: str, channel: str, message_ts: str, callback_id: str) -> None:
        """A message shortcut from the message's ⋯ menu (message_action), as Slack sends it."""
        message = self._conversation(channel).message(message_ts)
        if message is None:
            raise ValueError(f"no message {message_ts} in {channel}")
        await self._interaction({
            "type": "message_action", "action_ts": f"{time.time():.6f}",
            "team": {"id": self.fake.team_id, "domain": "sandbox"}, "user": self.slack.user(user),
            "channel": {"id": channel, "name": self.slack.channel_name(channel)}, "is_enterprise_install": False,
            "enterprise": None, "callback_id": callback_id, "trigger_id": self._trigger(user),
            "response_url": self._response_url(user, channel), "message_ts": message_ts,
            "message": {"type": "message", "user": message.user, "text": message.text, "ts": message_ts,
                        "team": self.fake.team_id},
        })

    async def press_in_view(self, user: str, view_id: str, action: dict[str, Any]) -> None:
        """A button or checkbox inside a modal or the App Home tab."""
        view = self.fake.open_views[view_id]
        payload = {"type": "block_actions", "user": self.slack.user(user),
                   "container": {"type": "view", "view_id": view_id}, "trigger_id": self._trigger(user),
                   "team": {"id": self.fake.team_id, "domain": "sandbox"}, "view": view,
                   "actions": [{**action, "action_ts": f"{time.time():.6f}"}]}
        await self._interaction(payload)

    async def submit(self, user: str, view_id: str, values: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Submit the modal: its state as Slack sends it; the modal closes unless the bot answers errors."""
        view = {**self.fake.open_views[view_id], "state": {"values": values}}
        response = await self._interaction({"type": "view_submission", "team": {"id": self.fake.team_id},
                                            "user": self.slack.user(user), "trigger_id": self._trigger(user),
                                            "view": view})
        answer = response.json() if response.content else {}
        if answer.get("response_action") == "errors":
            self.errors[view_id] = answer.get("errors", {})
        else:
            self.closed.add(view_id)
            self.errors.pop(view_id, None)
        return answer

    def dismiss(self, view_id: str) -> None:
        self.closed.add(view_id)

    async def event(self, event: dict[str, Any]) -> None:
        await self.slack.event(event)

    # what a person sees that nobody else does

    def modal(self, user: str) -> dict[str, Any] | None:
        """The modal the person has open: the last one a trigger of theirs opened, as last updated."""
        for shown in reversed(self.fake.views):
            view_id = shown["view_id"]
            if self.triggers.get(shown.get("trigger_id") or "") == user and view_id not in self.closed:
                return {**self.fake.open_views[view_id], "errors": self.errors.get(view_id, {})}
        return None

    def private(self, user: str, channel: str) -> list[Private]:
        """Ephemeral messages and response_url answers to this person in this channel, oldest first."""
        # As in Slack, a response_url answer with replace_original (or delete_original) replaces the
        # command's own ephemeral acknowledgement too ("Declaring…" becomes the look-alike question).
        replaced = {r["url"] for r in self.fake.responses
                    if r["payload"].get("replace_original") or r["payload"].get("delete_original")}
        shown = [p for p in self.acks if p.user == user and p.channel == channel
                 and self.acked_at.get(p.ts) not in replaced]
        shown += [Private(e["user"], e["channel"], e["text"], e["blocks"], e["message_ts"])
                  for e in self.fake.ephemerals if e["user"] == user and e["channel"] == channel]
        by_url: dict[str, list[Private]] = {}
        for response in self.fake.responses:
            payload = response["payload"]
            if self.answered_to.get(response["url"]) != (user, channel):
                continue
            answers = by_url.setdefault(response["url"], [])
            if payload.get("replace_original") or payload.get("delete_original"):
                answers.clear()
            if not payload.get("delete_original"):
                answers.append(Private(user, channel, payload.get("text", ""), payload.get("blocks"),
                                       response["ts"]))
        shown += [p for answers in by_url.values() for p in answers]
        return sorted(shown, key=lambda p: float(p.ts))

    # the mechanics

    def _acked(self, user: str, channel: str, answer: dict[str, Any], response_url: str) -> None:
        if str(answer.get("text") or "").strip() or answer.get("blocks"):
            self.acks.append(Private(user, channel, answer.get("text", ""), answer.get("blocks"), self.fake.next_ts()))
            self.acked_at[self.acks[-1].ts] = response_url

    def _response_url(self, user: str, channel: str) -> str:
        url = self.fake.new_response_url()
        self.answered_to[url] = (user, channel)
        return url

    def _trigger(self, user: str) -> str:
        trigger_id = self.slack.new_trigger_id()
        self.triggers[trigger_id] = user
        return trigger_id

    async def _interaction(self, payload: dict[str, Any]) -> httpx.Response:
        """Sent with what every interaction from the app's workspace carries."""
        return await self.slack.interaction({**payload, "api_app_id": self.fake.app_id, "token": VERIFICATION_TOKEN})
