"""One APScheduler job per process sweeps due work: claim, fire, settle, in one transaction.

Rows are marked done in the transaction that claims them, and that transaction commits only
after the work was sent. A crash in between leaves the row pending, so another sweep repeats it
(at most once; the worker's idempotency guard notices and logs it). The job store is the
scheduler's in-memory default: the database, not APScheduler, is shared between replicas.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import Clock
from app.db import Database
from app.duework.models import DueWork
from app.duework.service import claim_due, mark_done
from app.incidents.models import Incident

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@dataclass
class Fired:
    """What firing a piece of work did, to be written down in the same transaction."""

    events: list[tuple[str, str]] = field(default_factory=list)
    outcome: str = "done"
    message_ts: str | None = None


class Worker(Protocol):
    async def fire(self, work: DueWork, incident: Incident, now: datetime) -> Fired: ...

    async def settle(self, session: AsyncSession, work: DueWork, incident: Incident, fired: Fired,
                     now: datetime) -> None: ...


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Sweeper:
    def __init__(self, db: Database, clock: Clock, worker: Worker, *, interval: float = 5.0,
                 batch: int = 100, name: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.worker = worker
        self.interval = interval
        self.batch = batch
        self.name = name or worker_name()
        self.scheduler: AsyncIOScheduler | None = None

    async def sweep(self) -> int:
        """Fire everything that is due now (up to a batch); returns how many rows were handled."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            rows = await claim_due(session, now=now, limit=self.batch)
            if not rows:
                return 0
            ids = {row.incident_id for row in rows}
            incidents = {i.id: i for i in await session.scalars(select(Incident).where(Incident.id.in_(ids)))}
            results = await asyncio.gather(
                *(self.worker.fire(row, incidents[row.incident_id], now) for row in rows), return_exceptions=True)
            for row, result in zip(rows, results, strict=True):
                incident = incidents[row.incident_id]
                if isinstance(result, Fired):
                    mark_done(row, now=now, worker=self.name, outcome=result.outcome)
                    await self.worker.settle(session, row, incident, result, now)
                elif isinstance(result, Exception):
                    if self._retry_later(row, result, now):
                        gave_up = Fired(events=[("clock_failed", f"{row.kind.value} failed {row.attempts} times: "
                                                                 f"{result!r}")], outcome="failed")
                        await self.worker.settle(session, row, incident, gave_up, now)
                else:
                    raise result
        return len(rows)

    async def sweep_all(self) -> int:
        """Sweep until nothing is due (tests and start-up after downtime)."""
        total = 0
        while handled := await self.sweep():
            total += handled
        return total

    def _retry_later(self, row: DueWork, error: Exception, now: datetime) -> bool:
        """Back off (30 s, 1 min, 2 min, ...); after MAX_ATTEMPTS give up. Returns True when giving up."""
        log.error("Due work %s (%s, incident %s) failed on attempt %s: %r", row.id, row.kind.value,
                  row.incident_id, row.attempts + 1, error, exc_info=error)
        if row.attempts + 1 >= MAX_ATTEMPTS:
            mark_done(row, now=now, worker=self.name, outcome="failed")
            return True
        row.attempts += 1
        row.due_at = now + timedelta(seconds=30 * 2 ** (row.attempts - 1))
        return False

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(self._scheduled_sweep, "interval", seconds=self.interval, max_instances=1,
                               coalesce=True, id="sweep-due-work")
        self.scheduler.start()
        log.info("Sweeping due work every %s s as %s", self.interval, self.name)

    async def _scheduled_sweep(self) -> None:
        try:
            await self.sweep_all()
        except Exception:  # the job must survive a database blip; the next sweep retries
            log.exception("Sweep failed; retrying at the next interval")

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
