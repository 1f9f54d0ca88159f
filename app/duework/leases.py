"""The lease follows the worker: the rows this worker holds, and the heartbeat that keeps them while it lives.

A lease is short (LEASE) and renewed every third of it while the work runs, so a worker that dies
leaves its rows for seconds, not minutes; they come back marked unsure, and the worker that takes them
over checks what was already done instead of doing it again. A row found taken over (this worker's
lease ran out, a database outage say) is no longer fired here. What a worker stops holding early (cut
off at shutdown, an outcome it could not write) is given back, for another sweep to take over at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from app.clock import Clock
from app.db import Database, reason, where
from app.duework import service
from app.ops.outages import Outages

log = logging.getLogger(__name__)
# Renewed every third of it while the work runs: a dead worker's work waits at most this long.
LEASE = timedelta(seconds=10)


class Leases:
    """The rows leased to this worker (each with its firing, once started) and the heartbeat renewing them.
    `on_lost` is told which rows another worker took over, so nothing more is done or written for them."""

    def __init__(self, db: Database, clock: Clock, *, worker: str, lease: timedelta, outages: Outages,
                 on_lost: Callable[[list[int]], None]) -> None:
        self.db = db
        self.clock = clock
        self.worker = worker
        self.lease = lease
        self.outages = outages
        self.on_lost = on_lost
        self.held: dict[int, asyncio.Future[Any] | None] = {}  # rows leased to this worker: their firing
        self._nothing_held = asyncio.Event()
        self._heartbeat: asyncio.Task[None] | None = None
        self._giving_back: set[asyncio.Future[None]] = set()  # referenced until done, so not collected midway

    def hold(self, ids: Iterable[int]) -> None:
        for id_ in ids:
            self.held[id_] = None
        self._nothing_held.clear()
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.ensure_future(self._keep())

    def let_go(self, ids: Iterable[int]) -> None:
        for id_ in ids:
            self.held.pop(id_, None)
        if not self.held:
            self._nothing_held.set()

    def stop_firing(self, ids: Iterable[int]) -> None:
        for id_ in ids:
            firing = self.held.get(id_)
            if firing is not None and not firing.done():
                firing.cancel()

    def give_back_soon(self, ids: list[int]) -> None:
        """No longer held here: given back in the background (the lease runs out by itself if that fails)."""
        self.let_go(ids)
        giving_back = asyncio.ensure_future(self.give_back(ids))
        self._giving_back.add(giving_back)
        giving_back.add_done_callback(self._giving_back.discard)

    async def _keep(self) -> None:
        """The heartbeat: while this worker holds rows, renew their lease every third of it."""
        while self.held:
            try:
                await asyncio.wait_for(self._nothing_held.wait(), timeout=self.lease.total_seconds() / 3)
                return
            except TimeoutError:
                pass
            ids = list(self.held)
            try:
                async with self.db.transaction() as session:
                    kept = await service.renew(session, ids, worker=self.worker, until=self.clock.now() + self.lease)
            except Exception as error:  # the database is away: the next beat tries again
                self.outages.failed("the database", where(self.db), f"cannot renew the lease on {len(ids)} "
                                    f"row(s) of due work: {reason(error)}")
                continue
            self.outages.recovered("the database")
            lost = [id_ for id_ in ids if id_ not in kept and id_ in self.held]
            for id_ in lost:
                firing = self.held.get(id_)
                if firing is not None and not firing.done():
                    log.warning("Due work %s was taken over by another worker (this one's lease ran out); "
                                "no longer firing it here", id_)
                    firing.cancel()
            self.on_lost(lost)
            self.let_go(lost)

    async def give_back(self, ids: list[int]) -> None:
        """Let the lease on these rows run out now (best effort): another sweep takes them over at once."""
        if not ids:
            return
        try:
            async with self.db.transaction() as session:
                await service.give_back(session, ids, worker=self.worker, now=self.clock.now())
        except Exception as error:  # broad on purpose: the lease then runs out by itself, in seconds
            log.warning("Could not give back %s row(s) of due work (their lease runs out in %s s): %s", len(ids),
                        self.lease.total_seconds(), reason(error))

    async def take_over_left_work(self) -> int:
        """At start-up of the single-process store (SQLite): whatever a previous incarnation held is free at
        once (no other process can be alive), and is checked before it is done again."""
        async with self.db.transaction() as session:
            freed = await service.take_over_all(session, worker=self.worker, now=self.clock.now())
        if freed:
            log.info("Taking over %s row(s) of due work the previous process held when it stopped", freed)
        return freed

    def stop(self) -> None:
        if self._heartbeat is not None and not self._heartbeat.done():
            self._heartbeat.cancel()
