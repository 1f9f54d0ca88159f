"""Outcomes of fired work, kept until the database takes them.

A worker writes an outcome only for a row it still holds. One the database did not take (it went away)
is kept, with the row's lease still renewed meanwhile, and written by the next sweep: work already done
is written down, never done again. One that fails for another reason is tried GIVE_UP_WRITING times, then
its row is given back, to be checked and done again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from app.db import Database, reason, unreachable, where
from app.duework.attempt import Attempt
from app.duework.leases import Leases
from app.incidents.models import Incident
from app.ops.outages import Outages

if TYPE_CHECKING:
    from app.duework.sweeper import Fired

log = logging.getLogger(__name__)
GIVE_UP_WRITING = 5  # tries at writing an outcome that fails for another reason than an outage


@dataclass
class Outcome:
    """A fired row, to be written down (kept in memory until it is)."""

    attempt: Attempt
    fired: Fired | BaseException
    cadence: timedelta | None
    now: datetime
    tries: int = 0


Settle = Callable[[AsyncSession, Outcome, Incident], Awaitable[None]]


class StillUnwritten(Exception):
    """Outcomes of earlier sweeps could still not be written: no new work is claimed until they are."""


class Outcomes:
    """Writes outcomes (each batch in one transaction, through `settle`) and keeps those it could not."""

    def __init__(self, db: Database, leases: Leases, outages: Outages, settle: Settle) -> None:
        self.db = db
        self.leases = leases
        self.outages = outages
        self.settle = settle
        self.unwritten: list[Outcome] = []  # outcomes the database did not take: written by the next sweep

    def kept(self) -> set[int]:
        """The rows whose outcome is kept to write: still held by this worker."""
        return {o.attempt.work.id for o in self.unwritten}

    def forget(self, ids: Iterable[int]) -> None:
        """These rows were taken over by another worker: their outcome is that worker's to write."""
        lost = set(ids)
        self.unwritten = [o for o in self.unwritten if o.attempt.work.id not in lost]

    async def write_unwritten(self) -> None:
        """Write the outcomes earlier sweeps could not (the database was away); raises if it still is."""
        if not self.unwritten:
            return
        unwritten, self.unwritten = self.unwritten, []
        await self.write(unwritten, again=True)
        if self.unwritten:
            raise StillUnwritten()

    async def write(self, outcomes: list[Outcome], *, again: bool = False) -> None:
        if not outcomes:
            return
        try:
            async with self.db.transaction() as session:
                # In one order in every transaction (by incident, then row): two sweeps writing outcomes at
                # once take their row locks in the same order, so neither waits on the other in a cycle.
                outcomes.sort(key=lambda o: (o.attempt.work.incident_id, o.attempt.work.id))
                ids = {o.attempt.work.incident_id for o in outcomes}
                # Settling writes the timeline and the incident's own columns: its roles, services and pages
                # are not read (three statements fewer per batch), and reading one would raise.
                current = {i.id: i for i in await session.scalars(
                    select(Incident).where(Incident.id.in_(ids)).options(raiseload("*")))}
                for outcome in outcomes:
                    await self.settle(session, outcome, current[outcome.attempt.work.incident_id])
        except Exception as error:  # kept, and written by the next sweep: never dropped with the lease held
            self._keep(outcomes, error)
            return
        self.outages.recovered("the database")
        self.outages.recovered("writing outcomes of due work")
        self.leases.let_go(o.attempt.work.id for o in outcomes)
        if again:
            log.info("Wrote %s outcome(s) of due work that the database had not taken", len(outcomes))

    def _keep(self, outcomes: list[Outcome], error: Exception) -> None:
        if unreachable(error):  # kept as long as it takes: the lease is renewed meanwhile, when it can be
            self.outages.failed("the database", where(self.db), f"{len(outcomes)} outcome(s) of due work kept "
                                f"to write at the next sweep: {reason(error)}")
            self.unwritten.extend(outcomes)
            return
        if self.outages.failed("writing outcomes of due work", where(self.db), repr(error)[:300]):
            log.warning("The first failure of writing outcomes of due work, in full", exc_info=error)
        for outcome in outcomes:
            outcome.tries += 1
        self.unwritten.extend(o for o in outcomes if o.tries < GIVE_UP_WRITING)
        given_back = [o.attempt.work.id for o in outcomes if o.tries >= GIVE_UP_WRITING]
        if given_back:
            log.error("Could not write the outcome of due work %s after %s tries: given back, to be checked "
                      "and done again", given_back, GIVE_UP_WRITING)
            self.leases.give_back_soon(given_back)
