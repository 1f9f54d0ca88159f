"""The on-call roster: primary and backup in turns, one rotation each (the plan: 7 days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.clock import utc
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


class OncallFile(StrictModel):
    """playbooks/oncall.yml."""

    rotation: Rotation
    management: Management = Management()
    leads: Leads = Leads()


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
        )
