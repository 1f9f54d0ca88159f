"""One APScheduler job per process sweeps due work: lease, fire, settle.

1. Claim: due rows are leased to this worker and the lease is committed, before anything is done.
2. Fire: the worker does the work (Slack calls) outside any transaction, so nobody waits on a
   database lock while Slack makes us wait.
3. Settle: each outcome is written in a short transaction of its own batch.

The lease follows the worker (app/duework/leases.py): a heartbeat renews it while the work runs, so a
worker that dies between 1 and 3 leaves its rows for seconds, not minutes. A worker writes outcomes only
for rows it still holds (a conditional UPDATE ... WHERE claimed_by = me), so one that lost its lease
never settles over another's claim; an outcome the database did not take is kept and written by the
next sweep (app/duework/outcomes.py).
Recurring work (update reminders) never gives up while the incident is open: it backs off, capped
by its cadence. One-off work gives up after `attempts` tries and says so (both: playbooks/retries.yml).
The job store is the scheduler's in-memory default: the database, not APScheduler, is what replicas share.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import Clock
from app.db import Database, reason, unreachable, where
from app.duework import service
from app.duework.attempt import Attempt, Classify, Problem, StepFailed
from app.duework.leases import LEASE, Leases
from app.duework.models import DueWork, WorkKind
from app.duework.outcomes import Outcome, Outcomes, StillUnwritten
from app.duework.retries import Retries
from app.incidents.models import Incident
from app.ops.logs import about
from app.ops.outages import Outages

log = logging.getLogger(__name__)
AT_ONCE = 25  # rows a sweep claims and fires together: what a replica that dies leaves to recover


@dataclass
class Fired:
    """What firing a piece of work did, to be written down when it is settled."""

    events: list[tuple[str, str]] = field(default_factory=list)
    outcome: str = "done"
    # Writes that follow from what was done, made in the transaction that writes the outcome (and only if this
    # worker still holds the row): no transaction of their own.
    also: list[Callable[[AsyncSession], Awaitable[None]]] = field(default_factory=list)


Firing = tuple[Attempt, Fired | BaseException, timedelta | None]  # what a row's firing gives its Outcome


class Worker(Protocol):
    @property
    def classify(self) -> Classify:
        """Which failures are known problems (read only: a sweep never swaps it)."""
        ...

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired: ...

    def cadence(self, work: DueWork, incident: Incident) -> timedelta | None:
        """How often recurring work comes round (None: one-off work)."""
        ...

    async def settle(self, session: AsyncSession, attempt: Attempt, incident: Incident, fired: Fired,
                     now: datetime) -> None:
        """Write down what firing did (timeline, the incident's message ids). `incident` has its columns only:
        its roles, services and pages are not loaded (app/duework/outcomes.py)."""
        ...

    async def gave_up(self, attempt: Attempt, incident: Incident) -> None:
        """One-off work failed for the last time: tell the people it was for."""
        ...


class SweepObserver(Protocol):
    """Told how late each piece of work fired and which failed (app/ops/metrics.py counts them)."""

    def fired(self, kind: str, lag_seconds: float) -> None: ...

    def failed(self, kind: str) -> None: ...

    def took_over(self, kind: str) -> None:
        """Work another worker had claimed and never settled (it died or lost its lease) was claimed here."""
        ...

    def oldest_lease(self, seconds: float) -> None:
        """How long ago the longest-held leased row fell due (0: nothing leased)."""
        ...


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Sweeper:
    def __init__(self, db: Database, clock: Clock, worker: Worker, *, interval: float = 5.0,
                 batch: int = AT_ONCE, name: str | None = None, observer: SweepObserver | None = None,
                 retries: Retries | None = None, lease: timedelta = LEASE,
                 outages: Outages | None = None, also: list[Callable[[], Awaitable[int]]] | None = None) -> None:
        self.db = db
        self.retries = retries or Retries()
        self.clock = clock
        self.worker = worker
        self.interval = interval
        self.batch = batch
        self.name = name or worker_name()
        self.outages = outages or Outages(clock)
        self.leases = Leases(db, clock, worker=self.name, lease=lease, outages=self.outages,
                             on_lost=self._lost)
        self.outcomes = Outcomes(db, self.leases, self.outages, self._settle)
        self.scheduler: AsyncIOScheduler | None = None
        self._at_once = asyncio.Semaphore(AT_ONCE)
        self._stopping = False
        self._sweeping: set[asyncio.Task[None]] = set()
        self.observer = observer
        self.started_at: float | None = None  # time.monotonic(), once start() is called
        self.last_swept_at: float | None = None  # the end of the last scheduled sweep that did not fail
        # Other work left behind that each sweep takes up first (declarations received, never stored).
        self.also: list[Callable[[], Awaitable[int]]] = list(also or [])

    @property
    def lease(self) -> timedelta:
        return self.leases.lease

    async def take_over_left_work(self) -> int:
        return await self.leases.take_over_left_work()

    def _lost(self, ids: list[int]) -> None:
        self.outcomes.forget(ids)

    async def sweep(self) -> int:
        """Fire what is due now (up to a batch); returns how many rows were handled. Outcomes an earlier
        sweep could not write are written first."""
        await self.outcomes.write_unwritten()
        return await self._sweep()

    async def fire_now(self, incident_id: int, kinds: list[WorkKind]) -> int:
        """Fire this incident's due work of these kinds at once, not at the next sweep (a declaration's
        channel). It is claimed like any sweep's: if this process dies, another finishes it."""
        return await self._sweep(incident_id=incident_id, kinds=kinds)

    async def _sweep(self, *, incident_id: int | None = None, kinds: list[WorkKind] | None = None) -> int:
        if self._stopping:
            return 0
        now = self.clock.now()
        async with self.db.transaction() as session:
            if incident_id is None and self.observer is not None:
                oldest = await service.oldest_leased_due_at(session)
                self.observer.oldest_lease(max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
            # A lease can run out while this process still fires the row (a clock that jumps, as a drill's or a
            # test's does): it is this process's to finish, not to take over from itself and do twice.
            rows = await service.claim_due(session, now=now, limit=self.batch, worker=self.name,
                                           lease_until=now + self.lease, incident_id=incident_id, kinds=kinds,
                                           excluding=list(self.leases.held))
            if not rows:
                return 0
            ids = {row.incident_id for row in rows}
            incidents = {i.id: i for i in await session.scalars(select(Incident).where(Incident.id.in_(ids)))}
        self.leases.hold(row.id for row in rows)
        for row in rows:
            if row.unsure:
                log.info("Took over due work %s (%s, incident %s): the worker that held it stopped or lost its "
                         "lease; what it may have done is checked first", row.id, row.kind.value, row.incident_id)
                if self.observer is not None:
                    self.observer.took_over(row.kind.value)
        firing: set[asyncio.Future[Firing]] = set()
        for row in rows:
            task = asyncio.ensure_future(self._fire(row, incidents[row.incident_id], now))
            self.leases.held[row.id] = task
            firing.add(task)
        try:
            while firing:
                # Outcomes are written as they come, a batch per transaction: a row that Slack holds up
                # (rate limits) does not hold up writing down the others.
                finished, firing = await asyncio.wait(firing, return_when=asyncio.FIRST_COMPLETED)
                # A firing cancelled because the lease was lost leaves its row to the worker that took it over.
                outcomes = [Outcome(*task.result(), now=now) for task in finished if not task.cancelled()]
                await self.outcomes.write(outcomes)
        finally:
            # Cut off (shutdown): what is neither written nor kept to write is not held by anyone here any
            # more, so it must not be renewed; it is given back, to be checked and done again.
            kept = self.outcomes.kept()
            left = [row.id for row in rows if row.id in self.leases.held and row.id not in kept]
            self.leases.stop_firing(left)
            if left:
                self.leases.give_back_soon(left)
        return len(rows)

    async def sweep_all(self) -> int:
        """Sweep until nothing is due (tests and start-up after downtime)."""
        total = 0
        for left_behind in self.also:
            total += await left_behind()
        while handled := await self.sweep():
            total += handled
        return total

    async def _fire(self, row: DueWork, incident: Incident, now: datetime) -> Firing:
        cadence = self.worker.cadence(row, incident)
        final = not row.never_gives_up and row.attempts + 1 >= self.retries.attempts
        attempt = Attempt(row, self.worker.classify, final=final)
        async with self._at_once:
            if self._stopping:
                return attempt, Fired(outcome="released"), cadence  # not started: another worker takes it
            if self.observer is not None:
                self.observer.fired(row.kind.value, (self.clock.now() - row.due_at).total_seconds())
            with about(incident_id=row.incident_id, due_work_id=row.id):
                try:
                    fired = await self.worker.fire(attempt, incident, now)
                    if attempt.final and attempt.retry:
                        await self.worker.gave_up(attempt, incident)
                except Exception as error:  # a bug or an unclassified outage: logged once, and the row tried again
                    what = f"due work {row.kind.value}"
                    if self.outages.failed(what, f"due work {row.id}, incident {row.incident_id}, "
                                                 f"attempt {row.attempts + 1}", repr(error)[:300]):
                        log.warning("The first failure of %s, in full", what, exc_info=error)
                    return attempt, error, cadence
                self.outages.recovered(f"due work {row.kind.value}")
                return attempt, fired, cadence

    async def _settle(self, session: AsyncSession, outcome: Outcome, incident: Incident) -> None:
        attempt, fired, now, cadence = outcome.attempt, outcome.fired, outcome.now, outcome.cadence
        row = attempt.work
        if isinstance(fired, Fired) and fired.outcome == "released":
            await service.release(session, [row.id], worker=self.name)
            return
        if isinstance(fired, BaseException):
            attempt.fail("fire", Problem(repr(fired)[:200], transient=True))
            fired = Fired(outcome="failed")
        steps = attempt.steps_to_keep()
        fired.events.extend(_failure_events(row, attempt.new_failures()))
        if attempt.retry and fired.outcome != "cancelled":
            errors = "; ".join(f"{f.step}: {f.error}" for f in attempt.failures)
            if attempt.final:
                fired.events.append(("clock_failed", f"{row.kind.value} failed {row.attempts + 1} times: {errors}"))
                written = await service.finish(session, row, now=now, worker=self.name, outcome="failed",
                                               steps=steps)
            else:
                written = await service.retry_later(
                    session, row, due_at=now + self.retries.backoff(row.attempts + 1, cadence), error=errors,
                    steps=steps, worker=self.name)
                fired.outcome = "retrying"
        elif row.is_recurring and cadence is not None and fired.outcome == "done":
            # Failures stay recorded, so one that repeats every round is reported once; so does what
            # this round left for the next.
            errors_only = {step: entry for step, entry in steps.items() if "error" in entry or "carry" in entry}
            written = await service.come_round(session, row, due_at=now + cadence, steps=errors_only,
                                               worker=self.name)
        else:
            written = await service.finish(session, row, now=now, worker=self.name, outcome=fired.outcome,
                                           steps=steps)
        if not written and not await service.held(session, [row.id], worker=self.name):
            # Settled meanwhile (cancelled, re-planned) it would still be ours; it is not: this worker's lease
            # ran out and another took the work over. That one checks the channel and records what was done.
            log.warning("Due work %s (%s, incident %s) was taken over by another worker while this one fired "
                        "it; leaving its outcome to that worker", row.id, row.kind.value, row.incident_id)
            return
        if attempt.retry and self.observer is not None:
            self.observer.failed(row.kind.value)
        for write in fired.also:
            await write(session)
        await self.worker.settle(session, attempt, incident, fired, now)

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        # Up to three sweeps overlap: a sweep held up by Slack's rate limits does not hold up work
        # that falls due meanwhile (each claims other rows: they are leased).
        self.scheduler.add_job(self.scheduled_sweep, "interval", seconds=self.interval, max_instances=3,
                               coalesce=True, id="sweep-due-work")
        self.scheduler.start()
        self.started_at = time.monotonic()
        log.info("Sweeping due work every %s s as %s", self.interval, self.name)

    async def scheduled_sweep(self) -> None:
        """One sweep as the scheduler runs it: a failure is logged (once an outage, see app/ops/outages.py),
        never raised, so the job survives a database blip and the next sweep retries."""
        task = asyncio.current_task()
        assert task is not None
        self._sweeping.add(task)
        try:
            await self.sweep_all()
            self.last_swept_at = time.monotonic()
            if not self.outcomes.unwritten:
                self.outages.recovered("the database")
        except StillUnwritten:
            pass  # said when it failed
        except Exception as error:  # the job must survive a database blip; the next sweep retries
            if unreachable(error):
                self.outages.failed("the database", where(self.db), f"sweeping due work: {reason(error)}")
            elif self.outages.failed("sweeping due work", where(self.db), repr(error)[:300]):
                log.warning("The first failure of sweeping due work, in full", exc_info=error)
        finally:
            self._sweeping.discard(task)

    @property
    def sweeps_in_flight(self) -> int:
        return len(self._sweeping)

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
        self.leases.stop()

    async def shutdown(self, timeout: float) -> None:
        """Stop sweeping: work already firing finishes (within `timeout`), work claimed but not started
        is given back at once. Anything cut off keeps its lease and comes back, unsure, to another worker."""
        self._stopping = True
        if self.scheduler is not None and self.scheduler.running:
            # Not shut down yet: APScheduler's shutdown cancels the jobs it is running, the sweeps among them.
            self.scheduler.pause()
        # The sweeps in flight, and the work fired at once outside any sweep (a declaration's channel, fired by
        # the request that declared it): cutting a firing off in the middle of a transaction would leave SQLite's
        # write lock with a connection nobody closes, and the giving back below waiting for it.
        firing = {task for task in self.leases.held.values() if task is not None and not task.done()}
        if in_flight := set(self._sweeping) | firing:
            _, unfinished = await asyncio.wait(in_flight, timeout=timeout)
            for task in unfinished:
                task.cancel()
            if unfinished:
                log.warning("Shutdown: %s sweep(s) or firing(s) cut off after %s s; their work is given back, to be "
                            "checked and done again", len(unfinished), timeout)
        held = list(self.leases.held)
        self.leases.stop_firing(held)  # cut off: given back below, so it must not go on here
        self.stop()
        await self.leases.give_back(held)


def _failure_events(row: DueWork, failures: list[StepFailed]) -> list[tuple[str, str]]:
    return [("clock_step_failed", f"{row.kind.value}: {f.step}: {f.error}") for f in failures]
