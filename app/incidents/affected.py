"""The services an incident affects (playbooks/services.yml), named at declaration or later, and the due work
that follows from naming one: its owning team invited, its on-call paged. Every change is on the timeline.
The caller owns the transaction; nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.duework import service as duework
from app.duework.models import DueWork, WorkKind
from app.incidents.errors import NoChange
from app.incidents.models import AffectedService, Incident
from app.incidents.service import record

if TYPE_CHECKING:
    from app.catalog.services import Catalog, Service
    from app.incidents.policy import SeverityPolicy

# What naming a service makes due, keyed by the service; dropped when the service is no longer named.
FOR_A_SERVICE = (WorkKind.SERVICE_OWNERS, WorkKind.SERVICE_PAGE)


def still_affected(incident: Incident, key: str, catalog: Catalog) -> Service | None:
    """The service `key`, while its work for the incident still stands: the incident is open, still names it, and
    the catalog still has it (None: over, no longer named, or gone from the catalog; the work is cancelled)."""
    service = catalog.get(key)
    if incident.is_resolved or key not in incident.service_keys or service is None:
        return None
    return service


def name_at_declaration(session: AsyncSession, incident: Incident, keys: Sequence[str], *, by: str | None,
                        now: datetime) -> None:
    """A new incident's services (nobody else can change it yet), on its timeline."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return
    incident.services.extend(AffectedService(service=key, named_at=now, named_by=by) for key in keys)
    record(session, incident, kind="services_changed", actor=by, now=now, text=f"Affected services: {', '.join(keys)}")


async def add_services(session: AsyncSession, incident: Incident, keys: Sequence[str], *, by: str,
                       now: datetime, rules: SeverityPolicy) -> list[str]:
    """Name more services; returns the ones this call added. Two people adding the same one at once: the
    database's key decides, and the second is told it is there already. `rules`: the incident's severity's,
    which say whether the services' on-call is paged."""
    added = []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for key in dict.fromkeys(keys):
        result = cast(CursorResult[Any], await session.execute(
            insert(AffectedService).values(incident_id=incident.id, service=key, named_at=now, named_by=by)
            .on_conflict_do_nothing(index_elements=["incident_id", "service"])))
        if result.rowcount == 1:
            added.append(key)
    await session.refresh(incident, ["services"])
    if not added:
        raise NoChange(reason="services_named", services=list(keys))
    for key in added:
        # Its owning team invited to the channel, as due work: once, however many replicas sweep. Before the
        # channel exists, the declaration's setup invites the owners of every service named by then.
        await duework.plan(session, incident.id, WorkKind.SERVICE_OWNERS, now, now=now, key=key)
    await page_oncall(session, incident, added, rules, now=now)
    record(session, incident, kind="services_changed", actor=by, now=now, text=f"Services added: {', '.join(added)}")
    return added


async def remove_services(session: AsyncSession, incident: Incident, keys: Sequence[str], *, by: str,
                          now: datetime) -> list[str]:
    """No longer name these services; returns the ones this call removed."""
    removed = []
    for key in dict.fromkeys(keys):
        result = cast(CursorResult[Any], await session.execute(
            delete(AffectedService).where(AffectedService.incident_id == incident.id, AffectedService.service == key)))
        if result.rowcount == 1:
            removed.append(key)
    await session.refresh(incident, ["services"])
    if not removed:
        raise NoChange(reason="services_not_named", services=list(keys))
    # Its team not invited and its on-call not paged if that was still to do (a page sent stays on record, and
    # is resolved with the incident); its page's response time no longer runs.
    await session.execute(update(DueWork).where(
        DueWork.incident_id == incident.id, DueWork.kind.in_([*FOR_A_SERVICE, WorkKind.ACK_DEADLINE]),
        DueWork.key.in_(removed), DueWork.done_at.is_(None)).values(done_at=now, outcome="cancelled"))
    record(session, incident, kind="services_changed", actor=by, now=now,
           text=f"Services removed: {', '.join(removed)}")
    return removed


async def page_oncall(session: AsyncSession, incident: Incident, keys: Sequence[str], rules: SeverityPolicy, *,
                      now: datetime, fresh: duework.NewWork | None = None) -> None:
    """Each of these services' on-call paged (playbooks/services.yml `oncall`): SERVICE_PAGE due work keyed by
    the service, through the same page records and acknowledgement rules as the roles, once per incident and
    service however often it is named again or the severity raised. Each has its own response time from now
    (ACK_DEADLINE keyed by the service): unanswered then, the backup on-call is paged for it, as for a role's
    page. A severity that pages nobody (playbooks/severities.yml `page: []`) pages no service's on-call either;
    raising the incident to one that does pages them then. `fresh`: the incident was stored in this transaction (its
    rows, written together)."""
    if not rules.page:
        return
    for key in dict.fromkeys(keys):
        if fresh is not None:  # nothing planned yet
            fresh.add(WorkKind.SERVICE_PAGE, now, key=key)
            fresh.add(WorkKind.ACK_DEADLINE, now + rules.response_time, key=key)
            continue
        if await duework.already_done(session, incident.id, WorkKind.SERVICE_PAGE, key):
            continue  # paged once already (named, removed, named again)
        # Conditional writes: a raise and `/incident services add` at once plan one page, not a key violation.
        await duework.plan_at_least(session, incident.id, WorkKind.SERVICE_PAGE, now, now=now, key=key)
        await duework.plan_at_least(session, incident.id, WorkKind.ACK_DEADLINE, now + rules.response_time,
                                    now=now, key=key)


async def named_without_own_invitation(session: AsyncSession, incident_id: int) -> list[str]:
    """The services the incident names whose owning team the declaration's setup invites: those named at
    declaration. One named later came with its own SERVICE_OWNERS due work, in the same transaction."""
    own = select(DueWork.id).where(DueWork.incident_id == incident_id, DueWork.kind == WorkKind.SERVICE_OWNERS,
                                   DueWork.key == AffectedService.service)
    return list(await session.scalars(select(AffectedService.service).where(
        AffectedService.incident_id == incident_id, ~own.exists()).order_by(AffectedService.named_at,
                                                                           AffectedService.service)))


async def owners_due_now(session: AsyncSession, incident_id: int, *, now: datetime) -> None:
    """The channel exists: owner invitations waiting for it are due at once, not at their next retry."""
    await session.execute(update(DueWork).where(
        DueWork.incident_id == incident_id, DueWork.kind == WorkKind.SERVICE_OWNERS, DueWork.done_at.is_(None),
        DueWork.due_at > now).values(due_at=now))


async def open_incidents_naming(session: AsyncSession, keys: Sequence[str], *, since: datetime) -> list[int]:
    """The open incidents declared since then that name any of these services, newest first."""
    if not keys:
        return []
    query = (select(Incident.id).join(AffectedService, AffectedService.incident_id == Incident.id)
             .where(Incident.resolved_at.is_(None), Incident.started_at >= since, AffectedService.service.in_(keys))
             .order_by(Incident.started_at.desc(), Incident.id.desc()))
    return list(dict.fromkeys(await session.scalars(query)))


async def open_incidents_naming_unknown(session: AsyncSession, known: Sequence[str]) -> dict[int, list[str]]:
    """The open incidents that name services the catalog no longer has, with those keys."""
    query = (select(AffectedService.incident_id, AffectedService.service)
             .join(Incident, AffectedService.incident_id == Incident.id)
             .where(Incident.resolved_at.is_(None), AffectedService.service.not_in(known))
             .order_by(AffectedService.incident_id, AffectedService.service))
    found: dict[int, list[str]] = {}
    for incident_id, key in await session.execute(query):
        found.setdefault(incident_id, []).append(key)
    return found


async def restore_components(session: AsyncSession, incident: Incident, catalog: Catalog, *, now: datetime) -> None:
    """Resolved: the Statuspage.io components of its services are set operational again (STATUSPAGE_COMPONENTS
    due work, which does nothing unless the incident was published there), whatever words are approved later."""
    if any((service := catalog.get(key)) is not None and service.statuspage_id for key in incident.service_keys):
        await duework.plan(session, incident.id, WorkKind.STATUSPAGE_COMPONENTS, now, now=now)
