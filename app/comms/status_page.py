"""What the public status page shows: public incidents and their latest approved status-page update, and the
state of each component of the service catalog (playbooks/services.yml): an open incident on the page that
affects a service marks its component by the incident's severity (playbooks/status_page.yml), the worst
winning; a resolved one leaves it operational again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import utc
from app.comms.models import Audience, CommsDraft, DraftStatus, Phase
from app.incidents.models import Incident, Severity
from app.policy_files import PositiveDuration, StrictModel
from app.statuspage.config import StatuspageIoSettings

if TYPE_CHECKING:
    from app.catalog.services import Catalog

# Statuspage.io's component states, from best to worst (the bot's page uses the same words).
ComponentState = Literal["operational", "degraded_performance", "partial_outage", "major_outage"]
OPERATIONAL: ComponentState = "operational"
DEFAULT_STATES: dict[Severity, ComponentState] = {
    Severity.P0: "major_outage", Severity.P1: "partial_outage", Severity.P2: "degraded_performance",
    Severity.P3: "degraded_performance"}
WORST_LAST: tuple[ComponentState, ...] = ("operational", "degraded_performance", "partial_outage", "major_outage")


class StatusPageRules(StrictModel):
    """playbooks/status_page.yml."""

    # A resolved update stays on the page this long; an incident resolved for longer leaves the page even
    # if nobody approved a "Resolved" update for it, so a forgotten one does not read "Monitoring" forever.
    recently_resolved: PositiveDuration = timedelta(hours=24)
    # The state of an affected service's component while the incident is open, by its severity.
    component_status: dict[Severity, ComponentState] = Field(default_factory=lambda: dict(DEFAULT_STATES))
    # Approved updates also go to Statuspage.io (app/statuspage/connect.py). None: only when its default
    # variables are set.
    statuspage_io: StatuspageIoSettings | None = None

    @model_validator(mode="after")
    def _every_severity(self) -> StatusPageRules:
        missing = [severity.value for severity in Severity if severity not in self.component_status]
        if missing:
            raise ValueError(f"component_status: give a state for {', '.join(missing)}")
        return self

    def component_state(self, incident: Incident) -> ComponentState:
        """What the components of the incident's services show: by its severity while open, operational once
        it is resolved."""
        return OPERATIONAL if incident.is_resolved else self.component_status[incident.severity]


def worst(states: Iterable[ComponentState]) -> ComponentState:
    return max(states, key=WORST_LAST.index, default=OPERATIONAL)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: ComponentState

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.state}


@dataclass(frozen=True)
class PublishedUpdate:
    incident_id: int
    title: str
    severity: str
    status: Phase
    started_at: datetime
    body: str
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.incident_id, "title": self.title, "status": self.status.value,
                "severity": self.severity, "started_at": utc(self.started_at).isoformat(),
                "update": self.body, "updated_at": utc(self.updated_at).isoformat()}


@dataclass(frozen=True)
class PublicStatus:
    ongoing: list[PublishedUpdate]
    recently_resolved: list[PublishedUpdate]
    generated_at: datetime
    components: list[ComponentStatus] = field(default_factory=list)  # the catalog's, in its order

    @property
    def degraded(self) -> list[ComponentStatus]:
        return [c for c in self.components if c.state != OPERATIONAL]

    def as_json(self) -> dict[str, Any]:
        return {"incidents": [u.as_json() for u in self.ongoing],
                "recently_resolved": [u.as_json() for u in self.recently_resolved],
                "components": [c.as_json() for c in self.components],
                "generated_at": utc(self.generated_at).isoformat()}


async def public_status(session: AsyncSession, *, now: datetime, rules: StatusPageRules,
                        catalog: Catalog | None = None) -> PublicStatus:
    """Only approved updates of incidents that are not private; nothing else ever reaches the page. A
    component is marked only by an incident the page shows (one with an approved update), never by one that
    is private or not yet announced."""
    query = (select(CommsDraft, Incident).join(Incident, Incident.id == CommsDraft.incident_id)
             .where(CommsDraft.audience == Audience.STATUSPAGE, CommsDraft.status == DraftStatus.APPROVED,
                    Incident.is_private.is_(False),
                    or_(Incident.resolved_at.is_(None), Incident.resolved_at >= now - rules.recently_resolved))
             .order_by(CommsDraft.approved_at.desc(), CommsDraft.id.desc()))
    latest: dict[int, PublishedUpdate] = {}
    marking: dict[str, list[ComponentState]] = {}
    for draft, incident in await session.execute(query):
        if incident.id not in latest and draft.approved_at is not None:
            latest[incident.id] = PublishedUpdate(incident.id, incident.title, incident.severity.value, draft.phase,
                                                  incident.started_at, draft.body, draft.approved_at)
            for component in components_of(incident, catalog):
                marking.setdefault(component, []).append(rules.component_state(incident))
    updates = sorted(latest.values(), key=lambda u: (u.started_at, u.incident_id), reverse=True)
    since = now - rules.recently_resolved
    return PublicStatus(
        ongoing=[u for u in updates if u.status is not Phase.RESOLVED],
        recently_resolved=[u for u in updates if u.status is Phase.RESOLVED and u.updated_at >= since],
        generated_at=now,
        components=[ComponentStatus(name, worst(marking.get(name, ()))) for name in _components(catalog)],
    )


def components_of(incident: Incident, catalog: Catalog | None) -> list[str]:
    """The status-page components of the services the incident names (a service no longer in the catalog
    has none)."""
    found: list[str] = []
    for key in incident.service_keys:
        service = catalog.get(key) if catalog is not None else None
        if service is not None and service.component not in found:
            found.append(service.component)
    return found


def _components(catalog: Catalog | None) -> list[str]:
    return list(dict.fromkeys(service.component for service in catalog)) if catalog is not None else []
