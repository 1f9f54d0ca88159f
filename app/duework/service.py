"""Planning, cancelling and claiming due work. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import rows_matched
from app.duework.models import DueWork, WorkKind


async def pending(session: AsyncSession, incident_id: int, kind: WorkKind, key: str = "") -> DueWork | None:
    query = select(DueWork).where(DueWork.incident_id == incident_id, DueWork.kind == kind, DueWork.key == key,
                                  DueWork.done_at.is_(None))
    return await session.scalar(query)


async def already_done(session: AsyncSession, incident_id: int, kind: WorkKind, key: str = "") -> bool:
    query = select(DueWork.id).where(DueWork.incident_id == incident_id, DueWork.kind == kind,
                                     DueWork.key == key, DueWork.outcome == "done").limit(1)
    return await session.scalar(query) is not None


async def any_done(session: AsyncSession, incident_id: int, kind: WorkKind) -> bool:
    query = select(DueWork.id).where(DueWork.incident_id == incident_id, DueWork.kind == kind,
                                     DueWork.outcome == "done").limit(1)
    return await session.scalar(query) is not None


class NewWork:
    """The due work of an incident stored in this very transaction: it has none yet, so nothing is looked up, and
    its rows are written together, in one statement, by `write` (which the one who made this calls)."""

    def __init__(self, incident_id: int, *, now: datetime) -> None:
        self.incident_id = incident_id
        self.now = now
        self.rows: list[dict[str, Any]] = []

    def add(self, kind: WorkKind, due_at: datetime, *, key: str = "", payload: dict[str, Any] | None = None) -> None:
        self.rows.append({"incident_id": self.incident_id, "kind": kind, "key": key, "due_at": due_at,
                          "created_at": self.now, "attempts": 0, "unsure": False, "steps": {},
                          "payload": payload or {}})

    async def write(self, session: AsyncSession) -> None:
        if self.rows:
            await session.execute(insert(DueWork), self.rows)
            self.rows = []


async def plan(session: AsyncSession, incident_id: int, kind: WorkKind, due_at: datetime, *, now: datetime,
               key: str = "", payload: dict[str, Any] | None = None, fresh: NewWork | None = None) -> None:
    """Make sure this work is due at due_at: move the pending row, or add one. `fresh`: the incident was
    stored in this very transaction, so it has no work yet: the row joins the others, written together."""
    if fresh is not None:
        fresh.add(kind, due_at, key=key, payload=payload)
        return
    row = await pending(session, incident_id, kind, key)
    if row is None:
        session.add(DueWork(incident_id=incident_id, kind=kind, key=key, due_at=due_at, created_at=now, attempts=0,
                            steps={}, payload=payload or {}))
    else:
        row.due_at = due_at
    await session.flush()


async def plan_at_least(session: AsyncSession, incident_id: int, kind: WorkKind, due_at: datetime, *,
                        now: datetime, key: str = "") -> None:
    """Make sure this work is pending, due at due_at or sooner, in one conditional write: of two transactions
    asking at once (two pages written down together), one adds the row and the other brings its time forward
    or leaves it, where `plan`'s read-then-insert would make the second fail on the pending row's unique key."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DueWork).values(incident_id=incident_id, kind=kind.value, key=key, due_at=due_at,
                                       created_at=now, attempts=0, steps={}, payload={}, unsure=False)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["incident_id", "kind", "key"], index_where=DueWork.done_at.is_(None),
        set_={"due_at": statement.excluded.due_at}, where=DueWork.due_at > statement.excluded.due_at))


async def cancel(session: AsyncSession, incident_id: int, kinds: Iterable[WorkKind], *, now: datetime) -> None:
    """Drop pending work of these kinds (an update came, the incident was resolved, ...)."""
    await session.execute(
        update(DueWork)
        .where(DueWork.incident_id == incident_id, DueWork.kind.in_(list(kinds)), DueWork.done_at.is_(None))
        .values(done_at=now, outcome="cancelled")
    )


async def claim_due(session: AsyncSession, *, now: datetime, limit: int, worker: str, lease_until: datetime,
                    incident_id: int | None = None, kinds: list[WorkKind] | None = None,
                    excluding: Collection[int] = ()) -> list[DueWork]:
    """Lease pending work that is due to this worker; the caller commits at once, before any of it is done.
    `excluding`: rows this worker holds already (still firing, or their outcome not yet written), which it
    never takes over from itself, whatever their lease says.

    A row leased by a worker that died comes back when its lease runs out (seconds: a live worker renews
    it, see `renew`), marked `unsure`: that worker may have reached Slack without writing it down.
    PostgreSQL skips rows another replica is claiming at this moment; SQLite has one writer at a time.
    """
    due = (select(DueWork.id)
           .where(DueWork.done_at.is_(None), DueWork.due_at <= now,
                  (DueWork.claimed_until.is_(None)) | (DueWork.claimed_until <= now))
           .order_by(DueWork.due_at, DueWork.id).limit(limit)
           .with_for_update(skip_locked=True))
    if incident_id is not None:
        due = due.where(DueWork.incident_id == incident_id)
    if kinds is not None:
        due = due.where(DueWork.kind.in_(kinds))
    if excluding:
        due = due.where(DueWork.id.not_in(list(excluding)))
    claim = (update(DueWork).where(DueWork.id.in_(due.scalar_subquery()))
             .values(claimed_by=worker, claimed_until=lease_until, unsure=DueWork.claimed_until.is_not(None))
             .returning(DueWork)
             .execution_options(synchronize_session=False))
    rows = list(await session.scalars(claim))
    rows.sort(key=lambda row: (row.due_at, row.id))
    return rows


async def finish(session: AsyncSession, work: DueWork, *, now: datetime, worker: str, outcome: str,
                 steps: dict[str, Any]) -> bool:
    """Write a one-off row's outcome, unless it was settled meanwhile (cancelled, say) or another worker
    took it over; True if written."""
    written = await session.execute(
        update(DueWork).where(DueWork.id == work.id, DueWork.done_at.is_(None), DueWork.claimed_by == worker)
        .values(done_at=now, done_by=worker, outcome=outcome, attempts=DueWork.attempts + 1, steps=steps,
                claimed_by=None, claimed_until=None, unsure=False))
    return bool(rows_matched(written))


async def come_round(session: AsyncSession, work: DueWork, *, due_at: datetime, steps: dict[str, Any],
                     worker: str) -> bool:
    """Recurring work fired: it comes round again at due_at, unless someone re-planned it while it fired
    (an update came in, a snooze): then their time stands and the row is only let go. True if this
    worker still held the row (False: another worker took it over)."""
    moved = await session.execute(
        update(DueWork).where(DueWork.id == work.id, DueWork.due_at == work.due_at, DueWork.done_at.is_(None),
                              DueWork.claimed_by == worker)
        .values(due_at=due_at, attempts=0, steps=steps, last_error=None, claimed_by=None, claimed_until=None,
                unsure=False, done_by=worker))
    if rows_matched(moved):
        return True
    return bool(await release(session, [work.id], worker=worker, steps=steps))


async def retry_later(session: AsyncSession, work: DueWork, *, due_at: datetime, error: str,
                      steps: dict[str, Any], worker: str) -> bool:
    """The attempt failed in a way that may pass: try again at due_at (or sooner, if re-planned)."""
    written = await session.execute(
        update(DueWork).where(DueWork.id == work.id, DueWork.done_at.is_(None), DueWork.claimed_by == worker)
        .values(attempts=DueWork.attempts + 1, steps=steps, last_error=error[:2000], claimed_by=None,
                claimed_until=None, unsure=False,
                due_at=case((DueWork.due_at == work.due_at, due_at), else_=DueWork.due_at)))
    return bool(rows_matched(written))


async def release(session: AsyncSession, ids: Iterable[int], *, worker: str,
                  steps: dict[str, Any] | None = None) -> int:
    """Give rows this worker holds back untouched (shutting down before firing them); how many it held."""
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    if steps is not None:
        values.update(steps=steps, attempts=0, last_error=None, unsure=False)
    released = await session.execute(update(DueWork).where(DueWork.id.in_(list(ids)), DueWork.done_at.is_(None),
                                                           DueWork.claimed_by == worker).values(**values))
    return rows_matched(released)


# -- leases that follow the worker ------------------------------------------------------------------------


async def renew(session: AsyncSession, ids: Iterable[int], *, worker: str, until: datetime) -> set[int]:
    """The heartbeat: extend this worker's lease on the rows it still holds; returns those (a row missing
    was taken over by another worker after this one's lease ran out, or settled meanwhile)."""
    kept = await session.scalars(update(DueWork).where(DueWork.id.in_(list(ids)), DueWork.claimed_by == worker)
                                 .values(claimed_until=until).returning(DueWork.id)
                                 .execution_options(synchronize_session=False))
    return set(kept)


async def held(session: AsyncSession, ids: Iterable[int], *, worker: str) -> set[int]:
    """Which of these rows this worker still holds."""
    return set(await session.scalars(select(DueWork.id).where(DueWork.id.in_(list(ids)),
                                                              DueWork.claimed_by == worker)))


async def give_back(session: AsyncSession, ids: Iterable[int], *, worker: str, now: datetime) -> None:
    """Let this worker's lease on these rows run out now: the next sweep (here or on a replica) takes them
    over, unsure, and checks what was done before doing it (work cut off, or an outcome never written)."""
    await session.execute(update(DueWork).where(DueWork.id.in_(list(ids)), DueWork.done_at.is_(None),
                                                DueWork.claimed_by == worker, DueWork.claimed_until > now)
                          .values(claimed_until=now))


async def take_over_all(session: AsyncSession, *, worker: str, now: datetime) -> int:
    """Every lease held by another worker runs out now: the single-process store (SQLite) at start-up,
    where no other worker can be alive. Returns how many rows were freed (they come back unsure)."""
    freed = await session.execute(update(DueWork).where(DueWork.done_at.is_(None), DueWork.claimed_by.is_not(None),
                                                        DueWork.claimed_by != worker, DueWork.claimed_until > now)
                                  .values(claimed_until=now))
    return rows_matched(freed)


async def oldest_leased_due_at(session: AsyncSession) -> datetime | None:
    """When the longest-held leased row fell due (None: nothing leased)."""
    return await session.scalar(select(func.min(DueWork.due_at)).where(DueWork.done_at.is_(None),
                                                                      DueWork.claimed_by.is_not(None)))
