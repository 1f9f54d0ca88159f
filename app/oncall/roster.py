"""The on-call roster: primary and backup in turns, one rotation each (the plan: 7 days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from app.clock import utc
from app.integrations.environment import EnvName
from app.policy_files import PositiveDuration, StrictModel, load


class Rotation(StrictModel):
    starts: datetime  # handovers happen at this time of day, every `length`
    length: PositiveDuration = timedelta(days=7)
    primary: tuple[str, ...] = ()
    backup: tuple[str, ...] = ()


class Management(StrictModel):
    usergroup: str | None = None
    users: tuple[str, ...] = ()


class Leads(StrictModel):
    """Who takes a role when an incident's playbook needs it and the declarer named nobody."""

    ic: str | None = None
    tech: str | None = None
    comms: str | None = None
    security: str | None = None


DEFAULT_ROUTING_KEY_ENV = "PAGERDUTY_ROUTING_KEY"


class RolePager(StrictModel):
    """How one role is paged (the plan's Appendix A gives each role its own PagerDuty service)."""

    via: Literal["pagerduty", "slack"] = "pagerduty"
    service: str | None = None  # the PagerDuty service's name as people know it (agentguard-tech), for the timeline
    # The environment variable holding the service's Events API v2 integration key: a secret stays out of the file.
    routing_key_env: EnvName = DEFAULT_ROUTING_KEY_ENV

    @model_validator(mode="after")
    def _slack_has_no_service(self) -> RolePager:
        if self.via == "slack" and (self.service or "routing_key_env" in self.model_fields_set):
            raise ValueError("a role paged via slack has no PagerDuty service or routing_key_env")
        return self


class Paging(StrictModel):
    """Which pager pages each role; a role left out is paged the default way (PAGERDUTY_ROUTING_KEY, else Slack)."""

    ic: RolePager | None = None
    tech: RolePager | None = None
    comms: RolePager | None = None
    security: RolePager | None = None
    backup: RolePager | None = None  # the backup on-call, when nobody acknowledged in time; unset: as ic


class OncallFile(StrictModel):
    """playbooks/oncall.yml."""

    rotation: Rotation
    management: Management = Management()
    leads: Leads = Leads()
    paging: Paging = Paging()


@dataclass(frozen=True)
class Shift:
    primary: str | None
    backup: str | None
    starts: datetime
    ends: datetime


@dataclass(frozen=True)
class Roster:
    starts: datetime
    length: timedelta
    primary: tuple[str, ...]
    backup: tuple[str, ...]
    management_group: str | None
    management_users: tuple[str, ...]
    leads: dict[str, str]  # role key → who takes it when a playbook needs the role and nobody was named
    paging: dict[str, RolePager]  # role key (or "backup") → its own pager; the others are paged the default way

    def shift_at(self, moment: datetime) -> Shift:
        number = int((utc(moment) - self.starts) // self.length)
        begins = self.starts + number * self.length
        return Shift(
            primary=self.primary[number % len(self.primary)] if self.primary else None,
            backup=self.backup[number % len(self.backup)] if self.backup else None,
            starts=begins,
            ends=begins + self.length,
        )

    def now_and_next(self, moment: datetime) -> tuple[Shift, Shift]:
        current = self.shift_at(moment)
        return current, self.shift_at(current.ends)

    @classmethod
    def load(cls, path: Path) -> Roster:
        data = load(path, OncallFile)
        return cls(
            starts=utc(data.rotation.starts), length=data.rotation.length, primary=data.rotation.primary,
            backup=data.rotation.backup, management_group=data.management.usergroup,
            management_users=data.management.users,
            leads={role: who for role, who in data.leads.model_dump().items() if who},
            paging=_paging(data.paging),
        )


def _paging(paging: Paging) -> dict[str, RolePager]:
    own = {role: pager for role, pager in paging if pager is not None}
    if "backup" not in own and "ic" in own:
        own["backup"] = own["ic"]  # the backup on-call stands in for the on-call incident commander
    return own
