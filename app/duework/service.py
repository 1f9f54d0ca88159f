"""Planning, cancelling and claiming due work. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

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


async def plan(session: AsyncSession, incident_id: int, kind: WorkKind, due_at: datetime, *, now: datetime,
               key: str = "") -> DueWork:
    """Make sure this work is due at due_at: move the pending row, or add one."""
    row = await pending(session, incident_id, kind, key)
    if row is None:
        row = DueWork(incident_id=incident_id, kind=kind, key=key, due_at=due_at, created_at=now, attempts=0)
        session.add(row)
    else:
        row.due_at = due_at
    await session.flush()
    return row


async def cancel(session: AsyncSession, incident_id: int, kinds: Iterable[WorkKind], *, now: datetime) -> None:
    """Drop pending work of these kinds (an update came, the incident was resolved, ...)."""
    await session.execute(
        update(DueWork)
        .where(DueWork.incident_id == incident_id, DueWork.kind.in_(list(kinds)), DueWork.done_at.is_(None))
        .values(done_at=now, outcome="cancelled")
    )


async def claim_due(session: AsyncSession, *, now: datetime, limit: int) -> list[DueWork]:
    """Pending work that is due, locked for this transaction. Rows another replica holds are skipped."""
    query = (select(DueWork).where(DueWork.done_at.is_(None), DueWork.due_at <= now)
             .order_by(DueWork.due_at, DueWork.id).limit(limit)
             .with_for_update(skip_locked=True))
    return list(await session.scalars(query))


def mark_done(row: DueWork, *, now: datetime, worker: str, outcome: str = "done") -> None:
    row.done_at = now
    row.done_by = worker
    row.outcome = outcome
    row.attempts += 1
