"""The tests' one place for fixtures: driving the real app over HTTP the way Slack does (signed requests to
/slack/events), and what they ask of what came back.

Most of it lives where the benchmarks and the sandbox find it too, and is re-exported here: the driver
(app/sandbox/slack_driver.py), the clock moved by hand (app/clock.py), serving the bot and waiting for it
(bench/harness.py). The fuzzing strategies are bench/fuzzing.py's."""

from __future__ import annotations

import json

from app.clock import ManualClock
from app.duework.models import WorkKind
from app.main import Runtime
from app.sandbox import slack_driver
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Call, Message
from app.sandbox.slack_driver import Reply
from bench.harness import SIGNING_SECRET, START, eventually, serve, settled

__all__ = ["SIGNING_SECRET", "START", "ManualClock", "Reply", "SlackDriver", "eventually", "is_reminder",
           "pinned_kickoff", "posted_by_work", "serve", "settled", "sign"]


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs `body` with, by the tests' secret unless told another."""
    return slack_driver.sign(body, secret=secret, timestamp=timestamp)


class SlackDriver(slack_driver.SlackDriver):
    """The one driver (app/sandbox/slack_driver.py), signed with the tests' secret, and the runtime it drives."""

    def __init__(self, url: str, fake: FakeSlack, runtime: Runtime) -> None:
        super().__init__(url, fake, SIGNING_SECRET)
        self.runtime = runtime


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
