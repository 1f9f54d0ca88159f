"""The plan's operational rules, read from the playbooks directory (data, not code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from app.incidents.models import Role, Severity
from app.policy_files import Duration, PolicyError, PositiveDuration, StrictModel, load, parse_duration

if TYPE_CHECKING:
    from app.catalog.services import Catalog
    from app.comms.status_page import StatusPageRules
    from app.duework.retries import Retries
    from app.incidents.channel_rules import ChannelRules
    from app.incidents.duplicates import Declaring
    from app.incidents.playbooks import Playbook
    from app.insights.policy import InsightsRules
    from app.oncall.acknowledgement import AcknowledgementRules
    from app.reviews.followup import Followup

__all__ = ["Policy", "PolicyError", "RoleDescription", "SeverityPolicy", "parse_duration"]


class SeverityRule(StrictModel):
    """One row of playbooks/severities.yml."""

    name: str
    description: str
    examples: str = ""
    response_time: Duration
    update_every: PositiveDuration
    escalate_after: Duration | None = None  # omitted: never
    escalate_to: str | None = None
    page: tuple[Role, ...] = ()


class SeverityTable(StrictModel):
    """playbooks/severities.yml: exactly the plan's four severities."""

    P0: SeverityRule
    P1: SeverityRule
    P2: SeverityRule
    P3: SeverityRule


class RoleText(StrictModel):
    name: str
    duties: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]
    contact: str = ""


class RoleTable(StrictModel):
    """playbooks/roles.yml: the key is what people type (/incident role <key> @someone)."""

    ic: RoleText
    tech: RoleText
    comms: RoleText
    security: RoleText


@dataclass(frozen=True)
class SeverityPolicy:
    severity: Severity
    name: str
    description: str
    examples: str
    response_time: timedelta
    update_every: timedelta
    escalate_after: timedelta | None
    escalate_to: str | None
    page: tuple[Role, ...]


@dataclass(frozen=True)
class RoleDescription:
    role: Role
    name: str
    duties: tuple[str, ...]
    contact: str


@dataclass(frozen=True)
class Policy:
    severities: dict[Severity, SeverityPolicy]
    roles: dict[Role, RoleDescription]
    playbooks: dict[str, Playbook]
    followup: Followup
    declaring: Declaring
    channel: ChannelRules
    insights: InsightsRules
    retries: Retries
    status_page: StatusPageRules
    services: Catalog  # playbooks/services.yml
    acknowledgement: AcknowledgementRules

    def for_severity(self, severity: Severity) -> SeverityPolicy:
        return self.severities[severity]

    def playbook(self, kind: str | None) -> Playbook | None:
        return self.playbooks.get(kind) if kind else None

    @classmethod
    def load(cls, directory: Path) -> Policy:
        from app.catalog.services import load_catalog
        from app.comms.status_page import StatusPageRules
        from app.duework.retries import Retries
        from app.incidents.channel_rules import ChannelRules
        from app.incidents.duplicates import Declaring
        from app.incidents.playbooks import load_playbooks  # playbooks use this module's models
        from app.insights.policy import InsightsRules
        from app.oncall.acknowledgement import AcknowledgementRules
        from app.reviews.followup import Followup

        severities = load(directory / "severities.yml", SeverityTable)
        roles = load(directory / "roles.yml", RoleTable)
        playbooks = load_playbooks(directory)
        return cls(
            severities={s: SeverityPolicy(severity=s, **getattr(severities, s.value).model_dump()) for s in Severity},
            roles={r: RoleDescription(role=r, **getattr(roles, r.value).model_dump()) for r in Role},
            playbooks=playbooks,
            followup=load(directory / "followup.yml", Followup),
            declaring=load(directory / "declaring.yml", Declaring),
            channel=load(directory / "channel.yml", ChannelRules, missing={}),
            insights=load(directory / "insights.yml", InsightsRules, missing={}),
            retries=load(directory / "retries.yml", Retries, missing={}),
            status_page=load(directory / "status_page.yml", StatusPageRules, missing={}),
            services=load_catalog(directory / "services.yml", kinds=playbooks),
            acknowledgement=load(directory / "acknowledgement.yml", AcknowledgementRules, missing={}),
        )
