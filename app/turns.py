"""Whose turn it is to write, on SQLite: one writer at a time, and a request someone waits for before the
work nobody waits for.

Every transaction here writes (app/db.py begins them IMMEDIATE), and SQLite lets one writer in at a time. Left
to SQLite, waiting writers poll the lock with growing sleeps (up to 100 ms each), so under a burst it goes to
whoever polls at the right moment, not to whoever came first: bench.alerts saw answers of seconds behind
transactions of milliseconds. Within a process the transactions take turns instead, and a transaction made
while its request's sender waits (an alert's sender, Slack waiting for an acknowledgement) goes before
background work (setting up channels, sweeps), each kind in arrival order. Between processes, SQLite's busy
handler still decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

log = logging.getLogger(__name__)
LONGEST = 30.0  # seconds a writer waits for its turn before going to SQLite's busy handler as if there were none

# The answer the work in this context is for: set while its sender waits (tasks started from the request copy
# it, and count as background once the answer has gone out).
_answer: ContextVar[asyncio.Event | None] = ContextVar("answer", default=None)
# The task holding the turn in this context: a transaction it opens inside its own does not queue behind itself.
_holder: ContextVar[asyncio.Task[object] | None] = ContextVar("holder", default=None)


@contextmanager
def before_answer(answered: asyncio.Event) -> Iterator[None]:
    """Transactions opened in this context until `answered` is set go before background work's."""
    token = _answer.set(answered)
    try:
        yield
    finally:
        _answer.reset(token)


def sender_waiting() -> bool:
    """Whether the work being done now is something a sender waits for."""
    answered = _answer.get()
    return answered is not None and not answered.is_set()


class Turns:
    """One writer at a time; waiting writers served first those a sender waits for, then the rest, each in
    arrival order."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and _holder.get() is task:
            # Inside this task's own transaction: waiting for itself would be for ever. It waits in SQLite's
            # busy handler instead (and fails after its timeout), as it would without turns.
            yield
            return
        try:
            async with asyncio.timeout(LONGEST):
                await self._wait(urgent=sender_waiting())
        except TimeoutError:
            # A transaction waiting, inside its own, for another task's (which waits for it), or a queue this
            # long: it goes on to SQLite's lock as it would without turns, whose busy handler fails it after
            # its timeout, rather than waiting for ever.
            log.warning("A transaction waited %.0f s for its turn to write; it goes on without it", LONGEST)
            yield
            return
        holder = _holder.set(task)
        try:
            yield
        finally:
            _holder.reset(holder)
            self._pass_on()

    async def _wait(self, *, urgent: bool) -> None:
        if not self._busy:
            self._busy = True
            return
        queue = self._waiting[0 if urgent else 1]
        handed = asyncio.get_running_loop().create_future()
        queue.append(handed)
        try:
            await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._pass_on()  # it was handed the turn as it was cancelled: the next one has it
            else:
                with contextlib.suppress(ValueError):  # passed over already, as a cancelled waiter
                    queue.remove(handed)
            raise

    def _pass_on(self) -> None:
        for queue in self._waiting:
            while queue:
                handed = queue.popleft()
                if not handed.done():
                    handed.set_result(None)  # still busy: the turn passes straight to the next writer
                    return
        self._busy = False
