"""Keeping within Slack's rate limits instead of running into them.

Slack limits each Web API method per workspace by tier (Tier 2 about 20 calls a minute, Tier 3
about 50, Tier 4 about 100; short bursts tolerated) and chat.postMessage to about one message a
second per channel. The client below waits for room in the method's budget before each call, so
a sweep with a hundred reminders due does not launch more calls than Slack admits. When Slack
answers 429 anyway, slack-sdk's retry handler waits for Retry-After, and every other call to that
method waits with it instead of drawing more 429s.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Protocol
from urllib.parse import urlparse

import aiohttp
from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from app.ops.logs import about

log = logging.getLogger(__name__)

PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
# Each method's tier, from its page on api.slack.com; methods not listed are taken as Tier 3.
TIERS = {
    "conversations.create": 2, "conversations.setTopic": 2, "conversations.setPurpose": 2,
    "conversations.archive": 2, "conversations.unarchive": 2, "conversations.rename": 2,
    "conversations.list": 2, "pins.add": 2, "pins.remove": 2, "bookmarks.add": 2, "bookmarks.edit": 2,
    "bookmarks.remove": 2, "users.list": 2, "usergroups.list": 2, "usergroups.users.list": 2,
    "conversations.members": 4, "users.info": 4, "chat.postEphemeral": 4, "views.open": 4, "views.update": 4,
    "views.push": 4, "views.publish": 4, "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
    "auth.test": 4,
}
# Limited per channel instead of by tier: about 1 a second per channel, bursts of a few.
PER_CHANNEL = frozenset({"chat.postMessage"})
CHANNEL_BURST = 3
REMEMBERED_CHANNELS = 2000


class Pacer:
    """Each method's budget, each channel's posting budget, and methods held back after a 429.

    `speed` runs the budgets that many times faster (at 60 a minute's allowance refills in a second), as the
    fake Slack's rate limits do at their speed: the tests' fake Slack limits nothing unless a test asks it to,
    so the bot they drive need not wait out Slack's limits in real seconds. A 429's Retry-After is waited
    out as Slack said it."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._methods: dict[str, AsyncLimiter] = {}
        self._channels: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._held_until: dict[str, float] = {}

    async def wait(self, method: str, channel: str | None) -> None:
        loop = asyncio.get_running_loop()
        # ASYNC110 below: sleeps out a 429's Retry-After, which another 429 may push back while asleep
        while (until := self._held_until.get(method, 0.0)) > loop.time():  # noqa: ASYNC110
            await asyncio.sleep(until - loop.time())
        if method not in PER_CHANNEL:
            await self._method(method).acquire()
        elif channel:
            await self._channel(channel).acquire()

    def has_room(self, method: str) -> bool:
        """A call to this method would go out now, without waiting."""
        held = self._held_until.get(method, 0.0) > asyncio.get_running_loop().time()
        return not held and self._method(method).has_capacity()

    def hold(self, method: str, seconds: float) -> None:
        """Slack said to wait: no call to this method goes out before then."""
        until = asyncio.get_running_loop().time() + seconds
        self._held_until[method] = max(self._held_until.get(method, 0.0), until)
        log.warning("Slack rate-limited %s: holding its calls for %.0f s", method, seconds)

    def _method(self, method: str) -> AsyncLimiter:
        if method not in self._methods:
            self._methods[method] = AsyncLimiter(PER_MINUTE[TIERS.get(method, 3)], 60 / self.speed)
        return self._methods[method]

    def _channel(self, channel: str) -> AsyncLimiter:
        limiter = self._channels.pop(channel, None) or AsyncLimiter(CHANNEL_BURST, CHANNEL_BURST / self.speed)
        self._channels[channel] = limiter
        if len(self._channels) > REMEMBERED_CHANNELS:
            self._channels.popitem(last=False)
        return limiter


class CallObserver(Protocol):
    """Told of every call and how it ended (app/ops/slack_calls.py counts them and keeps the last failure)."""

    def called(self, method: str) -> None: ...

    def succeeded(self, method: str) -> None: ...

    def failed(self, method: str, error: str) -> None: ...

    def was_ratelimited(self, method: str) -> None: ...


class PacedWebClient(AsyncWebClient):
    """slack-sdk's client, waiting for room in Slack's rate limits before each call."""

    def __init__(self, *args: Any, pacer: Pacer, observer: CallObserver | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pacer = pacer
        self.observer = observer

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        with about(slack_method=api_method):
            await self.pacer.wait(api_method, _channel_of(kwargs))
            if self.observer is None:
                return await super().api_call(api_method, **kwargs)
            self.observer.called(api_method)
            try:
                response = await super().api_call(api_method, **kwargs)
            except SlackApiError as error:
                if error.response.status_code == 429:
                    self.observer.was_ratelimited(api_method)
                self.observer.failed(api_method, str(error.response.get("error") or error.response.status_code))
                raise
            except (TimeoutError, aiohttp.ClientError, OSError):
                self.observer.failed(api_method, "unreachable")
                raise
            self.observer.succeeded(api_method)
            return response


class WaitOutRateLimits(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler (it waits Retry-After, then retries), telling the pacer to hold the method."""

    def __init__(self, pacer: Pacer, max_retry_count: int, observer: CallObserver | None = None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer
        self.observer = observer

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        if response is not None:
            retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
            try:
                seconds = float(retry_after[0] if isinstance(retry_after, list) else retry_after)
            except ValueError:
                seconds = 1.0
            method = urlparse(request.url).path.rsplit("/", 1)[-1]
            self.pacer.hold(method, seconds)
            if self.observer is not None:
                self.observer.was_ratelimited(method)
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)


def _channel_of(kwargs: dict[str, Any]) -> str | None:
    for source in ("json", "data", "params"):
        arguments = kwargs.get(source)
        if isinstance(arguments, dict) and arguments.get("channel"):
            return str(arguments["channel"])
    return None
