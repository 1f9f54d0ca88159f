"""Slack's rate-limit tiers as token buckets; off unless a test or benchmark turns them on.

Slack allows each method so many calls a minute per workspace (its tiers) and tolerates short bursts
above that; chat.postMessage is limited per channel instead, about one message a second. A token bucket
models both: it refills at the tier's rate and holds at most ``burst`` tokens, so calls spread over the
minute never see a 429 and a minute's worth fired at once does.

How big a burst Slack tolerates is not documented. We allow a quarter of a minute's allowance at once
(Tier 2: 5 calls, then one every 3 s; Tier 3: 12; Tier 4: 25; Tier 1: 1), and 3 messages at once to one
channel. That is strict enough that an app firing a whole incident's invites or reminders in one go
hits the limit here as it would in Slack, and lenient enough that a normal declaration does not.

chat.postMessage's buckets are keyed by the channel argument as sent, so a DM addressed by user id and
by its D… id are counted apart (Slack counts them together; the app always uses the user id).

``speed`` scales time: at ``speed=60`` a minute's allowance refills in a second. Retry-After is in real
seconds, rounded up, at least 1, as Slack sends it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
BURST_SHARE = 0.25  # of a minute's allowance
POST_PER_SECOND = 1.0  # chat.postMessage, per channel
POST_BURST = 3

# Tiers from Slack's method pages. auth.test and chat.getPermalink are "special": treated as Tier 4.
METHOD_TIERS: dict[str, int] = {
    "auth.test": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "conversations.create": 2,
    "conversations.invite": 3,
    "conversations.kick": 3,
    "conversations.setTopic": 2,
    "conversations.setPurpose": 2,
    "conversations.rename": 2,
    "conversations.archive": 2,
    "conversations.unarchive": 2,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.members": 4,
    "conversations.list": 2,
    "conversations.join": 3,
    "conversations.open": 3,
    "pins.add": 2,
    "pins.remove": 2,
    "pins.list": 2,
    "reactions.add": 3,
    "reactions.remove": 3,
    "reactions.get": 3,
    "reactions.list": 2,
    "bookmarks.add": 2,
    "bookmarks.edit": 2,
    "bookmarks.remove": 2,
    "bookmarks.list": 2,
    "users.info": 4,
    "users.list": 2,
    "users.lookupByEmail": 3,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
}
PER_CHANNEL = ("chat.postMessage",)


@dataclass
class Bucket:
    rate: float  # tokens per (scaled) second
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: 0 if there was one, else the (scaled) seconds until there is."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def limit_of(method: str) -> tuple[float, float]:
    """(tokens per second, burst capacity) for a method's bucket."""
    if method in PER_CHANNEL:
        return POST_PER_SECOND, POST_BURST
    per_minute = PER_MINUTE[METHOD_TIERS[method]]
    return per_minute / 60, max(1, math.floor(per_minute * BURST_SHARE))


class RateLimiter:
    """One bucket per method (per method and channel for chat.postMessage), for one workspace."""

    def __init__(self, *, speed: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def retry_after(self, method: str, channel: str | None) -> int | None:
        """None if the call may go ahead, else the whole real seconds to wait (at least 1)."""
        if method not in METHOD_TIERS and method not in PER_CHANNEL:
            return None  # a method the fake does not implement: recorded as a violation further on
        key = (method, (channel or "") if method in PER_CHANNEL else "")
        now = self._clock() * self.speed
        bucket = self._buckets.get(key)
        if bucket is None:
            rate, capacity = limit_of(method)
            bucket = self._buckets[key] = Bucket(rate, capacity, capacity, now)
        wait = bucket.take(now)
        if not wait:
            return None
        return max(1, math.ceil(wait / self.speed))
