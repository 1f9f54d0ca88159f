"""Alerts joining open incidents, written a batch at a time: a group commit.

A sender has its answer once its alert is on an incident's timeline, committed. Written one alert to a
transaction, a storm queues for the database: on SQLite every transaction waits for the one writer
(app/turns.py), and each commit for the disk. Alerts that arrive while a batch is being written go together
into the next transaction, so a storm costs a few commits instead of one per alert (app/inbox/receiving.py
does the same for typed declarations). When one alert's work fails (a copy of a delivery already taken, a
fingerprint another replica claimed first, a row the database refuses), the batch is written again one alert
to a transaction, and only that alert's sender hears of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database

Result = TypeVar("Result")
Work = Callable[[AsyncSession], Awaitable[Result]]


class _Batch(Generic[Result]):
    def __init__(self) -> None:
        self.work: list[tuple[Work[Result], asyncio.Future[Result]]] = []


class Batches(Generic[Result]):
    def __init__(self, db: Database, *, at_once: int = 1) -> None:
        self.db = db
        self._next: _Batch[Result] | None = None  # still taking work: not being written yet
        # The next batch fills up while `at_once` are written: one on SQLite, which has one writer anyway; a few
        # on PostgreSQL, where one batch's commit waits for the disk while the next one's statements run.
        self._writing_at_once = asyncio.Semaphore(at_once)
        self._writing: set[asyncio.Task[None]] = set()  # referenced until done, so not collected midway

    async def run(self, work: Work[Result]) -> Result:
        """`work`'s result once the transaction it ran in (with the batch's other work) has committed; or what it
        raised, written alone. `work` may run twice (with its batch, then alone): it keeps nothing but in the
        session."""
        batch = self._next
        if batch is None:
            batch = self._next = _Batch()
            writing = asyncio.ensure_future(self._write(batch))
            self._writing.add(writing)
            writing.add_done_callback(self._writing.discard)
        outcome: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        batch.work.append((work, outcome))
        return await outcome

    async def _write(self, batch: _Batch[Result]) -> None:
        try:
            async with self._writing_at_once:
                if self._next is batch:
                    self._next = None
                await self._write_together(batch)
        finally:  # cancelled (shutting down): what was not written is not waited for, and takes no more
            if self._next is batch:
                self._next = None
            for _, outcome in batch.work:
                outcome.cancel()  # nothing to a settled one

    async def _write_together(self, batch: _Batch[Result]) -> None:
        try:
            async with self.db.transaction() as session:
                with session.no_autoflush:  # what the work adds is inserted at the commit, a table at a time
                    results = [await work(session) for work, _ in batch.work]
        except Exception as error:
            if len(batch.work) == 1:
                _settle(batch.work[0][1], error)
                return
            # One of them failed, so nothing of the batch is stored: each is written again alone, and only the
            # sender of the one that fails again hears of it. (Not a savepoint each instead: that doubles the
            # time every batch holds SQLite's one writer, for the rare batch that needs it.)
            for work, outcome in batch.work:
                try:
                    async with self.db.transaction() as session:
                        result = await work(session)
                except Exception as alone:
                    _settle(outcome, alone)
                else:
                    _settle(outcome, result)
            return
        for (_, outcome), result in zip(batch.work, results, strict=True):
            _settle(outcome, result)


def _settle(outcome: asyncio.Future[Any], result: object) -> None:
    if outcome.done():  # its sender went away (the request was cancelled): what it did is stored all the same
        return
    if isinstance(result, Exception):
        outcome.set_exception(result)
    else:
        outcome.set_result(result)
