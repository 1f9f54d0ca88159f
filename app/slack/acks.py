"""Slack's answer first: the acknowledgement of a request goes out before the work it asked for starts.

Bolt runs a listener beside its HTTP handler and answers Slack once the listener has called `ack()` (it
looks every 10 ms); whatever the listener does next shares the event loop with every request still
waiting for its answer. So the work a command asks for begins once its own answer has gone out, and
the slower follow-up of a declaration (setting up the channel in Slack) waits, for a bounded time, while
other requests are still being answered: in a burst of declarations every one is acknowledged first.
Requests that do not come through the HTTP endpoint (Socket Mode, tests calling flows) never wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from aiohttp import web

_answered: ContextVar[asyncio.Event | None] = ContextVar("answered", default=None)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Acknowledgements:
    """Counts the requests from Slack still waiting for their answer (one per process)."""

    def __init__(self) -> None:
        self.waiting = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def middleware(self, path: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
        @web.middleware
        async def answering(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path != path:
                return await handler(request)
            answered = asyncio.Event()
            token = _answered.set(answered)  # Bolt's listener task copies this context
            self.waiting += 1
            self._quiet.clear()
            try:
                return await handler(request)
            finally:
                self.waiting -= 1
                if not self.waiting:
                    self._quiet.set()
                answered.set()
                _answered.reset(token)

        return answering

    @staticmethod
    async def answered() -> None:
        """Return once the request being handled has had its answer (at once outside a request)."""
        event = _answered.get()
        if event is not None:
            await event.wait()

    async def quiet(self, longest: float) -> None:
        """Return once no request is waiting for its answer, or after `longest` seconds."""
        if self.waiting:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), longest)
