"""Slack's answer first: the acknowledgement of a request goes out before the work it asked for starts.

Every listener is registered through `Acknowledgements.first`: it runs as a task of its own, and Bolt (built
with `process_before_response=True`) answers Slack the moment the listener has called `ack()`, instead of
looking every 10 ms whether it has, as Bolt's default runner does. Bolt's own lazy listeners would do the
same, but they deep-copy each request with its context, and our Web API client shares one aiohttp session,
which cannot be copied. Events (no `ack` to call) are answered at once, their listener left running.

Whatever a listener does after its `ack()` shares the event loop with every request still waiting for its
answer. So the work a request asks for begins once its own answer has gone out, and the slower follow-up
of a declaration (setting up the channel in Slack) waits, for a bounded time, while other requests are
still being answered: in a burst of declarations every one is acknowledged first. Over Socket Mode (no HTTP
requests to count) nothing waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from app.turns import before_answer

log = logging.getLogger(__name__)

_answered: ContextVar[asyncio.Event | None] = ContextVar("answered", default=None)
_arrived: ContextVar[float] = ContextVar("arrived", default=0.0)  # time.monotonic() the request came in

SETTLE = 0.02  # seconds without a new request before a burst counts as answered

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Listener = Callable[..., Coroutine[Any, Any, Any]]  # each runs in a task of its own
Failed = Callable[[BaseException, AsyncArgs], Coroutine[Any, Any, None]]


class Acknowledgements:
    """Counts the requests from Slack still waiting for their answer, and runs listeners (one per process)."""

    def __init__(self, failed: Failed | None = None) -> None:
        self.waiting = 0
        self.last_arrival = 0.0
        self._calm = asyncio.Event()  # no request waiting, and none came in for SETTLE seconds
        self._calm.set()
        self._calming: asyncio.TimerHandle | None = None
        self.working: set[asyncio.Task[Any]] = set()  # listeners still at work after their answer
        # Told of a listener's failure after its answer went out (app.slack.app.failed_after_ack: one private
        # answer); without it, the failure is logged.
        self.failed = failed

    def middleware(self, path: str, *, also: tuple[str, ...] = ()) -> Middleware:
        """Counts the requests to `path`, and to any path under the prefixes `also` (the alerts' senders, who
        wait for their answer as Slack does)."""
        @web.middleware
        async def answering(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path != path and not request.path.startswith(also):
                return await handler(request)
            answered = asyncio.Event()
            token = _answered.set(answered)  # the listener's task copies this context
            self.waiting += 1
            self.last_arrival = time.monotonic()
            arrival = _arrived.set(self.last_arrival)
            self._calm.clear()
            try:
                with before_answer(answered):  # its transactions go before background work's (app/turns.py)
                    return await handler(request)
            finally:
                self.waiting -= 1
                if not self.waiting:
                    self._calm_in(SETTLE)
                answered.set()
                _answered.reset(token)
                _arrived.reset(arrival)

        return answering

    def _calm_in(self, seconds: float) -> None:
        if self._calming is not None:
            self._calming.cancel()
        self._calming = asyncio.get_running_loop().call_later(seconds, self._settled)

    def _settled(self) -> None:
        self._calming = None
        if self.waiting:
            return  # the last answer to go out looks again
        calm_for = time.monotonic() - self.last_arrival
        if calm_for >= SETTLE:
            self._calm.set()
        else:
            self._calm_in(SETTLE - calm_for)

    def first(self, listener: Listener) -> Callable[[AsyncArgs], Awaitable[None]]:
        """The listener as Bolt should run it: in a task of its own, returning to Bolt once it has called
        `ack()` (or at once when it takes no `ack`). A failure before the ack is Bolt's to answer (its error
        handler acknowledges with the answer); one after it goes to `failed`."""
        names = inspect.getfullargspec(listener).args

        async def answered_first(args: AsyncArgs) -> None:
            acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            async def ack(*given: Any, **kwargs: Any) -> Any:
                try:
                    return await args.ack(*given, **kwargs)
                finally:
                    if not acked.done():
                        acked.set_result(None)

            arguments = {name: ack if name == "ack" else _argument(args, name) for name in names}
            work = asyncio.create_task(listener(**arguments), name=f"after ack: {listener.__qualname__}")
            self.working.add(work)
            work.add_done_callback(self.working.discard)
            if "ack" not in names:  # an event: Bolt acknowledges when this returns
                work.add_done_callback(lambda done: self._report(done, args))
                return
            def now_answered(_done: asyncio.Task[Any]) -> None:
                if not acked.done():
                    acked.set_result(None)

            work.add_done_callback(now_answered)
            await acked
            if work.done() and (work.cancelled() or work.exception() is not None) and args.ack.response is None:
                work.result()  # it failed before acknowledging: Bolt's error handler answers
            work.add_done_callback(lambda done: self._report(done, args))

        return answered_first

    def _report(self, work: asyncio.Task[Any], args: AsyncArgs) -> None:
        if work.cancelled() or (error := work.exception()) is None:
            return
        if self.failed is None:
            log.error("Listener failed after its acknowledgement", exc_info=error)
            return
        report = asyncio.create_task(self.failed(error, args), name="answering a failure")
        self.working.add(report)
        report.add_done_callback(self.working.discard)

    def start(self, work: Awaitable[Any], *, name: str) -> None:
        """Work that follows an answer without being a listener's (an alert's incident set up in Slack): run in
        a task of its own, waited for at shutdown like the listeners, its failure logged."""
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self.working.add(task)
        task.add_done_callback(self.working.discard)
        task.add_done_callback(_log_failure)

    async def finished(self, longest: float) -> None:
        """Wait (at most `longest` seconds) for the listeners still at work: before shutting down."""
        if self.working:
            await asyncio.wait(set(self.working), timeout=longest)

    @staticmethod
    async def answered() -> None:
        """Return once the request being handled has had its answer (at once outside a request)."""
        event = _answered.get()
        if event is not None:
            await event.wait()

    async def quiet(self, longest: float) -> None:
        """Return once no request is waiting for its answer and none came in for SETTLE seconds, or after
        `longest` seconds; at once if none came in after the request being handled (a lone declaration)."""
        if not self.waiting and self.last_arrival <= _arrived.get():
            return
        if not self._calm.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(longest):
                    await self._calm.wait()


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("%s failed; the sweep does it again", task.get_name(), exc_info=error)


def _argument(args: AsyncArgs, name: str) -> Any:
    """What Bolt would have given a listener parameter of this name."""
    if hasattr(args, name):
        return getattr(args, name)
    return args.context.get(name)
