"""Action items: numbered within their incident, with an owner, a priority and a due date.
Owners are reminded before the due date (playbooks/followup.yml). The caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import compare_and_set
from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents.errors import AlreadyDone
from app.incidents.models import Incident
from app.incidents.service import last_event, record
from app.reviews.errors import ActionItemAlreadyDone, ActionItemUsage, NoSuchActionItem
from app.reviews.followup import ActionItemRules
from app.reviews.models import ActionItem, ActionStatus, Priority
from app.trackers import service as trackers


@dataclass(frozen=True)
class ActionItemFields:
    """What someone typed about an item; None leaves a field as it is."""

    text: str | None = None
    owner: str | None = None
    priority: Priority | None = None
    due_on: date | None = None


def reminder_at(item: ActionItem, rules: ActionItemRules) -> datetime | None:
    """When the owner hears about the item, by playbooks/followup.yml (done items: never)."""
    if item.due_on is None or item.owner is None or item.is_done:
        return None
    return datetime.combine(item.due_on - timedelta(days=rules.remind_days_before), rules.remind_at_utc)


async def action_items(session: AsyncSession, incident: Incident) -> list[ActionItem]:
    """The incident's items by number."""
    query = select(ActionItem).where(ActionItem.incident_id == incident.id).order_by(ActionItem.number)
    return list(await session.scalars(query))


async def open_items_of(session: AsyncSession, owner: str, *,
                        limit: int) -> tuple[list[tuple[ActionItem, Incident]], int]:
    """Someone's action items not yet done, soonest due first (undated last), with their incidents: the
    first `limit`, and how many there are in all."""
    mine = (ActionItem.owner == owner, ActionItem.status != ActionStatus.DONE)
    total = await session.scalar(select(func.count()).select_from(ActionItem).where(*mine)) or 0
    query = (select(ActionItem, Incident).join(Incident, Incident.id == ActionItem.incident_id).where(*mine)
             .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id).limit(limit))
    return [(item, incident) for item, incident in (await session.execute(query)).all()], total


async def action_item(session: AsyncSession, incident: Incident, number: int) -> ActionItem:
    item = await session.scalar(select(ActionItem).where(ActionItem.incident_id == incident.id,
                                                         ActionItem.number == number))
    if item is None:
        count = await session.scalar(select(func.count()).select_from(ActionItem)
                                    .where(ActionItem.incident_id == incident.id))
        raise NoSuchActionItem(number=number, count=count or 0)
    return item


async def item_to_remind(session: AsyncSession, incident_id: int, key: str) -> ActionItem | None:
    """The item a reminder row stands for, if it still wants reminding."""
    if not key.isdigit():
        return None
    item = await session.scalar(select(ActionItem).where(ActionItem.incident_id == incident_id,
                                                         ActionItem.number == int(key)))
    return item if item is not None and not item.is_done and item.owner else None


async def add_action_item(session: AsyncSession, incident: Incident, fields: ActionItemFields,
                          rules: ActionItemRules, *, by: str, now: datetime) -> ActionItem:
    assert fields.text
    _check_due(fields.due_on, now)
    # Numbering reads the highest number so far: hold the incident row so two additions don't collide.
    await session.execute(select(Incident.id).where(Incident.id == incident.id).with_for_update())
    highest = await session.scalar(select(func.max(ActionItem.number)).where(ActionItem.incident_id == incident.id))
    item = ActionItem(incident_id=incident.id, number=(highest or 0) + 1, text=fields.text, owner=fields.owner,
                      priority=fields.priority, due_on=fields.due_on, status=ActionStatus.OPEN, created_by=by,
                      created_at=now)
    session.add(item)
    await session.flush()
    await _plan_reminder(session, item, rules, now=now)
    record(session, incident, kind="action_item_added", actor=by, now=now,
           text=f"Action item added: {describe(item)}")
    return item


async def edit_action_item(session: AsyncSession, incident: Incident, number: int, fields: ActionItemFields,
                           rules: ActionItemRules, *, by: str, now: datetime) -> ActionItem:
    item = await action_item(session, incident, number)
    _check_due(fields.due_on, now)
    for name in ("text", "owner", "priority", "due_on"):
        if getattr(fields, name) is not None:
            setattr(item, name, getattr(fields, name))
    await _plan_reminder(session, item, rules, now=now)
    record(session, incident, kind="action_item_edited", actor=by, now=now,
           text=f"Action item changed: {describe(item)}")
    return item


async def start_action_item(session: AsyncSession, incident: Incident, number: int, *, by: str,
                            now: datetime) -> ActionItem:
    """An open item is now in progress; of two starts at once, one starts it and the other is told."""
    item = await action_item(session, incident, number)
    _require_not_done(item)
    if item.status is not ActionStatus.OPEN or not await compare_and_set(
            session, item, ActionItem.status == ActionStatus.OPEN, status=ActionStatus.IN_PROGRESS):
        await session.refresh(item)
        _require_not_done(item)
        last = await last_event(session, incident, "action_item_started",
                                text_starts=f"Action item #{item.number} in progress")
        raise AlreadyDone(what="action_started", number=item.number, text=item.text,
                          by=last.actor if last else None, at=last.at if last else None)
    record(session, incident, kind="action_item_started", actor=by, now=now,
           text=f"Action item #{item.number} in progress: {item.text}")
    return item


async def complete_action_item(session: AsyncSession, incident: Incident, number: int, rules: ActionItemRules,
                               *, by: str | None, now: datetime, closed_in: str | None = None) -> ActionItem:
    """The item is done; of two at once, one finishes it and the other is told who did. Done in Slack, its
    issue in the tracker is closed too; `closed_in` (a tracker) says it was finished there instead."""
    item = await action_item(session, incident, number)
    _require_not_done(item)
    if not await compare_and_set(session, item, ActionItem.status != ActionStatus.DONE,
                                 status=ActionStatus.DONE, done_by=by, done_at=now):
        await session.refresh(item)
        _require_not_done(item)
        raise AssertionError(f"action item {item.id} changed but is not done")
    await _plan_reminder(session, item, rules, now=now)
    if closed_in is None:
        await trackers.plan_closing(session, item, now=now)
    where = f" (closed in {closed_in} as {item.tracker_key})" if closed_in else ""
    record(session, incident, kind="action_item_done", actor=by, now=now,
           text=f"Action item #{item.number} done: {item.text}{where}")
    return item


def describe(item: ActionItem) -> str:
    """#3 Add pool monitoring (owner U123, P1, due 2026-12-01), for the timeline."""
    details = [f"owner {item.owner}" if item.owner else "", item.priority.value if item.priority else "",
               f"due {item.due_on.isoformat()}" if item.due_on else ""]
    shown = ", ".join(d for d in details if d)
    return f"#{item.number} {item.text}" + (f" ({shown})" if shown else "")


def _check_due(due_on: date | None, now: datetime) -> None:
    if due_on is not None and due_on < now.astimezone(UTC).date():
        raise ActionItemUsage(subcommand="action", problem="past_date", given=due_on.isoformat())


def _require_not_done(item: ActionItem) -> None:
    if item.is_done:
        raise ActionItemAlreadyDone(number=item.number, text=item.text, done_at=item.done_at, done_by=item.done_by)


async def _plan_reminder(session: AsyncSession, item: ActionItem, rules: ActionItemRules, *,
                         now: datetime) -> None:
    """One pending reminder per item (keyed by its number), moved when the item changes."""
    when = reminder_at(item, rules)
    key = str(item.number)
    if when is not None and when > now:
        await duework.plan(session, item.incident_id, WorkKind.ACTION_ITEM_DUE, when, now=now, key=key)
        return
    pending = await duework.pending(session, item.incident_id, WorkKind.ACTION_ITEM_DUE, key)
    if pending is not None:
        pending.done_at, pending.outcome = now, "cancelled"
